"""Attachments on outbox messages: stored with the row, sent as MIME parts through a
real SMTP server, listed on the staff message page."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from schoolgate.accounts.models import User
from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.services import attachment, queue_email, queue_emails

pytestmark = pytest.mark.django_db

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n"


def queue(**kwargs) -> OutboxMessage:
    return queue_email(
        to="jo@example.org", template="addons_test", context={"sender_description": "x"}, **kwargs
    )


def test_an_ics_attachment_arrives_as_text_calendar_with_its_method(school_mail):
    queue(
        attachments=[
            attachment(
                filename="appointments.ics", content=ICS, mimetype="text/calendar; method=PUBLISH"
            )
        ]
    )

    assert sending.drain()["sent"] == 1

    [received] = school_mail.messages
    [part] = list(received.message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "appointments.ics"
    assert part.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")
    # The text and HTML parts are still there.
    assert "x" in received.part("text/plain")
    assert received.part("text/html")


def test_binary_attachments_are_stored_as_base64_and_arrive_unchanged(school_mail):
    data = bytes(range(256))
    message = queue(
        attachments=[attachment(filename="a.bin", content=data, mimetype="application/pdf")]
    )

    assert message.attachments[0]["base64"] is True
    sending.drain()

    [part] = list(school_mail.messages[0].message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == data


def test_a_message_without_attachments_has_none(school_mail):
    message = queue()
    assert message.attachments == []
    sending.drain()
    assert list(school_mail.messages[0].message.iter_attachments()) == []


def test_bulk_queueing_keeps_each_messages_own_attachments():
    first, second = queue_emails(
        [
            {
                "to": "a@example.org",
                "template": "addons_test",
                "context": {},
                "attachments": [{"filename": "a.ics", "content": ICS, "mimetype": "text/calendar"}],
            },
            {"to": "b@example.org", "template": "addons_test", "context": {}},
        ]
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.attachment_names == ["a.ics"]
    assert second.attachments == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"filename": "", "content": "x", "mimetype": "text/plain"}, "filename"),
        ({"filename": "../x.ics", "content": "x", "mimetype": "text/plain"}, "filename"),
        ({"filename": "x.ics", "content": "x", "mimetype": "calendar"}, "mimetype"),
        ({"filename": "x.ics", "mimetype": "text/calendar"}, "content"),
    ],
)
def test_a_bad_attachment_is_refused_saying_which_field_and_nothing_is_queued(spec, field):
    with pytest.raises(ValidationError, match=f"attachment 1, field `{field}`"):
        queue(attachments=[spec])
    assert not OutboxMessage.objects.exists()


def test_the_staff_message_page_lists_attachment_names(client):
    viewer = User.objects.create_user("office@school.example", "x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(viewer)
    message = queue(
        attachments=[attachment(filename="evening.ics", content=ICS, mimetype="text/calendar")]
    )

    page = client.get(reverse("outbox:detail", args=[message.pk]))

    assert page.status_code == 200
    assert "Attachments" in page.content.decode()
    assert "evening.ics" in page.content.decode()
