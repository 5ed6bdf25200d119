"""The parent-accounts workflow in a real browser, through the UI only, as people do it:
the office loads the MIS files, checks the Data Dashboard, sets up the "MIS Parent" role
and the add-on settings, generates accounts for primary contacts; a parent sets a
password from the invitation and sees their children; a later sync takes one child
away and the parent's next page load shows it. Every page is checked with axe-core at
desktop and phone sizes (see browser_helpers.Visit.check)."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from schoolgate.accounts.models import User
from schoolgate.core.emails import normalise_email
from schoolgate.mis.demo import demo_parent, generate_school, write_ctf
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.browser

PUPILS = 30
ADMIN_EMAIL = "office@school.example"
ADMIN_PASSWORD = "a long office passphrase"
PARENT_PASSWORD = "blue kettle morning 42"
LINK = re.compile(r"https?://\S+/accounts/set-password/\S+")


def row_values(page, label: str) -> list[str]:
    """The cells of the table row headed `label`."""
    row = page.locator("tr", has=page.locator("th", has_text=label))
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def menu(page, label: str):
    """An item of the site's navigation menu."""
    return page.get_by_role("navigation", name="Menu").get_by_role("link", name=label, exact=True)


def sign_in_with_keyboard(visit, *, email: str, password: str) -> None:
    """Type into the sign-in form without touching the mouse (the email field has focus)."""
    page = visit.page
    expect(page.get_by_label("Email address")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def upload(visit, *paths) -> None:
    page = visit.page
    page.get_by_label("Files from your MIS").set_input_files([str(path) for path in paths])
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sync report \d+$"))


def test_office_generates_accounts_and_a_parent_signs_in_until_the_mis_takes_a_child_away(
    visit, tmp_path
):
    school = generate_school(tmp_path / "mis", pupils=PUPILS)
    User.objects.create_user(
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        first_name="Olive",
        last_name="Office",
        is_staff=True,
        is_superuser=True,
    )
    office = visit
    page = office.page

    # The office signs in with the keyboard alone and lands on the Data Dashboard.
    office.goto("/accounts/sign-in/")
    office.check("sign-in")
    sign_in_with_keyboard(office, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    page.wait_for_url("**/staff/mis/")
    expect(page.get_by_text("No data has been synced yet.")).to_be_visible()
    office.check("dashboard-empty")

    # Sync: upload the CTF and its timetable together, and read the report.
    menu(page, "Sync").click()
    office.check("sync")
    upload(office, school.ctf, school.timetable)
    expect(page.get_by_text("The sync succeeded. This is its report.")).to_be_visible()
    assert row_values(page, "Pupils")[0] == str(PUPILS)  # added
    office.check("sync-report")

    # The Data Dashboard, and one of its lists.
    menu(page, "Data Dashboard").click()
    on_roll = page.locator(".govuk-summary-list__row", has_text="Pupils on roll")
    expect(on_roll.locator("dd")).to_have_text(str(PUPILS))
    office.check("dashboard")
    page.get_by_role(
        "link", name=re.compile("parental responsibility but no email address")
    ).click()
    expect(page.locator("table tbody tr").first).to_be_visible()
    office.check("dashboard-list")

    # User Manager: create the "MIS Parent" role, leaving its permissions alone.
    menu(page, "User Manager").click()
    office.check("users")
    page.get_by_role("link", name="Roles", exact=True).click()
    office.check("roles")
    page.get_by_role("link", name="Create New Role").click()
    office.check("role-create")
    page.get_by_label("Title").fill("MIS Parent")
    page.get_by_label("Description").fill(
        "Accounts generated for parents by the MIS Accounts add-on."
    )
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("The role “MIS Parent” was created.")).to_be_visible()
    office.check("role-detail")

    # Add-on settings: contact accounts go into that role.
    menu(page, "Add-ons").click()
    office.check("addon-settings")
    page.get_by_label("Role for contact accounts").select_option(label="MIS Parent")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    chosen = page.get_by_label("Role for contact accounts").locator("option:checked")
    expect(chosen).to_have_text("MIS Parent")

    # MIS Accounts: read what each choice would do, then generate for primary contacts.
    menu(page, "MIS Accounts").click()
    office.check("mis-accounts")
    would_create = row_values(page, "New accounts that would be created and invited")
    all_contacts, primary_only = (int(value) for value in would_create[:2])
    assert 0 < primary_only < all_contacts
    page.get_by_label("Primary contacts only").check()
    page.get_by_role("button", name="Generate Contact Accounts").click()
    # No mass email on one click: a page says how many and who, then confirm.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before creating accounts")
    expect(page.get_by_text(f"{primary_only} accounts will be created")).to_be_visible()
    office.check("mis-accounts-confirm", phone=False)
    page.get_by_role("button", name="Create the accounts and send the emails").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{primary_only} accounts were created"
    )
    office.check("mis-accounts-generated")
    assert OutboxMessage.objects.filter(template="invitation").count() == primary_only

    # A parent with two children opens the invitation email from the outbox.
    contact, children = demo_parent()
    assert contact is not None and len(children) == 2
    invitation = OutboxMessage.objects.get(template="invitation", to=contact.email_key)
    link = urlsplit(LINK.search(invitation.body_text).group(0))
    parent = office.another_person()
    ppage = parent.page
    parent.goto(link.path)
    expect(ppage.get_by_role("heading", level=1)).to_have_text("Set your password")
    parent.check("set-password")

    # ...and sets a password with the keyboard alone: skip link first, then the form.
    ppage.keyboard.press("Tab")
    expect(ppage.get_by_role("link", name="Skip to main content")).to_be_focused()
    ppage.keyboard.press("Enter")
    expect(ppage.locator("main")).to_be_focused()
    ppage.keyboard.press("Tab")
    expect(ppage.get_by_label("Password", exact=True)).to_be_focused()
    ppage.keyboard.type(PARENT_PASSWORD)
    ppage.keyboard.press("Tab")
    expect(ppage.get_by_label("Confirm password")).to_be_focused()
    ppage.keyboard.type(PARENT_PASSWORD)
    ppage.keyboard.press("Enter")

    # Signed in, on the portal: both children, then one child's page.
    ppage.wait_for_url(re.compile(r"/parents/(#main-content)?$"))
    expect(ppage.get_by_role("button", name="Sign out")).to_be_visible()
    names = ppage.locator("h2[id^=child-]").all_inner_texts()
    assert sorted(names) == sorted(child.display_name for child in children)
    parent.check("portal-home")
    leaving = children[0]
    ppage.get_by_role("link", name=leaving.display_name, exact=True).click()
    expect(ppage.get_by_role("heading", level=1)).to_have_text(leaving.display_name)
    child_url = parent.path()
    parent.check("portal-pupil")

    # The MIS no longer gives this parent parental responsibility for that child.
    email = normalise_email(contact.email_key)
    (pupil,) = [p for p in school.school.pupils if p.upn == leaving.upn]
    (link_row,) = [
        row
        for row in pupil.links
        if row.person.email and normalise_email(row.person.email) == email
    ]
    link_row.responsibility = False
    changed = tmp_path / "changed"
    changed.mkdir()
    write_ctf(school.school, changed / school.ctf.name)
    office.goto("/staff/mis/sync/")
    upload(office, changed / school.ctf.name, school.timetable)
    links = row_values(page, "Pupil–contact links")
    assert links == ["0", "1", "0"], links
    office.check("sync-report-changes")

    # On the parent's next page load the child is gone, and its page is not found.
    menu(ppage, "Your children").click()
    names = ppage.locator("h2[id^=child-]").all_inner_texts()
    assert names == [children[1].display_name]
    parent.check("portal-home-after-sync")
    parent.goto(child_url, status=404)
    expect(ppage.get_by_role("heading", level=1)).to_be_visible()
    parent.check("not-found", status=404)
