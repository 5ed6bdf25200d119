"""A teacher's own tools at an evening: their own breaks, a private note on each
appointment and the attendance mark (docs/teacher-tools.md).

Who is a teacher of an evening comes from `teachers.teacher_entries_for` (the staff
account's email matches the MIS staff record's). Every selector here takes the user
and returns only what is theirs; the pages turn "not found" into a 404.

- Own breaks go through `setup.add_break` / `setup.remove_break` with the teacher as
  the actor: setup allows it only while the evening lets teachers set breaks and
  booking has not opened, and only for the teacher themself.
- A private note is the author's alone: no page shows it to anyone else (another
  teacher, the organiser, a parent). Retention deletes it RETAIN_MESSAGES_DAYS after
  the evening (ops.retention).
- Attendance (attended / did not attend / not marked) is marked by the appointment's
  teacher or an organiser, on confirmed appointments only, from the start of the
  appointment's day (session) on: never before anyone could have come."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.accounts.access import qualifying_links
from schoolgate.core.emails import normalise_email
from schoolgate.evenings.booking.errors import BookingError, InvalidChoice, NotAllowed
from schoolgate.evenings.models import (
    Appointment,
    AppointmentNote,
    Break,
    Evening,
    EveningTeacher,
)
from schoolgate.evenings.running.teachers import teacher_entries_for
from schoolgate.evenings.setup import checks as setup_checks
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.models import Contact

NOTE_MAX_LENGTH = 5000
NOT_MARKED = ""
MARKS = {NOT_MARKED, *Appointment.Attendance.values}


class NotConfirmed(BookingError):
    """The appointment is not (or no longer) booked: held or cancelled."""

    code = "not_confirmed"


class TooEarly(BookingError):
    """Attendance cannot be marked before the appointment's day starts (details: opens)."""

    code = "too_early"


class _Unset:
    pass


UNSET = _Unset()


# --- selectors -------------------------------------------------------------------


def teaches(user, evening: Evening | int) -> bool:
    return teacher_entries_for(user, evening=evening).exists()


def is_organiser(user) -> bool:
    return setup_checks.is_organiser(user)


def teacher_appointments(user) -> QuerySet[Appointment]:
    """Confirmed appointments with this user as their teacher, at any evening."""
    return Appointment.objects.filter(
        teacher__in=teacher_entries_for(user).values("pk"),
        status=Appointment.Status.CONFIRMED,
    )


def appointment_for_teacher(user, *, evening_id, appointment_id) -> Appointment | None:
    """The confirmed appointment, if this user is its teacher, at that evening."""
    try:
        evening_id, appointment_id = int(evening_id), int(appointment_id)
    except (TypeError, ValueError):
        return None
    return (
        teacher_appointments(user)
        .filter(pk=appointment_id, evening_id=evening_id)
        .select_related("evening", "day", "pupil", "parent", "teacher__staff")
        .first()
    )


def note_text(appointment: Appointment, author) -> str:
    """The author's own note on the appointment ('' when none). Only ever called with
    the signed-in user as the author."""
    note = AppointmentNote.objects.filter(appointment=appointment, author=author).first()
    return note.text if note else ""


def parents_of(appointment: Appointment) -> list[dict]:
    """Who the meeting is with: the parent it was booked for and, when meetings are
    shared, every other contact who may see the pupil now ({name, booked_for})."""
    booked_key = normalise_email(appointment.parent.email)
    links = qualifying_links().filter(pupil_id=appointment.pupil_id).select_related("contact")
    people = []
    for link in links.order_by("priority", "contact__surname", "contact__forename"):
        booked_for = link.contact.email_key == booked_key
        if booked_for or appointment.evening.shared_meetings:
            people.append({"name": link.contact.display_name, "booked_for": booked_for})
    if not any(p["booked_for"] for p in people):
        people.insert(0, {"name": parent_name(appointment.parent), "booked_for": True})
    return people


def parent_name(user, *, contacts: dict[str, str] | None = None) -> str:
    """A parent's name as the MIS holds it, else as their account does."""
    key = normalise_email(user.email)
    if contacts is None:
        contact = Contact.objects.filter(email_key=key).first()
        found = contact.display_name if contact else ""
    else:
        found = contacts.get(key, "")
    return found or user.get_full_name() or user.email


def contact_names(emails) -> dict[str, str]:
    """{email key: MIS contact name} for these addresses, in one query."""
    keys = {normalise_email(e) for e in emails}
    return {
        c.email_key: c.display_name
        for c in Contact.objects.filter(email_key__in=keys).order_by("pk")
        if c.email_key
    }


def attendance_opens(appointment: Appointment) -> datetime:
    """When attendance may first be marked: the start of the appointment's day."""
    return appointment.day.starts_at


