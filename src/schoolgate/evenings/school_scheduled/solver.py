"""Build a whole evening at once with OR-Tools CP-SAT (docs/school-scheduled-evenings.md).

Pure Python over plain data (no Django), so it is tested on its own. Times are whole
minutes from any origin. The hard rules are the booking engine's:

- a teacher's slot is taken once (breaks, absences and booked slots are simply not
  offered); an appointment longer than a slot takes consecutive slots of one day;
- a pupil meets a teacher once (one request per meeting, placed at most once);
- a family is in one place at a time, and two in-person meetings in different rooms
  leave the travel gap between them (`planner.apart`);
- the per-parent and per-pupil limits, and all of a parent's meetings on one day
  when the one-day rule is on;
- and the family's own window: nothing before they can arrive or after they must leave.

The aims, in order (one objective, weighted so that each aim outweighs the next):
1. as many must-see meetings as possible;
2. then as many meetings as possible, a family's first wishes before its later ones;
3. then the least waiting: the time a family spends between meetings, over the
   whole visit when siblings come in one visit, else over each child's visit.

How: a greedy schedule first (must-sees, then by rank, each meeting next to the
family's others), then CP-SAT improves it family group by family group (a large
neighbourhood search: a few dozen families re-planned exactly at a time, everyone
else fixed, each solve starting from the current schedule so it never gets worse),
until the time limit. A small evening is one group: solved exactly in one go. A
second, relaxed CP-SAT model (a teacher's minutes, a family's window, the limits,
but not the clock) proves how many must-sees and meetings any schedule could place
at most: the bound shown to the organiser."""

import bisect
import os
import random
import time
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

# Why a meeting was not placed.
NO_FREE_SLOT = "no_free_slot"
OUTSIDE_WINDOW = "outside_window"
CLASHES = "clashes"
TEACHER_FULL = "teacher_full"
CROWDED_OUT = "crowded_out"
LIMIT = "limit"
ONE_DAY = "one_day"
OUT_OF_TIME = "out_of_time"

# Families re-planned together in one CP-SAT solve.
GROUP_SIZE = 25
ROUND_SECONDS = 2.0
# The planner's time for one family's visit (its first find is nearly always its best).
PLAN_SECONDS = 0.03
# A placed meeting is worth MEETING, plus a little more the higher the family ranked it.
MEETING = 1000
RANKS = 100


@dataclass(frozen=True)
class Slot:
    id: int
    teacher: Hashable
    day: Hashable
    start: int
    end: int


@dataclass
class Teacher:
    id: Hashable
    room: str = ""
    slots: list[Slot] = field(default_factory=list)  # the free ones


@dataclass
class Family:
    """A parent (whose time the meetings take): their window per day, and busy times
    (meetings already booked: (start, end, room, in_person))."""

    id: Hashable
    one_visit: bool = True
    windows: dict = field(default_factory=dict)  # day -> (earliest start, latest end)
    busy: list = field(default_factory=list)
    booked_days: set = field(default_factory=set)
    booked_count: int = 0


@dataclass(frozen=True)
class Request:
    key: Hashable
    family: Hashable
    pupil: Hashable
    teacher: Hashable
    minutes: int
    rank: int = 1
    must: bool = False
    in_person: bool = True


@dataclass(frozen=True)
class Option:
    start: int
    end: int
    day: Hashable
    slot_ids: tuple


@dataclass
class Problem:
    teachers: dict
    families: dict
    requests: list
    travel_gap: int = 0
    max_per_parent: int | None = None
    max_per_pupil: int | None = None
    pupil_booked: dict = field(default_factory=dict)  # pupil -> live meetings already
    one_day: bool = False


@dataclass
class Result:
    placed: dict = field(default_factory=dict)  # request key -> Option
    unplaced: dict = field(default_factory=dict)  # request key -> reason
    bound: dict = field(default_factory=dict)  # {"must_see": n, "meetings": n} at most
    rounds: int = 0
    improved: int = 0
    seconds: float = 0.0


def room_key(room: str) -> str:
    return " ".join((room or "").split()).casefold()


