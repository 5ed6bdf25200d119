"""Security headers on every page, HTTPS-only settings that follow SITE_URL, and pages
that keep to the CSP (no inline scripts or styles)."""

import re
import runpy
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

import schoolgate.settings
from schoolgate.accounts.models import User
from schoolgate.accounts.roles import ADMINISTRATORS

SETTINGS_FILE = Path(schoolgate.settings.__file__)


def load_settings(monkeypatch, tmp_path, **env) -> dict:
    """The settings module as a fresh process would read it with this environment."""
    for name in ("SITE_URL", "DEBUG", "SECURE_COOKIES", "HSTS_SECONDS", "TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCHOOLGATE_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.mark.parametrize(
    "url", [reverse("accounts:sign-in"), reverse("accounts:forgot-password"), "/nowhere/"]
)
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_https_site_url_turns_on_hsts_and_secure_cookies(monkeypatch, tmp_path):
    secure = load_settings(monkeypatch, tmp_path, SITE_URL="https://parents.school.example")

    assert secure["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert secure["SESSION_COOKIE_SECURE"] is True
    assert secure["CSRF_COOKIE_SECURE"] is True
    assert "SECURE_PROXY_SSL_HEADER" not in secure


def test_plain_http_site_url_leaves_them_off(monkeypatch, tmp_path):
    plain = load_settings(monkeypatch, tmp_path, SITE_URL="http://127.0.0.1:8000")

    assert plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SESSION_COOKIE_SECURE"] is False
    assert plain["CSRF_COOKIE_SECURE"] is False


def test_behind_a_trusted_proxy_its_https_header_is_believed(monkeypatch, tmp_path):
    proxied = load_settings(
        monkeypatch, tmp_path, SITE_URL="https://parents.school.example", TRUSTED_PROXIES="1"
    )

    assert proxied["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_hsts_header_is_sent_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000

    over_https = client.get(reverse("accounts:sign-in"), secure=True)
    over_http = client.get(reverse("accounts:sign-in"))

    assert over_https["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in over_http


def test_our_pages_have_no_inline_scripts_or_styles(client):
    admin = User.objects.create_user("office@school.example", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATORS))
    pages = [reverse("accounts:sign-in"), reverse("accounts:forgot-password")]
    anonymous = [client.get(url).content.decode() for url in pages]
    client.force_login(admin)
    staff = [
        client.get(url).content.decode()
        for url in (
            reverse("accounts:users"),
            reverse("accounts:user", args=[admin.pk]),
            reverse("accounts:roles"),
            reverse("accounts:role-create"),
            reverse("accounts:staff-accounts"),
            reverse("accounts:audit"),
            reverse("accounts:change-password"),
            reverse("accounts:two-factor-set-up"),
        )
    ]

    for page in anonymous + staff:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
        assert " style=" not in page
        assert "<style" not in page
        assert re.search(r"\son[a-z]+=", page) is None
