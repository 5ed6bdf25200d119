"""Background tasks of the MIS app, and the scheduled jobs that enqueue them."""

from django.conf import settings
from django.tasks import task

from schoolgate.mis.dropfolder import sync_drop_folder
from schoolgate.scheduler.registry import register


@task
def sync_drop_folder_task() -> int | None:
    """Sync what is waiting in the drop folder; the SyncRun id, or None if nothing was."""
    run = sync_drop_folder()
    return run.pk if run else None


def enqueue_drop_folder_sync() -> None:
    sync_drop_folder_task.enqueue()


EVERY_MINUTES = settings.SCHOOLGATE.get("SYNC_DROP_MINUTES", 15)
if EVERY_MINUTES > 0:
    register("mis.sync_drop_folder", EVERY_MINUTES, enqueue_drop_folder_sync)


@task
def pull_data_source_task() -> int | None:
    """Pull from the configured OneRoster or Wonde service; the SyncRun id, or None."""
    from schoolgate.mis.connectors.pull import pull_configured

    run = pull_configured()
    return run.pk if run else None


def enqueue_due_pulls() -> None:
    from schoolgate.mis.connectors.pull import claim_due_pulls

    claim_due_pulls(pull_data_source_task.enqueue)


# Checked every 5 minutes; each configured time of day is claimed once (see pull.py).
register("mis.pull_data_source", 5, enqueue_due_pulls)