def options_for(request: Request, teacher: Teacher) -> list[Option]:
    """Every start where the teacher has `minutes` of consecutive free slots on one day."""
    slots = sorted(teacher.slots, key=lambda s: s.start)
    result = []
    for i, first in enumerate(slots):
        run, end, j = [first.id], first.end, i
        while end - first.start < request.minutes:
            j += 1
            if j >= len(slots) or slots[j].start != end or slots[j].day != first.day:
                break
            run.append(slots[j].id)
            end = slots[j].end
        if end - first.start >= request.minutes:
            result.append(Option(first.start, end, first.day, tuple(run)))
    return result


def _apart(a_start, a_end, a_room, a_ip, b_start, b_end, b_room, b_ip, gap) -> bool:
    pause = gap if a_ip and b_ip and a_room != b_room else 0
    return a_end + pause <= b_start or b_end + pause <= a_start


def solve(
    problem: Problem,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    group_size: int = GROUP_SIZE,
    log=None,
) -> Result:
    started = time.monotonic()
    result = Result()
    gap = problem.travel_gap
    rooms = {t.id: room_key(t.room) for t in problem.teachers.values()}
    keys = [r.key for r in problem.requests]
    if len(keys) != len(set(keys)):
        raise ValueError("each request needs its own key")

    # The options each request may take: the teacher's free runs in the family's window,
    # clear of the family's booked meetings.
    usable: dict = {}
    runs: dict = {}
    for r in problem.requests:
        teacher = problem.teachers.get(r.teacher)
        family = problem.families[r.family]
        if (r.teacher, r.minutes) not in runs:
            runs[(r.teacher, r.minutes)] = options_for(r, teacher) if teacher else []
        every = runs[(r.teacher, r.minutes)]
        if not every:
            result.unplaced[r.key] = NO_FREE_SLOT
            continue
        inside = [o for o in every if _in_window(o, family)]
        if not inside:
            result.unplaced[r.key] = OUTSIDE_WINDOW
            continue
        room = rooms[r.teacher]
        clear = [
            o
            for o in inside
            if all(
                _apart(o.start, o.end, room, r.in_person, bs, be, room_key(br), bip, gap)
                for bs, be, br, bip in family.busy
            )
        ]
        if not clear:
            result.unplaced[r.key] = CLASHES
            continue
        if problem.one_day and family.booked_days:
            clear = [o for o in clear if o.day in family.booked_days]
            if not clear:
                result.unplaced[r.key] = ONE_DAY
                continue
        usable[r.key] = clear

    requests = [r for r in problem.requests if r.key in usable]
    # The current schedule: request key -> option index.
    current = _greedy(problem, requests, usable, rooms)
    if log:
        log(
            f"greedy: {len(current)} of {len(requests)} placed in {time.monotonic() - started:.1f}s"
        )
    deadline = started + time_limit
    result.bound = _bound(problem, requests, usable, min(time_limit * 0.15, 10), workers)
    families = sorted({r.family for r in requests}, key=str)
    rng = random.Random(seed)
    rounds = improved = 0
    # The last part of the time re-times each family's visit (polish, below); a big
    # evening is polished first too, as polishing cuts waiting fastest.
    search_until = deadline - min(time_limit * 0.2, 10)
    if len(families) > group_size:
        current = _polish(problem, requests, usable, rooms, current, search_until)
    while time.monotonic() < search_until and families:
        if len(families) <= group_size:
            group = set(families)
        else:
            group = _neighbourhood(problem, requests, usable, current, families, group_size, rng)
        before = _score(problem, requests, usable, current, group)
        found = _improve(problem, requests, usable, rooms, current, group, search_until, workers)
        rounds += 1
        exact = found is not None and found.exact
        if found is not None:
            # A round out of time may leave its families waiting: re-time them.
            found = _polish(problem, requests, usable, rooms, found, search_until, only=group)
            after = _score(problem, requests, usable, found, group)
            if after > before:
                improved += 1
            current = found
        if len(families) <= group_size and exact:
            break
    result.rounds, result.improved = rounds, improved
    current = _polish(problem, requests, usable, rooms, current, deadline)
    if log:
        log(f"search: {rounds} rounds, {improved} better, {time.monotonic() - started:.1f}s")
    for key, i in current.items():
        result.placed[key] = usable[key][i]
    _explain(problem, requests, usable, result)
    result.seconds = time.monotonic() - started
    return result


class _Schedule(dict):
    exact = False


