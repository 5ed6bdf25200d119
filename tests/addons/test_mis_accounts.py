"""The MIS Accounts page: preview, Generate Contact Accounts, Resend invitations."""

import re

import pytest
from django.urls import reverse
from school import make_parent_role

from schoolgate.accounts.models import User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.outbox.models import OutboxMessage

URL = "/staff/addons/mis-accounts/"


@pytest.fixture
def admin_client(client, school):
    client.force_login(school.admin)
    return client


def figures(html: str, label: str) -> tuple[int, int]:
    """The (all contacts, primary only) numbers of the table row starting with `label`."""
    row = re.search(re.escape(label) + r".*?</tr>", html, re.S).group(0)
    cells = re.findall(r'cell--numeric">(?:<strong>)?(\d+)', row)
    return int(cells[0]), int(cells[1])


def test_the_page_is_addons_mis_accounts():
    assert reverse("addons:mis-accounts") == URL


def test_the_page_shows_what_each_choice_would_create(admin_client, parent_role):
    response = admin_client.get(URL)

    assert response.status_code == 200
    html = response.text
    assert figures(html, "New accounts that would be created") == (8, 4)
    assert figures(html, "Contacts who already have an account") == (0, 0)
    assert figures(html, "no parental responsibility") == (4, 4)
    assert figures(html, "no valid email address") == (2, 2)
    assert figures(html, "share one account with their household") == (1, 0)
    assert figures(html, "shared with another family") == (0, 0)
    assert figures(html, "not a priority 1 contact") == (0, 5)
    assert not User.objects.filter(is_staff=False).exists()  # looking changes nothing


def test_the_page_explains_the_process_and_its_consequences(admin_client, parent_role):
    html = admin_client.get(URL).text

    assert html.count("<h1") == 1
    assert "ALL of that child" in html
    assert "parental responsibility" in html
    assert "leave their email address out" in html
    assert "MIS Parent" in html  # the role accounts go into
    assert 'id="email-sender"' in html  # who parents will see the email from
    for slug in ("pr-no-email", "invalid-email", "shared-email", "not-primary"):
        assert reverse("mis:dashboard-list", args=[slug]) in html
    assert "Generate Contact Accounts" in html


def test_the_mode_defaults_to_the_schools_setting(admin_client, parent_role):
    addon_settings = get_addon_settings()
    addon_settings.generation_mode = "primary"
    addon_settings.save()

    html = admin_client.get(URL).text

    assert re.search(r'value="primary" checked', html)
    assert not re.search(r'value="all" checked', html)


def test_generate_contact_accounts_creates_and_invites(admin_client, parent_role):
    response = admin_client.post(
        URL, {"action": "generate", "mode": "all", "confirm": "yes"}, follow=True
    )

    assert response.redirect_chain == [(URL, 302)]
    assert "8 accounts were created" in response.text
    assert User.objects.filter(is_staff=False).count() == 8
    assert OutboxMessage.objects.filter(template="invitation").count() == 8


def test_a_later_visit_shows_new_starters_and_resend(admin_client, parent_role):
    admin_client.post(URL, {"action": "generate", "mode": "primary", "confirm": "yes"})

    html = admin_client.get(URL).text

    assert "New starters" in html
    assert figures(html, "New accounts that would be created") == (4, 0)
    assert figures(html, "Contacts who already have an account") == (4, 4)
    assert "Resend invitations (4 parents)" in html


def test_resend_invitations_sends_again_to_who_never_signed_in(admin_client, parent_role):
    admin_client.post(URL, {"action": "generate", "mode": "primary", "confirm": "yes"})

    response = admin_client.post(URL, {"action": "resend", "confirm": "yes"}, follow=True)

    assert "sent again to 4 parents" in response.text
    assert OutboxMessage.objects.filter(template="invitation").count() == 8


def test_generate_first_shows_who_would_be_emailed_and_sends_nothing(admin_client, parent_role):
    response = admin_client.post(URL, {"action": "generate", "mode": "primary"})

    assert response.status_code == 200
    html = response.text
    assert "Check before creating accounts" in html
    assert "4 accounts will be created and 4 people will be emailed" in html
    assert "Who gets an account: Primary contacts only" in html
    # The four people, from the rows: Ann, Cara, Gina and the Foxes' one address.
    for email in ("ann.ash@example.org", "cara.cole@example.org", "gina.gray@example.org"):
        assert email in html
    assert html.count("fox.family@example.org") == 1
    assert "al.ash@example.org" not in html  # priority 2
    assert 'name="confirm" value="yes"' in html
    assert not User.objects.filter(is_staff=False).exists()
    assert not OutboxMessage.objects.exists()


def test_resend_first_shows_who_would_be_emailed_and_sends_nothing(admin_client, parent_role):
    admin_client.post(URL, {"action": "generate", "mode": "primary", "confirm": "yes"})
    before = OutboxMessage.objects.count()

    html = admin_client.post(URL, {"action": "resend"}).text

    assert "4 parents who have never signed in will be emailed" in html
    assert "gina.gray@example.org" in html
    assert OutboxMessage.objects.count() == before


def test_counts_have_thousands_separators(admin_client, parent_role):
    from django.test import RequestFactory

    from schoolgate.addons.mis_accounts import _confirm

    people = [(f"p{n}@example.org", f"Parent {n}") for n in range(1234)]
    request = RequestFactory().post(URL)
    request.user = User.objects.get(email="admin@school.example")
    html = _confirm(request, action="resend", people=people).content.decode()
    assert "1,234 parents who have never signed in" in html
    assert "And 1,034 more people." in html


def test_generate_without_a_role_refuses_and_links_to_the_settings(admin_client):
    response = admin_client.post(URL, {"action": "generate", "mode": "all"})

    assert response.status_code == 200
    assert "govuk-error-summary" in response.text
    assert reverse("addons:settings") in response.text
    assert "choose the role for contact accounts" in response.text
    assert not User.objects.filter(is_staff=False).exists()
    assert not OutboxMessage.objects.exists()


def test_the_page_warns_before_anything_when_no_role_is_chosen(admin_client):
    html = admin_client.get(URL).text

    assert "No role is chosen for contact accounts yet" in html


def test_a_mode_that_is_not_offered_is_an_error(admin_client, parent_role):
    response = admin_client.post(URL, {"action": "generate", "mode": "everyone"})

    assert "govuk-error-summary" in response.text
    assert "Who should get an account?" in response.text
    assert not User.objects.filter(is_staff=False).exists()


def test_staff_without_the_settings_permission_are_refused(client, school):
    make_parent_role()
    client.force_login(school.teacher)

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "generate", "mode": "all"}).status_code == 403
    assert not User.objects.filter(is_staff=False).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, school):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))
