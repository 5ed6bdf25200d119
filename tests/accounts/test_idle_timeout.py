"""Sessions end after a time without use (docs/accounts.md, Sessions): 2 hours for
staff, 12 for parents by default; using the service keeps a session going, up to
SESSION_HOURS from sign-in."""

import time

import pytest
from django.conf import settings
from django.urls import reverse

from schoolgate.accounts.models import SignedInSession, User
from schoolgate.accounts.sessions import LAST_SEEN

PAGE = reverse("accounts:change-password")  # any page for anyone signed in
HOUR = 3600


@pytest.fixture
def staff(client):
    user = User.objects.create_user("teacher@school.example", None, is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def parent(client):
    user = User.objects.create_user("parent@example.org", None)
    client.force_login(user)
    return user


def last_used(client, seconds_ago: float) -> None:
    session = client.session
    session[LAST_SEEN] = int(time.time() - seconds_ago)
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults():
    assert settings.STAFF_IDLE_HOURS == 2 and settings.PARENT_IDLE_HOURS == 12


def test_staff_are_signed_out_after_two_idle_hours(client, staff):
    assert client.get(PAGE).status_code == 200
    last_used(client, 2 * HOUR + 60)

    response = client.get(PAGE, follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("accounts:sign-in"))
    assert not signed_in(client)
    assert not SignedInSession.objects.filter(user=staff).exists()
    assert "You were signed out after 2 hours without using the service." in response.text


def test_staff_using_the_service_stay_signed_in(client, staff):
    client.get(PAGE)
    last_used(client, 2 * HOUR - 60)

    assert client.get(PAGE).status_code == 200
    assert signed_in(client)
    assert time.time() - client.session[LAST_SEEN] < 60  # the clock started again


def test_parents_are_kept_for_twelve_idle_hours(client, parent):
    client.get(PAGE)
    last_used(client, 3 * HOUR)
    assert client.get(PAGE).status_code == 200

    last_used(client, 12 * HOUR + 60)
    response = client.get(PAGE)

    assert response.status_code == 302 and not signed_in(client)


def test_the_limits_come_from_the_settings(client, parent, settings):
    settings.PARENT_IDLE_HOURS = 1
    client.get(PAGE)
    last_used(client, HOUR + 60)

    assert client.get(PAGE).status_code == 302


def test_a_session_still_ends_session_hours_after_sign_in_however_busy(client, parent):
    client.get(PAGE)
    expiry = client.session.get_expiry_date()

    assert abs(expiry.timestamp() - (time.time() + settings.SESSION_COOKIE_AGE)) < 60
    last_used(client, 120)  # the next request saves the time it was used
    client.get(PAGE)
    assert client.session.get_expiry_date() == expiry
