"""The add-on settings page: who may use it, what it saves and what it never shows."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from schoolgate.accounts.models import AuditEntry, RoleProfile, User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.services import UnfitParentRole, update_addon_settings
from schoolgate.core.secrets import decrypt
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.testing import SMTPServer, free_port, school_mail_at

URL = reverse("addons:settings")


@pytest.fixture
def office(client):
    user = User.objects.create_user("office@school.example", "x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_addonsettings"))
    client.force_login(user)
    return user


@pytest.fixture
def parent_role():
    return Group.objects.create(name="MIS Parent")


def form_data(**overrides) -> dict:
    data = {
        "school_name": "Oakfield Primary",
        "parent_group": "",
        "generation_mode": "all",
        "day_before_reminders": "on",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_use_tls": "on",
        "smtp_username": "",
        "smtp_password": "",
        "from_email": "",
        "action": "save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("is_staff", [False, True], ids=["parent", "teacher"])
def test_parents_and_plain_teachers_are_refused(client, is_staff):
    client.force_login(User.objects.create_user("someone@example.org", "x", is_staff=is_staff))

    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data()).status_code == 403
    assert get_addon_settings().school_name == ""


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:sign-in") in response["Location"]


def test_page_says_the_default_sender_is_used_when_school_mail_is_not_set_up(
    client, office, settings
):
    settings.DEFAULT_FROM_EMAIL = "no-reply@schoolgate.example"
    page = client.get(URL).content.decode()

    assert page.count("<h1") == 1
    assert "from the Schoolgate default sender no-reply@schoolgate.example" in page
    assert "because your school&#x27;s email is not set up" in page


def test_saving_settings_updates_them_audits_the_change_and_shows_the_school_sender(
    client, office, parent_role
):
    response = client.post(
        URL,
        form_data(
            parent_group=str(parent_role.pk),
            generation_mode="primary",
            one_day_only="on",
            auto_generate="on",
            smtp_host="smtp.school.example",
            smtp_username="office",
            smtp_password="s3cret-pass",
            from_email="office@school.example",
        ),
    )

    assert response.status_code == 302
    saved = get_addon_settings()
    assert saved.school_name == "Oakfield Primary"
    assert saved.parent_group == parent_role
    assert saved.generation_mode == "primary"
    assert saved.one_day_only and saved.auto_generate and saved.day_before_reminders
    # Stored encrypted, read back with decrypt (schoolgate.core.secrets).
    assert saved.smtp_password.startswith("fernet:") and "s3cret" not in saved.smtp_password
    assert decrypt(saved.smtp_password) == "s3cret-pass"
    entry = AuditEntry.objects.get(action="addons.settings_changed")
    assert entry.actor == office
    assert entry.detail["generation_mode"] == ["all", "primary"]
    assert entry.detail["parent_group"] == [None, "MIS Parent"]
    assert entry.detail["smtp_password"] == "changed"
    assert "s3cret-pass" not in str(entry.detail)

    page = client.get(URL).content.decode()
    assert "Emails to parents come from office@school.example through your school" in page


def test_the_password_is_never_shown_and_blank_keeps_it(client, office):
    client.post(
        URL,
        form_data(
            smtp_host="smtp.school.example",
            smtp_username="office",
            smtp_password="s3cret-pass",
            from_email="office@school.example",
        ),
    )

    page = client.get(URL).content.decode()
    assert "s3cret-pass" not in page
    assert "A password is saved" in page

    client.post(
        URL,
        form_data(
            school_name="Renamed",
            smtp_host="smtp.school.example",
            smtp_username="office",
            from_email="office@school.example",
        ),
    )
    saved = get_addon_settings()
    assert saved.school_name == "Renamed"
    # Stored encrypted, read back with decrypt (schoolgate.core.secrets).
    assert saved.smtp_password.startswith("fernet:") and "s3cret" not in saved.smtp_password
    assert decrypt(saved.smtp_password) == "s3cret-pass"


def test_the_saved_password_can_be_removed(client, office):
    school = get_addon_settings()
    school.smtp_host, school.from_email, school.smtp_password = "mail.example", "o@x.example", "pw"
    school.save()

    client.post(
        URL,
        form_data(smtp_host="mail.example", from_email="o@x.example", forget_password="on"),
    )

    assert get_addon_settings().smtp_password == ""
    entry = AuditEntry.objects.get(action="addons.settings_changed")
    assert entry.detail == {"school_name": ["", "Oakfield Primary"], "smtp_password": "removed"}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"smtp_host": "smtp.school.example"}, "from_email", "Enter the from address"),
        ({"from_email": "office@school.example"}, "smtp_host", "Enter your school&#x27;s SMTP"),
        ({"smtp_host": "smtp://mail:25", "from_email": "a@b.example"}, "smtp_host", "no port"),
        ({"smtp_port": "70000"}, "smtp_port", "less than or equal to 65535"),
        ({"from_email": "office@"}, "from_email", "valid email address"),
    ],
)
def test_bad_settings_say_what_and_where_and_change_nothing(
    client, office, overrides, field, message
):
    response = client.post(URL, form_data(**overrides))

    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert f'href="#id_{field}"' in page
    assert message in page
    assert get_addon_settings().school_name == ""
    assert not AuditEntry.objects.exists()


def test_a_role_with_permissions_cannot_hold_parents(client, office):
    office_staff = Group.objects.create(name="Office staff")
    office_staff.permissions.add(Permission.objects.get(codename="change_addonsettings"))

    response = client.post(URL, form_data(parent_group=str(office_staff.pk)))

    assert "Choose a role with no permissions" in response.content.decode()
    assert get_addon_settings().parent_group is None


def test_test_email_is_delivered_through_the_school_server(client, office, smtp_server):
    data = form_data(
        smtp_host=smtp_server.host,
        smtp_port=str(smtp_server.port),
        smtp_use_tls=None,
        from_email="office@school.example",
        action="test",
    )

    response = client.post(URL, data, follow=True)

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["office@school.example"]
    assert received.mail_from == "office@school.example"
    assert "through your school" in received.part("text/plain")
    assert "A test email was sent to office@school.example" in response.content.decode()
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def test_a_failing_test_email_says_why_and_is_not_retried_later(client, office):
    school_mail_at(SMTPServer(host="127.0.0.1", port=free_port()))
    school = get_addon_settings()

    response = client.post(
        URL,
        form_data(
            smtp_host=school.smtp_host,
            smtp_port=str(school.smtp_port),
            smtp_use_tls=None,
            from_email=school.from_email,
            action="test",
        ),
        follow=True,
    )

    html = response.content.decode()
    assert "could not be sent: Could not connect to 127.0.0.1:" in html
    assert "ConnectionRefusedError" not in html
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.FAILED


def test_a_new_mail_server_that_fails_its_test_is_not_saved(client, office, smtp_server):
    # The school sends through a server that works...
    school_mail_at(smtp_server)
    before = get_addon_settings()
    dead_port = free_port()

    # ...and someone types a server where nothing answers, then tests it.
    response = client.post(
        URL,
        form_data(
            smtp_host="127.0.0.1",
            smtp_port=str(dead_port),
            smtp_use_tls=None,
            from_email="new@school.example",
            school_name="Renamed School",
            action="test",
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in html
    assert f"Could not connect to 127.0.0.1:{dead_port}: nothing answered there." in html
    assert "Your previous email settings are kept." in html
    after = get_addon_settings()
    assert (after.smtp_host, after.smtp_port, after.from_email) == (
        before.smtp_host,
        before.smtp_port,
        before.from_email,
    )
    assert after.school_name == "Renamed School"  # what is not about mail is saved
    assert not OutboxMessage.objects.exists()  # nothing was sent or queued


def test_mail_errors_are_said_in_words():
    import smtplib
    import socket
    import ssl

    from schoolgate.addons.services import describe_mail_error

    def words(error):
        return describe_mail_error(error, host="mail.example", port=587)

    assert words(ConnectionRefusedError(111, "Connection refused")) == (
        "Could not connect to mail.example:587: nothing answered there."
    )
    assert words(smtplib.SMTPAuthenticationError(535, b"5.7.8 bad")) == (
        "mail.example:587 refused the user name or password."
    )
    assert words(ssl.SSLError("wrong version number")).startswith(
        "The secure connection (TLS) to mail.example:587 failed"
    )
    assert words(socket.gaierror(-2, "Name or service not known")) == (
        "There is no mail server called mail.example: check its name."
    )


def test_navigation_shows_add_ons_only_with_the_permission(client, office):
    assert f'href="{URL}"' in client.get(URL).content.decode()

    client.force_login(User.objects.create_user("teacher@school.example", "x", is_staff=True))
    assert f'href="{URL}"' not in client.get(reverse("mis:dashboard")).content.decode()


@pytest.mark.parametrize(
    ("role", "why"),
    [
        ("Teachers", "Teachers has permissions"),
        ("Reception desk", "Reception desk is a staff role"),
    ],
)
def test_a_staff_role_cannot_hold_parents_and_the_page_says_why(client, office, role, why):
    """Issue 11: "Teachers" could be saved as the parents' role. A staff role (built in,
    or made with "staff role" ticked and no permissions) is refused, saying why."""
    group, _created = Group.objects.get_or_create(name=role)
    RoleProfile.objects.update_or_create(group=group, defaults={"is_staff_role": True})

    page = client.get(URL).content.decode()
    response = client.post(URL, form_data(parent_group=str(group.pk)))

    assert f'value="{group.pk}"' not in page  # not offered
    assert response.status_code == 200
    assert why in response.content.decode()
    assert get_addon_settings().parent_group is None
    assert not AuditEntry.objects.exists()


def test_the_settings_service_refuses_a_staff_role_for_parents(office):
    teachers = Group.objects.get(name="Teachers")

    with pytest.raises(UnfitParentRole):
        update_addon_settings(changes={"parent_group": teachers}, actor=None)

    assert get_addon_settings().parent_group is None


def test_a_role_with_no_permissions_that_is_not_staff_can_hold_parents(client, office):
    group = Group.objects.create(name="MIS Parent")

    response = client.post(URL, form_data(parent_group=str(group.pk)))

    assert response.status_code == 302
    assert get_addon_settings().parent_group == group
