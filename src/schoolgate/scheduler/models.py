from django.db import models


class ScheduledRun(models.Model):
    """A claim on one job's time slot: the unique row is what makes a job run once per
    slot however many schedulers are running."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="unique_job_slot"),
        ]
        ordering = ["-slot", "job"]

    def __str__(self):
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"