def _score(problem, requests, usable, schedule, group) -> tuple:
    """(must-sees, meeting value, -wait) of the families in `group`."""
    must = value = wait = 0
    visits = defaultdict(list)
    for r in requests:
        if r.family not in group or r.key not in schedule:
            continue
        o = usable[r.key][schedule[r.key]]
        must += r.must
        value += _value(r)
        visit = "all" if problem.families[r.family].one_visit else r.pupil
        visits[(r.family, visit)].append((o.start, o.end))
    for spans in visits.values():
        wait += max(e for _s, e in spans) - min(s for s, _e in spans) - sum(e - s for s, e in spans)
    return (must, value, -wait)


def _value(r: Request) -> int:
    return MEETING + RANKS - min(r.rank, RANKS - 1)


def _neighbourhood(problem, requests, usable, current, families, size, rng) -> set:
    """Families to re-plan together: those who want one teacher (often one whose
    meeting is missing), then families sharing their other teachers."""
    wanting = defaultdict(list)
    teachers_of = defaultdict(set)
    for r in requests:
        wanting[r.teacher].append(r.family)
        teachers_of[r.family].add(r.teacher)
    missing = [r for r in requests if r.key not in current]
    if missing and rng.random() < 0.5:
        seed_teacher = rng.choice(missing).teacher
    else:
        seed_teacher = rng.choice(requests).teacher
    group, queue = set(), [seed_teacher]
    seen_teachers = set()
    while queue and len(group) < size:
        teacher = queue.pop(0)
        if teacher in seen_teachers:
            continue
        seen_teachers.add(teacher)
        candidates = list(dict.fromkeys(wanting[teacher]))
        rng.shuffle(candidates)
        for family in candidates:
            if len(group) >= size:
                break
            if family not in group:
                group.add(family)
                queue.extend(sorted(teachers_of[family] - seen_teachers, key=str))
    while len(group) < size:
        group.add(rng.choice(families))
    return group


