"""Invitation emails: a set-password link for a new account (parent or staff), queued in the
outbox in the same transaction as whatever caused it (docs/architecture.md rule 5)."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from schoolgate.accounts.access import generation_mode, qualifying_links
from schoolgate.accounts.audit import record
from schoolgate.accounts.models import User
from schoolgate.accounts.tokens import invitation_url
from schoolgate.outbox.services import queue_emails

TEMPLATE = "invitation"


def queue_invitation(*, user: User, actor=None) -> None:
    """Queue one invitation to `user`, note when it was sent, and audit who sent it."""
    with transaction.atomic():
        queue_invitations(users=[user])
        record(action="accounts.invited", subject=user.email, actor=actor)


def queue_invitations(
    *, users: Iterable[User], at: datetime | None = None, save: bool = True
) -> int:
    """Queue an invitation to each user (bulk); returns how many were queued.

    `save=False` when the caller has already written `invited_at` as `at` (new
    accounts are created with it set)."""
    users = list(users)
    if not users:
        return 0
    now = at or timezone.now()
    expires = timezone.localtime(now + timedelta(days=settings.SCHOOLGATE["INVITATION_DAYS"]))
    # Formatted once here rather than in every message's template: a bulk run is hot.
    expires_on = date_format(expires.date(), "j F Y")
    specs = []
    for user in users:
        user.invited_at = now
        specs.append(
            {
                "to": user.email,
                "template": TEMPLATE,
                "context": {
                    "name": user.get_full_name()
                    or (_("colleague") if user.is_staff else _("parent or carer")),
                    "email": user.email,
                    "link": invitation_url(user),
                    "expires": expires_on,
                    # Staff invited from the MIS get a staff account, not a parent portal.
                    "staff": user.is_staff,
                },
            }
        )
    with transaction.atomic():
        if save:
            User.objects.bulk_update(users, ["invited_at"], batch_size=1000)
        queue_emails(specs)
    return len(users)


def never_signed_in_parents(*, mode: str | None = None) -> QuerySet[User]:
    """Active parent accounts (not staff) that still qualify and have never signed in."""
    emails = qualifying_links(mode=mode or generation_mode()).values("contact__email_key")
    return User.objects.filter(
        is_staff=False, is_active=True, last_login__isnull=True, email__in=emails
    )


def resend_invitations(*, actor=None, actor_label: str = "") -> int:
    """Invite again every parent who has never signed in; returns how many."""
    with transaction.atomic():
        users = list(never_signed_in_parents().order_by("pk"))
        count = queue_invitations(users=users)
        if count:
            record(
                action="accounts.invitations_resent",
                subject="parent accounts",
                actor=actor,
                actor_label=actor_label,
                invited=count,
            )
    return count
