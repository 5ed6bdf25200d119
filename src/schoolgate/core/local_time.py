"""Times on the school's clock: the one place that turns a local date and time into
an aware datetime, refusing a time the clocks skip (the spring change) instead of
silently moving it. docs/architecture.md rule 7."""

from datetime import UTC, datetime

from django.utils import timezone


class SkippedTime(ValueError):
    """The local time does not exist on that date: the clocks go forward over it."""

    def __init__(self, naive: datetime):
        super().__init__(f"{naive:%H:%M} does not exist on {naive:%Y-%m-%d}")
        self.naive = naive


def school_zone():
    return timezone.get_default_timezone()


def aware_local(naive: datetime, zone=None) -> datetime:
    """`naive` (a wall-clock time) on the school's clock, or SkippedTime."""
    zone = zone or school_zone()
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise SkippedTime(naive)
    return aware
