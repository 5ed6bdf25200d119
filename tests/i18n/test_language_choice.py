"""Which language a page is in: the browser's, the switcher's, or the person's saved choice."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from schoolgate.accounts.models import User

WELSH = {"HTTP_ACCEPT_LANGUAGE": "cy"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.text).group(1)


@pytest.fixture
def parent(db):
    return User.objects.create_user("rhiant@example.org", "a-long-password-1")


def test_page_is_in_welsh_when_the_browser_asks_for_welsh(client):
    response = client.get(reverse("accounts:sign-in"), **WELSH)

    assert response.status_code == 200
    assert "<h1" in response.text and "Mewngofnodi" in response.text
    assert "Neidio i'r prif gynnwys" in response.text
    assert "Skip to main content" not in response.text
    assert html_lang(response) == "cy"
    assert response["Content-Language"] == "cy"


def test_page_is_in_english_when_the_browser_asks_for_english(client):
    response = client.get(reverse("accounts:sign-in"), **ENGLISH)

    assert "Skip to main content" in response.text
    assert "Mewngofnodi" not in response.text
    assert html_lang(response) == "en-gb"
    assert response["Content-Language"] == "en-gb"


def test_a_browser_asking_for_neither_gets_english(client):
    response = client.get(reverse("accounts:sign-in"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr")

    assert html_lang(response) == settings.LANGUAGE_CODE == "en-gb"


def test_every_page_has_a_switcher_that_works_without_javascript(client):
    response = client.get(reverse("accounts:sign-in") + "?next=/parents/", **ENGLISH)

    nav = re.search(r'<nav class="govuk-language-navigation.*?</nav>', response.text, re.S)
    assert nav, "no language navigation"
    form = re.search(r'<form method="post" action="([^"]+)"', nav.group(0))
    assert form.group(1) == reverse("set_language") == "/i18n/setlang/"
    assert 'name="csrfmiddlewaretoken"' in nav.group(0)
    assert '<input type="hidden" name="next" value="/accounts/sign-in/?next=/parents/">' in (
        nav.group(0)
    )
    # The other language is a button named in itself; this one is marked as current.
    assert re.search(
        r'<button type="submit" name="language" value="cy" lang="cy"[^>]*>Cymraeg<', nav.group(0)
    )
    assert '<span aria-current="true" lang="en-gb">English</span>' in nav.group(0)

    welsh = client.get(reverse("accounts:sign-in"), **WELSH).text
    assert re.search(
        r'<button type="submit" name="language" value="en-gb" lang="en-gb"[^>]*>English<', welsh
    )
    assert '<span aria-current="true" lang="cy">Cymraeg</span>' in welsh
    assert 'aria-label="Iaith"' in welsh


def test_a_visitor_switching_gets_the_language_from_a_cookie(client):
    response = client.post(
        reverse("set_language"), {"language": "cy", "next": "/accounts/sign-in/"}, **ENGLISH
    )

    assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "cy"
    page = client.get(reverse("accounts:sign-in"), **ENGLISH)
    assert html_lang(page) == "cy" and "Mewngofnodi" in page.text


def test_the_saved_choice_wins_over_the_browser_and_the_cookie(client, parent):
    parent.language = "cy"
    parent.save()
    client.force_login(parent)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en-gb"

    response = client.get(reverse("accounts:change-password"), **ENGLISH)

    assert html_lang(response) == "cy"
    assert "Eich cyfrinair a diogelwch" in response.text
    # ...and the cookie follows, so the pages stay Welsh after signing out here.
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "cy"


def test_no_saved_choice_leaves_the_browser_to_decide(client, parent):
    client.force_login(parent)

    response = client.get(reverse("accounts:change-password"), **WELSH)

    assert html_lang(response) == "cy"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_switching_when_signed_in_saves_the_choice(client, parent):
    client.force_login(parent)

    response = client.post(
        reverse("set_language"), {"language": "cy", "next": "/accounts/change-password/"}
    )

    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.language == "cy"
    # It now wins on another device whose browser asks for English.
    other = client_for(parent)
    assert html_lang(other.get(reverse("accounts:change-password"), **ENGLISH)) == "cy"

    client.post(reverse("set_language"), {"language": "en-gb", "next": "/"})
    parent.refresh_from_db()
    assert parent.language == "en-gb"
    page = client.get(reverse("accounts:change-password"), **WELSH)
    assert html_lang(page) == "en-gb"


def test_a_language_we_do_not_offer_is_not_saved(client, parent):
    parent.language = "cy"
    parent.save()
    client.force_login(parent)

    client.post(reverse("set_language"), {"language": "fr", "next": "/"})

    parent.refresh_from_db()
    assert parent.language == "cy"


def test_the_switch_is_post_only(client):
    assert client.get(reverse("set_language") + "?language=cy").status_code == 405


def test_the_switch_never_redirects_off_the_site(client):
    response = client.post(
        reverse("set_language"), {"language": "cy", "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def client_for(user):
    from django.test import Client

    other = Client()
    other.force_login(user)
    return other
