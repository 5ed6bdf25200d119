"""The parent's calendar feed page in a real browser: made, shown, reset and turned off,
each state checked with axe-core at desktop and phone sizes; the address it shows
serves the calendar."""

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import make_school

pytestmark = pytest.mark.browser


def test_the_calendar_feed_page(visit):
    school = make_school()
    visit.sign_in_as(school.ann)

    page = visit.goto("/calendar/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your calendar feed")
    visit.check("calendar-feed-none")

    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_label("Your calendar address")
    expect(address).to_be_visible()
    visit.check("calendar-feed")
    first = address.input_value()
    assert first.endswith(".ics")

    page.get_by_role("button", name="Make a new address").click()
    expect(page.get_by_text("The old one no longer works")).to_be_visible()
    second = page.get_by_label("Your calendar address").input_value()
    assert second != first
    visit.check("calendar-feed-reset", phone=False)

    assert page.request.get(first).status == 404
    served = page.request.get(second)
    assert served.status == 200
    assert served.headers["content-type"].startswith("text/calendar")

    page.get_by_role("button", name="Turn the feed off").click()
    expect(page.get_by_role("button", name="Make my calendar address")).to_be_visible()
    assert page.request.get(second).status == 404
