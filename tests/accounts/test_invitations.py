"""Invitation emails: content, the set-password link, resending, real delivery."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from school import change_link, resync

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.invitations import (
    never_signed_in_parents,
    queue_invitation,
    resend_invitations,
)
from schoolgate.accounts.models import AuditEntry, User
from schoolgate.accounts.tokens import invitation_path, invitation_token
from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.testing import school_mail_at, smtp_server

__all__ = ["smtp_server"]


def _link_in(text: str) -> str:
    return next(word for word in text.split() if "/set-password/" in word)


def test_each_new_account_gets_an_invitation_with_a_set_password_link(
    school, parent_role, settings
):
    settings.SITE_URL = "https://parents.school.example"
    generate_accounts(mode="all")
    ann = User.objects.get(email="ann.ash@example.org")

    message = OutboxMessage.objects.get(to=ann.email)

    assert message.template == "invitation"
    assert "Schoolgate Demo Academy" in message.subject
    assert "Dear Ann Ash," in message.body_text
    link = _link_in(message.body_text)
    assert link.startswith("https://parents.school.example/accounts/")
    assert f'href="{link}"' in message.body_html
    uid, token = link.rstrip("/").split("/")[-2:]
    assert force_str(urlsafe_base64_decode(uid)) == str(ann.pk)
    assert invitation_token.check_token(ann, token)


def test_the_invitation_says_when_the_link_expires(school, parent_role, settings):
    settings.SCHOOLGATE = {**settings.SCHOOLGATE, "INVITATION_DAYS": 10}
    generate_accounts(mode="all")

    message = OutboxMessage.objects.get(to="ann.ash@example.org")

    expires = format_date(timezone.localdate() + timedelta(days=10), "j F Y")
    assert f"until {expires}" in message.body_text
    assert f"until {expires}" in message.body_html


def test_the_school_name_from_the_settings_is_used(school, parent_role):
    from schoolgate.addons.selectors import get_addon_settings

    addon_settings = get_addon_settings()
    addon_settings.school_name = "St Anne's C of E Primary"
    addon_settings.save()
    generate_accounts(mode="all")

    message = OutboxMessage.objects.get(to="ann.ash@example.org")

    assert message.subject == "Set your password for St Anne's C of E Primary's parent portal"
    assert "St Anne's C of E Primary has set up" in message.body_text
    assert "St Anne&#x27;s C of E Primary has set up" in message.body_html


def test_queue_invitation_notes_the_time_and_who_sent_it(school, parent_role):
    user = User.objects.create_user("al.ash@example.org")

    queue_invitation(user=user, actor=school.admin)

    user.refresh_from_db()
    assert user.invited_at is not None
    assert OutboxMessage.objects.filter(to=user.email, template="invitation").count() == 1
    entry = AuditEntry.objects.get(action="accounts.invited")
    assert (entry.subject, entry.actor) == (user.email, school.admin)
    assert invitation_path(user) in OutboxMessage.objects.get(to=user.email).body_text


def test_resend_goes_to_parents_who_have_never_signed_in_and_still_qualify(school, parent_role):
    generate_accounts(mode="all")
    OutboxMessage.objects.all().delete()
    signed_in = User.objects.get(email="ann.ash@example.org")
    signed_in.last_login = timezone.now()
    signed_in.save()
    User.objects.filter(email="cara.cole@example.org").update(is_active=False)
    # Helen stops qualifying: her PR is removed in the MIS.
    change_link(school.snapshot, "hal", "helen", parental_responsibility=False)
    resync(school.snapshot)
    # Staff who are also parents use the staff sign-in: no parent invitation.
    User.objects.filter(email="al.ash@example.org").update(is_staff=True)

    invited = resend_invitations(actor=school.admin)

    expected = {
        "colin.cole@example.org",
        "don.dent@example.org",
        "gina.gray@example.org",
        "fox.family@example.org",  # Fred and Fiona Fox's one household account
    }
    assert invited == 4
    assert set(OutboxMessage.objects.values_list("to", flat=True)) == expected
    assert set(never_signed_in_parents().values_list("email", flat=True)) == expected
    entry = AuditEntry.objects.get(action="accounts.invitations_resent")
    assert entry.detail == {"invited": 4}


def test_resending_gives_a_fresh_link_and_time(school, parent_role):
    generate_accounts(mode="all")
    User.objects.update(invited_at=timezone.now() - timedelta(days=20))

    resend_invitations()

    don = User.objects.get(email="don.dent@example.org")
    assert timezone.now() - don.invited_at < timedelta(minutes=1)
    assert OutboxMessage.objects.filter(to=don.email).count() == 2


def test_invitations_reach_a_real_smtp_server_with_both_parts(school, parent_role, smtp_server):
    school_mail_at(smtp_server, from_email="Office <office@school.example>")
    generate_accounts(mode="primary")

    counts = sending.drain()

    assert counts["sent"] == 4
    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert set(received) == {
        "ann.ash@example.org",
        "cara.cole@example.org",
        "gina.gray@example.org",
        "fox.family@example.org",  # Fred is priority 1 for Fay
    }
    ann = received["ann.ash@example.org"]
    assert ann.message["From"] == "Office <office@school.example>"
    assert "/set-password/" in ann.part("text/plain")
    assert "/set-password/" in ann.part("text/html")


def test_the_invitation_link_lets_the_parent_in_to_see_their_children(client, school, parent_role):
    generate_accounts(mode="all")
    link = _link_in(OutboxMessage.objects.get(to="ann.ash@example.org").body_text)
    path = link.removeprefix(django_settings.SITE_URL)

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert "new_password1" in form_page.text
    password = "a long and unusual passphrase 42"
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"new_password1": password, "new_password2": password},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/parents/"
    assert "Amy Ash" in response.text and "Ben Ash" in response.text
    assert not never_signed_in_parents().filter(email="ann.ash@example.org").exists()
    client.logout()
    assert "new_password1" not in client.get(path, follow=True).text  # it works once
