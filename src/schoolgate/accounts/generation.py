"""Parent accounts from the MIS mirror: one account per person, found by email, for
every contact that `accounts.access.qualifying_links` says qualifies.

Each new account is created with an unusable password, added to the school's parent
role and sent an invitation, all in one transaction. Running it again creates
accounts only for new starters. docs/parent-accounts.md defines every count."""

import secrets
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.accounts.access import ALL, MODES, PRIMARY, held_back_email_keys, qualifying_links
from schoolgate.accounts.audit import record
from schoolgate.accounts.invitations import queue_invitations
from schoolgate.accounts.models import User
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.mis.models import Contact, PupilContact

SKIP_REASONS = ("no_email", "no_pr", "not_primary", "conflict")
BATCH = 1000
SLICE = 2000


class NoParentGroup(Exception):
    """Accounts cannot be generated before the school chooses a role to put them in."""

    def __init__(self):
        super().__init__(
            _(
                "Choose the role for contact accounts in the add-on settings before "
                "generating accounts: no role is set, so new accounts would have nowhere to go."
            )
        )


@dataclass
class GenerationResult:
    """What a generation did (or, in a dry run, would do), counted per contact."""

    mode: str
    created: int = 0
    existing: int = 0
    invited: int = 0
    # Qualifying contacts whose email another qualifying contact already counted
    # (one household, or an address the office approved): they share that account.
    same_account: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKIP_REASONS, 0))
    dry_run: bool = False

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "existing": self.existing,
            "invited": self.invited,
            "same_account": self.same_account,
            "skipped": dict(self.skipped),
        }


def generate_accounts(
    *, mode: str, actor=None, actor_label: str = "", dry_run: bool = False
) -> GenerationResult:
    """Create, add to the parent role and invite an account for every qualifying
    contact who has none. A dry run counts the same and changes nothing.

    Raises NoParentGroup (unless dry_run) when no parent role is configured."""
    _check_mode(mode)
    if dry_run:
        return preview_generation(modes=(mode,))[mode]
    with transaction.atomic():
        # One generation at a time (a sync's and a click's could otherwise race to
        # create the same address); SQLite's IMMEDIATE transactions already serialise.
        addon_settings = AddonSettings.objects.select_for_update().get(pk=get_addon_settings().pk)
        group = addon_settings.parent_group
        if group is None:
            raise NoParentGroup
        result = _plan(modes=(mode,), keep_new=True)[mode]
        now = timezone.now()
        membership = User.groups.through
        # In slices, so that memory stays flat however many parents a school has.
        for start in range(0, len(result.new_contacts), SLICE):
            users = [
                User(
                    email=email,
                    first_name=forename[:150],
                    last_name=surname[:150],
                    password=_unusable_password(),
                    date_joined=now,
                    invited_at=now,
                )
                for email, forename, surname in result.new_contacts[start : start + SLICE]
            ]
            User.objects.bulk_create(users, batch_size=BATCH)
            membership.objects.bulk_create(
                [membership(user_id=user.pk, group_id=group.pk) for user in users],
                batch_size=BATCH,
            )
            result.invited += queue_invitations(users=users, at=now, save=False)
        _add_missing_to_group(group=group, mode=mode)
        if addon_settings.generation_mode != mode:
            # Access follows the chosen mode, so choosing it here is choosing it for good.
            old = addon_settings.generation_mode
            addon_settings.generation_mode = mode
            addon_settings.save(update_fields=["generation_mode"])
            record(
                action="addons.settings_changed",
                subject="add-on settings",
                actor=actor,
                actor_label=actor_label,
                generation_mode=[old, mode],
            )
        if result.created or actor is not None:
            record(
                action="accounts.generated",
                subject="parent accounts",
                actor=actor,
                actor_label=actor_label,
                mode=mode,
                **result.as_dict(),
            )
    return result.public()


def preview_generation(*, modes: tuple[str, ...] = MODES) -> dict[str, GenerationResult]:
    """What generating in each mode would do now, reading the mirror once."""
    for mode in modes:
        _check_mode(mode)
    plans = _plan(modes=modes, keep_new=False)
    for plan in plans.values():
        plan.invited = plan.created
        plan.dry_run = True
    return {mode: plan.public() for mode, plan in plans.items()}


