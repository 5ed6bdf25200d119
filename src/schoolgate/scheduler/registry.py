"""Scheduled jobs: `register(name, every_minutes, func)` and `run_due_jobs(now)`.

Time is cut into slots of `every_minutes` (counted from the Unix epoch, in UTC). A job
is due once per slot; it runs only after its (job, slot) row has been inserted, and the
row is unique, so several schedulers running at once run each job once per slot.
Jobs should enqueue tasks rather than do the work: the task row commits with the claim.
Missed slots (the scheduler was down) are not caught up: the next slot runs as usual."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)

# Claims older than this are deleted; they only need to outlive their slot.
KEEP_CLAIMS = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    name: str
    every_minutes: int
    func: Callable[[], object]


_jobs: dict[str, Job] = {}


def register(name: str, every_minutes: int, func: Callable[[], object]) -> None:
    """Run `func` once every `every_minutes`; registering a name again replaces it."""
    if every_minutes < 1:
        raise ValueError(f"job {name!r}: every_minutes must be at least 1")
    _jobs[name] = Job(name, every_minutes, func)


def unregister(name: str) -> None:
    _jobs.pop(name, None)


def jobs() -> dict[str, Job]:
    return dict(_jobs)


def autodiscover() -> None:
    """Import every installed app's `tasks` module, where jobs are registered."""
    autodiscover_modules("tasks")


def slot_start(now: datetime, every_minutes: int) -> datetime:
    """The start of the slot that `now` falls in."""
    period = timedelta(minutes=every_minutes)
    return EPOCH + ((now - EPOCH) // period) * period


def run_due_jobs(now: datetime | None = None) -> list[str]:
    """Claim and run every job whose current slot nobody has claimed yet.

    Returns the names of the jobs this call ran. A job that raises releases its claim
    (the transaction rolls back), so the next call tries it again."""
    from schoolgate.scheduler.models import ScheduledRun

    now = now or timezone.now()
    ran = []
    for job in list(_jobs.values()):
        slot = slot_start(now, job.every_minutes)
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job=job.name, slot=slot)
                job.func()
        except IntegrityError:
            continue  # another scheduler has this slot
        except Exception:
            logger.exception("Scheduled job %s (slot %s) failed", job.name, slot.isoformat())
            continue
        ran.append(job.name)
    ScheduledRun.objects.filter(slot__lt=now - KEEP_CLAIMS).delete()
    return ran
