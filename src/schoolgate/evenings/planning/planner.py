"""The itinerary planner: the best set of appointments for one parent's visit.

Pure Python (no Django), so it is tested against brute force on its own. The best
itinerary, in this order of importance:

1. as many of the chosen teachers as possible (every one, when they fit);
2. the shortest time from first arrival to last departure (the parent's existing
   appointments in their window count: siblings' meetings are part of the visit);
3. the fewest idle gaps (waiting longer than the walk from one room to the next).

Two appointments are compatible when they do not overlap and, when both are in
person in different rooms, the later starts at least the travel gap after the earlier
ends (`apart`). The search is exact: a depth-first search that builds itineraries in
time order, with a bound on the count and on the span, and a memo of dominated states."""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schoolgate.evenings.planning.search import (
    INF,
    as_number,
    as_seconds,
    count_gaps,
    search,
    spans_apart,
)

# Why a teacher is left out of a plan.
NO_FREE_SLOT = "no_free_slot"


OUTSIDE_WINDOW = "outside_window"


CLASHES = "clashes"


CROWDED_OUT = "crowded_out"


REASONS = {
    NO_FREE_SLOT: "This teacher has no free appointments left.",
    OUTSIDE_WINDOW: "This teacher has no free appointment between the times you can be there.",
    CLASHES: "Every free appointment in your times clashes with your other appointments "
    "(travel time between rooms included).",
    CROWDED_OUT: "There is not enough time for this teacher as well as the others you chose.",
}


# A page must answer: past this, the best itinerary found so far is returned with
# `exact=False` (the first found is nearly always the best; proving it can take long).
TIME_LIMIT = 1.0


@dataclass(frozen=True)
class Option:
    """A time a wanted teacher could see the parent; `ref` is the caller's (slot id)."""

    start: datetime
    end: datetime
    ref: object = None


@dataclass(frozen=True)
class Wanted:
    """One (pupil, teacher) meeting the parent asks for, with the teacher's free times."""

    key: Hashable
    options: tuple[Option, ...]
    room: str = ""
    in_person: bool = True


@dataclass(frozen=True)
class Busy:
    """An appointment the parent already has (any child), fixed in the plan."""

    start: datetime
    end: datetime
    room: str = ""
    in_person: bool = True
    ref: object = None


@dataclass(frozen=True)
class Step:
    """One appointment of the itinerary: a new one (`key`, `option`) or an existing one."""

    start: datetime
    end: datetime
    key: Hashable = None
    option: Option | None = None
    busy: Busy | None = None


@dataclass
class Plan:
    placed: dict = field(default_factory=dict)  # key -> Option
    unplaced: dict = field(default_factory=dict)  # key -> reason (see REASONS)
    steps: list[Step] = field(default_factory=list)  # the whole visit, in time order
    idle_gaps: int = 0
    exact: bool = True  # False when the time limit stopped the search (see TIME_LIMIT)

    @property
    def complete(self) -> bool:
        return not self.unplaced

    @property
    def arrival(self):
        return self.steps[0].start if self.steps else None

    @property
    def departure(self):
        return max(step.end for step in self.steps) if self.steps else None

    @property
    def span(self) -> timedelta:
        return self.departure - self.arrival if self.steps else timedelta(0)


def room_key(room: str) -> str:
    """Rooms compare by this: 'S12' and ' s12 ' are one room."""
    return " ".join((room or "").split()).casefold()


def needs_gap(first, second) -> bool:
    """Whether the travel gap applies between two appointments (in person, two rooms)."""
    return first.in_person and second.in_person and room_key(first.room) != room_key(second.room)


def apart(first, second, *, gap: timedelta) -> bool:
    """Whether one parent can attend both (objects with start, end, room, in_person)."""
    pause = gap if needs_gap(first, second) else timedelta(0)
    return first.end + pause <= second.start or second.end + pause <= first.start


def plan(
    *,
    wanted: Sequence[Wanted],
    busy: Iterable[Busy] = (),
    earliest: datetime | None = None,
    latest: datetime | None = None,
    travel_gap: timedelta = timedelta(0),
    time_limit: float | None = TIME_LIMIT,
) -> Plan:
    """The best itinerary for these wanted meetings between `earliest` and `latest`.

    Teachers left out are in `unplaced` with the reason (see REASONS)."""
    keys = [w.key for w in wanted]
    if len(set(keys)) != len(keys):
        raise ValueError("each wanted meeting needs its own key")
    gap = as_seconds(travel_gap)
    lo = as_number(earliest) if earliest is not None else -INF
    hi = as_number(latest) if latest is not None else INF
    rooms: dict[str, int] = {}

    def room_id(room: str) -> int:
        return rooms.setdefault(room_key(room), len(rooms))

    busy = list(busy)
    busy_items = [
        (as_number(b.start), as_number(b.end), room_id(b.room), b.in_person) for b in busy
    ]
    result = Plan()
    requests = []  # (wanted, [(start, end, option)], room, in_person, duration)
    for w in wanted:
        if not w.options:
            result.unplaced[w.key] = NO_FREE_SLOT
            continue
        rid = room_id(w.room)
        in_window = [
            (as_number(o.start), as_number(o.end), o)
            for o in w.options
            if as_number(o.start) >= lo and as_number(o.end) <= hi
        ]
        if not in_window:
            result.unplaced[w.key] = OUTSIDE_WINDOW
            continue
        usable = [
            item
            for item in in_window
            if all(spans_apart(item[0], item[1], rid, w.in_person, *b, gap) for b in busy_items)
        ]
        if not usable:
            result.unplaced[w.key] = CLASHES
            continue
        usable.sort(key=lambda item: (item[0], item[1]))
        requests.append((w, usable, rid, w.in_person))

    # Existing appointments in the window are part of the visit; the others only
    # constrain (they were checked against every option above).
    fixed = sorted(
        (
            (start, end, rid, in_person, b)
            for (start, end, rid, in_person), b in zip(busy_items, busy, strict=True)
            if end > lo and start < hi
        ),
        key=lambda item: (item[0], item[1]),
    )
    best, result.exact = search(requests, fixed, gap, time_limit)
    chosen = {requests[r][0].key: requests[r][1][o][2] for r, o in best}
    for w, _usable, _rid, _ip in requests:
        if w.key not in chosen:
            result.unplaced[w.key] = CROWDED_OUT
    result.placed = {w.key: chosen[w.key] for w in wanted if w.key in chosen}
    steps = [Step(o.start, o.end, key=key, option=o) for key, o in result.placed.items()]
    steps += [Step(b.start, b.end, busy=b) for *_, b in fixed]
    steps.sort(key=lambda s: (as_number(s.start), as_number(s.end)))
    result.steps = steps
    result.idle_gaps = count_gaps(
        [
            (
                as_number(s.start),
                as_number(s.end),
                room_id(_room_of(s, wanted)),
                _in_person_of(s, wanted),
            )
            for s in steps
        ],
        gap,
    )
    return result


def _room_of(step: Step, wanted: Sequence[Wanted]) -> str:
    if step.busy is not None:
        return step.busy.room
    return next(w.room for w in wanted if w.key == step.key)


def _in_person_of(step: Step, wanted: Sequence[Wanted]) -> bool:
    if step.busy is not None:
        return step.busy.in_person
    return next(w.in_person for w in wanted if w.key == step.key)
