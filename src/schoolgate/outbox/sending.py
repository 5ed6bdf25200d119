"""Sending the outbox: claim due rows under a lease, send them over one connection,
mark each sent or failed, and back off exponentially between attempts."""

import base64
import smtplib
import urllib.parse
import uuid
from datetime import datetime, timedelta
from email.message import MIMEPart

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from schoolgate.addons.sender import Sender, current_sender
from schoolgate.outbox.models import OutboxMessage

Status = OutboxMessage.Status
BATCH_SIZE = 100
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
RETRY = timedelta(minutes=1)


def lease_length() -> timedelta:
    """How long a claim lasts; settings.SCHOOLGATE["OUTBOX_LEASE_SECONDS"] (fault tests
    shorten it so that a killed worker's rows come back within seconds)."""
    seconds = settings.SCHOOLGATE.get("OUTBOX_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else LEASE


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the first, second, third ... failed attempt (the unit is
    settings.SCHOOLGATE["OUTBOX_RETRY_SECONDS"], 60 unless a test shortens it)."""
    seconds = settings.SCHOOLGATE.get("OUTBOX_RETRY_SECONDS")
    unit = timedelta(seconds=seconds) if seconds else RETRY
    return unit * 2 ** (max(attempts, 1) - 1)


def _due(now: datetime) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, lease_expires_at__lt=now, attempts__lt=MAX_ATTEMPTS
    )


def claim_batch(*, limit: int = BATCH_SIZE, now: datetime | None = None):
    """Lease up to `limit` due messages to a new token; returns (token, messages)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        # A worker that died holding a last attempt leaves a row nobody may retry.
        OutboxMessage.objects.filter(
            status=Status.SENDING, lease_expires_at__lt=now, attempts__gte=MAX_ATTEMPTS
        ).update(
            status=Status.FAILED,
            lease_token="",
            lease_expires_at=None,
            last_error="The sender stopped while sending the last attempt.",
        )
        due = OutboxMessage.objects.filter(_due(now)).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: workers skip each other's rows instead of queueing on them.
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        # Re-checking `_due` makes the UPDATE the claim on SQLite too; attempts are
        # counted at claim time so a message that kills its worker still runs out.
        OutboxMessage.objects.filter(_due(now), pk__in=ids).update(
            status=Status.SENDING,
            lease_token=token,
            lease_expires_at=now + lease_length(),
            attempts=F("attempts") + 1,
        )
    messages = OutboxMessage.objects.filter(lease_token=token, status=Status.SENDING)
    return token, list(messages.order_by("next_attempt_at", "id"))


def send_batch(
    *, token: str, messages: list[OutboxMessage], sender: Sender | None = None, now=None
) -> dict:
    """Send claimed messages over one connection; returns counts by outcome."""
    now = now or timezone.now()
    sender = sender or current_sender()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    backend = sender.connection()
    try:
        backend.open()
    except Exception as error:
        for message in messages:
            counts[_mark_failed(message, token=token, error=error, now=now)] += 1
        return counts
    started = timezone.now()
    # Stop while at least half the lease is left, so that no other worker can have
    # taken over a row this one is still sending.
    deadline = min((m.lease_expires_at for m in messages), default=now) - lease_length() / 2
    try:
        for index, message in enumerate(messages):
            if now + (timezone.now() - started) > deadline:
                _release(messages[index:], token=token)
                break
            try:
                backend.send_messages([_email(message, sender)])
            except Exception as error:
                counts[_mark_failed(message, token=token, error=error, now=now)] += 1
                # The connection may be broken: start a fresh one for the rest.
                backend.close()
            else:
                _mark_sent(message, token=token, sender=sender)
                counts["sent"] += 1
    finally:
        backend.close()
    return counts


def drain(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Send everything that is due, batch after batch, until nothing is left."""
    totals = {"sent": 0, "retrying": 0, "failed": 0}
    sender = current_sender()
    while True:
        token, messages = claim_batch(limit=batch_size, now=now)
        if not messages:
            return totals
        for key, value in send_batch(
            token=token, messages=messages, sender=sender, now=now
        ).items():
            totals[key] += value


def next_due_at() -> datetime | None:
    """When the next queued message, or the earliest lease, falls due."""
    queued = OutboxMessage.objects.filter(status=Status.QUEUED).aggregate(at=Min("next_attempt_at"))
    leased = OutboxMessage.objects.filter(status=Status.SENDING).aggregate(
        at=Min("lease_expires_at")
    )
    times = [at for at in (queued["at"], leased["at"]) if at is not None]
    return min(times) if times else None


def send_one_now(*, message: OutboxMessage) -> OutboxMessage:
    """Claim and send one queued message at once (a test email); returns it refreshed."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = OutboxMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
        status=Status.SENDING,
        lease_token=token,
        lease_expires_at=now + lease_length(),
        attempts=F("attempts") + 1,
    )
    if claimed:
        message.refresh_from_db()
        send_batch(token=token, messages=[message], now=now)
    message.refresh_from_db()
    return message


def _email(message: OutboxMessage, sender: Sender) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=sender.from_email,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": message_id(message)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for spec in message.attachments or []:
        email.attach(_attachment_part(spec))
    return email


def message_id(message: OutboxMessage) -> str:
    """The same Message-ID on every attempt at one row: if a worker dies after the SMTP
    server took a message but before the row was marked sent, the retry is recognisable
    as the same message (mail clients show it once)."""
    host = urllib.parse.urlsplit(settings.SITE_URL).hostname or "schoolgate.invalid"
    return f"<outbox.{message.pk}.{int(message.created_at.timestamp())}@{host}>"


def _attachment_part(spec: dict) -> MIMEPart:
    """One stored attachment as a MIME part, keeping the type's parameters (an .ics
    file's "method=REQUEST" matters to calendar clients)."""
    mimetype, *raw_params = (piece.strip() for piece in spec["mimetype"].split(";"))
    maintype, subtype = mimetype.lower().split("/", 1)
    params = {}
    for raw in raw_params:
        key, _sep, value = raw.partition("=")
        if key:
            params[key.strip().lower()] = value.strip().strip('"')
    part = MIMEPart()
    if spec.get("base64"):
        part.set_content(
            base64.b64decode(spec["content"]),
            maintype=maintype,
            subtype=subtype,
            disposition="attachment",
            filename=spec["filename"],
            params=params,
        )
    elif maintype == "text":
        part.set_content(
            spec["content"],
            subtype=subtype,
            charset="utf-8",
            disposition="attachment",
            filename=spec["filename"],
            params=params,
        )
    else:
        part.set_content(
            spec["content"].encode(),
            maintype=maintype,
            subtype=subtype,
            disposition="attachment",
            filename=spec["filename"],
            params=params,
        )
    return part


def _mark_sent(message: OutboxMessage, *, token: str, sender: Sender) -> None:
    OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        from_email=sender.from_email[:254],
        last_error="",
        lease_token="",
        lease_expires_at=None,
    )


def _mark_failed(message: OutboxMessage, *, token: str, error: Exception, now) -> str:
    """Queue the message again after a back-off, or fail it for good; returns which."""
    attempts = message.attempts
    reason = _describe(error)
    permanent = _is_permanent(error) or attempts >= MAX_ATTEMPTS
    if permanent:
        outcome, status, next_at = "failed", Status.FAILED, message.next_attempt_at
        reason = f"{reason} (gave up after {attempts} attempt{'s' if attempts != 1 else ''})"
    else:
        outcome, status, next_at = "retrying", Status.QUEUED, now + backoff(attempts)
    OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(
        status=status,
        last_error=reason[:2000],
        next_attempt_at=next_at,
        lease_token="",
        lease_expires_at=None,
    )
    return outcome


def _release(messages: list[OutboxMessage], *, token: str) -> None:
    """Hand back rows this worker did not get to, uncounted, before its lease runs out."""
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages], lease_token=token).update(
        status=Status.QUEUED,
        attempts=F("attempts") - 1,
        lease_token="",
        lease_expires_at=None,
    )


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def _is_permanent(error: Exception) -> bool:
    """A 5xx refusal of the recipient will not change by waiting."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return False
