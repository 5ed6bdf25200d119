"""Every page the journey does not reach, checked with axe-core at desktop and phone
sizes: the staff area's other pages, the password pages, the error pages, and the
pages that answer a form with errors. Plus the keyboard: the skip link comes first
and takes focus to the main content."""

from pathlib import Path

import pytest
from browser_helpers import run_axe
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from schoolgate.accounts.access import ALL
from schoolgate.accounts.generation import generate_accounts
from schoolgate.accounts.models import TOTPDevice, User
from schoolgate.accounts.tokens import invitation_path
from schoolgate.mis.dashboard import LISTS
from schoolgate.mis.models import SyncRun
from schoolgate.mis.sync import sync_mis
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # tests/school.py's staff password
BAD_CTF = Path(__file__).parents[1] / "mis" / "fixtures" / "ctf" / "bad_values.xml"
SIZES = ["desktop", "phone"]


def check_pages(visit, pages: list[tuple[str, str, int]]) -> None:
    """Open and check each page, then report every page that failed, not just the first."""
    failures = []
    for name, path, status in pages:
        try:
            visit.goto(path, status=status)
            visit.check(name, status=status)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_axe_reports_a_violation_when_there_is_one(visit):
    """The checker itself: a page with an image without alternative text fails."""
    page = visit.goto("/accounts/sign-in/")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<img src=\"/static/schoolgate/none.png\">')"
    )
    assert "image-alt" in [violation["id"] for violation in run_axe(page)]


def test_staff_pages(visit, school, parent_role):
    generate_accounts(mode=ALL, actor=school.admin)
    failed = sync_mis([BAD_CTF], trigger=SyncRun.Trigger.UPLOAD, started_by=school.admin)
    assert failed.status == SyncRun.Status.FAILED and failed.errors
    parent = User.objects.get(email="ann.ash@example.org")
    message = OutboxMessage.objects.filter(to=parent.email).get()
    visit.sign_in_as(school.admin)

    check_pages(
        visit,
        [
            *[(f"dashboard-list-{slug}", f"/staff/mis/dashboard/{slug}/", 200) for slug in LISTS],
            ("sync-history", "/staff/mis/sync/", 200),
            ("sync-report-failed", f"/staff/mis/sync/{failed.pk}/", 200),
            ("mis-accounts-again", "/staff/addons/mis-accounts/", 200),
            ("outbox", "/staff/outbox/", 200),
            ("outbox-message", f"/staff/outbox/{message.pk}/", 200),
            ("users-search", "/accounts/users/?q=ash", 200),
            ("user-detail-parent", f"/accounts/users/{parent.pk}/", 200),
            ("user-detail-staff", f"/accounts/users/{school.teacher.pk}/", 200),
            ("role-detail-parents", f"/accounts/roles/{parent_role.pk}/", 200),
            ("staff-accounts", "/accounts/staff-accounts/", 200),
            ("audit", "/accounts/audit/", 200),
            ("change-password", "/accounts/change-password/", 200),
            ("two-factor-set-up", "/accounts/two-factor/set-up/", 200),
        ],
    )


def test_password_and_sign_in_pages(visit, school, parent_role):
    parent = User.objects.create_user("ann.ash@example.org", None, first_name="Ann")
    parent.groups.add(parent_role)
    used_invitation = invitation_path(parent)
    parent.set_password(PASSWORD)
    parent.save()  # the invitation's link no longer works once a password is set
    uid = urlsafe_base64_encode(force_bytes(school.admin.pk))
    reset = f"/accounts/reset-password/{uid}/{default_token_generator.make_token(school.admin)}/"

    check_pages(
        visit,
        [
            ("forgot-password", "/accounts/forgot-password/", 200),
            ("forgot-password-sent", "/accounts/forgot-password/sent/", 200),
            ("set-password-link-used", used_invitation, 200),
            ("new-link-sent", "/accounts/new-link/sent/", 200),
            ("reset-password", reset, 200),
        ],
    )
    visit.goto("/accounts/reset-password/MQ/not-a-token/")
    visit.check("reset-password-link-broken")

    # The code page after the password, for someone who set up an authenticator.
    TOTPDevice.objects.create(
        user=school.teacher, secret="JBSWY3DPEHPK3PXP", confirmed_at=timezone.now()
    )
    teacher = visit.another_person()
    teacher.sign_in_as(school.teacher)
    teacher.goto("/accounts/two-factor/")
    teacher.check("two-factor")


