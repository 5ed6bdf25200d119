"""Publish a built schedule: ordinary appointments, written by the booking engine's
own service (`booking.book_slots`, on each family's behalf) in one transaction, so
every rule the engine keeps is checked again and either the whole schedule is booked
or nothing is. `book_slots` queues each family's confirmation with their itinerary
and its .ics (notifications.booked), sent after commit by the outbox. Afterwards the
evening is an ordinary published one (docs/school-scheduled-evenings.md)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.models import User
from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, has_capability
from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import Evening
from schoolgate.evenings.school_scheduled.models import ScheduledEvening
from schoolgate.evenings.school_scheduled.wishes import WishError
from schoolgate.evenings.setup import services as setup


@dataclass
class Published:
    appointments: int
    families: int
    already: bool = False


def publish(*, scheduled: ScheduledEvening, actor, now: datetime | None = None) -> Published:
    """Book the built schedule. Publishing again changes nothing (`already`)."""
    now = now or timezone.now()
    if not (has_capability(actor, ORGANISE_EVENINGS) and has_capability(actor, BOOK_FOR_PARENTS)):
        raise WishError(
            _("Publishing needs both the organiser's and the booking-for-parents permission.")
        )
    with transaction.atomic():
        locked = (
            ScheduledEvening.objects.select_for_update()
            .select_related("evening")
            .get(pk=scheduled.pk)
        )
        if locked.state == ScheduledEvening.State.PUBLISHED:
            return Published(0, 0, already=True)
        if locked.state != ScheduledEvening.State.BUILT:
            raise WishError(_("Build the schedule before publishing it."))
        evening = locked.evening
        if evening.status == Evening.Status.DRAFT:
            evening = setup.set_status(
                evening=evening,
                actor=actor,
                status=Evening.Status.PUBLISHED,
                now=now,
                schedule=True,
            )
        by_parent = defaultdict(list)
        for m in locked.result.get("meetings", []):
            by_parent[m["parent"]].append(booking.Choice(m["pupil"], m["teacher"], m["slot"]))
        parents = User.objects.in_bulk(list(by_parent))
        count = 0
        for parent_id, choices in sorted(by_parent.items()):
            try:
                made = booking.book_slots(
                    parent=parents[parent_id],
                    evening=evening,
                    choices=choices,
                    actor=actor,
                    now=now,
                    step=True,
                )
            except BookingError as error:
                # Something changed since the build (a slot taken, access lost): nothing
                # is booked; build again.
                raise WishError(
                    _("The schedule could not be booked (%(reason)s). Build it again.")
                    % {"reason": error.message}
                ) from error
            count += len(made.appointments)
        locked.state = ScheduledEvening.State.PUBLISHED
        locked.published_at = now
        locked.published_by = actor
        locked.save(update_fields=["state", "published_at", "published_by"])
    return Published(count, len(by_parent))