def _improve(problem, requests, usable, rooms, current, group, deadline, workers):
    """Re-plan the families in `group` exactly (CP-SAT), everyone else fixed. Returns
    the new schedule, or None when no solution came in time."""
    gap = problem.travel_gap
    taken = set()
    for r in requests:
        if r.family not in group and r.key in current:
            taken.update(usable[r.key][current[r.key]].slot_ids)
    mine = [r for r in requests if r.family in group]
    model = cp_model.CpModel()
    x = {}
    placed = {}
    for r in mine:
        lits = []
        for i, o in enumerate(usable[r.key]):
            if not taken.intersection(o.slot_ids):
                x[(r.key, i)] = lit = model.new_bool_var("")
                lits.append(lit)
        if lits:
            model.add_at_most_one(lits)
        placed[r.key] = sum(lits)

    # A teacher's slot is taken once.
    by_slot = defaultdict(list)
    for (key, i), lit in x.items():
        for slot_id in usable[key][i].slot_ids:
            by_slot[slot_id].append(lit)
    for lits in by_slot.values():
        if len(lits) > 1:
            model.add_at_most_one(lits)

    by_family = defaultdict(list)
    for r in mine:
        by_family[r.family].append(r)
    visits = []  # (family, visit, first, last, [(literal, start, end)])
    horizon = [
        min((o.start for r in mine for o in usable[r.key]), default=0),
        max((o.end for r in mine for o in usable[r.key]), default=0),
    ]
    for family_id, members in by_family.items():
        family = problem.families[family_id]
        items = []  # (start, end, room, in_person, request key, literal)
        for r in members:
            for i, o in enumerate(usable[r.key]):
                if (r.key, i) in x:
                    items.append(
                        (o.start, o.end, rooms[r.teacher], r.in_person, r.key, x[(r.key, i)])
                    )
        if not items:
            continue
        items.sort(key=lambda it: (it[0], it[1]))
        starts = [it[0] for it in items]
        # One place at a time: at each start, at most one option covers it (two
        # intervals overlap only if one starts inside the other).
        for t in sorted(set(starts)):
            covering = [it[5] for it in items if it[0] <= t < it[1]]
            if len(covering) > 1:
                model.add_at_most_one(covering)
        # The travel gap: a meeting in another room may not start within it.
        if gap:
            for a in items:
                if not a[3]:
                    continue
                lo = bisect.bisect_left(starts, a[1])
                hi = bisect.bisect_left(starts, a[1] + gap)
                for b in items[lo:hi]:
                    if b[3] and b[2] != a[2] and b[4] != a[4]:
                        model.add_bool_or([a[5].Not(), b[5].Not()])
        # Limits.
        if problem.max_per_parent is not None:
            left = problem.max_per_parent - family.booked_count
            model.add(sum(placed[r.key] for r in members) <= max(left, 0))
        if problem.one_day:
            member_keys = {r.key for r in members}
            days = {usable[k][i].day for (k, i) in x if k in member_keys}
            if len(days) > 1 or family.booked_days:
                on = {d: model.new_bool_var("") for d in days}
                model.add(sum(on.values()) <= 1)
                for (k, i), lit in x.items():
                    if k in member_keys:
                        model.add_implication(lit, on[usable[k][i].day])
                for d in days:
                    if family.booked_days and d not in family.booked_days:
                        model.add(on[d] == 0)
        # Waiting, per visit.
        groups = defaultdict(list)
        for r in members:
            groups["all" if family.one_visit else r.pupil].append(r)
        for visit_members in groups.values():
            first = model.new_int_var(horizon[0], horizon[1], "")
            last = model.new_int_var(horizon[0], horizon[1], "")
            model.add(last >= first)
            options = []
            for r in visit_members:
                for i, o in enumerate(usable[r.key]):
                    if (r.key, i) in x:
                        lit = x[(r.key, i)]
                        model.add(first <= o.start).only_enforce_if(lit)
                        model.add(last >= o.end).only_enforce_if(lit)
                        options.append((lit, o.start, o.end, current.get(r.key) == i))
            visits.append((first, last, options))
    if problem.max_per_pupil is not None:
        counted = defaultdict(int)  # meetings of the pupil outside the group
        for r in requests:
            if r.family not in group and r.key in current:
                counted[r.pupil] += 1
        by_pupil = defaultdict(list)
        for r in mine:
            by_pupil[r.pupil].append(r)
        for pupil, members in by_pupil.items():
            left = problem.max_per_pupil - problem.pupil_booked.get(pupil, 0) - counted[pupil]
            model.add(sum(placed[r.key] for r in members) <= max(left, 0))

    # One objective, each aim outweighing the next (see the module's docstring).
    wait = sum(
        last - first - sum((e - s) * lit for lit, s, e, _now in options)
        for first, last, options in visits
    )
    wait_weight = (horizon[1] - horizon[0] + 1) * max(len(visits), 1) + 1
    value_total = sum(_value(r) for r in mine) + 1
    must = sum(placed[r.key] for r in mine if r.must)
    value = sum(placed[r.key] * _value(r) for r in mine)
    model.maximize(must * value_total * wait_weight + value * wait_weight - wait)

    # Start from the current schedule (complete hint: every variable).
    for (key, i), lit in x.items():
        model.add_hint(lit, current.get(key) == i)
    for first, last, options in visits:
        chosen = [(s, e) for _lit, s, e, now in options if now]
        lo = min((s for s, _e in chosen), default=horizon[0])
        model.add_hint(first, lo)
        model.add_hint(last, max((e for _s, e in chosen), default=lo))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = max(
        min(deadline - time.monotonic(), ROUND_SECONDS), 0.05
    )
    solver.parameters.log_search_progress = bool(os.environ.get("SCHOOLGATE_CP_LOG"))
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    mine_keys = {r.key for r in mine}
    found = _Schedule({k: i for k, i in current.items() if k not in mine_keys})
    for (key, i), lit in x.items():
        if solver.boolean_value(lit):
            found[key] = i
    found.exact = status == cp_model.OPTIMAL
    return found


