"""The Data source page in a real browser: axe at desktop and phone sizes, a connection
tested against a Wonde-shaped server on 127.0.0.1, and the form's errors."""

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "mis"))
from connector_server import WONDE_TOKEN, start
from wonde_data import wonde_records

from schoolgate.mis.demo import build_school

pytestmark = pytest.mark.browser
PATH = "/staff/mis/data-source/"


@pytest.fixture
def wonde():
    server = start()
    school = build_school(pupils=30, seed=5)
    server.state.wonde = wonde_records(school)
    server.state.wonde_school = {"id": "A1", "name": school.name}
    yield server
    server.shutdown()
    server.server_close()


def test_choosing_and_testing_wonde(visit, school, wonde):
    visit.sign_in_as(school.admin)
    page = visit.goto(PATH)
    visit.check("data-source")

    page.get_by_label("Wonde", exact=True).check()
    page.get_by_label("Wonde school id").fill("A1")
    page.get_by_label("Wonde access token").fill(WONDE_TOKEN)
    page.get_by_label("Wonde API address").fill(f"{wonde.url}/v1.0")
    page.get_by_role("button", name="Test the connection").click()
    expect(page.get_by_text("The connection works. This is what it found:")).to_be_visible()
    expect(page.locator("dd", has_text="30").first).to_be_visible()
    assert WONDE_TOKEN not in page.content()
    visit.check("data-source-tested", phone=False)

    page.get_by_label("Wonde access token").fill(WONDE_TOKEN)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The data source settings are saved.")).to_be_visible()
    expect(page.get_by_role("button", name="Pull now")).to_be_visible()
    visit.check("data-source-saved")


def test_the_form_errors(visit, school):
    visit.sign_in_as(school.admin)
    page = visit.goto(PATH)
    page.get_by_label("OneRoster API (version 1.1 or 1.2)").check()
    page.get_by_label("Times to sync each day").fill("seven")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the client id")
    expect(page.locator(".govuk-error-summary")).to_contain_text("is not a time like 07:00")
    visit.check("data-source-errors", phone=False)
