"""Who may see which pupil (ARCHITECTURE.md rule 2): derived from the mirror on
every request, never stored. Every view and query that touches pupils uses these."""

import hashlib

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from schoolgate.core import request_memo
from schoolgate.mis.models import Contact, Pupil, PupilContact

ALL = "all"
PRIMARY = "primary"
MODES = (ALL, PRIMARY)
MEMO_PREFIX = "visible-pupils"


def generation_mode() -> str:
    from schoolgate.addons.selectors import get_addon_settings

    return get_addon_settings().generation_mode


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


# A link that gives responsibility a contact may act on: PR, on roll, no court order and
# no no-contact flag. The school's mode (priority 1) comes on top of this.
USABLE_PR = Q(
    pupil__on_roll=True, parental_responsibility=True, court_order=False, no_contact=False
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
    """Shared emails whose contacts do not form one household (ARCHITECTURE.md rule 3).

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


def approved_email_keys(*, email_key: str | None = None) -> list[str]:
    """Addresses shared across families for which the office approved one account,
    and whose data has not changed since (see email_fingerprint)."""
    from schoolgate.accounts.models import SharedEmailApproval

    approvals = SharedEmailApproval.objects.all()
    if email_key is not None:
        approvals = approvals.filter(email_key=email_key)
    approved = dict(approvals.values_list("email_key", "fingerprint"))
    if not approved:
        return []
    now = email_fingerprint(approved)
    return sorted(key for key, digest in approved.items() if now[key] == digest)


def held_back_email_keys(*, email_key: str | None = None) -> QuerySet:
    """Shared emails that give nobody access: different families, not approved."""
    return cross_family_email_keys(email_key=email_key).exclude(
        email_key__in=approved_email_keys(email_key=email_key)
    )


def eligible_links(mode: str | None = None) -> QuerySet[PupilContact]:
    """Every rule but the shared-email one, which needs to see other contacts."""
    mode = mode or generation_mode()
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    links = PupilContact.objects.filter(USABLE_PR).exclude(contact__email_key="")
    if mode == PRIMARY:
        links = links.filter(priority=1)
    return links


def qualifying_links(*, mode: str | None = None) -> QuerySet[PupilContact]:
    """Links that give a contact access to a pupil: on roll, parental responsibility,
    a valid email that is not held back (shared only within one household, or
    approved by the office), no court order or no-contact flag, and priority 1 when
    the school chose primary contacts only.

    The contacts of one household share one account (their email): it sees every
    pupil that any of them qualifies for, and nothing through a contact who does not."""
    return eligible_links(mode).exclude(contact__email_key__in=held_back_email_keys())


def pupils_visible_to(user, *, mode: str | None = None) -> QuerySet[Pupil]:
    """The pupils this person may see as a parent, from the mirror as it is now.

    Their ids are worked out once per web request and then used as a plain list: as a
    subquery under every page's queries it cost a hundred times more (docs/benchmarks.md)."""
    if not user.is_authenticated or not user.is_active or not user.email:
        return Pupil.objects.none()
    return Pupil.objects.filter(pk__in=visible_pupil_ids(user, mode=mode))


def visible_pupil_ids(user, *, mode: str | None = None) -> list[int]:
    """The ids of the pupils `user` may see (sorted), once per request for each user."""
    if not user.is_authenticated or not user.is_active or not user.email:
        return []
    mode = mode or generation_mode()
    key = (MEMO_PREFIX, user.pk, user.email, mode)
    return request_memo.remembered(key, lambda: _visible_pupil_ids(user.email, mode))


def _visible_pupil_ids(email: str, mode: str) -> list[int]:
    # The same rules as qualifying_links, with the shared-email test narrowed to this
    # one address so that a page view never groups the whole contact table.
    links = (
        eligible_links(mode)
        .filter(contact__email_key=email)
        .exclude(contact__email_key__in=held_back_email_keys(email_key=email))
    )
    return sorted(set(links.values_list("pupil_id", flat=True)))


def forget_visible_pupils() -> None:
    """After a change to the mirror within a request (a sync), work access out afresh."""
    request_memo.forget(MEMO_PREFIX)


def can_see_pupil(user, pupil: Pupil | int) -> bool:
    pupil_id = pupil.pk if isinstance(pupil, Pupil) else pupil
    return pupils_visible_to(user).filter(pk=pupil_id).exists()


def get_visible_pupil_or_404(user, pupil_id) -> Pupil:
    """The pupil, if this person may see it; otherwise 404, so ids reveal nothing."""
    try:
        return pupils_visible_to(user).get(pk=pupil_id)
    except (Pupil.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def is_parent(user) -> bool:
    """Whether the person has at least one child they may see now."""
    return bool(visible_pupil_ids(user))


def access_pairs(*, mode: str | None = None, emails: QuerySet | None = None) -> dict:
    """{(email, pupil id): contact id} for every qualifying link, in one query.

    `emails` (a values queryset of addresses) narrows it, e.g. to those with accounts.
    Used to compare access before and after a sync."""
    links = qualifying_links(mode=mode)
    if emails is not None:
        links = links.filter(contact__email_key__in=emails)
    return {
        (email, pupil_id): contact_id
        for email, pupil_id, contact_id in links.values_list(
            "contact__email_key", "pupil_id", "contact_id"
        ).iterator(chunk_size=5000)
    }
