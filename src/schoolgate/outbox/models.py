from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One outgoing email (docs/architecture.md rule 5): a row first, sent later by a task."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.CharField(_("recipient"), max_length=254)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Rendered when queued: what was sent is what staff can read later.
    subject = models.CharField(_("subject"), max_length=998)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    from_email = models.CharField(_("sent from"), max_length=254, blank=True)
    # Files sent with the message: [{"filename", "mimetype", "content"}], the content
    # as text for text/* types (an .ics file) and base64 otherwise ("base64": true).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # A worker owns a claimed row until its lease expires; then anyone may retry it.
    lease_token = models.CharField(max_length=32, blank=True, db_index=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbox message")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.to}: {self.subject}"

    @property
    def attachment_names(self) -> list[str]:
        return [attachment["filename"] for attachment in self.attachments or []]
