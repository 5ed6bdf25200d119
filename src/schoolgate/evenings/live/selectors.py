"""What the live pages show: the teacher's now / next / later, the organiser's view of
every teacher, and a family's expected times and Join buttons. Nothing here writes
(except that opening a call draws its room: see video.rooms)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from schoolgate.evenings.models import Appointment, Evening, EveningDay, EveningTeacher
from schoolgate.evenings.running.teacher_tools import contact_names, parent_name
from schoolgate.evenings.video import rooms

from .delays import Expected, expected_times, latest


def current_day(evening: Evening, *, now: datetime) -> EveningDay | None:
    """The session today (or the next one; else the last): what the live pages show."""
    days = list(evening.days.all())
    today = timezone.localdate(now)
    for day in days:
        if day.date == today:
            return day
    upcoming = [d for d in days if d.starts_at > now]
    return upcoming[0] if upcoming else (days[-1] if days else None)


# --- the teacher's live page ------------------------------------------------------


@dataclass
class LiveRow:
    expected: Expected
    parent: str

    @property
    def appointment(self) -> Appointment:
        return self.expected.appointment

    @property
    def video(self) -> bool:
        return rooms.is_video(self.appointment)


@dataclass
class TeacherLive:
    teacher: EveningTeacher
    day: EveningDay | None
    late_minutes: int
    said_at: datetime | None
    now: LiveRow | None = None
    next: LiveRow | None = None
    later: list[LiveRow] = field(default_factory=list)
    earlier: list[LiveRow] = field(default_factory=list)


def teacher_live(teacher: EveningTeacher, *, now: datetime) -> TeacherLive:
    """The teacher's confirmed appointments of the day, split around now: the one in
    progress (expected times, delay included), the next, the rest to come, and those
    over (to mark)."""
    evening = teacher.evening
    day = current_day(evening, now=now)
    saying = latest([teacher.pk]).get(teacher.pk)
    on_day = timezone.localdate(day.starts_at) if day else None
    on_time = not saying or not saying.minutes or timezone.localdate(saying.said_at) != on_day
    live = TeacherLive(
        teacher=teacher,
        day=day,
        late_minutes=0 if on_time else saying.minutes,
        said_at=None if on_time else saying.said_at,
    )
    if day is None:
        return live
    appointments = list(
        Appointment.objects.filter(
            teacher=teacher, day=day, status=Appointment.Status.CONFIRMED
        ).select_related("pupil", "parent", "evening")
    )
    names = contact_names(a.parent.email for a in appointments)
    expected = expected_times(appointments)
    for a in sorted(appointments, key=lambda a: (a.starts_at, a.pk)):
        row = LiveRow(expected=expected[a.pk], parent=parent_name(a.parent, contacts=names))
        if row.expected.ends_at <= now:
            live.earlier.append(row)
        elif live.now is None and row.expected.starts_at <= now:
            live.now = row
        elif live.next is None:
            live.next = row
        else:
            live.later.append(row)
    return live


# --- the organiser's live view ----------------------------------------------------


@dataclass
class TeacherFigures:
    teacher: EveningTeacher
    late_minutes: int = 0
    said_at: datetime | None = None
    done: int = 0
    no_shows: int = 0
    to_come: int = 0
    absent: bool = False


def organiser_live(evening: Evening, *, now: datetime) -> tuple[EveningDay | None, list]:
    """Every teacher taking part, on the day shown: running late by how much, done,
    no-shows, to come, and whether marked absent (a few queries however big)."""
    day = current_day(evening, now=now)
    teachers = list(
        EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
    )
    figures = {t.pk: TeacherFigures(teacher=t) for t in teachers}
    if day is None:
        return None, list(figures.values())
    sayings = latest(figures)
    on_day = timezone.localdate(day.starts_at)
    for teacher_id, saying in sayings.items():
        if saying.minutes and timezone.localdate(saying.said_at) == on_day:
            figures[teacher_id].late_minutes = saying.minutes
            figures[teacher_id].said_at = saying.said_at
    rows = Appointment.objects.filter(
        evening=evening, day=day, status=Appointment.Status.CONFIRMED
    ).values_list("teacher_id", "attendance", "ends_at")
    for teacher_id, attendance, ends_at in rows:
        found = figures.get(teacher_id)
        if found is None:
            continue
        if attendance == Appointment.Attendance.DID_NOT_ATTEND:
            found.no_shows += 1
        elif attendance == Appointment.Attendance.ATTENDED or ends_at <= now:
            found.done += 1
        else:
            found.to_come += 1
    absent = evening.absences.filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now, ends_at__gt=now)
    ).values_list("teacher_id", flat=True)
    for teacher_id in absent:
        if teacher_id in figures:
            figures[teacher_id].absent = True
    return day, sorted(
        figures.values(),
        key=lambda f: (-f.late_minutes, f.teacher.staff.surname, f.teacher.staff.forename),
    )


# --- a family's expected times and Join buttons -----------------------------------


@dataclass
class FamilyRow:
    expected: Expected
    video: bool  # a video call this person may join
    join_from: datetime | None = None
    join_until: datetime | None = None
    now: datetime | None = None

    @property
    def appointment(self) -> Appointment:
        return self.expected.appointment

    @property
    def can_join(self) -> bool:
        return self.video and self.join_from <= self.now <= self.join_until

    @property
    def not_yet(self) -> bool:
        return self.video and self.now < self.join_from


def family_live(evening: Evening, user, *, now: datetime) -> list[FamilyRow]:
    """The family's confirmed appointments still to come (or running) here, with their
    expected times and, for the video calls this person may join, the Join window."""
    from schoolgate.evenings.booking.availability import family_appointments

    appointments = [
        a
        for a in family_appointments(parent=user, evening=evening, now=now).filter(
            status=Appointment.Status.CONFIRMED
        )
    ]
    expected = expected_times(appointments)
    found = []
    for a in sorted(appointments, key=lambda a: (a.starts_at, a.pk)):
        a.evening = evening  # read once, not once per appointment
        e = expected[a.pk]
        join_from, join_until = rooms.join_window(e.starts_at, e.ends_at)
        if join_until < now:
            continue
        video = rooms.family_may_join(user, a)
        found.append(
            FamilyRow(
                expected=e,
                video=video,
                join_from=join_from,
                join_until=join_until,
                now=now,
            )
        )
    return found
