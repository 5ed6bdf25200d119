"""The planner's search: a branch and bound over each wanted teacher's options, on
plain numbers (seconds), with a time limit after which the best plan so far stands."""

import time
from datetime import datetime, timedelta

INF = float("inf")


class _OutOfTime(Exception):
    pass


def search(
    requests: list, fixed: list, gap: float, time_limit: float | None
) -> tuple[list[tuple[int, int]], bool]:
    """The best choice of options, as [(request index, option index)], in two phases,
    and whether the search finished (else the best found within the time limit).

    1. Most teachers, then the shortest visit. After the first appointment only each
       teacher's earliest possible time is tried: taking a teacher earlier never makes
       a later teacher harder to fit nor the visit end later, so this is exact for
       count and span (not for idle gaps, hence phase 2).
    2. Fewest idle gaps among visits of that count and span: every option is tried,
       but only inside windows of that span, pruning on a lower bound of the end."""
    n = len(requests)
    starts = [[o[0] for o in usable] for _w, usable, _r, _ip in requests]
    last_start = [s[-1] for s in starts]
    durations = [min(o[1] - o[0] for o in usable) for _w, usable, _r, _ip in requests]
    rids = [rid for _w, _u, rid, _ip in requests]
    in_person = [ip for _w, _u, _rid, ip in requests]

    def advance(state, t):
        """Append the fixed appointments that start before `t`."""
        last_end, ip_end, ip_room, fi, first, gaps = state
        while fi < len(fixed) and fixed[fi][0] < t:
            start, end, rid, ip = fixed[fi][:4]
            if first is None:
                first = start
            elif start > _ready(last_end, ip_end, ip_room, rid, ip, gap):
                gaps += 1
            last_end = max(last_end, end)
            if ip:
                ip_end, ip_room = end, rid
            fi += 1
        return last_end, ip_end, ip_room, fi, first, gaps

    def end_bound(available, state) -> float:
        """A lower bound on the end of a visit that still sees every `available` teacher.

        Everything still ahead (those teachers and the fixed appointments not yet
        passed) comes one at a time, none before its first possible start (a machine
        with release dates, scheduled in release order). In person, a meeting in a room
        no other meeting ahead uses is followed by a walk, unless it is the last; video
        meetings may fill walks, so when there are any, walks count only as a total."""
        last_end, ip_end, ip_room, fi = state[0], state[1], state[2], state[3]
        ahead = fixed[fi:]
        walk_from = ip_end + gap if ip_room is not None else -INF
        jobs = []  # (release, duration, room or None for video)
        for r in available:
            t = last_end
            if in_person[r] and ip_room is not None and rids[r] != ip_room:
                t = max(t, walk_from)
            index = _index_at_or_after(starts[r], t)
            release = starts[r][index] if index < len(starts[r]) else starts[r][-1]
            jobs.append((release, durations[r], rids[r] if in_person[r] else None))
        jobs += [(f[0], f[1] - f[0], f[2] if f[3] else None) for f in ahead]
        jobs.sort(key=lambda job: (job[0], job[1]))
        end = last_end
        for release, duration, _room in jobs:
            end = max(end, release) + duration
        if not gap:
            return end
        rooms = [room for _r, _d, room in jobs if room is not None]
        if not rooms:
            return end
        distinct = set(rooms)
        if len(rooms) == len(jobs) and len(distinct) > 1:
            # All in person (no video meeting to fill a walk): a meeting in a room no
            # other meeting ahead uses is followed by a walk, unless it is the last.
            alone = {room for room in distinct if rooms.count(room) == 1}
            walked = last_end
            for release, duration, room in jobs:
                walked = max(walked, release) + duration + (gap if room in alone else 0)
            end = max(end, walked - gap)
        in_rooms = sum(d for _r, d, room in jobs if room is not None)
        on_video = sum(d for _r, d, room in jobs if room is None)
        if ip_room is None:
            walking = (len(distinct) - 1) * gap
        else:
            walks = len(distinct) - (ip_room in distinct)
            # The first walk may have begun when the last in-person meeting ended.
            walking = (walks - 1) * gap + max(0, min(gap, walk_from - last_end)) if walks else 0
        return max(end, last_end + in_rooms + max(walking, on_video))

    def matching_bound(available, state, until) -> float:
        """A lower bound on the end from when each teacher ahead can be seen: no two
        starts are closer than the shortest meeting (plus the walk, when every one
        ahead is in person in a room of its own). Options never clash with the fixed
        appointments, so those only add their own end."""
        last_end, ip_end, ip_room, fi = state[0], state[1], state[2], state[3]
        walk_from = ip_end + gap if ip_room is not None else -INF
        jobs = []
        for r in available:
            t = last_end
            if in_person[r] and ip_room is not None and rids[r] != ip_room:
                t = max(t, walk_from)
            usable = requests[r][1]
            jobs.append(
                [
                    (usable[o][0], usable[o][1])
                    for o in range(_index_at_or_after(starts[r], t), len(usable))
                    if usable[o][1] < until
                ]
            )
        width = min(durations[r] for r in available)
        rooms = [rids[r] for r in available if in_person[r]]
        if gap and len(rooms) == len(available) and len(set(rooms)) == len(rooms):
            width += gap
        end = _matching_end(jobs, last_end, width)
        return max([end] + [f[1] for f in fixed[fi:]])

    def step(state, r, o):
        """The state after option o of request r, or None if it does not fit next."""
        start, end = requests[r][1][o][0], requests[r][1][o][1]
        last_end, ip_end, ip_room, fi, first, gaps = advance(state, start)
        ready = _ready(last_end, ip_end, ip_room, rids[r], in_person[r], gap)
        if start < ready:
            return None  # overlaps, or no time to walk from the last room
        if first is None:
            first = start
        elif start > ready:
            gaps += 1
        if in_person[r]:
            ip_end, ip_room = end, rids[r]
        return end, ip_end, ip_room, fi, first, gaps

    def finish(state):
        last_end, _ip_end, _ip_room, _fi, first, gaps = advance(state, INF)
        return (last_end - first if first is not None else 0), gaps

    def ip_key(state):
        # Once the walk from the last room is over, which room it was no longer matters.
        last_end, ip_end, ip_room = state[0], state[1], state[2]
        if ip_room is None or ip_end + gap <= last_end:
            return None, None
        return ip_end, ip_room

    def options_from(r, state, until=INF):
        usable = requests[r][1]
        for o in range(_index_at_or_after(starts[r], state[0]), len(usable)):
            if usable[o][1] > until:
                return
            yield o

    # Phase 1: count and span.
    best = [-1, INF, INF, []]  # count, span, gaps, choices
    memo: dict[tuple, list[tuple]] = {}
    chosen: list[tuple[int, int]] = []
    stop_at = time.perf_counter() + time_limit if time_limit is not None else INF
    visits = [0]

    def check_time():
        visits[0] += 1
        if not visits[0] % 256 and time.perf_counter() > stop_at:
            raise _OutOfTime

    def visit_span(mask, count, state):
        check_time()
        span, gaps = finish(state)
        if (count, -span, -gaps) > (best[0], -best[1], -best[2]):
            best[:] = [count, span, gaps, list(chosen)]
        first = state[4]
        available = [r for r in range(n) if not mask >> r & 1 and last_start[r] >= state[0]]
        if not available or count + len(available) < best[0]:
            return
        if count + len(available) == best[0] and first is not None:
            if end_bound(available, state) - first >= best[1]:
                return
            if matching_bound(available, state, first + best[1]) - first >= best[1]:
                return
        if first is not None:
            ip_end, ip_room = ip_key(state)
            entries = memo.setdefault((mask, ip_room, state[3]), [])
            last_end = state[0]
            for other_end, other_ip_end, other_first in entries:
                if (
                    other_end <= last_end
                    and other_first >= first
                    and (ip_room is None or other_ip_end <= ip_end)
                ):
                    return
            entries.append((last_end, ip_end, first))
        # To tie on count, every available teacher must be seen before the best
        # visit so far would have ended.
        must_all = count + len(available) == best[0] and first is not None
        until = first + best[1] if must_all else INF
        children = []
        # Before anything is chosen, options after the first fixed appointment would
        # not open the visit: that appointment would, so it is one branch of its own.
        opening = fixed[state[3]][0] if first is None and state[3] < len(fixed) else INF
        for r in available:
            fits = False
            for o in options_from(r, state):
                if requests[r][1][o][1] >= until or requests[r][1][o][0] > opening:
                    break
                new_state = step(state, r, o)
                if new_state is not None:
                    children.append((new_state, r, o))
                    fits = True
                    if first is not None:
                        break  # after the first appointment, the earliest time will do
            if must_all and not fits:
                return
        if opening < INF:
            children.append((advance(state, opening + 0.5), None, None))
        if first is None:
            # The first appointment fixes the arrival: try the most promising first.
            def promise(child):
                new_state, r, _o = child
                rest = [a for a in available if a != r and last_start[a] >= new_state[0]]
                return end_bound(rest, new_state) - new_state[4], new_state[4]

            children.sort(key=promise)
        else:
            children.sort(key=lambda child: child[0][0])
        for new_state, r, o in children:
            if r is None:
                visit_span(mask, count, new_state)
                continue
            chosen.append((r, o))
            visit_span(mask | 1 << r, count + 1, new_state)
            chosen.pop()

    start_state = (-INF, -INF, None, 0, None, 0)
    try:
        visit_span(0, 0, start_state)
    except _OutOfTime:
        return best[3], False
    if best[2] == 0 or best[0] <= 0:
        return best[3], True

    # Phase 2: fewest idle gaps at that count and span.
    target_count, target_span = best[0], best[1]
    memo.clear()

    def visit_gaps(mask, count, state):
        check_time()
        first, gaps = state[4], state[5]
        if gaps >= best[2]:
            return
        if count == target_count:
            span, gaps = finish(state)
            if span <= target_span and gaps < best[2]:
                best[:] = [count, span, gaps, list(chosen)]
            return
        available = [r for r in range(n) if not mask >> r & 1 and last_start[r] >= state[0]]
        if count + len(available) < target_count:
            return
        until = INF
        if first is not None:
            if (
                count + len(available) == target_count
                and end_bound(available, state) - first > target_span
            ):
                return
            until = first + target_span
            ip_end, ip_room = ip_key(state)
            entries = memo.setdefault((mask, ip_end, ip_room, state[3]), [])
            last_end = state[0]
            for other_end, other_first, other_gaps in entries:
                # An earlier end costs at most one more idle gap (before the next one).
                if (
                    other_end <= last_end
                    and other_first >= first
                    and other_gaps + (other_end < last_end) <= gaps
                ):
                    return
            entries.append((last_end, first, gaps))
        children = []
        for r in available:
            for o in options_from(r, state, until):
                new_state = step(state, r, o)
                if new_state is not None:
                    children.append((new_state[0], new_state[5], r, o, new_state))
        children.sort(key=lambda child: (child[1], child[0]))
        for _end, _gaps, r, o, new_state in children:
            chosen.append((r, o))
            visit_gaps(mask | 1 << r, count + 1, new_state)
            chosen.pop()

    try:
        visit_gaps(0, 0, start_state)
    except _OutOfTime:
        return best[3], False
    return best[3], True


