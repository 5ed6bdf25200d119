"""Running late: what a teacher says, and the expected times families see.

A teacher (or an organiser) says "running 5 / 10 / 15 minutes late" or "back on time";
each saying is a `RunningLate` row with who said it and when, and the latest one for a
teacher counts. It applies to that teacher's appointments later the same day (those
still running or to come when it was said). Nothing else changes: bookings keep their
times and nobody is emailed, because the delay is only what the teacher said."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.evenings.booking.errors import InvalidChoice, NotAllowed
from schoolgate.evenings.models import Appointment, EveningTeacher, RunningLate
from schoolgate.evenings.running.teacher_tools import is_organiser
from schoolgate.evenings.running.teachers import teacher_entries_for

from . import clock

STEPS = (0, 5, 10, 15)


def say_running_late(*, teacher: EveningTeacher, actor, minutes: int, now=None) -> RunningLate:
    """Record that `teacher` is running `minutes` late (0: back on time)."""
    if minutes not in STEPS:
        raise InvalidChoice(_("Choose 5, 10 or 15 minutes late, or back on time."))
    own = teacher_entries_for(actor).filter(pk=teacher.pk).exists()
    if not (own or is_organiser(actor)):
        raise NotAllowed(_("Only the teacher or an organiser can say this teacher is late."))
    return RunningLate.objects.create(
        teacher=teacher, minutes=minutes, said_at=now or clock.now(), said_by=actor
    )


def latest(teacher_ids) -> dict[int, RunningLate]:
    """{teacher id: their latest saying}, in one query."""
    found = {}
    rows = RunningLate.objects.filter(teacher_id__in=list(teacher_ids)).order_by(
        "teacher_id", "-said_at", "-id"
    )
    for row in rows.select_related("said_by"):
        found.setdefault(row.teacher_id, row)
    return found


def applies(saying: RunningLate | None, appointment: Appointment) -> bool:
    """Whether the saying delays this appointment: one later on the same day, not yet
    over when it was said."""
    return bool(
        saying
        and saying.minutes
        and timezone.localdate(saying.said_at) == timezone.localdate(appointment.starts_at)
        and appointment.ends_at > saying.said_at
    )


@dataclass
class Expected:
    """An appointment's time as it now looks."""

    appointment: Appointment
    minutes: int  # late by (0: on time)
    said_at: datetime | None

    @property
    def starts_at(self) -> datetime:
        return self.appointment.starts_at + timedelta(minutes=self.minutes)

    @property
    def ends_at(self) -> datetime:
        return self.appointment.ends_at + timedelta(minutes=self.minutes)


def expected_times(appointments) -> dict[int, Expected]:
    """{appointment id: Expected} for these appointments (one query)."""
    appointments = list(appointments)
    sayings = latest({a.teacher_id for a in appointments})
    result = {}
    for a in appointments:
        saying = sayings.get(a.teacher_id)
        late = applies(saying, a)
        result[a.pk] = Expected(
            appointment=a,
            minutes=saying.minutes if late else 0,
            said_at=saying.said_at if late else None,
        )
    return result
