"""The scheduler: each job runs once per time slot, however many schedulers run."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from schoolgate.scheduler import registry
from schoolgate.scheduler.models import ScheduledRun

NOW = datetime(2026, 3, 29, 0, 50, 10, tzinfo=UTC)  # the night the clocks go forward


@pytest.fixture
def job():
    """A job that records each time it runs, registered only for the test."""
    calls = []
    registry.register("test.job", 15, lambda: calls.append(1))
    yield calls
    registry.unregister("test.job")


def test_job_runs_once_per_slot(job):
    assert "test.job" in registry.run_due_jobs(NOW)
    assert "test.job" not in registry.run_due_jobs(NOW + timedelta(minutes=4))
    assert len(job) == 1
    assert "test.job" in registry.run_due_jobs(NOW + timedelta(minutes=10))  # 01:00 slot
    assert len(job) == 2
    assert list(ScheduledRun.objects.filter(job="test.job").values_list("slot", flat=True)) == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 45, tzinfo=UTC),
    ]


def test_slots_are_cut_in_utc_from_the_epoch():
    assert registry.slot_start(NOW, 15) == datetime(2026, 3, 29, 0, 45, tzinfo=UTC)
    assert registry.slot_start(NOW, 60 * 24) == datetime(2026, 3, 29, tzinfo=UTC)


def test_a_job_that_fails_releases_its_slot_for_the_next_try():
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("queue unavailable")

    registry.register("test.flaky", 15, flaky)
    try:
        assert "test.flaky" not in registry.run_due_jobs(NOW)
        assert not ScheduledRun.objects.filter(job="test.flaky").exists()
        assert "test.flaky" in registry.run_due_jobs(NOW)
    finally:
        registry.unregister("test.flaky")
    assert len(attempts) == 2


def test_old_claims_are_pruned(job):
    registry.run_due_jobs(NOW - timedelta(days=8))
    registry.run_due_jobs(NOW)
    assert ScheduledRun.objects.filter(job="test.job").count() == 1


def test_two_schedulers_claiming_the_same_slot_run_the_job_once(transactional_db):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:"):
        pytest.skip("threads need a database file or PostgreSQL, not in-memory SQLite")
    calls = []
    barrier = threading.Barrier(2)

    def slow_job():
        calls.append(threading.get_ident())

    registry.register("test.race", 15, slow_job)
    results = []

    def scheduler():
        barrier.wait()
        try:
            results.append(registry.run_due_jobs(NOW))
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        registry.unregister("test.race")
    assert len(calls) == 1
    assert sorted("test.race" in ran for ran in results) == [False, True]
    assert ScheduledRun.objects.filter(job="test.race").count() == 1


def test_scheduler_command_once_enqueues_due_jobs(job, capsys):
    call_command("scheduler", "--once")
    out = capsys.readouterr().out
    assert "test.job" in out
    assert len(job) == 1
