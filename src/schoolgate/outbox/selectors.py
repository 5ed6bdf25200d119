"""Reads for the staff outbox pages."""

from django.db.models import Count, QuerySet

from schoolgate.outbox.models import OutboxMessage


def outbox_messages(*, status: str = "") -> QuerySet[OutboxMessage]:
    """Messages newest first, optionally of one status, without their (large) bodies."""
    messages = OutboxMessage.objects.defer("body_text", "body_html", "context", "attachments")
    if status:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-id")


def status_counts() -> dict[str, int]:
    """How many messages there are of each status (every status present, maybe 0)."""
    counts = dict.fromkeys(OutboxMessage.Status.values, 0)
    for row in OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts
