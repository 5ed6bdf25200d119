"""Who may see which pupil (docs/architecture.md): derived from the mirror on every
request, never stored. Every view and query that touches pupils uses these. The
mirror queries themselves live in `schoolgate.mis.access`; this module adds the
school's generation mode, the office's approvals of shared emails and the per-person
checks, worked out once per request."""

from django.db.models import QuerySet
from django.http import Http404

from schoolgate.core import request_memo
from schoolgate.mis import access as mis_access
from schoolgate.mis.access import (  # noqa: F401 (re-exported: accounts.access is the API)
    ALL,
    MODES,
    PRIMARY,
    USABLE_PR,
    cross_family_email_keys,
    email_fingerprint,
    held_back_email_keys,
    shared_email_keys,
)
from schoolgate.mis.models import Pupil, PupilContact

MEMO_PREFIX = "visible-pupils"


def generation_mode() -> str:
    from schoolgate.addons.selectors import get_addon_settings

    return get_addon_settings().generation_mode


def approved_email_keys(*, email_key: str | None = None) -> list[str]:
    """Addresses shared across families for which the office approved one account,
    and whose data has not changed since (see mis.access.email_fingerprint). Handed to
    mis.access by AccountsConfig.ready."""
    from schoolgate.accounts.models import SharedEmailApproval

    approvals = SharedEmailApproval.objects.all()
    if email_key is not None:
        approvals = approvals.filter(email_key=email_key)
    approved = dict(approvals.values_list("email_key", "fingerprint"))
    if not approved:
        return []
    now = email_fingerprint(approved)
    return sorted(key for key, digest in approved.items() if now[key] == digest)


def eligible_links(mode: str | None = None) -> QuerySet[PupilContact]:
    """mis.access.eligible_links in the school's generation mode unless `mode` says."""
    return mis_access.eligible_links(mode or generation_mode())


def qualifying_links(*, mode: str | None = None) -> QuerySet[PupilContact]:
    """mis.access.qualifying_links in the school's generation mode unless `mode` says."""
    return mis_access.qualifying_links(mode=mode or generation_mode())


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
