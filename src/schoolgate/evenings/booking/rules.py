"""The booking rules checked in Python under the row locks: who may book, the window,
the cut-off, what a choice means, the limits and the one-day rule."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, has_capability
from schoolgate.evenings.booking.availability import BookableTeacher, bookable_teachers, live_q
from schoolgate.evenings.booking.cells import (
    Wanted,
    release_expired_in_the_way,
    release_held_appointments,
)
from schoolgate.evenings.booking.errors import (
    BookingClosed,
    Clash,
    InvalidChoice,
    LimitReached,
    NotAllowed,
    NotBookable,
    OutsideWindow,
    PastCutoff,
    SlotUnavailable,
)
from schoolgate.evenings.booking.locks import lock_rows, pk_of
from schoolgate.evenings.booking.refusals import busy_span
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Hold,
    Slot,
)
from schoolgate.evenings.planning import planner
from schoolgate.mis.models import Pupil


@dataclass(frozen=True)
class Choice:
    """One appointment asked for: a pupil, a teacher (EveningTeacher) and the slot it
    starts in. Plain tuples (pupil, teacher, slot[, method]) of objects or ids work too."""

    pupil: Pupil | int
    teacher: EveningTeacher | int
    slot: Slot | int
    method: str | None = None


def check_bookable(*, parent, evening: Evening, pairs) -> dict[int, dict[int, BookableTeacher]]:
    """Refuse unless the parent may see every pupil and each may book that teacher here.

    Returns bookable_teachers() for those pupils, for the caller's use."""
    pupil_ids = {pupil_id for pupil_id, _t in pairs}
    check_pupils(parent, pupil_ids)
    bookable = bookable_teachers(evening=evening, pupil_ids=pupil_ids)
    for pupil_id, teacher_id in pairs:
        if pupil_id not in bookable:
            raise NotBookable(_("This evening is not for this pupil."), pupil_id=pupil_id)
        if teacher_id not in bookable[pupil_id]:
            raise NotBookable(
                _("This teacher cannot be booked for this pupil at this evening."),
                pupil_id=pupil_id,
                teacher_id=teacher_id,
            )
    return bookable


def default_method(evening: Evening) -> str:
    if evening.mode == Evening.Mode.VIDEO:
        return Appointment.Method.VIDEO
    return Appointment.Method.IN_PERSON


def offered_method(evening: Evening, method: str | None) -> str:
    """The way of meeting asked for (None: the evening's default), or InvalidChoice when
    the evening does not offer it."""
    method = method or default_method(evening)
    if method not in Appointment.Method.values or (
        evening.mode != Evening.Mode.BOTH and method != default_method(evening)
    ):
        raise InvalidChoice(_("This evening does not offer that kind of meeting."))
    return method


def prepare_booking(
    *,
    evening: Evening,
    parent,
    actor,
    choices,
    now: datetime,
    override_limits: bool,
    replace_hold: bool,
    moving: Appointment | None = None,
) -> tuple[list[Wanted], list[str]]:
    """Every check before writing, in the order that gives the clearest refusal; takes
    the row locks and clears expired holds in the way. Returns what to insert."""
    check_actor(actor=actor, parent=parent, override_limits=override_limits)
    by_staff = acting_for(actor, parent)
    check_open(evening, now, by_staff=by_staff)
    wanted = _resolve(evening=evening, parent=parent, choices=choices)
    for item in wanted:
        check_cutoff(evening, item.starts_at, now, by_staff=by_staff)
    _check_among_themselves(evening, wanted)
    lock_rows(evening, parent, {w.pupil_id for w in wanted})
    release_expired_in_the_way(evening, parent, wanted, now)
    if replace_hold:
        # A waiting-list offer stays, unless the parent is choosing that teacher again.
        same_pair = Q(pk__in=[])
        for w in wanted:
            same_pair |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
        release_held_appointments(
            evening,
            Appointment.objects.filter(
                Q(hold__waiting_offers__isnull=True) | same_pair,
                evening=evening,
                parent=parent,
                status=Appointment.Status.HELD,
            ),
        )
    warnings = _check_limits(
        evening=evening,
        parent=parent,
        wanted=wanted,
        now=now,
        override=override_limits,
        moving=moving,
    )
    return wanted, warnings


def replaceable_holds(evening: Evening, parent):
    """The parent's unconfirmed holds here that a new hold replaces: all but
    waiting-list offers."""
    return Hold.objects.filter(
        evening=evening, parent=parent, confirmed_at__isnull=True, waiting_offers__isnull=True
    )


def running_hold(evening: Evening, parent, now: datetime) -> Hold | None:
    """The parent's replaceable hold that has not yet expired, if any."""
    return replaceable_holds(evening, parent).filter(expires_at__gt=now).order_by("-pk").first()


