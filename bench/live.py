"""The live pages' polling cost: the family's, the teacher's and the organiser's fragments
at grid.py's evening (70 teachers x 40 five-minute slots, about 60% booked), during the
evening, with ten teachers running late. Times each fragment through Django's test
client (middleware, selectors, template) and counts its queries.

    .venv/bin/python bench/live.py [--teachers 70] [--slots 40] [--runs 50]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/livebench .venv/bin/python bench/live.py

Run by hand, never inside the test suite; figures go in docs/benchmarks.md. Each waiting
family asks every 5 seconds: the family fragment's time says how many families one
worker process keeps up to date."""

import argparse
import os
import statistics
import time
from datetime import timedelta

from fresh_database import run_in_fresh_database
from grid import build, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=70)
    parser.add_argument("--slots", type=int, default=40, help="five-minute slots per teacher")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--booked", type=float, default=0.6, help="share of slots booked")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    run_in_fresh_database(
        "bench-live-",
        lambda: run(args),
        header=(
            f"seed {args.seed}; {args.runs} runs; load average before "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        ),
    )


def run(args) -> None:
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client

    from schoolgate.accounts.models import User
    from schoolgate.core.emails import normalise_email
    from schoolgate.evenings.live import clock
    from schoolgate.evenings.models import Appointment, EveningTeacher, RunningLate

    evening, organiser, teachers, booked = build(args)
    day = evening.days.get()
    during = day.starts_at + timedelta(minutes=5 * args.slots // 2)
    clock.set_frozen(during)
    entries = list(EveningTeacher.objects.filter(evening=evening).select_related("staff"))
    RunningLate.objects.bulk_create(
        RunningLate(teacher=t, minutes=10, said_at=during - timedelta(minutes=5))
        for t in entries[:10]
    )
    # The busiest teacher, with a staff account linked by email, and one of their parents.
    busiest = max(entries, key=lambda t: t.appointments.count())
    busiest.staff.email = "teacher@school.example"
    busiest.staff.email_key = normalise_email(busiest.staff.email)
    busiest.staff.save()
    teacher = User.objects.create_user("teacher@school.example", is_staff=True)
    teacher.user_permissions.add(Permission.objects.get(codename="teach"))
    parent = (
        Appointment.objects.filter(teacher=busiest, status="confirmed", starts_at__gt=during)
        .select_related("parent")
        .first()
        .parent
    )
    print(
        f"{teachers} teachers, {booked} appointments; the teacher has "
        f"{busiest.appointments.count()}"
    )
    pages = {
        "family fragment": (parent, f"/parents/evenings/{evening.pk}/live/"),
        "teacher fragment": (teacher, f"/staff/my-evenings/{evening.pk}/live/fragment/"),
        "organiser fragment": (organiser, f"/staff/evenings/{evening.pk}/live/fragment/"),
    }
    print(f"\n{'':22} {'queries':>8} {'median':>8} {'p95':>8} {'CPU med':>8} {'KiB':>6}")
    for label, (user, address) in pages.items():
        client = Client()
        client.force_login(user)
        first = client.get(address)
        assert first.status_code == 200, (label, first.status_code)
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(address)
        times, cpu = [], []
        for _ in range(args.runs):
            began, began_cpu = time.perf_counter(), time.process_time()
            client.get(address)
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        print(
            f"{label:22} {len(queries):8} {statistics.median(times):8.1f} "
            f"{percentile(times, 95):8.1f} {statistics.median(cpu):8.1f} "
            f"{len(first.content) / 1024:6.1f}"
        )
    clock.set_frozen(None)


if __name__ == "__main__":
    main()
