"""A parents' evening booking rush over HTTP against the production server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_rush \\
        .venv/bin/python bench/booking_rush.py [--parents 1000] [--teachers-each 5] \\
        [--concurrency 50] [--servers 1] [--web-workers 5] [--pupils 3000]

A generated school (`schoolgate generate_school`, loaded by the real sync) with one
published evening for every year group; parent accounts made by the real generation
(all contacts), every one with the same password. N parents at once, each on its own
HTTP connection: sign in, open the evening, pick up to `--teachers-each` of their
children's teachers, ask "find times for me", hold the proposed times and confirm them
(trying again, up to three times, when someone else took a time first). The web
server is `schoolgate web` (gunicorn), once or `--servers` times on separate ports
with the parents shared between them. Prints appointments/s, p50/p95/p99 latency per
request, errors, and a check of the finished data (double bookings, overlaps, held
rows left, confirmations lost); then the same appointments inserted straight into the
same tables by a minimal script, and the ratio.

CPU, not only wall time (a shared machine's wall time is noise): the CPU seconds of the
gunicorn processes and of the PostgreSQL backends serving them (read from /proc; the web
servers keep their connections, DB_CONN_MAX_AGE=600, so each backend lives through the
rush and is counted), per parent, overall and in the first and last quarter of the rush;
and the SQL queries of one parent's visit, replayed in this process before the rush.
`--json` prints one JSON object last with those figures.

PostgreSQL only (the production database for a rush); the database is made if missing.
Run by hand, never inside the test suite."""

import argparse
import concurrent.futures
import http.client
import itertools
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "rush-password-" + "x" * 8
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_rush"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not exists.fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


# --- the school and the evening ------------------------------------------------------


def load_school(*, pupils: int, seed: int, workdir: Path) -> None:
    """Generate the school's MIS files and sync them, unless the mirror already has it."""
    from django.core.management import call_command

    from schoolgate.mis.models import Pupil, SyncRun
    from schoolgate.mis.sync import sync_mis

    if Pupil.objects.filter(on_roll=True).count() == pupils:
        return
    outdir = workdir / f"school-{pupils}"
    call_command("generate_school", str(outdir), pupils=pupils, seed=seed, verbosity=0)
    run = sync_mis(sorted(outdir.iterdir()), trigger=SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        sys.exit(f"the sync failed: {run.errors}")


def prepare(*, parents: int) -> tuple[int, list[str]]:
    """A fresh evening and parent accounts with a known password; returns the evening's
    id and the emails of the parents who will rush."""
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from schoolgate.accounts.access import is_parent
    from schoolgate.accounts.generation import generate_accounts
    from schoolgate.accounts.models import User
    from schoolgate.accounts.roles import ORGANISERS
    from schoolgate.addons.selectors import get_addon_settings
    from schoolgate.evenings.models import Appointment, Evening
    from schoolgate.evenings.setup import services as setup
    from schoolgate.outbox.models import OutboxMessage

    # Appointments protect what they point at: they go first.
    Appointment.objects.all().delete()
    Evening.objects.all().delete()
    OutboxMessage.objects.all().delete()
    addon = get_addon_settings()
    addon.parent_group, _ = Group.objects.get_or_create(name="MIS Parent")
    addon.one_day_only = False
    addon.save()
    generate_accounts(mode="all", actor_label="bench")
    OutboxMessage.objects.all().delete()  # the invitations are not what is measured
    # One hash for everyone: hashing 1,000 passwords here would only slow the set-up.
    User.objects.filter(is_staff=False).update(password=make_password(PASSWORD))

    organiser, _ = User.objects.get_or_create(
        email="rush-organiser@bench.example", defaults={"is_staff": True}
    )
    organiser.groups.add(Group.objects.get(name=ORGANISERS))
    organiser = User.objects.get(pk=organiser.pk)  # fresh permission cache

    local = timezone.localtime()
    day = (local + timedelta(days=14)).replace(hour=15, minute=0, second=0, microsecond=0)
    evening = setup.create_evening(
        actor=organiser,
        name="Rush evening",
        days=[(day, day.replace(hour=21))],
        booking_opens=local - timedelta(days=1),
        booking_closes=day - timedelta(days=1),
        slot_minutes=5,
        year_groups=range(1, 14),
    )
    setup.set_status(evening=evening, actor=organiser, status=Evening.Status.PUBLISHED)

    chosen = []
    for user in User.objects.filter(is_staff=False, is_active=True).order_by("pk"):
        if is_parent(user):
            chosen.append(user.email)
        if len(chosen) == parents:
            break
    if len(chosen) < parents:
        sys.exit(f"only {len(chosen)} parents have children; use more --pupils")
    return evening.pk, chosen


# --- the servers ---------------------------------------------------------------------


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different free ports: every socket stays bound until all are chosen, so
    the kernel cannot hand out one number twice (two servers on one port: the second
    exits while the first answers for both)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_servers(
    *, count: int, workers: int, log_dir: Path
) -> tuple[list[subprocess.Popen], list[int]]:
    env = dict(
        os.environ,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        # Each gunicorn worker keeps its connection, so its backend's CPU can be read.
        DB_CONN_MAX_AGE=os.environ.get("DB_CONN_MAX_AGE", "600"),
        TRUSTED_PROXIES="1",  # each Browser says which home it is at
    )
    processes, ports = [], free_ports(count)
    for port in ports:
        command = [
            str(ROOT / ".venv/bin/schoolgate"),
            "web",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--workers={workers}",
        ]
        processes.append(
            subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(log_dir / f"web-{port}.log", "w"),  # noqa: SIM115 - open while it runs
            )
        )
    for port, process in zip(ports, processes, strict=True):
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(f"the web server stopped: see {log_dir}/web-{port}.log")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/accounts/sign-in/")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"the web server on port {port} did not answer in 60 s")
            time.sleep(0.2)
    return processes, ports


