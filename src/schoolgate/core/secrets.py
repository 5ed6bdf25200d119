"""Secrets kept in the database (mail server passwords, MIS connector credentials, video
service keys) are stored encrypted, never in clear (docs/deploy.md, "Secrets at rest").

The key comes from `FIELD_ENCRYPTION_KEY`: one or more Fernet keys, comma-separated, the
first used to encrypt and every one tried to decrypt, so a key is rotated by putting the
new one first and running `schoolgate rotate-secrets` (which re-encrypts what is stored).
Without it (development and tests) a key is derived from `SECRET_KEY`.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """A stored secret that no configured key opens (the key was changed without rotating)."""


def _keys() -> list[bytes]:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []
    if configured:
        return [key.encode() for key in configured]
    digest = hashlib.sha256(b"schoolgate-field-encryption:" + settings.SECRET_KEY.encode())
    return [base64.urlsafe_b64encode(digest.digest())]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(plain: str) -> str:
    """The text to store for `plain` ("" stays "": nothing to hide)."""
    if not plain:
        return ""
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The secret stored as `stored`; text stored before encryption came in is returned as is."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A stored secret cannot be read with FIELD_ENCRYPTION_KEY: was the key changed "
            "without keeping the old one after it?"
        ) from error


def rotate(stored: str) -> str:
    """`stored` encrypted again with the first key (for key rotation)."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    return PREFIX + _fernet().rotate(stored[len(PREFIX) :].encode()).decode()
