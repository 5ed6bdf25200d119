"""The itinerary planner on a large family's problem: 12 teachers, 40 five-minute slots
each, a third already taken, six rooms, a 5-minute walk between rooms, two sibling
appointments already booked. Prints the time to the proven best plan for each seed.

    .venv/bin/python bench/planner.py [--seeds 10] [--repeat 3]

Pure Python, no database. Run by hand, never inside the test suite."""

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from schoolgate.evenings.planning.planner import Busy, Option, Wanted, plan

START = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def case(seed: int) -> tuple[list[Wanted], list[Busy]]:
    rng = random.Random(seed)
    wanted = []
    for t in range(12):
        free = sorted(rng.sample(range(40), 27))
        options = tuple(Option(at(s * 5), at(s * 5 + 5), ref=s) for s in free)
        wanted.append(Wanted(key=t, options=options, room=f"R{t % 6}"))
    busy = [Busy(at(60), at(65), room="R0"), Busy(at(100), at(110), room="R3")]
    return wanted, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="keep the fastest of N runs")
    args = parser.parse_args()
    timings = []
    for seed in range(args.seeds):
        wanted, busy = case(seed)
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = plan(
                wanted=wanted,
                busy=busy,
                earliest=at(0),
                latest=at(200),
                travel_gap=timedelta(minutes=5),
                time_limit=None,
            )
            best = min(best, time.perf_counter() - started)
        assert result.complete and result.exact
        timings.append(best)
        print(f"seed {seed}: {best * 1000:7.1f} ms, span {result.span}, gaps {result.idle_gaps}")
    median, worst = statistics.median(timings) * 1000, max(timings) * 1000
    print(f"12 teachers x 40 slots, {args.seeds} cases: median {median:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
