"""What the User Manager does to accounts and roles. Each function is one admin action,
runs in one transaction and writes an audit entry (who, what, whom, why)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from schoolgate.accounts import lockout
from schoolgate.accounts.audit import record
from schoolgate.accounts.models import RoleProfile, TOTPDevice, User
from schoolgate.accounts.roles import TEACHERS, sync_staff_flag
from schoolgate.accounts.sessions import end_all_sessions

RESET_TEMPLATE = "password_reset"
MANAGE_USERS = "manage_users"
# A self-service reset is not sent again to the same address within this time.
RESET_PAUSE = timedelta(minutes=5)


# Roles


def create_role(*, title: str, description: str = "", actor=None) -> Group:
    """A new role with no permissions and no access to the staff area (the "MIS Parent"
    kind): its members can read their own children's details and book, nothing more."""
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("Enter a title for the role.")})
    if len(title) > Group._meta.get_field("name").max_length:
        raise ValidationError({"title": _("The title must be 150 characters or fewer.")})
    with transaction.atomic():
        if Group.objects.filter(name__iexact=title).exists():
            raise ValidationError(
                {"title": _("A role called “%(title)s” already exists.") % {"title": title}}
            )
        group = Group.objects.create(name=title)
        RoleProfile.objects.create(group=group, description=(description or "").strip())
        record(action="role.created", subject=title, actor=actor, role=group.pk)
    return group


def set_roles(*, user: User, roles, actor, reason: str = "") -> tuple[list[str], list[str]]:
    """Give `user` exactly these roles; returns the titles (added, removed).

    Staff roles decide `is_staff`. An admin cannot take away their own last role that
    lets them manage users, so the school is never left without one."""
    wanted = {group.pk: group for group in roles}
    with transaction.atomic():
        current = {group.pk: group for group in user.groups.all()}
        added = [wanted[pk] for pk in wanted.keys() - current.keys()]
        removed = [current[pk] for pk in current.keys() - wanted.keys()]
        if not added and not removed:
            return [], []
        if actor is not None and actor.pk == user.pk and not _keeps_manage_users(user, wanted):
            raise ValidationError(_("You cannot remove your own permission to manage users."))
        user.groups.add(*added)
        user.groups.remove(*removed)
        sync_staff_flag(user)
        added_names = sorted(group.name for group in added)
        removed_names = sorted(group.name for group in removed)
        record(
            action="user.roles_changed",
            subject=user.email,
            actor=actor,
            reason=reason,
            added=added_names,
            removed=removed_names,
            is_staff=user.is_staff,
        )
    return added_names, removed_names


def _keeps_manage_users(user: User, groups) -> bool:
    if user.is_superuser or user.user_permissions.filter(codename=MANAGE_USERS).exists():
        return True
    return Group.objects.filter(
        pk__in=list(groups),
        permissions__codename=MANAGE_USERS,
        permissions__content_type__app_label="accounts",
    ).exists()


# Accounts


def deactivate_user(*, user: User, actor, reason: str = "", actor_label: str = "") -> None:
    """The person can no longer sign in, and every session they have ends now.

    `actor_label` names what did it when no person did (e.g. "sync 12"); the caller
    may set `user.orphaned_at` first, which is saved with the change."""
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not user.is_active:
        return
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active", "orphaned_at"])
        ended = end_all_sessions(user)
        record(
            action="user.deactivated",
            subject=user.email,
            actor=actor,
            actor_label=actor_label,
            reason=reason,
            sessions_ended=ended,
        )


def reactivate_user(*, user: User, actor, reason: str = "", actor_label: str = "") -> None:
    if user.is_active:
        return
    with transaction.atomic():
        user.is_active = True
        user.orphaned_at = None
        user.save(update_fields=["is_active", "orphaned_at"])
        record(
            action="user.reactivated",
            subject=user.email,
            actor=actor,
            actor_label=actor_label,
            reason=reason,
        )


def sign_out_everywhere(*, user: User, actor, reason: str = "") -> int:
    """End every session the person has; returns how many were ended."""
    with transaction.atomic():
        ended = end_all_sessions(user)
        record(
            action="user.signed_out_everywhere",
            subject=user.email,
            actor=actor,
            reason=reason,
            sessions_ended=ended,
        )
    return ended


