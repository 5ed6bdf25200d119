"""The office's decision on an email shared by contacts of different families
(ARCHITECTURE.md rule 3): one account for all of them, recorded and audited.

An approval holds while the MIS data of that address is unchanged
(`access.email_fingerprint`); after a change the address is held back again and the
Data Dashboard lists it, so nobody gains access the office did not see."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import cross_family_email_keys, email_fingerprint
from schoolgate.accounts.audit import record
from schoolgate.accounts.models import SharedEmailApproval
from schoolgate.accounts.orphans import update_orphans
from schoolgate.mis.models import Contact


class NotHeldBack(ValueError):
    """The address is not one shared across families: there is nothing to approve."""


def approve_shared_email(*, email_key: str, actor, reason: str = "") -> SharedEmailApproval:
    """Let the contacts of `email_key` share one account, as the data stands now."""
    with transaction.atomic(durable=True):
        if not cross_family_email_keys(email_key=email_key).exists():
            raise NotHeldBack(
                _("%(email)s is not shared by different families.") % {"email": email_key}
            )
        fingerprint = email_fingerprint([email_key])[email_key]
        approval, _created = SharedEmailApproval.objects.update_or_create(
            email_key=email_key,
            defaults={
                "fingerprint": fingerprint,
                "approved_by": actor,
                "approved_at": timezone.now(),
                "reason": reason,
            },
        )
        names = sorted(
            contact.display_name for contact in Contact.objects.filter(email_key=email_key)
        )
        record(
            action="shared_email.approved",
            subject=email_key,
            actor=actor,
            reason=reason,
            contacts=names,
        )
        # An account the sync had closed for having no child opens again.
        update_orphans(now=timezone.now(), actor_label=str(actor))
    return approval


def withdraw_approval(*, email_key: str, actor, reason: str = "") -> bool:
    """Hold the address back again; True if there was an approval to withdraw."""
    with transaction.atomic(durable=True):
        deleted, _rows = SharedEmailApproval.objects.filter(email_key=email_key).delete()
        if deleted:
            record(
                action="shared_email.approval_withdrawn",
                subject=email_key,
                actor=actor,
                reason=reason,
            )
            # Access is derived, so it ends now; an account left with no child is
            # deactivated, which ends its sessions too.
            update_orphans(now=timezone.now(), actor_label=str(actor))
    return bool(deleted)
