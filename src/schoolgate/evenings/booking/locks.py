"""The booking engine's locks, and the deadlock retry every service runs in.

A shared lock on the evening (set-up changes take it exclusively), then one row per
parent and per pupil, locked FOR UPDATE in a fixed order. SQLite needs no row locks:
its IMMEDIATE transactions run writers one at a time (docs/booking.md)."""

import logging

from django.db import OperationalError, connection, transaction
from django.db.models import Q

from schoolgate.evenings.models import (
    BookingLock,
    Evening,
)

logger = logging.getLogger(__name__)


DEADLOCK_RETRIES = 3


def lock_evening(evening: Evening | int, *, exclusive: bool = False) -> Evening:
    """Lock the evening row: shared for bookings, exclusive for set-up changes, so that
    no booking runs against half-changed slots, rooms or limits."""
    evening_id = pk_of(evening)
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


def lock_rows(evening: Evening, parent, pupil_ids) -> None:
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


def pk_of(value) -> int:
    return value if isinstance(value, int) else value.pk


def retrying(run):
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


def service_transaction(step: bool = False):
    """A service's transaction (docs/architecture.md rule 10): durable at the top, so
    the deadlock retry can run it again wherever it is called from; a savepoint in
    the caller's open transaction when it is a step of a larger change."""
    if step:
        if not connection.in_atomic_block:
            raise RuntimeError("A booking step runs inside the caller's transaction.")
        return transaction.atomic()
    return transaction.atomic(durable=True)
