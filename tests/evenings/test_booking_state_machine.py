"""Random sequences of holds, confirmations, bookings, cancellations, moves, staff
overrides and waiting (so holds expire): after every step the database must still
keep every rule. Runs on SQLite and PostgreSQL."""

import contextlib
from collections import Counter, defaultdict
from datetime import timedelta

from django.db import transaction
from evenings_school import NOW, london, make_evening, teacher
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import bookable_teachers, live_q
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import (
    Appointment,
    ParentCell,
    ParentRoomCell,
    Slot,
    SlotClaim,
)
from schoolgate.evenings.planning import planner
from schoolgate.evenings.setup import services as setup

MAX_PER_PARENT = 4
MAX_PER_PUPIL = 3
GAP = timedelta(minutes=5)


def build(school):
    """A two-day evening, small enough for collisions: six slots a teacher a day."""
    addon = get_addon_settings()
    addon.one_day_only = True
    addon.save()
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 17, 0)),
            (london(2026, 3, 12, 16, 0), london(2026, 3, 12, 17, 0)),
        ],
        max_per_parent=MAX_PER_PARENT,
        max_per_pupil=MAX_PER_PUPIL,
        travel_gap_minutes=5,
    )
    setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-SUE"])
    for mis_id, room in (("S-MIA", "M1"), ("S-TOM", "M1"), ("S-EVE", "E2"), ("S-SAM", "S4")):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room=room
        )
    # Maths meetings take two slots.
    setup.set_class_length(
        evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=20
    )
    families = {
        school.ann: [school.amy, school.ben],
        school.bea: [school.cal],
        school.deb: [school.dan],
        school.don: [school.dan],
    }
    pupils = [p.pk for children in families.values() for p in children]
    bookable = bookable_teachers(evening=evening, pupil_ids=pupils)
    pairs = {
        parent: [(p, t) for p in children for t in bookable[p.pk].values()]
        for parent, children in families.items()
    }
    slots = defaultdict(list)
    for s in Slot.objects.filter(evening=evening).order_by("starts_at"):
        slots[s.teacher_id].append(s)
    return evening, pairs, slots


def check_rules(evening, now):
    """Every rule, read back from the database."""
    rows = list(
        Appointment.objects.filter(evening=evening, status__in=Appointment.LIVE).select_related(
            "teacher"
        )
    )
    # Rule 1: a teacher's time holds one appointment, and its slots are claimed by it.
    by_teacher = defaultdict(list)
    for a in rows:
        by_teacher[a.teacher_id].append(a)
    for mine in by_teacher.values():
        mine.sort(key=lambda a: a.starts_at)
        for first, second in zip(mine, mine[1:], strict=False):
            assert first.ends_at <= second.starts_at, (first, second)
    for a in rows:
        claimed = SlotClaim.objects.filter(appointment=a).values_list("slot__starts_at", flat=True)
        length = timedelta(minutes=a.teacher.minutes)
        expected = int((a.ends_at - a.starts_at) / length)
        assert sorted(claimed) == [a.starts_at + i * length for i in range(expected)]
    assert not SlotClaim.objects.filter(appointment__status=Appointment.Status.CANCELLED).exists()
    # Rule 2: one live meeting per pupil and teacher (per parent when separate).
    pairs = Counter((a.pupil_id, a.teacher_id, a.family_key) for a in rows)
    assert max(pairs.values(), default=1) == 1
    # Rule 3: each parent in one place at a time, with the walk between rooms.
    by_parent = defaultdict(list)
    for a in rows:
        by_parent[a.parent_id].append(a)
    for mine in by_parent.values():
        spans = [planner.Busy(a.starts_at, a.ends_at, a.teacher.room, a.in_person) for a in mine]
        for i, first in enumerate(spans):
            for second in spans[i + 1 :]:
                assert planner.apart(first, second, gap=GAP), (first, second)
    # ...and the parent's minutes say exactly that.
    cells = Counter(ParentCell.objects.filter(evening=evening).values_list("parent_id", "minute"))
    expected_cells = Counter()
    expected_rooms = {}
    for a in rows:
        minute = a.starts_at
        while minute < a.ends_at:
            expected_cells[(a.parent_id, minute)] += 1
            minute += timedelta(minutes=1)
        minute = a.starts_at
        while a.in_person and minute < a.ends_at + GAP:
            room, refs = expected_rooms.get((a.parent_id, minute), (a.teacher.room_key, 0))
            expected_rooms[(a.parent_id, minute)] = (room, refs + 1)
            minute += timedelta(minutes=1)
    assert cells == expected_cells
    rooms = {
        (parent_id, minute): (room, refs)
        for parent_id, minute, room, refs in ParentRoomCell.objects.filter(
            evening=evening
        ).values_list("parent_id", "minute", "room", "refs")
    }
    assert rooms == expected_rooms
    # Rule 4: limits and the one-day rule, among appointments that count now (limits
    # staff passed excepted).
    live = [a for a in rows if a.status == "confirmed" or a.expires_at > now]
    overridden = {a.parent_id for a in live if a.override_warnings} | {
        a.pupil_id for a in live if a.override_warnings
    }
    per_parent = Counter(a.parent_id for a in live)
    per_pupil = Counter(a.pupil_id for a in live)
    for parent_id, n in per_parent.items():
        if parent_id not in overridden:
            assert n <= MAX_PER_PARENT
            assert len({a.day_id for a in live if a.parent_id == parent_id}) <= 1
    for pupil_id, n in per_pupil.items():
        if pupil_id not in overridden:
            assert n <= MAX_PER_PUPIL
    assert Appointment.objects.filter(live_q(now), evening=evening).count() == len(live)