def stop_servers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# --- CPU of the web servers and their database backends ------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    return found


class CpuMeter:
    """Samples the CPU used so far by the web servers' processes and by the PostgreSQL
    backends connected to the rush's database, keeping the last reading of each process."""

    def __init__(self, roots: list[int], database: str):
        self.roots, self.database = roots, database
        self.web: dict[int, float] = {}
        self.db: dict[int, float] = {}

    def backend_pids(self) -> set[int]:
        import psycopg

        url = os.environ["DATABASE_URL"]
        with psycopg.connect(url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            ).fetchall()
        return {row[0] for row in rows}

    def sample(self) -> tuple[float, float]:
        for root in self.roots:
            for pid in descendants(root):
                self.web[pid] = max(self.web.get(pid, 0.0), process_cpu(pid))
        for pid in self.backend_pids():
            self.db[pid] = max(self.db.get(pid, 0.0), process_cpu(pid))
        return sum(self.web.values()), sum(self.db.values())


# --- one parent, over HTTP -----------------------------------------------------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TEACHER_BOX = re.compile(
    r'name="teacher"[^>]*value="(\d+-\d+)"|value="(\d+-\d+)"[^>]*name="teacher"'
)
HIDDEN_SLOT = re.compile(
    r'name="(slot-\d+-\d+)"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="(slot-\d+-\d+)"'
)
ERROR_SUMMARY = re.compile(r'govuk-error-summary__body">(.*?)</div>', re.S)
HOLD_URL = re.compile(r"/parents/evenings/\d+/holds/(\d+)/$")


ADDRESSES = itertools.count()


