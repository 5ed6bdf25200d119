"""Optional TOTP for staff: enrolment with a QR code, a code after the password before
any page, codes that work once, lockout after wrong codes, and an admin reset.
Codes are computed here with pyotp from the stored secret, as a phone would."""

import re
import time

import pyotp
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from schoolgate.accounts import otp
from schoolgate.accounts.models import AuditEntry, TOTPDevice, User
from schoolgate.accounts.roles import ADMINISTRATORS, TEACHERS

PASSWORD = "correct horse battery staple"
SET_UP = reverse("accounts:two-factor-set-up")
VERIFY = reverse("accounts:two-factor")
DASHBOARD = reverse("teacher:evenings")  # the teacher's own staff page


@pytest.fixture(autouse=True)
def _quick_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def required(settings):
    settings.STAFF_REQUIRE_2FA = True


@pytest.fixture
def teacher():
    user = User.objects.create_user("tom@school.example", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=TEACHERS))
    return user


def sign_in(client, user):
    response = client.post(
        reverse("accounts:sign-in"), {"username": user.email, "password": PASSWORD}
    )
    assert "_auth_user_id" in client.session
    return response


def code_for(user, *, offset_steps=0, at=None) -> str:
    secret = TOTPDevice.objects.get(user=user).secret
    return pyotp.TOTP(secret).at((time.time() if at is None else at) + offset_steps * 30)


def enrol(client, user) -> float:
    """Set up the authenticator; returns the moment whose code was used."""
    client.get(SET_UP)
    moment = time.time()
    response = client.post(SET_UP, {"code": code_for(user, at=moment)})
    assert response.status_code == 302
    return moment


def test_staff_must_enrol_before_any_staff_page(client, required, teacher):
    sign_in(client, teacher)

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response.url == f"{SET_UP}?next=%2Fstaff%2Fmy-evenings%2F"
    page = client.get(response.url).content.decode()
    assert page.count("<h1") == 1
    assert '<svg role="img"' in page and "<title>QR code for your authenticator app" in page
    secret = TOTPDevice.objects.get(user=teacher).secret
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    assert 'autocomplete="one-time-code"' in page


def test_the_qr_code_carries_the_secret_for_this_site_and_breaks_no_csp(client, required, teacher):
    client.force_login(teacher)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=teacher)

    uri = otp.provisioning_uri(device, issuer="Schoolgate Demo Academy")
    svg = otp.qr_svg(uri)

    assert f"secret={device.secret}" in uri and "issuer=Schoolgate%20Demo%20Academy" in uri
    assert "style" not in svg and "<script" not in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_a_right_code_finishes_enrolment_and_opens_the_staff_area(client, required, teacher):
    sign_in(client, teacher)
    client.get(SET_UP)

    response = client.post(f"{SET_UP}?next=/staff/mis/", {"code": code_for(teacher)})

    assert response.status_code == 302
    assert response.url == "/staff/mis/"
    assert client.get(DASHBOARD).status_code == 200
    assert TOTPDevice.objects.get(user=teacher).confirmed_at is not None
    assert AuditEntry.objects.filter(action="two_factor.enrolled", subject=teacher.email).exists()


def test_a_wrong_code_is_refused_with_an_error_summary(client, required, teacher):
    sign_in(client, teacher)
    client.get(SET_UP)
    right = code_for(teacher)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post(SET_UP, {"code": wrong})
    letters = client.post(SET_UP, {"code": "12ab"})

    assert response.status_code == 200
    assert "govuk-error-summary" in response.content.decode()
    assert 'href="#id_code"' in response.content.decode()
    assert "Enter the 6 digits" in letters.content.decode()
    assert TOTPDevice.objects.get(user=teacher).confirmed_at is None
    assert client.get(DASHBOARD).status_code == 302


def test_after_enrolment_each_sign_in_asks_for_a_code(client, required, teacher):
    sign_in(client, teacher)
    enrolled_at = enrol(client, teacher)
    client.post(reverse("accounts:sign-out"))

    sign_in(client, teacher)
    blocked = client.get(DASHBOARD)
    assert blocked.status_code == 302
    assert blocked.url.startswith(VERIFY)
    assert client.get(blocked.url).content.decode().count("<h1") == 1
    # The code just used at enrolment cannot be used again; the next one can.
    used = code_for(teacher, at=enrolled_at)
    assert client.post(blocked.url, {"code": used}).status_code == 200
    response = client.post(blocked.url, {"code": code_for(teacher, at=enrolled_at + 30)})

    assert response.status_code == 302
    assert response.url == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200