def test_random_bookings_never_break_a_rule(school):
    evening, pairs, slots = build(school)
    parents = list(pairs)
    # Successful operations of each kind over the whole run: an engine that refused
    # everything would keep every rule, so each kind must also have happened.
    done = Counter()

    @contextlib.contextmanager
    def refused():
        """A refusal is a legal outcome (the rules are checked after every step)."""
        try:
            yield
        except BookingError:
            done["refused"] += 1

    class Bookings(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.now = NOW
            self.holds: list[tuple] = []
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            # This block stands for the test case's own transaction (rolled back after
            # each run): the services' durable transactions may open inside it.
            transaction.get_connection().atomic_blocks[-1]._from_testcase = True

        def teardown(self):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        def choices(self, data, parent):
            chosen = []
            for _ in range(data.draw(st.integers(1, 2), label="how many")):
                pupil, t = data.draw(st.sampled_from(pairs[parent]), label="pair")
                chosen.append((pupil, t.teacher, data.draw(st.sampled_from(slots[t.teacher.pk]))))
            return chosen

        @rule(data=st.data())
        def hold(self, data):
            parent = data.draw(st.sampled_from(parents), label="parent")
            try:
                held = booking.hold_slots(
                    parent=parent, evening=evening, choices=self.choices(data, parent), now=self.now
                )
            except BookingError:
                done["refused"] += 1
                return
            done["hold"] += 1
            self.holds.append((parent, held))

        @rule(data=st.data())
        def confirm(self, data):
            if self.holds:
                parent, held = data.draw(st.sampled_from(self.holds), label="hold")
                with refused():
                    if booking.confirm_hold(hold=held, parent=parent, now=self.now):
                        done["confirm"] += 1

        @rule(data=st.data(), staff=st.booleans())
        def book(self, data, staff):
            parent = data.draw(st.sampled_from(parents), label="parent")
            extra = {"actor": school.organiser, "override_limits": True} if staff else {}
            with refused():
                booking.book_slots(
                    parent=parent,
                    evening=evening,
                    choices=self.choices(data, parent),
                    now=self.now,
                    **extra,
                )
                done["book by staff" if staff else "book"] += 1

        def confirmed(self, data):
            mine = list(
                Appointment.objects.filter(evening=evening, status="confirmed").order_by("pk")
            )
            return data.draw(st.sampled_from(mine), label="appointment") if mine else None

        @rule(data=st.data(), staff=st.booleans())
        def cancel(self, data, staff):
            appointment = self.confirmed(data)
            if appointment is not None:
                user = school.organiser if staff else appointment.parent
                with refused():
                    booking.cancel_appointment(appointment=appointment, user=user, now=self.now)
                    done["cancel"] += 1

        @rule(data=st.data())
        def move(self, data):
            appointment = self.confirmed(data)
            if appointment is None:
                return
            options = [t for p, t in pairs[appointment.parent] if p.pk == appointment.pupil_id]
            target = data.draw(st.sampled_from(options), label="teacher").teacher
            with refused():
                booking.move_appointment(
                    appointment=appointment,
                    user=appointment.parent,
                    teacher=target,
                    slot=data.draw(st.sampled_from(slots[target.pk]), label="slot"),
                    now=self.now,
                )
                done["move"] += 1

        @rule(seconds=st.sampled_from([1, 30, 90, 125, 300]))
        def wait(self, seconds):
            self.now += timedelta(seconds=seconds)

        @rule()
        def clean_up(self):
            if booking.release_expired_holds(now=self.now):
                done["expired holds released"] += 1
            assert not Appointment.objects.filter(status="held", expires_at__lte=self.now).exists()

        @invariant()
        def rules_hold(self):
            check_rules(evening, self.now)

    run_state_machine_as_test(
        Bookings,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # The same sequences every run (and on both databases): the counts of
            # successful operations below are then reproducible, never flaky.
            derandomize=True,
        ),
    )
    print("successful operations:", dict(sorted(done.items())))
    kinds = ("hold", "confirm", "book", "book by staff", "cancel", "move")
    assert [kind for kind in kinds if not done[kind]] == [], done