def same_choice(evening: Evening, hold: Hold, choices) -> bool:
    """Whether `choices` ask for exactly the times `hold` still holds (a re-post)."""
    raw = [c if isinstance(c, Choice) else Choice(*c) for c in choices]
    slots = Slot.objects.in_bulk([pk_of(c.slot) for c in raw])
    asked = set()
    for c in raw:
        slot = slots.get(pk_of(c.slot))
        if slot is None:
            return False
        method = c.method or default_method(evening)
        asked.add((pk_of(c.pupil), pk_of(c.teacher), slot.starts_at, method))
    held = {
        (a.pupil_id, a.teacher_id, a.starts_at, a.method)
        for a in Appointment.objects.filter(hold=hold, status=Appointment.Status.HELD)
    }
    return len(asked) == len(raw) and asked == held


def is_booking_staff(user) -> bool:
    return user is not None and has_capability(user, BOOK_FOR_PARENTS)


def is_organiser(user) -> bool:
    return user is not None and has_capability(user, ORGANISE_EVENINGS)


def acting_for(actor, parent) -> bool:
    """Someone other than the parent is booking (check_actor has checked they may)."""
    return actor is not None and actor.pk != parent.pk


def check_actor(*, actor, parent, override_limits: bool) -> None:
    if parent is None or not parent.is_active:
        raise NotAllowed(_("This account cannot book."))
    on_behalf = acting_for(actor, parent)
    if on_behalf and not is_booking_staff(actor):
        raise NotAllowed(_("You may not book on someone else's behalf."))
    if override_limits and not on_behalf:
        raise NotAllowed(_("Only staff booking on a parent's behalf may pass a limit."))


def check_pupils(parent, pupil_ids) -> None:
    visible = set(
        pupils_visible_to(parent).filter(pk__in=list(pupil_ids)).values_list("pk", flat=True)
    )
    if set(pupil_ids) - visible:
        raise NotAllowed(_("You may only book for your own children."))


def check_owner(user, appointment: Appointment) -> None:
    """A parent changes only their own appointments, for a child they may still see."""
    if (
        user.pk != appointment.parent_id
        or not pupils_visible_to(user).filter(pk=appointment.pupil_id).exists()
    ):
        raise NotAllowed(_("Only the parent who booked this appointment may change it."))


def check_open(evening: Evening, now: datetime, *, by_staff: bool = False) -> None:
    """Parents book while the evening is published and its window open. Staff booking
    for a parent (a phone call after booking closed, say) may do so on any evening
    parents can see, published or closed, before or after the window."""
    if by_staff:
        if evening.status == Evening.Status.DRAFT:
            raise BookingClosed(_("This evening is still a draft."), status=evening.status)
        return
    if evening.status != Evening.Status.PUBLISHED:
        raise BookingClosed(_("Booking for this evening is not open."), status=evening.status)
    if now < evening.booking_opens:
        raise OutsideWindow(
            _("Booking opens on %(when)s.") % {"when": _when(evening.booking_opens)},
            opens=evening.booking_opens,
            closes=evening.booking_closes,
        )
    if now >= evening.booking_closes:
        raise OutsideWindow(
            _("Booking closed on %(when)s.") % {"when": _when(evening.booking_closes)},
            opens=evening.booking_opens,
            closes=evening.booking_closes,
        )


def check_cutoff(
    evening: Evening,
    starts_at: datetime,
    now: datetime,
    *,
    cancelling: bool = False,
    by_staff: bool = False,
) -> None:
    """The cut-off binds parents; staff booking for a parent only need the time not
    to have started."""
    hours = 0 if by_staff else evening.cutoff_hours or 0
    if now >= starts_at - timedelta(hours=hours):
        if hours:
            message = _(
                "Appointments cannot be booked, changed or cancelled within %(hours)s hours "
                "of their start; please contact the school."
            ) % {"hours": evening.cutoff_hours}
        elif cancelling:
            message = _("This appointment has already started.")
        else:
            message = _("This time has already passed.")
        raise PastCutoff(message, starts_at=starts_at, cutoff=starts_at - timedelta(hours=hours))


def _resolve(*, evening: Evening, parent, choices) -> list[Wanted]:
    """Turn choices into slots runs, checking access and that each pair may be booked."""
    raw = [c if isinstance(c, Choice) else Choice(*c) for c in choices]
    if not raw:
        raise InvalidChoice(_("Choose at least one appointment."))
    pairs = [(pk_of(c.pupil), pk_of(c.teacher)) for c in raw]
    bookable = check_bookable(parent=parent, evening=evening, pairs=pairs)
    slots = Slot.objects.in_bulk([pk_of(c.slot) for c in raw])
    wanted = []
    for choice, (pupil_id, teacher_id) in zip(raw, pairs, strict=True):
        entry = bookable[pupil_id][teacher_id]
        first = slots.get(pk_of(choice.slot))
        if first is None or first.teacher_id != teacher_id or first.evening_id != evening.pk:
            raise InvalidChoice(_("That time is not one of this teacher's appointments."))
        method = offered_method(evening, choice.method)
        wanted.append(Wanted(pupil_id, entry.teacher, [first], entry.minutes, method))
    _extend_runs(wanted)
    return wanted


