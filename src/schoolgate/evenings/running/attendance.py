"""Attendance figures for an evening (docs/teacher-tools.md): of the confirmed
appointments, how many were attended, not attended and not marked, overall, by teacher
and by year group. Four queries, however big the evening. Notes are never read here."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from schoolgate.evenings.models import Appointment, Evening, EveningTeacher

ATTENDED = Appointment.Attendance.ATTENDED
DID_NOT_ATTEND = Appointment.Attendance.DID_NOT_ATTEND


@dataclass
class Figures:
    attended: int = 0
    did_not_attend: int = 0
    not_marked: int = 0

    @property
    def total(self) -> int:
        return self.attended + self.did_not_attend + self.not_marked

    @property
    def marked(self) -> int:
        return self.attended + self.did_not_attend

    @property
    def attended_percent(self) -> int | None:
        """Attended as a whole percentage of those marked (None when none are)."""
        return round(100 * self.attended / self.marked) if self.marked else None


@dataclass
class EveningFigures:
    overall: Figures
    by_teacher: list[tuple[EveningTeacher, Figures]]
    by_year: list[tuple[int | None, Figures]]


def confirmed(evening: Evening) -> QuerySet[Appointment]:
    return Appointment.objects.filter(evening=evening, status=Appointment.Status.CONFIRMED)


_COUNTS = {
    "attended": Count("pk", filter=Q(attendance=ATTENDED)),
    "did_not_attend": Count("pk", filter=Q(attendance=DID_NOT_ATTEND)),
    "not_marked": Count("pk", filter=~Q(attendance__in=[ATTENDED, DID_NOT_ATTEND])),
}


def evening_figures(evening: Evening) -> EveningFigures:
    """The evening's figures: overall, each teacher with appointments (by name) and each
    year group (by year; pupils with no year last)."""
    overall = Figures(**confirmed(evening).aggregate(**_COUNTS))
    teacher_rows = {
        row.pop("teacher"): Figures(**row)
        for row in confirmed(evening).order_by().values("teacher").annotate(**_COUNTS)
    }
    teachers = EveningTeacher.objects.filter(pk__in=list(teacher_rows)).select_related("staff")
    by_teacher = [(t, teacher_rows[t.pk]) for t in teachers.order_by("staff__surname", "pk")]
    year_rows = [
        (row.pop("pupil__year_group"), row)
        for row in confirmed(evening).order_by().values("pupil__year_group").annotate(**_COUNTS)
    ]
    by_year = [
        (year, Figures(**row))
        for year, row in sorted(year_rows, key=lambda r: (r[0] is None, r[0] or 0))
    ]
    return EveningFigures(overall=overall, by_teacher=by_teacher, by_year=by_year)
