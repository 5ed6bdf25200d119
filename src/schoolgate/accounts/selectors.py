"""Reads for the User Manager: users, roles and the audit log, each page in a fixed
number of queries."""

from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet

from schoolgate.accounts.access import (
    USABLE_PR,
    approved_email_keys,
    cross_family_email_keys,
    eligible_links,
    qualifying_links,
)
from schoolgate.accounts.models import AuditEntry, SharedEmailApproval, User
from schoolgate.mis.models import Contact, Pupil, PupilContact

INVITED = "invited"
SIGNED_IN = "signed_in"
NEVER = "never"
STATUSES = (INVITED, SIGNED_IN, NEVER)


def search_users(
    *, query: str = "", role_id: int | None = None, status: str = "", active: bool | None = None
) -> QuerySet[User]:
    """Users matching every word of `query` (in a name, the email or a role's title),
    then the filters; each user once, roles prefetched."""
    users = User.objects.all()
    for word in query.split():
        by_role = User.objects.filter(groups__name__icontains=word).values("pk")
        users = users.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(pk__in=by_role)
        )
    if role_id is not None:
        users = users.filter(pk__in=User.objects.filter(groups=role_id).values("pk"))
    if status == INVITED:
        users = users.filter(invited_at__isnull=False, last_login__isnull=True)
    elif status == SIGNED_IN:
        users = users.filter(last_login__isnull=False)
    elif status == NEVER:
        users = users.filter(last_login__isnull=True)
    if active is not None:
        users = users.filter(is_active=active)
    return users.prefetch_related("groups").order_by("last_name", "first_name", "email")


def visible_pupil_counts(users) -> dict[int, int]:
    """{user id: pupils they may see now} for a page of users, in one query.

    The same rules as access.pupils_visible_to (which answers for one person): the
    qualifying links for these addresses, and nothing for an inactive account."""
    by_email = {user.email: user.pk for user in users if user.is_active and user.email}
    counts = dict.fromkeys((user.pk for user in users), 0)
    if not by_email:
        return counts
    rows = (
        qualifying_links()
        .filter(contact__email_key__in=list(by_email))
        .values("contact__email_key")
        .annotate(pupils=Count("pupil_id", distinct=True))
        .values_list("contact__email_key", "pupils")
    )
    for email, pupils in rows:
        counts[by_email[email]] = pupils
    return counts


def roles_with_member_counts() -> QuerySet[Group]:
    return (
        Group.objects.select_related("profile")
        .annotate(members=Count("user", distinct=True))
        .order_by("name")
    )


def role_members(group: Group) -> QuerySet[User]:
    return group.user_set.order_by("last_name", "first_name", "email")


def audit_entries(*, subject: str = "", action: str = "") -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.select_related("actor")
    if subject:
        entries = entries.filter(subject__icontains=subject.strip())
    if action:
        entries = entries.filter(action=action)
    return entries


def audit_actions() -> list[str]:
    """Every action that has been recorded, for the filter."""
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def shared_email_detail(email_key: str) -> dict:
    """One shared address for the office's decision: each contact with the pupils they
    have usable parental responsibility for, and what one account would see."""
    contacts = []
    for contact in Contact.objects.filter(email_key=email_key).order_by("surname", "forename"):
        links = PupilContact.objects.filter(contact=contact, pupil__on_roll=True).select_related(
            "pupil"
        )
        contacts.append(
            {
                "name": contact.display_name,
                "pupils": [link.pupil.display_name for link in links.filter(USABLE_PR)],
                "other_links": [link for link in links.exclude(USABLE_PR)],
            }
        )
    would_see = Pupil.objects.filter(
        pk__in=eligible_links().filter(contact__email_key=email_key).values("pupil_id")
    ).order_by("legal_surname", "legal_forename")
    return {
        "email": email_key,
        "contacts": contacts,
        "would_see": [pupil.display_name for pupil in would_see],
        "cross_family": cross_family_email_keys(email_key=email_key).exists(),
        "approved": email_key in approved_email_keys(email_key=email_key),
    }


def shared_email_approvals() -> list[dict]:
    """Every approval given, newest first, and whether the MIS data still matches it."""
    holding = set(approved_email_keys())
    return [
        {"approval": approval, "holds": approval.email_key in holding}
        for approval in SharedEmailApproval.objects.select_related("approved_by").order_by(
            "-approved_at"
        )
    ]
