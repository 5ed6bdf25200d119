"""Who may see which pupil (ARCHITECTURE.md rule 2): derived from the mirror on
every request, never stored. Every view and query that touches pupils uses these."""

from django.db.models import Count, Q, QuerySet
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
    """Emails held by two or more different contacts: a data problem, never merged.

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


def _eligible_links(mode: str | None) -> QuerySet[PupilContact]:
    """Every rule but the shared-email one, which needs to see other contacts."""
    mode = mode or generation_mode()
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    links = PupilContact.objects.filter(
        pupil__on_roll=True,
        parental_responsibility=True,
        court_order=False,
        no_contact=False,
    ).exclude(contact__email_key="")
    if mode == PRIMARY:
        links = links.filter(priority=1)
    return links


def qualifying_links(*, mode: str | None = None) -> QuerySet[PupilContact]:
    """Links that give a contact access to a pupil: on roll, parental responsibility,
    a valid email not shared with another contact, no court order or no-contact flag,
    and priority 1 when the school chose primary contacts only."""
    return _eligible_links(mode).exclude(Q(contact__email_key__in=shared_email_keys()))


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
        _eligible_links(mode)
        .filter(contact__email_key=email)
        .exclude(contact__email_key__in=shared_email_keys(email_key=email))
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
