"""Reads for parents' evenings: who an evening is for, whom each pupil may book, free
slots, a family's appointments, and an itinerary proposal from the planner.

Selectors only: nothing here writes. Which pupils a parent may see always comes from
`schoolgate.accounts.access`."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.evenings.models import (
    Appointment,
    ClassLength,
    Evening,
    EveningTeacher,
    Slot,
    SlotClaim,
    TeacherAbsence,
)
from schoolgate.mis.models import GroupMembership, GroupTeacher, Pupil, TeachingGroup


def live_q(now: datetime) -> Q:
    """Appointments that count: confirmed, or held and not yet expired."""
    return Q(status=Appointment.Status.CONFIRMED) | Q(
        status=Appointment.Status.HELD, expires_at__gt=now
    )


def live_appointments(*, evening: Evening | int, now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    return Appointment.objects.filter(live_q(now), evening=evening)


def eligible_pupils(evening: Evening) -> QuerySet[Pupil]:
    """Pupils on roll in the evening's year groups or registration groups."""
    audience = Q(pk__in=[])
    if evening.year_groups:
        audience |= Q(year_group__in=evening.year_groups)
    if evening.pk:
        forms = evening.registration_groups.values("pk")
        audience |= Q(pk__in=GroupMembership.objects.filter(group__in=forms).values("pupil_id"))
    return Pupil.objects.filter(audience, on_roll=True)


@dataclass
class BookableTeacher:
    """A teacher a pupil may book at an evening, and what they teach the pupil."""

    teacher: EveningTeacher
    minutes: int
    classes: list[TeachingGroup] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        return sorted({g.subject for g in self.classes if g.subject})

    @property
    def is_form_tutor(self) -> bool:
        return any(g.kind == TeachingGroup.Kind.REGISTRATION for g in self.classes)


def bookable_teachers(*, evening: Evening, pupil_ids) -> dict[int, dict[int, BookableTeacher]]:
    """{pupil id: {teacher id: BookableTeacher}} for those of `pupil_ids` the evening is
    for: their class teachers and form tutor taking part, and every added teacher, but
    not a teacher marked absent for the whole evening.

    An appointment lasts the teacher's length, or the longest length set for a class
    the pupil has with that teacher."""
    pupil_ids = list(
        eligible_pupils(evening).filter(pk__in=list(pupil_ids)).values_list("pk", flat=True)
    )
    if not pupil_ids:
        return {}
    # A teacher absent for the whole evening is not offered (their time is all an
    # Absent break); one absent for part of it still is, for the rest.
    away = TeacherAbsence.objects.filter(evening=evening, starts_at__isnull=True)
    teachers = {
        t.staff_id: t
        for t in EveningTeacher.objects.filter(evening=evening, removed=False)
        .exclude(pk__in=away.values("teacher_id"))
        .select_related("staff", "evening")
    }
    groups_of = defaultdict(list)
    memberships = GroupMembership.objects.filter(
        pupil_id__in=pupil_ids, group__current=True
    ).select_related("group")
    for membership in memberships:
        groups_of[membership.pupil_id].append(membership.group)
    group_ids = {g.pk for groups in groups_of.values() for g in groups}
    staff_of = defaultdict(set)
    for group_id, staff_id in GroupTeacher.objects.filter(group_id__in=group_ids).values_list(
        "group_id", "staff_id"
    ):
        staff_of[group_id].add(staff_id)
    lengths = dict(
        ClassLength.objects.filter(evening=evening, group_id__in=group_ids).values_list(
            "group_id", "minutes"
        )
    )
    result = {}
    for pupil_id in pupil_ids:
        mine: dict[int, BookableTeacher] = {}
        for group in groups_of[pupil_id]:
            for staff_id in staff_of[group.pk]:
                teacher = teachers.get(staff_id)
                if teacher is None:
                    continue
                entry = mine.setdefault(teacher.pk, BookableTeacher(teacher, teacher.minutes))
                entry.classes.append(group)
                if group.pk in lengths:
                    entry.minutes = max(entry.minutes, lengths[group.pk])
        for teacher in teachers.values():
            if teacher.source == EveningTeacher.Source.ADDED:
                mine.setdefault(teacher.pk, BookableTeacher(teacher, teacher.minutes))
        result[pupil_id] = mine
    return result


def teachers_for_pupil(*, evening: Evening, pupil: Pupil | int) -> list[BookableTeacher]:
    """The teachers one pupil may book, by name."""
    pupil_id = pupil.pk if isinstance(pupil, Pupil) else pupil
    found = bookable_teachers(evening=evening, pupil_ids=[pupil_id]).get(pupil_id, {})
    return sorted(found.values(), key=lambda b: (b.teacher.staff.surname, b.teacher.staff_id))


