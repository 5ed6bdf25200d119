"""The one clock the live and video pages read, so that tests can freeze it.

Tests set the time with `frozen_at(when)` (the browser tests' live server runs in this
process, so the pages see it too); everything else gets Django's `timezone.now()`."""

from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_frozen: list[datetime] = []


def now() -> datetime:
    return _frozen[-1] if _frozen else timezone.now()


@contextmanager
def frozen_at(when: datetime):
    _frozen.append(when)
    try:
        yield
    finally:
        _frozen.pop()


def set_frozen(when: datetime | None) -> None:
    """Move a frozen clock on (or unfreeze it with None) from a test."""
    _frozen.clear()
    if when is not None:
        _frozen.append(when)
