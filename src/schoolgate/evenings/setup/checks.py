"""Who may change an evening's set-up, the lock a change takes, and the checks that
say what is wrong and where."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.core.access import ORGANISE_EVENINGS, has_capability
from schoolgate.evenings.booking.availability import live_q
from schoolgate.evenings.booking.cells import release_held_appointments
from schoolgate.evenings.booking.errors import ChangeRefused, InvalidSetup, NotAllowed
from schoolgate.evenings.booking.locks import lock_evening
from schoolgate.evenings.models import (
    Appointment,
    ClassLength,
    Evening,
    EveningDay,
    EveningTeacher,
)
from schoolgate.evenings.planning import planner
from schoolgate.evenings.running.teachers import teacher_entries_for
from schoolgate.mis.models import GroupTeacher, TeachingGroup


class Unset:
    def __repr__(self):
        return "UNSET"


UNSET = Unset()  # "leave as it is" for optional arguments that may be set to None


def require_organiser(actor) -> None:
    if not is_organiser(actor):
        raise NotAllowed(_("You may not set up parents' evenings."))


def is_organiser(actor) -> bool:
    return bool(actor is not None and has_capability(actor, ORGANISE_EVENINGS))


def require_break_rights(actor, evening: Evening, *, teachers=UNSET, brk=None, now) -> None:
    """An organiser may make and change any break. Otherwise only a teacher of the
    evening, for themself: the evening lets teachers set breaks, booking has not opened
    yet, the break is for none but their own place here, and (to change or remove one)
    they made it. Breaks the organiser made stay the organiser's."""
    if is_organiser(actor):
        return
    own = set()
    if actor is not None and actor.is_active and actor.is_staff:
        own = set(teacher_entries_for(actor, evening=evening).values_list("pk", flat=True))
    if not own:
        raise NotAllowed(_("You may not set up parents' evenings."))
    if not evening.teachers_set_breaks:
        raise NotAllowed(_("At this evening only the organisers set breaks."))
    if now >= evening.booking_opens:
        raise NotAllowed(
            _("Booking has opened: ask the evening's organiser to change your breaks.")
        )
    if brk is not None:
        covers = set(brk.teachers.values_list("pk", flat=True))
        if brk.created_by_id != actor.pk or brk.all_teachers or not covers or not covers <= own:
            raise NotAllowed(_("The organiser set this break: ask them to change it."))
    if teachers is not UNSET:
        chosen = {t if isinstance(t, int) else t.pk for t in teachers or ()}
        if teachers is None or not chosen or not chosen <= own:
            raise NotAllowed(_("You may set breaks for yourself only."))


def lock_for_setup(evening, now: datetime) -> Evening:
    """The evening, locked against bookings, with expired holds out of the way."""
    evening = lock_evening(evening, exclusive=True)
    release_held_appointments(
        evening,
        Appointment.objects.filter(
            evening=evening, status=Appointment.Status.HELD, expires_at__lte=now
        ),
        expired_at=now,
    )
    return evening


def live_appointments(evening: Evening, now: datetime):
    return Appointment.objects.filter(live_q(now), evening=evening)


def refuse_if(appointments, message: str, *, field: str = "") -> None:
    affected = list(
        appointments.select_related("pupil", "teacher__staff", "parent").order_by("starts_at", "pk")
    )
    if affected:
        raise ChangeRefused(message, appointments=affected, field=field)


