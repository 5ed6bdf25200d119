"""The school-scheduled solver on small random evenings: every schedule it returns
keeps the booking engine's rules, checked here by a reader of its own (no solver
helpers), and every meeting asked for is either placed or reported with a reason."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schoolgate.evenings.school_scheduled import solver as S

REASONS = {
    S.NO_FREE_SLOT,
    S.OUTSIDE_WINDOW,
    S.CLASHES,
    S.TEACHER_FULL,
    S.CROWDED_OUT,
    S.LIMIT,
    S.ONE_DAY,
}


@st.composite
def evenings(draw):
    n_teachers = draw(st.integers(1, 4))
    n_slots = draw(st.integers(2, 8))
    days = draw(st.integers(1, 2))
    taken = draw(st.sets(st.integers(0, n_teachers * n_slots * days - 1), max_size=4))
    teachers = {}
    for t in range(n_teachers):
        room = draw(st.sampled_from(["A", "B", "C"]))
        slots = []
        for d in range(days):
            for i in range(n_slots):
                sid = (t * days + d) * n_slots + i
                if sid not in taken:  # a break or a booked slot: not offered
                    slots.append(S.Slot(sid, t, d, d * 1000 + i * 10, d * 1000 + i * 10 + 10))
        teachers[t] = S.Teacher(t, room=room, slots=slots)
    families, requests = {}, []
    for f in range(draw(st.integers(1, 5))):
        lo = draw(st.sampled_from([None, 0, 20]))
        hi = draw(st.sampled_from([None, 50, 80]))
        families[f] = S.Family(
            f, one_visit=draw(st.booleans()), windows={d: (lo, hi) for d in range(days)}
        )
        for pupil in range(draw(st.integers(1, 2))):
            wanted = draw(st.lists(st.sampled_from(sorted(teachers)), unique=True, max_size=3))
            for rank, t in enumerate(wanted, 1):
                requests.append(
                    S.Request(
                        (f, pupil, t),
                        f,
                        (f, pupil),
                        t,
                        draw(st.sampled_from([10, 10, 20])),
                        rank=rank,
                        must=draw(st.booleans()),
                        in_person=draw(st.booleans()),
                    )
                )
    return S.Problem(
        teachers=teachers,
        families=families,
        requests=requests,
        travel_gap=draw(st.sampled_from([0, 5, 15])),
        max_per_parent=draw(st.sampled_from([None, 2, 3])),
        max_per_pupil=draw(st.sampled_from([None, 1, 2])),
        one_day=days > 1 and draw(st.booleans()),
    )


def broken_rules(problem: S.Problem, placed: dict) -> list[str]:
    """Read the schedule as rows and list every rule it breaks (independently)."""
    rows = []
    requests = {r.key: r for r in problem.requests}
    slot_of = {s.id: s for t in problem.teachers.values() for s in t.slots}
    broken = []
    for key, option in placed.items():
        r = requests[key]
        slots = [slot_of.get(i) for i in option.slot_ids]
        if None in slots or any(s.teacher != r.teacher for s in slots):
            broken.append(f"{key}: a slot that is not the teacher's free slot")
            continue
        slots.sort(key=lambda s: s.start)
        if any(a.end != b.start or a.day != b.day for a, b in zip(slots, slots[1:], strict=False)):
            broken.append(f"{key}: slots not consecutive on one day")
        if (slots[0].start, slots[-1].end) != (option.start, option.end):
            broken.append(f"{key}: times do not match its slots")
        if option.end - option.start < r.minutes:
            broken.append(f"{key}: too short")
        lo, hi = problem.families[r.family].windows.get(slots[0].day, (None, None))
        if (lo is not None and option.start < lo) or (hi is not None and option.end > hi):
            broken.append(f"{key}: outside the family's window")
        rows.append((r, option))
    used = [i for _r, o in rows for i in o.slot_ids]
    if len(used) != len(set(used)):
        broken.append("a teacher's slot taken twice")
    room = {t.id: " ".join(t.room.split()).casefold() for t in problem.teachers.values()}
    for i, (r1, o1) in enumerate(rows):
        for r2, o2 in rows[i + 1 :]:
            if r1.family != r2.family:
                continue
            pause = (
                problem.travel_gap
                if r1.in_person and r2.in_person and room[r1.teacher] != room[r2.teacher]
                else 0
            )
            if not (o1.end + pause <= o2.start or o2.end + pause <= o1.start):
                broken.append(f"{r1.key} and {r2.key}: family in two places (or no walk)")
    per_family, per_pupil, days = {}, {}, {}
    for r, o in rows:
        per_family[r.family] = per_family.get(r.family, 0) + 1
        per_pupil[r.pupil] = per_pupil.get(r.pupil, 0) + 1
        days.setdefault(r.family, set()).add(o.day)
    if problem.max_per_parent is not None and any(
        n > problem.max_per_parent for n in per_family.values()
    ):
        broken.append("per-parent limit")
    if problem.max_per_pupil is not None and any(
        n > problem.max_per_pupil for n in per_pupil.values()
    ):
        broken.append("per-pupil limit")
    if problem.one_day and any(len(d) > 1 for d in days.values()):
        broken.append("one day")
    return broken


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evenings())
def test_every_schedule_keeps_the_engines_rules_and_accounts_for_every_wish(problem):
    result = S.solve(problem, time_limit=5, workers=1)
    assert broken_rules(problem, result.placed) == []
    keys = {r.key for r in problem.requests}
    assert set(result.placed) | set(result.unplaced) == keys
    assert not set(result.placed) & set(result.unplaced)
    assert set(result.unplaced.values()) <= REASONS
    # The proven bound is never below what was placed.
    musts = sum(1 for k in result.placed if next(r for r in problem.requests if r.key == k).must)
    if result.bound:
        assert result.bound["must_see"] >= musts
        assert result.bound["meetings"] >= len(result.placed)


def test_a_must_see_wins_over_a_first_wish_when_only_one_fits():
    teachers = {0: S.Teacher(0, slots=[S.Slot(1, 0, 0, 0, 10)])}
    families = {0: S.Family(0), 1: S.Family(1)}
    requests = [
        S.Request("wish", 0, "p0", 0, 10, rank=1),
        S.Request("must", 1, "p1", 0, 10, rank=3, must=True),
    ]
    result = S.solve(S.Problem(teachers, families, requests), time_limit=5, workers=1)
    assert set(result.placed) == {"must"}
    assert result.unplaced == {"wish": S.TEACHER_FULL}


def test_reasons_for_wishes_that_cannot_be_placed():
    teachers = {
        0: S.Teacher(0, slots=[S.Slot(1, 0, 0, 0, 10)]),
        1: S.Teacher(1, slots=[]),
        2: S.Teacher(2, slots=[S.Slot(2, 2, 0, 0, 10)]),
    }
    families = {0: S.Family(0, windows={0: (0, 10)}), 1: S.Family(1, windows={0: (30, 60)})}
    requests = [
        S.Request("early", 1, "p1", 0, 10),  # the teacher is free only before they arrive
        S.Request("none", 0, "p0", 1, 10),  # the teacher has nothing free
        S.Request("a", 0, "p0", 0, 10, rank=1),
        S.Request("b", 0, "p0", 2, 10, rank=2),  # the same time as "a": crowded out
    ]
    result = S.solve(S.Problem(teachers, families, requests), time_limit=5, workers=1)
    assert result.placed.keys() == {"a"}
    assert result.unplaced == {
        "early": S.OUTSIDE_WINDOW,
        "none": S.NO_FREE_SLOT,
        "b": S.CROWDED_OUT,
    }


def test_siblings_in_one_visit_are_seen_back_to_back():
    teachers = {
        t: S.Teacher(t, slots=[S.Slot(t * 10 + i, t, 0, i * 10, i * 10 + 10) for i in range(6)])
        for t in range(2)
    }
    # Teacher 1's early times are taken by another family, so the greedy start leaves a gap.
    families = {0: S.Family(0, one_visit=True), 1: S.Family(1)}
    requests = [
        S.Request("other", 1, "q", 1, 10, must=True),
        S.Request("a", 0, "p1", 0, 10, rank=1),
        S.Request("b", 0, "p2", 1, 10, rank=1),
    ]
    result = S.solve(S.Problem(teachers, families, requests), time_limit=5, workers=1)
    a, b = result.placed["a"], result.placed["b"]
    assert min(abs(a.end - b.start), abs(b.end - a.start)) == 0


@pytest.mark.parametrize("gap", [0, 5])
def test_a_larger_evening_has_no_broken_rules(gap):
    import random

    rng = random.Random(gap)
    teachers = {
        t: S.Teacher(
            t,
            room=f"R{t % 4}",
            slots=[S.Slot(t * 100 + i, t, 0, i * 5, i * 5 + 5) for i in range(20)],
        )
        for t in range(8)
    }
    families = {f: S.Family(f, one_visit=rng.random() < 0.7) for f in range(40)}
    requests = [
        S.Request((f, t), f, (f, t % 2), t, 5, rank=1 + t % 3, must=rng.random() < 0.2)
        for f in range(40)
        for t in rng.sample(range(8), 3)
    ]
    problem = S.Problem(teachers, families, requests, travel_gap=gap)
    result = S.solve(problem, time_limit=8, workers=1, group_size=10)
    assert broken_rules(problem, result.placed) == []
    assert set(result.placed) | set(result.unplaced) == {r.key for r in requests}
