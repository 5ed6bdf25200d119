"""Background tasks of the evenings app, and the scheduled jobs that enqueue them."""

from datetime import datetime

from django.conf import settings
from django.tasks import task

from schoolgate.evenings.comms.notifications import queue_due_reminders
from schoolgate.evenings.running import waiting
from schoolgate.scheduler.registry import register


@task
def send_day_before_reminders(at: str | None = None) -> int:
    """Queue every due day-before reminder not yet sent (see notifications.py); `at`
    (an ISO date-time) stands for now, for tests and catching up by hand."""
    return queue_due_reminders(now=datetime.fromisoformat(at) if at else None)


def enqueue_day_before_reminders() -> None:
    send_day_before_reminders.enqueue()


# Every 15 minutes: a reminder goes at the first run after REMINDER_HOUR (17:00) on
# the day before, or later that day if the scheduler or workers were down.
EVERY_MINUTES = settings.SCHOOLGATE.get("REMINDER_CHECK_MINUTES", 15)
if EVERY_MINUTES > 0:
    register("evenings.day_before_reminders", EVERY_MINUTES, enqueue_day_before_reminders)


@task
def run_waiting_lists(at: str | None = None) -> dict:
    """Settle waiting-list offers and offer freed slots (see running/waiting.py)."""
    return waiting.run_waiting_lists(now=datetime.fromisoformat(at) if at else None)


def wake_waiting_lists(sender, *, evening_id: int, teacher_ids, **kwargs) -> bool:
    """Receiver of booking's `time_freed`: when families wait for one of these
    teachers, queue the job's task in the change's transaction (it runs once the
    change commits). Returns whether it did."""
    if not waiting.families_wait(evening_id=evening_id, teacher_ids=teacher_ids):
        return False
    run_waiting_lists.enqueue()
    return True


def enqueue_waiting_lists() -> None:
    run_waiting_lists.enqueue()


# Every minute: a freed slot is offered to the next family within a minute or so.
register("evenings.waiting_lists", 1, enqueue_waiting_lists)
