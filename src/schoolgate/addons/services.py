"""Changing the add-on settings, and proving the school's mail works."""

import contextlib
import smtplib
import socket
import ssl

from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.utils.translation import gettext as _

from schoolgate.accounts.audit import record
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.sender import SCHOOL_MAILER_ALIAS, current_sender
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.sending import send_one_now
from schoolgate.outbox.services import queue_email

SECRET_FIELDS = {"smtp_password"}
# The settings that decide how mail leaves: changed only once a test reaches the server.
MAIL_FIELDS = (
    "from_email",
    "smtp_host",
    "smtp_port",
    "smtp_use_tls",
    "smtp_username",
    "smtp_password",
)


def update_addon_settings(*, changes: dict, actor) -> list[str]:
    """Apply `changes` (field: value) and audit what changed; returns the changed fields."""
    with transaction.atomic():
        addon_settings = AddonSettings.objects.select_for_update().get(pk=get_addon_settings().pk)
        detail = {}
        for name, value in changes.items():
            old = getattr(addon_settings, name)
            if old == value:
                continue
            setattr(addon_settings, name, value)
            if name in SECRET_FIELDS:
                detail[name] = "changed" if value else "removed"
            else:
                detail[name] = [_plain(old), _plain(value)]
        if detail:
            addon_settings.save(update_fields=list(detail))
            record(
                action="addons.settings_changed", subject="add-on settings", actor=actor, **detail
            )
    return list(detail)


def send_test_email(*, to: str, actor) -> OutboxMessage:
    """Queue a test email to `to` through the current sender and send it at once."""
    sender = current_sender()
    with transaction.atomic():
        message = queue_email(
            to=to, template="addons_test", context={"sender_description": sender.description}
        )
        record(action="addons.test_email", subject=to, actor=actor, sender=sender.from_email)
    message = send_one_now(message=message)
    if message.status == OutboxMessage.Status.QUEUED:
        # A test is for now: do not retry it in an hour when nobody is watching.
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.QUEUED).update(
            status=OutboxMessage.Status.FAILED
        )
        message.refresh_from_db()
    return message


def _plain(value):
    """A JSON-safe form of a setting for the audit log."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def check_mail_server(*, host: str, port: int, username: str, password: str, use_tls: bool) -> str:
    """Connect (and log in, when a user name is given) to a mail server without
    sending anything; '' when it works, else what failed, in words."""
    backend = SMTPBackend(
        alias=SCHOOL_MAILER_ALIAS,
        host=host,
        port=port,
        username=username,
        password=password,
        use_tls=use_tls,
        timeout=10,
        fail_silently=False,
    )
    try:
        backend.open()
    except Exception as error:  # every failure is reported, in words
        return describe_mail_error(error, host=host, port=port)
    finally:
        with contextlib.suppress(Exception):  # closing a half-open connection
            backend.close()
    return ""


def describe_mail_error(error: BaseException, *, host: str, port: int) -> str:
    """What went wrong talking to a mail server, as the office would say it."""
    where = f"{host}:{port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return _("%(where)s refused the user name or password.") % {"where": where}
    if isinstance(error, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return _(
            "The secure connection (TLS) to %(where)s failed: check the port and the "
            "“Use STARTTLS” setting."
        ) % {"where": where}
    if isinstance(error, socket.gaierror):
        return _("There is no mail server called %(host)s: check its name.") % {"host": host}
    if isinstance(error, TimeoutError | socket.timeout):
        return _("Could not connect to %(where)s: it did not answer in time.") % {"where": where}
    if isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException):
        return _("Could not connect to %(where)s: nothing answered there.") % {"where": where}
    return _("%(where)s answered with an error: %(error)s") % {"where": where, "error": error}
