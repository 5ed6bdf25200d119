"""The booking engine: hold, confirm, book, cancel and move appointments.

Every service runs in one transaction and either does everything or nothing. The
rules live in the database (see models.py): a teacher's slot is claimed once, a pupil
meets a teacher once, a parent's minutes are taken once (and by one room at a time).
Limits, the one-day rule, the booking window and the cut-off are checked in Python
under row locks: a shared lock on the evening (set-up changes take it exclusively),
then one row per parent and per pupil, locked FOR UPDATE in a fixed order. SQLite
needs no row locks: its IMMEDIATE transactions run writers one at a time.

Refusals are `schoolgate.evenings.errors` exceptions, never a bare IntegrityError.
docs/booking-engine.md has the whole design, with examples."""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, has_capability
from schoolgate.evenings import notifications, planner
from schoolgate.evenings.availability import BookableTeacher, bookable_teachers, live_q
from schoolgate.evenings.errors import (
    AlreadyBooked,
    BookingClosed,
    Clash,
    HoldExpired,
    InvalidChoice,
    LimitReached,
    NotAllowed,
    NotBookable,
    OutsideWindow,
    PastCutoff,
    SlotTaken,
    SlotUnavailable,
)
from schoolgate.evenings.models import (
    Appointment,
    BookingLock,
    Evening,
    EveningTeacher,
    Hold,
    ParentCell,
    ParentRoomCell,
    Slot,
    SlotClaim,
)
from schoolgate.mis.models import Pupil

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
DEADLOCK_RETRIES = 3


def hold_seconds() -> int:
    return getattr(settings, "HOLD_SECONDS", 120)


@dataclass(frozen=True)
class Choice:
    """One appointment asked for: a pupil, a teacher (EveningTeacher) and the slot it
    starts in. Plain tuples (pupil, teacher, slot[, method]) of objects or ids work too."""

    pupil: Pupil | int
    teacher: EveningTeacher | int
    slot: Slot | int
    method: str | None = None


@dataclass
class Booking:
    """What `book_slots` made, and the limits staff chose to pass (empty for parents)."""

    appointments: list[Appointment]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Wanted:
    pupil_id: int
    teacher: EveningTeacher
    slots: list[Slot]
    minutes: int
    method: str

    @property
    def starts_at(self) -> datetime:
        return self.slots[0].starts_at

    @property
    def ends_at(self) -> datetime:
        return self.slots[-1].ends_at

    @property
    def day_id(self) -> int:
        return self.slots[0].day_id


# --- the services ------------------------------------------------------------------


