"""Scale-out, proven: two web servers, two task workers and two schedulers against one
PostgreSQL and one Redis, a booking rush through both web servers and a day-before
reminder cycle, then a check of what happened.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hscale \\
        .venv/bin/python bench/scaleout.py [--short]

Every email goes to a real SMTP server (aiosmtpd, in this process) that counts what it
receives by Message-ID. Checks: no double bookings, no overlaps, no held rows left,
every parent who booked has a confirmation, every email (confirmations and reminders)
delivered exactly once, every parent due a reminder has exactly one, nothing left
unsent in the outbox; a session made on one server works on the other, and failed
sign-ins count across both servers. Exits 1 when a check fails. .ci/run runs --short.

The database is dropped and made again. The processes use tests/ops/fast_settings.py:
reminders from midnight, looked for every minute (instead of 17:00, every 15 minutes)."""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests/ops")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hscale")
os.environ["DJANGO_SETTINGS_MODULE"] = "fast_settings"

import booking_rush  # noqa: E402 - needs the path above
from booking_rush import PASSWORD, Browser, free_ports  # noqa: E402

CHECKS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: object = "") -> None:
    CHECKS.append((name, bool(ok), str(detail)))
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{f': {detail}' if detail != '' else ''}")


def fresh_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(*, parents: int) -> tuple[int, list[str]]:
    """An evening tomorrow, open for booking now, and `parents` + 2 parent accounts
    (the last two are for the session and lockout checks)."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from schoolgate.accounts.access import is_parent
    from schoolgate.accounts.generation import generate_accounts
    from schoolgate.accounts.models import User
    from schoolgate.accounts.roles import ORGANISERS
    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.evenings.models import Evening
    from schoolgate.evenings.setup import services as setup
    from schoolgate.outbox.models import OutboxMessage

    addon = get_addon_settings()
    addon.parent_group, _ = Group.objects.get_or_create(name="MIS Parent")
    addon.one_day_only = False
    addon.save()
    generate_accounts(mode="all", actor_label="scale-out check")
    OutboxMessage.objects.all().delete()  # the invitations are not what is checked
    User.objects.filter(is_staff=False).update(password=make_password(PASSWORD))
    organiser = User.objects.create_user("organiser@scale.example", is_staff=True)
    organiser.groups.add(Group.objects.get(name=ORGANISERS))
    organiser = User.objects.get(pk=organiser.pk)

    local = timezone.localtime()
    day = (local + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    evening = setup.create_evening(
        actor=organiser,
        name="Scale-out evening",
        days=[(day, day.replace(hour=21))],
        booking_opens=local - timedelta(days=1),
        booking_closes=day,
        slot_minutes=5,
        year_groups=range(1, 14),
    )
    setup.set_status(evening=evening, actor=organiser, status=Evening.Status.PUBLISHED)
    chosen = [
        u.email
        for u in User.objects.filter(is_staff=False, is_active=True).order_by("pk")
        if is_parent(u)
    ][: parents + 2]
    if len(chosen) < parents + 2:
        sys.exit(f"only {len(chosen)} parents; use more --pupils")
    return evening.pk, chosen


def start(name: str, command: list[str], *, env: dict, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - open while it runs
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(port: int, process: subprocess.Popen, *, seconds: float = 90) -> None:
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the web server on {port} stopped (exit {process.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz?checks=database", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"the web server on {port} did not answer in {seconds:.0f} s")


def sign_in(browser: Browser, email: str, password: str, *, forwarded_for: str = "") -> int:
    _, page, _ = browser.request("GET", "/accounts/sign-in/")
    token = booking_rush.CSRF.search(page).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return post(browser, "/accounts/sign-in/", token, email, password, headers)


def post(browser: Browser, path: str, token: str, email: str, password: str, headers) -> int:
    """A sign-in POST with extra headers (Browser.request has none)."""
    fields = {"csrfmiddlewaretoken": token, "username": email, "password": password}
    body = urllib.parse.urlencode(fields)
    all_headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"http://127.0.0.1{path}",
        "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        **headers,
    }
    browser.connection.request("POST", path, body=body, headers=all_headers)
    response = browser.connection.getresponse()
    response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            browser.cookies[key] = rest.split(";", 1)[0]
    return response.status


def sessions_across_servers(ports: list[int], email: str, evening_id: int, stats) -> None:
    a = Browser(ports[0], *stats)
    check("sign in on server 1", sign_in(a, email, PASSWORD) == 302)
    b = Browser(ports[1], *stats)
    b.cookies = dict(a.cookies)
    status, page, _ = b.request("GET", f"/parents/evenings/{evening_id}/")
    check("that session opens the evening on server 2", status == 200, status)
    _, page, _ = b.request("GET", "/parents/")
    b.form("/accounts/sign-out/", {}, page=page)
    status, _, location = a.request("GET", f"/parents/evenings/{evening_id}/")
    check(
        "signed out on server 2, signed out on server 1",
        status == 302 and "sign-in" in location,
        f"{status} {location}",
    )


def lockout_across_servers(ports: list[int], email: str, stats) -> None:
    """Failures on both servers add up to one count (docs/accounts.md, Lockout): the
    limit's failure, made on either server, starts the wait on both; an address that
    has not failed for the email still signs in."""
    from django.conf import settings

    # Made-up client addresses (through TRUSTED_PROXIES=1), so that the rush's own
    # address, 127.0.0.1, is never made to wait.
    address, elsewhere = "198.51.100.7", "198.51.100.8"
    limit = settings.LOCKOUT_FAILURES
    statuses = []
    for attempt in range(limit - 1):
        browser = Browser(ports[attempt % 2], *stats)
        statuses.append(sign_in(browser, email, "wrong", forwarded_for=address))
    check(
        f"{limit - 1} wrong passwords on both servers: refused, no wait yet", set(statuses) == {200}
    )
    last = sign_in(Browser(ports[(limit - 1) % 2], *stats), email, "wrong", forwarded_for=address)
    right = [
        sign_in(Browser(port, *stats), email, PASSWORD, forwarded_for=address) for port in ports
    ]
    check(
        f"failures on both servers add up to one lockout: the {limit}th starts the wait, "
        "and the right password from that address waits on each server",
        last == 429 and right == [429, 429],
        f"last failure {last}, then the right password {right}",
    )
    owner = sign_in(Browser(ports[1], *stats), email, PASSWORD, forwarded_for=elsewhere)
    check("...while the right password from another address signs in", owner == 302)


def wait_for_reminders(evening_id: int, *, seconds: float) -> float:
    """Until everyone due a reminder has one and the outbox is empty; the time taken."""
    from schoolgate.evenings.comms.notifications import reminder_recipients
    from schoolgate.evenings.models import Evening, ReminderSent
    from schoolgate.outbox.models import OutboxMessage

    evening = Evening.objects.get(pk=evening_id)
    due = {user.pk for user in reminder_recipients(evening)}
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        claimed = set(ReminderSent.objects.filter(evening=evening).values_list("parent", flat=True))
        waiting = OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).count()
        if due <= claimed and not waiting:
            return time.monotonic() - started
        time.sleep(2)
    return time.monotonic() - started


def final_checks(evening_id: int, smtp, stats) -> None:
    from schoolgate.accounts.models import User
    from schoolgate.evenings.comms.notifications import BOOKED, REMINDER, reminder_recipients
    from schoolgate.evenings.models import Evening, ReminderSent
    from schoolgate.outbox.models import OutboxMessage
    from schoolgate.outbox.sending import message_id

    result = booking_rush.check(evening_id)
    check("appointments booked", result["confirmed"] > 0, result["confirmed"])
    check(
        "parents were told what the database holds",
        stats["confirmed_by_client"] == result["confirmed"],
        f"{stats['confirmed_by_client']} vs {result['confirmed']}",
    )
    for key in ("double_bookings", "overlaps", "held_left", "parents_without_confirmation"):
        check(key.replace("_", " "), result[key] == 0, result[key])

    messages = list(OutboxMessage.objects.all())
    statuses = Counter(m.status for m in messages)
    check("nothing stuck in the outbox", set(statuses) <= {"sent"}, dict(statuses))
    delivered = Counter(r.message["Message-ID"] for r in smtp.messages)
    expected = Counter(message_id(m) for m in messages)
    twice = {k: n for k, n in delivered.items() if n > 1}
    check(
        "every email delivered exactly once",
        delivered == expected,
        f"{len(messages)} rows, {sum(delivered.values())} deliveries, "
        f"twice: {len(twice)}, missing: {len(expected - delivered)}",
    )
    confirmations = Counter(m.template for m in messages)[BOOKED]
    check("confirmations sent", confirmations > 0, confirmations)

    evening = Evening.objects.get(pk=evening_id)
    due = {user.email for user in reminder_recipients(evening)}
    reminders = Counter(m.to for m in messages if m.template == REMINDER)
    claims = ReminderSent.objects.filter(evening=evening)
    claimed = set(
        User.objects.filter(pk__in=claims.values("parent")).values_list("email", flat=True)
    )
    check(
        "every parent due a reminder has one claim",
        claimed == due,
        f"{len(due)} due, {len(claimed)} claimed",
    )
    check(
        "one reminder email each",
        set(reminders.values()) == {1} and set(reminders) == due,
        f"{sum(reminders.values())} for {len(due)} parents",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI size: 500 pupils, 40 parents")
    parser.add_argument("--pupils", type=int)
    parser.add_argument("--parents", type=int)
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--web-workers", type=int, help="gunicorn workers per web server")
    parser.add_argument("--timeout", type=int, default=900, help="give up after this many s")
    args = parser.parse_args()
    pupils = args.pupils or (500 if args.short else 3000)
    parents = args.parents or (40 if args.short else 300)
    concurrency = args.concurrency or (8 if args.short else 20)
    web_workers = args.web_workers or (2 if args.short else 4)

    def give_up(signum, frame):
        raise TimeoutError(f"the scale-out check took more than {args.timeout} s")

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(args.timeout)
    started = time.monotonic()

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    fresh_database(url)
    workdir = Path(os.environ.get("SCHOOLGATE_DATA_DIR", "/tmp/schoolgate-scaleout"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        SCHOOLGATE_DATA_DIR=str(workdir),
        PYTHONPATH=os.pathsep.join(sys.path[:2]),
        CACHE_URL=os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/9"),
        LOG_LEVEL="WARNING",
    )
    booking_rush.setup_django()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connections

    from schoolgate.outbox.testing import SMTPServer

    call_command("migrate", verbosity=0)
    cache.clear()
    booking_rush.load_school(pupils=pupils, seed=1, workdir=workdir)
    evening_id, emails = prepare(parents=parents)
    rushing, (session_parent, lockout_parent) = emails[:-2], emails[-2:]
    connections.close_all()
    print(f"set up in {time.monotonic() - started:.0f} s: {pupils} pupils, {parents} parents")

    smtp_port, *ports = free_ports(3)
    smtp = SMTPServer(host="127.0.0.1", port=smtp_port).start()
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        TRUSTED_PROXIES="1",
        DB_CONN_MAX_AGE="60",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        PYTHONUNBUFFERED="1",
    )
    schoolgate = str(ROOT / ".venv/bin/schoolgate")
    processes = {}
    try:
        for n, port in enumerate(ports, 1):
            processes[f"web-{n}"] = start(
                f"web-{n}",
                [schoolgate, "web", f"--port={port}", f"--workers={web_workers}"],
                env=env,
                log_dir=workdir,
            )
            processes[f"worker-{n}"] = start(
                f"worker-{n}", [schoolgate, "worker"], env=env, log_dir=workdir
            )
            processes[f"scheduler-{n}"] = start(
                f"scheduler-{n}", [schoolgate, "scheduler"], env=env, log_dir=workdir
            )
        for n, port in enumerate(ports, 1):
            wait_for(port, processes[f"web-{n}"])
        print(f"2 web servers ({web_workers} gunicorn workers each), 2 workers, 2 schedulers")

        import threading

        stats_tuple = ([], {}, threading.Lock())
        print("sessions and sign-in lockout across the two servers:")
        sessions_across_servers(ports, session_parent, evening_id, stats_tuple)

        took, stats, errors = booking_rush.rush(
            emails=rushing,
            evening_id=evening_id,
            ports=ports,
            concurrency=concurrency,
            teachers_each=3,
        )
        print(
            f"rush: {len(rushing)} parents through both servers in {took:.1f} s, "
            f"{len(stats['latencies'])} requests, {len(errors)} gave up after 3 refusals"
        )
        lockout_across_servers(ports, lockout_parent, stats_tuple)
        waited = wait_for_reminders(evening_id, seconds=240)
        print(f"reminders and the outbox done {waited:.0f} s after the rush")
        print("checks:")
        final_checks(evening_id, smtp, stats)
        for name, process in processes.items():
            stopped = process.poll() is not None
            last_lines = (workdir / f"{name}.log").read_text().splitlines()[-3:] if stopped else []
            detail = f"exit {process.returncode}; " + " | ".join(last_lines) if stopped else ""
            check(f"{name} still running", not stopped, detail)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
    failed = [name for name, ok, _ in CHECKS if not ok]
    print(
        f"scale-out check: {len(CHECKS) - len(failed)}/{len(CHECKS)} passed in "
        f"{time.monotonic() - started:.0f} s; logs in {workdir}"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
