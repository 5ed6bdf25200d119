"""The User Manager: who may use it, the user list (search, filters, linked pupils, a
fixed number of queries), the per-user actions, and the audit log."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from schoolgate.accounts.access import pupils_visible_to
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.roles import ADMINISTRATORS, TEACHERS
from schoolgate.outbox.models import OutboxMessage

PASSWORD = "correct horse battery staple"
USERS = reverse("accounts:users")


@pytest.fixture(autouse=True)
def _quick_hashing(settings):
    """Dozens of accounts here: Argon2 is not what is tested (test_sign_in keeps it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin(client):
    """A member of the built-in Administrators role, signed in."""
    user = User.objects.create_user("office@school.example", PASSWORD, first_name="Olive")
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    client.force_login(user)
    return user


def staff_pages(user_id: int, role_id: int) -> list[tuple[str, str]]:
    """(method, url) of every page this feature adds to the staff area."""
    per_user = [
        "accounts:user-roles",
        "accounts:user-deactivate",
        "accounts:user-reactivate",
        "accounts:user-password-reset",
        "accounts:user-sign-out-everywhere",
        "accounts:user-unlock",
        "accounts:user-reset-two-factor",
    ]
    return [
        ("get", USERS),
        ("get", reverse("accounts:user", args=[user_id])),
        ("get", reverse("accounts:roles")),
        ("get", reverse("accounts:role-create")),
        ("post", reverse("accounts:role-create")),
        ("get", reverse("accounts:role", args=[role_id])),
        ("get", reverse("accounts:staff-accounts")),
        ("post", reverse("accounts:staff-accounts")),
        ("get", reverse("accounts:audit")),
    ] + [("post", reverse(name, args=[user_id])) for name in per_user]


# Who may use it


def test_a_parent_gets_403_on_every_staff_page(client, school, parent_role, parent_for):
    ann = parent_for(school.contacts["ann"])
    ann.groups.add(parent_role)
    client.force_login(ann)

    for method, url in staff_pages(school.teacher.pk, parent_role.pk):
        assert getattr(client, method)(url).status_code == 403, url
    assert User.objects.filter(is_active=False).count() == 0
    assert not Group.objects.filter(name="").exists()


def test_a_teacher_without_the_permission_gets_403_too(client, school):
    school.teacher.groups.add(Group.objects.get(name=TEACHERS))
    client.force_login(school.teacher)

    for method, url in staff_pages(school.admin.pk, Group.objects.first().pk):
        assert getattr(client, method)(url).status_code == 403, url


def test_someone_signed_out_is_sent_to_sign_in(client):
    response = client.get(USERS)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))


def test_unknown_user_and_role_ids_are_404(client, admin):
    for method, url in staff_pages(999999, 999999):
        if "999999" in url:
            assert getattr(client, method)(url).status_code == 404, url


def test_user_manager_is_in_the_navigation_only_for_those_who_may_use_it(client, admin, school):
    assert f'href="{USERS}"' in client.get(reverse("mis:dashboard")).content.decode()

    client.force_login(school.teacher)

    assert f'href="{USERS}"' not in client.get(reverse("mis:dashboard")).content.decode()


# The list


def test_list_shows_name_email_roles_pupils_status_and_active(client, admin, school, parent_for):
    ann = parent_for(school.contacts["ann"])
    User.objects.filter(pk=ann.pk).update(
        first_name="Ann", last_name="Ash", invited_at=timezone.now()
    )
    gone = User.objects.create_user("gone@example.org", is_active=False)

    page = client.get(USERS).content.decode()

    assert page.count("<h1") == 1
    assert "<caption" in page and 'scope="col"' in page
    assert "Ann Ash" in page and "ann.ash@example.org" in page
    assert "Invited" in page and "not signed in yet" in page
    assert ADMINISTRATORS in page
    assert "Deactivated" in page
    assert reverse("accounts:user", args=[gone.pk]) in page


def test_linked_pupils_are_the_ones_each_person_may_see(client, admin, school, parent_for):
    people = [parent_for(school.contacts[key]) for key in ("ann", "colin", "fred", "don", "gary")]
    # A deactivated account sees no one, whatever the MIS says.
    people.append(parent_for(school.contacts["gina"]))
    User.objects.filter(pk=people[-1].pk).update(is_active=False)

    response = client.get(USERS)

    rows = {row["user"].email: row["pupils"] for row in response.context["rows"]}
    for person in people:
        person.refresh_from_db()
        assert rows[person.email] == pupils_visible_to(person).count(), person.email
    assert rows["ann.ash@example.org"] == 2
    assert rows["fox.family@example.org"] == 1  # one household's address: Fay


