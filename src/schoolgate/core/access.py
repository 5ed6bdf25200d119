"""Who may open which page: the one place every view declares it (docs/permissions.md).

Deny by default (docs/architecture.md): being staff grants nothing by itself. Each staff
view names the capability it needs with `capability_required`; parent pages use
`accounts.access.parent_required`, which marks them the same way; the few pages anyone may
open say so with `public` or `signed_in`. tests/core/test_url_matrix.py walks every URL from
the resolver and fails on a view that declares nothing.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

# The capabilities a school gives its roles: each is a Django permission ("app.codename"),
# declared in that app's models so that migrations create it.
SEE_MIS_DATA = "mis.view_mis_data"
RUN_SYNC = "mis.run_sync"
MANAGE_USERS = "accounts.manage_users"
READ_AUDIT = "accounts.view_audit"
MANAGE_ADDONS = "addons.change_addonsettings"
READ_OUTBOX = "outbox.view_outboxmessage"
RETRY_OUTBOX = "outbox.change_outboxmessage"
REVIEW_CORRECTIONS = "portal.review_corrections"
ORGANISE_EVENINGS = "evenings.organise_evenings"
BOOK_FOR_PARENTS = "evenings.book_for_parents"
SEE_ATTENDANCE = "evenings.view_attendance"
TEACH = "evenings.teach"

CAPABILITIES = {
    SEE_MIS_DATA: _("See MIS data and contacts (the Data Dashboard and its lists)"),
    RUN_SYNC: _("Run a sync from MIS files and confirm large changes"),
    MANAGE_USERS: _("Manage users and roles"),
    READ_AUDIT: _("Read the audit log"),
    MANAGE_ADDONS: _("Manage add-on settings and parent accounts"),
    READ_OUTBOX: _("Read the email outbox"),
    RETRY_OUTBOX: _("Send a failed email again"),
    REVIEW_CORRECTIONS: _("Review parents' correction requests"),
    ORGANISE_EVENINGS: _("Set up and run parents' evenings"),
    BOOK_FOR_PARENTS: _("Book, move and cancel appointments on a parent's behalf"),
    SEE_ATTENDANCE: _("See attendance figures for parents' evenings"),
    TEACH: _("A teacher's own schedules, breaks, notes and attendance marks"),
}


@dataclass(frozen=True)
class Rule:
    """What a view asks of the person: `kind` is staff, parent, signed_in or public."""

    kind: str
    capabilities: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "staff":
            return " or ".join(self.capabilities)
        return self.kind


def _mark(view, rule: Rule):
    view.access_rule = rule
    return view


def has_capability(user, *capabilities: str) -> bool:
    """Active staff holding any one of `capabilities`."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and any(user.has_perm(capability) for capability in capabilities)
    )


def capability_required(*capabilities: str):
    """Signed in, a member of staff, and holding one of `capabilities` (at least one named)."""
    if not capabilities or any(c not in CAPABILITIES for c in capabilities):
        raise ValueError(f"unknown or missing capability: {capabilities!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_capability(request.user, *capabilities):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return _mark(wrapped, Rule("staff", capabilities))

    return decorator


def audience(kind: str):
    """Mark a view whose own decorator checks the person (used by parent_required)."""
    if kind not in ("parent", "signed_in", "public"):
        raise ValueError(kind)
    return lambda view: _mark(view, Rule(kind))


def public(view):
    """Anyone may open it, signed in or not (sign-in pages, the health check, feeds by token)."""
    return _mark(view, Rule("public"))


def signed_in(view):
    """Anyone signed in: their own account's pages."""
    from django.contrib.auth.decorators import login_required

    return _mark(login_required(view), Rule("signed_in"))
