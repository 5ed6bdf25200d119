"""The drop folder: an MIS (or a script) exports files into a folder, and the scheduler
syncs whatever has arrived, all together as one run.

After the run the files move to `processed/<stamp>/`, `failed/<stamp>/` or (a large
change waiting to be confirmed on the Sync page) `held/<stamp>/` beside a
`schoolgate-report.json`, so the folder only ever holds what has not been synced yet."""

import fcntl
import json
import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from schoolgate.mis.models import SyncRun
from schoolgate.mis.sync import sync_mis

logger = logging.getLogger(__name__)

# A file written to in the last few seconds may still be arriving.
SETTLE_SECONDS = 10
PROCESSED = "processed"
FAILED = "failed"
HELD = "held"
LOCK_NAME = ".schoolgate-sync.lock"
REPORT_NAME = "schoolgate-report.json"


def drop_dir() -> Path:
    return Path(settings.SCHOOLGATE["SYNC_DROP_DIR"])


def waiting_files(folder: Path, *, now: float | None = None, settle_seconds=SETTLE_SECONDS):
    """Complete files waiting in the folder, sorted by name: not hidden, not written to in
    the last few seconds. A sub-folder (a OneRoster bundle) counts as one file."""
    now = time.time() if now is None else now
    found = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name in (PROCESSED, FAILED, HELD):
            continue
        if not (path.is_file() or path.is_dir()):
            continue
        if now - _last_modified(path) < settle_seconds:
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.name)


def _last_modified(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max([path.stat().st_mtime] + [p.stat().st_mtime for p in path.rglob("*")])


def sync_drop_folder(*, folder: Path | None = None, settle_seconds=SETTLE_SECONDS):
    """Sync the files waiting in the drop folder as one run; None when none are waiting.

    A lock file keeps two workers from taking the same files."""
    folder = folder or drop_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("Drop folder %s is being synced by another worker", folder)
            return None
        try:
            paths = waiting_files(folder, settle_seconds=settle_seconds)
            if not paths:
                return None
            run = sync_mis(paths, trigger=SyncRun.Trigger.SCHEDULED)
            _file_away(run, paths, folder)
            return run
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _file_away(run: SyncRun, paths: list[Path], folder: Path) -> None:
    succeeded = run.status == SyncRun.Status.SUCCEEDED
    held = run.status == SyncRun.Status.HELD
    stamp = timezone.localtime(run.started_at).strftime("%Y-%m-%dT%H%M%S")
    where = PROCESSED if succeeded else HELD if held else FAILED
    target = folder / where / f"{stamp}-run{run.pk}"
    target.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.move(path, target / path.name)
    report = {
        "run_id": run.pk,
        "status": run.status,
        "counts": run.counts,
        "warnings": run.warnings,
        "errors": run.errors,
        "held": run.hold.get("counts") if held else None,
    }
    (target / REPORT_NAME).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    log = logger.info if succeeded else logger.warning
    log("Drop folder sync %s %s; files moved to %s", run.pk, run.status, target)
