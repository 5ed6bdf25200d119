"""Changing the add-on settings, and proving the school's mail works."""

import contextlib
import smtplib
import socket
import ssl

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.utils.translation import gettext as _

from schoolgate.accounts.audit import record
from schoolgate.accounts.models import RoleProfile
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


class UnfitParentRole(ValidationError):
    """The role chosen for parents' accounts could give them more than a parent's access."""


def parent_role_problem(group: Group | None) -> str:
    """Why `group` cannot be the parents' role ('' when it can): a parent's role gives
    no permission, and is not a staff role (whose members use the staff area)."""
    if group is None:
        return ""
    if group.permissions.exists():
        return _(
            "%(role)s has permissions, so parents in it could do more than see their own "
            "children and book. Choose a role with no permissions for contact accounts."
        ) % {"role": group.name}
    profile = RoleProfile.objects.filter(group=group).first()
    if profile is not None and (profile.is_staff_role or profile.built_in):
        return _(
            "%(role)s is a staff role: its members may use the school's staff area. Choose a "
            "role with no permissions for contact accounts."
        ) % {"role": group.name}
    return ""


def update_addon_settings(*, changes: dict, actor) -> list[str]:
    """Apply `changes` (field: value) and audit what changed; returns the changed fields.

    Raises UnfitParentRole (nothing saved) when `parent_group` is not a role with no
    permissions."""
    if "parent_group" in changes:
        problem = parent_role_problem(changes["parent_group"])
        if problem:
            raise UnfitParentRole(problem, code="unfit_parent_role")
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