def _bound(problem: Problem, requests, usable, seconds: float, workers: int) -> dict:
    """The most must-sees and meetings any schedule could place: a relaxed model
    without the clock (a teacher's free minutes, a family's minutes in its window,
    the limits), solved by CP-SAT; its proven bound is a bound on the real problem."""
    model = cp_model.CpModel()
    y = {r.key: model.new_bool_var("") for r in requests}
    free = {t.id: sum(s.end - s.start for s in t.slots) for t in problem.teachers.values()}
    by_teacher, by_family, by_pupil = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in requests:
        by_teacher[r.teacher].append(r)
        by_family[r.family].append(r)
        by_pupil[r.pupil].append(r)
    for teacher, members in by_teacher.items():
        model.add(sum(r.minutes * y[r.key] for r in members) <= free[teacher])
    for family_id, members in by_family.items():
        spans = defaultdict(set)
        for r in members:
            for o in usable[r.key]:
                spans[o.day].add((o.start, o.end))
        # The family's time: the union of its options' times, the most it can spend.
        minutes = sum(_union(sorted(v)) for v in spans.values())
        model.add(sum(r.minutes * y[r.key] for r in members) <= minutes)
        if problem.max_per_parent is not None:
            left = problem.max_per_parent - problem.families[family_id].booked_count
            model.add(sum(y[r.key] for r in members) <= max(left, 0))
    if problem.max_per_pupil is not None:
        for pupil, members in by_pupil.items():
            left = problem.max_per_pupil - problem.pupil_booked.get(pupil, 0)
            model.add(sum(y[r.key] for r in members) <= max(left, 0))
    # Two solves of the same relaxation: the most must-sees, the most meetings.
    found = {}
    for name, objective in (
        ("must_see", sum(y[r.key] for r in requests if r.must)),
        ("meetings", sum(y.values())),
    ):
        model.maximize(objective)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = max(seconds / 2, 0.5)
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found[name] = int(solver.best_objective_bound)
        else:
            found[name] = (
                sum(1 for r in requests if r.must) if name == "must_see" else len(requests)
            )
    return found


def _union(spans) -> int:
    total, end = 0, None
    for s, e in spans:
        if end is None or s >= end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total


def _greedy(problem: Problem, requests, usable, rooms) -> dict:
    """A first schedule: the must-sees first (fewest possible times first, each next to
    the family's others), then family by family the itinerary planner's best visit
    (the most meetings, the shortest visit) around them, as a family booking first
    come would get, but in an order that serves constrained families first."""
    from schoolgate.evenings.planning import planner

    gap = problem.travel_gap
    taken: set = set()
    chosen_of = defaultdict(list)  # family -> [(start, end, room, in_person)]
    days_of = defaultdict(set)
    per_family = defaultdict(int)
    per_pupil = defaultdict(int)
    solution = {}

    def room_left(r) -> bool:
        family = problem.families[r.family]
        if problem.max_per_parent is not None and (
            per_family[r.family] + family.booked_count >= problem.max_per_parent
        ):
            return False
        return problem.max_per_pupil is None or (
            per_pupil[r.pupil] + problem.pupil_booked.get(r.pupil, 0) < problem.max_per_pupil
        )

    def free(r, o) -> bool:
        if taken.intersection(o.slot_ids):
            return False
        days = days_of[r.family] | problem.families[r.family].booked_days
        return not (problem.one_day and days and o.day not in days)

    def take(r, i) -> None:
        o = usable[r.key][i]
        solution[r.key] = i
        taken.update(o.slot_ids)
        chosen_of[r.family].append((o.start, o.end, rooms[r.teacher], r.in_person))
        days_of[r.family].add(o.day)
        per_family[r.family] += 1
        per_pupil[r.pupil] += 1

    by_family = defaultdict(list)
    for r in requests:
        by_family[r.family].append(r)

    def order(family_id):
        # Families with must-sees first, then the families with the fewest free times.
        mine = by_family[family_id]
        options = sum(len(usable[r.key]) for r in mine) / len(mine)
        return (not any(r.must for r in mine), options, str(family_id))

    def plan(family_id, members, busy_extra=()):
        wanted, keys = [], {}
        for r in sorted(members, key=lambda r: r.rank):
            options = tuple(
                planner.Option(o.start, o.end, ref=i)
                for i, o in enumerate(usable[r.key])
                if free(r, o)
            )
            wanted.append(
                planner.Wanted(
                    key=r.key, options=options, room=rooms[r.teacher], in_person=r.in_person
                )
            )
            keys[r.key] = r
        busy = [
            planner.Busy(start, end, room, in_person)
            for start, end, room, in_person in chosen_of[family_id]
            + [(a, b, room_key(c), d) for a, b, c, d in problem.families[family_id].busy]
        ]
        found = planner.plan(wanted=wanted, busy=busy, travel_gap=gap, time_limit=PLAN_SECONDS)
        return {key: option.ref for key, option in found.placed.items()}, keys

    for family_id in sorted(by_family, key=order):
        members = by_family[family_id]
        placed, keys = plan(family_id, members)
        musts = [r for r in members if r.must]
        if any(r.key not in placed for r in musts):
            # The visit the planner found leaves a must-see out: the must-sees first.
            placed, keys = plan(family_id, musts)
            for key, i in placed.items():
                if room_left(keys[key]) and free(keys[key], usable[key][i]):
                    take(keys[key], i)
            placed, keys = plan(family_id, [r for r in members if r.key not in solution])
        for key, i in sorted(
            placed.items(), key=lambda kv: (not keys[kv[0]].must, keys[kv[0]].rank)
        ):
            r = keys[key]
            if key not in solution and room_left(r) and free(r, usable[key][i]):
                take(r, i)
    return solution


