"""/healthz: is this installation working? For load balancers and monitoring.

No authentication and no personal data: counts, ages and yes/no answers only. A few
cheap queries: `SELECT 1`, the heartbeat rows, one aggregate over the outbox's
unsent and failed rows, and the migration table until it has once been up to date."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min, Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from schoolgate.core.access import public

# Set once the migrations are found applied: they stay applied while this code runs,
# and the check reads every migration file from disk.
_migrations_applied = False

CHECKS = ("database", "migrations", "worker", "scheduler", "outbox")


def limits() -> dict:
    ops = settings.SCHOOLGATE
    return {
        "heartbeat_minutes": ops.get("HEALTH_HEARTBEAT_MINUTES", 5),
        "outbox_queued_minutes": ops.get("HEALTH_OUTBOX_MINUTES", 30),
        "outbox_failed_per_day": ops.get("HEALTH_OUTBOX_FAILED", 25),
    }


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The class name only: the message may name hosts and users.
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def check_migrations() -> dict:
    global _migrations_applied
    if _migrations_applied:
        return {"ok": True, "pending": 0}
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrations_applied = not plan
    return {"ok": not plan, "pending": len(plan)}


def check_heartbeats(*, now) -> dict:
    """The worker and scheduler checks, from one read of the heartbeat rows."""
    from schoolgate.ops.models import Heartbeat
    from schoolgate.ops.tasks import SCHEDULER, WORKER

    max_age = timedelta(minutes=limits()["heartbeat_minutes"])
    beats = dict(Heartbeat.objects.filter(name__in=[WORKER, SCHEDULER]).values_list("name", "at"))
    result = {}
    for name in (WORKER, SCHEDULER):
        at = beats.get(name)
        if at is None:
            result[name] = {"ok": False, "last_beat": None, "age_seconds": None}
            continue
        age = max((now - at).total_seconds(), 0)
        result[name] = {
            "ok": age <= max_age.total_seconds(),
            "last_beat": at.isoformat(),
            "age_seconds": round(age),
        }
    return result


def check_outbox(*, now) -> dict:
    from schoolgate.outbox.models import OutboxMessage

    Status = OutboxMessage.Status
    unsent = Q(status__in=[Status.QUEUED, Status.SENDING])
    day_ago = now - timedelta(days=1)
    # A failed message's next_attempt_at is left at its last attempt.
    figures = OutboxMessage.objects.filter(
        status__in=[Status.QUEUED, Status.SENDING, Status.FAILED]
    ).aggregate(
        backlog=Count("id", filter=unsent),
        oldest=Min("created_at", filter=unsent),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        failed_last_day=Count("id", filter=Q(status=Status.FAILED, next_attempt_at__gte=day_ago)),
    )
    oldest = figures["oldest"]
    oldest_age = round(max((now - oldest).total_seconds(), 0)) if oldest else None
    bounds = limits()
    ok = (oldest_age is None or oldest_age <= bounds["outbox_queued_minutes"] * 60) and figures[
        "failed_last_day"
    ] <= bounds["outbox_failed_per_day"]
    return {
        "ok": ok,
        "backlog": figures["backlog"],
        "oldest_queued_seconds": oldest_age,
        "failed": figures["failed"],
        "failed_last_day": figures["failed_last_day"],
    }


def health(*, only: list[str] | None = None) -> dict:
    """{"status": "ok" | "failing", "checks": {name: {"ok": ..., ...}}}."""
    wanted = [name for name in CHECKS if not only or name in only]
    now = timezone.now()
    checks: dict[str, dict] = {}
    database = check_database()
    if "database" in wanted:
        checks["database"] = database
    if not database["ok"]:
        # Everything else reads the database: report it unknown rather than fail twice.
        for name in wanted:
            checks.setdefault(name, {"ok": False, "error": "database unavailable"})
    else:
        try:
            if "migrations" in wanted:
                checks["migrations"] = check_migrations()
            if "worker" in wanted or "scheduler" in wanted:
                beats = check_heartbeats(now=now)
                checks.update({name: beats[name] for name in beats if name in wanted})
            if "outbox" in wanted:
                checks["outbox"] = check_outbox(now=now)
        except DatabaseError as error:
            # Tables missing (never migrated) or the database went away mid-check.
            for name in wanted:
                checks.setdefault(name, {"ok": False, "error": type(error).__name__})
    status = "ok" if all(check["ok"] for check in checks.values()) else "failing"
    return {"status": status, "checks": checks}


@public
@never_cache
def healthz(request):
    """200 when every check passes, else 503. `?checks=database,migrations` limits the
    checks, e.g. for a load balancer that should not drop web servers when a worker stops."""
    only = [name.strip() for name in request.GET.get("checks", "").split(",") if name.strip()]
    unknown = sorted(set(only) - set(CHECKS))
    if unknown:
        return JsonResponse(
            {"error": f"unknown checks: {', '.join(unknown)}", "checks": list(CHECKS)},
            status=400,
        )
    report = health(only=only)
    response = JsonResponse(report, status=200 if report["status"] == "ok" else 503)
    # Probed every few seconds: a failing check is in the body, not an error line a probe.
    response._has_been_logged = True
    return response