def test_search_by_name_email_or_role(client, admin, school, parent_role, parent_for):
    ann = parent_for(school.contacts["ann"])
    ann.groups.add(parent_role)
    User.objects.filter(pk=ann.pk).update(first_name="Ann", last_name="Ash")

    def found(**params):
        return {row["user"].email for row in client.get(USERS, params).context["rows"]}

    assert found(q="ash") == {"ann.ash@example.org"}
    assert found(q="ANN ASH") == {"ann.ash@example.org"}
    assert found(q="school.example") == {"office@school.example", *_staff_emails()}
    assert found(q="mis parent") == {"ann.ash@example.org"}
    assert found(q="nobody at all") == set()


def _staff_emails():
    return {"admin@school.example", "tom.teach@school.example"}


def test_filters_by_role_status_and_active(client, admin, school, parent_role, parent_for):
    ann = parent_for(school.contacts["ann"])
    al = parent_for(school.contacts["al"])
    cara = parent_for(school.contacts["cara"])
    ann.groups.add(parent_role)
    User.objects.filter(pk=ann.pk).update(invited_at=timezone.now())
    User.objects.filter(pk=al.pk).update(invited_at=timezone.now(), last_login=timezone.now())
    User.objects.filter(pk=cara.pk).update(is_active=False)

    def found(**params):
        response = client.get(USERS, params)
        assert response.status_code == 200
        return {row["user"].email for row in response.context["rows"]}

    assert found(role=parent_role.pk) == {ann.email}
    assert found(status="invited") == {ann.email}
    assert found(status="signed_in") == {al.email, admin.email}
    assert ann.email in found(status="never") and al.email not in found(status="never")
    assert found(active="no") == {cara.email}
    assert cara.email not in found(active="yes")
    # A bad filter value is ignored rather than failing.
    assert len(found(status="bogus", role="x")) == User.objects.count()


