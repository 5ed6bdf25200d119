"""A password that is mostly the person's own name or email is refused (docs/accounts.md,
Passwords). Django's UserAttributeSimilarityValidator compares with the whole email
and with its pieces one at a time, so `iqbal.claire` passed as the password of
iqbal.claire@example.org; this compares with the part before the @ and with the names,
alone and together, ignoring case, spaces and punctuation."""

import re
from difflib import SequenceMatcher

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# At least this many letters or digits must be left once the name or email is taken out.
MIN_LEFT = 6
SIMILAR = 0.7


def _letters(value: str) -> str:
    return re.sub(r"[\W_]+", "", (value or "").casefold())


def personal_words(user) -> list[str]:
    """The email's local part and the names, alone and joined, as letters and digits."""
    local = (getattr(user, "email", "") or "").rpartition("@")[0]
    first, last = getattr(user, "first_name", ""), getattr(user, "last_name", "")
    candidates = [local, *re.split(r"[.\-_+]", local), first, last, first + last, last + first]
    words = {_letters(c) for c in candidates}
    return sorted((w for w in words if len(w) >= 3), key=len, reverse=True)


class PersonalDetailsValidator:
    def validate(self, password, user=None):
        if user is None:
            return
        typed = _letters(password)
        for word in personal_words(user):
            mostly_it = word in typed and len(typed.replace(word, "")) < MIN_LEFT
            if mostly_it or SequenceMatcher(a=typed, b=word).ratio() >= SIMILAR:
                raise ValidationError(
                    _("Your password is too like your name or email address."),
                    code="password_too_personal",
                )

    def get_help_text(self):
        return _("Your password cannot be mostly your name or email address.")
