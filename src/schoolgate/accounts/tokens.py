"""Set-password links for invitations: single use (the hash covers the password and
last sign-in) and expiring after SCHOOLGATE["INVITATION_DAYS"]."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "schoolgate.accounts.tokens.InvitationTokenGenerator"

    def check_token(self, user, token):
        """Valid signature (which also proves single use) and not older than the
        invitation lifetime, rather than PASSWORD_RESET_TIMEOUT."""
        if not signature_is_valid(self, user, token):
            return False
        age = self._num_seconds(self._now()) - base36_to_int(token.split("-")[0])
        return age <= settings.SCHOOLGATE["INVITATION_DAYS"] * 24 * 3600


def signature_is_valid(generator, user, token) -> bool:
    if not (user and token) or token.count("-") != 1:
        return False
    try:
        timestamp = base36_to_int(token.split("-")[0])
    except ValueError:
        return False
    return any(
        constant_time_compare(generator._make_token_with_timestamp(user, timestamp, secret), token)
        for secret in [generator.secret, *generator.secret_fallbacks]
    )


invitation_token = InvitationTokenGenerator()


def invitation_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse(
        "accounts:set-password", kwargs={"uidb64": uid, "token": invitation_token.make_token(user)}
    )


def invitation_url(user) -> str:
    return settings.SITE_URL + invitation_path(user)
