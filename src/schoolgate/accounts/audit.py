from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext, gettext_lazy

from schoolgate.accounts.models import AuditEntry


def record(
    *, action: str, subject: str = "", actor=None, actor_label: str = "", reason: str = "", **detail
) -> AuditEntry:
    """Write one audit entry (in the caller's transaction)."""
    return AuditEntry.objects.create(
        action=action,
        subject=subject,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or (str(actor) if actor is not None else ""),
        reason=reason,
        detail=detail,
    )


# The audit log's page shows entries in words; the codes stay in the data (and filters).
ACTIONS = {
    "access.gained": gettext_lazy("Access to a pupil gained"),
    "access.lost": gettext_lazy("Access to a pupil lost"),
    "accounts.generated": gettext_lazy("Parent accounts generated"),
    "accounts.invitations_resent": gettext_lazy("Invitations sent again"),
    "accounts.invited": gettext_lazy("Invitation sent"),
    "addons.settings_changed": gettext_lazy("Add-on settings changed"),
    "addons.test_email": gettext_lazy("Test email sent"),
    "password.changed": gettext_lazy("Password changed"),
    "password.reset": gettext_lazy("Password reset"),
    "password.set_from_invitation": gettext_lazy("Password set from an invitation"),
    "role.created": gettext_lazy("Role created"),
    "shared_email.approved": gettext_lazy("One account approved for a shared email address"),
    "shared_email.approval_withdrawn": gettext_lazy("Shared email address approval withdrawn"),
    "staff_account.created": gettext_lazy("Staff account created"),
    "staff_account.role_added": gettext_lazy("Role given to a staff member"),
    "two_factor.enrolled": gettext_lazy("Two-factor authentication set up"),
    "two_factor.locked": gettext_lazy("Two-factor authentication locked"),
    "user.deactivated": gettext_lazy("Account deactivated"),
    "user.reactivated": gettext_lazy("Account reactivated"),
    "user.password_reset_sent": gettext_lazy("Password reset sent"),
    "user.roles_changed": gettext_lazy("Roles changed"),
    "user.signed_out_everywhere": gettext_lazy("Signed out everywhere"),
    "user.two_factor_reset": gettext_lazy("Two-factor authentication reset"),
    "user.unlocked": gettext_lazy("Sign-in unlocked"),
}
DETAIL_LABELS = {
    "mode": gettext_lazy("who gets an account"),
    "created": gettext_lazy("accounts created"),
    "existing": gettext_lazy("already had an account"),
    "invited": gettext_lazy("invitations sent"),
    "same_account": gettext_lazy("sharing a household's account"),
    "skipped": gettext_lazy("left out"),
    "no_email": gettext_lazy("no valid email address"),
    "no_pr": gettext_lazy("no parental responsibility"),
    "not_primary": gettext_lazy("not priority 1"),
    "conflict": gettext_lazy("email shared with another family"),
    "pupil": gettext_lazy("pupil"),
    "contacts": gettext_lazy("contacts"),
    "sender": gettext_lazy("sender"),
    "generation_mode": gettext_lazy("who gets an account"),
}
HIDDEN = {"pupil_id"}  # ids mean nothing to a reader; the name is beside them


def action_words(action: str) -> str:
    return str(ACTIONS.get(action, action))


def detail_words(detail: dict) -> str:
    """{'created': 8, 'skipped': {'no_email': 85}} -> 'accounts created 8; left out: no
    valid email address 85'. Numbers get thousands separators; [old, new] reads old → new."""
    parts = []
    for key, value in _in_order(detail):
        if key in HIDDEN:
            continue
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        if isinstance(value, dict):
            inner = ", ".join(
                f"{DETAIL_LABELS.get(k, k.replace('_', ' '))} {_value_words(v)}"
                for k, v in _in_order(value)
                if v
            )
            parts.append(f"{label}: {inner or '0'}")
        elif isinstance(value, list) and len(value) == 2 and key != "contacts":
            parts.append(f"{label}: {_value_words(value[0])} → {_value_words(value[1])}")
        else:
            parts.append(f"{label}: {_value_words(value)}")
    return "; ".join(parts)


def _in_order(detail: dict) -> list:
    """Known keys in DETAIL_LABELS' order, others by name: PostgreSQL's jsonb does not
    keep the order the entry was written in."""
    known = list(DETAIL_LABELS)
    return sorted(
        detail.items(),
        key=lambda item: (known.index(item[0]) if item[0] in known else len(known), item[0]),
    )


def _value_words(value) -> str:
    if isinstance(value, bool) or value is None:
        return {True: gettext("yes"), False: gettext("no"), None: "–"}[value]
    if isinstance(value, int):
        return intcomma(value)
    if isinstance(value, list):
        return ", ".join(_value_words(item) for item in value)
    return str(value) if value != "" else "–"