def test_a_code_from_just_before_or_after_still_counts_but_not_further(client, required, teacher):
    client.force_login(teacher)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=teacher)
    totp = pyotp.TOTP(device.secret)
    now = time.time()

    assert not otp.verify(device, totp.at(now - 90), now=now)
    assert otp.verify(device, totp.at(now - 30), now=now)
    assert not otp.verify(device, totp.at(now - 30), now=now)  # used once already
    assert otp.verify(device, totp.at(now + 30), now=now)


def test_the_only_pages_open_before_the_code_are_the_code_pages_and_sign_out(
    client, required, teacher
):
    sign_in(client, teacher)
    enrol(client, teacher)
    client.post(reverse("accounts:sign-out"))
    sign_in(client, teacher)

    for url in (
        reverse("home"),
        reverse("accounts:change-password"),
        reverse("accounts:users"),
        DASHBOARD,
    ):
        assert client.get(url).url.startswith(VERIFY), url
    assert client.get(VERIFY).status_code == 200
    assert client.post(reverse("accounts:sign-out")).status_code == 302


def test_parents_are_not_asked_for_a_code(client, required):
    parent = User.objects.create_user("ann@example.org", PASSWORD)
    sign_in(client, parent)

    assert client.get(reverse("accounts:change-password")).status_code == 200


def test_when_not_required_staff_are_not_asked_unless_they_chose_it(client, teacher):
    sign_in(client, teacher)
    assert client.get(DASHBOARD).status_code == 200
    enrol(client, teacher)
    client.post(reverse("accounts:sign-out"))

    sign_in(client, teacher)

    assert client.get(DASHBOARD).url.startswith(VERIFY)


def test_too_many_wrong_codes_sign_out_and_lock_the_code(client, settings, required, teacher):
    sign_in(client, teacher)
    enrol(client, teacher)
    client.post(reverse("accounts:sign-out"))
    sign_in(client, teacher)
    wrong = f"{(int(code_for(teacher, offset_steps=1)) + 500_000) % 1_000_000:06d}"

    for _ in range(settings.LOCKOUT_FAILURES - 1):
        assert client.post(VERIFY, {"code": wrong}).status_code == 200
    locked = client.post(VERIFY, {"code": wrong})

    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Signing in again with the password does not reopen the guessing.
    again = Client()
    sign_in(again, teacher)
    assert again.post(VERIFY, {"code": code_for(teacher, offset_steps=1)}).status_code == 429
    assert AuditEntry.objects.filter(action="two_factor.locked").exists()


def test_an_admin_can_reset_a_lost_authenticator(client, required, teacher):
    phone = Client()
    sign_in(phone, teacher)
    enrol(phone, teacher)
    admin = User.objects.create_user("office@school.example", PASSWORD, is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(admin)
    client.get(SET_UP)
    client.post(SET_UP, {"code": code_for(admin)})
    user_page = reverse("accounts:user", args=[teacher.pk])
    assert "Reset two-factor authentication" in client.get(user_page).content.decode()

    client.post(reverse("accounts:user-reset-two-factor", args=[teacher.pk]))

    assert not TOTPDevice.objects.filter(user=teacher).exists()
    assert phone.get(DASHBOARD).status_code == 302  # their sessions ended
    fresh = Client()
    sign_in(fresh, teacher)
    assert fresh.get(DASHBOARD).url.startswith(SET_UP)
    assert AuditEntry.objects.filter(action="user.two_factor_reset", actor=admin).exists()


def test_the_set_up_page_shows_a_new_secret_for_each_person(client, required, teacher):
    other = User.objects.create_user("ria@school.example", PASSWORD, is_staff=True)
    for user in (teacher, other):
        client.force_login(user)
        client.get(SET_UP)

    secrets = set(TOTPDevice.objects.values_list("secret", flat=True))

    assert len(secrets) == 2
    assert all(re.fullmatch(r"[A-Z2-7]{32}", secret) for secret in secrets)
