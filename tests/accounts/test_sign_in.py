"""Sign-in, sign-out, sessions that expire and are cycled, and sign out everywhere."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from schoolgate.accounts.models import SignedInSession, User

SIGN_IN = reverse("accounts:sign-in")
PASSWORD = "correct horse battery staple"


def person(email="jo.bloggs@example.org", **fields) -> User:
    return User.objects.create_user(email, PASSWORD, **fields)


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": email, "password": password, **extra})


def test_sign_in_page_is_accessible_and_offers_forgotten_password(client):
    page = client.get(SIGN_IN).content.decode()

    assert page.count("<h1") == 1
    assert '<label class="govuk-label govuk-label--s" for="id_username">Email address' in page
    assert 'for="id_password"' in page
    assert 'autocomplete="current-password"' in page
    assert reverse("accounts:forgot-password") in page


def test_signing_in_with_the_email_in_any_case_works_and_cycles_the_session(client):
    jo = person()
    client.get(SIGN_IN)
    client.session.save()
    before = client.session.session_key

    response = sign_in(client, "  Jo.Bloggs@EXAMPLE.org ")

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(jo.pk)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()
    assert SignedInSession.objects.filter(user=jo, session_key=client.session.session_key).exists()


def test_wrong_password_unknown_email_and_deactivated_account_get_one_same_answer(client):
    person()
    person("gone@example.org", is_active=False)

    answers = [
        sign_in(client, "jo.bloggs@example.org", "not the password"),
        sign_in(client, "nobody@example.org", PASSWORD),
        sign_in(client, "gone@example.org", PASSWORD),
    ]

    for response in answers:
        page = response.content.decode()
        assert response.status_code == 200
        assert "govuk-error-summary" in page
        assert "Enter a correct email address and password." in page
        assert "_auth_user_id" not in client.session
    # Beyond the email echoed back into the form, the three pages are the same.
    pages = [
        r.content.decode()
        .replace("jo.bloggs@example.org", "X")
        .replace("nobody@example.org", "X")
        .replace("gone@example.org", "X")
        for r in answers
    ]
    strip = [_without_csrf(page) for page in pages]
    assert strip[0] == strip[1] == strip[2]


def _without_csrf(page: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_deactivated_user_cannot_sign_in_even_with_the_right_password(client):
    person(is_active=False)

    sign_in(client, "jo.bloggs@example.org")

    assert "_auth_user_id" not in client.session


def test_sign_in_goes_to_next_on_this_site_but_never_elsewhere(client):
    person()

    inside = sign_in(client, "jo.bloggs@example.org", next="/accounts/change-password/")
    client.post(reverse("accounts:sign-out"))
    outside = sign_in(client, "jo.bloggs@example.org", next="https://evil.example/")

    assert inside.url == "/accounts/change-password/"
    assert outside.url == reverse("home")


def test_sign_out_takes_a_post_and_ends_the_session(client):
    jo = person()
    sign_in(client, "jo.bloggs@example.org")
    key = client.session.session_key

    assert client.get(reverse("accounts:sign-out")).status_code == 405
    response = client.post(reverse("accounts:sign-out"))

    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert not Session.objects.filter(session_key=key).exists()
    assert not SignedInSession.objects.filter(user=jo).exists()
    assert client.get(reverse("accounts:change-password")).status_code == 302


def test_session_expires_after_session_hours(client):
    person()

    response = sign_in(client, "jo.bloggs@example.org")

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert 12 * 3600 - 60 < int(cookie["max-age"]) <= 12 * 3600  # a fixed end, from sign-in
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert 12 * 3600 - 60 < client.session.get_expiry_age() <= 12 * 3600


def test_an_expired_session_is_signed_out(client):
    jo = person()
    client.force_login(jo)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date="2000-01-01T00:00:00Z"
    )

    response = client.get(reverse("accounts:change-password"))

    assert response.status_code == 302
    assert response.url.startswith(SIGN_IN)


def test_sign_out_everywhere_ends_every_session_of_that_person_only(client):
    jo = person()
    other = person("other@example.org")
    phone, laptop, someone_else = Client(), Client(), Client()
    for browser in (phone, laptop):
        sign_in(browser, "jo.bloggs@example.org")
    sign_in(someone_else, "other@example.org")
    assert jo.signed_in_sessions.count() == 2

    response = phone.post(reverse("accounts:sign-out-everywhere"))

    assert response.status_code == 302
    for browser in (phone, laptop):
        assert browser.get(reverse("accounts:change-password")).status_code == 302
    assert someone_else.get(reverse("accounts:change-password")).status_code == 200
    assert jo.signed_in_sessions.count() == 0
    assert other.signed_in_sessions.count() == 1


def test_your_account_is_in_the_navigation_once_signed_in(client):
    client.force_login(person())

    page = client.get(reverse("accounts:change-password")).content.decode()

    assert "Your account" in page
    assert page.count("<h1") == 1