def _polish(
    problem: Problem, requests, usable, rooms, current: dict, deadline: float, only=None
) -> dict:
    """Re-time each family's meetings (the same meetings: the first two aims are kept)
    with the itinerary planner, everyone else fixed; keep it when they wait less."""
    from schoolgate.evenings.planning import planner

    current = dict(current)
    by_family = defaultdict(list)
    for r in requests:
        if r.key in current and (only is None or r.family in only):
            by_family[r.family].append(r)
    taken = {s for k, i in current.items() for s in usable[k][i].slot_ids}

    def wait_of(family_id, schedule) -> int:
        visits = defaultdict(list)
        for r in by_family[family_id]:
            o = usable[r.key][schedule[r.key]]
            visits["all" if problem.families[family_id].one_visit else r.pupil].append(o)
        return sum(
            max(o.end for o in v) - min(o.start for o in v) - sum(o.end - o.start for o in v)
            for v in visits.values()
        )

    for family_id in sorted(by_family, key=lambda f: -wait_of(f, current)):
        if time.monotonic() >= deadline:
            break
        members = by_family[family_id]
        before = wait_of(family_id, current)
        if before == 0:
            continue
        own = {s for r in members for s in usable[r.key][current[r.key]].slot_ids}
        others = taken - own
        days = {usable[r.key][current[r.key]].day for r in members}
        wanted = [
            planner.Wanted(
                key=r.key,
                options=tuple(
                    planner.Option(o.start, o.end, ref=i)
                    for i, o in enumerate(usable[r.key])
                    if not others.intersection(o.slot_ids)
                    and (not problem.one_day or o.day in days)
                ),
                room=rooms[r.teacher],
                in_person=r.in_person,
            )
            for r in members
        ]
        busy = [
            planner.Busy(a, b, room_key(c), d) for a, b, c, d in problem.families[family_id].busy
        ]
        plan = planner.plan(
            wanted=wanted, busy=busy, travel_gap=problem.travel_gap, time_limit=PLAN_SECONDS
        )
        if len(plan.placed) != len(members):
            continue
        trial = dict(current)
        for key, option in plan.placed.items():
            trial[key] = option.ref
        if wait_of(family_id, trial) < before:
            current = trial
            taken = others | {s for r in members for s in usable[r.key][trial[r.key]].slot_ids}
    return current


def _in_window(option: Option, family: Family) -> bool:
    window = family.windows.get(option.day)
    if window is None:
        return True
    lo, hi = window
    return (lo is None or option.start >= lo) and (hi is None or option.end <= hi)


def _explain(problem: Problem, requests, usable, result: Result) -> None:
    """Why each meeting the solver could place in principle was left out."""
    taken = {s for o in result.placed.values() for s in o.slot_ids}
    per_family = defaultdict(int)
    per_pupil = defaultdict(int)
    by_key = {r.key: r for r in requests}
    for key in result.placed:
        per_family[by_key[key].family] += 1
        per_pupil[by_key[key].pupil] += 1
    for r in requests:
        if r.key in result.placed:
            continue
        family = problem.families[r.family]
        parent_full = problem.max_per_parent is not None and (
            per_family[r.family] + family.booked_count >= problem.max_per_parent
        )
        pupil_full = problem.max_per_pupil is not None and (
            per_pupil[r.pupil] + problem.pupil_booked.get(r.pupil, 0) >= problem.max_per_pupil
        )
        if parent_full or pupil_full:
            result.unplaced[r.key] = LIMIT
        elif all(any(s in taken for s in o.slot_ids) for o in usable[r.key]):
            result.unplaced[r.key] = TEACHER_FULL
        else:
            result.unplaced[r.key] = CROWDED_OUT
