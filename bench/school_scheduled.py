"""A school-scheduled evening at full size: 1,000 families (2,000 pupils), 70 teachers,
40 five-minute slots, a tea break for everyone, a 2-minute travel gap between rooms.
Each pupil's family asks for one to three of the pupil's teachers, in order; a third
of families give a window (arrive after / leave by); teachers flag about one wished
meeting in twelve as a must-see.

Times the build (reading the wishes, the solver) and the publish (the booking engine,
family by family, in one transaction), then reads the published rows back and counts
every broken rule (violations). The first-come figures come from the same wishes
booked family by family in random order by the rush's own planner (planner.plan
over the teachers' free times, as the "Find times for me" page does).

    .venv/bin/python bench/school_scheduled.py [--json] [--families 1000] [--seconds 40]

Prints one JSON object last with --json. Run by hand; figures in docs/benchmarks.md."""

import argparse
import json
import os
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from fresh_database import run_in_fresh_database

SUBJECTS = ["Maths", "English", "Science", "History", "Geography", "French", "Art", "Music"]
CLASSES_PER_PUPIL = 4
GAP = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--teachers", type=int, default=70)
    parser.add_argument("--slots", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=40, help="the solver's time limit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run_in_fresh_database(
        "bench-scheduled-",
        lambda: run(args),
        header=(
            f"seed {args.seed}; load average before "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        ),
    )


def build_school(args):
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from schoolgate.accounts.models import User
    from schoolgate.evenings.models import EveningTeacher
    from schoolgate.evenings.school_scheduled import wishes
    from schoolgate.evenings.school_scheduled.models import (
        FamilyWish,
        MeetingWish,
        TeacherFlag,
    )
    from schoolgate.evenings.setup import services as setup
    from schoolgate.mis.models import Pupil
    from schoolgate.mis.snapshot import ContactRow, GroupRow, LinkRow, PupilRow, Snapshot, StaffRow
    from schoolgate.mis.sync import apply_snapshot

    rng = random.Random(args.seed)
    covers = {"pupils", "contacts", "links", "staff", "groups:registration", "groups:class"}
    s = Snapshot(covers=covers, full=True, source_format="bench", files=["bench"])
    years = list(range(7, 12))
    classes_of_year = defaultdict(list)
    for t in range(args.teachers):
        year = years[t % len(years)]
        s.staff[f"S{t}"] = StaffRow(f"S{t}", f"Teacher{t}", f"Surname{t:03}", "Mx")
        s.groups[f"G{t}"] = GroupRow(
            f"G{t}", "class", f"{year} {SUBJECTS[t % 8]} {t}", SUBJECTS[t % 8], year
        )
        s.group_teachers.add((f"G{t}", f"S{t}"))
        classes_of_year[year].append(f"G{t}")
    families = []
    for f in range(args.families):
        contact = f"C{f}"
        s.contacts[contact] = ContactRow(contact, "Parent", f"Family{f}", "", f"f{f}@example.org")
        children = []
        for c in range(2):
            mis_id = f"P{f}-{c}"
            year = rng.choice(years)
            s.pupils[mis_id] = PupilRow(mis_id, f"Child{c}", f"Family{f}", year_group=year)
            s.links[(mis_id, contact)] = LinkRow(mis_id, contact, "PAM", True, 1)
            own = classes_of_year[year]
            for group in rng.sample(own, min(CLASSES_PER_PUPIL, len(own))):
                s.memberships.add((group, mis_id))
            children.append(mis_id)
        families.append((f"f{f}@example.org", children))
    with transaction.atomic():
        apply_snapshot(s)
    organiser = User.objects.create_user("office@school.example", is_staff=True)
    organiser.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="evenings",
            codename__in=["organise_evenings", "book_for_parents"],
        )
    )
    organiser = User.objects.get(pk=organiser.pk)
    User.objects.bulk_create([User(email=email) for email, _c in families])
    now = datetime.now(UTC)
    day = (now + timedelta(days=10)).replace(hour=16, minute=0, second=0, microsecond=0)
    evening = setup.create_evening(
        actor=organiser,
        name="Bench school-scheduled evening",
        days=[(day, day + timedelta(minutes=5 * args.slots))],
        booking_opens=now + timedelta(days=2),
        booking_closes=day - timedelta(hours=2),
        slot_minutes=5,
        year_groups=years,
        travel_gap_minutes=GAP,
    )
    teachers = list(EveningTeacher.objects.filter(evening=evening))
    for i, t in enumerate(teachers):
        t.room = f"Room {i // 2}"  # two teachers share each room
    EveningTeacher.objects.bulk_update(teachers, ["room"])
    setup.add_break(
        evening=evening,
        actor=organiser,
        starts_at=day + timedelta(minutes=95),
        ends_at=day + timedelta(minutes=105),
        label="Tea",
    )
    scheduled = wishes.open_for_wishes(
        evening=evening,
        actor=organiser,
        wishes_close=now + timedelta(days=1),
        time_limit_seconds=int(args.seconds),
    )
    # Wishes straight into the tables (the services' checks are the pages' subject).
    users = {u.email: u.pk for u in User.objects.filter(is_staff=False)}
    pupils = {p.mis_id: p.pk for p in Pupil.objects.all()}
    teacher_of_group = {f"G{i}": None for i in range(args.teachers)}
    for t in teachers:
        teacher_of_group[f"G{t.staff.mis_id[1:]}"] = t.pk
    groups_of = defaultdict(list)
    for group, pupil in s.memberships:
        groups_of[pupil].append(group)
    family_rows, meeting_rows, flags = [], [], {}
    for email, _children in families:
        window = rng.random()
        family_rows.append(
            FamilyWish(
                evening=evening,
                parent_id=users[email],
                arrive_after=_local(day, 30) if window < 0.15 else None,
                leave_by=_local(day, 5 * args.slots - 45) if 0.15 <= window < 0.33 else None,
                one_visit=rng.random() < 0.85,
            )
        )
    FamilyWish.objects.bulk_create(family_rows)
    family_ids = dict(FamilyWish.objects.filter(evening=evening).values_list("parent_id", "pk"))
    for email, children in families:
        for mis_id in children:
            wanted = rng.sample(sorted(groups_of[mis_id]), rng.choice([1, 1, 1, 2, 2]))
            for rank, group in enumerate(wanted, 1):
                teacher_id = teacher_of_group[group]
                meeting_rows.append(
                    MeetingWish(
                        family_id=family_ids[users[email]],
                        pupil_id=pupils[mis_id],
                        teacher_id=teacher_id,
                        rank=rank,
                    )
                )
                if rng.random() < 1 / 12:
                    flags[(teacher_id, pupils[mis_id])] = TeacherFlag.Flag.MUST
    MeetingWish.objects.bulk_create(meeting_rows, batch_size=1000)
    TeacherFlag.objects.bulk_create(
        [
            TeacherFlag(evening=evening, teacher_id=t, pupil_id=p, flag=f)
            for (t, p), f in flags.items()
        ]
    )
    return scheduled, organiser


