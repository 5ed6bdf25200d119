"""Writing and freeing what keeps the rules in the database: appointment rows, slot
claims and the parents' minute (and room) cells."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q

from schoolgate.evenings.booking.refusals import (
    already_booked_refusal,
    clash_refusal,
    slot_taken_refusal,
)
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    EveningTeacher,
    Hold,
    ParentCell,
    ParentRoomCell,
    Slot,
    SlotClaim,
)

MINUTE = timedelta(minutes=1)


@dataclass
class Wanted:
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


def release_expired_in_the_way(evening: Evening, parent, wanted: list[Wanted], now) -> None:
    """Expired holds free themselves: clear those on the slots, pupil-teacher pairs and
    parent time this booking needs, in its own transaction."""
    in_the_way = Q(claims__slot_id__in=[s.pk for w in wanted for s in w.slots]) | Q(parent=parent)
    for w in wanted:
        in_the_way |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
    expired = Appointment.objects.filter(
        in_the_way, evening=evening, status=Appointment.Status.HELD, expires_at__lte=now
    )
    release_held_appointments(evening, expired, expired_at=now)


def release_held_appointments(
    evening: Evening, appointments, *, expired_at: datetime | None = None
) -> int:
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
    free_cells(evening, locked)
    Appointment.objects.filter(pk__in=[a.pk for a in locked]).delete()
    return len(locked)


def cancel_and_free(evening: Evening, appointment: Appointment, *, user, now: datetime) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = user
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    free_cells(evening, [appointment])


def insert_appointments(
    *,
    evening: Evening,
    parent,
    actor,
    wanted: list[Wanted],
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
        raise already_booked_refusal(evening, parent, wanted, family_key) from None
    claims = sorted((s.pk, a) for a, w in zip(appointments, wanted, strict=True) for s in w.slots)
    try:
        with transaction.atomic():
            SlotClaim.objects.bulk_create(
                [SlotClaim(slot_id=slot_id, appointment=a) for slot_id, a in claims]
            )
    except IntegrityError:
        raise slot_taken_refusal([slot_id for slot_id, _a in claims]) from None
    try:
        with transaction.atomic():
            write_cells(evening, appointments)
    except IntegrityError:
        raise clash_refusal(evening, parent, appointments) from None
    return appointments


def write_cells(evening: Evening, appointments) -> None:
    """Take the parents' minutes (and rooms, with the travel gap) for these appointments.

    Raises IntegrityError when a minute is already taken or another room holds it."""
    cells = []
    rooms: dict[tuple[int, datetime], list] = {}
    gap = timedelta(minutes=evening.travel_gap_minutes)
    for a in sorted(appointments, key=lambda a: (a.parent_id, a.starts_at)):
        for minute in each_minute(a.starts_at, a.ends_at):
            cells.append(
                ParentCell(evening=evening, parent_id=a.parent_id, minute=minute, appointment=a)
            )
        if gap and a.in_person:
            for minute in each_minute(a.starts_at, a.ends_at + gap):
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


def free_cells(evening: Evening, appointments) -> None:
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
            for minute in each_minute(a.starts_at, a.ends_at + gap):
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


def each_minute(start: datetime, end: datetime):
    minute = start
    while minute < end:
        yield minute
        minute += MINUTE
