"""What the parent portal shows, read through accounts.access only: every pupil, contact
and appointment here is one the signed-in parent may see now. Nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.evenings.booking.availability import (
    eligible_pupils,
    evenings_for_parent,
    family_appointments,
    live_q,
)
from schoolgate.evenings.models import Appointment, Evening, Hold
from schoolgate.evenings.web.parent.selectors import OPEN, booking_state
from schoolgate.mis.dashboard import year_label
from schoolgate.mis.models import Attendance, Contact, Pupil, PupilContact, Staff, TeachingGroup
from schoolgate.portal.models import CorrectionRequest

# What a parent can do about one child at one evening now.
BOOKED = "booked"  # besides the booking states of evenings.parent_selectors


@dataclass(frozen=True)
class GroupInfo:
    name: str
    subject: str
    teachers: tuple[str, ...]


@dataclass(frozen=True)
class Child:
    id: int
    name: str
    legal_name: str
    date_of_birth: date | None
    year: str
    registration_group: str
    form_tutors: tuple[str, ...]
    classes: tuple[GroupInfo, ...]


def _with_groups(pupils):
    teachers = Staff.objects.filter(current=True).order_by("surname", "forename")
    groups = TeachingGroup.objects.filter(current=True).prefetch_related(
        Prefetch("teachers", queryset=teachers)
    )
    return pupils.prefetch_related(Prefetch("groups", queryset=groups.order_by("subject", "name")))


def _child(pupil: Pupil) -> Child:
    registration = [g for g in pupil.groups.all() if g.kind == TeachingGroup.Kind.REGISTRATION]
    classes = [g for g in pupil.groups.all() if g.kind == TeachingGroup.Kind.CLASS]
    return Child(
        id=pupil.pk,
        name=pupil.display_name,
        legal_name=f"{pupil.legal_forename} {pupil.legal_surname}",
        date_of_birth=pupil.date_of_birth,
        year=year_label(pupil.year_group),
        registration_group=", ".join(g.name for g in registration),
        form_tutors=tuple(t.display_name for g in registration for t in g.teachers.all()),
        classes=tuple(
            GroupInfo(g.name, g.subject, tuple(t.display_name for t in g.teachers.all()))
            for g in classes
        ),
    )


def children_of(user) -> list[Child]:
    """The children this person may see now, by name, with their groups (4 queries)."""
    pupils = _with_groups(pupils_visible_to(user).order_by("legal_surname", "legal_forename"))
    return [_child(p) for p in pupils]


def child(pupil: Pupil) -> Child:
    """One child's details; the caller has already checked access."""
    return _child(_with_groups(Pupil.objects.filter(pk=pupil.pk)).get())


# --- links to the other areas -----------------------------------------------------


def evening_url(evening: Evening | int) -> str:
    """The parents' page of an evening."""
    pk = evening if isinstance(evening, int) else evening.pk
    return reverse("evenings:evening", args=[pk])


def hold_url(hold: Hold) -> str:
    return reverse("evenings:hold", args=[hold.evening_id, hold.pk])


def calendar_url() -> str:
    return reverse("calendar:feed")


# --- the home page ----------------------------------------------------------------


@dataclass
class EveningState:
    evening: Evening
    days: list
    state: str
    booked: int
    url: str


@dataclass
class ChildSummary:
    child: Child
    appointments: list[Appointment] = field(default_factory=list)
    evenings: list[EveningState] = field(default_factory=list)


@dataclass(frozen=True)
class Todo:
    text: str
    url: str
    link_text: str