def _local(day, minutes):
    from django.utils import timezone

    return timezone.localtime(day + timedelta(minutes=minutes)).time()


def first_come(problem, origin, rng):
    """The same wishes booked family by family in random order by the planner."""
    from schoolgate.evenings.planning import planner

    taken = set()
    slots_of = {t.id: sorted(t.slots, key=lambda s: s.start) for t in problem.teachers.values()}
    rooms = {t.id: t.room for t in problem.teachers.values()}
    by_family = defaultdict(list)
    for r in problem.requests:
        by_family[r.family].append(r)
    order = sorted(by_family, key=str)
    rng.shuffle(order)
    placed = []

    def at(minute):
        return origin + timedelta(minutes=minute)

    for family_id in order:
        family = problem.families[family_id]
        wanted = []
        for r in by_family[family_id]:
            options = []
            slots = slots_of[r.teacher]
            for i, first in enumerate(slots):
                run, end = [first], first.end
                j = i
                while end - first.start < r.minutes and j + 1 < len(slots):
                    j += 1
                    if slots[j].start != end:
                        break
                    run.append(slots[j])
                    end = slots[j].end
                if end - first.start >= r.minutes and not any(s.id in taken for s in run):
                    options.append(
                        planner.Option(at(first.start), at(end), ref=tuple(s.id for s in run))
                    )
            wanted.append(planner.Wanted(key=r.key, options=tuple(options), room=rooms[r.teacher]))
        lo, hi = next(iter(family.windows.values()), (None, None))
        plan = planner.plan(
            wanted=wanted,
            earliest=at(lo) if lo is not None else None,
            latest=at(hi) if hi is not None else None,
            travel_gap=timedelta(minutes=problem.travel_gap),
        )
        by_key = {r.key: r for r in by_family[family_id]}
        for key, option in plan.placed.items():
            taken.update(option.ref)
            r = by_key[key]
            placed.append((r.family, r.pupil, option.start, option.end, r.must))
    return placed


