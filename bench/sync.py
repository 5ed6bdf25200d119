"""Sync speed: for each school size, a full sync into an empty mirror, a re-sync of the
same files, and a re-sync after about 1% of contacts changed.

    .venv/bin/python bench/sync.py [--pupils 2000 50000] [--seed 1] [--repeat 1]

The school comes from the demo generator (a CTF and a timetable CSV) and goes through
the real importers and sync engine. The database is a fresh SQLite file in a temp dir,
or, when DATABASE_URL is set, a fresh PostgreSQL database test_<name> (created, then
dropped). Each step runs in its own process, so its peak memory is its own. Run by
hand, never inside the test suite; figures go in docs/benchmarks.md."""

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

STEPS = (
    ("full", "full sync, empty mirror"),
    ("same", "re-sync, no change"),
    ("changed", "re-sync, 1% contacts changed"),
)
CHANGED_SHARE = 0.01
GOALS = {2000: 2.0, 50000: 60.0}  # pupils: seconds for a full sync
NO_CHANGE_GOAL = 0.1  # a no-change re-sync, as a share of a full sync
# 50,000 pupils is far past a school's read limits (docs/sync.md, "Limits"): lift them.
BENCH_LIMITS = {
    "MIS_FILE_MAX_MB": "1000",
    "MIS_IMPORT_MAX_MB": "2000",
    "MIS_IMPORT_MAX_ROWS": "10000000",
}
for _name, _value in BENCH_LIMITS.items():
    os.environ.setdefault(_name, _value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, nargs="+", default=[2000, 50000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each size this many times; keep the fastest"
    )
    parser.add_argument("--step", help=argparse.SUPPRESS)  # internal: run one step
    parser.add_argument("--files", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args.files)
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    os.environ["SCHOOLGATE_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "schoolgate.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    old_name = connection.settings_dict["NAME"]
    try:
        if postgres:
            test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
            url = urlsplit(os.environ["DATABASE_URL"])
            os.environ["DATABASE_URL"] = url._replace(path=f"/{test_name}").geturl()
            where = f"PostgreSQL ({test_name})"
        else:
            call_command("migrate", verbosity=0)
            where = f"SQLite ({connection.settings_dict['NAME']})"
        print(
            f"{where}; Python {platform.python_version()}; {os.cpu_count()} cores; "
            f"seed {args.seed}; fastest of {args.repeat} run(s)\n"
        )
        results = []
        for pupils in args.pupils:
            results += bench_size(pupils, seed=args.seed, workdir=workdir, repeat=args.repeat)
        print_table(results)
    finally:
        connection.close()
        if postgres:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(workdir, ignore_errors=True)


def bench_size(pupils: int, *, seed: int, workdir: Path, repeat: int) -> list[dict]:
    """The three steps, `repeat` times from an empty mirror; the fastest of each step."""
    from schoolgate.mis.demo import build_school, write_ctf, write_timetable

    best: dict[str, dict] = {}
    folder = workdir / f"school-{pupils}"
    folder.mkdir()
    ctf, timetable = folder / "school.ctf.xml", folder / "timetable.csv"
    for attempt in range(1, repeat + 1):
        clear_mirror()
        started = time.perf_counter()
        school = build_school(pupils=pupils, seed=seed)
        write_ctf(school, ctf)
        write_timetable(school, timetable)
        megabytes = (ctf.stat().st_size + timetable.stat().st_size) / 1e6
        print(
            f"{pupils:,} pupils, run {attempt} of {repeat}: generated {megabytes:.1f} MB of "
            f"files in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        for step, label in STEPS:
            if step == "changed":
                changed = change_contacts(school, seed=seed)
                write_ctf(school, ctf)
                print(f"  changed {changed:,} of {len(school.contacts):,} contacts", flush=True)
            result = run_child(step, [ctf, timetable])
            result.update(pupils=pupils, step=label)
            print(f"  {label}: {result['seconds']:.2f} s", flush=True)
            if label not in best or result["seconds"] < best[label]["seconds"]:
                best[label] = result
    return [best[label] for _step, label in STEPS]


def change_contacts(school, *, seed: int) -> int:
    """Change ~1% of contacts as a term's MIS edits do: mostly a new mobile number, some a
    new email (which the CTF importer sees as a new person replacing the old)."""
    rng = random.Random(seed + 1)
    emails = [p.email.casefold() for p in school.contacts if p.email]
    shared = {email for email in emails if emails.count(email) > 1} if len(emails) < 5000 else set()
    eligible = [
        person
        for person in school.contacts
        if person.email
        and "@" in person.email[:-1]
        and " " not in person.email
        and person.email.casefold() not in shared
    ]
    chosen = rng.sample(eligible, max(1, round(CHANGED_SHARE * len(school.contacts))))
    for index, person in enumerate(chosen):
        if index % 10 < 7:
            person.phones[0] = ("M", f"07700 900{rng.randrange(1000):03d}")
        else:
            local, _, domain = person.email.partition("@")
            person.email = f"new.{local}@{domain}"
    return len(chosen)


def clear_mirror() -> None:
    from django.db import connection

    from schoolgate.mis import models

    tables = [
        model._meta.db_table
        for model in (
            models.GroupMembership,
            models.GroupTeacher,
            models.PupilContact,
            models.Contact,
            models.Pupil,
            models.TeachingGroup,
            models.Staff,
            models.SyncRun,
        )
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def run_child(step: str, files: list[Path]) -> dict:
    command = [sys.executable, __file__, "--step", step, "--files", *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"step {step} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_step(files: list[str]) -> None:
    """One sync through `sync_mis`, as the Sync page and the command run it (so a file set
    identical to the last applied one is skipped unread), timed in two parts: reading
    the files, and the rest."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")
    import django

    django.setup()
    from schoolgate.mis import importers
    from schoolgate.mis.models import SyncRun
    from schoolgate.mis.sync import sync_mis

    read_sources, seen = importers.read_sources, {}

    def timed_read(*args, **kwargs):
        started = time.perf_counter()
        seen["snapshot"] = read_sources(*args, **kwargs)
        seen["read"] = time.perf_counter() - started
        return seen["snapshot"]

    importers.read_sources = timed_read
    paths = [Path(f) for f in files]
    baseline = peak_rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    run = sync_mis(paths, trigger=SyncRun.Trigger.COMMAND, confirm_large_change=True)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if run.status != "succeeded":
        sys.exit(f"the sync failed: {run.errors[:3]}")
    snapshot = seen.get("snapshot")
    rows = (
        len(snapshot.pupils)
        + len(snapshot.contacts)
        + len(snapshot.links)
        + len(snapshot.memberships)
        if snapshot
        else 0
    )
    changes = sum(c["added"] + c["changed"] + c["removed"] for c in run.counts.values())
    print(
        json.dumps(
            {
                "seconds": total,
                "cpu": cpu,
                "read": seen.get("read", 0.0),
                "apply": total - seen.get("read", 0.0),
                "rows": rows,
                "changes": changes,
                "unchanged": run.unchanged,
                "peak_mb": peak_rss_mb(),
                "baseline_mb": baseline,
            }
        )
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, unlike ru_maxrss, is not inherited
    from the parent that started the process."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(results: list[dict]) -> None:
    header = (
        f"\n{'pupils':>7}  {'step':<29} {'seconds':>8} {'read':>6} {'apply':>6} {'cpu':>6} "
        f"{'rows':>9} {'rows/s':>8} {'peak MB':>8} {'changes':>8}"
    )
    print(header)
    print("-" * (len(header) - 1))
    for r in results:
        print(
            f"{r['pupils']:>7,}  {r['step']:<29} {r['seconds']:>8.2f} {r['read']:>6.2f} "
            f"{r['apply']:>6.2f} {r['cpu']:>6.2f} {r['rows']:>9,} "
            f"{r['rows'] / r['seconds']:>8,.0f} {r['peak_mb']:>8.0f} {r['changes']:>8,}"
            + ("  (unchanged: skipped unread)" if r.get("unchanged") else "")
        )
    print(
        "\n(seconds = read + apply, wall clock; cpu = the step process's own CPU time,\n"
        "which includes SQLite's work but not a PostgreSQL server's; peak MB = the step\n"
        f"process's peak RSS, of which Django alone is ~{results[0]['baseline_mb']:.0f} MB)"
    )
    by_size: dict[int, dict[str, dict]] = {}
    for r in results:
        by_size.setdefault(r["pupils"], {})[r["step"]] = r
    for pupils, steps in by_size.items():
        full, same = steps[STEPS[0][1]], steps[STEPS[1][1]]
        goal = GOALS.get(pupils)
        verdicts = []
        if goal:
            met = "met" if full["seconds"] < goal else "MISSED"
            verdicts.append(f"full sync under {goal:g} s: {met}")
        wall, cpu = same["seconds"] / full["seconds"], same["cpu"] / full["cpu"]
        met = "met" if wall <= NO_CHANGE_GOAL else "MISSED"
        verdicts.append(
            f"no-change re-sync {wall:.3f} of a full sync's wall time, {cpu:.3f} of its CPU "
            f"(goal <= {NO_CHANGE_GOAL}): {met}"
        )
        print(f"{pupils:,} pupils: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
