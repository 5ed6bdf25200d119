"""Deploy checks of our own (`schoolgate check --deploy`), beside Django's."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.management.base import CommandError

# settings.py's fallback key: public, so anyone could forge sessions and reset links.
DEV_SECRET_KEY_PREFIX = "dev-only-insecure-key"


def uses_dev_secret_key() -> bool:
    return settings.SECRET_KEY.startswith(DEV_SECRET_KEY_PREFIX)


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    problems = []
    if uses_dev_secret_key():
        problems.append(
            Error(
                "SECRET_KEY is the public development key.",
                hint="Set the SECRET_KEY environment variable to a long random value.",
                id="schoolgate.E001",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        problems.append(
            Warning(
                f"SITE_URL ({settings.SITE_URL}) is not an https:// address.",
                hint="Links in emails use SITE_URL; parents' passwords need HTTPS.",
                id="schoolgate.W001",
            )
        )
    return problems


def require_secret_key() -> None:
    """Refuse to serve in production with the public development key."""
    if not settings.DEBUG and uses_dev_secret_key():
        raise CommandError(
            "SECRET_KEY is not set. Set it to a long random value, e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
            "or set DEBUG=1 to try Schoolgate out."
        )
