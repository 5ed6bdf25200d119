"""Issue 14 in a real browser: what an office would trip over, fixed. Each page checked
with axe-core at desktop and phone sizes and saved as a screenshot (Visit.check).

The school is tests/school.py's, with Don Dent given Ann Ash's address (two families
on one email); Fred and Fiona Fox share one address as one household."""

import re

import pytest
from playwright.sync_api import expect
from school import build_school, change_contact, make_parent_role, resync

from schoolgate.accounts.models import User
from schoolgate.outbox.testing import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def office(visit):
    school = build_school()
    make_parent_role()
    change_contact(school.snapshot, "don", email="ann.ash@example.org")
    resync(school.snapshot)
    visit.sign_in_as(school.admin)
    visit.school = school
    return visit


def test_shared_emails_households_and_the_office_approval(office):
    page = office.page
    office.goto("/staff/mis/dashboard/shared-email/")
    row = page.locator("tr", has=page.locator("th", has_text="ann.ash@example.org"))
    expect(row).to_contain_text("Mrs Ann Ash: Amy Ash (Year 7), Ben Ash (Year 9)")
    expect(row).to_contain_text("Mr Don Dent: Dan Dent (Year 10)")
    expect(page.get_by_text("fox.family@example.org")).to_have_count(0)  # a household
    office.check("friction-shared-emails-held-back")

    row.get_by_role("link", name=re.compile("Approve one account")).click()
    expect(page.get_by_text("Amy Ash, Ben Ash, Dan Dent")).to_be_visible()
    office.check("friction-shared-email-approve")
    page.get_by_label("Reason (optional)").fill("Both families asked for one account")
    page.get_by_role("button", name="Approve one account").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "One account for ann.ash@example.org is approved"
    )
    office.check("friction-shared-email-approved")


def test_mis_accounts_confirms_before_any_mass_email(office):
    page = office.page
    office.goto("/staff/addons/mis-accounts/")
    # Expected from the rows: the Foxes' one address counts once; Ann and Don held back.
    row = page.locator("tr", has=page.locator("th", has_text="New accounts that would be"))
    expect(row.locator("td").nth(0)).to_have_text("6")
    shared = page.locator("tr", has=page.locator("th", has_text="share one account"))
    expect(shared.locator("td").nth(0)).to_have_text("1")
    expect(page.get_by_text("in the MISIncludes")).to_have_count(0)
    office.check("friction-mis-accounts")

    page.get_by_label("All contacts").check()
    page.get_by_role("button", name="Generate Contact Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before creating accounts")
    expect(
        page.get_by_text("6 accounts will be created and 6 people will be emailed")
    ).to_be_visible()
    expect(page.get_by_role("cell", name="fox.family@example.org")).to_have_count(1)
    assert not User.objects.filter(is_staff=False).exists()  # nothing yet
    office.check("friction-generate-confirm", phone=False)
    page.get_by_role("button", name="Create the accounts and send the emails").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "6 accounts were created"
    )

    page.get_by_role("button", name=re.compile(r"Resend invitations \(6 parents\)")).click()
    expect(page.get_by_text("6 parents who have never signed in will be emailed")).to_be_visible()
    office.check("friction-resend-confirm", phone=False)

    office.goto("/staff/mis/dashboard/not-primary/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Contacts who are not a priority 1 contact"
    )
    office.check("friction-not-primary")


def test_look_up_one_pupil_from_the_data_dashboard(office):
    page = office.page
    office.goto("/staff/mis/")
    office.check("friction-dashboard")
    page.get_by_label("Look up a pupil").fill("ash")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name="2 pupils found")).to_be_visible()
    office.check("friction-pupil-matches")
    page.get_by_role("link", name="Ben Ash").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ben Ash")
    ann = page.locator("tr", has=page.locator("th", has_text="Mrs Ann Ash"))
    expect(ann.locator("td")).to_have_text(
        ["Yes", "1", "ann.ash@example.org", "No: email shared with another family", "No account"]
    )
    office.check("friction-pupil-lookup")

    # The same page in Welsh.
    page.context.add_cookies([{"name": "django_language", "value": "cy", "url": office.base_url}])
    page.reload()
    expect(page.get_by_role("columnheader", name="Yn gweld y disgybl hwn")).to_be_visible()
    office.check("friction-pupil-lookup-cy")


def test_a_failing_mail_test_keeps_the_settings_and_says_why(office):
    page = office.page
    office.goto("/staff/addons/settings/")
    port = free_port()
    page.get_by_label("SMTP server").fill("127.0.0.1")
    page.get_by_label("SMTP port").fill(str(port))
    page.get_by_label("From address").fill("office@school.example")
    page.get_by_role("button", name=re.compile("Save and send a test email")).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"Could not connect to 127.0.0.1:{port}: nothing answered there."
    )
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Your previous email settings are kept."
    )
    office.check("friction-mail-test-failed", phone=False)


def test_words_not_internals_and_the_demo_outbox(office, settings):
    page = office.page
    office.goto("/staff/mis/sync/")
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose at least one file to sync")
    office.check("friction-sync-no-file", phone=False)

    office.goto("/staff/addons/mis-accounts/")
    page.get_by_label("All contacts").check()
    page.get_by_role("button", name="Generate Contact Accounts").click()
    page.get_by_role("button", name="Create the accounts and send the emails").click()
    office.goto("/accounts/audit/")
    expect(page.get_by_role("cell", name="Parent accounts generated")).to_be_visible()
    expect(page.get_by_text(re.compile(r"left out: no valid email address 2"))).to_be_visible()
    office.check("friction-audit-words")

    settings.DEBUG = True  # the demo: the outbox is the mail catcher
    office.goto("/staff/outbox/")
    row = page.locator("tr", has=page.get_by_role("cell", name="fox.family@example.org"))
    row.get_by_role("link").first.click()
    link = page.locator("a[href*='/accounts/set-password/']")
    expect(link).to_have_count(1)
    expect(page.get_by_text("This is a demo (DEBUG is on)")).to_be_visible()
    office.check("friction-outbox-demo")