def violations(evening, windows) -> list[str]:
    """Every broken rule in the published rows, read back on their own."""
    from schoolgate.evenings.models import Appointment, Break, Slot

    rows = list(
        Appointment.objects.filter(evening=evening, status="confirmed").select_related("teacher")
    )
    broken = []
    by_teacher, by_parent, pairs = defaultdict(list), defaultdict(list), set()
    for a in rows:
        by_teacher[a.teacher_id].append(a)
        by_parent[a.parent_id].append(a)
        if (a.pupil_id, a.teacher_id) in pairs:
            broken.append(f"pupil {a.pupil_id} meets teacher {a.teacher_id} twice")
        pairs.add((a.pupil_id, a.teacher_id))
    starts = set(Slot.objects.filter(evening=evening).values_list("teacher_id", "starts_at"))
    for a in rows:
        if (a.teacher_id, a.starts_at) not in starts:
            broken.append(f"appointment {a.pk} does not start on a slot")
    for mine in by_teacher.values():
        mine.sort(key=lambda a: a.starts_at)
        for x, y in zip(mine, mine[1:], strict=False):
            if y.starts_at < x.ends_at:
                broken.append(f"teacher {x.teacher_id} double-booked at {y.starts_at}")
    gap = timedelta(minutes=evening.travel_gap_minutes)
    for parent_id, mine in by_parent.items():
        mine.sort(key=lambda a: a.starts_at)
        for i, x in enumerate(mine):
            for y in mine[i + 1 :]:
                walk = (
                    gap
                    if " ".join(x.teacher.room.split()).casefold()
                    != " ".join(y.teacher.room.split()).casefold()
                    else timedelta(0)
                )
                if y.starts_at < x.ends_at + walk:
                    broken.append(f"parent {parent_id} cannot make {x.pk} and {y.pk}")
        lo, hi = windows.get(parent_id, (None, None))
        for a in mine:
            if (lo and a.starts_at < lo) or (hi and a.ends_at > hi):
                broken.append(f"appointment {a.pk} outside the family's window")
    for brk in Break.objects.filter(evening=evening):
        teachers = None if brk.all_teachers else set(brk.teachers.values_list("pk", flat=True))
        for a in rows:
            if (teachers is None or a.teacher_id in teachers) and (
                a.starts_at < brk.ends_at and brk.starts_at < a.ends_at
            ):
                broken.append(f"appointment {a.pk} in a break")
    return broken


def run(args) -> None:
    from django.utils import timezone

    from schoolgate.evenings.school_scheduled import build, publish
    from schoolgate.evenings.school_scheduled.models import FamilyWish, MeetingWish

    t0 = time.perf_counter()
    scheduled, organiser = build_school(args)
    print(f"set-up in {time.perf_counter() - t0:.1f} s")

    started, cpu = time.perf_counter(), time.process_time()
    built = build.build(scheduled=scheduled, actor=organiser, log=print)
    build_seconds = time.perf_counter() - started
    # Wall time on a shared machine depends on the load: the CPU time says what it cost.
    build_cpu = time.process_time() - cpu
    figures = built.result["figures"]
    print(f"built in {build_seconds:.1f} s: {json.dumps(figures)}; bound {built.result['bound']}")

    started = time.perf_counter()
    done = publish.publish(scheduled=built, actor=organiser)
    publish_seconds = time.perf_counter() - started
    print(f"published {done.appointments} appointments in {publish_seconds:.1f} s")

    evening = built.evening
    tz = timezone.get_current_timezone()
    day = evening.days.first()
    windows = {}
    for wish in FamilyWish.objects.filter(evening=evening):
        date = timezone.localdate(day.starts_at)
        windows[wish.parent_id] = (
            datetime.combine(date, wish.arrive_after, tzinfo=tz) if wish.arrive_after else None,
            datetime.combine(date, wish.leave_by, tzinfo=tz) if wish.leave_by else None,
        )
    broken = violations(evening, windows)
    for line in broken[:10]:
        print("VIOLATION", line)

    # First come, first served on the same wishes (the free times before publishing).
    from schoolgate.evenings.models import Appointment
    from schoolgate.evenings.school_scheduled.build import collect, family_waits

    problem, origin = _problem_before(evening, collect)
    rng = random.Random(args.seed)
    fc = first_come(problem, origin, rng)
    one_visit = {f.id: f.one_visit for f in problem.families.values()}
    fc_waits = family_waits([(f, p, s, e) for f, p, s, e, _m in fc], one_visit)
    rows = Appointment.objects.filter(evening=evening, status="confirmed")
    ours = family_waits(
        [(a.parent_id, a.pupil_id, a.starts_at, a.ends_at) for a in rows], one_visit
    )
    result = {
        "families": len(problem.families),
        "teachers": len(problem.teachers),
        "slots": args.slots,
        "seconds": round(build_seconds, 1),
        "cpu_seconds": round(build_cpu, 1),
        "publish_seconds": round(publish_seconds, 1),
        "violations": len(broken),
        "must_see_asked": figures["must_see_asked"],
        "must_see_placed": figures["must_see_placed"],
        "meetings_asked": figures["meetings_asked"],
        "meetings_placed": rows.count(),
        "mean_wait_min": round(sum(ours.values()) / max(len(ours), 1), 1),
        "first_come_meetings_placed": len(fc),
        "first_come_must_see_placed": sum(1 for *_x, m in fc if m),
        "first_come_mean_wait_min": round(sum(fc_waits.values()) / max(len(fc_waits), 1), 1),
        "wishes": MeetingWish.objects.filter(family__evening=evening).count(),
    }
    print(json.dumps(result) if args.json else result)


def _problem_before(evening, collect):
    """The problem as it was before publishing: the published appointments' slots
    count as free again (read with `now` before any booking: live rows left out)."""
    from schoolgate.evenings.models import Appointment

    ids = list(Appointment.objects.filter(evening=evening).values_list("pk", flat=True))
    from django.db import transaction

    with transaction.atomic():
        Appointment.objects.filter(pk__in=ids).update(status="cancelled")
        from schoolgate.evenings.models import SlotClaim

        SlotClaim.objects.filter(appointment_id__in=ids).delete()
        problem, origin = collect(evening)
        transaction.set_rollback(True)
    return problem, origin


if __name__ == "__main__":
    main()
