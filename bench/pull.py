"""A Wonde pull of a large demo school over real HTTP on 127.0.0.1, against syncing the
same school from its CTF and timetable files.

    .venv/bin/python bench/pull.py [--pupils 2000] [--per-page 200] [--seed 1]

The Wonde-shaped server and data are the test suite's (tests/mis/connector_server.py,
tests/mis/wonde_data.py). Times: the pull alone (every page read and parsed, nothing
applied), the pull applied into an empty mirror, and the same files synced into an
empty mirror; also pages and bytes read. Fresh database (fresh_database.py). Run by
hand, never in the test suite."""

import argparse
import sys
import time
from pathlib import Path

from fresh_database import run_in_fresh_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "mis"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    run_in_fresh_database(
        "bench-pull-", lambda: run(args), header=f"pupils={args.pupils} per_page={args.per_page}"
    )


def run(args) -> None:
    import os

    from connector_server import WONDE_TOKEN, start
    from mirror_rows import empty_mirror
    from wonde_data import wonde_records

    from schoolgate.mis.connectors.pull import run_pull
    from schoolgate.mis.connectors.wonde import WondePull, WondeSource
    from schoolgate.mis.demo import generate_school
    from schoolgate.mis.models import SyncRun
    from schoolgate.mis.sync import sync_mis

    folder = Path(os.environ["SCHOOLGATE_DATA_DIR"]) / "school"  # removed with the database
    demo = generate_school(folder, pupils=args.pupils, seed=args.seed)
    server = start()
    server.state.wonde = wonde_records(demo.school)
    server.state.wonde_school = {"id": "A1", "name": demo.school.name}
    server.state.page_size = args.per_page
    source = WondeSource(school_id="A1", token=WONDE_TOKEN, api_url=f"{server.url}/v1.0")

    started = time.perf_counter()
    pull = WondePull(source)
    snapshot = pull.read()
    read_s = time.perf_counter() - started
    print(
        f"read only      {read_s:7.2f} s  {pull.pages_read} pages, "
        f"{pull.client.bytes_read / 1e6:.1f} MB, {len(snapshot.pupils)} pupils, "
        f"{len(snapshot.contacts)} contacts"
    )

    started = time.perf_counter()
    run = run_pull(source, trigger=SyncRun.Trigger.COMMAND)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    print(f"pull + apply   {time.perf_counter() - started:7.2f} s  (run {run.pk})")

    empty_mirror()
    started = time.perf_counter()
    run = sync_mis(demo.paths, trigger=SyncRun.Trigger.COMMAND)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    print(f"files (CTF+CSV){time.perf_counter() - started:7.2f} s  (run {run.pk})")
    server.shutdown()


if __name__ == "__main__":
    main()
