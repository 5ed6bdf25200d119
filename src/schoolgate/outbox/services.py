"""Queueing email (docs/architecture.md rule 5): render now, write a row in the caller's
transaction, and wake the sending task only once that transaction commits."""

import base64
from collections.abc import Iterable
from contextlib import nullcontext

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation

from schoolgate.core.emails import normalise_email
from schoolgate.outbox.models import OutboxMessage

BULK_BATCH = 1000


def queue_email(
    *,
    to: str,
    template: str,
    context: dict,
    reply_to: str = "",
    attachments: Iterable[dict] = (),
) -> OutboxMessage:
    """Render `template` for `to` and queue it; nothing is sent until the caller commits.

    `attachments`: dicts {"filename", "content", "mimetype"} (see `attachment`)."""
    [message] = queue_emails(
        [
            {
                "to": to,
                "template": template,
                "context": context,
                "reply_to": reply_to,
                "attachments": attachments,
            }
        ]
    )
    return message


def attachment(*, filename: str, content: str | bytes, mimetype: str) -> dict:
    """A file to send with an email, as stored on the outbox row: text content as it
    is for text/* types, anything else base64-encoded. `mimetype` may carry parameters
    ("text/calendar; method=PUBLISH")."""
    if mimetype.split("/", 1)[0].strip().lower() == "text" and isinstance(content, str):
        return {"filename": filename, "mimetype": mimetype, "content": content}
    if isinstance(content, str):
        content = content.encode()
    return {
        "filename": filename,
        "mimetype": mimetype,
        "content": base64.b64encode(content).decode("ascii"),
        "base64": True,
    }


def queue_emails(messages: Iterable[dict]) -> list[OutboxMessage]:
    """Queue many emails at once (dicts with the keyword arguments of `queue_email`)."""
    from schoolgate.core.context_processors import school_name

    name = school_name()
    messages = list(messages)
    # Each email is rendered in its recipient's language when they have an account and
    # chose one (User.language, docs/languages.md); otherwise in the language active now.
    languages = _recipient_languages(spec.get("to", "") for spec in messages)
    templates: dict[str, tuple] = {}
    now = timezone.now()
    rows = []
    for index, spec in enumerate(messages):
        where = f"message {index + 1}" if index else "message"
        to = _address(spec.get("to", ""), field="to", where=where)
        reply_to = _address(spec.get("reply_to", ""), field="reply_to", where=where, blank=True)
        template = spec.get("template", "")
        if template not in templates:
            templates[template] = _load_templates(template, where=where)
        subject_t, text_t, html_t = templates[template]
        context = dict(spec.get("context") or {})
        files = _attachments(spec.get("attachments") or (), where=where)
        render_context = {"school_name": name, **context}
        language = languages.get(normalise_email(to))
        with translation.override(language) if language else nullcontext():
            rows.append(
                OutboxMessage(
                    to=to,
                    reply_to=reply_to,
                    template=template,
                    context=context,
                    subject=" ".join(_render_plain(subject_t, render_context).split()),
                    body_text=_render_plain(text_t, render_context),
                    body_html=html_t.render(render_context) if html_t else "",
                    attachments=files,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    if not rows:
        return []
    if len(rows) == 1:
        rows[0].save()
        created = rows
    else:
        created = OutboxMessage.objects.bulk_create(rows, batch_size=BULK_BATCH)
    wake_sender_on_commit()
    return created


def retry_now(*, message: OutboxMessage, actor=None) -> OutboxMessage:
    """Put a failed message back in the queue with a fresh set of attempts."""
    from schoolgate.accounts.audit import record

    if message.status != OutboxMessage.Status.FAILED:
        raise ValidationError("Only a failed message can be retried.")
    message.status = OutboxMessage.Status.QUEUED
    message.attempts = 0
    message.next_attempt_at = timezone.now()
    message.lease_token = ""
    message.lease_expires_at = None
    message.save(
        update_fields=["status", "attempts", "next_attempt_at", "lease_token", "lease_expires_at"]
    )
    record(action="outbox.retry", subject=message.to, actor=actor, message=message.pk)
    wake_sender_on_commit()
    return message


def wake_sender_on_commit() -> None:
    """Enqueue the sending task after commit, once per transaction however many emails."""
    from schoolgate.outbox.tasks import wake_sender

    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is wake_sender for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(wake_sender)


def _recipient_languages(addresses: Iterable[str]) -> dict[str, str]:
    """Normalised address -> the language its account chose, for those that chose one."""
    from schoolgate.accounts.models import User
    from schoolgate.core.i18n import supported_language

    keys = sorted({normalise_email(address) for address in addresses} - {""})
    languages = {}
    for start in range(0, len(keys), BULK_BATCH):
        chosen = User.objects.filter(email__in=keys[start : start + BULK_BATCH]).exclude(
            language=""
        )
        for email, code in chosen.values_list("email", "language"):
            if language := supported_language(code):
                languages[email] = language
    return languages


def _render_plain(template, context: dict) -> str:
    """Render a subject or text part without HTML escaping ("O'Brien", not "O&#x27;Brien")."""
    return template.template.render(Context(context, autoescape=False))


def _address(value, *, field: str, where: str, blank: bool = False) -> str:
    value = (value or "").strip()
    if not value and blank:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            f"{where}, field `{field}`: {value!r} is not an email address."
        ) from None
    return value


def _attachments(files, *, where: str) -> list[dict]:
    """Check and normalise attachments: each needs a file name, a type and content."""
    checked = []
    for number, spec in enumerate(files, start=1):
        spec = dict(spec)
        filename = str(spec.get("filename") or "").strip()
        mimetype = str(spec.get("mimetype") or "").strip()
        content = spec.get("content")
        if not filename or "/" in filename or "\\" in filename:
            raise ValidationError(
                f"{where}, attachment {number}, field `filename`: {filename!r} is not a file name."
            )
        if "/" not in mimetype.split(";", 1)[0]:
            raise ValidationError(
                f"{where}, attachment {number}, field `mimetype`: {mimetype!r} is not a type."
            )
        if not isinstance(content, str | bytes):
            raise ValidationError(f"{where}, attachment {number}, field `content`: missing.")
        if spec.get("base64") and isinstance(content, str):
            checked.append(
                {"filename": filename, "mimetype": mimetype, "content": content, "base64": True}
            )
        else:
            checked.append(attachment(filename=filename, content=content, mimetype=mimetype))
    return checked


def _load_templates(template: str, *, where: str):
    """The subject, text and (optional) HTML templates of one kind of email."""
    if not template or not template.replace("_", "").replace("/", "").isalnum():
        raise ValidationError(f"{where}, field `template`: {template!r} is not a template name.")
    try:
        subject = get_template(f"email/{template}_subject.txt")
        text = get_template(f"email/{template}.txt")
    except TemplateDoesNotExist as error:
        raise ValidationError(
            f"{where}, field `template`: no email template {error.args[0]!r}."
        ) from None
    try:
        html = get_template(f"email/{template}.html")
    except TemplateDoesNotExist:
        html = None
    return subject, text, html
