"""The heartbeat: every minute the scheduler beats and enqueues a task; a worker that
runs it beats too. /healthz reads both, so a stopped scheduler or a stopped (or stuck)
worker shows within minutes, whichever machines they run on."""

from datetime import timedelta

from django.tasks import TaskResultStatus, task
from django.utils import timezone

from schoolgate.ops.models import Heartbeat
from schoolgate.scheduler.registry import register

SCHEDULER = "scheduler"
WORKER = "worker"
EVERY_MINUTES = 1


def beat(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@task
def worker_heartbeat() -> None:
    """Run by a task worker: proves one is taking tasks off the queue."""
    beat(WORKER)
    _prune_finished()


def scheduler_heartbeat() -> None:
    """Run by the scheduler: beat, and ask a worker to beat unless one is already asked."""
    beat(SCHEDULER)
    if not _heartbeat_waiting():
        worker_heartbeat.enqueue()


def _heartbeat_waiting() -> bool:
    """Whether a heartbeat task is already queued (no pile of them while workers are down)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another task backend: nothing to look up
        return False
    return DBTaskResult.objects.filter(
        task_path=worker_heartbeat.module_path, status=TaskResultStatus.READY
    ).exists()


# Finished task results nobody reads: the heartbeat's, the email sender's, and the
# forgotten-password and new-link lookups' (which hold the email or id typed in).
PRUNED_AT_ONCE = [
    "schoolgate.ops.tasks.worker_heartbeat",
    "schoolgate.outbox.tasks.send_queued_email",
    "schoolgate.accounts.tasks.send_reset_if_account",
    "schoolgate.accounts.tasks.send_new_link_if_account",
]
# Any other finished result (syncs, reminders, retention) is kept this long to look into.
KEEP_FINISHED = timedelta(days=7)


def _prune_finished() -> None:
    """Delete finished task results once run (the heartbeat alone makes 1,440 a day),
    others after KEEP_FINISHED; and failed sign-ins that no longer count."""
    from schoolgate.accounts import lockout

    lockout.prune()
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:
        return
    finished = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    )
    finished.filter(task_path__in=PRUNED_AT_ONCE).delete()
    finished.filter(finished_at__lt=timezone.now() - KEEP_FINISHED).delete()


@task
def apply_retention_task() -> dict:
    from schoolgate.ops.retention import apply_retention

    return apply_retention().as_dict()


def enqueue_retention() -> None:
    apply_retention_task.enqueue()


register("ops.heartbeat", EVERY_MINUTES, scheduler_heartbeat)
register("ops.retention", 24 * 60, enqueue_retention)
