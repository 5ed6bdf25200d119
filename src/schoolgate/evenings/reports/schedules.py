"""Teachers' schedules: what a teacher's evening holds, for the page, the A4 PDF and
the organiser's whole-school pack (docs/schedules-and-printing.md).

One function, `schedules`, reads every teacher's schedule (or a few) in a fixed number
of queries, whatever the number of teachers or appointments. Nothing here writes, and
nothing here decides who may look: the views do (a teacher sees their own schedule
only; the pack is for organisers)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from schoolgate.accounts.access import qualifying_links
from schoolgate.evenings.booking.availability import live_q
from schoolgate.evenings.models import (
    Appointment,
    Break,
    Evening,
    EveningDay,
    EveningTeacher,
    TeacherAbsence,
)
from schoolgate.evenings.running.teachers import teacher_entries_for
from schoolgate.mis.models import GroupMembership, GroupTeacher

APPOINTMENT = "appointment"
BREAK = "break"


@dataclass
class ScheduleRow:
    """One line of a schedule: an appointment or a break, in time order."""

    kind: str
    starts_at: datetime
    ends_at: datetime
    appointment: Appointment | None = None
    parents: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    brk: Break | None = None
    # Inside a time the teacher is marked absent for.
    absent: bool = False

    @property
    def is_break(self) -> bool:
        return self.kind == BREAK

    @property
    def held(self) -> bool:
        return self.appointment is not None and self.appointment.status == Appointment.Status.HELD

    @property
    def video(self) -> bool:
        return self.appointment is not None and not self.appointment.in_person


@dataclass
class DaySchedule:
    day: EveningDay
    rows: list[ScheduleRow] = field(default_factory=list)

    @property
    def appointment_count(self) -> int:
        return sum(1 for r in self.rows if not r.is_break)


@dataclass
class TeacherSchedule:
    evening: Evening
    teacher: EveningTeacher
    days: list[DaySchedule]
    absences: list[TeacherAbsence]

    @property
    def appointment_count(self) -> int:
        return sum(d.appointment_count for d in self.days)

    @property
    def rows(self) -> list[ScheduleRow]:
        return [row for day in self.days for row in day.rows]


def schedules(
    *, evening: Evening, teachers: list[EveningTeacher] | None = None, now: datetime | None = None
) -> list[TeacherSchedule]:
    """The schedules of `teachers` (every teacher taking part when None), by name.

    Appointments are the live ones: confirmed, and held ones not yet run out (shown as
    held: a family is booking, or has been offered the time from the waiting list).
    Ten queries at most, however many teachers, days and appointments."""
    now = now or timezone.now()
    if teachers is None:
        teachers = list(
            EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
        )
    teachers = sorted(
        teachers, key=lambda t: (t.staff.surname.casefold(), t.staff.forename.casefold(), t.pk)
    )
    teacher_ids = [t.pk for t in teachers]
    days = list(EveningDay.objects.filter(evening=evening).order_by("starts_at"))

    appointments = list(
        Appointment.objects.filter(live_q(now), evening=evening, teacher_id__in=teacher_ids)
        .select_related("pupil", "parent")
        .order_by("starts_at", "pk")
    )
    breaks = list(Break.objects.filter(evening=evening).order_by("starts_at", "pk"))
    break_teachers = defaultdict(set)
    for break_id, teacher_id in Break.teachers.through.objects.filter(
        break_id__in=[b.pk for b in breaks if not b.all_teachers], eveningteacher_id__in=teacher_ids
    ).values_list("break_id", "eveningteacher_id"):
        break_teachers[break_id].add(teacher_id)
    absences = defaultdict(list)
    for absence in (
        TeacherAbsence.objects.filter(evening=evening, teacher_id__in=teacher_ids)
        .select_related("substitute__staff")
        .order_by("created_at", "pk")
    ):
        absences[absence.teacher_id].append(absence)

    pupil_ids = {a.pupil_id for a in appointments}
    classes = _classes(pupil_ids, {t.staff_id for t in teachers})
    parents = _parents(pupil_ids)

    by_teacher = defaultdict(list)
    for a in appointments:
        by_teacher[a.teacher_id].append(a)

    result = []
    for teacher in teachers:
        teacher.evening = evening  # no query for it later
        rows = [
            ScheduleRow(
                kind=APPOINTMENT,
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                appointment=a,
                parents=_parents_of(a, parents, shared=evening.shared_meetings),
                classes=classes.get((teacher.staff_id, a.pupil_id), []),
            )
            for a in by_teacher[teacher.pk]
        ]
        rows += [
            ScheduleRow(kind=BREAK, starts_at=b.starts_at, ends_at=b.ends_at, brk=b)
            for b in breaks
            if b.all_teachers or teacher.pk in break_teachers[b.pk]
        ]
        for row in rows:
            row.absent = any(_covers(absence, row) for absence in absences[teacher.pk])
        rows.sort(key=lambda r: (r.starts_at, r.kind != BREAK, r.ends_at))
        result.append(
            TeacherSchedule(
                evening=evening,
                teacher=teacher,
                days=_by_day(days, rows),
                absences=absences[teacher.pk],
            )
        )
    return result


def teacher_schedule(
    *, evening: Evening, teacher: EveningTeacher, now: datetime | None = None
) -> TeacherSchedule:
    return schedules(evening=evening, teachers=[teacher], now=now)[0]


def teacher_evenings(user, *, now: datetime | None = None) -> list[EveningTeacher]:
    """The user's places at evenings that are not drafts: upcoming (or under way)
    first, soonest first, then past ones, latest first. Each entry's evening carries
    `first_day` and `last_day`."""
    now = now or timezone.now()
    entries = list(
        teacher_entries_for(user)
        .exclude(evening__status=Evening.Status.DRAFT)
        .prefetch_related("evening__days")
    )
    for entry in entries:
        days = sorted(entry.evening.days.all(), key=lambda d: d.starts_at)
        entry.days = days
        entry.first_day = days[0] if days else None
        entry.last_day = days[-1] if days else None
        entry.upcoming = bool(days) and days[-1].ends_at > now

    def key(entry):
        start = entry.first_day.starts_at.timestamp() if entry.first_day else 0
        return (not entry.upcoming, start if entry.upcoming else -start, entry.evening.name)

    return sorted(entries, key=key)


def teacher_entry_or_none(user, *, evening_id: int) -> EveningTeacher | None:
    """The user's own place at this evening (not a draft), or None."""
    return (
        teacher_entries_for(user)
        .filter(evening_id=evening_id)
        .exclude(evening__status=Evening.Status.DRAFT)
        .first()
    )


