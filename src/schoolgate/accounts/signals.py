"""What follows a sync: every access it gives or takes away is audited, then (when
the school chose it) accounts are generated for new starters. Both run inside the
sync's transaction, so they commit or roll back with it."""

from collections import defaultdict
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext_noop

from schoolgate.accounts.access import (
    PRIMARY,
    access_pairs,
    generation_mode,
    held_back_email_keys,
)
from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.orphans import newly_orphaned, update_orphans
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.mis.models import Pupil, PupilContact

# Stored in English (the audit log is a record, not a page), marked for translation.
REASONS = {
    "off_roll": gettext_noop("pupil off roll"),
    "link_removed": gettext_noop("link removed"),
    "email_changed": gettext_noop("email changed"),
    "pr_removed": gettext_noop("PR removed"),
    "court_order": gettext_noop("court order"),
    "no_contact": gettext_noop("marked no contact"),
    "priority_changed": gettext_noop("priority changed"),
    "shared": gettext_noop("email now shared with a contact of another family"),
    "other": gettext_noop("no longer qualifies"),
    "new_link": gettext_noop("new link in the MIS"),
    "now_qualifies": gettext_noop(
        "now qualifies (parental responsibility, priority, email or court order changed)"
    ),
}
BEFORE = "_schoolgate_access_before"
CHUNK = 500


def connect() -> None:
    from schoolgate.mis.sync import mis_sync_counting, mis_synced, mis_syncing

    mis_syncing.connect(note_access_before_sync, dispatch_uid="accounts.access_before")
    mis_sync_counting.connect(count_deactivations, dispatch_uid="accounts.count_deactivations")
    mis_synced.connect(after_sync, dispatch_uid="accounts.after_sync")


def count_deactivations(sender, snapshot, **kwargs) -> dict:
    """How many parent accounts the sync being weighed would deactivate (reads only:
    the sync may yet be held and rolled back)."""
    return {"accounts_deactivated": len(newly_orphaned())}


def note_access_before_sync(sender, run, **kwargs) -> None:
    """Remember who may see which pupil, for the audit once the mirror has changed."""
    mode = generation_mode()
    last_link = PupilContact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    setattr(run, BEFORE, (mode, _account_pairs(mode), last_link))


def after_sync(sender, run, **kwargs) -> None:
    label = f"sync {run.pk}"
    before = getattr(run, BEFORE, None)
    if before is not None:
        mode, pairs, last_link = before
        audit_access_changes(
            before=pairs,
            after=_account_pairs(mode),
            mode=mode,
            last_link_before=last_link,
            actor_label=label,
        )
    addon_settings = get_addon_settings()
    if addon_settings.auto_generate and addon_settings.parent_group_id:
        generate_accounts(mode=addon_settings.generation_mode, actor_label=label)
    # Accounts whose contact the MIS no longer links to any pupil stop at once.
    update_orphans(now=timezone.now(), actor_label=label)


def _account_pairs(mode: str) -> dict:
    """Access as it stands, for addresses that have an account (nobody else can lose it)."""
    return access_pairs(mode=mode, emails=User.objects.values("email"))


def audit_access_changes(
    *, before: dict, after: dict, mode: str, last_link_before: int = 0, actor_label: str
) -> int:
    """Write one AuditEntry per (email, pupil) access gained or lost, with the reason
    read from the mirror as it is now; returns how many were written."""
    lost = sorted(before.keys() - after.keys())
    gained = sorted(after.keys() - before.keys())
    if not lost and not gained:
        return 0
    pupil_ids = {pupil_id for _email, pupil_id in lost + gained}
    pupils = {
        pupil.pk: pupil
        for ids in _chunks(pupil_ids)
        for pupil in Pupil.objects.filter(pk__in=ids).only(
            "legal_forename", "legal_surname", "preferred_forename", "preferred_surname", "on_roll"
        )
    }
    links = defaultdict(list)
    for ids in _chunks({pupil_id for _email, pupil_id in lost}):
        for link in PupilContact.objects.filter(pupil_id__in=ids).values(
            "pk",
            "pupil_id",
            "contact_id",
            "contact__email_key",
            "parental_responsibility",
            "priority",
            "court_order",
            "no_contact",
        ):
            links[link["pupil_id"]].append(link)
    emails = {email for email, _pupil in lost}
    shared = {
        key
        for chunk in _chunks(emails)
        for key in held_back_email_keys()
        .filter(email_key__in=chunk)
        .values_list("email_key", flat=True)
    }
    entries = []
    for email, pupil_id in lost:
        reason = _why_lost(
            email=email,
            pupil=pupils.get(pupil_id),
            contact_id=before[(email, pupil_id)],
            links=links[pupil_id],
            mode=mode,
            shared=shared,
        )
        entries.append(_entry("access.lost", email, pupils.get(pupil_id), pupil_id, reason))
    link_ids = {}
    for ids in _chunks({pupil_id for _email, pupil_id in gained}):
        for pk, contact_id, pupil_id in PupilContact.objects.filter(pupil_id__in=ids).values_list(
            "pk", "contact_id", "pupil_id"
        ):
            link_ids[(contact_id, pupil_id)] = pk
    for email, pupil_id in gained:
        link_id = link_ids.get((after[(email, pupil_id)], pupil_id), 0)
        reason = REASONS["new_link"] if link_id > last_link_before else REASONS["now_qualifies"]
        entries.append(_entry("access.gained", email, pupils.get(pupil_id), pupil_id, reason))
    for entry in entries:
        entry.actor_label = actor_label
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def _why_lost(
    *, email: str, pupil: Pupil | None, contact_id: int, links: list, mode: str, shared: set
) -> str:
    """The first thing, in the order a school would check, that took this access away."""
    if pupil is None or not pupil.on_roll:
        return REASONS["off_roll"]
    link = next((x for x in links if x["contact_id"] == contact_id), None) or next(
        (x for x in links if x["contact__email_key"] == email), None
    )
    if link is None:
        return REASONS["link_removed"]
    if link["contact__email_key"] != email:
        return REASONS["email_changed"]
    if not link["parental_responsibility"]:
        return REASONS["pr_removed"]
    if link["court_order"]:
        return REASONS["court_order"]
    if link["no_contact"]:
        return REASONS["no_contact"]
    if mode == PRIMARY and link["priority"] != 1:
        return REASONS["priority_changed"]
    if email in shared:
        return REASONS["shared"]
    return REASONS["other"]


def _entry(action: str, email: str, pupil: Pupil | None, pupil_id: int, reason: str):
    return AuditEntry(
        action=action,
        subject=email,
        reason=reason,
        detail={"pupil_id": pupil_id, "pupil": pupil.display_name if pupil else ""},
    )


def _chunks(values: Iterable, size: int = CHUNK):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
