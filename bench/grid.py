"""The organiser's grid: 70 teachers x 40 five-minute slots, about 60% booked (a few
held), a break for everyone, one teacher absent for the last hour. Times the whole
page (Django's test client: middleware, the selector, the template) and the selector
alone, and counts the page's queries.

    .venv/bin/python bench/grid.py [--teachers 70] [--slots 40] [--runs 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridbench .venv/bin/python bench/grid.py

The school goes in through the sync engine and the evening through the set-up
services (its teachers derived from the classes, its slots precomputed); the bookings
are written straight into the tables the grid reads (appointments and slot claims),
since the booking engine's speed is bench/booking_rush.py's subject. The database is
a fresh SQLite file in a temp dir, or, with DATABASE_URL, a fresh PostgreSQL database
test_<name> (created, then dropped). Run by hand, never inside the test suite;
figures go in docs/benchmarks.md. Goal: the page under 300 ms."""

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from fresh_database import run_in_fresh_database

SUBJECTS = ["Maths", "English", "Science", "History", "Geography", "French", "Art", "Music"]
PUPILS_PER_CLASS = 25
GOAL_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=70)
    parser.add_argument("--slots", type=int, default=40, help="five-minute slots per teacher")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--booked", type=float, default=0.6, help="share of slots booked")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_in_fresh_database(
        "bench-grid-",
        lambda: run(args),
        header=(
            f"seed {args.seed}; {args.runs} runs; load average before "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        ),
    )


def build(args):
    """The school, the evening and its bookings; returns (evening, organiser)."""
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from schoolgate.accounts.models import User
    from schoolgate.evenings.models import (
        Appointment,
        Evening,
        EveningTeacher,
        Slot,
        SlotClaim,
        TeacherAbsence,
    )
    from schoolgate.evenings.setup import services as setup
    from schoolgate.mis.models import GroupMembership, GroupTeacher, Pupil
    from schoolgate.mis.snapshot import ContactRow, GroupRow, LinkRow, PupilRow, Snapshot, StaffRow
    from schoolgate.mis.sync import apply_snapshot

    rng = random.Random(args.seed)
    covers = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}
    s = Snapshot(covers=covers, full=True, source_format="bench", files=["bench"])
    for t in range(args.teachers):
        s.staff[f"S{t}"] = StaffRow(f"S{t}", f"Teacher{t}", f"Surname{t:03}", "Mx")
        year = 7 + t % 5
        s.groups[f"G{t}"] = GroupRow(
            f"G{t}", "class", f"{year} {SUBJECTS[t % len(SUBJECTS)]} {t}", SUBJECTS[t % 8], year
        )
        s.group_teachers.add((f"G{t}", f"S{t}"))
    pupils_by_year = {}
    for year in range(7, 12):
        ids = [f"P{year}-{n}" for n in range(PUPILS_PER_CLASS * 3)]
        pupils_by_year[year] = ids
        for mis_id in ids:
            s.pupils[mis_id] = PupilRow(
                mis_id, f"Pupil{mis_id}", f"Family{mis_id}", year_group=year
            )
            contact = f"C{mis_id}"
            s.contacts[contact] = ContactRow(contact, "Parent", mis_id, "", f"{mis_id}@example.org")
            s.links[(mis_id, contact)] = LinkRow(mis_id, contact, "PAM", True, 1)
    for t in range(args.teachers):
        year = 7 + t % 5
        for mis_id in rng.sample(pupils_by_year[year], PUPILS_PER_CLASS):
            s.memberships.add((f"G{t}", mis_id))
    with transaction.atomic():
        apply_snapshot(s)
    organiser = User.objects.create_user("office@school.example", is_staff=True)
    organiser.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="evenings",
            codename__in=["organise_evenings", "book_for_parents"],
        )
    )
    User.objects.bulk_create(
        [User(email=f"{m}@example.org".lower()) for ids in pupils_by_year.values() for m in ids]
    )
    day = (datetime.now(UTC) + timedelta(days=10)).replace(
        hour=16, minute=0, second=0, microsecond=0
    )
    now = datetime.now(UTC)
    evening = setup.create_evening(
        actor=organiser,
        name="Bench evening",
        days=[(day, day + timedelta(minutes=5 * args.slots))],
        booking_opens=now - timedelta(days=1),
        booking_closes=day - timedelta(hours=2),
        slot_minutes=5,
        year_groups=[7, 8, 9, 10, 11],
    )
    setup.set_status(evening=evening, actor=organiser, status=Evening.Status.PUBLISHED)
    setup.add_break(
        evening=evening,
        actor=organiser,
        starts_at=day + timedelta(minutes=90),
        ends_at=day + timedelta(minutes=100),
        label="Tea",
    )
    teachers = list(EveningTeacher.objects.filter(evening=evening).select_related("staff"))
    absent = teachers[0]
    TeacherAbsence.objects.create(
        evening=evening,
        teacher=absent,
        action=TeacherAbsence.Action.CANCEL,
        starts_at=day + timedelta(minutes=5 * args.slots - 60),
        ends_at=day + timedelta(minutes=5 * args.slots),
    )
    users = {u.email: u.pk for u in User.objects.filter(is_staff=False)}
    pupils = {p.mis_id: p.pk for p in Pupil.objects.all()}
    members = {}
    for group_mis, pupil_mis in GroupMembership.objects.values_list(
        "group__mis_id", "pupil__mis_id"
    ):
        members.setdefault(group_mis, []).append(pupil_mis)
    group_of = dict(GroupTeacher.objects.values_list("staff_id", "group__mis_id"))
    claimed = set(SlotClaim.objects.values_list("slot_id", flat=True))
    appointments, claims = [], []
    for t in teachers:
        free = [
            s for s in Slot.objects.filter(teacher=t).order_by("starts_at") if s.pk not in claimed
        ]
        chosen = rng.sample(
            free, min(len(members[group_of[t.staff_id]]), int(len(free) * args.booked))
        )
        for slot, pupil_mis in zip(chosen, members[group_of[t.staff_id]], strict=False):
            held = rng.random() < 0.03
            appointments.append(
                Appointment(
                    evening=evening,
                    day_id=slot.day_id,
                    pupil_id=pupils[pupil_mis],
                    teacher=t,
                    parent_id=users[f"{pupil_mis}@example.org".lower()],
                    booked_by_id=organiser.pk if rng.random() < 0.1 else None,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    status="held" if held else "confirmed",
                    expires_at=now + timedelta(days=1) if held else None,
                    confirmed_at=None if held else now,
                )
            )
            claims.append(slot)
    with transaction.atomic():
        Appointment.objects.bulk_create(appointments, batch_size=500)
        SlotClaim.objects.bulk_create(
            [SlotClaim(slot=s, appointment=a) for s, a in zip(claims, appointments, strict=True)],
            batch_size=500,
        )
    return evening, organiser, len(teachers), len(appointments)