def validate_evening(evening: Evening) -> None:
    for name in ("booking_opens", "booking_closes"):
        value = getattr(evening, name)
        if value is None or timezone.is_naive(value):
            raise InvalidSetup(_("Give a date and time with a time zone."), field=name)
    if evening.booking_closes <= evening.booking_opens:
        raise InvalidSetup(_("Booking must close after it opens."), field="booking_closes")
    if not evening.slot_minutes or evening.slot_minutes <= 0:
        raise InvalidSetup(_("Appointments need a length in minutes."), field="slot_minutes")
    for name in ("cutoff_hours", "max_per_pupil", "max_per_parent"):
        value = getattr(evening, name)
        if value is not None and value < 0:
            raise InvalidSetup(_("This cannot be negative."), field=name)
    if evening.travel_gap_minutes is None or evening.travel_gap_minutes < 0:
        raise InvalidSetup(_("This cannot be negative."), field="travel_gap_minutes")
    if evening.split_families not in Evening.SplitFamilies.values:
        raise InvalidSetup(_("Unknown split-family setting."), field="split_families")
    if evening.mode not in Evening.Mode.values:
        raise InvalidSetup(_("Unknown kind of meeting."), field="mode")
    if not evening.waiting_offer_hours or evening.waiting_offer_hours < 1:
        raise InvalidSetup(
            _("A freed time must be held for at least an hour."), field="waiting_offer_hours"
        )


def validate_lengths(evening: Evening) -> None:
    """Teachers' lengths are multiples of the evening's; class lengths of their teachers'."""
    teachers = {t.staff_id: t for t in EveningTeacher.objects.filter(evening=evening)}
    for teacher in teachers.values():
        teacher.evening = evening
        validate_teacher(teacher)
    for length in ClassLength.objects.filter(evening=evening).select_related("group"):
        for staff_id in GroupTeacher.objects.filter(group=length.group).values_list(
            "staff_id", flat=True
        ):
            teacher = teachers.get(staff_id)
            if teacher is not None and length.minutes % teacher.minutes:
                raise InvalidSetup(
                    _(
                        "%(group)s's %(minutes)s-minute appointments would no longer be a whole "
                        "multiple of its teacher's length."
                    )
                    % {"group": length.group, "minutes": length.minutes},
                    field="slot_minutes",
                )


def validate_teacher(teacher: EveningTeacher) -> None:
    default = teacher.evening.slot_minutes
    if teacher.slot_minutes is not None and (
        teacher.slot_minutes <= 0 or teacher.slot_minutes % default
    ):
        raise InvalidSetup(
            _("A teacher's length must be a whole multiple of the evening's %(minutes)s minutes.")
            % {"minutes": default},
            field="slot_minutes",
        )


def validate_times(starts_at: datetime, ends_at: datetime, *, field: str) -> None:
    for value in (starts_at, ends_at):
        if timezone.is_naive(value):
            raise InvalidSetup(_("Give a date and time with a time zone."), field=field)
        if value.second or value.microsecond:
            raise InvalidSetup(_("Times are in whole minutes."), field=field)
    if ends_at <= starts_at:
        raise InvalidSetup(_("The end must come after the start."), field=field)


def validate_day(evening: Evening, starts_at, ends_at, *, exclude: EveningDay | None = None):
    validate_times(starts_at, ends_at, field="days")
    others = EveningDay.objects.filter(
        evening=evening, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise InvalidSetup(_("Days of an evening cannot overlap."), field="days")


def only_registration_groups(groups) -> list[TeachingGroup]:
    ids = [g if isinstance(g, int) else g.pk for g in groups]
    found = list(TeachingGroup.objects.filter(pk__in=ids, kind=TeachingGroup.Kind.REGISTRATION))
    if len(found) != len(set(ids)):
        raise InvalidSetup(_("Choose registration groups only."), field="registration_groups")
    return found


def teachers_of(evening: Evening, teachers) -> list[EveningTeacher]:
    ids = [t if isinstance(t, int) else t.pk for t in teachers]
    found = list(EveningTeacher.objects.filter(evening=evening, pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidSetup(_("Choose teachers of this evening."), field="teachers")
    return found


def busy_of(appointment: Appointment) -> planner.Busy:
    return planner.Busy(
        appointment.starts_at,
        appointment.ends_at,
        room=appointment.teacher.room,
        in_person=appointment.in_person,
    )