def evenings_for_parent(parent, *, now: datetime | None = None) -> list[Evening]:
    """Published evenings (not yet over) that are for at least one of the parent's children."""
    now = now or timezone.now()
    visible = pupils_visible_to(parent)
    evenings = Evening.objects.filter(
        status=Evening.Status.PUBLISHED, days__ends_at__gt=now
    ).distinct()
    return [e for e in evenings if eligible_pupils(e).filter(pk__in=visible).exists()]


def free_starts(
    *,
    evening: Evening,
    teacher: EveningTeacher,
    minutes: int | None = None,
    now: datetime | None = None,
    bookable_only: bool = True,
) -> list[Slot]:
    """The slots where an appointment of `minutes` (default: the teacher's length) could
    start now: that many consecutive slots, all free. Slots held by expired holds count
    as free; with `bookable_only`, slots past the cut-off are left out."""
    return free_starts_by_teacher(
        evening=evening,
        wanted={teacher.pk: minutes or teacher.minutes},
        now=now,
        bookable_only=bookable_only,
    ).get(teacher.pk, [])


def free_starts_by_teacher(
    *,
    evening: Evening,
    wanted: dict[int, int],
    now: datetime | None = None,
    bookable_only: bool = True,
) -> dict[int, list[Slot]]:
    """{teacher id: free start slots} for appointments of {teacher id: minutes}."""
    now = now or timezone.now()
    slots = list(
        Slot.objects.filter(evening=evening, teacher_id__in=list(wanted))
        .select_related("teacher")
        .order_by("teacher_id", "starts_at")
    )
    taken = set(
        SlotClaim.objects.filter(slot__evening=evening, slot__teacher_id__in=list(wanted))
        .filter(
            Q(brk__isnull=False)
            | Q(appointment__status=Appointment.Status.CONFIRMED)
            | Q(appointment__status=Appointment.Status.HELD, appointment__expires_at__gt=now)
        )
        .values_list("slot_id", flat=True)
    )
    cutoff = timedelta(hours=evening.cutoff_hours or 0)
    by_teacher: dict[int, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_teacher[slot.teacher_id].append(slot)
    result = {}
    for teacher_id, minutes in wanted.items():
        mine = by_teacher.get(teacher_id, [])
        starts = {s.starts_at: s for s in mine}
        free = []
        for slot in mine:
            if bookable_only and now >= slot.starts_at - cutoff:
                continue
            run, at = [], slot.starts_at
            while at < slot.starts_at + timedelta(minutes=minutes):
                s = starts.get(at)
                if s is None or s.pk in taken or s.day_id != slot.day_id:
                    break
                run.append(s)
                at = s.ends_at
            else:
                free.append(slot)
        result[teacher_id] = free
    return result


def free_starts_for_lengths(
    *, evening: Evening, lengths, now: datetime | None = None
) -> dict[tuple[int, int], list[Slot]]:
    """{(teacher id, minutes): free start slots} for every (teacher id, minutes) asked.

    One pair of queries for all of them, not one per teacher: a teacher asked for at
    two lengths (siblings in classes of different lengths) takes one more round."""
    remaining = defaultdict(set)
    for teacher_id, minutes in lengths:
        remaining[teacher_id].add(minutes)
    found = {}
    while remaining:
        round_ = {teacher_id: minutes.pop() for teacher_id, minutes in remaining.items()}
        for teacher_id, slots in free_starts_by_teacher(
            evening=evening, wanted=round_, now=now
        ).items():
            found[(teacher_id, round_[teacher_id])] = slots
        remaining = {t: m for t, m in remaining.items() if m}
    return found


def family_appointments(
    *, parent, evening: Evening | None = None, now: datetime | None = None
) -> QuerySet[Appointment]:
    """Live appointments of every pupil the parent may see, whoever booked them."""
    now = now or timezone.now()
    appointments = Appointment.objects.filter(live_q(now), pupil__in=pupils_visible_to(parent))
    if evening is not None:
        appointments = appointments.filter(evening=evening)
    return appointments.select_related("pupil", "teacher__staff", "booked_by", "parent", "day")


def parent_appointments(
    *, parent, evening: Evening, now: datetime | None = None
) -> QuerySet[Appointment]:
    """Live appointments that take this parent's time at the evening (any child)."""
    return live_appointments(evening=evening, now=now).filter(parent=parent)