class Browser:
    """One parent's cookies and connection; records every request's latency."""

    def __init__(self, port: int, latencies: list, steps: dict, lock: threading.Lock):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        # Each parent at their own home (through TRUSTED_PROXIES=1): a rush from one
        # address would run into the per-address rate limits (docs/accounts.md).
        n = next(ADDRESSES)
        self.address = f"198.18.{n // 250 % 256}.{n % 250 + 1}"
        self.latencies, self.steps, self.lock = latencies, steps, lock

    def request(
        self, method: str, path: str, fields=None, *, step: str = ""
    ) -> tuple[int, str, str]:
        headers = {"Host": "127.0.0.1", "X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1{path}"
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        took = time.perf_counter() - started
        with self.lock:
            self.latencies.append(took)
            self.steps.setdefault(step or f"{method} {path}", []).append(took)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        location = response.getheader("Location", "")
        return response.status, text, urllib.parse.urlsplit(location).path

    def form(self, path: str, fields, *, page: str, step: str = "") -> tuple[int, str, str]:
        token = CSRF.search(page)
        if not token:
            raise RuntimeError(f"no CSRF token on the page before POST {path}")
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        return self.request(
            "POST", path, [("csrfmiddlewaretoken", token.group(1)), *pairs], step=step
        )


def rush_one(*, email: str, evening_id: int, port: int, teachers_each: int, seed: int, stats):
    """Sign in and book; returns the number of appointments confirmed."""
    browser = Browser(port, stats["latencies"], stats["steps"], stats["lock"])
    rng = random.Random(seed)
    _, page, _ = browser.request("GET", "/accounts/sign-in/", step="sign-in page")
    status, _, _ = browser.form(
        "/accounts/sign-in/", {"username": email, "password": PASSWORD}, page=page, step="sign in"
    )
    if status != 302:
        raise RuntimeError(f"{email}: sign-in answered {status}")
    base = f"/parents/evenings/{evening_id}/"
    status, page, _ = browser.request("GET", base, step="evening page")
    if status != 200:
        raise RuntimeError(f"{email}: the evening page answered {status}")
    teachers = sorted({a or b for a, b in TEACHER_BOX.findall(page)})
    if not teachers:
        return 0
    wanted = rng.sample(teachers, min(teachers_each, len(teachers)))
    for attempt in range(3):
        if attempt:
            # Another parent of the same child may have booked some of them meanwhile:
            # the evening page offers only the teachers still to book.
            _, page, _ = browser.request("GET", base, step="evening page")
            still_open = {a or b for a, b in TEACHER_BOX.findall(page)}
            wanted = [t for t in wanted if t in still_open]
            if not wanted:
                return 0
        status, page, _ = browser.request("GET", base + "automatic/", step="automatic form")
        fields = [("teacher", t) for t in wanted] + [("earliest", ""), ("latest", "")]
        status, page, _ = browser.form(base + "automatic/", fields, page=page, step="plan")
        slots = [(a or d, b or c) for a, b, c, d in HIDDEN_SLOT.findall(page)]
        if status != 200 or not slots:
            raise RuntimeError(f"{email}: no proposal (status {status})")
        status, page, location = browser.form(base + "hold/", slots, page=page, step="hold")
        held = HOLD_URL.match(location or "")
        if status == 302 and held:
            _, page, _ = browser.request("GET", location, step="hold page")
            status, _, _ = browser.form(location + "confirm/", {}, page=page, step="confirm")
            if status == 302:
                with stats["lock"]:
                    stats["confirmed_by_client"] += len(slots)
                return len(slots)
        with stats["lock"]:
            stats["retries"] += 1
            refusal = ERROR_SUMMARY.search(page)
            reason = " ".join(re.sub(r"<[^>]+>", " ", refusal.group(1)).split()) if refusal else ""
            stats["refusals"][reason[:120]] = stats["refusals"].get(reason[:120], 0) + 1
    raise RuntimeError(f"{email}: still refused after 3 tries")


def rush(
    *,
    emails,
    evening_id: int,
    ports: list[int],
    concurrency: int,
    teachers_each: int,
    meter: CpuMeter | None = None,
):
    stats = {
        "latencies": [],
        "steps": {},
        "refusals": {},
        "lock": threading.Lock(),
        "retries": 0,
        "confirmed_by_client": 0,
    }
    errors = []
    # CPU (web, database) when 0, a quarter, three quarters and all of the parents are done.
    sample = meter.sample if meter is not None else lambda: (0.0, 0.0)
    marks = {0: sample()}
    quarter = max(1, len(emails) // 4)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [
            pool.submit(
                rush_one,
                email=email,
                evening_id=evening_id,
                port=ports[i % len(ports)],
                teachers_each=teachers_each,
                seed=i,
                stats=stats,
            )
            for i, email in enumerate(emails)
        ]
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            try:
                future.result()
            except Exception as error:  # counted and shown, never hidden
                errors.append(str(error))
            if done in (quarter, len(emails) - quarter):
                marks[done] = sample()
    took = time.perf_counter() - started
    marks[len(emails)] = sample()
    stats["cpu_marks"] = marks
    return took, stats, errors


# --- the check and the baseline ------------------------------------------------------


def check(evening_id: int) -> dict[str, int]:
    """Read the finished data back: every rule, straight from the tables."""
    from django.db import connection

    from schoolgate.evenings.models import Appointment
    from schoolgate.outbox.models import OutboxMessage

    confirmed = Appointment.objects.filter(evening_id=evening_id, status="confirmed")
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM evenings_appointment a JOIN evenings_appointment b
               ON a.teacher_id = b.teacher_id AND a.id < b.id
               AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
               WHERE a.evening_id = %s AND a.status = 'confirmed' AND b.status = 'confirmed'""",
            [evening_id],
        )
        double = cursor.fetchone()[0]
        cursor.execute(
            """SELECT count(*) FROM evenings_appointment a JOIN evenings_appointment b
               ON a.parent_id = b.parent_id AND a.id < b.id
               AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
               WHERE a.evening_id = %s AND a.status = 'confirmed' AND b.status = 'confirmed'""",
            [evening_id],
        )
        overlaps = cursor.fetchone()[0]
    parents = set(confirmed.values_list("parent_id", flat=True))
    from schoolgate.accounts.models import User

    emails = set(User.objects.filter(pk__in=parents).values_list("email", flat=True))
    mailed = set(OutboxMessage.objects.filter(to__in=emails).values_list("to", flat=True))
    return {
        "confirmed": confirmed.count(),
        "double_bookings": double,
        "overlaps": overlaps,
        "held_left": Appointment.objects.filter(evening_id=evening_id, status="held").count(),
        "parents_without_confirmation": len(emails - mailed),
    }


def insert_baseline(evening_id: int) -> tuple[int, float]:
    """The same appointments (and their slot claims) deleted and inserted again by a
    minimal script: one transaction per parent, as each booking was, no checks."""
    from django.db import transaction

    from schoolgate.evenings.models import Appointment, SlotClaim

    rows = list(Appointment.objects.filter(evening_id=evening_id, status="confirmed"))
    claims = list(
        SlotClaim.objects.filter(appointment__in=rows).values("slot_id", "appointment_id")
    )
    by_parent: dict[int, list] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    claims_of: dict[int, list] = {}
    for claim in claims:
        claims_of.setdefault(claim["appointment_id"], []).append(claim["slot_id"])
    SlotClaim.objects.filter(appointment__in=rows).delete()
    Appointment.objects.filter(pk__in=[r.pk for r in rows]).delete()
    started = time.perf_counter()
    for mine in by_parent.values():
        with transaction.atomic():
            for row in mine:
                old = row.pk
                row.pk = None
                row.hold_id = None
                row.save(force_insert=True)
                SlotClaim.objects.bulk_create(
                    SlotClaim(slot_id=slot, appointment=row) for slot in claims_of.get(old, [])
                )
    return len(rows), time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=int, default=1000)
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--teachers-each", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--web-workers", type=int, default=5, help="gunicorn workers each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database: the rush is a production test.")
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    workdir = Path(os.environ.get("SCHOOLGATE_DATA_DIR", "/tmp/bench-rush"))
    workdir.mkdir(parents=True, exist_ok=True)
    load_school(pupils=args.pupils, seed=args.seed, workdir=workdir)
    evening_id, emails = prepare(parents=args.parents + 1)
    # One parent, not in the rush, visits in this process first: that visit's SQL queries.
    replay_email, emails = emails[-1], emails[:-1]
    queries_per_parent = count_visit_queries(replay_email, evening_id, args.teachers_each)
    connections.close_all()
    print(
        f"{len(emails):,} parents, evening {evening_id}, {args.servers} server(s) × "
        f"{args.web_workers} gunicorn workers, {args.concurrency} at once"
    )

    processes, ports = start_servers(count=args.servers, workers=args.web_workers, log_dir=workdir)
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    meter = CpuMeter([process.pid for process in processes], database)
    try:
        took, stats, errors = rush(
            emails=emails,
            evening_id=evening_id,
            ports=ports,
            concurrency=args.concurrency,
            teachers_each=args.teachers_each,
            meter=meter,
        )
    finally:
        stop_servers(processes)
    result = check(evening_id)
    latencies = stats["latencies"]
    p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
    print(
        f"rush: {result['confirmed']:,} appointments in {took:.1f} s = "
        f"{result['confirmed'] / took:,.0f} appointments/s; {len(latencies):,} requests, "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
        f"mean {statistics.mean(latencies) * 1000:.0f} ms"
    )
    for step, times in stats["steps"].items():
        print(
            f"  {step:15} {len(times):6,} requests, p50 {percentile(times, 50) * 1000:5.0f} ms, "
            f"p99 {percentile(times, 99) * 1000:5.0f} ms"
        )
    kinds = Counter(re.sub(r"^\S+@\S+: ", "", error)[:100] for error in errors)
    print(f"errors: {len(errors)}; retries after a taken time: {stats['retries']}")
    for kind, count in kinds.most_common(5):
        print(f"  {count}× {kind}")
    for reason, count in sorted(stats["refusals"].items(), key=lambda item: -item[1])[:5]:
        print(f"  refused {count}×: {reason}")
    print(
        "check: double bookings {double_bookings}, overlaps {overlaps}, held rows left "
        "{held_left}, parents with appointments but no confirmation email "
        "{parents_without_confirmation}".format(**result)
    )
    if stats["confirmed_by_client"] != result["confirmed"]:
        print(
            f"  lost: the parents were told {stats['confirmed_by_client']:,} appointments, "
            f"the database holds {result['confirmed']:,}"
        )
    cpu = cpu_figures(stats["cpu_marks"], len(emails))
    print(
        f"CPU per parent: {cpu['cpu_ms_per_parent']:.0f} ms (web {cpu['web_cpu_ms_per_parent']:.0f}"
        f" ms, database {cpu['db_cpu_ms_per_parent']:.0f} ms); first quarter "
        f"{cpu['first_quarter_cpu_ms']:.0f} ms, last quarter {cpu['last_quarter_cpu_ms']:.0f} ms;"
        f" {queries_per_parent} SQL queries for one parent's visit"
    )
    rows, insert_took = insert_baseline(evening_id)
    print(
        f"baseline: the same {rows:,} appointments inserted straight into the tables in "
        f"{insert_took:.2f} s ({rows / insert_took:,.0f}/s); the rush took "
        f"{took / insert_took:.1f}× as long"
    )
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "parents": len(emails),
                    "appointments": result["confirmed"],
                    "wall_s": round(took, 2),
                    "p50_ms": round(p50, 1),
                    "p99_ms": round(p99, 1),
                    **{key: round(value, 1) for key, value in cpu.items()},
                    "queries_per_parent": queries_per_parent,
                    "raw_insert_s": round(insert_took, 3),
                    "double_bookings": result["double_bookings"],
                    "overlaps": result["overlaps"],
                    "errors": len(errors),
                    "lost_confirmation_emails": result["parents_without_confirmation"],
                }
            )
        )


def cpu_figures(marks: dict[int, tuple[float, float]], parents: int) -> dict[str, float]:
    """CPU milliseconds per parent from the readings at 0, ¼, ¾ and all parents done."""
    points = sorted(marks)
    (web0, db0), (web_end, db_end) = marks[points[0]], marks[points[-1]]

    def per_parent(start: int, end: int) -> float:
        used = sum(marks[end]) - sum(marks[start])
        return used * 1000 / max(1, end - start)

    return {
        "web_cpu_ms_per_parent": (web_end - web0) * 1000 / parents,
        "db_cpu_ms_per_parent": (db_end - db0) * 1000 / parents,
        "cpu_ms_per_parent": (web_end - web0 + db_end - db0) * 1000 / parents,
        "first_quarter_cpu_ms": per_parent(points[0], points[1]),
        "last_quarter_cpu_ms": per_parent(points[-2], points[-1]),
    }


def count_visit_queries(email: str, evening_id: int, teachers_each: int) -> int:
    """The SQL queries of one parent's whole visit, the same steps as rush_one, through
    Django's test client in this process (sign-in page to confirmed)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    base = f"/parents/evenings/{evening_id}/"
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/sign-in/")
        client.post("/accounts/sign-in/", {"username": email, "password": PASSWORD})
        page = client.get(base).content.decode()
        teachers = sorted({a or b for a, b in TEACHER_BOX.findall(page)})[:teachers_each]
        client.get(base + "automatic/")
        fields = {"teacher": teachers, "earliest": "", "latest": ""}
        page = client.post(base + "automatic/", fields).content.decode()
        slots = [(a or d, b or c) for a, b, c, d in HIDDEN_SLOT.findall(page)]
        response = client.post(base + "hold/", dict(slots))
        held = HOLD_URL.match(urllib.parse.urlsplit(response.get("Location", "")).path)
        if not held:
            sys.exit(f"the replayed visit could not hold times (status {response.status_code})")
        client.get(response["Location"])
        if client.post(response["Location"] + "confirm/").status_code != 302:
            sys.exit("the replayed visit could not confirm")
    return len(queries)


if __name__ == "__main__":
    main()
