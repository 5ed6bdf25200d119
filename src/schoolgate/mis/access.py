"""Who may see which pupil, as the mirror says (docs/architecture.md: the policy
depends on the mirror only, so mis never imports accounts).

Pure queries over the mirror, for a given generation mode: ALL contacts with parental
responsibility, or the PRIMARY (priority 1) contact only. `schoolgate.accounts.access`
adds the school's chosen mode, the office's approvals of shared emails (through
`set_approvals`: the lower layer asks, the higher one answers) and the per-person checks
every page uses."""

import hashlib

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from schoolgate.mis.models import Contact, PupilContact

ALL = "all"
PRIMARY = "primary"
MODES = (ALL, PRIMARY)

# A link that gives responsibility a contact may act on: PR, on roll, no court order and
# no no-contact flag. The school's mode (priority 1) comes on top of this.
USABLE_PR = Q(
    pupil__on_roll=True, parental_responsibility=True, court_order=False, no_contact=False
)


def _no_approvals(*, email_key: str | None = None) -> list[str]:
    return []


# accounts.access sets this when the app is ready: the addresses shared across families
# for which the office approved one account (docs/parent-accounts.md).
_approvals = {"approved_email_keys": _no_approvals}


def set_approvals(approved_email_keys) -> None:
    _approvals["approved_email_keys"] = approved_email_keys


def approved_email_keys(*, email_key: str | None = None) -> list[str]:
    return _approvals["approved_email_keys"](email_key=email_key)


def shared_email_keys(*, email_key: str | None = None) -> QuerySet:
    """Emails held by two or more different contacts (a household or a data problem).

    With `email_key`, only that address is looked at (an index lookup, not a scan)."""
    contacts = Contact.objects.exclude(email_key="")
    if email_key is not None:
        contacts = contacts.filter(email_key=email_key)
    return (
        contacts.values("email_key")
        .annotate(people=Count("id"))
        .filter(people__gt=1)
        .values("email_key")
    )


def _pupil_count(**match) -> Subquery:
    """Distinct pupils reached through usable PR links matching `match` (OuterRefs)."""
    links = (
        PupilContact.objects.filter(USABLE_PR, **match)
        .order_by()
        .values(*match)
        .annotate(n=Count("pupil_id", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(links, output_field=IntegerField()), Value(0))


def cross_family_email_keys(*, email_key: str | None = None) -> QuerySet:
    """Shared emails whose contacts do not form one household (docs/architecture.md).

    The contacts of an address form one household when every one of them with PR for
    a pupil on roll has usable PR for exactly the same pupils. Contacts with no PR
    at all add nothing and so are left out of the comparison; a court order or a
    no-contact flag on one of them makes the sets differ, so those go to the office.
    Every contact's pupils are a subset of all of the address's pupils, so "the same
    set for everyone" is "nobody reaches fewer pupils than the address does"."""
    contacts = Contact.objects.filter(
        email_key__in=shared_email_keys(email_key=email_key),
        pupil_links__parental_responsibility=True,
        pupil_links__pupil__on_roll=True,
    )
    return (
        contacts.annotate(
            own=_pupil_count(contact_id=OuterRef("pk")),
            every=_pupil_count(contact__email_key=OuterRef("email_key")),
        )
        .filter(own__lt=F("every"))
        .values("email_key")
        .distinct()
    )


def email_fingerprint(email_keys) -> dict[str, str]:
    """{email key: a digest of its contacts and all their links}, for the keys given.

    An office approval holds while the digest is the same: any change in the MIS to
    these people or their links (a new pupil, PR, priority, flags) asks again."""
    rows = {key: [] for key in email_keys}
    for contact in Contact.objects.filter(email_key__in=list(rows)).values("pk", "email_key"):
        rows[contact["email_key"]].append(f"contact:{contact['pk']}")
    for link in PupilContact.objects.filter(contact__email_key__in=list(rows)).values_list(
        "contact__email_key",
        "contact_id",
        "pupil_id",
        "pupil__on_roll",
        "parental_responsibility",
        "priority",
        "court_order",
        "no_contact",
    ):
        rows[link[0]].append("link:" + ":".join(str(value) for value in link[1:]))
    return {
        key: hashlib.sha256("\n".join(sorted(values)).encode()).hexdigest()
        for key, values in rows.items()
    }


def held_back_email_keys(*, email_key: str | None = None) -> QuerySet:
    """Shared emails that give nobody access: different families, not approved."""
    return cross_family_email_keys(email_key=email_key).exclude(
        email_key__in=approved_email_keys(email_key=email_key)
    )


def eligible_links(mode: str) -> QuerySet[PupilContact]:
    """Every rule but the shared-email one, which needs to see other contacts."""
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    links = PupilContact.objects.filter(USABLE_PR).exclude(contact__email_key="")
    if mode == PRIMARY:
        links = links.filter(priority=1)
    return links


def qualifying_links(*, mode: str) -> QuerySet[PupilContact]:
    """Links that give a contact access to a pupil: on roll, parental responsibility,
    a valid email that is not held back (shared only within one household, or
    approved by the office), no court order or no-contact flag, and priority 1 when
    the school chose primary contacts only.

    The contacts of one household share one account (their email): it sees every
    pupil that any of them qualifies for, and nothing through a contact who does not."""
    return eligible_links(mode).exclude(contact__email_key__in=held_back_email_keys())
