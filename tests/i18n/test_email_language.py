"""Emails are rendered in the recipient's chosen language (outbox.services.queue_emails)."""

from django.utils import translation

from schoolgate.accounts.models import User
from schoolgate.outbox.services import queue_email, queue_emails

RESET = {"name": "", "link": "https://school.example/reset/abc/", "hours": 24}


def test_an_email_to_someone_who_chose_welsh_is_in_welsh():
    User.objects.create_user("Rhiant@Example.org", language="cy")

    message = queue_email(to="rhiant@example.org", template="password_reset", context=RESET)

    assert message.subject.startswith("Dewiswch gyfrinair newydd ar gyfer ")
    assert "Helo," in message.body_text
    assert "Mae'r ddolen hon yn gweithio unwaith, am 24 awr." in message.body_text
    assert "Choose a new password" not in message.body_text
    assert '<html lang="cy">' in message.body_html


def test_emails_in_one_batch_each_go_in_their_own_recipients_language():
    User.objects.create_user("cymraeg@example.org", language="cy")
    User.objects.create_user("english@example.org", language="en-gb")

    # Even when the person who caused them is browsing in Welsh.
    with translation.override("cy"):
        welsh, english, unknown = queue_emails(
            [
                {"to": "cymraeg@example.org", "template": "password_reset", "context": RESET},
                {"to": "english@example.org", "template": "password_reset", "context": RESET},
                {"to": "nobody@example.org", "template": "password_reset", "context": RESET},
            ]
        )

    assert welsh.subject.startswith("Dewiswch gyfrinair newydd")
    assert english.subject.startswith("Choose a new password")
    assert "This link works once, for 24 hours." in english.body_text
    # No account, no choice: the language in use when it was queued.
    assert unknown.subject.startswith("Dewiswch gyfrinair newydd")


def test_no_choice_means_the_language_in_use():
    User.objects.create_user("heb.ddewis@example.org")

    message = queue_email(to="heb.ddewis@example.org", template="password_reset", context=RESET)

    assert message.subject.startswith("Choose a new password")


def test_queueing_does_not_change_the_callers_language():
    User.objects.create_user("cymraeg@example.org", language="cy")

    with translation.override("en-gb"):
        queue_email(to="cymraeg@example.org", template="password_reset", context=RESET)
        assert translation.get_language() == "en-gb"
