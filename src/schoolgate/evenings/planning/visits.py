"""Planning a parent's visit: the best itinerary for the teachers they want, between
their earliest arrival and latest departure, around their existing appointments."""

from datetime import datetime, timedelta

from django.utils import timezone

from schoolgate.evenings.booking.availability import free_starts_for_lengths, parent_appointments
from schoolgate.evenings.booking.locks import pk_of
from schoolgate.evenings.booking.rules import check_bookable, offered_method
from schoolgate.evenings.models import (
    Appointment,
    Evening,
)
from schoolgate.evenings.planning import planner


def plan_visit(
    *,
    parent,
    evening: Evening,
    wanted,
    earliest: datetime | None = None,
    latest: datetime | None = None,
    method: str | None = None,
    methods=None,
    now: datetime | None = None,
) -> planner.Plan:
    """Propose the best itinerary for `wanted` [(pupil, teacher)] between the parent's
    earliest arrival and latest departure, around their existing appointments.

    Keys of the plan are (pupil id, teacher id); each placed option's `ref` is the
    first slot's id, ready for `booking.hold_slots`. `methods` {(pupil id, teacher id):
    "in_person" or "video"} says how each pair meets where the evening offers both (else
    `method`, else the evening's default): in person needs travel time between rooms,
    video none. Pairs the parent may not book are refused as in booking (NotAllowed,
    NotBookable), a way of meeting the evening does not offer as InvalidChoice."""

    now = now or timezone.now()
    pairs = [(pk_of(p), pk_of(t)) for p, t in wanted]
    bookable = check_bookable(parent=parent, evening=evening, pairs=pairs)
    ways = {pair: offered_method(evening, (methods or {}).get(pair) or method) for pair in pairs}
    # Free runs depend on the length: ask for each (teacher, length) wanted, all at once.
    free = free_starts_for_lengths(
        evening=evening,
        lengths={(t, bookable[p][t].minutes) for p, t in pairs},
        now=now,
    )
    wants = []
    for pupil_id, teacher_id in pairs:
        entry = bookable[pupil_id][teacher_id]
        length = timedelta(minutes=entry.minutes)
        wants.append(
            planner.Wanted(
                key=(pupil_id, teacher_id),
                options=tuple(
                    planner.Option(s.starts_at, s.starts_at + length, ref=s.pk)
                    for s in free[(teacher_id, entry.minutes)]
                ),
                room=entry.teacher.room,
                in_person=ways[(pupil_id, teacher_id)] == Appointment.Method.IN_PERSON,
            )
        )
    busy = [
        planner.Busy(a.starts_at, a.ends_at, a.teacher.room, a.in_person, ref=a.pk)
        for a in parent_appointments(parent=parent, evening=evening, now=now).select_related(
            "teacher"
        )
    ]
    return planner.plan(
        wanted=wants,
        busy=busy,
        earliest=earliest,
        latest=latest,
        travel_gap=timedelta(minutes=evening.travel_gap_minutes),
    )
