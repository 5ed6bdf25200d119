"""/healthz: database, migrations, worker and scheduler heartbeats, and the outbox."""

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from schoolgate.ops import health
from schoolgate.ops.models import Heartbeat
from schoolgate.ops.tasks import SCHEDULER, WORKER, scheduler_heartbeat, worker_heartbeat
from schoolgate.outbox.models import OutboxMessage
from schoolgate.scheduler.registry import run_due_jobs


@pytest.fixture
def beating():
    """A worker and a scheduler that beat a moment ago."""
    now = timezone.now()
    for name in (WORKER, SCHEDULER):
        Heartbeat.objects.update_or_create(name=name, defaults={"at": now})


def message(*, to="someone.private@example.org", status=OutboxMessage.Status.QUEUED, **fields):
    return OutboxMessage.objects.create(
        to=to,
        template="invitation",
        subject="Set your password",
        body_text="x",
        status=status,
        **fields,
    )


def test_healthy_installation_answers_200_with_every_check(client, beating):
    response = client.get("/healthz")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"database", "migrations", "worker", "scheduler", "outbox"}
    assert all(check["ok"] for check in report["checks"].values())
    assert report["checks"]["outbox"]["backlog"] == 0
    assert response["Cache-Control"].startswith("max-age=0")


def test_no_heartbeat_yet_is_unhealthy(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {
        "ok": False,
        "last_beat": None,
        "age_seconds": None,
    }


def test_stale_worker_heartbeat_is_unhealthy(client, beating, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "HEALTH_HEARTBEAT_MINUTES": 5}
    Heartbeat.objects.filter(name=WORKER).update(at=timezone.now() - timedelta(minutes=6))
    response = client.get("/healthz")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "failing"
    assert report["checks"]["worker"]["ok"] is False
    assert report["checks"]["worker"]["age_seconds"] >= 360
    assert report["checks"]["scheduler"]["ok"] is True


def test_failed_outbox_backlog_is_unhealthy_without_naming_anyone(client, beating, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "HEALTH_OUTBOX_FAILED": 2}
    for _ in range(3):
        message(status=OutboxMessage.Status.FAILED)
    # Failed long ago: counted, but no longer a reason to be unhealthy.
    message(status=OutboxMessage.Status.FAILED, next_attempt_at=timezone.now() - timedelta(days=3))
    response = client.get("/healthz")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox == {
        "ok": False,
        "backlog": 0,
        "oldest_queued_seconds": None,
        "failed": 4,
        "failed_last_day": 3,
    }
    assert b"private" not in response.content and b"Set your password" not in response.content


def test_email_waiting_too_long_is_unhealthy(client, beating, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "HEALTH_OUTBOX_MINUTES": 30}
    message(created_at=timezone.now() - timedelta(minutes=5))
    assert client.get("/healthz").status_code == 200
    message(created_at=timezone.now() - timedelta(minutes=45))
    response = client.get("/healthz")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["backlog"] == 2 and outbox["oldest_queued_seconds"] >= 45 * 60


def test_pending_migrations_are_unhealthy(client, beating, monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    MigrationRecorder.Migration.objects.filter(app="ops", name="0001_initial").delete()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {"ok": False, "pending": 1}


def test_database_down_is_unhealthy_and_checks_nothing_else(client, beating):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["outbox"] == {"ok": False, "error": "database unavailable"}


def test_a_failing_probe_writes_no_error_line(client, caplog):
    assert client.get("/healthz").status_code == 503  # no heartbeats
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_load_balancer_can_ask_for_the_web_checks_only(client):
    # No heartbeats at all: the web servers can still serve pages.
    response = client.get("/healthz?checks=database,migrations")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "migrations"}
    assert client.get("/healthz?checks=database,disk").status_code == 400


def test_answers_any_host_name_and_plain_http(client, beating, settings):
    # Load balancers probe by IP address, over HTTP, inside the private network.
    settings.ALLOWED_HOSTS = ["parents.example.sch.uk"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", headers={"host": "10.0.0.7:8000"}).status_code == 200


def test_healthz_is_cheap(client, beating, django_assert_max_num_queries):
    client.get("/healthz")  # the migration check reads the migration table once
    with django_assert_max_num_queries(3):
        assert client.get("/healthz").status_code == 200


def test_scheduler_beats_and_a_worker_running_the_task_beats_too():
    from django_tasks_db.models import DBTaskResult

    scheduler_heartbeat()
    scheduler_heartbeat()  # a heartbeat is already waiting: no second one
    waiting = DBTaskResult.objects.filter(task_path=worker_heartbeat.module_path)
    assert waiting.count() == 1
    assert Heartbeat.objects.filter(name=SCHEDULER).exists()
    assert not Heartbeat.objects.filter(name=WORKER).exists()
    worker_heartbeat.call()
    assert Heartbeat.objects.filter(name=WORKER).exists()


def test_heartbeat_is_a_scheduled_job_every_minute():
    start = timezone.now().replace(second=0, microsecond=0)
    assert "ops.heartbeat" in run_due_jobs(start)
    assert "ops.heartbeat" not in run_due_jobs(start + timedelta(seconds=30))
    assert "ops.heartbeat" in run_due_jobs(start + timedelta(minutes=1))
