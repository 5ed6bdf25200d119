"""Who emails to parents come from: the one place that decides."""

from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils.translation import gettext as _

from schoolgate.addons.selectors import get_addon_settings
from schoolgate.core.secrets import decrypt

SCHOOL_MAILER_ALIAS = "school"


@dataclass(frozen=True)
class Sender:
    """The from-address parents see and how mail reaches them."""

    from_email: str
    uses_school_mail: bool
    description: str
    smtp: dict = field(default_factory=dict, repr=False, compare=False)

    def connection(self):
        """A new (unopened) mail backend for this sender."""
        if self.uses_school_mail:
            return SMTPBackend(alias=SCHOOL_MAILER_ALIAS, **self.smtp)
        return mail.mailers.default


def current_sender() -> Sender:
    """The school's own mail server when its email add-on is set up, else the platform's."""
    addon_settings = get_addon_settings()
    if addon_settings.uses_school_mail:
        return Sender(
            from_email=addon_settings.from_email,
            uses_school_mail=True,
            description=_(
                "Emails to parents come from %(address)s through your school's mail server."
            )
            % {"address": parseaddr(addon_settings.from_email)[1] or addon_settings.from_email},
            smtp={
                "host": addon_settings.smtp_host,
                "port": addon_settings.smtp_port,
                "username": addon_settings.smtp_username,
                "password": decrypt(addon_settings.smtp_password),
                "use_tls": addon_settings.smtp_use_tls,
                "timeout": 30,
            },
        )
    return Sender(
        from_email=settings.DEFAULT_FROM_EMAIL,
        uses_school_mail=False,
        description=_(
            "Emails to parents come from the Schoolgate default sender %(address)s "
            "because your school's email is not set up."
        )
        % {"address": parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL},
    )
