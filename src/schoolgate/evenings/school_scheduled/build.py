"""Build a school-scheduled evening: read the wishes, flags and free slots into the
solver's terms, run it, and keep the result for the organiser to review
(docs/school-scheduled-evenings.md). Nothing is booked here; publish.py books."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schoolgate.accounts.access import access_pairs
from schoolgate.accounts.models import User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core.access import ORGANISE_EVENINGS, has_capability
from schoolgate.core.emails import normalise_email
from schoolgate.evenings.booking.availability import bookable_teachers, live_q
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher, Slot, SlotClaim
from schoolgate.evenings.school_scheduled import solver
from schoolgate.evenings.school_scheduled.models import (
    FamilyWish,
    MeetingWish,
    ScheduledEvening,
    TeacherFlag,
)
from schoolgate.evenings.school_scheduled.wishes import WishError
from schoolgate.mis.models import Pupil

# Reasons a meeting is not in the schedule, in the organiser's words.
NOT_NEEDED = "not_needed"
NO_WISHES = "no_wishes"
NOT_BOOKABLE = "not_bookable"
ALREADY_BOOKED = "already_booked"
REASONS = {
    solver.NO_FREE_SLOT: gettext_lazy("The teacher has no free time left at this evening."),
    solver.OUTSIDE_WINDOW: gettext_lazy(
        "The teacher has no free time between the family's arrival and departure."
    ),
    solver.CLASHES: gettext_lazy("Every free time clashes with the family's other appointments."),
    solver.TEACHER_FULL: gettext_lazy(
        "The teacher's times the family could come were all needed for other meetings."
    ),
    solver.CROWDED_OUT: gettext_lazy(
        "The family's other meetings fill the times the teacher is free."
    ),
    solver.LIMIT: gettext_lazy("The evening's limit of appointments per parent or pupil."),
    solver.ONE_DAY: gettext_lazy("A family's appointments must all be on one day."),
    NOT_NEEDED: gettext_lazy("The teacher marked this meeting not needed."),
    NO_WISHES: gettext_lazy(
        "The teacher must see this pupil, but no family gave wishes for them, so the school "
        "does not know when they can come."
    ),
    NOT_BOOKABLE: gettext_lazy("This teacher can no longer be seen about this pupil."),
    ALREADY_BOOKED: gettext_lazy("This meeting is already booked."),
}


def collect(evening: Evening, *, now: datetime | None = None):
    """(the solver's problem, the time its minutes count from). `problem.left_out`
    lists the meetings left out before solving, each with its reason."""
    now = now or timezone.now()
    days = list(evening.days.all())
    origin = min(d.starts_at for d in days)

    def minute(value: datetime) -> int:
        return int((value - origin).total_seconds() // 60)

    teachers = {
        t.pk: solver.Teacher(t.pk, room=t.room)
        for t in EveningTeacher.objects.filter(evening=evening, removed=False)
    }
    taken = set(
        SlotClaim.objects.filter(slot__evening=evening)
        .filter(
            Q(brk__isnull=False)
            | Q(appointment__status=Appointment.Status.CONFIRMED)
            | Q(appointment__status=Appointment.Status.HELD, appointment__expires_at__gt=now)
        )
        .values_list("slot_id", flat=True)
    )
    for slot in Slot.objects.filter(evening=evening).order_by("teacher_id", "starts_at"):
        if slot.pk not in taken and slot.teacher_id in teachers:
            teachers[slot.teacher_id].slots.append(
                solver.Slot(
                    slot.pk,
                    slot.teacher_id,
                    slot.day_id,
                    minute(slot.starts_at),
                    minute(slot.ends_at),
                )
            )

    live = list(Appointment.objects.filter(live_q(now), evening=evening).select_related("teacher"))
    in_person = evening.mode != Evening.Mode.VIDEO
    wishes = list(FamilyWish.objects.filter(evening=evening).order_by("updated_at", "pk"))
    meetings = defaultdict(list)
    for m in MeetingWish.objects.filter(family__evening=evening).order_by("rank", "pk"):
        meetings[m.family_id].append(m)
    flags = {
        (f.pupil_id, f.teacher_id): f.flag for f in TeacherFlag.objects.filter(evening=evening)
    }
    pupil_ids = {m.pupil_id for ms in meetings.values() for m in ms} | {p for p, _t in flags}
    bookable = bookable_teachers(evening=evening, pupil_ids=pupil_ids)

    families, requests, left_out = {}, [], []
    booked_pairs = {(a.pupil_id, a.teacher_id) for a in live}
    asked_by = {}  # (pupil, teacher) -> request key, when meetings are shared
    pupil_families = defaultdict(list)  # pupil -> family keys, for must-sees nobody asked for

    def leave_out(parent_id, pupil_id, teacher_id, reason, *, rank=None, must=False):
        left_out.append(
            {
                "parent": parent_id,
                "pupil": pupil_id,
                "teacher": teacher_id,
                "reason": reason,
                "rank": rank,
                "must": must,
            }
        )

    # Who may see which pupil now, for every family at once (accounts.access's rules).
    users = User.objects.in_bulk([w.parent_id for w in wishes])
    keys = {u.pk: normalise_email(u.email) for u in users.values() if u.is_active and u.email}
    visible_of = defaultdict(set)
    by_key = defaultdict(list)
    for user_id, key in keys.items():
        by_key[key].append(user_id)
    for email, pupil_id in access_pairs(emails=list(by_key)):
        for user_id in by_key[email]:
            visible_of[user_id].add(pupil_id)
    for wish in wishes:
        visible = visible_of[wish.parent_id]
        mine = [a for a in live if a.parent_id == wish.parent_id]
        family = solver.Family(
            wish.parent_id,
            one_visit=wish.one_visit,
            windows={d.pk: _window(d, wish, minute) for d in days},
            busy=[
                (minute(a.starts_at), minute(a.ends_at), a.teacher.room, a.in_person) for a in mine
            ],
            booked_days={a.day_id for a in mine},
            booked_count=len(mine),
        )
        families[wish.parent_id] = family
        for m in meetings[wish.pk]:
            must = flags.get((m.pupil_id, m.teacher_id)) == TeacherFlag.Flag.MUST
            pair = (m.pupil_id, m.teacher_id)
            if m.pupil_id not in visible or m.teacher_id not in bookable.get(m.pupil_id, {}):
                leave_out(wish.parent_id, *pair, NOT_BOOKABLE, rank=m.rank, must=must)
                continue
            pupil_families[m.pupil_id].append(wish.parent_id)
            if flags.get(pair) == TeacherFlag.Flag.NOT_NEEDED:
                leave_out(wish.parent_id, *pair, NOT_NEEDED, rank=m.rank)
                continue
            if pair in booked_pairs and evening.shared_meetings:
                leave_out(wish.parent_id, *pair, ALREADY_BOOKED, rank=m.rank, must=must)
                continue
            if evening.shared_meetings and pair in asked_by:
                continue  # one meeting per pupil and teacher: the other parent's request
            key = (wish.parent_id, m.pupil_id, m.teacher_id)
            asked_by[pair] = key
            requests.append(
                solver.Request(
                    key,
                    wish.parent_id,
                    m.pupil_id,
                    m.teacher_id,
                    bookable[m.pupil_id][m.teacher_id].minutes,
                    rank=m.rank,
                    must=must,
                    in_person=in_person,
                )
            )
    # A teacher's must-see nobody asked for joins the wishes of a family of that
    # pupil (after their own), or is reported: we do not know when anyone can come.
    asked_pairs = {(r.pupil, r.teacher) for r in requests} | {
        (item["pupil"], item["teacher"]) for item in left_out
    }
    for (pupil_id, teacher_id), flag in sorted(flags.items()):
        if flag != TeacherFlag.Flag.MUST or (pupil_id, teacher_id) in asked_pairs:
            continue
        if teacher_id not in bookable.get(pupil_id, {}):
            continue
        if not pupil_families[pupil_id]:
            leave_out(None, pupil_id, teacher_id, NO_WISHES, must=True)
            continue
        parent_id = pupil_families[pupil_id][0]
        rank = 1 + max((r.rank for r in requests if r.family == parent_id), default=0)
        requests.append(
            solver.Request(
                (parent_id, pupil_id, teacher_id),
                parent_id,
                pupil_id,
                teacher_id,
                bookable[pupil_id][teacher_id].minutes,
                rank=rank,
                must=True,
                in_person=in_person,
            )
        )
    pupil_booked = defaultdict(int)
    for a in live:
        pupil_booked[a.pupil_id] += 1
    problem = solver.Problem(
        teachers=teachers,
        families=families,
        requests=requests,
        travel_gap=evening.travel_gap_minutes,
        max_per_parent=evening.max_per_parent,
        max_per_pupil=evening.max_per_pupil,
        pupil_booked=dict(pupil_booked),
        one_day=get_addon_settings().one_day_only and len(days) > 1,
    )
    problem.left_out = left_out
    return problem, origin


def _window(day, wish: FamilyWish, minute) -> tuple:
    date = timezone.localdate(day.starts_at)
    tz = timezone.get_current_timezone()

    def at(t):
        return minute(datetime.combine(date, t, tzinfo=tz)) if t is not None else None

    return (at(wish.arrive_after), at(wish.leave_by))


def build(
    *, scheduled: ScheduledEvening, actor, now: datetime | None = None, log=None
) -> ScheduledEvening:
    """Run the solver over the evening's wishes and keep its schedule for review."""
    now = now or timezone.now()
    if not has_capability(actor, ORGANISE_EVENINGS):
        raise WishError(_("Only evening organisers may do this."))
    if scheduled.state == ScheduledEvening.State.PUBLISHED:
        raise WishError(_("This evening's schedule is already published."))
    evening = scheduled.evening
    if not evening.days.exists():
        raise WishError(_("Add a day before building the schedule."))
    problem, origin = collect(evening, now=now)
    outcome = solver.solve(problem, time_limit=scheduled.time_limit_seconds, log=log)
    result = result_json(problem, outcome, origin)
    with transaction.atomic():
        locked = ScheduledEvening.objects.select_for_update().get(pk=scheduled.pk)
        if locked.state == ScheduledEvening.State.PUBLISHED:
            raise WishError(_("This evening's schedule is already published."))
        locked.state = ScheduledEvening.State.BUILT
        locked.result = result
        locked.built_at = now
        locked.built_by = actor
        locked.save(update_fields=["state", "result", "built_at", "built_by"])
    return locked


def result_json(problem: solver.Problem, outcome: solver.Result, origin: datetime) -> dict:
    """What the review page shows and publishing books, as JSON."""
    by_key = {r.key: r for r in problem.requests}
    meetings = []
    for key, option in sorted(outcome.placed.items(), key=lambda kv: (kv[1].start, str(kv[0]))):
        r = by_key[key]
        meetings.append(
            {
                "parent": r.family,
                "pupil": r.pupil,
                "teacher": r.teacher,
                "slot": option.slot_ids[0],
                "start": (origin + timedelta(minutes=option.start)).isoformat(),
                "end": (origin + timedelta(minutes=option.end)).isoformat(),
                "rank": r.rank,
                "must": r.must,
            }
        )
    unplaced = [
        {
            "parent": by_key[key].family,
            "pupil": by_key[key].pupil,
            "teacher": by_key[key].teacher,
            "reason": reason,
            "rank": by_key[key].rank,
            "must": by_key[key].must,
        }
        for key, reason in outcome.unplaced.items()
    ]
    unplaced += problem.left_out
    waits = family_waits(
        [
            (
                m["parent"],
                m["pupil"],
                datetime.fromisoformat(m["start"]),
                datetime.fromisoformat(m["end"]),
            )
            for m in meetings
        ],
        {f.id: f.one_visit for f in problem.families.values()},
    )
    must_asked = sum(r.must for r in problem.requests) + sum(
        1 for u in problem.left_out if u["must"]
    )
    return {
        "meetings": meetings,
        "unplaced": unplaced,
        "figures": {
            "meetings_asked": len(problem.requests)
            + sum(1 for u in problem.left_out if u["reason"] != NOT_NEEDED),
            "meetings_placed": len(meetings),
            "must_see_asked": must_asked,
            "must_see_placed": sum(m["must"] for m in meetings),
            "mean_wait_min": round(sum(waits.values()) / len(waits), 1) if waits else 0,
            "worst_wait_min": max(waits.values(), default=0),
            "families": len(problem.families),
        },
        "bound": outcome.bound,
        "seconds": round(outcome.seconds, 1),
        "rounds": outcome.rounds,
    }


def family_waits(meetings, one_visit: dict) -> dict:
    """{parent: minutes waiting}: the time between meetings of a visit, over all of a
    family's children when they asked for one visit, else per child."""
    visits = defaultdict(list)
    for parent, pupil, start, end in meetings:
        visits[(parent, "all" if one_visit.get(parent, True) else pupil)].append((start, end))
    waits = defaultdict(int)
    for (parent, _visit), spans in visits.items():
        span = max(e for _s, e in spans) - min(s for s, _e in spans)
        busy = sum((e - s for s, e in spans), timedelta())
        waits[parent] += int((span - busy).total_seconds() // 60)
    return dict(waits)


def names(result: dict) -> tuple[dict, dict, dict]:
    """{id: display} of the parents, pupils and teachers a result names."""
    rows = result.get("meetings", []) + result.get("unplaced", [])
    parents = {u.pk: u for u in User.objects.filter(pk__in={r["parent"] for r in rows})}
    pupils = {p.pk: p for p in Pupil.objects.filter(pk__in={r["pupil"] for r in rows})}
    teachers = {
        t.pk: t
        for t in EveningTeacher.objects.filter(pk__in={r["teacher"] for r in rows}).select_related(
            "staff"
        )
    }
    return parents, pupils, teachers
