"""The staff outbox pages: the list with its filter, a message, and retry now."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from schoolgate.accounts.models import AuditEntry, User
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.services import queue_email

LIST = reverse("outbox:list")


def staff(*codenames) -> User:
    user = User.objects.create_user(
        f"staff{User.objects.count()}@school.example", "x", is_staff=True
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def message(status="queued", to="jo@example.org", **fields) -> OutboxMessage:
    queued = queue_email(
        to=to, template="addons_test", context={"sender_description": "https://x.example/set/abc"}
    )
    OutboxMessage.objects.filter(pk=queued.pk).update(status=status, **fields)
    queued.refresh_from_db()
    return queued


@pytest.fixture
def viewer(client):
    user = staff("view_outboxmessage")
    client.force_login(user)
    return user


@pytest.mark.parametrize("is_staff", [False, True], ids=["parent", "teacher"])
def test_parents_and_plain_teachers_are_refused(client, is_staff):
    sent = message("sent")
    client.force_login(User.objects.create_user("someone@example.org", "x", is_staff=is_staff))

    assert client.get(LIST).status_code == 403
    assert client.get(reverse("outbox:detail", args=[sent.pk])).status_code == 403


def test_list_shows_each_message_and_filters_by_status(client, viewer):
    message("sent", to="sent@example.org")
    message("failed", to="failed@example.org", attempts=8, last_error="SMTPDataError: 554 no")
    message("queued", to="queued@example.org")

    page = client.get(LIST).content.decode()
    assert page.count("<h1") == 1
    assert "<caption" in page and 'scope="col"' in page
    for address in ("sent@", "failed@", "queued@"):
        assert address in page
    assert "SMTPDataError: 554 no" in page
    assert "Failed (1)" in page

    failed_only = client.get(LIST, {"status": "failed"}).content.decode()
    assert "failed@example.org" in failed_only
    assert "sent@example.org" not in failed_only
    assert 'aria-current="page">Failed (1)' in failed_only


def test_message_page_shows_the_text_with_links_hidden(client, viewer):
    shown = message("sent")

    page = client.get(reverse("outbox:detail", args=[shown.pk])).content.decode()

    assert "This is a test email" in page
    assert "https://x.example/… (link hidden)" in page
    assert "/set/abc" not in page
    assert "Retry now" not in page


def test_in_the_demo_the_message_is_readable_in_full_with_its_links(client, viewer, settings):
    settings.DEBUG = True
    shown = message("sent")

    page = client.get(reverse("outbox:detail", args=[shown.pk])).content.decode()

    assert '<a href="https://x.example/set/abc"' in page
    assert "(link hidden)" not in page
    assert "This is a demo (DEBUG is on)" in page


def test_the_console_prints_each_email_with_its_links_whole():
    import io

    from django.core.mail import EmailMultiAlternatives

    from schoolgate.outbox.console import EmailBackend

    link = "http://127.0.0.1:8101/accounts/set-password/" + "MTIz/" + "d" * 90 + "/"
    email = EmailMultiAlternatives(
        "Set your password",
        f"Hello Ann,\n\nOpen {link} to set it.\n",
        "s@x.example",
        ["a@x.example"],
    )
    email.attach_alternative(f"<p><a href='{link}'>Set it</a> – café</p>", "text/html")
    stream = io.StringIO()

    EmailBackend(stream=stream).send_messages([email])

    printed = stream.getvalue()
    assert f"Open {link} to set it." in printed  # no "=\n" soft line breaks
    assert "Subject: Set your password" in printed and "To: a@x.example" in printed


def test_the_dev_server_address_and_site_url_follow_the_port():
    from schoolgate.core.management.commands.dev import serve_address

    assert serve_address("8101") == "127.0.0.1:8101"
    assert serve_address("0.0.0.0:8101") == "0.0.0.0:8101"


def test_scripts_run_refuses_a_port_that_is_not_a_number():
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "run"
    done = subprocess.run([script, "80x"], capture_output=True, text=True, timeout=30)

    assert done.returncode == 2
    assert "the port must be a number from 1 to 65535, not '80x'" in done.stderr


def test_unknown_message_is_404(client, viewer):
    assert client.get(reverse("outbox:detail", args=[999999])).status_code == 404
    # Retrying needs its own capability, checked before any message is looked up.
    assert client.post(reverse("outbox:retry", args=[999999])).status_code == 403


def test_retry_now_requeues_a_failed_message_and_is_audited(
    client, django_capture_on_commit_callbacks
):
    user = staff("view_outboxmessage", "change_outboxmessage")
    client.force_login(user)
    # Written directly: queue_email would already have woken the sender in this transaction.
    failed = OutboxMessage.objects.create(
        to="jo@example.org",
        template="addons_test",
        subject="Hello",
        body_text="Hi",
        status="failed",
        attempts=8,
        last_error="gave up",
    )
    detail = reverse("outbox:detail", args=[failed.pk])
    assert "Retry now" in client.get(detail).content.decode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("outbox:retry", args=[failed.pk]))

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == OutboxMessage.Status.QUEUED
    assert failed.attempts == 0
    assert len(callbacks) == 1
    assert AuditEntry.objects.filter(action="outbox.retry", actor=user).exists()


def test_retry_needs_the_change_permission_and_a_failed_message(client, viewer):
    failed = message("failed")
    assert client.post(reverse("outbox:retry", args=[failed.pk])).status_code == 403

    client.force_login(staff("view_outboxmessage", "change_outboxmessage"))
    sent = message("sent")
    client.post(reverse("outbox:retry", args=[sent.pk]))
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.SENT


def test_navigation_shows_the_outbox_only_with_the_permission(client, viewer):
    assert f'href="{LIST}"' in client.get(LIST).content.decode()

    client.force_login(staff())
    assert f'href="{LIST}"' not in client.get(reverse("mis:dashboard")).content.decode()
