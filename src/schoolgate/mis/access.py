"""Who may see which pupil, as the mirror says (docs/architecture.md: the policy
depends on the mirror only, so mis never imports accounts).

Pure queries over the mirror, for a given generation mode: ALL contacts with parental
responsibility, or the PRIMARY (priority 1) contact only. `schoolgate.accounts.access`
adds the school's chosen mode and the per-person checks every page uses."""

from django.db.models import Count, Q, QuerySet

from schoolgate.mis.models import Contact, PupilContact

ALL = "all"
PRIMARY = "primary"
MODES = (ALL, PRIMARY)


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


def eligible_links(mode: str) -> QuerySet[PupilContact]:
    """Every rule but the shared-email one, which needs to see other contacts."""
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


def qualifying_links(*, mode: str) -> QuerySet[PupilContact]:
    """Links that give a contact access to a pupil: on roll, parental responsibility,
    a valid email not shared with another contact, no court order or no-contact flag,
    and priority 1 when the school chose primary contacts only."""
    return eligible_links(mode).exclude(Q(contact__email_key__in=shared_email_keys()))
