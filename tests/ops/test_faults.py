"""Faults, with real processes on PostgreSQL and a real SMTP server: a task worker
killed while sending invitations, the SMTP server down for a while, PostgreSQL
restarted during a rush of parents.

The process tests run only with CI_FAULTS=1 (a step of their own in .ci/run): the
restart stops the whole PostgreSQL server, which would break anyone else's test run on
it. During development, FAULT_PG_OUTAGE=database shuts out this test's database only
(connections cut and refused) instead of restarting the server."""

import asyncio
import contextlib
import http.client
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from ops_helpers import SCHOOLGATE, command_env, free_port, get
from school import ALL_COUNTS

from schoolgate.accounts.generation import generate_accounts
from schoolgate.ops.models import Heartbeat
from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.tasks import send_queued_email, wake_if_due
from schoolgate.outbox.testing import SMTPServer

HERE = Path(__file__).resolve().parent
PASSWORD = "fault-test-password-123"
Status = OutboxMessage.Status

processes = pytest.mark.skipif(
    os.environ.get("CI_FAULTS") != "1" or connection.vendor != "postgresql",
    reason="process faults run in .ci/run's fault step (CI_FAULTS=1, PostgreSQL)",
)


# --- helpers --------------------------------------------------------------------------


def wait_until(condition, *, seconds: float, message: str, every: float = 0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{message} (waited {seconds:.0f} s)")


def database_url() -> str:
    """The test database, which the processes share with this test (transactional_db)."""
    s = connection.settings_dict
    password = urllib.parse.quote(s["PASSWORD"] or "")
    return f"postgres://{s['USER']}:{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(tmp_path: Path, *, smtp_port: int, **extra: str) -> dict:
    return command_env(
        tmp_path / "data",
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="fast_settings",
        PYTHONPATH=str(HERE),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="10",
        LOG_FORMAT="text",
        **extra,
    )


def ids_delivered(server: SMTPServer) -> Counter:
    return Counter(received.message["Message-ID"] for received in server.messages)


def message_ids() -> dict[int, str]:
    return {m.pk: sending.message_id(m) for m in OutboxMessage.objects.all()}


class HoldingSMTPServer(SMTPServer):
    """Takes messages as usual, except that the `hold_at`th message is held without an
    answer until `release` is set, then refused (451): the server never took it."""

    def __init__(self, *args, hold_at: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.hold_at, self.seen = hold_at, 0
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def start(run_process):
    """start(args, *, env, log): run_process, but stopped with SIGTERM at the
    end (gunicorn's workers and the database sessions go with it)."""
    started = []

    def begin(args, *, env, log):
        process = run_process(args, env=env, log=log)
        started.append(process)
        return process

    yield begin
    for process in started:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the scheduled wake-up (no processes: runs in every suite) -------------------------


def test_a_lease_left_by_a_dead_worker_is_picked_up_by_the_scheduled_wake(
    django_capture_on_commit_callbacks,
):
    """A worker killed mid-batch leaves rows leased and no task to retry them."""
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=False):
        for n in range(3):
            OutboxMessage.objects.create(to=f"p{n}@example.org", subject="s", body_text="b")
    token, claimed = sending.claim_batch()  # ...and then the worker died
    assert len(claimed) == 3
    sends = DBTaskResult.objects.filter(task_path=send_queued_email.module_path)

    wake_if_due()  # the lease has not expired: nothing to do
    assert not sends.exists()

    OutboxMessage.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    wake_if_due()
    wake_if_due()  # a send task already waiting: not a second one
    assert sends.count() == 1


def test_every_attempt_at_a_message_carries_the_same_message_id():
    message = OutboxMessage.objects.create(to="p@example.org", subject="s", body_text="b")
    first = sending._email(message, sending.current_sender()).message()["Message-ID"]
    again = sending._email(message, sending.current_sender()).message()["Message-ID"]
    other = OutboxMessage.objects.create(to="p@example.org", subject="s", body_text="b")
    assert first == again == sending.message_id(message)
    assert sending.message_id(other) != first


def test_shortened_waits_come_from_the_settings(settings):
    assert sending.lease_length() == sending.LEASE == timedelta(minutes=5)
    assert [sending.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    settings.SCHOOLGATE = {
        **settings.SCHOOLGATE,
        "OUTBOX_LEASE_SECONDS": 10,
        "OUTBOX_RETRY_SECONDS": 5,
    }
    assert sending.lease_length() == timedelta(seconds=10)
    assert [sending.backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]


# --- a worker killed while sending invitations ---------------------------------------


@processes
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_invitations_loses_nothing_and_sends_nothing_twice(
    tmp_path, start, school, parent_role
):
    smtp = HoldingSMTPServer(host="127.0.0.1", port=free_port(), hold_at=4).start()
    env = process_env(tmp_path, smtp_port=smtp.port)
    try:
        worker = start([*SCHOOLGATE, "worker"], env=env, log=tmp_path / "worker-1.log")
        # The scheduler's every-minute outbox job is what finds the expired lease.
        scheduler = start([*SCHOOLGATE, "scheduler"], env=env, log=tmp_path / "scheduler.log")
        result = generate_accounts(mode="all", actor_label="fault test")
        assert result.created == ALL_COUNTS["created"] == 8
        ids = message_ids()
        assert len(ids) == ALL_COUNTS["invited"]

        # The worker is inside the SMTP conversation of the 4th invitation: kill it.
        assert smtp.holding.wait(timeout=60), (tmp_path / "worker-1.log").read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        smtp.release.set()
        statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
        # Three went; the rest were leased by the worker that died.
        assert statuses == {Status.SENT: 3, Status.SENDING: ALL_COUNTS["invited"] - 3}

        start([*SCHOOLGATE, "worker"], env=env, log=tmp_path / "worker-2.log")
        # Lease (10 s), then the next minute's wake, then the send.
        wait_until(
            lambda: not OutboxMessage.objects.exclude(status=Status.SENT).exists(),
            seconds=120,
            message="the killed worker's invitations were never sent",
        )
        assert scheduler.poll() is None
    finally:
        smtp.release.set()
        smtp.stop()

    delivered = ids_delivered(smtp)
    assert delivered == Counter(ids.values()), "each invitation exactly once"
    attempts = sorted(OutboxMessage.objects.values_list("attempts", flat=True))
    # Those in the dead worker's lease went again.
    assert attempts == [1, 1, 1] + [2] * (ALL_COUNTS["invited"] - 3)


# --- the SMTP server down -------------------------------------------------------------


@processes
@pytest.mark.django_db(transaction=True)
def test_smtp_down_messages_wait_with_the_failure_shown_to_staff_then_go(
    tmp_path, start, school, parent_role, client
):
    down_seconds = float(os.environ.get("FAULT_SMTP_DOWN_SECONDS", "15"))
    port = free_port()  # nothing listens here yet
    env = process_env(tmp_path, smtp_port=port)
    smtp = SMTPServer(host="127.0.0.1", port=port)
    went_down = time.monotonic()
    try:
        start([*SCHOOLGATE, "worker"], env=env, log=tmp_path / "worker.log")
        start([*SCHOOLGATE, "scheduler"], env=env, log=tmp_path / "scheduler.log")
        generate_accounts(mode="all", actor_label="fault test")
        ids = message_ids()
        wait_until(
            lambda: all(
                m.status == Status.QUEUED and m.attempts >= 1 and "refused" in m.last_error
                for m in OutboxMessage.objects.all()
            ),
            seconds=60,
            message="the failed attempts were not recorded",
        )
        # Staff see what waits and why, on the outbox page.
        client.force_login(school.admin)
        page = client.get(reverse("outbox:list") + "?status=queued").content.decode()
        assert page.count("Connection refused") == ALL_COUNTS["invited"], page

        time.sleep(max(0.0, down_seconds - (time.monotonic() - went_down)))
        smtp.start()
        wait_until(
            lambda: not OutboxMessage.objects.exclude(status=Status.SENT).exists(),
            seconds=120,
            message="the messages did not go once the SMTP server was back",
        )
    finally:
        smtp.stop()
    assert ids_delivered(smtp) == Counter(ids.values())
    for message in OutboxMessage.objects.all():
        assert message.attempts >= 2 and message.last_error == ""


# --- PostgreSQL restarted during a rush ---------------------------------------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[0]


def database_down(name: str) -> None:
    if os.environ.get("FAULT_PG_OUTAGE") == "database":
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    else:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "stop"],
            check=True,
            timeout=60,
        )


