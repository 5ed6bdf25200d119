"""Changing the add-on settings, and proving the school's mail works."""

from django.db import transaction

from schoolgate.accounts.audit import record
from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.addons.sender import current_sender
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.sending import send_one_now
from schoolgate.outbox.services import queue_email

SECRET_FIELDS = {"smtp_password"}


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