def test_the_list_is_paginated_and_keeps_the_filters(client, admin):
    for n in range(55):
        User.objects.create_user(f"parent{n:02}@example.org")

    first = client.get(USERS, {"q": "parent"})
    second = client.get(USERS, {"q": "parent", "page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert "q=parent&amp;page=2" in first.content.decode()


def test_the_list_takes_the_same_number_of_queries_for_5_or_50_users(
    client, admin, school, parent_role, parent_for
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(USERS).status_code == 200
        return len(captured)

    for key in ("ann", "al"):
        parent_for(school.contacts[key]).groups.add(parent_role)
    few = queries()
    for n in range(45):
        user = User.objects.create_user(f"p{n}@example.org")
        user.groups.add(parent_role)
    many = queries()

    assert few == many


# One user


def test_user_page_shows_the_person_and_their_roles_as_checkboxes(client, admin, school):
    page = client.get(reverse("accounts:user", args=[school.teacher.pk])).content.decode()

    assert page.count("<h1") == 1
    assert "tom.teach@school.example" in page
    assert 'type="checkbox"' in page and 'name="roles"' in page
    assert "Send password reset" in page and "Deactivate" in page


def test_assigning_and_removing_roles_sets_staff_access_and_is_audited(
    client, admin, school, parent_role, parent_for
):
    ann = parent_for(school.contacts["ann"])
    teachers = Group.objects.get(name=TEACHERS)
    url = reverse("accounts:user-roles", args=[ann.pk])

    client.post(url, {"roles": [parent_role.pk, teachers.pk], "reason": "also teaches here"})
    ann.refresh_from_db()
    assert set(ann.groups.all()) == {parent_role, teachers}
    assert ann.is_staff
    client.post(url, {"roles": [parent_role.pk]})
    ann.refresh_from_db()

    assert set(ann.groups.all()) == {parent_role}
    assert not ann.is_staff
    first, second = AuditEntry.objects.filter(action="user.roles_changed").order_by("pk")
    assert first.actor == admin and first.subject == ann.email
    assert first.reason == "also teaches here"
    assert sorted(first.detail["added"]) == sorted([parent_role.name, TEACHERS])
    assert second.detail["removed"] == [TEACHERS]


def test_an_unknown_role_id_is_an_error_that_changes_nothing(client, admin, school):
    response = client.post(
        reverse("accounts:user-roles", args=[school.teacher.pk]), {"roles": ["999999"]}
    )

    assert response.status_code == 400
    assert "govuk-error-summary" in response.content.decode()
    assert not school.teacher.groups.exists()


def test_an_admin_cannot_take_away_their_own_user_management(client, admin):
    response = client.post(reverse("accounts:user-roles", args=[admin.pk]), {"roles": []})

    assert response.status_code == 400
    assert "You cannot remove your own permission to manage users." in response.content.decode()
    assert admin.groups.filter(name=ADMINISTRATORS).exists()


def test_a_deactivated_user_cannot_sign_in_and_their_sessions_end(client, admin):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    browser = Client()
    browser.post(reverse("accounts:sign-in"), {"username": jo.email, "password": PASSWORD})
    assert browser.get(reverse("accounts:change-password")).status_code == 200

    response = client.post(
        reverse("accounts:user-deactivate", args=[jo.pk]), {"account-reason": "left the school"}
    )

    assert response.status_code == 302
    jo.refresh_from_db()
    assert not jo.is_active
    assert jo.signed_in_sessions.count() == 0
    assert browser.get(reverse("accounts:change-password")).status_code == 302
    again = Client()
    again.post(reverse("accounts:sign-in"), {"username": jo.email, "password": PASSWORD})
    assert "_auth_user_id" not in again.session
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert (entry.actor, entry.subject, entry.reason) == (admin, jo.email, "left the school")


def test_reactivating_lets_them_sign_in_again(client, admin):
    jo = User.objects.create_user("jo@example.org", PASSWORD, is_active=False)

    client.post(reverse("accounts:user-reactivate", args=[jo.pk]))

    again = Client()
    again.post(reverse("accounts:sign-in"), {"username": jo.email, "password": PASSWORD})
    assert "_auth_user_id" in again.session
    assert AuditEntry.objects.filter(action="user.reactivated", subject=jo.email).exists()


def test_an_admin_cannot_deactivate_themselves(client, admin):
    response = client.post(reverse("accounts:user-deactivate", args=[admin.pk]), follow=True)

    admin.refresh_from_db()
    assert admin.is_active
    assert "You cannot deactivate your own account." in response.content.decode()


def test_send_password_reset_queues_an_email_through_the_outbox(client, admin):
    jo = User.objects.create_user("jo@example.org", PASSWORD, first_name="Jo")

    response = client.post(reverse("accounts:user-password-reset", args=[jo.pk]), follow=True)

    message = OutboxMessage.objects.get()
    assert message.to == "jo@example.org"
    assert message.template == "password_reset"
    assert "/accounts/reset-password/" in message.body_text
    assert "is on its way to jo@example.org" in response.content.decode()
    entry = AuditEntry.objects.get(action="user.password_reset_sent")
    assert entry.actor == admin and entry.subject == jo.email


def test_no_password_reset_for_a_deactivated_account(client, admin):
    jo = User.objects.create_user("jo@example.org", PASSWORD, is_active=False)

    response = client.post(reverse("accounts:user-password-reset", args=[jo.pk]), follow=True)

    assert "reactivate the account first" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_an_admin_can_sign_someone_out_everywhere(client, admin):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.post(reverse("accounts:sign-in"), {"username": jo.email, "password": PASSWORD})

    client.post(reverse("accounts:user-sign-out-everywhere", args=[jo.pk]))

    for browser in browsers:
        assert browser.get(reverse("accounts:change-password")).status_code == 302
    entry = AuditEntry.objects.get(action="user.signed_out_everywhere")
    assert entry.detail["sessions_ended"] == 2


def test_actions_need_a_post(client, admin, school):
    url = reverse("accounts:user-deactivate", args=[school.teacher.pk])

    assert client.get(url).status_code == 405
    school.teacher.refresh_from_db()
    assert school.teacher.is_active


# The audit log


def test_audit_log_lists_entries_and_filters_by_email_and_action(client, admin):
    jo = User.objects.create_user("jo@example.org")
    client.post(reverse("accounts:user-deactivate", args=[jo.pk]), {"account-reason": "left"})
    client.post(reverse("accounts:user-reactivate", args=[jo.pk]))
    AuditEntry.objects.create(action="user.deactivated", subject="other@example.org")

    every = client.get(reverse("accounts:audit")).content.decode()
    by_email = client.get(reverse("accounts:audit"), {"subject": "jo@"}).context["page"]
    by_action = client.get(
        reverse("accounts:audit"), {"subject": "jo@", "action": "user.deactivated"}
    ).context["page"]

    assert every.count("<h1") == 1 and "<caption" in every
    assert "office@school.example" in every and "left" in every
    assert {entry.subject for entry in by_email} == {"jo@example.org"}
    assert [entry.action for entry in by_action] == ["user.deactivated"]


def test_audit_log_needs_its_own_permission(client):
    manager = User.objects.create_user("manager@school.example", is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="manage_users"))
    client.force_login(manager)

    assert client.get(USERS).status_code == 200
    assert client.get(reverse("accounts:audit")).status_code == 403
    manager.user_permissions.add(Permission.objects.get(codename="view_audit"))
    manager = User.objects.get(pk=manager.pk)
    client.force_login(manager)
    assert client.get(reverse("accounts:audit")).status_code == 200