def hold_slots(
    *,
    parent,
    evening: Evening | int,
    choices,
    now: datetime | None = None,
    actor=None,
    override_limits: bool = False,
    expires_at: datetime | None = None,
    replace_hold: bool = True,
) -> Hold:
    """Take the chosen slots for `parent` for HOLD_SECONDS while they confirm.

    Held slots are unavailable to everyone else. A new hold replaces the parent's
    earlier unconfirmed hold at the same evening (never a waiting-list offer; and none
    with `replace_hold=False`). `actor` is a member of staff acting for the parent
    (permission evenings.book_for_parents); with `override_limits` a limit becomes a
    warning in `hold.warnings` instead of LimitReached. `expires_at` holds longer (a
    waiting-list offer). Raises a BookingError subclass when anything is refused, and
    then nothing changes."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            locked = _lock_evening(evening)
            wanted, warnings = _prepare(
                evening=locked,
                parent=parent,
                actor=actor,
                choices=choices,
                now=now,
                override_limits=override_limits,
                replace_hold=replace_hold,
            )
            hold = Hold.objects.create(
                evening=locked,
                parent=parent,
                created_by=actor or parent,
                created_at=now,
                expires_at=expires_at or now + timedelta(seconds=hold_seconds()),
            )
            _insert(
                evening=locked,
                parent=parent,
                actor=actor or parent,
                wanted=wanted,
                now=now,
                hold=hold,
                warnings=warnings,
            )
            hold.warnings = warnings
            return hold

    return _retrying(run)


def confirm_hold(
    *,
    hold: Hold,
    parent,
    message: str = "",
    messages: dict[int, str] | None = None,
    now: datetime | None = None,
    actor=None,
) -> list[Appointment]:
    """Turn a hold into confirmed appointments, with a message to each teacher.

    `message` goes to every teacher; `messages` ({appointment id: text}) overrides it
    per appointment. Raises HoldExpired when the hold ran out or was replaced, and
    re-checks access, the window and the cut-off (they may have changed since)."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            _check_actor(actor=actor, parent=parent, override_limits=False)
            evening = _lock_evening(hold.evening_id)
            try:
                locked_hold = Hold.objects.select_for_update().get(pk=hold.pk)
            except Hold.DoesNotExist:
                raise HoldExpired(
                    _("This hold has ended; please choose your times again.")
                ) from None
            if locked_hold.parent_id != parent.pk:
                raise NotAllowed(_("This hold belongs to someone else."))
            appointments = list(
                Appointment.objects.select_for_update()
                .filter(hold=locked_hold)
                .exclude(status=Appointment.Status.CANCELLED)
                .select_related("teacher__staff", "pupil")
                .order_by("pk")
            )
            if locked_hold.confirmed_at is not None:
                return [a for a in appointments if a.status == Appointment.Status.CONFIRMED]
            if not appointments or any(
                a.status != Appointment.Status.HELD or a.expires_at <= now for a in appointments
            ):
                raise HoldExpired(_("This hold has ended; please choose your times again."))
            by_staff = _acting_for(actor, parent)
            _check_open(evening, now, by_staff=by_staff)
            _check_pupils(parent, {a.pupil_id for a in appointments})
            for appointment in appointments:
                _check_cutoff(evening, appointment.starts_at, now, by_staff=by_staff)
            for appointment in appointments:
                appointment.status = Appointment.Status.CONFIRMED
                appointment.expires_at = None
                appointment.confirmed_at = now
                appointment.message = (messages or {}).get(appointment.pk, message)
            Appointment.objects.bulk_update(
                appointments, ["status", "expires_at", "confirmed_at", "message"]
            )
            locked_hold.confirmed_at = now
            locked_hold.save(update_fields=["confirmed_at"])
            notifications.booked(appointments, actor=actor or parent)
            return appointments

    return _retrying(run)


def book_slots(
    *,
    parent,
    evening: Evening | int,
    choices,
    message: str = "",
    now: datetime | None = None,
    actor=None,
    override_limits: bool = False,
) -> Booking:
    """Book confirmed appointments straight away (staff on a parent's behalf, the API):
    the same checks as a hold and its confirmation, in one transaction."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            locked = _lock_evening(evening)
            wanted, warnings = _prepare(
                evening=locked,
                parent=parent,
                actor=actor,
                choices=choices,
                now=now,
                override_limits=override_limits,
                replace_hold=False,
            )
            appointments = _insert(
                evening=locked,
                parent=parent,
                actor=actor or parent,
                wanted=wanted,
                now=now,
                message=message,
                warnings=warnings,
            )
            notifications.booked(appointments, actor=actor or parent)
            return Booking(appointments=appointments, warnings=warnings)

    return _retrying(run)


def release_hold(*, hold: Hold, user, now: datetime | None = None) -> int:
    """Give back a hold's slots before it expires (the parent changed their mind).

    Returns how many held appointments were released."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            if user.pk != hold.parent_id and not _is_booking_staff(user):
                raise NotAllowed(_("This hold belongs to someone else."))
            evening = _lock_evening(hold.evening_id)
            return _release_held(evening, Appointment.objects.filter(hold_id=hold.pk))

    return _retrying(run)