def home_page(user, *, now: datetime) -> tuple[list[ChildSummary], list[Todo]]:
    """Each child with their upcoming appointments and the evenings for them, and what
    the parent has still to do."""
    summaries = [ChildSummary(c) for c in children_of(user)]
    by_id = {s.child.id: s for s in summaries}
    upcoming = (
        family_appointments(parent=user, now=now)
        .filter(status=Appointment.Status.CONFIRMED, ends_at__gt=now)
        .select_related("evening")
        .order_by("starts_at", "pk")
    )
    for appointment in upcoming:
        if appointment.pupil_id in by_id:
            by_id[appointment.pupil_id].appointments.append(appointment)

    evenings = sorted(
        evenings_for_parent(user, now=now), key=lambda e: (e.booking_opens, e.name, e.pk)
    )
    booked = defaultdict(int)
    counted = (
        family_appointments(parent=user, now=now)
        .filter(status=Appointment.Status.CONFIRMED, evening__in=evenings)
        .values_list("evening_id", "pupil_id", "parent_id")
    )
    shared = {e.pk: e.shared_meetings for e in evenings}
    for evening_id, pupil_id, parent_id in counted:
        # In separate meetings each parent books their own: the other's do not count.
        if shared[evening_id] or parent_id == user.pk:
            booked[(evening_id, pupil_id)] += 1

    todos = []
    for evening in evenings:
        days = list(evening.days.all())
        url = evening_url(evening)
        state = booking_state(evening, now=now)
        for pupil_id in (
            eligible_pupils(evening).filter(pk__in=list(by_id)).values_list("pk", flat=True)
        ):
            count = booked[(evening.pk, pupil_id)]
            shown = BOOKED if count else state
            by_id[pupil_id].evenings.append(EveningState(evening, days, shown, count, url))
            if shown == OPEN:
                todos.append(
                    Todo(
                        text=_("Book appointments for %(child)s at %(evening)s.")
                        % {"child": by_id[pupil_id].child.name, "evening": evening.name},
                        url=url,
                        link_text=pgettext("book an evening", "Book now"),
                    )
                )

    held = (
        Hold.objects.filter(
            parent=user,
            confirmed_at__isnull=True,
            appointments__status=Appointment.Status.HELD,
            appointments__expires_at__gt=now,
        )
        .select_related("evening")
        .distinct()
        .order_by("expires_at")
    )
    for hold in held:
        todos.insert(
            0,
            Todo(
                text=_("You are holding appointments at %(evening)s: confirm them or they go.")
                % {"evening": hold.evening.name},
                url=hold_url(hold),
                link_text=_("Confirm your appointments"),
            ),
        )
    waiting = CorrectionRequest.objects.filter(
        requested_by=user, status=CorrectionRequest.Status.OPEN
    ).count()
    if waiting:
        todos.append(
            Todo(
                text=ngettext(
                    "The school has not yet made the correction you asked for.",
                    "The school has not yet made the %(count)d corrections you asked for.",
                    waiting,
                )
                % {"count": waiting},
                url=reverse("portal:my-details"),
                link_text=_("See your details"),
            )
        )
    return summaries, todos


# --- the pupil page ---------------------------------------------------------------


@dataclass(frozen=True)
class PupilAppointment:
    appointment: Appointment
    booked_by: str  # "you", "another parent or carer" or "the school": never a name
    upcoming: bool


def pupil_appointments(user, pupil: Pupil, *, now: datetime) -> list[PupilAppointment]:
    """Every appointment for this pupil (past and to come, whoever booked it) at evenings
    parents can see; the caller has already checked access to the pupil."""
    appointments = (
        Appointment.objects.filter(live_q(now), pupil=pupil)
        .exclude(evening__status=Evening.Status.DRAFT)
        .select_related("evening", "teacher__staff", "booked_by")
        .order_by("starts_at", "pk")
    )
    result = []
    for a in appointments:
        if a.booked_by_id and a.booked_by_id != a.parent_id and a.booked_by.is_staff:
            by = _("The school")
        elif a.parent_id == user.pk:
            by = _("You")
        else:
            # A separated parent sees the meeting, not who the other parent is.
            by = _("Another parent or carer")
        result.append(PupilAppointment(a, by, a.ends_at > now))
    return result


# --- my details -------------------------------------------------------------------


def _relationships() -> dict[str, str]:
    return {
        "PAM": pgettext("relationship", "Mother"),
        "PAF": pgettext("relationship", "Father"),
        "STM": pgettext("relationship", "Step-mother"),
        "STF": pgettext("relationship", "Step-father"),
        "FOM": pgettext("relationship", "Foster mother"),
        "FOF": pgettext("relationship", "Foster father"),
        "CAR": pgettext("relationship", "Carer"),
        "FAM": pgettext("relationship", "Other family member"),
        "REL": pgettext("relationship", "Other relative"),
        "OTH": pgettext("relationship", "Other contact"),
    }


