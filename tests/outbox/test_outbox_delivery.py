"""Delivery through a real SMTP server: parts, sender, retries, back-off and leases."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.services import queue_email
from schoolgate.outbox.tasks import send_queued_email
from schoolgate.outbox.testing import SMTPServer, free_port, platform_mail_at, school_mail_at


def queue(to="jo@example.org", **context) -> OutboxMessage:
    return queue_email(to=to, template="addons_test", context=context)


def test_school_mail_server_receives_recipient_sender_subject_and_both_parts(school_mail):
    message = queue(sender_description="Come to parents' evening")

    assert sending.drain() == {"sent": 1, "retrying": 0, "failed": 0}

    [received] = school_mail.messages
    assert received.rcpt_tos == ["jo@example.org"]
    assert received.mail_from == "office@school.example"
    assert received.message["From"] == "office@school.example"
    assert received.message["To"] == "jo@example.org"
    assert received.message["Subject"] == "Test email from Schoolgate Demo Academy"
    assert "Come to parents' evening" in received.part("text/plain")
    assert "Come to parents&#x27; evening" in received.part("text/html")
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.from_email == "office@school.example"


def test_platform_sender_is_used_when_the_school_mail_is_not_set_up(settings, smtp_server):
    platform_mail_at(settings, smtp_server)
    settings.DEFAULT_FROM_EMAIL = "no-reply@schoolgate.example"
    queue()

    sending.drain()

    [received] = smtp_server.messages
    assert received.mail_from == "no-reply@schoolgate.example"


def test_a_batch_goes_over_one_smtp_connection(school_mail):
    for number in range(30):
        queue(to=f"parent{number}@example.org")

    assert sending.drain(batch_size=50)["sent"] == 30
    assert school_mail.connections == 1
    assert sorted(m.rcpt_tos[0] for m in school_mail.messages) == sorted(
        f"parent{number}@example.org" for number in range(30)
    )


def test_smtp_down_keeps_the_message_queued_then_sends_it_once_the_server_is_up():
    down = SMTPServer(host="127.0.0.1", port=free_port())
    school_mail_at(down)
    message = queue()

    assert sending.drain() == {"sent": 0, "retrying": 1, "failed": 0}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at > timezone.now()

    down.start()
    try:
        # Not due yet: nothing is tried before the back-off has passed.
        assert sending.drain()["sent"] == 0
        assert sending.drain(now=message.next_attempt_at + timedelta(seconds=1))["sent"] == 1
    finally:
        down.stop()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert len(down.messages) == 1


def test_back_off_doubles_and_the_eighth_failure_is_final():
    school_mail_at(SMTPServer(host="127.0.0.1", port=free_port()))
    message = queue()
    waits = []
    now = timezone.now()
    for _attempt in range(sending.MAX_ATTEMPTS):
        sending.drain(now=now)
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at

    assert [wait.total_seconds() / 60 for wait in waits[:7]] == [1, 2, 4, 8, 16, 32, 64]
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 8
    assert "gave up after 8 attempts" in message.last_error
    assert sending.drain(now=now + timedelta(days=1))["sent"] == 0


def test_a_refused_recipient_fails_at_once_and_the_rest_of_the_batch_is_sent(school_mail):
    # aiosmtpd refuses a bare local part ("jo@localhost" passes our check, "<>" does not),
    # so refuse by answering 550 for one address instead.
    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    school_mail.handle_RCPT = handle_RCPT
    gone = queue(to="gone@example.org")
    kept = queue(to="kept@example.org")

    assert sending.drain() == {"sent": 1, "retrying": 0, "failed": 1}

    gone.refresh_from_db()
    kept.refresh_from_db()
    assert gone.status == OutboxMessage.Status.FAILED
    assert "550" in gone.last_error
    assert kept.status == OutboxMessage.Status.SENT


def test_a_message_whose_lease_expired_is_retried(school_mail):
    message = queue()
    token, claimed = sending.claim_batch()  # a worker that then died
    assert [m.pk for m in claimed] == [message.pk]

    assert sending.drain()["sent"] == 0  # the lease still holds
    later = timezone.now() + sending.LEASE + timedelta(seconds=1)
    assert sending.drain(now=later)["sent"] == 1

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert len(school_mail.messages) == 1


def test_a_worker_that_lost_its_lease_sends_nothing_and_a_sent_row_stays_sent(school_mail):
    message = queue()
    token, claimed = sending.claim_batch()  # this worker stalls past its lease
    later = timezone.now() + sending.LEASE + timedelta(seconds=1)
    assert sending.drain(now=later)["sent"] == 1  # another worker takes over

    assert sending.send_batch(token=token, messages=claimed, now=later)["sent"] == 0
    assert sending.drain(now=later + timedelta(days=1))["sent"] == 0

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(school_mail.messages) == 1


def test_outbox_send_command_drains_the_queue(school_mail, capsys):
    for number in range(3):
        queue(to=f"parent{number}@example.org")

    call_command("outbox", "send")

    assert "3 sent" in capsys.readouterr().out
    assert len(school_mail.messages) == 3


def test_the_task_books_its_own_run_for_the_next_retry():
    school_mail_at(SMTPServer(host="127.0.0.1", port=free_port()))
    message = queue()

    assert send_queued_email.call() == {"sent": 0, "retrying": 1, "failed": 0}

    message.refresh_from_db()
    [booked] = DBTaskResult.objects.filter(task_path=send_queued_email.module_path)
    assert booked.status == "READY"
    assert booked.run_after == message.next_attempt_at
