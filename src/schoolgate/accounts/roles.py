"""Roles: Django groups with a description. The built-in ones are kept up to date by
`ensure_builtin_roles`, run after every migrate so new permissions are picked up."""

from django.apps import apps as global_apps
from django.db.models import Q
from django.utils.translation import gettext_noop

from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, SEE_ATTENDANCE, TEACH

ADMINISTRATORS = "Administrators"
ORGANISERS = "Evening organisers"
TEACHERS = "Teachers"

# Stored in English like every group name; shown through gettext on the pages.
BUILTIN_ROLES = {
    ADMINISTRATORS: gettext_noop(
        "School office and data managers: every permission in Schoolgate, including users, "
        "roles, MIS data, add-ons and the email outbox."
    ),
    ORGANISERS: gettext_noop(
        "Senior leaders who set up parents' evenings, watch take-up and book for parents."
    ),
    TEACHERS: gettext_noop(
        "Teaching staff: their own parents' evening schedules. Staff accounts made from the "
        "MIS go here unless another role is chosen."
    ),
}
# The built-in roles' defaults (docs/permissions.md); Administrators have every capability.
ORGANISER_CAPABILITIES = (ORGANISE_EVENINGS, BOOK_FOR_PARENTS, SEE_ATTENDANCE, TEACH)
TEACHER_CAPABILITIES = (TEACH,)


def schoolgate_app_labels() -> list[str]:
    """The labels of our own apps (not Django's or third parties')."""
    return [
        config.label
        for config in global_apps.get_app_configs()
        if config.name.startswith("schoolgate.")
    ]


def ensure_builtin_roles(*, apps=global_apps) -> None:
    """Create the built-in roles if missing and give them their permissions (idempotent)."""
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        RoleProfile = apps.get_model("accounts", "RoleProfile")
    except LookupError:  # migrating backwards, before the roles table existed
        return
    # Labels from the real registry: a historical one (during migrate) has no module names.
    ours = Permission.objects.filter(
        content_type__app_label__in=schoolgate_app_labels()
    ).values_list("pk", flat=True)
    permissions = {
        ADMINISTRATORS: list(ours),
        ORGANISERS: _permission_ids(Permission, ORGANISER_CAPABILITIES),
        TEACHERS: _permission_ids(Permission, TEACHER_CAPABILITIES),
    }
    for name, description in BUILTIN_ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        RoleProfile.objects.update_or_create(
            group=group,
            defaults={"description": description, "built_in": True, "is_staff_role": True},
        )
        # Only ever add: a school may have given a built-in role more permissions.
        group.permissions.add(*permissions[name])


def _permission_ids(Permission, capabilities) -> list[int]:
    wanted = Q()
    for capability in capabilities:
        app_label, codename = capability.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(wanted).values_list("pk", flat=True))


def run_after_migrate(sender, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver: once for each of our apps, so the last sees every permission."""
    if sender.name.startswith("schoolgate."):
        ensure_builtin_roles(apps=apps)


def staff_role_ids() -> set[int]:
    from schoolgate.accounts.models import RoleProfile

    return set(RoleProfile.objects.filter(is_staff_role=True).values_list("group_id", flat=True))


def sync_staff_flag(user) -> bool:
    """Make `is_staff` follow the person's roles (superusers stay staff); True if changed."""
    is_staff = user.is_superuser or user.groups.filter(pk__in=staff_role_ids()).exists()
    if user.is_staff == is_staff:
        return False
    user.is_staff = is_staff
    user.save(update_fields=["is_staff"])
    return True