def _phone_types() -> dict[str, str]:
    return {
        "H": pgettext("phone", "Home"),
        "M": pgettext("phone", "Mobile"),
        "W": pgettext("phone", "Work"),
    }


def relationship_label(code: str) -> str:
    """The MIS's relationship code in words ('PAM' is 'Mother'); other codes as given."""
    code = (code or "").strip()
    return _relationships().get(code.upper(), code)


@dataclass(frozen=True)
class Phone:
    kind: str
    number: str


@dataclass(frozen=True)
class ChildLink:
    id: int
    name: str
    relationship: str


@dataclass(frozen=True)
class MyDetails:
    contact: Contact | None
    title: str
    forename: str
    surname: str
    email: str
    phones: tuple[Phone, ...]
    children: tuple[ChildLink, ...]


def my_contact(user) -> Contact | None:
    """The MIS contact this account is, found as access finds it: by email, linked to a
    child the person may see now."""
    visible = pupils_visible_to(user)
    return (
        Contact.objects.filter(email_key=user.email, pupil_links__pupil__in=visible)
        .distinct()
        .order_by("pk")
        .first()
    )


def my_details(user) -> MyDetails:
    """The contact details the school holds for this parent, and how they are related
    to each child they may see."""
    contact = my_contact(user)
    if contact is None:
        return MyDetails(None, "", "", "", user.email, (), ())
    kinds = _phone_types()
    phones = tuple(
        Phone(kinds.get(str(p.get("type", "")).upper(), str(p.get("type", ""))), p["number"])
        for p in contact.phones
        if isinstance(p, dict) and p.get("number")
    )
    links = (
        PupilContact.objects.filter(contact=contact, pupil__in=pupils_visible_to(user))
        .select_related("pupil")
        .order_by("pupil__legal_surname", "pupil__legal_forename", "pupil_id")
    )
    return MyDetails(
        contact=contact,
        title=contact.title,
        forename=contact.forename,
        surname=contact.surname,
        email=contact.email,
        phones=phones,
        children=tuple(
            ChildLink(link.pupil_id, link.pupil.display_name, relationship_label(link.relationship))
            for link in links
        ),
    )


def my_corrections(user) -> list[CorrectionRequest]:
    """The parent's own correction requests, newest first."""
    return list(CorrectionRequest.objects.filter(requested_by=user).order_by("-created_at", "-pk"))


# --- the staff queue --------------------------------------------------------------


def correction_queue(*, status: str) -> list[CorrectionRequest]:
    """Requests with this status: waiting ones oldest first, done ones newest first."""
    requests = (
        CorrectionRequest.objects.filter(status=status)
        .select_related("requested_by", "contact", "done_by")
        .prefetch_related("contact__pupil_links__pupil")
    )
    if status == CorrectionRequest.Status.DONE:
        return list(requests.order_by("-done_at", "-pk"))
    return list(requests.order_by("created_at", "pk"))


# --- attendance -------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    label: str
    school_name: str
    possible: int | None
    attended: int | None
    authorised: int | None
    unauthorised: int | None

    @property
    def percent(self) -> float | None:
        if not self.possible or self.attended is None:
            return None
        return 100 * self.attended / self.possible


def attendance(pupil: Pupil) -> list[AttendanceRow]:
    """The attendance the MIS data carries for this pupil, newest school year first; the
    caller has already checked access to the pupil."""
    return [
        AttendanceRow(
            label=f"{a.year}/{(a.year + 1) % 100:02d}",
            school_name=a.school_name,
            possible=a.sessions_possible,
            attended=a.sessions_attended,
            authorised=a.sessions_authorised,
            unauthorised=a.sessions_unauthorised,
        )
        for a in Attendance.objects.filter(pupil=pupil).order_by("-year", "school")
    ]