def unlock_user(*, user: User, actor) -> int:
    """Clear failed sign-ins against this person (and from the addresses that made them)."""
    with transaction.atomic():
        cleared = lockout.unlock(user.email)
        TOTPDevice.objects.filter(user=user).update(failures=0, last_failure_at=None)
        record(action="user.unlocked", subject=user.email, actor=actor, attempts_cleared=cleared)
    return cleared


def reset_two_factor(*, user: User, actor) -> bool:
    """Forget the person's authenticator (a lost phone); they set up a new one next time."""
    with transaction.atomic():
        deleted, _ = TOTPDevice.objects.filter(user=user).delete()
        if deleted:
            end_all_sessions(user)
            record(action="user.two_factor_reset", subject=user.email, actor=actor)
    return bool(deleted)


# Passwords


def password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse(
        "accounts:reset-password",
        kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)},
    )
    return settings.SITE_URL + path


def send_password_reset(*, user: User, actor=None, reason: str = ""):
    """Queue an email with a link to choose a new password (through the outbox)."""
    from schoolgate.outbox.services import queue_email

    if not user.is_active:
        raise ValidationError(
            _("%(email)s is deactivated: reactivate the account first.") % {"email": user.email}
        )
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    with transaction.atomic():
        message = queue_email(
            to=user.email,
            template=RESET_TEMPLATE,
            context={
                "name": user.get_full_name(),
                "link": password_reset_url(user),
                "hours": hours,
            },
        )
        record(
            action="user.password_reset_sent",
            subject=user.email,
            actor=actor,
            actor_label="" if actor else "forgot password",
            reason=reason,
        )
    return message


def password_reset_recently_sent(email: str) -> bool:
    """Whether a reset went to this address in the last few minutes (no inbox flooding)."""
    from schoolgate.outbox.models import OutboxMessage

    since = timezone.now() - RESET_PAUSE
    return OutboxMessage.objects.filter(
        to=email, template=RESET_TEMPLATE, created_at__gte=since
    ).exists()


def user_for_email(email: str) -> User | None:
    from schoolgate.core.emails import normalise_email

    return User.objects.filter(email=normalise_email(email), is_active=True).first()


# Staff accounts from the MIS mirror


@dataclass
class StaffAccountsResult:
    created: int = 0
    role_added: int = 0  # existing accounts (parents, usually) given the staff role
    already: int = 0  # accounts that already held the role
    no_email: int = 0  # current staff without a valid email in the MIS
    invited: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def staff_role_choices():
    return Group.objects.filter(profile__is_staff_role=True).order_by("name")


def create_staff_accounts(*, actor, role: Group | None = None, dry_run: bool = False):
    """An account (by email) for every current MIS staff member, in `role` (Teachers by
    default). An existing account, a parent's say, gets the role: one account per person."""
    from schoolgate.accounts.invitations import queue_invitation
    from schoolgate.mis.models import Staff

    role = role or Group.objects.filter(name=TEACHERS).first()
    if role is None or not staff_role_choices().filter(pk=role.pk).exists():
        raise ValidationError({"role": _("Choose a staff role for the staff accounts.")})
    result = StaffAccountsResult()
    with transaction.atomic():
        people = {}
        for member in Staff.objects.filter(current=True).order_by("surname", "forename", "pk"):
            if not member.email_key:
                result.no_email += 1
                continue
            people.setdefault(member.email_key, member)  # one email, one person
        accounts = {user.email: user for user in User.objects.filter(email__in=list(people))}
        holders = set(role.user_set.filter(email__in=list(people)).values_list("pk", flat=True))
        for email, member in people.items():
            user = accounts.get(email)
            if user is not None and user.pk in holders:
                result.already += 1
                continue
            if user is not None:
                result.role_added += 1
                if not dry_run:
                    user.groups.add(role)
                    sync_staff_flag(user)
                    record(
                        action="staff_account.role_added",
                        subject=email,
                        actor=actor,
                        role=role.name,
                        staff_mis_id=member.mis_id,
                    )
                continue
            result.created += 1
            if dry_run:
                continue
            user = User.objects.create_user(
                email, first_name=member.forename, last_name=member.surname
            )
            user.groups.add(role)
            sync_staff_flag(user)
            record(
                action="staff_account.created",
                subject=email,
                actor=actor,
                role=role.name,
                staff_mis_id=member.mis_id,
            )
            queue_invitation(user=user, actor=actor)
            result.invited += 1
    return result
