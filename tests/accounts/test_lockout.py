"""Lockout after repeated failed sign-ins: per email and per address, not before the
limit, the same page whether or not the account exists, and an admin can unlock."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from schoolgate.accounts.lockout import client_ip
from schoolgate.accounts.models import AuditEntry, User

SIGN_IN = reverse("accounts:sign-in")
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _quick_hashing(settings):
    """Many sign-ins here: Argon2 (about 0.5 s a hash on a busy box) is not what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def attempt(client, email, password="wrong password", ip="10.0.0.1"):
    return client.post(SIGN_IN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def fail(client, email, times, ip="10.0.0.1"):
    """Fail `times` times; all but a last one that reaches the limit show the form again."""
    for n in range(1, times + 1):
        status = attempt(client, email, ip=ip).status_code
        assert status == (429 if n >= settings.AXES_FAILURE_LIMIT else 200)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_limit_is_five_by_default():
    assert settings.AXES_FAILURE_LIMIT == 5


def test_one_failure_short_of_the_limit_still_signs_in(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    fail(client, "jo@example.org", settings.AXES_FAILURE_LIMIT - 1)

    response = attempt(client, "jo@example.org", PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_after_the_limit_even_the_right_password_is_refused(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    fail(client, "jo@example.org", settings.AXES_FAILURE_LIMIT)

    response = attempt(client, "jo@example.org", PASSWORD)

    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many attempts to sign in" in page
    assert "Wait 15 minutes" in page
    assert page.count("<h1") == 1
    assert not signed_in(client)


def test_the_locked_page_is_the_same_whether_or_not_the_account_exists(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    fail(client, "jo@example.org", 5, ip="10.0.0.1")
    fail(client, "nobody@example.org", 5, ip="10.0.0.2")

    real = attempt(client, "jo@example.org", ip="10.0.0.1")
    fake = attempt(client, "nobody@example.org", ip="10.0.0.2")

    assert real.status_code == fake.status_code == 429
    assert _page(real) == _page(fake)
    assert "jo@example.org" not in real.content.decode()


def _page(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_failures_count_per_email_whatever_the_case_or_address(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    for n, email in enumerate(["jo@example.org", "JO@example.org", " Jo@Example.ORG"] * 2):
        if n == 5:
            break
        attempt(client, email, ip=f"10.0.1.{n}")

    response = attempt(client, "jo@example.org", PASSWORD, ip="10.0.2.1")

    assert response.status_code == 429


def test_failures_count_per_address_across_emails(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    for n in range(5):
        attempt(client, f"guess{n}@example.org", ip="10.9.9.9")

    from_there = attempt(Client(), "jo@example.org", PASSWORD, ip="10.9.9.9")
    from_elsewhere = attempt(client, "jo@example.org", PASSWORD, ip="10.0.0.7")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 302


def test_signing_in_to_ones_own_account_does_not_wipe_guesses_at_anothers(client):
    User.objects.create_user("victim@example.org", PASSWORD)
    User.objects.create_user("attacker@example.org", PASSWORD)
    attacker = Client()
    fail(attacker, "victim@example.org", 4, ip="10.5.5.5")

    attempt(attacker, "attacker@example.org", PASSWORD, ip="10.5.5.5")
    attacker.post(reverse("accounts:sign-out"))
    attempt(attacker, "victim@example.org", ip="10.6.6.6")

    assert attempt(client, "victim@example.org", PASSWORD, ip="10.7.7.7").status_code == 429


def test_a_successful_sign_in_clears_ones_own_failures(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    fail(client, "jo@example.org", 4)
    attempt(client, "jo@example.org", PASSWORD)
    client.post(reverse("accounts:sign-out"))

    fail(client, "jo@example.org", 4)

    assert attempt(client, "jo@example.org", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_lockout_time(client):
    User.objects.create_user("jo@example.org", PASSWORD)
    fail(client, "jo@example.org", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert attempt(client, "jo@example.org", PASSWORD).status_code == 302


def test_an_admin_can_see_and_lift_the_lock_from_the_user_page(client):
    jo = User.objects.create_user("jo@example.org", PASSWORD)
    admin = User.objects.create_superuser("admin@school.example", PASSWORD)
    fail(Client(), "jo@example.org", 5)
    client.force_login(admin)
    user_page = reverse("accounts:user", args=[jo.pk])
    assert "Locked after failed attempts" in client.get(user_page).content.decode()

    response = client.post(reverse("accounts:user-unlock", args=[jo.pk]))

    assert response.status_code == 302
    assert "Not locked" in client.get(user_page).content.decode()
    assert attempt(Client(), "jo@example.org", PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action="user.unlocked")
    assert entry.subject == "jo@example.org" and entry.actor == admin


def test_client_address_comes_from_trusted_proxies_only(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )

    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "192.0.2.1"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXIES = 2
    assert client_ip(request) == "6.6.6.6"
    settings.TRUSTED_PROXIES = 3  # fewer hops than proxies: the header is not trusted
    assert client_ip(request) == "192.0.2.1"
