"""Parent accounts whose contact no longer gives access to any pupil.

They are deactivated as soon as a sync shows it (their sessions end), brought back if a
later sync links them to a pupil again, and deleted by the retention policy
(ops.retention) once they have been orphaned for the set time. Only members of the
parent role who are not staff are concerned: a staff account never is."""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from schoolgate.accounts.access import access_pairs
from schoolgate.accounts.models import User
from schoolgate.accounts.users import deactivate_user, reactivate_user
from schoolgate.addons.selectors import get_addon_settings


def parent_accounts() -> QuerySet[User]:
    group_id = get_addon_settings().parent_group_id
    if group_id is None:
        return User.objects.none()
    return User.objects.filter(groups=group_id, is_staff=False)


def _with_access(accounts: QuerySet[User]) -> set[str]:
    return {email for email, _pupil in access_pairs(emails=accounts.values("email"))}


def newly_orphaned() -> list[User]:
    """Active parent accounts that may see no pupil now."""
    active = parent_accounts().filter(is_active=True)
    linked = _with_access(active)
    return [user for user in active.order_by("email") if user.email not in linked]


def returning() -> list[User]:
    """Accounts deactivated as orphans whose contact gives access to a pupil again."""
    orphans = parent_accounts().filter(is_active=False, orphaned_at__isnull=False)
    linked = _with_access(orphans)
    return [user for user in orphans.order_by("email") if user.email in linked]


def update_orphans(*, now: datetime, actor_label: str) -> dict[str, list[str]]:
    """Deactivate the newly orphaned, reactivate the returning; both audited."""
    deactivated, reactivated = [], []
    with transaction.atomic():
        for user in newly_orphaned():
            user.orphaned_at = now
            deactivate_user(
                user=user,
                actor=None,
                actor_label=actor_label,
                reason="no longer linked to any pupil in the MIS",
            )
            deactivated.append(user.email)
        for user in returning():
            reactivate_user(
                user=user,
                actor=None,
                actor_label=actor_label,
                reason="linked to a pupil in the MIS again",
            )
            reactivated.append(user.email)
    return {"deactivated": deactivated, "reactivated": reactivated}