def _matching_end(jobs: list[list[tuple]], origin: float, width: float) -> float:
    """The least possible last end when each job takes one of its (start, end) options
    and no two starts share a bucket of `width` from `origin` (a bottleneck matching)."""
    edges = {}
    for j, options in enumerate(jobs):
        if not options:
            return INF
        for start, end in options:
            key = (j, int((start - origin) // width))
            if key not in edges or end < edges[key]:
                edges[key] = end
    ordered = sorted((end, j, b) for (j, b), end in edges.items())
    n = len(jobs)

    def perfect(limit: int) -> bool:
        adjacency = [[] for _ in range(n)]
        for _end, j, b in ordered[:limit]:
            adjacency[j].append(b)
        if any(not a for a in adjacency):
            return False
        owner: dict[int, int] = {}

        def augment(j, seen):
            for b in adjacency[j]:
                if b not in seen:
                    seen.add(b)
                    if b not in owner or augment(owner[b], seen):
                        owner[b] = j
                        return True
            return False

        return all(augment(j, set()) for j in range(n))

    lo, hi = n, len(ordered)
    if hi < n or not perfect(hi):
        return INF
    while lo < hi:
        mid = (lo + hi) // 2
        if perfect(mid):
            hi = mid
        else:
            lo = mid + 1
    return ordered[lo - 1][0]


def _ready(last_end, ip_end, ip_room, rid, in_person, gap):
    """The earliest a next appointment (in room `rid`) can start without a wait."""
    if in_person and ip_room is not None and ip_room != rid:
        return max(last_end, ip_end + gap)
    return last_end


def spans_apart(a_start, a_end, a_room, a_ip, b_start, b_end, b_room, b_ip, gap) -> bool:
    pause = gap if a_ip and b_ip and a_room != b_room else 0
    return a_end + pause <= b_start or b_end + pause <= a_start


def count_gaps(items: list[tuple], gap: int) -> int:
    """Idle gaps in a time-ordered visit: starts later than the walk from before allows."""
    gaps = 0
    last_end, ip_end, ip_room = -INF, -INF, None
    for index, (start, end, rid, ip) in enumerate(items):
        if index and start > _ready(last_end, ip_end, ip_room, rid, ip, gap):
            gaps += 1
        last_end = max(last_end, end)
        if ip:
            ip_end, ip_room = end, rid
    return gaps


def _index_at_or_after(starts: list, t) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _first_at_or_after(starts: list, first, t):
    if first >= t:
        return first
    index = _index_at_or_after(starts, t)
    return starts[index] if index < len(starts) else INF


def as_number(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def as_seconds(value) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value