def _extend_runs(wanted: list[Wanted]) -> None:
    """Add the following slots to appointments longer than one slot (class lengths)."""
    needed = {}
    for item in wanted:
        at, end = item.slots[0].ends_at, item.starts_at + timedelta(minutes=item.minutes)
        while at < end:
            needed[(item.teacher.pk, at)] = None
            at += timedelta(minutes=item.teacher.minutes)
    if not needed:
        return
    query = Q()
    for teacher_id, at in needed:
        query |= Q(teacher_id=teacher_id, starts_at=at)
    found = {(s.teacher_id, s.starts_at): s for s in Slot.objects.filter(query)}
    for item in wanted:
        end = item.starts_at + timedelta(minutes=item.minutes)
        while item.ends_at < end:
            following = found.get((item.teacher.pk, item.ends_at))
            if following is None or following.day_id != item.day_id:
                raise SlotUnavailable(
                    _(
                        "This appointment needs %(minutes)s minutes and would run past the end "
                        "of the teacher's evening."
                    )
                    % {"minutes": item.minutes},
                    slot_id=item.slots[0].pk,
                )
            item.slots.append(following)


def _check_among_themselves(evening: Evening, wanted: list[Wanted]) -> None:
    """Refuse a request that collides with itself, before touching the database."""
    slot_ids = [s.pk for w in wanted for s in w.slots]
    if len(slot_ids) != len(set(slot_ids)):
        raise InvalidChoice(_("The same time is chosen twice."))
    pairs = Counter((w.pupil_id, w.teacher.pk) for w in wanted)
    if any(n > 1 for n in pairs.values()):
        raise InvalidChoice(_("The same teacher is chosen twice for one pupil."))
    gap = timedelta(minutes=evening.travel_gap_minutes)
    spans = [busy_span(w.starts_at, w.ends_at, w.teacher, w.method) for w in wanted]
    for i, first in enumerate(spans):
        for j, second in enumerate(spans[i + 1 :], start=i + 1):
            if not planner.apart(first, second, gap=gap):
                one, other = sorted((wanted[i], wanted[j]), key=lambda w: w.starts_at)
                # Name the two, so the parent knows which one to change.
                raise Clash(
                    _(
                        "%(first_time)s with %(first_teacher)s and %(second_time)s with "
                        "%(second_teacher)s overlap, or leave no time to get from one room "
                        "to the other: choose another time for one of them."
                    )
                    % {
                        "first_time": date_format(timezone.localtime(one.starts_at), "H:i"),
                        "first_teacher": one.teacher.staff,
                        "second_time": date_format(timezone.localtime(other.starts_at), "H:i"),
                        "second_teacher": other.teacher.staff,
                    },
                    clashes=[],
                )


def _check_limits(
    *,
    evening: Evening,
    parent,
    wanted: list[Wanted],
    now: datetime,
    override: bool,
    moving: Appointment | None,
) -> list[str]:
    """Rule 4, under the locks: per-parent and per-pupil limits, and the one-day rule.

    Returns the warnings staff chose to pass; raises LimitReached otherwise."""
    live = Appointment.objects.filter(live_q(now), evening=evening)
    if moving is not None:
        live = live.exclude(pk=moving.pk)
    problems = []
    if evening.max_per_parent is not None:
        booked = live.filter(parent=parent).count()
        if booked + len(wanted) > evening.max_per_parent:
            problems.append(
                (
                    "per_parent",
                    _(
                        "A parent may book at most %(allowed)s appointments at this evening "
                        "(already %(booked)s)."
                    )
                    % {"allowed": evening.max_per_parent, "booked": booked},
                    {"allowed": evening.max_per_parent, "booked": booked},
                )
            )
    if evening.max_per_pupil is not None:
        for pupil_id, adding in sorted(Counter(w.pupil_id for w in wanted).items()):
            mine = live.filter(pupil_id=pupil_id)
            if not evening.shared_meetings:
                mine = mine.filter(parent=parent)
            booked = mine.count()
            if booked + adding > evening.max_per_pupil:
                problems.append(
                    (
                        "per_pupil",
                        _(
                            "At most %(allowed)s appointments per pupil at this evening "
                            "(already %(booked)s)."
                        )
                        % {"allowed": evening.max_per_pupil, "booked": booked},
                        {"allowed": evening.max_per_pupil, "booked": booked, "pupil_id": pupil_id},
                    )
                )
    if get_addon_settings().one_day_only and evening.days.count() > 1:
        days = set(live.filter(parent=parent).values_list("day_id", flat=True))
        days |= {w.day_id for w in wanted}
        if len(days) > 1:
            problems.append(
                (
                    "one_day",
                    _("All of a parent's appointments must be on one day of this evening."),
                    {"days": sorted(days)},
                )
            )
    if problems and not override:
        limit, message, details = problems[0]
        raise LimitReached(message, limit=limit, **details)
    return [message for _limit, message, _details in problems]


def _when(value: datetime) -> str:
    return date_format(timezone.localtime(value), "j F Y, H:i")
