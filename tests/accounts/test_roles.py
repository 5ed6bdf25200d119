"""Roles: the built-in ones after migrate, their permissions, and "Create New Role"
(a role with no permissions, for parents)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from schoolgate.accounts.models import AuditEntry, RoleProfile, User
from schoolgate.accounts.roles import (
    ADMINISTRATORS,
    ORGANISERS,
    TEACHERS,
    ensure_builtin_roles,
    schoolgate_app_labels,
)
from schoolgate.accounts.users import create_role

ROLES = reverse("accounts:roles")
CREATE = reverse("accounts:role-create")


@pytest.fixture
def admin(client):
    user = User.objects.create_user("office@school.example", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(user)
    return user


def test_builtin_roles_exist_after_migrate_as_staff_roles():
    for name in (ADMINISTRATORS, ORGANISERS, TEACHERS):
        profile = RoleProfile.objects.get(group__name=name)
        assert profile.built_in and profile.is_staff_role
        assert profile.description


def test_administrators_hold_every_permission_of_every_schoolgate_app():
    labels = schoolgate_app_labels()
    ours = set(Permission.objects.filter(content_type__app_label__in=labels))
    held = set(Group.objects.get(name=ADMINISTRATORS).permissions.all())

    assert {"accounts", "mis", "addons", "outbox"} <= set(labels)
    assert ours and ours <= held
    assert {p.content_type.app_label for p in held} >= {"accounts", "mis", "addons", "outbox"}
    for codename in ("manage_users", "view_audit", "change_addonsettings", "view_outboxmessage"):
        assert any(p.codename == codename for p in held), codename
    # Nothing of Django's own or third parties' apps.
    assert not any(p.content_type.app_label in {"sessions", "axes"} for p in held)


def test_ensure_builtin_roles_is_idempotent_and_picks_up_new_permissions():
    admins = Group.objects.get(name=ADMINISTRATORS)
    teachers = Group.objects.get(name=TEACHERS)
    extra = Permission.objects.create(
        codename="print_schedule",
        name="Print a schedule",
        content_type=ContentType.objects.get(app_label="mis", model="staff"),
    )
    # A school gave Teachers something more: a later migrate must not take it away.
    teachers.permissions.add(extra)
    groups_before = Group.objects.count()

    ensure_builtin_roles()
    ensure_builtin_roles()

    assert Group.objects.count() == groups_before
    assert RoleProfile.objects.filter(built_in=True).count() == 3
    assert extra in admins.permissions.all()
    assert extra in teachers.permissions.all()


def test_built_in_roles_get_their_declared_capabilities_and_nothing_else():
    evening, _ = ContentType.objects.get_or_create(app_label="evenings", model="evening")
    Permission.objects.get_or_create(
        codename="change_evening", content_type=evening, defaults={"name": "Can change evening"}
    )

    ensure_builtin_roles()

    def held(role):
        return {
            f"{app}.{codename}"
            for app, codename in Group.objects.get(name=role).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }

    assert held(ORGANISERS) == {
        "evenings.organise_evenings",
        "evenings.book_for_parents",
        "evenings.view_attendance",
        "evenings.teach",
    }
    assert held(TEACHERS) == {"evenings.teach"}
    assert {"mis.run_sync", "mis.view_mis_data", "accounts.manage_users"} <= held(ADMINISTRATORS)


def test_roles_page_lists_each_role_with_description_and_member_count(client, admin):
    page = client.get(ROLES).content.decode()

    assert page.count("<h1") == 1
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "Create New Role" in page
    for name in (ADMINISTRATORS, ORGANISERS, TEACHERS):
        assert name in page
    counts = {role.name: role.members for role in client.get(ROLES).context["roles"]}
    assert counts[ADMINISTRATORS] == 1 and counts[TEACHERS] == 0


def test_create_new_role_explains_and_makes_a_role_with_no_permissions(client, admin):
    form = client.get(CREATE).content.decode()
    assert "A new role has no permissions" in form

    response = client.post(
        CREATE,
        {"title": "  MIS   Parent ", "description": "Accounts generated for the Add-on tools."},
    )

    group = Group.objects.get(name="MIS Parent")
    assert response.status_code == 302
    assert response.url == reverse("accounts:role", args=[group.pk])
    assert not group.permissions.exists()
    assert group.profile.description == "Accounts generated for the Add-on tools."
    assert not group.profile.is_staff_role and not group.profile.built_in
    entry = AuditEntry.objects.get(action="role.created")
    assert entry.actor == admin and entry.subject == "MIS Parent"


def test_a_member_of_a_new_role_gets_no_staff_access_and_no_permissions(client, admin):
    group = create_role(title="MIS Parent", actor=admin)
    parent = User.objects.create_user("ann@example.org")
    client.post(reverse("accounts:user-roles", args=[parent.pk]), {"roles": [group.pk]})
    parent = User.objects.get(pk=parent.pk)

    assert not parent.is_staff
    assert parent.get_all_permissions() == set()
    client.force_login(parent)
    for url in (ROLES, reverse("mis:dashboard"), reverse("addons:settings")):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(
    "title, message",
    [("", "This field is required."), ("teachers", "A role called “teachers” already exists.")],
)
def test_a_role_needs_a_title_of_its_own(client, admin, title, message):
    groups = Group.objects.count()

    response = client.post(CREATE, {"title": title, "description": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert message in page.replace("&#x27;", "'")
    assert Group.objects.count() == groups


def test_create_role_service_refuses_a_blank_title():
    with pytest.raises(ValidationError) as error:
        create_role(title="   ")

    assert "Enter a title" in str(error.value)


def test_role_page_lists_its_members(client, admin):
    group = create_role(title="MIS Parent")
    ann = User.objects.create_user("ann@example.org", first_name="Ann", last_name="Ash")
    ann.groups.add(group)

    page = client.get(reverse("accounts:role", args=[group.pk])).content.decode()

    assert page.count("<h1") == 1
    assert "Ann Ash" in page and "ann@example.org" in page
    assert "1 member" in page
    assert "This role holds 0 permissions." in page
    assert "Members have no access to the staff area." in page


def test_a_group_made_without_the_user_manager_still_shows(client, admin):
    Group.objects.create(name="Old group")

    assert "Old group" in client.get(ROLES).content.decode()
    group = Group.objects.get(name="Old group")
    assert client.get(reverse("accounts:role", args=[group.pk])).status_code == 200
