"""What the parent portal stores itself: parents' requests to correct the MIS data.

Schoolgate never edits the mirror (docs/architecture.md rule 1): a request is read by the
school office, applied in the MIS, and marked done; the next sync brings the change."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CorrectionRequest(models.Model):
    class Field(models.TextChoices):
        TITLE = "title", _("Title")
        NAME = "name", _("Name")
        EMAIL = "email", _("Email address")
        PHONE = "phone", _("Phone numbers")
        ADDRESS = "address", _("Address")
        RELATIONSHIP = "relationship", _("Relationship to a child")
        CHILD = "child", _("A child's details")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting")
        DONE = "done", _("Done")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="correction_requests"
    )
    # Who the parent was in the mirror when they asked (the contact may go at a sync).
    contact = models.ForeignKey(
        "mis.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(max_length=300, blank=True)
    field = models.CharField(_("what needs correcting"), max_length=20, choices=Field.choices)
    details = models.TextField(_("the correction"), max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        permissions = [
            ("review_corrections", "See parents' correction requests and mark them done"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", done_at__isnull=True)
                | models.Q(status="done", done_at__isnull=False),
                name="correction_done_has_time",
            ),
        ]

    def __str__(self):
        return f"Correction {self.pk} ({self.field}) from {self.requested_by}"
