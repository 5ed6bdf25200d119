"""The booking engine: hold, confirm, book, cancel and move appointments.

Every service runs in one transaction and either does everything or nothing. The
rules live in the database (see models.py): a teacher's slot is claimed once, a pupil
meets a teacher once, a parent's minutes are taken once (and by one room at a time).
Limits, the one-day rule, the booking window and the cut-off are checked in Python
under row locks: a shared lock on the evening (set-up changes take it exclusively),
then one row per parent and per pupil, locked FOR UPDATE in a fixed order. SQLite
needs no row locks: its IMMEDIATE transactions run writers one at a time.

Refusals are `schoolgate.evenings.booking.errors` exceptions, never a bare IntegrityError.
docs/architecture.md has the whole design, with examples."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.evenings.booking.cells import (
    Wanted,
    cancel_and_free,
    insert_appointments,
    release_expired_in_the_way,
    release_held_appointments,
)
from schoolgate.evenings.booking.errors import (
    BookingClosed,
    HoldExpired,
    InvalidChoice,
    NotAllowed,
    SlotUnavailable,
)
from schoolgate.evenings.booking.locks import (
    lock_evening,
    lock_rows,
    pk_of,
    retrying,
    service_transaction,
)
from schoolgate.evenings.booking.rules import (
    Choice,
    acting_for,
    check_actor,
    check_cutoff,
    check_open,
    check_owner,
    check_pupils,
    is_booking_staff,
    is_organiser,
    prepare_booking,
    replaceable_holds,
    running_hold,
    same_choice,
)
from schoolgate.evenings.booking.signals import time_freed
from schoolgate.evenings.comms import notifications
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Hold,
    Slot,
)


def hold_seconds() -> int:
    return getattr(settings, "HOLD_SECONDS", 120)


@dataclass
class Booking:
    """What `book_slots` made, and the limits staff chose to pass (empty for parents)."""

    appointments: list[Appointment]
    warnings: list[str] = field(default_factory=list)


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
    step: bool = False,
) -> Hold:
    """Take the chosen slots for `parent` for HOLD_SECONDS while they confirm.

    Held slots are unavailable to everyone else. A parent has at most one hold per
    evening (waiting-list offers aside): a new hold replaces the earlier unconfirmed
    one, row and all, and ends when the earlier one would have, so re-choosing never
    keeps slots past HOLD_SECONDS from the first choice; choosing exactly the same
    times again returns the running hold unchanged. `replace_hold=False` keeps the
    earlier hold (a waiting-list offer, held for the hours in `expires_at`).
    `actor` is a member of staff acting for the parent (permission
    evenings.book_for_parents); with `override_limits` a limit becomes a warning in
    `hold.warnings` instead of LimitReached. Raises a BookingError subclass when
    anything is refused, and then nothing changes. `step=True` runs it inside the
    caller's open transaction (a waiting-list offer), as `release_hold` and
    `transfer_appointment` also allow; otherwise each service is one durable
    transaction of its own."""
    now = now or timezone.now()

    def run():
        with service_transaction(step):
            locked = lock_evening(evening)
            previous = running_hold(locked, parent, now) if replace_hold else None
            if previous is not None and same_choice(locked, previous, choices):
                previous.warnings = []
                return previous
            wanted, warnings = prepare_booking(
                evening=locked,
                parent=parent,
                actor=actor,
                choices=choices,
                now=now,
                override_limits=override_limits,
                replace_hold=replace_hold,
            )
            ends = expires_at or now + timedelta(seconds=hold_seconds())
            if replace_hold:
                if previous is not None:
                    ends = min(ends, previous.expires_at)
                # Their appointments were released by prepare_booking: drop the rows too.
                replaceable_holds(locked, parent).delete()
            hold = Hold.objects.create(
                evening=locked,
                parent=parent,
                created_by=actor or parent,
                created_at=now,
                expires_at=ends,
            )
            insert_appointments(
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

    return retrying(run)


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
        with service_transaction():
            check_actor(actor=actor, parent=parent, override_limits=False)
            evening = lock_evening(hold.evening_id)
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
            by_staff = acting_for(actor, parent)
            check_open(evening, now, by_staff=by_staff)
            check_pupils(parent, {a.pupil_id for a in appointments})
            for appointment in appointments:
                check_cutoff(evening, appointment.starts_at, now, by_staff=by_staff)
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

    return retrying(run)


def book_slots(
    *,
    parent,
    evening: Evening | int,
    choices,
    message: str = "",
    now: datetime | None = None,
    actor=None,
    override_limits: bool = False,
    step: bool = False,
) -> Booking:
    """Book at once with a hold's and a confirmation's checks (staff; `step`: a schedule)."""
    now = now or timezone.now()

    def run():
        with service_transaction(step=step):
            locked = lock_evening(evening)
            wanted, warnings = prepare_booking(
                evening=locked,
                parent=parent,
                actor=actor,
                choices=choices,
                now=now,
                override_limits=override_limits,
                replace_hold=False,
            )
            appointments = insert_appointments(
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

    return retrying(run)


def release_hold(*, hold: Hold, user, now: datetime | None = None, step: bool = False) -> int:
    """Give back a hold's slots before it expires (the parent changed their mind).

    Returns how many held appointments were released."""
    now = now or timezone.now()

    def run():
        with service_transaction(step):
            if user.pk != hold.parent_id and not is_booking_staff(user):
                raise NotAllowed(_("This hold belongs to someone else."))
            evening = lock_evening(hold.evening_id)
            return release_held_appointments(evening, Appointment.objects.filter(hold_id=hold.pk))

    return retrying(run)


def cancel_appointment(
    *, appointment: Appointment, user, now: datetime | None = None, reason: str = ""
) -> Appointment:
    """Cancel a confirmed appointment; its slot and the parent's time become free.

    The parent it belongs to may cancel until the cut-off while the evening is
    published; staff with evenings.book_for_parents may cancel at any time, with a
    `reason` the emails give. Cancelling twice is harmless."""
    now = now or timezone.now()

    def run():
        with service_transaction():
            evening = lock_evening(appointment.evening_id)
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status == Appointment.Status.CANCELLED:
                return locked
            if locked.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be cancelled."))
            if not is_booking_staff(user):
                check_owner(user, locked)
                if evening.status != Evening.Status.PUBLISHED:
                    raise BookingClosed(_("Changes to this evening are closed."))
                check_cutoff(evening, locked.starts_at, now, cancelling=True)
            cancel_confirmed(
                evening, [locked], user=user, now=now, extra={"reason": reason} if reason else None
            )
            return locked

    return retrying(run)


def cancel_confirmed(
    evening: Evening, appointments: list[Appointment], *, user, now: datetime, extra=None
) -> None:
    """The one way to cancel: a step inside the caller's transaction, with the evening
    locked and these confirmed appointments locked. Frees their time, queues one
    'cancelled' email per family (with `extra` for the template), and says their
    teachers' time came free so the waiting lists are served."""
    if not appointments:
        return
    for appointment in appointments:
        cancel_and_free(evening, appointment, user=user, now=now)
    notifications.cancelled(appointments, actor=user, extra=extra)
    _wake_waiting_list(evening, [a.teacher_id for a in appointments])


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
        with service_transaction():
            evening = lock_evening(appointment.evening_id)
            old = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if old.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be moved."))
            parent = old.parent
            staff = is_booking_staff(user)
            if not staff:
                check_owner(user, old)
                check_cutoff(evening, old.starts_at, now, cancelling=True)
            choice = Choice(
                pupil=old.pupil_id,
                teacher=teacher if teacher is not None else old.teacher_id,
                slot=slot,
                method=method or old.method,
            )
            wanted, warnings = prepare_booking(
                evening=evening,
                parent=parent,
                actor=None if user.pk == parent.pk else user,
                choices=[choice],
                now=now,
                override_limits=override_limits,
                replace_hold=False,
                moving=old,
            )
            cancel_and_free(evening, old, user=user, now=now)
            (new,) = insert_appointments(
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

    return retrying(run)


def transfer_appointment(
    *,
    appointment: Appointment,
    teacher: EveningTeacher | int,
    user,
    now: datetime | None = None,
    step: bool = False,
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
        with service_transaction(step):
            if not (is_booking_staff(user) or is_organiser(user)):
                raise NotAllowed(_("You may not move appointments on a parent's behalf."))
            evening = lock_evening(appointment.evening_id)
            old = (
                Appointment.objects.select_for_update()
                .select_related("parent", "teacher")
                .get(pk=appointment.pk)
            )
            if old.status != Appointment.Status.CONFIRMED:
                raise InvalidChoice(_("Only a confirmed appointment can be moved."))
            try:
                new_teacher = EveningTeacher.objects.select_related("staff").get(
                    pk=pk_of(teacher), evening=evening, removed=False
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
                Wanted(
                    old.pupil_id,
                    new_teacher,
                    slots,
                    int((old.ends_at - old.starts_at).total_seconds() // 60),
                    old.method,
                )
            ]
            lock_rows(evening, old.parent, {old.pupil_id})
            release_expired_in_the_way(evening, old.parent, wanted, now)
            cancel_and_free(evening, old, user=user, now=now)
            (new,) = insert_appointments(
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

    return retrying(run)


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
        with service_transaction():
            evening = lock_evening(evening_id)
            released += release_held_appointments(
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


def _wake_waiting_list(evening: Evening, teacher_ids) -> None:
    """A teacher's time came free: say so (booking/signals.py), so that the waiting
    lists are served with this change rather than at the next minute."""
    time_freed.send(sender=Evening, evening_id=evening.pk, teacher_ids=sorted(set(teacher_ids)))
