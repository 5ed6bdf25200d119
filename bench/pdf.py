"""The whole-school pack of teachers' schedules as one PDF: 70 teachers x 40
five-minute slots, about 60% booked (a few held, a third with a parent's message), a
break for everyone. Times the selector (schedules.schedules), the HTML, WeasyPrint and
the whole request (Django's test client), and one teacher's own PDF for comparison.

    .venv/bin/python bench/pdf.py [--teachers 70] [--slots 40] [--runs 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pdfbench .venv/bin/python bench/pdf.py

The school goes in through the sync engine and the evening through the set-up
services; the bookings are written straight into the tables the schedules read. The
database is a fresh SQLite file in a temp dir, or, with DATABASE_URL, a fresh
PostgreSQL database test_<name> (created, then dropped). Run by hand, never inside the
test suite; figures go in docs/benchmarks.md. Goal: the pack in under 30 s (a
download an organiser waits for once before the evening), a teacher's PDF under 1 s."""

import argparse
import io
import os
import random
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta

from fresh_database import run_in_fresh_database

SUBJECTS = ["Maths", "English", "Science", "History", "Geography", "French", "Art", "Music"]
PUPILS_PER_CLASS = 25
PACK_GOAL_S = 30
TEACHER_GOAL_S = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=70)
    parser.add_argument("--slots", type=int, default=40, help="five-minute slots per teacher")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--booked", type=float, default=0.6, help="share of slots booked")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run_in_fresh_database(
        "bench-pdf-",
        lambda: run(args),
        header=(f"seed {args.seed}; {args.runs} runs"),
    )


def build(args):
    """The school, the evening and its bookings; returns (evening, organiser, teacher
    user, appointments)."""
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
    for t in range(args.teachers):
        email = f"teacher{t}@school.example"
        s.staff[f"S{t}"] = StaffRow(f"S{t}", f"Teacher{t}", f"Surname{t:03}", "Mx", email)
        year = 7 + t % 5
        s.groups[f"G{t}"] = GroupRow(
            f"G{t}", "class", f"{year} {SUBJECTS[t % len(SUBJECTS)]} {t}", SUBJECTS[t % 8], year
        )
        s.group_teachers.add((f"G{t}", f"S{t}"))
    pupils_by_year = {}
    for year in range(7, 12):
        ids = [f"P{year}x{n}" for n in range(PUPILS_PER_CLASS * 3)]
        pupils_by_year[year] = ids
        for mis_id in ids:
            s.pupils[mis_id] = PupilRow(
                mis_id, f"Pupil{mis_id}", f"Family{mis_id}", year_group=year
            )
            for n, relationship in ((1, "PAM"), (2, "PAF")):
                contact = f"C{n}{mis_id}"
                s.contacts[contact] = ContactRow(
                    contact, f"Parent{n}", mis_id, "", f"{n}.{mis_id}@example.org"
                )
                s.links[(mis_id, contact)] = LinkRow(mis_id, contact, relationship, True, n)
    for t in range(args.teachers):
        year = 7 + t % 5
        for mis_id in rng.sample(pupils_by_year[year], PUPILS_PER_CLASS):
            s.memberships.add((f"G{t}", mis_id))
    with transaction.atomic():
        apply_snapshot(s)
    organiser = User.objects.create_user("office@school.example", is_staff=True)
    organiser.user_permissions.set(
        Permission.objects.filter(content_type__app_label="evenings", codename="organise_evenings")
    )
    teacher_user = User.objects.create_user("teacher0@school.example", is_staff=True)
    User.objects.bulk_create(
        [User(email=f"1.{m}@example.org".lower()) for ids in pupils_by_year.values() for m in ids]
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
    for n, t in enumerate(teachers):
        t.room = f"R{n:02}"
    EveningTeacher.objects.bulk_update(teachers, ["room"])
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
                    parent_id=users[f"1.{pupil_mis}@example.org".lower()],
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    status="held" if held else "confirmed",
                    expires_at=now + timedelta(days=1) if held else None,
                    confirmed_at=None if held else now,
                    message=(
                        "We would like to talk about homework and how to help at home."
                        if rng.random() < 0.33
                        else ""
                    ),
                )
            )
            claims.append(slot)
    with transaction.atomic():
        Appointment.objects.bulk_create(appointments, batch_size=500)
        SlotClaim.objects.bulk_create(
            [SlotClaim(slot=s, appointment=a) for s, a in zip(claims, appointments, strict=True)],
            batch_size=500,
        )
    return evening, organiser, teacher_user, len(teachers), len(appointments)