def database_up(name: str) -> None:
    if os.environ.get("FAULT_PG_OUTAGE") == "database":
        admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    else:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "start"],
            check=True,
            timeout=60,
        )


def admin(sql: str) -> None:
    import psycopg

    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(sql)


class Parent(threading.Thread):
    """Signs in and opens the portal's home, again and again, until told to stop;
    records (time, status, what kind of answer) for each request."""

    def __init__(self, *, port: int, email: str, stopping: threading.Event):
        super().__init__(daemon=True)
        self.port, self.email, self.stopping = port, email, stopping
        self.log: list[tuple[float, int, str, str]] = []

    def request(self, method, path, cookies, fields=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        except OSError as error:
            self.log.append((time.monotonic(), 0, type(error).__name__, path))
            return 0, ""
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key] = rest.split(";", 1)[0]
        if response.status == 503:
            kind = "friendly" if "Sorry, the service is unavailable" in text else "bare 503"
        elif "Traceback" in text:
            kind = "traceback"
        else:
            kind = "ok"
        self.log.append((time.monotonic(), response.status, kind, path))
        return response.status, text

    def run(self):
        while not self.stopping.is_set():
            cookies = {}
            status, page = self.request("GET", "/accounts/sign-in/", cookies)
            token = CSRF.search(page)
            if status != 200 or not token:
                time.sleep(0.2)
                continue
            status, _ = self.request(
                "POST",
                "/accounts/sign-in/",
                cookies,
                {
                    "csrfmiddlewaretoken": token.group(1),
                    "username": self.email,
                    "password": PASSWORD,
                },
            )
            if status == 302:
                self.request("GET", "/parents/", cookies)


