"""Which language a page is in, and remembering a person's choice (docs/languages.md).

Visitors get the language of the switcher's cookie, else their browser's
Accept-Language (Django's LocaleMiddleware). A signed-in person's saved choice,
`User.language`, wins over both: it follows them from device to device and
decides the language of the emails they are sent (outbox.services)."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop, pgettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from schoolgate.core.access import public

# Django's own Welsh catalogue spells July "Gorffenaf"; ours, which takes precedence,
# says "Gorffennaf". Marked here so that makemessages keeps both in our catalogue.
CORRECTED_DJANGO_STRINGS = (gettext_noop("July"), pgettext_lazy("alt. month", "July"))


def supported_language(code: str | None) -> str:
    """`code` as one of settings.LANGUAGES ("cy", "en-gb"), or "" if it is none of them."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


def saved_language(user) -> str:
    """The language a signed-in person chose, or "" if they have not chosen one."""
    if user is None or not user.is_authenticated:
        return ""
    return supported_language(getattr(user, "language", ""))


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in person's saved language wins.

    LocaleMiddleware has already picked the cookie's or the browser's language; this
    replaces it with the saved one and keeps the cookie in step, so that the pages
    stay in that language after signing out on this device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = saved_language(getattr(request, "user", None))
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        name = settings.LANGUAGE_COOKIE_NAME
        # Not over a cookie this response sets itself: the switcher's new choice.
        if language and name not in response.cookies and request.COOKIES.get(name) != language:
            set_language_cookie(response, language)
        return response


def set_language_cookie(response, language: str) -> None:
    """The cookie Django's set_language view sets, with the same settings."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def save_language(*, user, language: str) -> bool:
    """Remember `language` for `user` (emails too); False if it is not one we offer."""
    language = supported_language(language)
    if not language:
        return False
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return True


@public
@require_POST
def set_language(request):
    """The switcher's target: Django's set_language, which also saves a signed-in
    person's choice, so that it wins over the browser and reaches their emails."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        save_language(user=request.user, language=request.POST.get("language", ""))
    return response
