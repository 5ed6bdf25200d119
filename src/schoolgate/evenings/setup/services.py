"""Setting up an evening: its days, teachers, lengths, rooms and breaks.

Every change runs in one transaction with the evening row locked exclusively (no
booking runs meanwhile), keeps the precomputed slots in step, and never drops a
booking silently: a change that would break one raises ChangeRefused listing every
appointment affected, and changes nothing."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.evenings.booking.availability import eligible_pupils
from schoolgate.evenings.booking.errors import InvalidSetup
from schoolgate.evenings.models import (
    Appointment,
    Break,
    ClassLength,
    Evening,
    EveningDay,
    EveningTeacher,
)
from schoolgate.evenings.setup.checks import (
    UNSET,
    live_appointments,
    lock_for_setup,
    only_registration_groups,
    refuse_if,
    require_break_rights,
    require_organiser,
    teachers_of,
    validate_day,
    validate_evening,
    validate_lengths,
    validate_teacher,
    validate_times,
)
from schoolgate.evenings.setup.consistency import (
    TeacherChanges,
    derive_teachers,
    rebuild_parent_time,
    sync_break_claims,
    sync_slots,
)
from schoolgate.evenings.video import rooms
from schoolgate.mis.models import GroupMembership, GroupTeacher, Staff, TeachingGroup


def create_evening(
    *,
    actor,
    name: str,
    days: list[tuple[datetime, datetime]],
    booking_opens: datetime,
    booking_closes: datetime,
    slot_minutes: int = 5,
    description: str = "",
    year_groups=(),
    registration_groups=(),
    cutoff_hours: int | None = None,
    max_per_pupil: int | None = None,
    max_per_parent: int | None = None,
    travel_gap_minutes: int = 0,
    split_families: str = Evening.SplitFamilies.SHARED,
    mode: str = Evening.Mode.IN_PERSON,
    teachers_set_breaks: bool = False,
    waiting_offer_hours: int = 24,
    now: datetime | None = None,
) -> Evening:
    """Create a draft evening with its days, derive its teachers from the mirror (each
    eligible pupil's class teachers and form tutor) and precompute their slots."""
    require_organiser(actor)
    if not name.strip():
        raise InvalidSetup(_("Give the evening a name."), field="name")
    evening = Evening(
        name=name.strip(),
        description=description,
        booking_opens=booking_opens,
        booking_closes=booking_closes,
        slot_minutes=slot_minutes,
        year_groups=sorted({int(y) for y in year_groups}),
        cutoff_hours=cutoff_hours,
        max_per_pupil=max_per_pupil,
        max_per_parent=max_per_parent,
        travel_gap_minutes=travel_gap_minutes,
        split_families=split_families,
        mode=mode,
        teachers_set_breaks=teachers_set_breaks,
        waiting_offer_hours=waiting_offer_hours,
        created_by=actor,
        created_at=now or timezone.now(),
    )
    validate_evening(evening)
    if not days:
        raise InvalidSetup(_("An evening needs at least one day."), field="days")
    with transaction.atomic():
        evening.save()
        evening.registration_groups.set(only_registration_groups(registration_groups))
        for starts_at, ends_at in days:
            validate_day(evening, starts_at, ends_at)
            EveningDay.objects.create(evening=evening, starts_at=starts_at, ends_at=ends_at)
        derive_teachers(evening, now=now or timezone.now())
        sync_slots(evening, now=now or timezone.now())
    return evening


def update_evening(*, evening: Evening, actor, now: datetime | None = None, **changes) -> Evening:
    """Change an evening's settings (any of the create_evening arguments but days).

    Refused with ChangeRefused when bookings would break: a new default length for
    teachers with bookings, another split-family mode or meeting mode than the
    bookings were made under, an audience that leaves booked pupils out, or a travel
    gap that booked parents could no longer keep."""
    require_organiser(actor)
    now = now or timezone.now()
    allowed = {
        "name",
        "description",
        "booking_opens",
        "booking_closes",
        "slot_minutes",
        "year_groups",
        "registration_groups",
        "cutoff_hours",
        "max_per_pupil",
        "max_per_parent",
        "travel_gap_minutes",
        "split_families",
        "mode",
        "teachers_set_breaks",
        "waiting_offer_hours",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"update_evening() got unexpected arguments: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        live = live_appointments(evening, now)
        groups = changes.pop("registration_groups", UNSET)
        before = {name: getattr(evening, name) for name in changes}
        for name, value in changes.items():
            setattr(
                evening, name, sorted({int(y) for y in value}) if name == "year_groups" else value
            )
        validate_evening(evening)
        if "split_families" in changes and changes["split_families"] != before["split_families"]:
            refuse_if(
                live,
                _("Bookings were made with the other split-family setting; cancel them first."),
                field="split_families",
            )
        if "mode" in changes and evening.mode != Evening.Mode.BOTH:
            only = (
                Appointment.Method.VIDEO
                if evening.mode == Evening.Mode.VIDEO
                else Appointment.Method.IN_PERSON
            )
            refuse_if(
                live.exclude(method=only),
                _("Some bookings are for the kind of meeting this change would remove."),
                field="mode",
            )
        if "slot_minutes" in changes and evening.slot_minutes != before["slot_minutes"]:
            refuse_if(
                live.filter(teacher__slot_minutes__isnull=True),
                _("Teachers using the evening's length have bookings; their slots cannot change."),
                field="slot_minutes",
            )
            validate_lengths(evening)
        evening.save()
        if groups is not UNSET:
            evening.registration_groups.set(only_registration_groups(groups))
        if groups is not UNSET or "year_groups" in changes:
            eligible = eligible_pupils(evening).values("pk")
            refuse_if(
                live.exclude(pupil__in=eligible),
                _("Some booked pupils would no longer be part of this evening."),
                field="year_groups",
            )
            derive_teachers(evening, now=now)
        if "travel_gap_minutes" in changes or "mode" in changes:
            rebuild_parent_time(evening, now)
        sync_slots(evening, now=now)
    return evening


def set_status(
    *, evening: Evening, actor, status: str, now: datetime | None = None, schedule=False
) -> Evening:
    """Publish (parents may book in the window), close, or return an evening to draft.
    An evening scheduled by the school is published only with its schedule (`schedule`,
    from school_scheduled.publish), never open to first-come booking by mistake."""
    require_organiser(actor)
    if status not in Evening.Status.values:
        raise InvalidSetup(_("Unknown status."), field="status")
    with transaction.atomic():
        evening = lock_for_setup(evening, now or timezone.now())
        if status == Evening.Status.PUBLISHED and not evening.days.exists():
            raise InvalidSetup(_("Add a day before publishing."), field="status")
        by_school = (
            evening.run_by == Evening.RunBy.SCHOOL and evening.status == Evening.Status.DRAFT
        )
        if status == Evening.Status.PUBLISHED and by_school and not schedule:
            raise InvalidSetup(
                _("This evening is scheduled by the school: build and publish its schedule."),
                field="status",
            )
        # Video appointments need the school's Jitsi server (docs/video.md).
        needs_video = status == Evening.Status.PUBLISHED and rooms.needs_service(evening)
        if needs_video and rooms.service() is None:
            raise InvalidSetup(
                _(
                    "Set the video service (Add-on settings, Video appointments) before "
                    "publishing an evening with video appointments."
                ),
                field="status",
            )
        evening.status = status
        evening.save(update_fields=["status"])
    return evening


def add_day(
    *, evening: Evening, actor, starts_at: datetime, ends_at: datetime, now=None
) -> EveningDay:
    """Add a session; every teacher taking part gets slots in it."""
    require_organiser(actor)
    with transaction.atomic():
        evening = lock_for_setup(evening, now or timezone.now())
        validate_day(evening, starts_at, ends_at)
        day = EveningDay.objects.create(evening=evening, starts_at=starts_at, ends_at=ends_at)
        sync_slots(evening, now=now or timezone.now())
    return day


def change_day(
    *, day: EveningDay, actor, starts_at: datetime, ends_at: datetime, now=None
) -> EveningDay:
    """Move or resize a session; refused if a booked slot would fall outside it or off
    its teacher's grid of slots."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(day.evening_id, now)
        day = EveningDay.objects.get(pk=day.pk)
        validate_day(evening, starts_at, ends_at, exclude=day)
        day.starts_at, day.ends_at = starts_at, ends_at
        day.save(update_fields=["starts_at", "ends_at"])
        sync_slots(evening, now=now)
    return day


def remove_day(*, day: EveningDay, actor, now=None) -> None:
    """Remove a session that has no bookings."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(day.evening_id, now)
        refuse_if(
            live_appointments(evening, now).filter(day_id=day.pk),
            _("This day has bookings."),
            field="days",
        )
        if evening.days.count() == 1:
            raise InvalidSetup(_("An evening needs at least one day."), field="days")
        # Cancelled appointments keep their day; they go with it.
        Appointment.objects.filter(day_id=day.pk).exclude(status__in=Appointment.LIVE).delete()
        EveningDay.objects.filter(pk=day.pk).delete()


def refresh_teachers(*, evening: Evening, actor, now=None) -> TeacherChanges:
    """Derive the teachers again from the mirror (after a sync, say): teachers of new
    pupils join; teachers with no pupil left go, unless they have appointments.
    Teachers the organiser removed stay removed."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        changes = derive_teachers(evening, now=now)
        sync_slots(evening, now=now)
    return changes


def add_teacher(
    *,
    evening: Evening,
    actor,
    staff: Staff,
    room: str = "",
    video_link: str = "",
    slot_minutes: int | None = None,
    now=None,
) -> EveningTeacher:
    """Add a member of staff (head of year, SENCO...): every pupil of the evening may
    book them. A teacher removed earlier is brought back."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        teacher, created = EveningTeacher.objects.get_or_create(
            evening=evening,
            staff=staff,
            defaults={"source": EveningTeacher.Source.ADDED},
        )
        if not created and not teacher.removed:
            raise InvalidSetup(_("%(name)s already takes part.") % {"name": staff}, field="staff")
        teacher.removed = False
        teacher.room, teacher.video_link, teacher.slot_minutes = room, video_link, slot_minutes
        teacher.evening = evening
        validate_teacher(teacher)
        teacher.save()
        sync_slots(evening, now=now)
    return teacher


def update_teacher(
    *,
    teacher: EveningTeacher,
    actor,
    room=UNSET,
    video_link=UNSET,
    slot_minutes=UNSET,
    now=None,
) -> EveningTeacher:
    """Change a teacher's room, video link or appointment length (None: the evening's).

    A new length is refused while the teacher has bookings; a new room is refused when
    a booked parent would no longer have the travel gap to or from it."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(teacher.evening_id, now)
        teacher = EveningTeacher.objects.select_related("staff").get(pk=teacher.pk)
        teacher.evening = evening
        if room is not UNSET:
            teacher.room = room
        if video_link is not UNSET:
            teacher.video_link = video_link
        if slot_minutes is not UNSET and slot_minutes != teacher.slot_minutes:
            if (slot_minutes or evening.slot_minutes) != teacher.minutes:
                refuse_if(
                    live_appointments(evening, now).filter(teacher=teacher),
                    _("%(name)s has bookings; their appointment length cannot change.")
                    % {"name": teacher.staff},
                    field="slot_minutes",
                )
            teacher.slot_minutes = slot_minutes
        validate_teacher(teacher)
        teacher.save()
        validate_lengths(evening)
        if room is not UNSET:
            rebuild_parent_time(evening, now)
        sync_slots(evening, now=now)
    return teacher


def remove_teacher(*, teacher: EveningTeacher, actor, now=None) -> None:
    """Take a teacher out of the evening; refused while they have bookings."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(teacher.evening_id, now)
        teacher = EveningTeacher.objects.select_related("staff").get(pk=teacher.pk)
        refuse_if(
            live_appointments(evening, now).filter(teacher=teacher),
            _("%(name)s has bookings; move or cancel them first.") % {"name": teacher.staff},
            field="teachers",
        )
        teacher.removed = True
        teacher.save(update_fields=["removed"])
        sync_slots(evening, now=now)


def set_class_length(
    *, evening: Evening, actor, group: TeachingGroup, minutes: int | None, now=None
) -> None:
    """Give one class longer appointments (a whole multiple of each of its teachers'
    lengths), or go back to the teacher's length with None. Refused while pupils of
    the class have bookings with its teachers."""
    require_organiser(actor)
    now = now or timezone.now()
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        teachers = EveningTeacher.objects.filter(
            evening=evening,
            staff__in=GroupTeacher.objects.filter(group=group).values("staff_id"),
        ).select_related("evening", "staff")
        if minutes is not None:
            for teacher in teachers:
                if minutes <= 0 or minutes % teacher.minutes:
                    raise InvalidSetup(
                        _(
                            "%(minutes)s minutes is not a whole multiple of %(name)s's "
                            "%(length)s-minute appointments."
                        )
                        % {"minutes": minutes, "name": teacher.staff, "length": teacher.minutes},
                        field="minutes",
                    )
        refuse_if(
            live_appointments(evening, now).filter(
                teacher__in=teachers,
                pupil__in=GroupMembership.objects.filter(group=group).values("pupil_id"),
            ),
            _("Pupils of this class have bookings with its teachers."),
            field="minutes",
        )
        if minutes is None:
            ClassLength.objects.filter(evening=evening, group=group).delete()
        else:
            ClassLength.objects.update_or_create(
                evening=evening, group=group, defaults={"minutes": minutes}
            )


def add_break(
    *,
    evening: Evening,
    actor,
    starts_at: datetime,
    ends_at: datetime,
    teachers=None,
    label: str = "",
    now=None,
) -> Break:
    """A break for some teachers (a list of EveningTeacher), or all with None: their
    slots that overlap it cannot be booked. Refused over a booking. A teacher may add
    one for themself only, when the evening allows it (see require_break_rights)."""
    now = now or timezone.now()
    require_break_rights(actor, evening, teachers=teachers, now=now)
    validate_times(starts_at, ends_at, field="break")
    with transaction.atomic():
        evening = lock_for_setup(evening, now)
        require_break_rights(actor, evening, teachers=teachers, now=now)  # under the lock
        brk = Break.objects.create(
            evening=evening,
            starts_at=starts_at,
            ends_at=ends_at,
            label=label,
            all_teachers=teachers is None,
            created_by=actor,
        )
        if teachers is not None:
            brk.teachers.set(teachers_of(evening, teachers))
        sync_break_claims(evening, now)
    return brk


def change_break(
    *,
    brk: Break,
    actor,
    starts_at=UNSET,
    ends_at=UNSET,
    teachers=UNSET,
    label=UNSET,
    now=None,
) -> Break:
    """Move, resize or re-assign a break; refused if it would cover a booking."""
    now = now or timezone.now()
    require_break_rights(actor, brk.evening, teachers=teachers, brk=brk, now=now)
    with transaction.atomic():
        evening = lock_for_setup(brk.evening_id, now)
        brk = Break.objects.get(pk=brk.pk)
        require_break_rights(actor, evening, teachers=teachers, brk=brk, now=now)
        if starts_at is not UNSET:
            brk.starts_at = starts_at
        if ends_at is not UNSET:
            brk.ends_at = ends_at
        if label is not UNSET:
            brk.label = label
        validate_times(brk.starts_at, brk.ends_at, field="break")
        if teachers is not UNSET:
            brk.all_teachers = teachers is None
            brk.teachers.set([] if teachers is None else teachers_of(evening, teachers))
        brk.save()
        sync_break_claims(evening, now)
    return brk


def remove_break(*, brk: Break, actor, now=None) -> None:
    now = now or timezone.now()
    require_break_rights(actor, brk.evening, brk=brk, now=now)
    with transaction.atomic():
        evening = lock_for_setup(brk.evening_id, now)
        brk = Break.objects.filter(pk=brk.pk).first()
        if brk is None:
            return  # already gone
        require_break_rights(actor, evening, brk=brk, now=now)
        brk.delete()  # its slot claims go with it
