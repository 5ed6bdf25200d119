"""Email addresses as keys: one person is found by one normalised address."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def normalise_email(address: str | None) -> str:
    """Trim, apply Unicode NFKC normalisation and fold case ('' for nothing)."""
    if not address:
        return ""
    return unicodedata.normalize("NFKC", address).strip().casefold()


def is_valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def email_key(address: str | None) -> str:
    """The normalised address when it is a valid email, else ''."""
    normalised = normalise_email(address)
    return normalised if normalised and is_valid_email(normalised) else ""