def accounts_to_create(*, mode: str) -> list[tuple[str, str]]:
    """(email, name) of each account generating in `mode` would create now, by email:
    who would receive an invitation (the office sees it before confirming)."""
    _check_mode(mode)
    plan = _plan(modes=(mode,), keep_new=True)[mode]
    return sorted(
        (email, f"{forename} {surname}".strip()) for email, forename, surname in plan.new_contacts
    )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode: {mode!r} is not one of {', '.join(MODES)}")


@dataclass
class _Plan(GenerationResult):
    new_contacts: list[tuple[str, str, str]] = field(default_factory=list)

    def public(self) -> GenerationResult:
        return GenerationResult(
            mode=self.mode,
            created=self.created,
            existing=self.existing,
            invited=self.invited,
            same_account=self.same_account,
            skipped=dict(self.skipped),
            dry_run=self.dry_run,
        )


def _plan(*, modes: tuple[str, ...], keep_new: bool) -> dict[str, _Plan]:
    """Count, for each mode, accounts to create, accounts that exist, and contacts left
    out by reason; with keep_new, also list (email, forename, surname) to create."""
    accounts = set(User.objects.values_list("email", flat=True).iterator(chunk_size=5000))
    plans = {}
    qualifying_by_mode = {}
    for mode in modes:
        plan = _Plan(mode=mode)
        contacts = (
            Contact.objects.filter(pk__in=qualifying_links(mode=mode).values("contact_id"))
            .order_by("pk")
            .values_list("pk", "email_key", "forename", "surname")
        )
        qualifying = set()
        counted = set()  # emails of shared accounts counted already
        for pk, email, forename, surname in contacts.iterator(chunk_size=5000):
            qualifying.add(pk)
            if email in counted:
                plan.same_account += 1
                continue
            counted.add(email)
            if email in accounts:
                plan.existing += 1
            else:
                plan.created += 1
                if keep_new:
                    plan.new_contacts.append((email, forename, surname))
        plans[mode] = plan
        qualifying_by_mode[mode] = qualifying
    _count_skipped(plans, qualifying_by_mode)
    return plans


def _count_skipped(plans: dict[str, _Plan], qualifying_by_mode: dict[str, set[int]]) -> None:
    """Why each contact of an on-roll pupil who does not qualify is left out.

    Who qualifies is decided by qualifying_links alone; this only explains the rest,
    taking the first reason that applies: no_pr, no_email, conflict, not_primary."""
    shared = set(held_back_email_keys().values_list("email_key", flat=True))
    # contact id -> [email key, has usable PR, has usable PR at priority 1]
    contacts: dict[int, list] = {}
    links = PupilContact.objects.filter(pupil__on_roll=True).values_list(
        "contact_id",
        "contact__email_key",
        "parental_responsibility",
        "court_order",
        "no_contact",
        "priority",
    )
    for contact_id, email, pr, court_order, no_contact, priority in links.iterator(chunk_size=5000):
        state = contacts.setdefault(contact_id, [email, False, False])
        # A court order or a no-contact flag takes the responsibility off this link.
        if pr and not court_order and not no_contact:
            state[1] = True
            if priority == 1:
                state[2] = True
    for mode, plan in plans.items():
        qualifying = qualifying_by_mode[mode]
        for contact_id, (email, has_pr, has_primary_pr) in contacts.items():
            if contact_id in qualifying:
                continue
            if not has_pr:
                reason = "no_pr"
            elif not email:
                reason = "no_email"
            elif email in shared:
                reason = "conflict"
            elif mode == PRIMARY and not has_primary_pr:
                reason = "not_primary"
            else:  # Only if the mirror changed between the two reads.
                reason = "no_pr" if mode == ALL else "not_primary"
            plan.skipped[reason] += 1


def _unusable_password() -> str:
    """What make_password(None) gives (a "!" and random text), at a fraction of the cost."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _add_missing_to_group(*, group, mode: str) -> None:
    """Put existing parent accounts that qualify but are not in the parent role into it
    (e.g. after the school chose another role). Staff keep the roles they have."""
    membership = User.groups.through
    missing = (
        User.objects.filter(
            is_staff=False,
            email__in=qualifying_links(mode=mode).values("contact__email_key"),
        )
        .exclude(groups=group)
        .values_list("pk", flat=True)
    )
    membership.objects.bulk_create(
        [membership(user_id=pk, group_id=group.pk) for pk in missing],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