@processes
@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_during_a_rush_friendly_errors_then_recovery_without_restart(
    tmp_path, start, school, parent_role, parent_for
):
    smtp = SMTPServer(host="127.0.0.1", port=free_port()).start()
    port = free_port()
    # The parents sign in again and again from one address: the sign-in rate limit
    # (60 a minute per address) is not what this test is about.
    env = process_env(
        tmp_path, smtp_port=smtp.port, DB_CONN_MAX_AGE="60", LOG_LEVEL="WARNING", RATE_LIMITS="0"
    )
    emails = []
    for key in ("ann", "al", "cara", "gina"):
        user = parent_for(school.contacts[key])
        user.set_password(PASSWORD)
        user.save()
        emails.append(user.email)
    name = connection.settings_dict["NAME"]
    stopping = threading.Event()
    parents = []
    try:
        web = start(
            [*SCHOOLGATE, "web", "--port", str(port), "--workers", "2"],
            env=env,
            log=tmp_path / "web.log",
        )
        worker = start([*SCHOOLGATE, "worker"], env=env, log=tmp_path / "worker.log")
        scheduler = start([*SCHOOLGATE, "scheduler"], env=env, log=tmp_path / "scheduler.log")
        wait_until(
            lambda: _answers(port) == 200, seconds=60, message="the web server did not start"
        )
        parents = [Parent(port=port, email=e, stopping=stopping) for e in emails]
        for parent in parents:
            parent.start()
        time.sleep(3)
        # Go down 2 s before a scheduler tick (every 30 s of the clock), so that the
        # scheduler meets the outage too, not only the web server and the worker.
        time.sleep((28 - time.time() % 30) % 30)
        connection.close()  # this test's own connection goes with the server
        down_at = time.monotonic()
        database_down(name)
        try:
            time.sleep(5)
        finally:
            database_up(name)
        up_at = time.monotonic()
        # Every parent signs in and reaches their home page again, served by the same
        # processes.
        wait_until(
            lambda: all(_home_after(parent, up_at) for parent in parents),
            seconds=60,
            message="the site did not recover after the restart: "
            + str(Counter(e[1:] for p in parents for e in p.log if e[0] > up_at)),
        )
        stopping.set()
        for parent in parents:
            parent.join(timeout=40)
        for process, what in ((web, "web"), (worker, "worker"), (scheduler, "scheduler")):
            assert process.poll() is None, f"the {what} process died: see {tmp_path}"

        # The worker sends again without a restart.
        connection.close()
        generate_accounts(mode="all", actor_label="after the restart")
        wait_until(
            lambda: (
                len(smtp.messages) >= 3
                and not OutboxMessage.objects.exclude(status=Status.SENT).exists()
            ),
            seconds=60,
            message="the worker did not send after the restart",
        )
        # The scheduler beats again (once a minute) without a restart.
        restarted = timezone.now() - timedelta(seconds=time.monotonic() - up_at)
        wait_until(
            lambda: Heartbeat.objects.filter(name="scheduler", at__gt=restarted).exists(),
            seconds=75,
            message="the scheduler did not beat after the restart",
            every=1,
        )
    finally:
        stopping.set()
        smtp.stop()
        with contextlib.suppress(Exception):
            database_up(name)  # never leave the server down
    log = [entry for parent in parents for entry in parent.log]
    during = [(s, kind) for at, s, kind, _ in log if down_at <= at <= up_at]
    assert during, "no request was made while the database was down"
    assert all(kind == "friendly" for s, kind in during if s != 200 and s != 302), Counter(during)
    assert not [entry for entry in log if entry[2] in ("traceback", "bare 503")]
    assert not [entry for entry in log if entry[1] == 0], "connections refused or cut"
    assert not [entry for entry in log if entry[1] >= 500 and entry[1] != 503]


def _answers(port: int) -> int:
    try:
        return get(f"http://127.0.0.1:{port}/accounts/sign-in/", timeout=2)[0]
    except OSError:
        return 0


def _home_after(parent: Parent, moment: float) -> bool:
    """Whether the parent has signed in and opened their home page since `moment`."""
    return any(
        at > moment and s == 200 and path == "/parents/" for at, s, _, path in parent.log[-20:]
    )


def test_a_session_lost_with_the_database_gets_the_friendly_503_not_a_bad_request(rf):
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.core.exceptions import SuspiciousOperation
    from django.db import OperationalError

    from schoolgate.ops.errors import bad_request

    try:
        try:
            raise OperationalError("terminating connection due to administrator command")
        except OperationalError as error:
            raise SessionInterrupted("The request's session was deleted") from error
    except SessionInterrupted as error:
        interrupted = error
    response = bad_request(rf.get("/"), interrupted)
    assert response.status_code == 503
    assert b"Sorry, the service is unavailable" in response.content
    assert bad_request(rf.get("/"), SuspiciousOperation("bad")).status_code == 400
