"""Running an evening at a large school: the take-up page, the chase-up email to
every family who has not booked, the bookings CSV and an availability import.

    .venv/bin/python bench/takeup.py [--pupils-per-year 300] [--teachers 70] [--runs 10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/takeupbench .venv/bin/python bench/takeup.py

Five year groups, ten forms, `--teachers` classes of 30; about 60% of pupils booked
(one confirmed appointment each, written straight into the tables). Times the take-up
selector and the whole page (Django's test client), counts their queries, then times
one chase-up click (every parent of a pupil not booked: one outbox row each) and a
second click the same day (nothing sent), the CSV export and the import of a file
naming every teacher. Fresh SQLite file in a temp dir, or with DATABASE_URL a fresh
PostgreSQL database test_<name> (dropped at the end). Run by hand, never in the test
suite; figures go in docs/benchmarks.md. Goals: the page under 1 s, a chase-up of
1,000 parents under 10 s."""

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from fresh_database import run_in_fresh_database

SUBJECTS = ["Maths", "English", "Science", "History", "Geography", "French", "Art", "Music"]
CLASS_SIZE = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils-per-year", type=int, default=300)
    parser.add_argument("--teachers", type=int, default=70)
    parser.add_argument("--booked", type=float, default=0.6, help="share of pupils booked")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_in_fresh_database(
        "bench-takeup-",
        lambda: run(args),
        header=(f"seed {args.seed}; {args.runs} runs"),
    )