def cancel_appointment(
    *, appointment: Appointment, user, now: datetime | None = None, reason: str = ""
) -> Appointment:
    """Cancel a confirmed appointment; its slot and the parent's time become free.

    The parent it belongs to may cancel until the cut-off while the evening is
    published; staff with evenings.book_for_parents may cancel at any time, with a
    `reason` the emails give. Cancelling twice is harmless."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            evening = _lock_evening(appointment.evening_id)
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status == Appointment.Status.CANCELLED:
                return locked
            if locked.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be cancelled."))
            if not _is_booking_staff(user):
                _check_owner(user, locked)
                if evening.status != Evening.Status.PUBLISHED:
                    raise BookingClosed(_("Changes to this evening are closed."))
                _check_cutoff(evening, locked.starts_at, now, cancelling=True)
            _cancel(evening, locked, user=user, now=now)
            notifications.cancelled(
                [locked], actor=user, extra={"reason": reason} if reason else None
            )
            _wake_waiting_list(evening, [locked.teacher_id])
            return locked

    return _retrying(run)


def move_appointment(
    *,
    appointment: Appointment,
    user,
    slot: Slot | int,
    teacher: EveningTeacher | int | None = None,
    method: str | None = None,
    now: datetime | None = None,
    override_limits: bool = False,
) -> Appointment:
    """Move a confirmed appointment to another slot (of the same teacher, or of
    `teacher`), atomically: either the new one is booked and the old one cancelled, or
    nothing changes. Returns the new appointment (`moved_from` is the old one).

    The new slot obeys every booking rule; a parent may move only their own
    appointment, and not from within the cut-off."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            evening = _lock_evening(appointment.evening_id)
            old = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if old.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be moved."))
            parent = old.parent
            staff = _is_booking_staff(user)
            if not staff:
                _check_owner(user, old)
                _check_cutoff(evening, old.starts_at, now, cancelling=True)
            choice = Choice(
                pupil=old.pupil_id,
                teacher=teacher if teacher is not None else old.teacher_id,
                slot=slot,
                method=method or old.method,
            )
            wanted, warnings = _prepare(
                evening=evening,
                parent=parent,
                actor=None if user.pk == parent.pk else user,
                choices=[choice],
                now=now,
                override_limits=override_limits,
                replace_hold=False,
                moving=old,
            )
            _cancel(evening, old, user=user, now=now)
            (new,) = _insert(
                evening=evening,
                parent=parent,
                actor=user,
                wanted=wanted,
                now=now,
                message=old.message,
                warnings=warnings,
                moved_from=old,
            )
            notifications.moved(old=old, new=new, actor=user)
            _wake_waiting_list(evening, [old.teacher_id])
            new.warnings = warnings
            return new

    return _retrying(run)


