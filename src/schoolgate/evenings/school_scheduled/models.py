"""School-scheduled evenings (docs/school-scheduled-evenings.md): families' wishes,
teachers' flags, and the schedule the school built from them.

Nothing here is an appointment: publishing turns the built schedule into ordinary
appointments through the booking engine. These models belong to the evenings app
(imported by evenings/models.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schoolgate.mis.models import Pupil

# By name, not import: evenings/models.py imports this module, so importing it back
# would be a cycle (docs/architecture.md).
Evening = "evenings.Evening"
EveningTeacher = "evenings.EveningTeacher"

__all__ = ["FamilyWish", "MeetingWish", "ScheduledEvening", "TeacherFlag"]

DEFAULT_TIME_LIMIT = 30


class ScheduledEvening(models.Model):
    """The school-scheduled part of an evening: open for wishes, built, published."""

    class State(models.TextChoices):
        OPEN = "open", _("Open for wishes")
        BUILT = "built", _("Built, waiting for review")
        PUBLISHED = "published", _("Published")

    evening = models.OneToOneField(
        Evening, primary_key=True, on_delete=models.CASCADE, related_name="scheduled"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    wishes_close = models.DateTimeField(_("wishes close"))
    time_limit_seconds = models.PositiveSmallIntegerField(
        _("time the solver may take (seconds)"), default=DEFAULT_TIME_LIMIT
    )
    # The built schedule (solver.Result.as_json): meetings, figures, what was left out.
    result = models.JSONField(default=dict, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"{self.evening} ({self.state})"

    def open_for_wishes(self, now=None) -> bool:
        return self.state == self.State.OPEN and (now or timezone.now()) < self.wishes_close


class FamilyWish(models.Model):
    """One parent's wishes for one evening: when they can come, and whether their
    children's meetings should be one visit."""

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="family_wishes")
    parent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Local times of day (the school's time zone), on every day of the evening.
    arrive_after = models.TimeField(_("we can arrive from"), null=True, blank=True)
    leave_by = models.TimeField(_("we must leave by"), null=True, blank=True)
    one_visit = models.BooleanField(_("one visit for all our children"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evening", "parent"], name="one_wish_per_parent"),
            models.CheckConstraint(
                condition=models.Q(arrive_after__isnull=True)
                | models.Q(leave_by__isnull=True)
                | models.Q(leave_by__gt=models.F("arrive_after")),
                name="wish_window_order",
            ),
        ]


class MeetingWish(models.Model):
    """A teacher a family wants to see about one child; rank 1 matters most."""

    family = models.ForeignKey(FamilyWish, on_delete=models.CASCADE, related_name="meetings")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    teacher = models.ForeignKey(EveningTeacher, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["pupil_id", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "pupil", "teacher"], name="one_wish_per_teacher"
            ),
            models.CheckConstraint(condition=models.Q(rank__gt=0), name="wish_rank_positive"),
        ]


class TeacherFlag(models.Model):
    """A teacher's word on one of their pupils: must see, or not needed."""

    class Flag(models.TextChoices):
        MUST = "must", _("I must see this pupil's family")
        NOT_NEEDED = "not_needed", _("No meeting needed")

    evening = models.ForeignKey(Evening, on_delete=models.CASCADE, related_name="teacher_flags")
    teacher = models.ForeignKey(EveningTeacher, on_delete=models.CASCADE, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="+")
    flag = models.CharField(max_length=10, choices=Flag.choices)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teacher", "pupil"], name="one_flag_per_pupil"),
        ]
