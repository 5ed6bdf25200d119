"""Every password flow: set a password from an invitation (once, until it expires, then
ask for a new link), forgotten password (no enumeration), reset, change."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks_db.models import DBTaskResult

from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.tokens import invitation_path, invitation_token
from schoolgate.accounts.users import send_password_reset
from schoolgate.outbox.models import OutboxMessage

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a much longer brand new passphrase"
FORGOT = reverse("accounts:forgot-password")


def invited(email="new.parent@example.org", **fields) -> User:
    user = User.objects.create_user(email, None, first_name="Nia", **fields)
    User.objects.filter(pk=user.pk).update(invited_at=timezone.now() - timedelta(days=1))
    user.refresh_from_db()
    return user


def uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def set_password(client, path, password=NEW_PASSWORD):
    """Open a set-password link and submit the form, as a browser would."""
    opened = client.get(path)
    if opened.status_code != 302:
        return opened
    return client.post(opened.url, {"new_password1": password, "new_password2": password})


def run_tasks():
    """Run the queued tasks in order, as the worker would (in this test's transaction:
    the real worker closes connections, which a test transaction cannot survive)."""
    for row in DBTaskResult.objects.order_by("enqueued_at", "pk"):
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])


def link_in(text: str) -> str:
    return re.search(r"https?://\S+", text).group(0).split("testserver", 1)[-1]


# Set password from an invitation


def test_invitation_link_sets_the_password_and_signs_in(client):
    nia = invited()

    opened = client.get(invitation_path(nia))
    # The token leaves the address bar (and so any Referer) before the form is shown.
    assert opened.status_code == 302
    form_page = client.get(opened.url).content.decode()
    assert "Set your password" in form_page
    assert "new.parent@example.org" in form_page
    assert form_page.count("<h1") == 1
    response = client.post(
        opened.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(nia.pk)
    nia.refresh_from_db()
    assert nia.check_password(NEW_PASSWORD)
    assert nia.last_login is not None
    assert AuditEntry.objects.filter(
        action="password.set_from_invitation", subject=nia.email
    ).exists()


def test_invitation_link_works_once(client):
    nia = invited()
    path = invitation_path(nia)
    set_password(client, path)
    client.post(reverse("accounts:sign-out"))

    again = Client().get(path)

    page = again.content.decode()
    assert again.status_code == 200
    assert "This link no longer works" in page
    assert reverse("accounts:new-link", args=[uid(nia)]) in page


def test_expired_invitation_link_offers_a_new_one(client, settings):
    nia = invited()
    days = settings.SCHOOLGATE["INVITATION_DAYS"]
    old = invitation_token._now() - timedelta(days=days, minutes=1)
    token = invitation_token._make_token_with_timestamp(
        nia, invitation_token._num_seconds(old), invitation_token.secret
    )
    fresh = invitation_token._now() - timedelta(days=days) + timedelta(minutes=5)
    fresh_token = invitation_token._make_token_with_timestamp(
        nia, invitation_token._num_seconds(fresh), invitation_token.secret
    )
    path = reverse("accounts:set-password", args=[uid(nia), token])

    page = client.get(path).content.decode()

    assert "This link no longer works" in page
    assert "Send me a new link" in page
    assert 'name="new_password1"' not in page
    still_valid = client.get(reverse("accounts:set-password", args=[uid(nia), fresh_token]))
    assert still_valid.status_code == 302


def test_weak_or_mismatched_password_is_refused_with_an_error_summary(client):
    nia = invited()
    opened = client.get(invitation_path(nia))

    response = client.post(opened.url, {"new_password1": "password", "new_password2": "x"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert 'href="#id_new_password2"' in page
    nia.refresh_from_db()
    assert not nia.has_usable_password()
    assert "_auth_user_id" not in client.session


def test_deactivated_account_cannot_use_its_invitation(client):
    nia = invited(is_active=False)

    response = set_password(client, invitation_path(nia))

    assert "This link no longer works" in response.content.decode()
    nia.refresh_from_db()
    assert not nia.has_usable_password()


def test_asking_for_a_new_link_answers_the_same_for_anyone_and_invites_only_real_accounts(
    client,
):
    nia = invited()
    signed_in_before = User.objects.create_user("been@example.org", PASSWORD)
    User.objects.filter(pk=signed_in_before.pk).update(last_login=timezone.now())
    uids = [uid(nia), uid(signed_in_before), urlsafe_base64_encode(b"999999"), "garbage"]

    responses = [client.post(reverse("accounts:new-link", args=[u])) for u in uids]

    assert {r.status_code for r in responses} == {302}
    assert {r.url for r in responses} == {reverse("accounts:new-link-sent")}
    assert DBTaskResult.objects.filter(task_path__endswith="send_new_link_if_account").count() == 4
    assert OutboxMessage.objects.count() == 0
    sent_page = client.get(reverse("accounts:new-link-sent"))
    assert "Check your email" in sent_page.content.decode()

    run_tasks()

    sent = dict(OutboxMessage.objects.values_list("to", "template"))
    assert sent == {"new.parent@example.org": "invitation", "been@example.org": "password_reset"}
    new_link = link_in(OutboxMessage.objects.get(to=nia.email).body_text)
    assert set_password(Client(), new_link).status_code == 302


def test_new_link_page_asks_for_nothing_but_a_button(client):
    nia = invited()
    set_password(Client(), invitation_path(nia))

    page = client.get(invitation_path(nia)).content.decode()

    form = re.search(r"<form[^>]*new-link.*?</form>", page, re.S).group(0)
    assert re.findall(r"<input[^>]*>", form) == [
        re.search(r'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>', form).group(0)
    ]
    assert "<button" in form
    assert client.get(reverse("accounts:new-link", args=[uid(nia)])).status_code == 405


# Forgotten password


def test_forgotten_password_answers_the_same_whether_or_not_the_account_exists(client):
    User.objects.create_user("jo@example.org", PASSWORD)

    known = client.post(FORGOT, {"email": "Jo@Example.org"})
    unknown = client.post(FORGOT, {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("accounts:forgot-password-sent")
    assert known.headers.keys() == unknown.headers.keys()
    # The same work either way: one background task, nothing else, during the request.
    tasks = DBTaskResult.objects.filter(task_path__endswith="send_reset_if_account")
    assert tasks.count() == 2
    assert OutboxMessage.objects.count() == 0
    page = client.get(known.url).content.decode()
    assert "If the address you entered belongs to an account" in page

    run_tasks()

    assert list(OutboxMessage.objects.values_list("to", "template")) == [
        ("jo@example.org", "password_reset")
    ]


@pytest.mark.django_db(transaction=True)  # real commits: the real worker, as in production
def test_the_real_worker_emails_only_the_real_account(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    client.post(FORGOT, {"email": "jo@example.org"})
    client.post(FORGOT, {"email": "nobody@example.org"})

    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)

    assert list(OutboxMessage.objects.values_list("to", flat=True)) == ["jo@example.org"]


def test_forgotten_password_for_a_deactivated_account_sends_nothing(client):
    User.objects.create_user("gone@example.org", PASSWORD, is_active=False)

    client.post(FORGOT, {"email": "gone@example.org"})
    run_tasks()

    assert not OutboxMessage.objects.exists()


def test_forgotten_password_sends_one_email_in_a_few_minutes_however_often_asked(client):
    User.objects.create_user("jo@example.org", PASSWORD)

    for _ in range(3):
        client.post(FORGOT, {"email": "jo@example.org"})
    run_tasks()

    assert OutboxMessage.objects.filter(to="jo@example.org").count() == 1


def test_forgotten_password_form_says_what_is_wrong_with_the_email(client):
    response = client.post(FORGOT, {"email": "jo@"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert 'href="#id_email"' in page
    assert not DBTaskResult.objects.exists()


def test_reset_email_link_sets_a_new_password_once_and_signs_in(client):
    jo = User.objects.create_user("jo@example.org", PASSWORD, first_name="Jo")
    message = send_password_reset(user=jo)
    assert "Jo" in message.body_text and message.body_html
    path = link_in(message.body_text)
    assert "/reset-password/" in path

    response = set_password(client, path)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(jo.pk)
    jo.refresh_from_db()
    assert jo.check_password(NEW_PASSWORD)
    reused = Client().get(path).content.decode()
    assert "This link no longer works" in reused
    assert reverse("accounts:forgot-password") in reused


def test_reset_link_expires(client, settings):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    old = default_token_generator._now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    token = default_token_generator._make_token_with_timestamp(
        jo, default_token_generator._num_seconds(old), default_token_generator.secret
    )

    page = client.get(reverse("accounts:reset-password", args=[uid(jo), token]))

    assert "This link no longer works" in page.content.decode()


def test_an_invitation_token_is_not_a_reset_token_or_the_other_way_round(client):
    nia = invited()
    invitation = invitation_token.make_token(nia)
    reset = default_token_generator.make_token(nia)

    as_reset = client.get(reverse("accounts:reset-password", args=[uid(nia), invitation]))
    as_invitation = client.get(reverse("accounts:set-password", args=[uid(nia), reset]))

    assert as_reset.status_code == as_invitation.status_code == 200


# Change password


def test_change_password_needs_the_old_one_and_signs_out_other_sessions(client):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    other = Client()
    other.force_login(jo)
    client.force_login(jo)
    page = reverse("accounts:change-password")

    wrong = client.post(
        page,
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "govuk-error-summary" in wrong.content.decode()
    right = client.post(
        page,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert right.status_code == 302
    jo.refresh_from_db()
    assert jo.check_password(NEW_PASSWORD)
    assert client.get(page).status_code == 200
    assert other.get(page).status_code == 302
    assert AuditEntry.objects.filter(action="password.changed", subject=jo.email).exists()


@pytest.mark.parametrize("name", ["accounts:change-password"])
def test_change_password_needs_signing_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))