def build(args):
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from schoolgate.accounts.models import User
    from schoolgate.evenings.models import Appointment, Evening, EveningTeacher, Slot, SlotClaim
    from schoolgate.evenings.setup import services as setup
    from schoolgate.mis.models import GroupMembership, GroupTeacher, Pupil
    from schoolgate.mis.snapshot import ContactRow, GroupRow, LinkRow, PupilRow, Snapshot, StaffRow
    from schoolgate.mis.sync import apply_snapshot

    rng = random.Random(args.seed)
    covers = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}
    s = Snapshot(covers=covers, full=True, source_format="bench", files=["bench"])
    by_year = {}
    for year in range(7, 12):
        ids = [f"P{year}-{n}" for n in range(args.pupils_per_year)]
        by_year[year] = ids
        for form in "AB":
            s.groups[f"{year}{form}"] = GroupRow(f"{year}{form}", "registration", f"{year}{form}")
        for n, mis_id in enumerate(ids):
            s.pupils[mis_id] = PupilRow(mis_id, f"Pupil{n}", f"Family{mis_id}", year_group=year)
            s.memberships.add((f"{year}{'AB'[n % 2]}", mis_id))
            for parent in ("1", "2"):
                contact = f"C{mis_id}-{parent}"
                s.contacts[contact] = ContactRow(
                    contact, f"Parent{parent}", mis_id, "", f"{mis_id}-{parent}@example.org"
                )
                s.links[(mis_id, contact)] = LinkRow(mis_id, contact, "PAM", True, int(parent))
    for t in range(args.teachers):
        s.staff[f"S{t}"] = StaffRow(
            f"S{t}", f"Teacher{t}", f"Surname{t:03}", "Mx", f"t{t}@school.example"
        )
        year = 7 + t % 5
        s.groups[f"G{t}"] = GroupRow(
            f"G{t}", "class", f"{year} {SUBJECTS[t % 8]} {t}", SUBJECTS[t % 8], year
        )
        s.group_teachers.add((f"G{t}", f"S{t}"))
        for mis_id in rng.sample(by_year[year], min(CLASS_SIZE, len(by_year[year]))):
            s.memberships.add((f"G{t}", mis_id))
    with transaction.atomic():
        apply_snapshot(s)
    organiser = User.objects.create_user("office@school.example", is_staff=True)
    organiser.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="evenings", codename__in=["organise_evenings"]
        )
    )
    organiser = User.objects.get(pk=organiser.pk)
    User.objects.bulk_create(
        [
            User(email=f"{m}-{p}@example.org".lower())
            for ids in by_year.values()
            for m in ids
            for p in "12"
        ],
        batch_size=1000,
    )
    now = datetime.now(UTC)
    day = (now + timedelta(days=10)).replace(hour=16, minute=0, second=0, microsecond=0)
    evening = setup.create_evening(
        actor=organiser,
        name="Bench evening",
        days=[(day, day + timedelta(hours=3))],
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
    # One confirmed appointment for ~60% of the pupils, with one of their teachers.
    pupils = {p.mis_id: p.pk for p in Pupil.objects.all()}
    users = {u.email: u.pk for u in User.objects.filter(is_staff=False)}
    teachers = {t.staff_id: t for t in EveningTeacher.objects.filter(evening=evening)}
    group_teacher = dict(GroupTeacher.objects.values_list("group_id", "staff_id"))
    classes = {}
    for group_id, pupil_mis in GroupMembership.objects.filter(group__kind="class").values_list(
        "group_id", "pupil__mis_id"
    ):
        classes.setdefault(pupil_mis, []).append(group_id)
    claimed = set(SlotClaim.objects.values_list("slot_id", flat=True))
    free = {}
    # The last hour is left free, for the availability import to fill.
    for slot in Slot.objects.filter(evening=evening, starts_at__lt=day + timedelta(hours=2)):
        if slot.pk not in claimed:
            free.setdefault(slot.teacher_id, []).append(slot)
    appointments, slots = [], []
    for mis_id, pupil_id in pupils.items():
        if rng.random() >= args.booked or mis_id not in classes:
            continue
        teacher = teachers[group_teacher[rng.choice(classes[mis_id])]]
        if not free.get(teacher.pk):
            continue
        slot = free[teacher.pk].pop(rng.randrange(len(free[teacher.pk])))
        appointments.append(
            Appointment(
                evening=evening,
                day_id=slot.day_id,
                pupil_id=pupil_id,
                teacher=teacher,
                parent_id=users[f"{mis_id}-1@example.org".lower()],
                booked_by_id=users[f"{mis_id}-1@example.org".lower()],
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                status="confirmed",
                confirmed_at=now,
                message="=1+1" if rng.random() < 0.05 else "",
            )
        )
        slots.append(slot)
    with transaction.atomic():
        Appointment.objects.bulk_create(appointments, batch_size=500)
        SlotClaim.objects.bulk_create(
            [SlotClaim(slot=s, appointment=a) for s, a in zip(slots, appointments, strict=True)],
            batch_size=500,
        )
    return evening, organiser, day


def timed(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def describe(times) -> str:
    return (
        f"median {statistics.median(times):.0f} ms, "
        f"best {min(times):.0f} ms, worst {max(times):.0f} ms"
    )


def run(args):
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from schoolgate.evenings.models import EveningTeacher
    from schoolgate.evenings.reports import bookings_csv
    from schoolgate.evenings.reports.takeup import take_up
    from schoolgate.evenings.running import chaseup
    from schoolgate.evenings.setup import availability_csv
    from schoolgate.outbox.models import OutboxMessage

    start = time.perf_counter()
    evening, organiser, day = build(args)
    figures = take_up(evening)
    print(
        f"built in {time.perf_counter() - start:.1f} s: {figures.overall.total} pupils, "
        f"{figures.overall.booked} booked, {len(figures.not_booked)} not, "
        f"{len(figures.teachers)} teachers\n"
    )

    print(f"take_up() selector:   {describe(timed(args.runs, lambda: take_up(evening)))}")
    client = Client()
    client.force_login(organiser)
    address = reverse("evenings_staff:takeup", args=[evening.pk])
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        take_up(evening)
    assert client.get(address).status_code == 200
    print(f"take-up page:         {describe(timed(args.runs, lambda: client.get(address)))}")
    print(f"                      the selector's queries: {len(queries)}")

    start = time.perf_counter()
    result = chaseup.send_chase_ups(evening=evening, actor=organiser)
    first = time.perf_counter() - start
    queued = OutboxMessage.objects.filter(template=chaseup.TEMPLATE).count()
    print(
        f"chase-up, first click: {first:.2f} s, {len(result.sent)} parents emailed "
        f"({queued} outbox rows), {len(result.sent) / first:.0f} parents/s"
    )
    start = time.perf_counter()
    again = chaseup.send_chase_ups(evening=evening, actor=organiser)
    print(
        f"chase-up, second click: {time.perf_counter() - start:.2f} s, "
        f"{len(again.sent)} sent, {len(again.already)} already chased today"
    )

    times = timed(args.runs, lambda: bookings_csv.bookings_csv(evening))
    size = len(bookings_csv.bookings_csv(evening))
    print(f"bookings CSV:         {describe(times)} ({size / 1024:.0f} KB)")

    zone = timezone.get_default_timezone()
    local_day = day.astimezone(zone)
    date = f"{local_day:%d/%m/%Y}"
    teachers = EveningTeacher.objects.filter(evening=evening).select_related("staff")
    rows = [
        f"{t.staff.mis_id},{date},{local_day:%H:%M},{local_day + timedelta(hours=2):%H:%M}"
        for t in teachers
    ]
    data = ("teacher,date,from,to\n" + "\n".join(rows) + "\n").encode()
    for label in ("availability import", "the same file again"):
        start = time.perf_counter()
        imported = availability_csv.import_file(
            evening=evening, data=data, name="bench.csv", actor=organiser
        )
        print(
            f"{label + ':':22}{time.perf_counter() - start:.2f} s for {len(rows)} rows "
            f"({imported.added} breaks added, {imported.unchanged_teacher_days} unchanged)"
        )


if __name__ == "__main__":
    main()
