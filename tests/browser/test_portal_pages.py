"""The parent portal in a real browser: the home page, a pupil page, My details (with a
correction sent and one refused), and the office's corrections queue, each checked
with axe-core (WCAG 2.2 AA) at desktop and phone sizes (browser_helpers.Visit.check)."""

import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "portal"))

from portal_school import book, make_evening, make_parents
from school import resync

from schoolgate.accounts.models import User
from schoolgate.mis.snapshot import AttendanceRow
from schoolgate.portal.models import CorrectionRequest
from schoolgate.portal.services import request_correction

pytestmark = pytest.mark.browser


@pytest.fixture
def parents(school):
    return make_parents(school)


def test_the_parents_home_and_pupil_pages(visit, school, parents):
    evening = make_evening(school)
    make_evening(school, name="Summer evening", in_days=40, opens_in_days=20)
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30), ("amy", "sam", 17, 0))
    book(school, evening, parents["al"], ("amy", "tom", 17, 30))
    request_correction(user=parents["ann"], field="phone", details="New mobile 07700 900999")
    amy = school.snapshot.pupils["P-AMY"].mis_id
    school.snapshot.attendance_pupils = {amy}
    for year, figures in ((2024, (380, 361, 15, 4)), (2025, (120, 118, 2, 0))):
        row = AttendanceRow(amy, year, "838/3321", "Our School", *figures)
        school.snapshot.attendance[(amy, year, row.school)] = row
    resync(school.snapshot)
    visit.sign_in_as(parents["ann"])

    page = visit.goto("/parents/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your children")
    expect(page.get_by_role("link", name="Amy Ash", exact=True)).to_be_visible()
    visit.check("portal-home")

    page.get_by_role("link", name="Amy Ash", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Amy Ash")
    expect(page.get_by_text("Another parent or carer")).to_be_visible()
    expect(page.get_by_role("cell", name="95.0%")).to_be_visible()
    visit.check("portal-pupil")


def test_my_details_and_a_correction_sent_and_refused(visit_at, school, parents):
    for size in ("desktop", "phone"):
        visit = visit_at(size)
        visit.sign_in_as(parents["ann"])
        page = visit.goto("/parents/my-details/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My details")
        visit.check("portal-my-details", phone=False)

        page.get_by_role("button", name="Send to the school").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what needs correcting")
        visit.check("portal-my-details-errors", phone=False)

        page.get_by_label("Phone numbers").check()
        page.get_by_label("What should it say?").fill("My mobile is now 07700 900999")
        page.get_by_role("button", name="Send to the school").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "the school office has your correction"
        )
        visit.check("portal-my-details-sent", phone=False)
    assert CorrectionRequest.objects.count() == 2


def test_the_corrections_queue(visit, school, parents):
    request_correction(user=parents["ann"], field="phone", details="New mobile 07700 900999")
    request_correction(user=parents["cara"], field="name", details="My name is Cara-Jane")
    office = User.objects.create_user("office@school.example", "x", is_staff=True)
    office.user_permissions.add(Permission.objects.get(codename="review_corrections"))
    visit.sign_in_as(office)

    page = visit.goto("/staff/corrections/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Corrections from parents")
    visit.check("staff-corrections")

    page.get_by_role("button", name="Mark done the correction from Mrs Ann Ash").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("marked done")
    page = visit.goto("/staff/corrections/?status=done")
    visit.check("staff-corrections-done")
