"""The background task that sends the outbox, and the one way to wake it."""

from django.db.models import Q
from django.tasks import TaskResultStatus, default_task_backend, task
from django.utils import timezone

from schoolgate.outbox import sending
from schoolgate.scheduler.registry import register


@task()
def send_queued_email() -> dict:
    """Send every due message, then book a run for the next retry, if any."""
    counts = sending.drain()
    _schedule_next()
    return counts


def wake_sender() -> None:
    """Enqueue a send now, unless one is already waiting to run (no pile of task rows)."""
    if _pending_task_before(timezone.now()):
        return
    send_queued_email.enqueue()


def _schedule_next() -> None:
    due_at = sending.next_due_at()
    if due_at is None or not default_task_backend.supports_defer:
        return
    if _pending_task_before(due_at):
        return
    send_queued_email.using(run_after=max(due_at, timezone.now())).enqueue()


def _pending_task_before(moment) -> bool:
    """Whether a send task is already waiting to run no later than `moment`."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult, get_date_max
    except ImportError:  # another task backend: nothing to look up
        return False
    # Not `default_task_backend`: that is a proxy, never an instance of any backend, so
    # the check always failed and every commit enqueued another send task.
    if not isinstance(send_queued_email.get_backend(), DatabaseBackend):
        return False
    # The backend stores "no run_after" as the largest date: such a task runs at once.
    return (
        DBTaskResult.objects.filter(
            task_path=send_queued_email.module_path, status=TaskResultStatus.READY
        )
        .filter(Q(run_after=get_date_max()) | Q(run_after__lte=moment))
        .exists()
    )


def wake_if_due() -> None:
    """Scheduled every minute: enqueue a send when something is due. A worker killed
    while sending leaves leased rows and no task to retry them once the lease expires;
    without this they would wait for the next email someone queues."""
    due_at = sending.next_due_at()
    if due_at is not None and due_at <= timezone.now():
        wake_sender()


register("outbox.wake", 1, wake_if_due)
