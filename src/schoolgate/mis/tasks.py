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