# --- helpers ------------------------------------------------------------------------


def _classes(pupil_ids, staff_ids) -> dict[tuple[int, int], list[str]]:
    """{(staff id, pupil id): names of the current groups that staff member teaches the
    pupil}, in two queries."""
    if not pupil_ids:
        return {}
    groups_of_pupil = defaultdict(set)
    names = {}
    for pupil_id, group_id, name in GroupMembership.objects.filter(
        pupil_id__in=pupil_ids, group__current=True
    ).values_list("pupil_id", "group_id", "group__name"):
        groups_of_pupil[pupil_id].add(group_id)
        names[group_id] = name
    staff_of_group = defaultdict(set)
    for group_id, staff_id in GroupTeacher.objects.filter(
        group_id__in=list(names), staff_id__in=staff_ids
    ).values_list("group_id", "staff_id"):
        staff_of_group[group_id].add(staff_id)
    result = defaultdict(list)
    for pupil_id, group_ids in groups_of_pupil.items():
        for group_id in group_ids:
            for staff_id in staff_of_group[group_id]:
                result[(staff_id, pupil_id)].append(names[group_id])
    return {key: sorted(value) for key, value in result.items()}


def _parents(pupil_ids) -> dict[int, list[tuple[str, str]]]:
    """{pupil id: [(email key, name)]} of the contacts who may see each pupil now
    (accounts.access rules), by priority."""
    if not pupil_ids:
        return {}
    links: QuerySet = (
        qualifying_links()
        .filter(pupil_id__in=pupil_ids)
        .select_related("contact")
        .order_by("pupil_id", "priority", "contact__surname", "contact__forename", "pk")
    )
    result = defaultdict(list)
    for link in links:
        result[link.pupil_id].append((link.contact.email_key, link.contact.display_name))
    return result


def _parents_of(appointment: Appointment, parents: dict, *, shared: bool) -> list[str]:
    """Who the meeting is with: everyone who may see the pupil when meetings are
    shared; otherwise the parent whose appointment it is."""
    people = parents.get(appointment.pupil_id, [])
    if shared:
        return [name for _key, name in people]
    email = appointment.parent.email
    own = [name for key, name in people if key == email]
    return own or [appointment.parent.get_full_name() or email]


def _covers(absence: TeacherAbsence, row: ScheduleRow) -> bool:
    if absence.starts_at is None:
        return True
    return absence.starts_at < row.ends_at and row.starts_at < absence.ends_at


def _by_day(days: list[EveningDay], rows: list[ScheduleRow]) -> list[DaySchedule]:
    """Rows under the day they start in; a row outside every day (a break set before
    a day was shortened) goes under the nearest day before it, or the first."""
    result = [DaySchedule(day) for day in days]
    if not result:
        return []
    for row in rows:
        target = result[0]
        for entry in result:
            if entry.day.starts_at <= row.starts_at:
                target = entry
        target.rows.append(row)
    for entry in result:
        # A break wholly outside its day's times says nothing useful on a schedule.
        entry.rows = [
            r
            for r in entry.rows
            if not (
                r.is_break
                and (r.ends_at <= entry.day.starts_at or r.starts_at >= entry.day.ends_at)
            )
        ]
    return result
