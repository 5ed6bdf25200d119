"""Waiting lists for full teachers, and the offers made when a slot frees up.

A family joins a teacher's list for one child, with a note (`join`), and may leave it
(`leave`). `run_waiting_lists` (the scheduled job, every minute) first settles the
offers made (a confirmed hold is BOOKED; one that ran out or was let go is LAPSED),
then offers each teacher's free slots to the families waiting, first come first
served: the offer is a hold in the parent's name on the slot (`booking.hold_slots`,
so every booking rule applies) for `Evening.waiting_offer_hours` (never past booking
closing or the cut-off), and an email with a link to the hold's confirm page.

Safe with several workers: an entry is offered only in a transaction that locks its
row (SKIP LOCKED on PostgreSQL) and finds it still WAITING, and the email is queued in
that transaction; a slot is taken once (its SlotClaim is unique). So a slot is never
offered to two families, and an offer is emailed once."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import bookable_teachers, free_starts, live_q
from schoolgate.evenings.booking.cells import release_held_appointments
from schoolgate.evenings.booking.errors import BookingError, InvalidChoice, NotAllowed
from schoolgate.evenings.booking.locks import lock_evening
from schoolgate.evenings.booking.rules import check_open
from schoolgate.evenings.comms import notifications
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Hold,
    WaitingListEntry,
)
from schoolgate.mis.models import Pupil
from schoolgate.outbox.services import queue_emails

logger = logging.getLogger(__name__)

OFFER = "evening_waiting_offer"
# An offer shorter than this is not worth making: nobody could answer it in time.
SHORTEST_OFFER = timedelta(minutes=30)
NOTE_LENGTH = 1000
Status = WaitingListEntry.Status


# --- the parent's side ---------------------------------------------------------


def join(
    *,
    parent,
    evening: Evening,
    pupil: Pupil | int,
    teacher: EveningTeacher | int,
    note: str = "",
    now: datetime | None = None,
) -> WaitingListEntry:
    """Put the family on `teacher`'s waiting list for `pupil`. Refused (BookingError)
    while booking is not open, for a pupil the parent may not see or a teacher that
    pupil may not book, when the pupil already has an appointment with the teacher,
    when the teacher still has free times, and when the family is already waiting."""
    now = now or timezone.now()
    pupil_id = pupil if isinstance(pupil, int) else pupil.pk
    teacher_id = teacher if isinstance(teacher, int) else teacher.pk
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidChoice(
            _("Keep the note to %(count)s characters or fewer.") % {"count": NOTE_LENGTH}
        )
    with transaction.atomic():
        evening = lock_evening(evening)
        check_open(evening, now)
        bookable = booking.check_bookable(
            parent=parent, evening=evening, pairs=[(pupil_id, teacher_id)]
        )
        entry = bookable[pupil_id][teacher_id]
        if _has_meeting(evening, parent, pupil_id, teacher_id, now):
            raise InvalidChoice(_("Your child already has an appointment with this teacher."))
        if free_starts(evening=evening, teacher=entry.teacher, minutes=entry.minutes, now=now):
            raise InvalidChoice(
                _("%(name)s still has free times: please choose one of them.")
                % {"name": entry.teacher.staff}
            )
        try:
            with transaction.atomic():
                return WaitingListEntry.objects.create(
                    evening=evening,
                    teacher_id=teacher_id,
                    pupil_id=pupil_id,
                    parent=parent,
                    note=note,
                    created_at=now,
                )
        except IntegrityError:
            raise InvalidChoice(
                _("You are already on this teacher's waiting list for this child.")
            ) from None


def leave(*, parent, entry: WaitingListEntry, now: datetime | None = None) -> WaitingListEntry:
    """Take the family off the list; an offer they hold is let go (and goes to the
    next family at the job's next run)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.parent_id != parent.pk:
            raise NotAllowed(_("This is someone else's place on the waiting list."))
        if locked.status not in WaitingListEntry.LIVE:
            return locked
        if locked.status == Status.OFFERED and locked.hold_id:
            hold = Hold.objects.filter(pk=locked.hold_id, confirmed_at__isnull=True).first()
            if hold is not None:
                booking.release_hold(hold=hold, user=parent, now=now, step=True)
        locked.status = Status.WITHDRAWN
        locked.save(update_fields=["status"])
        return locked


def entries_for_parent(*, parent, evening: Evening) -> list[WaitingListEntry]:
    """The parent's own live entries here, for children they may still see. An offer
    already confirmed is left out: it is a booked appointment now."""
    return list(
        WaitingListEntry.objects.filter(
            evening=evening,
            parent=parent,
            status__in=WaitingListEntry.LIVE,
            pupil__in=pupils_visible_to(parent),
        )
        .exclude(hold__confirmed_at__isnull=False)
        .select_related("pupil", "teacher__staff", "hold")
        .order_by("created_at", "pk")
    )


def entry_or_404(*, parent, evening: Evening, entry_id) -> WaitingListEntry:
    from django.http import Http404

    try:
        return WaitingListEntry.objects.select_related("pupil", "teacher__staff").get(
            pk=int(entry_id), evening=evening, parent=parent, pupil__in=pupils_visible_to(parent)
        )
    except (WaitingListEntry.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


# --- the organiser's side ------------------------------------------------------


@dataclass
class TeacherList:
    teacher: EveningTeacher
    entries: list[WaitingListEntry]


def lists_for_evening(evening: Evening) -> list[TeacherList]:
    """Each teacher's live waiting list, in order (the first is offered first)."""
    entries = (
        WaitingListEntry.objects.filter(evening=evening, status__in=WaitingListEntry.LIVE)
        .select_related("pupil", "parent", "teacher__staff", "hold")
        .order_by("teacher__staff__surname", "teacher_id", "created_at", "pk")
    )
    lists: dict[int, TeacherList] = {}
    for entry in entries:
        lists.setdefault(entry.teacher_id, TeacherList(entry.teacher, [])).entries.append(entry)
    return list(lists.values())


# --- the job: settle offers, then offer the free slots -------------------------


def run_waiting_lists(*, now: datetime | None = None) -> dict[str, int]:
    """The scheduled job: settle the offers made, then offer free slots. Returns counts."""
    now = now or timezone.now()
    counts = settle_offers(now=now)
    counts["offered"] = offer_free_slots(now=now)
    if any(counts.values()):
        logger.info("Waiting lists: %s", counts)
    return counts


def families_wait(*, evening_id: int, teacher_ids) -> bool:
    """Whether any family waits for one of these teachers at this evening."""
    return WaitingListEntry.objects.filter(
        evening_id=evening_id, teacher_id__in=list(teacher_ids), status=Status.WAITING
    ).exists()


def settle_offers(*, now: datetime | None = None) -> dict[str, int]:
    """OFFERED entries whose hold was confirmed become BOOKED; those whose hold ran out
    or was let go become LAPSED (their held times are let go). A WAITING entry whose
    child has since got an appointment with the teacher is BOOKED too."""
    now = now or timezone.now()
    counts = {"booked": 0, "lapsed": 0}
    offered = WaitingListEntry.objects.filter(status=Status.OFFERED).values_list("pk", flat=True)
    for entry_id in list(offered):
        with transaction.atomic():
            entry = _lock_entry(entry_id, Status.OFFERED)
            if entry is None:
                continue
            hold = Hold.objects.filter(pk=entry.hold_id).first() if entry.hold_id else None
            if hold is not None and hold.confirmed_at is not None:
                entry.status = Status.BOOKED
                counts["booked"] += 1
            elif (
                hold is None
                or not Appointment.objects.filter(
                    hold=hold, status=Appointment.Status.HELD, expires_at__gt=now
                ).exists()
            ):
                if hold is not None:
                    evening = lock_evening(entry.evening_id)
                    release_held_appointments(
                        evening, Appointment.objects.filter(hold=hold), expired_at=now
                    )
                # Booked another way (they chose the teacher again), or not taken up.
                if _has_meeting(
                    entry.evening,
                    entry.parent,
                    entry.pupil_id,
                    entry.teacher_id,
                    now,
                    confirmed_only=True,
                ):
                    entry.status = Status.BOOKED
                    counts["booked"] += 1
                else:
                    entry.status = Status.LAPSED
                    counts["lapsed"] += 1
            else:
                continue
            entry.save(update_fields=["status"])
    waiting = WaitingListEntry.objects.filter(
        status=Status.WAITING, evening__booking_closes__gt=now
    ).select_related("evening", "parent")
    for entry in waiting:
        if _has_meeting(
            entry.evening, entry.parent, entry.pupil_id, entry.teacher_id, now, confirmed_only=True
        ):
            updated = WaitingListEntry.objects.filter(pk=entry.pk, status=Status.WAITING).update(
                status=Status.BOOKED
            )
            counts["booked"] += updated
    return counts


def offer_free_slots(*, now: datetime | None = None) -> int:
    """Offer each waiting teacher's free slots to the families waiting, in order.
    Returns how many offers were made."""
    now = now or timezone.now()
    made = 0
    waiting = (
        WaitingListEntry.objects.filter(
            status=Status.WAITING,
            evening__status=Evening.Status.PUBLISHED,
            evening__booking_opens__lte=now,
            evening__booking_closes__gt=now,
            teacher__removed=False,
        )
        .order_by("evening_id", "teacher_id", "created_at", "pk")
        .values_list("pk", "evening_id", "teacher_id")
    )
    by_teacher: dict[tuple[int, int], list[int]] = {}
    for entry_id, evening_id, teacher_id in waiting:
        by_teacher.setdefault((evening_id, teacher_id), []).append(entry_id)
    for (evening_id, teacher_id), entry_ids in by_teacher.items():
        evening = Evening.objects.get(pk=evening_id)
        teacher = EveningTeacher.objects.select_related("staff").get(pk=teacher_id)
        teacher.evening = evening
        for entry_id in entry_ids:
            if _offer(entry_id, evening=evening, teacher=teacher, now=now):
                made += 1
            elif not free_starts(evening=evening, teacher=teacher, now=now):
                break  # nothing free at all: the rest wait
    return made


def offer_expiry(evening: Evening, slot_start: datetime, now: datetime) -> datetime:
    """When an offer of a slot starting at `slot_start` ends: after the evening's
    waiting_offer_hours, but never after booking closes or the cut-off."""
    cutoff = slot_start - timedelta(hours=evening.cutoff_hours or 0)
    return min(now + timedelta(hours=evening.waiting_offer_hours), evening.booking_closes, cutoff)


def _offer(entry_id: int, *, evening: Evening, teacher: EveningTeacher, now: datetime) -> bool:
    """Offer one waiting entry the first free slot that suits it, in one transaction
    with its email. False when it is no longer waiting or nothing suits it."""
    with transaction.atomic():
        entry = _lock_entry(entry_id, Status.WAITING)
        if entry is None:
            return False
        entry = WaitingListEntry.objects.select_related("parent", "pupil").get(pk=entry.pk)
        if not entry.parent.is_active:
            return False
        bookable = bookable_teachers(evening=evening, pupil_ids=[entry.pupil_id])
        choice = bookable.get(entry.pupil_id, {}).get(teacher.pk)
        if choice is None:
            return False
        for start in free_starts(evening=evening, teacher=teacher, minutes=choice.minutes, now=now):
            expires_at = offer_expiry(evening, start.starts_at, now)
            if expires_at - now < SHORTEST_OFFER:
                continue
            try:
                with transaction.atomic():
                    hold = booking.hold_slots(
                        parent=entry.parent,
                        evening=evening,
                        choices=[(entry.pupil_id, teacher.pk, start.pk)],
                        now=now,
                        expires_at=expires_at,
                        replace_hold=False,
                        step=True,
                    )
            except BookingError:
                continue  # taken meanwhile, or it clashes with the family's other times
            entry.status = Status.OFFERED
            entry.hold = hold
            entry.offered_at = now
            entry.offer_expires_at = expires_at
            entry.save(update_fields=["status", "hold", "offered_at", "offer_expires_at"])
            _queue_offer_email(entry, hold=hold, teacher=teacher, evening=evening)
            return True
    return False


def _queue_offer_email(entry, *, hold: Hold, teacher: EveningTeacher, evening: Evening) -> None:
    appointment = Appointment.objects.filter(hold=hold).order_by("starts_at").first()
    parent = entry.parent
    with notifications.language_of(parent):
        link = settings.SITE_URL + reverse("evenings:hold", args=[evening.pk, hold.pk])
        queue_emails(
            [
                {
                    "to": parent.email,
                    "template": OFFER,
                    "context": {
                        "name": parent.first_name,
                        "evening": evening.name,
                        "pupil": entry.pupil.display_name,
                        "teacher": str(teacher.staff),
                        "starts": timezone.localtime(appointment.starts_at),
                        "ends": timezone.localtime(appointment.ends_at),
                        "room": teacher.room if appointment.in_person else "",
                        "until": timezone.localtime(hold.expires_at),
                        "link": link,
                        "waiting_link": settings.SITE_URL
                        + reverse("evenings:waiting-list", args=[evening.pk]),
                    },
                }
            ]
        )


def _lock_entry(entry_id: int, status: str) -> WaitingListEntry | None:
    """The entry locked for this transaction if it still has `status`; None when it has
    moved on or another worker holds it (PostgreSQL: SKIP LOCKED)."""
    found = WaitingListEntry.objects.filter(pk=entry_id, status=status)
    if connection.features.has_select_for_update_skip_locked:
        found = found.select_for_update(skip_locked=True)
    return found.first()


def _has_meeting(
    evening: Evening, parent, pupil_id: int, teacher_id: int, now, *, confirmed_only=False
) -> bool:
    meetings = Appointment.objects.filter(
        Q(status=Appointment.Status.CONFIRMED) if confirmed_only else live_q(now),
        evening=evening,
        pupil_id=pupil_id,
        teacher_id=teacher_id,
    )
    if not evening.shared_meetings:
        meetings = meetings.filter(parent=parent)
    return meetings.exists()