def transfer_appointment(
    *,
    appointment: Appointment,
    teacher: EveningTeacher | int,
    user,
    now: datetime | None = None,
) -> Appointment:
    """Give a confirmed appointment to another teacher of the evening at the same time
    (a teacher is absent): the school's decision, so the booking window, the cut-off,
    the limits and whether the pupil may book that teacher do not apply; every rule of
    the database still does. Returns the new appointment (`moved_from` is the old one)
    and queues the 'changed' email. Staff with evenings.organise_evenings or
    evenings.book_for_parents only. Raises SlotUnavailable when the teacher has no
    appointment time then (or is in a break), SlotTaken, AlreadyBooked or Clash."""
    now = now or timezone.now()

    def run():
        with transaction.atomic():
            if not (_is_booking_staff(user) or _is_organiser(user)):
                raise NotAllowed(_("You may not move appointments on a parent's behalf."))
            evening = _lock_evening(appointment.evening_id)
            old = (
                Appointment.objects.select_for_update()
                .select_related("parent", "teacher")
                .get(pk=appointment.pk)
            )
            if old.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be moved."))
            try:
                new_teacher = EveningTeacher.objects.select_related("staff").get(
                    pk=_pk(teacher), evening=evening, removed=False
                )
            except EveningTeacher.DoesNotExist:
                raise InvalidChoice(_("Choose a teacher of this evening.")) from None
            if new_teacher.pk == old.teacher_id:
                raise InvalidChoice(_("Choose a different teacher."))
            new_teacher.evening = evening
            slots = list(
                Slot.objects.filter(
                    teacher=new_teacher, starts_at__gte=old.starts_at, starts_at__lt=old.ends_at
                ).order_by("starts_at")
            )
            fits = (
                slots
                and slots[0].starts_at == old.starts_at
                and slots[-1].ends_at == old.ends_at
                and all(a.ends_at == b.starts_at for a, b in zip(slots, slots[1:], strict=False))
                and len({s.day_id for s in slots}) == 1
            )
            if not fits:
                raise SlotUnavailable(
                    _("%(name)s has no appointment time from %(start)s to %(end)s.")
                    % {
                        "name": new_teacher.staff,
                        "start": date_format(timezone.localtime(old.starts_at), "H:i"),
                        "end": date_format(timezone.localtime(old.ends_at), "H:i"),
                    }
                )
            wanted = [
                _Wanted(
                    old.pupil_id,
                    new_teacher,
                    slots,
                    int((old.ends_at - old.starts_at).total_seconds() // 60),
                    old.method,
                )
            ]
            _lock_rows(evening, old.parent, {old.pupil_id})
            _release_expired_in_the_way(evening, old.parent, wanted, now)
            _cancel(evening, old, user=user, now=now)
            (new,) = _insert(
                evening=evening,
                parent=old.parent,
                actor=user,
                wanted=wanted,
                now=now,
                message=old.message,
                moved_from=old,
            )
            notifications.moved(
                old=old, new=new, actor=user, extra={"absent_teacher": str(old.teacher.staff)}
            )
            return new

    return _retrying(run)


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Delete every expired, unconfirmed hold (a periodic clean-up: bookings already
    ignore and clear expired holds in their way). Returns how many appointments."""
    now = now or timezone.now()
    released = 0
    evening_ids = set(
        Appointment.objects.filter(status=Appointment.Status.HELD, expires_at__lte=now).values_list(
            "evening_id", flat=True
        )
    )
    for evening_id in sorted(evening_ids):
        with transaction.atomic():
            evening = _lock_evening(evening_id)
            released += _release_held(
                evening,
                Appointment.objects.filter(
                    evening_id=evening_id, status=Appointment.Status.HELD, expires_at__lte=now
                ),
                expired_at=now,
            )
    Hold.objects.filter(
        confirmed_at__isnull=True, expires_at__lte=now, appointments__isnull=True
    ).delete()
    return released


def check_bookable(*, parent, evening: Evening, pairs) -> dict[int, dict[int, BookableTeacher]]:
    """Refuse unless the parent may see every pupil and each may book that teacher here.

    Returns bookable_teachers() for those pupils, for the caller's use."""
    pupil_ids = {pupil_id for pupil_id, _t in pairs}
    _check_pupils(parent, pupil_ids)
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


def _wake_waiting_list(evening: Evening, teacher_ids) -> None:
    """A teacher's time came free: if families wait for them, queue the waiting-list
    job with this change rather than wait for the next minute (waiting.py)."""
    from schoolgate.evenings.waiting import wake_up

    wake_up(evening_id=evening.pk, teacher_ids=teacher_ids)


# --- checks ------------------------------------------------------------------------


def _prepare(
    *,
    evening: Evening,
    parent,
    actor,
    choices,
    now: datetime,
    override_limits: bool,
    replace_hold: bool,
    moving: Appointment | None = None,
) -> tuple[list[_Wanted], list[str]]:
    """Every check before writing, in the order that gives the clearest refusal; takes
    the row locks and clears expired holds in the way. Returns what to insert."""
    _check_actor(actor=actor, parent=parent, override_limits=override_limits)
    by_staff = _acting_for(actor, parent)
    _check_open(evening, now, by_staff=by_staff)
    wanted = _resolve(evening=evening, parent=parent, choices=choices)
    for item in wanted:
        _check_cutoff(evening, item.starts_at, now, by_staff=by_staff)
    _check_among_themselves(evening, wanted)
    _lock_rows(evening, parent, {w.pupil_id for w in wanted})
    _release_expired_in_the_way(evening, parent, wanted, now)
    if replace_hold:
        # A waiting-list offer stays, unless the parent is choosing that teacher again.
        same_pair = Q(pk__in=[])
        for w in wanted:
            same_pair |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
        _release_held(
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


def _is_booking_staff(user) -> bool:
    return user is not None and has_capability(user, BOOK_FOR_PARENTS)


def _is_organiser(user) -> bool:
    return user is not None and has_capability(user, ORGANISE_EVENINGS)


def _acting_for(actor, parent) -> bool:
    """Someone other than the parent is booking (_check_actor has checked they may)."""
    return actor is not None and actor.pk != parent.pk


def _check_actor(*, actor, parent, override_limits: bool) -> None:
    if parent is None or not parent.is_active:
        raise NotAllowed(_("This account cannot book."))
    acting_for = _acting_for(actor, parent)
    if acting_for and not _is_booking_staff(actor):
        raise NotAllowed(_("You may not book on someone else's behalf."))
    if override_limits and not acting_for:
        raise NotAllowed(_("Only staff booking on a parent's behalf may pass a limit."))


def _check_pupils(parent, pupil_ids) -> None:
    visible = set(
        pupils_visible_to(parent).filter(pk__in=list(pupil_ids)).values_list("pk", flat=True)
    )
    if set(pupil_ids) - visible:
        raise NotAllowed(_("You may only book for your own children."))


def _check_owner(user, appointment: Appointment) -> None:
    """A parent changes only their own appointments, for a child they may still see."""
    if (
        user.pk != appointment.parent_id
        or not pupils_visible_to(user).filter(pk=appointment.pupil_id).exists()
    ):
        raise NotAllowed(_("Only the parent who booked this appointment may change it."))


def _check_open(evening: Evening, now: datetime, *, by_staff: bool = False) -> None:
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


def _check_cutoff(
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


def _resolve(*, evening: Evening, parent, choices) -> list[_Wanted]:
    """Turn choices into slots runs, checking access and that each pair may be booked."""
    raw = [c if isinstance(c, Choice) else Choice(*c) for c in choices]
    if not raw:
        raise InvalidChoice(_("Choose at least one appointment."))
    pairs = [(_pk(c.pupil), _pk(c.teacher)) for c in raw]
    bookable = check_bookable(parent=parent, evening=evening, pairs=pairs)
    slots = Slot.objects.in_bulk([_pk(c.slot) for c in raw])
    wanted = []
    for choice, (pupil_id, teacher_id) in zip(raw, pairs, strict=True):
        entry = bookable[pupil_id][teacher_id]
        first = slots.get(_pk(choice.slot))
        if first is None or first.teacher_id != teacher_id or first.evening_id != evening.pk:
            raise InvalidChoice(_("That time is not one of this teacher's appointments."))
        method = choice.method or default_method(evening)
        if method not in Appointment.Method.values or (
            evening.mode != Evening.Mode.BOTH and method != default_method(evening)
        ):
            raise InvalidChoice(_("This evening does not offer that kind of meeting."))
        wanted.append(_Wanted(pupil_id, entry.teacher, [first], entry.minutes, method))
    _extend_runs(wanted)
    return wanted


def _extend_runs(wanted: list[_Wanted]) -> None:
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


def _check_among_themselves(evening: Evening, wanted: list[_Wanted]) -> None:
    """Refuse a request that collides with itself, before touching the database."""
    slot_ids = [s.pk for w in wanted for s in w.slots]
    if len(slot_ids) != len(set(slot_ids)):
        raise InvalidChoice(_("The same time is chosen twice."))
    pairs = Counter((w.pupil_id, w.teacher.pk) for w in wanted)
    if any(n > 1 for n in pairs.values()):
        raise InvalidChoice(_("The same teacher is chosen twice for one pupil."))
    gap = timedelta(minutes=evening.travel_gap_minutes)
    spans = [_span(w.starts_at, w.ends_at, w.teacher, w.method) for w in wanted]
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
    wanted: list[_Wanted],
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


# --- locks and writes --------------------------------------------------------------


def _lock_evening(evening: Evening | int, *, exclusive: bool = False) -> Evening:
    """Lock the evening row: shared for bookings, exclusive for set-up changes, so that
    no booking runs against half-changed slots, rooms or limits."""
    evening_id = _pk(evening)
    if exclusive:
        return Evening.objects.select_for_update().get(pk=evening_id)
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Evening._meta.db_table)
        found = list(
            Evening.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR KEY SHARE", [evening_id])
        )
        if not found:
            raise Evening.DoesNotExist
        return found[0]
    return Evening.objects.get(pk=evening_id)


def _lock_rows(evening: Evening, parent, pupil_ids) -> None:
    """One parent's (and one pupil's) limit checks run one at a time: lock their rows,
    creating them on first use, always in the same order (no deadlocks)."""
    keys = [(BookingLock.Kind.PARENT, parent.pk)] + [
        (BookingLock.Kind.PUPIL, pupil_id) for pupil_id in sorted(pupil_ids)
    ]
    BookingLock.objects.bulk_create(
        [BookingLock(evening=evening, kind=kind, ref=ref) for kind, ref in keys],
        ignore_conflicts=True,
    )
    if connection.vendor == "postgresql":
        query = Q()
        for kind, ref in keys:
            query |= Q(kind=kind, ref=ref)
        list(
            BookingLock.objects.select_for_update()
            .filter(query, evening=evening)
            .order_by("kind", "ref")
            .values_list("pk", flat=True)
        )


def _release_expired_in_the_way(evening: Evening, parent, wanted: list[_Wanted], now) -> None:
    """Expired holds free themselves: clear those on the slots, pupil-teacher pairs and
    parent time this booking needs, in its own transaction."""
    in_the_way = Q(claims__slot_id__in=[s.pk for w in wanted for s in w.slots]) | Q(parent=parent)
    for w in wanted:
        in_the_way |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
    expired = Appointment.objects.filter(
        in_the_way, evening=evening, status=Appointment.Status.HELD, expires_at__lte=now
    )
    _release_held(evening, expired, expired_at=now)


def _release_held(evening: Evening, appointments, *, expired_at: datetime | None = None) -> int:
    """Delete held appointments and free what they took. Locks them first, and only
    those still held (and still expired) are released: two bookings clearing the same
    expired hold at once release it once."""
    ids = sorted(set(appointments.values_list("pk", flat=True)))
    if not ids:
        return 0
    locked = Appointment.objects.select_for_update().filter(
        pk__in=ids, status=Appointment.Status.HELD
    )
    if expired_at is not None:
        locked = locked.filter(expires_at__lte=expired_at)
    locked = list(locked.select_related("teacher").order_by("pk"))
    if not locked:
        return 0
    _free(evening, locked)
    Appointment.objects.filter(pk__in=[a.pk for a in locked]).delete()
    return len(locked)


def _cancel(evening: Evening, appointment: Appointment, *, user, now: datetime) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = user
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    _free(evening, [appointment])


def _insert(
    *,
    evening: Evening,
    parent,
    actor,
    wanted: list[_Wanted],
    now: datetime,
    hold: Hold | None = None,
    message: str = "",
    warnings: list[str] = (),
    moved_from: Appointment | None = None,
) -> list[Appointment]:
    """Write the appointments and every row that keeps the rules; translate a unique
    violation into the rule it broke."""
    family_key = 0 if evening.shared_meetings else parent.pk
    held = hold is not None
    appointments = [
        Appointment(
            evening=evening,
            day_id=w.day_id,
            pupil_id=w.pupil_id,
            teacher=w.teacher,
            parent=parent,
            booked_by=actor,
            family_key=family_key,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            method=w.method,
            message=message,
            status=Appointment.Status.HELD if held else Appointment.Status.CONFIRMED,
            hold=hold,
            expires_at=hold.expires_at if held else None,
            created_at=now,
            confirmed_at=None if held else now,
            moved_from=moved_from,
            override_warnings=list(warnings),
        )
        for w in wanted
    ]
    # A fixed order of inserts (appointments, slots, minutes) keeps concurrent bookings
    # from waiting on each other in a circle.
    order = sorted(range(len(wanted)), key=lambda i: (wanted[i].teacher.pk, wanted[i].starts_at))
    try:
        with transaction.atomic():
            Appointment.objects.bulk_create([appointments[i] for i in order])
    except IntegrityError:
        raise _already_booked(evening, parent, wanted, family_key) from None
    claims = sorted((s.pk, a) for a, w in zip(appointments, wanted, strict=True) for s in w.slots)
    try:
        with transaction.atomic():
            SlotClaim.objects.bulk_create(
                [SlotClaim(slot_id=slot_id, appointment=a) for slot_id, a in claims]
            )
    except IntegrityError:
        raise _slot_taken([slot_id for slot_id, _a in claims]) from None
    try:
        with transaction.atomic():
            write_cells(evening, appointments)
    except IntegrityError:
        raise _clash(evening, parent, appointments) from None
    return appointments


def write_cells(evening: Evening, appointments) -> None:
    """Take the parents' minutes (and rooms, with the travel gap) for these appointments.

    Raises IntegrityError when a minute is already taken or another room holds it."""
    cells = []
    rooms: dict[tuple[int, datetime], list] = {}
    gap = timedelta(minutes=evening.travel_gap_minutes)
    for a in sorted(appointments, key=lambda a: (a.parent_id, a.starts_at)):
        for minute in _minutes(a.starts_at, a.ends_at):
            cells.append(
                ParentCell(evening=evening, parent_id=a.parent_id, minute=minute, appointment=a)
            )
        if gap and a.in_person:
            for minute in _minutes(a.starts_at, a.ends_at + gap):
                entry = rooms.setdefault((a.parent_id, minute), [a.teacher.room_key, 0])
                if entry[0] != a.teacher.room_key:
                    raise IntegrityError("two rooms in one minute")
                entry[1] += 1
    ParentCell.objects.bulk_create(cells)
    if rooms:
        _add_room_cells(evening, rooms)


def _add_room_cells(evening: Evening, rooms: dict) -> None:
    """Upsert room minutes: a minute already held by the same room gains a reference;
    one held by another room is not returned, and that is a clash."""
    table = connection.ops.quote_name(ParentRoomCell._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    items = sorted(rooms.items())
    for start in range(0, len(items), 500):
        batch = items[start : start + 500]
        params = []
        for (parent_id, minute), (room, refs) in batch:
            params += [evening.pk, parent_id, adapt(minute), room, refs]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
        sql = (
            f"INSERT INTO {table} AS c (evening_id, parent_id, minute, room, refs) "
            f"VALUES {values} "
            "ON CONFLICT (evening_id, parent_id, minute) "
            "DO UPDATE SET refs = c.refs + excluded.refs WHERE c.room = excluded.room "
            "RETURNING id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = len(cursor.fetchall())
        if written != len(batch):
            raise IntegrityError("a parent would be in two rooms in one minute")


def _free(evening: Evening, appointments) -> None:
    """Give back the slots and the parents' minutes these appointments took."""
    ids = [a.pk for a in appointments]
    SlotClaim.objects.filter(appointment_id__in=ids).delete()
    ParentCell.objects.filter(appointment_id__in=ids).delete()
    gap = timedelta(minutes=evening.travel_gap_minutes)
    if not gap:
        return
    counts: Counter = Counter()
    for a in appointments:
        if a.in_person:
            for minute in _minutes(a.starts_at, a.ends_at + gap):
                counts[(a.parent_id, minute)] += 1
    by_parent_and_count = defaultdict(list)
    for (parent_id, minute), n in counts.items():
        by_parent_and_count[(parent_id, n)].append(minute)
    for (parent_id, n), minutes in sorted(by_parent_and_count.items()):
        cells = ParentRoomCell.objects.filter(
            evening=evening, parent_id=parent_id, minute__in=minutes
        )
        cells.filter(refs__lte=n).delete()
        cells.update(refs=F("refs") - n)


def rebuild_cells(evening: Evening, appointments) -> None:
    """Rewrite every parent minute of the evening (after a room or travel gap change)."""
    ParentCell.objects.filter(evening=evening).delete()
    ParentRoomCell.objects.filter(evening=evening).delete()
    write_cells(evening, appointments)


# --- explaining a refusal ----------------------------------------------------------


def _already_booked(evening, parent, wanted, family_key) -> AlreadyBooked:
    query = Q()
    for w in wanted:
        query |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
    existing = list(
        Appointment.objects.filter(
            query,
            evening=evening,
            family_key=family_key,
            status__in=Appointment.LIVE,
        ).select_related("parent", "teacher__staff", "pupil")
    )
    return AlreadyBooked(
        _(
            "This pupil already has an appointment with this teacher at this evening; "
            "everyone with access to the pupil can see it."
        ),
        appointments=existing,
    )


def _slot_taken(slot_ids) -> SlotTaken | SlotUnavailable:
    claims = list(SlotClaim.objects.filter(slot_id__in=slot_ids).select_related("slot", "brk"))
    if any(c.brk_id for c in claims) and not any(c.appointment_id for c in claims):
        return SlotUnavailable(
            _("That time is in the teacher's break."), slots=[c.slot for c in claims]
        )
    return SlotTaken(
        _("Sorry, someone else has just taken that time. Please choose another."),
        slots=[c.slot for c in claims],
    )


def _clash(evening, parent, new_appointments) -> Clash:
    gap = timedelta(minutes=evening.travel_gap_minutes)
    new_ids = {a.pk for a in new_appointments}
    existing = (
        Appointment.objects.filter(evening=evening, parent=parent, status__in=Appointment.LIVE)
        .exclude(pk__in=new_ids)
        .select_related("teacher__staff", "pupil")
    )
    clashes = [
        old
        for old in existing
        if any(not planner.apart(_span_of(old), _span_of(new), gap=gap) for new in new_appointments)
    ]
    return Clash(
        _(
            "This time clashes with another of your appointments (travel time between "
            "rooms included)."
        ),
        clashes=clashes,
    )


# --- small helpers -----------------------------------------------------------------


def _span(starts_at, ends_at, teacher: EveningTeacher, method: str) -> planner.Busy:
    return planner.Busy(
        starts_at, ends_at, room=teacher.room, in_person=method == Appointment.Method.IN_PERSON
    )


def _span_of(appointment: Appointment) -> planner.Busy:
    return _span(
        appointment.starts_at, appointment.ends_at, appointment.teacher, appointment.method
    )


def _minutes(start: datetime, end: datetime):
    minute = start
    while minute < end:
        yield minute
        minute += MINUTE


def _when(value: datetime) -> str:
    return date_format(timezone.localtime(value), "j F Y, H:i")


def _pk(value) -> int:
    return value if isinstance(value, int) else value.pk


def _retrying(run):
    """Run a service; on PostgreSQL a deadlock or serialisation failure (which rolls
    the whole transaction back) is retried a few times when we own the transaction."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            return run()
        except OperationalError as error:
            state = getattr(error.__cause__, "sqlstate", None)
            if state not in ("40P01", "40001") or connection.in_atomic_block:
                raise
            if attempt == DEADLOCK_RETRIES - 1:
                raise
            logger.info("Booking retried after %s", state)
    raise AssertionError("unreachable")
