from django.db import models


class Heartbeat(models.Model):
    """When a background part last showed it was alive: one row per part ("scheduler",
    "worker"), overwritten in place, so the table never grows."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
