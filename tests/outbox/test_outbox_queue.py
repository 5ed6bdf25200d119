"""Queueing email: a row in the caller's transaction, rendered then, sent later."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.services import queue_email, queue_emails
from schoolgate.outbox.tasks import send_queued_email


def send_tasks():
    return DBTaskResult.objects.filter(task_path=send_queued_email.module_path)


def test_rolled_back_transaction_leaves_no_row_and_enqueues_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_email(to="jo@example.org", template="addons_test", context={})
        raise RuntimeError("the account was not created after all")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert not send_tasks().exists()


def test_queue_email_only_writes_a_row_until_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = queue_email(to="jo@example.org", template="addons_test", context={})

    assert message.status == OutboxMessage.Status.QUEUED
    assert message.attempts == 0
    assert not send_tasks().exists()
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)  # real commits: the worker runs as in production
def test_committed_message_is_sent_by_the_worker_with_text_and_html(mailoutbox):
    with transaction.atomic():
        queue_email(
            to="jo@example.org",
            template="addons_test",
            context={"sender_description": "Hello"},
            reply_to="office@school.example",
        )
    assert send_tasks().count() == 1

    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)

    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    [email] = mailoutbox
    assert email.to == ["jo@example.org"]
    assert email.reply_to == ["office@school.example"]
    assert email.subject == "Test email from Schoolgate Demo Academy"
    assert "This is a test email" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "<p>Hello</p>" in html


def test_many_emails_in_one_transaction_enqueue_one_task(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for number in range(20):
            queue_email(to=f"parent{number}@example.org", template="addons_test", context={})

    assert len(callbacks) == 1
    assert OutboxMessage.objects.count() == 20
    assert send_tasks().count() == 1


def test_a_waiting_task_is_not_enqueued_twice(django_capture_on_commit_callbacks):
    for number in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            queue_email(to=f"parent{number}@example.org", template="addons_test", context={})

    assert send_tasks().count() == 1


def test_bulk_queue_writes_every_message_and_one_task(django_capture_on_commit_callbacks):
    specs = [
        {"to": f"parent{n}@example.org", "template": "addons_test", "context": {"n": n}}
        for n in range(2500)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        created = queue_emails(specs)

    assert len(created) == 2500
    assert OutboxMessage.objects.filter(status="queued").count() == 2500
    assert OutboxMessage.objects.filter(to="parent2499@example.org", context={"n": 2499}).exists()
    assert send_tasks().count() == 1


def test_message_is_rendered_when_queued_with_the_school_name_and_no_html_escaping_in_text():
    message = queue_email(
        to="jo@example.org",
        template="addons_test",
        context={"sender_description": "Mr O'Brien & Ms Patel"},
    )

    assert message.subject == "Test email from Schoolgate Demo Academy"
    assert "Mr O'Brien & Ms Patel" in message.body_text
    assert "Mr O&#x27;Brien &amp; Ms Patel" in message.body_html
    assert message.context == {"sender_description": "Mr O'Brien & Ms Patel"}


def test_bad_recipient_is_refused_with_where_and_nothing_is_written():
    with pytest.raises(ValidationError, match=r"message 2, field `to`: 'jo@' is not an email"):
        queue_emails(
            [
                {"to": "ok@example.org", "template": "addons_test", "context": {}},
                {"to": "jo@", "template": "addons_test", "context": {}},
            ]
        )
    assert not OutboxMessage.objects.exists()


def test_unknown_template_fails_the_caller_not_the_worker():
    with pytest.raises(ValidationError, match="no email template 'email/nope_subject.txt'"):
        queue_email(to="jo@example.org", template="nope", context={})
    assert not OutboxMessage.objects.exists()