def run(args) -> None:
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import Client
    from pypdf import PdfReader
    from weasyprint import HTML

    from schoolgate.evenings.reports import pdf, schedules

    started = time.perf_counter()
    evening, organiser, teacher_user, teachers, booked = build(args)
    print(
        f"set-up: {teachers} teachers, {booked} appointments "
        f"in {time.perf_counter() - started:.1f} s\n"
    )
    organiser_client, teacher_client = Client(), Client()
    organiser_client.force_login(organiser)
    teacher_client.force_login(teacher_user)
    pack_url = f"/staff/evenings/{evening.pk}/schedules.pdf"
    own_url = f"/staff/my-evenings/{evening.pk}/schedule.pdf"

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = organiser_client.get(pack_url)
    assert response.status_code == 200, response.status_code
    reader = PdfReader(io.BytesIO(response.content))
    pages = len(reader.pages)
    # Every appointment's pupil is in the PDF (a spot check of the output, not a test).
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    found = schedules.schedules(evening=evening)
    missing = [
        r.appointment.pupil.display_name
        for s in found
        for r in s.rows
        if not r.is_break and r.appointment.pupil.display_name not in text
    ]

    # Wall-clock and CPU seconds of this process (SQLite's work is in it; a PostgreSQL
    # server's is not): on a shared machine the CPU time is the steadier figure.
    timings = {key: [] for key in ("selector", "html", "weasyprint", "request", "teacher")}
    cpu = {key: [] for key in timings}

    def timed(key, step):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = step()
        timings[key].append(time.perf_counter() - began)
        cpu[key].append(time.process_time() - began_cpu)
        return result

    for _ in range(args.runs):
        found = timed("selector", lambda: schedules.schedules(evening=evening))
        html = timed(
            "html",
            lambda found=found: render_to_string(
                "evenings/print/schedules.html", {"evening": evening, "schedules": found}
            ),
        )
        timed(
            "weasyprint",
            lambda html=html: HTML(
                string=html, base_url=pdf.BASE_URL, url_fetcher=pdf.LocalOnlyFetcher()
            ).write_pdf(),
        )
        assert timed("request", lambda: organiser_client.get(pack_url)).status_code == 200
        assert timed("teacher", lambda: teacher_client.get(own_url)).status_code == 200

    print(
        f"pack: {pages} pages, {len(response.content) / 1024:.0f} KiB, {len(html) / 1024:.0f} "
        f"KiB of HTML, {len(queries)} queries; appointments missing from its text: "
        f"{len(missing)}\n"
    )
    print(f"{'':36} {'median':>8} {'min':>8} {'max':>8} {'CPU med.':>9}")
    for label, key in (
        ("pack: schedules() (s)", "selector"),
        ("pack: HTML (s)", "html"),
        ("pack: WeasyPrint (s)", "weasyprint"),
        ("pack: whole request (s)", "request"),
        ("one teacher's PDF, whole request (s)", "teacher"),
    ):
        values = timings[key]
        print(
            f"{label:36} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f} "
            f"{statistics.median(cpu[key]):9.2f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the process: {peak:.0f} MB; load average {os.getloadavg()[0]:.1f}")
    # Judged on CPU time: what one core of an idle machine would take.
    pack_ok = statistics.median(cpu["request"]) < PACK_GOAL_S
    teacher_ok = statistics.median(cpu["teacher"]) < TEACHER_GOAL_S
    print(
        f"goals (CPU time): pack under {PACK_GOAL_S} s {'met' if pack_ok else 'MISSED'}; "
        f"a teacher's PDF under {TEACHER_GOAL_S} s {'met' if teacher_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
