"""Copy an evening to make the next one: its days, teachers, lengths, breaks and
settings, moved to a new first date. The copy is a draft with no appointments.

Days and breaks move by the same number of days and keep their times on the
school's clock: a 16:00 start in March stays 16:00 after the clocks change, so its
UTC time differs. A time that does not exist on the new date (the spring change)
is refused and nothing is made.

Teachers are derived afresh from the MIS as it is now (each eligible pupil's class
teachers and form tutor, as a new evening gets them); the old evening's choices are
then applied: the staff it added, the teachers it removed, and every teacher's room,
video link and length. Teachers of the old evening who no longer teach its pupils,
or have left, are not carried over; the result names them."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.core.local_time import SkippedTime, aware_local, school_zone
from schoolgate.evenings.booking.errors import InvalidSetup
from schoolgate.evenings.models import Break, ClassLength, Evening, EveningTeacher, RoomMap
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.setup.checks import lock_for_setup, validate_lengths
from schoolgate.evenings.setup.consistency import sync_slots


@dataclass
class CopyResult:
    evening: Evening
    days_moved: int  # by this many days
    not_carried: list[EveningTeacher] = field(default_factory=list)  # the old evening's
    breaks_dropped: list[Break] = field(default_factory=list)  # all their teachers gone
    lengths_dropped: list[ClassLength] = field(default_factory=list)  # class no longer current


def first_date(evening: Evening) -> date | None:
    first = evening.days.order_by("starts_at").first()
    return timezone.localdate(first.starts_at) if first else None


def moved(value: datetime, days: int) -> datetime:
    """The same time on the school's clock, `days` days later; refused if that time
    does not exist (the clocks go forward over it)."""
    local = timezone.localtime(value, school_zone()).replace(tzinfo=None) + timedelta(days=days)
    try:
        return aware_local(local)
    except SkippedTime:
        raise InvalidSetup(
            _("%(time)s does not exist on %(date)s: the clocks go forward then.")
            % {"time": local.strftime("%H:%M"), "date": local.date().isoformat()},
            field="first_date",
        ) from None


def copy_evening(
    *,
    evening: Evening,
    actor,
    name: str,
    starts_on: date,
    booking_opens: datetime | None = None,
    booking_closes: datetime | None = None,
    now: datetime | None = None,
) -> CopyResult:
    """Make a draft copy of `evening` whose first day is `starts_on`. The booking
    window, when not given, moves by the same number of days as the evening."""
    now = now or timezone.now()
    old_days = list(evening.days.order_by("starts_at"))
    if not old_days:
        raise InvalidSetup(_("The evening has no days to copy."), field="first_date")
    shift = (starts_on - timezone.localdate(old_days[0].starts_at)).days
    days = [(moved(d.starts_at, shift), moved(d.ends_at, shift)) for d in old_days]
    with transaction.atomic():
        copy = setup.create_evening(
            actor=actor,
            name=name,
            days=days,
            booking_opens=booking_opens or moved(evening.booking_opens, shift),
            booking_closes=booking_closes or moved(evening.booking_closes, shift),
            slot_minutes=evening.slot_minutes,
            description=evening.description,
            year_groups=evening.year_groups,
            registration_groups=list(evening.registration_groups.all()),
            cutoff_hours=evening.cutoff_hours,
            max_per_pupil=evening.max_per_pupil,
            max_per_parent=evening.max_per_parent,
            travel_gap_minutes=evening.travel_gap_minutes,
            split_families=evening.split_families,
            mode=evening.mode,
            now=now,
        )
        copy.teachers_set_breaks = evening.teachers_set_breaks
        copy.waiting_offer_hours = evening.waiting_offer_hours
        copy.room_map_type = evening.room_map_type
        copy.save(update_fields=["teachers_set_breaks", "waiting_offer_hours", "room_map_type"])
        for data in RoomMap.objects.filter(evening=evening).values_list("data", flat=True):
            RoomMap.objects.create(evening=copy, data=data)
        result = CopyResult(evening=copy, days_moved=shift)
        teachers = _copy_teachers(evening, copy, result)
        _copy_lengths(evening, copy, result)
        _copy_breaks(evening, copy, teachers, shift, result)
        # One pass over the slots for every teacher's length and every break: the
        # copy has no bookings, so nothing can be refused here.
        validate_lengths(copy)
        sync_slots(lock_for_setup(copy, now), now=now)
    return result


def _copy_teachers(old: Evening, new: Evening, result: CopyResult) -> dict[int, EveningTeacher]:
    """{old teacher id: new teacher}, for those carried over."""
    derived = {t.staff_id: t for t in EveningTeacher.objects.filter(evening=new)}
    mapping = {}
    for teacher in EveningTeacher.objects.filter(evening=old).select_related("staff"):
        mine = derived.get(teacher.staff_id)
        if mine is None:
            if teacher.source != EveningTeacher.Source.ADDED or not teacher.staff.current:
                if not teacher.removed:
                    result.not_carried.append(teacher)
                continue
            mine = EveningTeacher(
                evening=new, staff=teacher.staff, source=EveningTeacher.Source.ADDED
            )
        mine.removed = teacher.removed
        mine.room, mine.video_link = teacher.room, teacher.video_link
        mine.slot_minutes = teacher.slot_minutes
        mine.save()
        mapping[teacher.pk] = mine
    return mapping


def _copy_lengths(old: Evening, new: Evening, result: CopyResult) -> None:
    for length in ClassLength.objects.filter(evening=old).select_related("group"):
        if not length.group.current:
            result.lengths_dropped.append(length)
            continue
        ClassLength.objects.create(evening=new, group=length.group, minutes=length.minutes)


def _copy_breaks(old: Evening, new: Evening, teachers, shift: int, result: CopyResult) -> None:
    for brk in old.breaks.prefetch_related("teachers").order_by("starts_at"):
        chosen = [teachers[t.pk] for t in brk.teachers.all() if t.pk in teachers]
        if not brk.all_teachers and not chosen:
            result.breaks_dropped.append(brk)
            continue
        copy = Break.objects.create(
            evening=new,
            starts_at=moved(brk.starts_at, shift),
            ends_at=moved(brk.ends_at, shift),
            label=brk.label,
            all_teachers=brk.all_teachers,
        )
        if not brk.all_teachers:
            copy.teachers.set(chosen)
