"""Issue 14's evenings items in a real browser: the organiser's grid uses the whole
screen width, a clash names both times and teachers, Back after confirming says the
times are booked, the hold page keeps the time to confirm by beside the messages, and
with one day only the parent chooses the day first. axe 0 and screenshots (Visit.check)."""

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import LONDON, make_school
from test_parent_pages import upcoming_evening

from schoolgate.addons.selectors import get_addon_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def school():
    return make_school()


@pytest.fixture
def evening(school):
    return upcoming_evening(school)


def test_the_grid_uses_the_whole_screen_width(visit, school, evening):
    visit.sign_in_as(school.organiser)
    page = visit.goto(f"/staff/evenings/{evening.pk}/grid/")
    container = page.locator("main").locator(
        "xpath=ancestor::div[contains(@class,'govuk-width-container')]"
    )
    width = container.evaluate("e => e.getBoundingClientRect().width")
    assert width > 1100, width  # 1280 wide, less the margins; was 960
    visit.check("friction-grid-full-width")


def test_a_parent_sees_the_clash_named_and_back_after_confirming(visit, school, evening):
    visit.sign_in_as(school.ann)
    page = visit.page
    visit.goto(f"/parents/evenings/{evening.pk}/")
    page.get_by_role("group", name="Teachers for Amy Ash").get_by_label(
        "Ms M Maths", exact=True
    ).check()
    page.get_by_role("group", name="Teachers for Ben Ash").get_by_label(
        "Mr S Science", exact=True
    ).check()
    page.get_by_role("button", name="Choose times myself").click()
    page.get_by_role("group", name="Ms M Maths for Amy Ash").get_by_label(
        "17:00", exact=True
    ).check()
    page.get_by_role("group", name="Mr S Science for Ben Ash").get_by_label(
        "17:00", exact=True
    ).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "17:00 with Ms M Maths and 17:00 with Mr S Science overlap"
    )
    visit.check("friction-clash-named", phone=False, status=409)

    page.get_by_role("group", name="Mr S Science for Ben Ash").get_by_label(
        "17:30", exact=True
    ).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    expect(page.get_by_text(re.compile(r"Confirm by \d\d:\d\d\."))).to_be_visible()
    visit.check("friction-hold-messages")
    page.get_by_role("button", name="Confirm appointments").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("are booked")

    page.go_back()
    expect(page.get_by_text("These are booked: you confirmed them already.")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_count(0)
    visit.check("friction-back-after-confirming", phone=False)


def test_one_day_only_the_parent_chooses_the_day_first(visit, school):
    addon = get_addon_settings()
    addon.one_day_only = True
    addon.save()
    first = timezone.localdate() + timedelta(days=10)
    second = first + timedelta(days=2)
    tue = datetime(first.year, first.month, first.day, 16, 0, tzinfo=LONDON)
    thu = datetime(second.year, second.month, second.day, 16, 0, tzinfo=LONDON)
    evening = upcoming_evening(
        school, days=[(tue, tue.replace(hour=19)), (thu, thu.replace(hour=19))]
    )
    visit.sign_in_as(school.ann)
    page = visit.page
    visit.goto(f"/parents/evenings/{evening.pk}/")
    page.get_by_role("group", name="Teachers for Amy Ash").get_by_label(
        "Ms M Maths", exact=True
    ).check()
    page.get_by_role("button", name="Choose times myself").click()
    expect(page.get_by_text("Choose the day first")).to_be_visible()
    visit.check("friction-one-day-choose")
    page.get_by_role("link", name=f"{thu:%A} {thu.day} {thu:%B}").click()
    expect(
        page.get_by_text(f"You chose {thu:%A} {thu.day} {thu:%B}: times on other days are greyed")
    ).to_be_visible()
    visit.check("friction-one-day-times")
