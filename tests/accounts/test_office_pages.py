"""Office pages added for issue 14: look up one pupil, and the shared-email decision."""

import re

from django.urls import reverse
from django.utils import timezone

from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import AuditEntry, User

LOOKUP = reverse("accounts:pupil-lookup")
SHARED = reverse("accounts:shared-emails")


def cells(html: str, name: str) -> list[str]:
    """The text of the cells of the table row headed by `name`."""
    row = re.search(r"<tr[^>]*>\s*<th[^>]*>" + re.escape(name) + r".*?</tr>", html, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td.*?</td>", row, re.S)]


def test_a_pupil_is_found_by_part_of_a_name_or_by_upn(client, school):
    client.force_login(school.admin)

    by_name = client.get(LOOKUP, {"q": "enjam"}).text  # Benjamin Ash, known as Ben
    by_upn = client.get(LOOKUP, {"q": "a102"}).text  # Cal Cole's UPN, any case
    several = client.get(LOOKUP, {"q": "ash"}).text

    assert '<h1 class="govuk-heading-l">Ben Ash</h1>' in by_name
    assert '<h1 class="govuk-heading-l">Cal Cole</h1>' in by_upn
    assert "2 pupils found" in several
    assert "Amy Ash" in several and "Ben Ash" in several
    assert "No pupil has a name or UPN matching" in client.get(LOOKUP, {"q": "zz"}).text


def test_a_pupils_contacts_say_pr_priority_email_account_and_sign_in(client, school, parent_role):
    generate_accounts(mode="all")
    User.objects.filter(email="cara.cole@example.org").update(
        last_login=timezone.make_aware(timezone.datetime(2026, 11, 3, 9, 15))
    )
    client.force_login(school.admin)

    html = client.get(LOOKUP, {"pupil": school.pupils["cal"].pk}).text

    # Expected from the rows of tests/school.py: Cal Cole's three contacts.
    assert cells(html, "Ms Cara Cole") == [
        "Yes",
        "1",
        "cara.cole@example.org",
        "Yes",
        "Last signed in 3 November 2026 09:15",
    ]
    assert cells(html, "Mr Colin Cole") == [
        "Yes",
        "2",
        "Colin.Cole@Example.ORG",
        "Yes",
        "Has an account, never signed in",
    ]
    assert cells(html, "Mr Steve Stone") == [
        "No",
        "3",
        "steve.stone@example.org",
        "No",
        "No account",
    ]


def test_a_contact_held_back_by_a_shared_email_says_why(client, school):
    from school import change_contact, resync

    change_contact(school.snapshot, "don", email="ann.ash@example.org")
    resync(school.snapshot)
    client.force_login(school.admin)

    html = client.get(LOOKUP, {"pupil": school.pupils["dan"].pk}).text

    assert cells(html, "Mr Don Dent")[3] == "No: email shared with another family"
    assert cells(html, "Mrs Dee Dent")[3] == "No"  # no email address: not a sharing problem


def test_the_lookup_is_for_staff_who_see_mis_data(client, school):
    client.force_login(User.objects.create_user("ann.ash@example.org", "x"))
    assert client.get(LOOKUP, {"q": "Ash"}).status_code == 403
    client.force_login(school.admin)
    assert client.get(LOOKUP, {"pupil": 999999}).status_code == 404
    assert client.get(LOOKUP, {"pupil": "x"}).status_code == 404


def test_the_dashboard_has_the_lookup_form(client, school):
    client.force_login(school.admin)
    html = client.get(reverse("mis:dashboard")).text
    assert f'action="{LOOKUP}"' in html and 'name="q"' in html


def test_the_office_approves_an_email_shared_by_two_families(client, school, parent_role):
    from school import change_contact, resync

    change_contact(school.snapshot, "don", email="ann.ash@example.org")
    resync(school.snapshot)
    client.force_login(school.admin)

    listed = client.get(reverse("mis:dashboard-list", args=["shared-email"])).text
    assert "ann.ash@example.org" in listed
    assert f"{SHARED}?email=ann.ash%40example.org" in listed
    page = client.get(SHARED, {"email": "ann.ash@example.org"}).text
    assert "Amy Ash, Ben Ash, Dan Dent" in page  # what one account would see
    assert "Approve one account" in page

    response = client.post(
        SHARED,
        {"email": "ann.ash@example.org", "action": "approve", "reason": "Phoned them"},
        follow=True,
    )

    assert response.redirect_chain == [(SHARED, 302)]
    assert "One account for ann.ash@example.org is approved" in response.text
    entry = AuditEntry.objects.get(action="shared_email.approved")
    assert (entry.subject, entry.reason, entry.actor) == (
        "ann.ash@example.org",
        "Phoned them",
        school.admin,
    )
    listed = client.get(reverse("mis:dashboard-list", args=["shared-email"])).text
    assert "ann.ash@example.org" not in listed
    assert "One account" in client.get(SHARED).text


def test_only_staff_who_manage_users_may_approve(client, school):
    client.force_login(school.teacher)
    assert client.post(SHARED, {"email": "x@example.org", "action": "approve"}).status_code == 403


def test_the_audit_log_says_what_happened_in_words(client, school, parent_role):
    generate_accounts(mode="all", actor=school.admin)
    AuditEntry.objects.create(
        action="accounts.generated", detail={"created": 1355, "skipped": {"no_email": 85}}
    )
    client.force_login(school.admin)

    html = client.get(reverse("accounts:audit")).text

    assert "Parent accounts generated" in html
    assert "accounts.generated" not in html.split("<tbody")[1]  # the code only in the filter
    assert "accounts created: 1,355; left out: no valid email address 85" in html
    # The real entry, from tests/school.py's counts.
    assert "accounts created: 8; already had an account: 0; invitations sent: 8" in html
    assert "{&#x27;no_email&#x27;" not in html and "{'no_email'" not in html


def test_the_sync_report_names_the_format_and_kind_of_export_in_words(client, school):
    from schoolgate.mis.models import SyncRun
    from schoolgate.mis.views import format_label

    run = SyncRun.objects.create(
        status=SyncRun.Status.SUCCEEDED, source_format="ctf+timetable", full=True
    )
    client.force_login(school.admin)

    html = client.get(reverse("mis:sync-report", args=[run.pk])).text

    assert "Common Transfer File (CTF) and timetable CSV" in html
    assert "A complete export: anyone the files should list but do not was taken off" in html
    assert "ctf+timetable" not in html and "whole truth" not in html
    assert format_label("csv") == "pupils and contacts CSV"
