"""The scheduled drop-folder sync: what it takes, how it files it away, and its task."""

import json
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from schoolgate.mis.dropfolder import LOCK_NAME, REPORT_NAME, sync_drop_folder
from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.tasks import sync_drop_folder_task
from schoolgate.scheduler.registry import run_due_jobs

PUPILS = (
    "pupil_id,legal_forename,legal_surname,year_group,contact_id,contact_forename,"
    "contact_surname,contact_email,parental_responsibility,priority\n"
    "1001,Amelia,Okafor,7,C501,Grace,Okafor,grace@example.org,yes,1\n"
)
TIMETABLE = (
    "group_id,group_type,group_name,subject,year_group,member_type,member_id,"
    "title,forename,surname,email,role\n"
    "7MA1,class,7 Maths,Mathematics,7,teacher,T1,Mr,Sam,Haddad,sam@school.example.org,Teacher\n"
    "7MA1,class,7 Maths,Mathematics,7,pupil,1001,,,,,\n"
)


@pytest.fixture
def drop() -> Path:
    folder = Path(settings.SCHOOLGATE["SYNC_DROP_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def put(folder: Path, name: str, text: str, *, age: float = 60) -> Path:
    """A file as if it had finished arriving `age` seconds ago."""
    path = folder / name
    path.write_text(text)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def only_child(folder: Path) -> Path:
    [child] = folder.iterdir()
    return child


def test_waiting_files_sync_together_and_move_to_processed(drop):
    put(drop, "pupils.csv", PUPILS)
    put(drop, "timetable.csv", TIMETABLE)
    run = sync_drop_folder()
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.trigger == SyncRun.Trigger.SCHEDULED
    assert run.files == ["pupils.csv", "timetable.csv"]
    assert Pupil.objects.filter(mis_id="1001", groups__mis_id="7MA1").exists()
    batch = only_child(drop / "processed")
    assert f"run{run.pk}" in batch.name
    assert sorted(p.name for p in batch.iterdir()) == ["pupils.csv", REPORT_NAME, "timetable.csv"]
    assert json.loads((batch / REPORT_NAME).read_text())["status"] == "succeeded"
    assert not (drop / "pupils.csv").exists()


def test_bad_files_move_to_failed_and_change_nothing(drop):
    put(drop, "pupils.csv", PUPILS.replace(",7,C501", ",99,C501"))
    run = sync_drop_folder()
    assert run.status == SyncRun.Status.FAILED
    assert run.errors and run.errors[0]["field"] == "year_group"
    assert not Pupil.objects.exists()
    batch = only_child(drop / "failed")
    assert (batch / "pupils.csv").exists()
    report = json.loads((batch / REPORT_NAME).read_text())
    assert report["errors"][0]["line"] == 2
    assert not (drop / "processed").exists()


def test_files_still_arriving_and_hidden_files_wait(drop):
    put(drop, "pupils.csv", PUPILS, age=0)
    put(drop, ".pupils.csv.part", PUPILS)
    assert sync_drop_folder() is None
    assert not SyncRun.objects.exists()
    assert (drop / "pupils.csv").exists() and (drop / ".pupils.csv.part").exists()


def test_nothing_waiting_makes_no_run(drop):
    assert sync_drop_folder() is None
    assert not SyncRun.objects.exists()


def test_a_second_worker_leaves_the_folder_to_the_first(drop):
    import fcntl

    put(drop, "pupils.csv", PUPILS)
    with (drop / LOCK_NAME).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert sync_drop_folder() is None
    assert (drop / "pupils.csv").exists()
    assert sync_drop_folder().status == SyncRun.Status.SUCCEEDED


def test_task_syncs_the_drop_folder(drop):
    put(drop, "pupils.csv", PUPILS)
    run_id = sync_drop_folder_task.call()
    assert SyncRun.objects.get(pk=run_id).status == SyncRun.Status.SUCCEEDED


def test_scheduler_enqueues_the_drop_folder_task_once_per_slot():
    from django.utils import timezone

    now = timezone.now()
    assert "mis.sync_drop_folder" in run_due_jobs(now)
    assert "mis.sync_drop_folder" not in run_due_jobs(now)
    queued = DBTaskResult.objects.filter(task_path__endswith="sync_drop_folder_task")
    assert queued.count() == 1
