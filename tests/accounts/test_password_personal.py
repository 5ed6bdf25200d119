"""A password that is mostly the person's name or email is refused (docs/accounts.md,
Passwords): the issue's `iqbal.claire` for iqbal.claire@…, through the real form."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from schoolgate.accounts.models import User
from schoolgate.accounts.tokens import invitation_token


@pytest.fixture
def claire():
    return User.objects.create_user(
        "iqbal.claire@example.org", None, first_name="Claire", last_name="Iqbal"
    )


@pytest.mark.parametrize(
    "password",
    [
        "iqbal.claire",
        "IQBAL-CLAIRE",
        "iqbalclaire1",
        "claire.iqbal",
        "Claire Iqbal!",
        "claire2024",
        "iqbal.clare",  # one letter off the email's local part
    ],
)
def test_passwords_made_of_the_name_or_email_are_refused(claire, password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=claire)

    assert "too like your name or email address" in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "claire rides the number 9 bus to town"]
)
def test_a_long_passphrase_is_accepted_even_with_a_name_in_it(claire, password):
    validate_password(password, user=claire)


def test_the_set_password_page_refuses_the_email_as_password_and_keeps_the_old_state(
    client, claire
):
    uid = urlsafe_base64_encode(force_bytes(claire.pk))
    opened = client.get(
        reverse("accounts:set-password", args=[uid, invitation_token.make_token(claire)])
    )

    response = client.post(
        opened["Location"], {"new_password1": "iqbal.claire", "new_password2": "iqbal.claire"}
    )

    assert response.status_code == 200
    assert "Your password is too like your name or email address." in response.content.decode()
    claire.refresh_from_db()
    assert not claire.has_usable_password()
