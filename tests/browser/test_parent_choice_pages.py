"""The parent's choices in a real browser (issues 14 and 16): in person or video per
teacher where the evening offers both; with one day only, the other days' times greyed
out and not selectable, with the reason in words; the hold's countdown beside the
message boxes (and the plain "Confirm by" without JavaScript). axe 0 on desktop and
phone, in English and in Welsh; screenshots in test-results/screenshots/."""

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

from schoolgate.accounts.models import User
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher

pytestmark = pytest.mark.browser


@pytest.fixture
def school():
    return make_school()


def welsh(user) -> None:
    User.objects.filter(pk=user.pk).update(language="cy")


def choose(page, group: str, label: str) -> None:
    page.get_by_role("group", name=group).get_by_label(label, exact=True).check()


def test_in_person_for_one_teacher_and_video_for_another(visit, school):
    evening = upcoming_evening(school, mode=Evening.Mode.BOTH)
    EveningTeacher.objects.filter(evening=evening, staff=school.staff["S-MIA"]).update(room="M4")
    visit.sign_in_as(school.ann)
    page = visit.page
    visit.goto(f"/parents/evenings/{evening.pk}/")
    choose(page, "Teachers for Amy Ash", "Ms M Maths")
    choose(page, "Teachers for Ben Ash", "Mr S Science")
    page.get_by_role("button", name="Choose times myself").click()
    choose(page, "Ms M Maths for Amy Ash", "16:00")
    choose(page, "How would you like to meet Ms M Maths about Amy Ash?", "In person")
    choose(page, "Mr S Science for Ben Ash", "16:30")
    choose(page, "How would you like to meet Mr S Science about Ben Ash?", "By video")
    visit.check("choice-method-per-teacher")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    rows = page.locator("#itinerary tbody tr")
    expect(rows.nth(0)).to_contain_text("Room M4")
    expect(rows.nth(1)).to_contain_text("Video")
    visit.check("choice-method-hold")
    page.get_by_role("button", name="Confirm appointments").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    assert dict(
        Appointment.objects.filter(evening=evening).values_list("pupil__legal_forename", "method")
    ) == {"Amy": "in_person", "Ben": "video"}

    # Find times for me: ticking a teacher reveals how to meet them (shown without JS too).
    visit.goto(f"/parents/evenings/{evening.pk}/automatic/")
    how = page.get_by_role("group", name="How would you like to meet Dr E English about Amy Ash?")
    expect(how).to_be_hidden()
    choose(page, "Teachers for Amy Ash", "Dr E English")
    expect(how).to_be_visible()
    how.get_by_label("By video").check()
    visit.check("choice-method-planner")

    welsh(school.ann)
    visit.goto(f"/parents/evenings/{evening.pk}/manual/?teacher=" + _key(school, evening))
    expect(page.get_by_text("Sut hoffech chi gwrdd â Dr E English am Amy Ash?")).to_be_visible()
    visit.check("choice-method-per-teacher-cy")


def _key(school, evening) -> str:
    eve = EveningTeacher.objects.get(evening=evening, staff=school.staff["S-EVE"])
    return f"{school.amy.pk}-{eve.pk}"


def test_one_day_only_greys_out_the_other_days_times(visit, school):
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
    choose(page, "Teachers for Amy Ash", "Ms M Maths")
    page.get_by_role("button", name="Choose times myself").click()
    page.get_by_role("link", name=f"{thu:%A} {thu.day} {thu:%B}").click()

    times = page.get_by_role("group", name="Ms M Maths for Amy Ash")
    expect(
        page.get_by_text(f"You chose {thu:%A} {thu.day} {thu:%B}: times on other")
    ).to_be_visible()
    reason = (
        "Not available: your school books each family's appointments on one day, "
        f"and yours is {thu:%A} {thu.day} {thu:%B}."
    )
    expect(times.get_by_text(reason)).to_be_visible()
    greyed = times.locator("[data-closed-day] input")
    assert greyed.count() > 0
    for i in range(greyed.count()):
        expect(greyed.nth(i)).to_be_disabled()
    # Each greyed time is described by the reason, not by its colour alone.
    first_greyed = greyed.first
    described = first_greyed.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_have_text(reason)
    open_times = times.locator(".sg-times:not([data-closed-day]) input")
    assert open_times.count() > 0
    expect(open_times.first).to_be_enabled()
    first_greyed.click(force=True)  # a click on a greyed time changes nothing
    expect(first_greyed).not_to_be_checked()
    visit.check("choice-one-day-greyed")

    open_times.first.check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    day = timezone.localdate(Appointment.objects.get(parent=school.ann).starts_at)
    assert day == second

    welsh(school.ann)
    page.go_back()
    page.reload()
    expect(page.get_by_text("Ddim ar gael: mae eich ysgol yn trefnu").first).to_be_visible()
    visit.check("choice-one-day-greyed-cy")


def test_the_hold_page_counts_down_beside_the_message_boxes(visit_at, school):
    evening = upcoming_evening(school)
    visit = visit_at("phone")
    visit.sign_in_as(school.ann)
    page = visit.page
    visit.goto(f"/parents/evenings/{evening.pk}/")
    choose(page, "Teachers for Amy Ash", "Ms M Maths")
    choose(page, "Teachers for Amy Ash", "Dr E English")
    choose(page, "Teachers for Ben Ash", "Mr S Science")
    page.get_by_role("button", name="Choose times myself").click()
    choose(page, "Ms M Maths for Amy Ash", "16:00")
    choose(page, "Dr E English for Amy Ash", "16:20")
    choose(page, "Mr S Science for Ben Ash", "16:40")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")

    beside = page.locator("#messages-countdown")
    expect(beside).to_have_text(re.compile(r"Time left to confirm: [12]:\d\d"))
    expect(page.get_by_text(re.compile(r"Confirm by \d\d:\d\d\."))).to_be_visible()
    first = beside.inner_text()
    page.wait_for_timeout(2_100)
    assert beside.inner_text() != first  # it counts down, without a reload
    # Writing the last message, far down on a phone, the time left is still in view.
    last_box = page.get_by_label(re.compile(r"Message to Mr S Science about Ben Ash"))
    last_box.fill("How is Ben getting on?")
    box = beside.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    visit.check("choice-hold-countdown-phone")

    welsh(school.ann)
    page.reload()
    expect(beside).to_have_text(re.compile(r"Amser ar ôl i gadarnhau: [012]:\d\d"))
    visit.check("choice-hold-countdown-cy")


def test_the_hold_page_says_confirm_by_without_javascript(chromium, live_server, school):
    from django.conf import settings
    from django.test import Client

    evening = upcoming_evening(school)
    client = Client()
    client.force_login(school.ann)
    context = chromium.new_context(
        base_url=live_server.url, java_script_enabled=False, locale="en-GB"
    )
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto(f"/parents/evenings/{evening.pk}/")
        choose(page, "Teachers for Amy Ash", "Ms M Maths")
        page.get_by_role("button", name="Choose times myself").click()
        choose(page, "Ms M Maths for Amy Ash", "16:00")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
        expect(page.locator("#messages-countdown")).to_be_hidden()
        expires = Appointment.objects.get(parent=school.ann).expires_at
        expect(page.get_by_text(f"Confirm by {timezone.localtime(expires):%H:%M}.")).to_be_visible()
    finally:
        context.close()