def may_mark_attendance(appointment: Appointment, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return appointment.status == Appointment.Status.CONFIRMED and now >= attendance_opens(
        appointment
    )


@dataclass
class BreakRow:
    brk: Break
    mine: bool  # made by this teacher for themself: they may remove it


def breaks_for_teacher(user, evening: Evening) -> list[BreakRow]:
    """The breaks that apply to this teacher at the evening: every-teacher breaks and
    those naming them, each marked whether it is theirs to remove."""
    own = set(teacher_entries_for(user, evening=evening).values_list("pk", flat=True))
    rows = []
    for brk in evening.breaks.prefetch_related("teachers").order_by("starts_at", "pk"):
        covers = {t.pk for t in brk.teachers.all()}
        if brk.all_teachers or covers & own:
            mine = (
                brk.created_by_id == user.pk
                and not brk.all_teachers
                and bool(covers)
                and covers <= own
            )
            rows.append(BreakRow(brk=brk, mine=mine))
    return rows


def own_breaks_open(evening: Evening, *, now: datetime | None = None) -> bool:
    """Whether teachers may still set their own breaks at this evening."""
    now = now or timezone.now()
    return evening.teachers_set_breaks and now < evening.booking_opens


# --- services --------------------------------------------------------------------


def add_own_break(
    *, evening: Evening, actor, starts_at: datetime, ends_at: datetime, label: str = "", now=None
) -> Break:
    """A break for the actor alone (their place at this evening). Refused (NotAllowed)
    unless setup allows teachers' own breaks now; ChangeRefused over a booking."""
    own = list(teacher_entries_for(actor, evening=evening))
    if not own:
        raise NotAllowed(_("You do not take part in this evening."))
    return setup.add_break(
        evening=evening,
        actor=actor,
        starts_at=starts_at,
        ends_at=ends_at,
        teachers=own,
        label=label,
        now=now,
    )


def remove_own_break(*, brk: Break, actor, now=None) -> None:
    """Remove a break the actor made for themself (setup refuses any other)."""
    setup.remove_break(brk=brk, actor=actor, now=now)


def save_note(*, appointment: Appointment, author, text: str, now=None) -> AppointmentNote | None:
    """The author's private note on an appointment they teach; blank text deletes it."""
    text = text.strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidChoice(
            _("A note can be at most %(count)s characters long.") % {"count": NOTE_MAX_LENGTH}
        )
    if not _is_teacher_of(author, appointment):
        raise NotAllowed(_("Only the appointment's teacher can keep a note on it."))
    if appointment.status != Appointment.Status.CONFIRMED:
        raise NotConfirmed(_("This appointment is not booked."))
    if not text:
        AppointmentNote.objects.filter(appointment=appointment, author=author).delete()
        return None
    note, _created = AppointmentNote.objects.update_or_create(
        appointment=appointment,
        author=author,
        defaults={"text": text, "updated_at": now or timezone.now()},
    )
    return note


def mark_attendance(*, appointment: Appointment, actor, attendance: str, now=None) -> Appointment:
    """Mark the appointment attended, did not attend, or '' (not marked). By its teacher
    or an organiser; confirmed appointments only; from the start of its day."""
    now = now or timezone.now()
    if attendance not in MARKS:
        raise InvalidChoice(_("Choose attended, did not attend or not marked."))
    if not (_is_teacher_of(actor, appointment) or is_organiser(actor)):
        raise NotAllowed(_("Only the appointment's teacher or an organiser can mark it."))
    day_starts = Appointment.objects.filter(pk=appointment.pk).values_list(
        "day__starts_at", flat=True
    )
    opens = day_starts.first()
    if opens is not None and now < opens:
        raise TooEarly(
            _("Attendance can be marked from %(when)s.")
            % {"when": date_format(timezone.localtime(opens), "l j F Y, H:i")},
            opens=opens,
        )
    with transaction.atomic():
        # The status is checked in the UPDATE itself: a cancellation that got in first
        # wins, and nothing is marked.
        updated = Appointment.objects.filter(
            pk=appointment.pk, status=Appointment.Status.CONFIRMED
        ).update(
            attendance=attendance,
            attendance_marked_at=now if attendance else None,
            attendance_marked_by=actor if attendance else None,
        )
    if not updated:
        raise NotConfirmed(_("This appointment is not booked, so it cannot be marked."))
    appointment.refresh_from_db()
    return appointment


def update_appointment_record(
    *, appointment: Appointment, actor, note=UNSET, attendance=UNSET, now=None
) -> None:
    """The teacher's appointment page in one step: the attendance mark (when it
    changed) and the note, both or neither."""
    with transaction.atomic():
        if attendance is not UNSET and attendance != appointment.attendance:
            mark_attendance(appointment=appointment, actor=actor, attendance=attendance, now=now)
        if note is not UNSET:
            save_note(appointment=appointment, author=actor, text=note, now=now)


def _is_teacher_of(user, appointment: Appointment) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return teacher_entries_for(user).filter(pk=appointment.teacher_id).exists()


def teacher_entry(user, evening: Evening) -> EveningTeacher | None:
    return teacher_entries_for(user, evening=evening).first()
