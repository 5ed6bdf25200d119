"""The chase-up email: one click emails every parent of a pupil who has not booked.

Who gets it: each active account that may see (accounts.access) a pupil of the
evening with no confirmed appointment; one email per parent naming all their
children still to book. A parent is chased at most once per school day, whichever
evening and whoever clicks: the ChaseUp row (unique on parent and day) is inserted
in the transaction that queues the email, so a second click, or two organisers
clicking at once, sends nothing more."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import generation_mode
from schoolgate.accounts.models import User
from schoolgate.core.access import ORGANISE_EVENINGS, has_capability
from schoolgate.evenings.booking.availability import eligible_pupils
from schoolgate.evenings.booking.errors import NotAllowed, SetupError
from schoolgate.evenings.models import ChaseUp, Evening
from schoolgate.evenings.reports.takeup import booked_pupil_ids, chase_links
from schoolgate.mis.models import Pupil
from schoolgate.outbox.services import queue_emails

TEMPLATE = "evening_chase_up"


class CannotChase(SetupError):
    """The evening is not one parents can book now (a draft, closed, or past its window)."""

    code = "cannot_chase"


@dataclass
class ChaseResult:
    sent: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)  # chased earlier today


def recipients(evening: Evening) -> dict[int, tuple[User, list[str]]]:
    """{user id: (parent, [names of their children at the evening still to book])}."""
    booked = booked_pupil_ids(evening)
    waiting = eligible_pupils(evening).exclude(pk__in=booked).values_list("pk", flat=True)
    children = defaultdict(set)
    for email_key, pupil_id in chase_links(evening, waiting, mode=generation_mode()):
        children[email_key].add(pupil_id)
    if not children:
        return {}
    names = {
        p.pk: p.display_name for p in Pupil.objects.filter(pk__in=set().union(*children.values()))
    }
    result = {}
    for user in User.objects.filter(is_active=True, email__in=list(children)).order_by("pk"):
        result[user.pk] = (user, sorted(names[pk] for pk in children[user.email]))
    return result


def send_chase_ups(*, evening: Evening, actor, now: datetime | None = None) -> ChaseResult:
    """Queue the chase-up email to every parent who has not booked and has not been
    chased today; returns who was sent it and who had been chased already."""
    if not (actor is not None and has_capability(actor, ORGANISE_EVENINGS)):
        raise NotAllowed(_("You may not run parents' evenings."))
    now = now or timezone.now()
    evening = Evening.objects.get(pk=evening.pk)
    if evening.status != Evening.Status.PUBLISHED:
        raise CannotChase(_("Publish the evening first: parents cannot see it yet."))
    if now >= evening.booking_closes:
        raise CannotChase(_("Booking has closed: parents can no longer book."))
    today = timezone.localdate(now, timezone.get_default_timezone())
    result = ChaseResult()
    link = settings.SITE_URL + reverse("evenings:evening", args=[evening.pk])
    with transaction.atomic():
        to_send = []
        wanted = recipients(evening)
        # Those already chased today are known without trying (one query, not one
        # savepoint each); the unique row still decides for everyone else.
        done = set(
            ChaseUp.objects.filter(sent_on=today, parent_id__in=list(wanted)).values_list(
                "parent_id", flat=True
            )
        )
        for user, children in wanted.values():
            if user.pk in done:
                result.already.append(user)
                continue
            try:
                # The claim: unique per parent and day. A concurrent click waits here
                # for the other transaction, then finds the row and skips the parent.
                with transaction.atomic():
                    claim = ChaseUp.objects.create(
                        evening=evening, parent=user, sent_on=today, queued_at=now, sent_by=actor
                    )
            except IntegrityError:
                result.already.append(user)
                continue
            to_send.append((claim, user, children))
        messages = queue_emails(
            {
                "to": user.email,
                "template": TEMPLATE,
                "context": {
                    "name": user.first_name,
                    "evening": evening.name,
                    "pupils": children,
                    "booking_opens": evening.booking_opens,
                    "booking_closes": evening.booking_closes,
                    "open_now": now >= evening.booking_opens,
                    "link": link,
                },
            }
            for _claim, user, children in to_send
        )
        for (claim, user, _children), message in zip(to_send, messages, strict=True):
            claim.message = message
            result.sent.append(user)
        ChaseUp.objects.bulk_update([claim for claim, _u, _c in to_send], ["message"])
    return result