def run(args) -> None:
    from django.db import connection
    from django.test import Client

    from schoolgate.evenings.reports import grid

    started = time.perf_counter()
    evening, organiser, teachers, booked = build(args)
    print(
        f"set-up: {teachers} teachers, {booked} appointments "
        f"in {time.perf_counter() - started:.1f} s"
    )
    client = Client()
    client.force_login(organiser)
    address = f"/staff/evenings/{evening.pk}/grid/"
    first = client.get(address)
    assert first.status_code == 200, first.status_code
    cells = first.content.count(b"sg-grid__cell--")
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # A wrapper, not CaptureQueriesContext: the request closes the connection it counts.
    with connection.execute_wrapper(count):
        client.get(address)
    pages, cpu, selectors = [], [], []
    for _ in range(args.runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        response = client.get(address)
        pages.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200
        began = time.perf_counter()
        result = grid.build_grid(evening)
        selectors.append((time.perf_counter() - began) * 1000)
    filtered = []
    for _ in range(args.runs):
        began = time.perf_counter()
        client.get(address, {"department": "Maths"})
        filtered.append((time.perf_counter() - began) * 1000)
    print(
        f"grid: {len(result.rows)} rows x {len(result.columns)} columns, {cells} cells, "
        f"{len(first.content) / 1024:.0f} KiB of HTML\n"
    )
    print(f"{'':36} {'median':>8} {'p95':>8} {'max':>8}")
    for label, values in (
        ("whole page (ms)", pages),
        ("  its CPU time in this process (ms)", cpu),
        ("  of which build_grid (ms)", selectors),
        ("page filtered to one dept. (ms)", filtered),
    ):
        print(
            f"{label:36} {statistics.median(values):8.1f} {percentile(values, 95):8.1f} "
            f"{max(values):8.1f}"
        )
    median = statistics.median(pages)
    print(
        f"\nqueries per page: {len(queries)}; goal, the page under {GOAL_MS} ms (median "
        f"wall-clock): {'met' if median < GOAL_MS else 'MISSED'}. On a busy machine the "
        "wall-clock time is mostly waiting for a core: the CPU time is the page's own cost."
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