def test_error_pages(visit, school, parent_for):
    check_pages(visit, [("not-found-signed-out", "/no-such-page/", 404)])
    teacher = visit.another_person()
    teacher.sign_in_as(school.teacher)  # staff, but not allowed to manage users
    check_pages(
        teacher,
        [
            ("forbidden", "/accounts/users/", 403),
            ("portal-no-children", "/parents/", 403),
        ],
    )


@pytest.mark.urls("browser_urls")
def test_server_error_pages(visit):
    check_pages(
        visit,
        [
            ("server-error", "/test/server-error", 500),
            ("service-unavailable", "/test/service-unavailable", 503),
        ],
    )


@pytest.mark.parametrize("size", SIZES)
def test_forms_answered_with_errors(visit_at, size, school):
    """Error summaries and messages, at each size (a form's answer cannot be re-opened)."""
    person = visit_at(size)
    page = person.page

    person.goto("/accounts/sign-in/")
    page.get_by_label("Email address").fill(school.admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    person.check("sign-in-error", phone=False)

    person.goto("/accounts/forgot-password/")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("forgot-password-error", phone=False)

    person.sign_in_as(school.admin)
    person.goto("/staff/mis/sync/")
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("sync-no-file", phone=False)
    page.get_by_label("Files from your MIS").set_input_files(str(BAD_CTF))
    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.locator("#problems")).to_be_visible()
    person.check("sync-failed", phone=False)

    person.goto("/accounts/roles/new/")
    page.get_by_role("button", name="Create role").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("role-create-error", phone=False)

    person.goto("/staff/addons/settings/")
    page.get_by_label("SMTP port").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("addon-settings-error", phone=False)

    person.goto("/staff/addons/mis-accounts/")
    page.get_by_role("button", name="Generate Contact Accounts").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("mis-accounts-no-role", phone=False)

    person.goto("/accounts/change-password/")
    page.get_by_label("Old password").fill("wrong")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    person.check("change-password-error", phone=False)


def test_locked_out_page(visit_at, settings):
    for size in SIZES:  # the phone is locked out at once: same address as the desktop
        person = visit_at(size)
        page = person.page
        heading = page.get_by_role("heading", level=1)
        for _attempt in range(settings.LOCKOUT_FAILURES):
            person.goto("/accounts/sign-in/")
            page.get_by_label("Email address").fill("someone@example.org")
            page.get_by_label("Password").fill("a guess")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            if heading.inner_text() != "Sign in":
                break
        expect(heading).to_have_text("Too many attempts to sign in")
        person.check("locked-out", phone=False)


@pytest.mark.parametrize(
    "who,path",
    [("nobody", "/accounts/sign-in/"), ("admin", "/staff/mis/"), ("parent", "/parents/")],
)
def test_the_skip_link_comes_first_and_moves_focus_to_the_main_content(
    visit, school, parent_for, who, path
):
    if who == "admin":
        visit.sign_in_as(school.admin)
    elif who == "parent":
        visit.sign_in_as(parent_for(school.contacts["ann"]))
    page = visit.goto(path)
    skip = page.get_by_role("link", name="Skip to main content")
    first = page.evaluate(
        """() => [...document.querySelectorAll(
              'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]')]
            .filter((el) => el.tabIndex >= 0 && !el.disabled && !el.hidden
                            && el.getClientRects().length)
            .map((el) => el.textContent.trim())[0]"""
    )
    assert first == "Skip to main content"
    if who != "nobody":  # the sign-in page puts the cursor in the email field instead
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        assert skip.bounding_box()["width"] > 1  # shown when it has focus
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
