"""Who may see which pupil (docs/architecture.md): derived from the mirror on every
request, never stored. Every view and query that touches pupils uses these. The
mirror queries themselves live in `schoolgate.mis.access`; this module adds the
school's generation mode and the per-person checks."""

from django.db.models import QuerySet
from django.http import Http404

from schoolgate.mis import access as mis_access
from schoolgate.mis.access import (  # noqa: F401 (re-exported: accounts.access is the API)
    ALL,
    MODES,
    PRIMARY,
    eligible_links,
    shared_email_keys,
)
from schoolgate.mis.models import Pupil, PupilContact


def generation_mode() -> str:
    from schoolgate.addons.selectors import get_addon_settings

    return get_addon_settings().generation_mode


def qualifying_links(*, mode: str | None = None) -> QuerySet[PupilContact]:
    """mis.access.qualifying_links in the school's generation mode unless `mode` says."""
    return mis_access.qualifying_links(mode=mode or generation_mode())


def pupils_visible_to(user, *, mode: str | None = None) -> QuerySet[Pupil]:
    """The pupils this person may see as a parent, from the mirror as it is now."""
    if not user.is_authenticated or not user.is_active or not user.email:
        return Pupil.objects.none()
    # The same rules as qualifying_links, with the shared-email test narrowed to this
    # one address so that a page view never groups the whole contact table.
    links = (
        eligible_links(mode or generation_mode())
        .filter(contact__email_key=user.email)
        .exclude(contact__email_key__in=shared_email_keys(email_key=user.email))
    )
    return Pupil.objects.filter(pk__in=links.values("pupil_id"))


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
    return pupils_visible_to(user).exists()


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
