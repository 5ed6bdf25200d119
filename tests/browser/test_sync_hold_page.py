"""The held-sync report in a real browser: its counts and Confirm button, axe-checked at
desktop and phone sizes; confirming applies the sync."""

import pytest
from playwright.sync_api import expect

from schoolgate.mis.demo import build_school, generate_school, write_ctf
from schoolgate.mis.models import Pupil, SyncRun
from schoolgate.mis.sync import sync_mis

pytestmark = pytest.mark.browser


def test_a_held_sync_shows_its_counts_and_is_confirmed(visit, school, tmp_path):
    generated = generate_school(tmp_path / "school", pupils=40, seed=2)
    # Replacing the test school's pupils is itself a large change: confirmed at once.
    sync_mis(
        [generated.ctf, generated.timetable],
        trigger=SyncRun.Trigger.COMMAND,
        confirm_large_change=True,
    )
    one = build_school(pupils=40, seed=2)
    one.pupils = one.pupils[:1]
    path = tmp_path / "one.xml"
    write_ctf(one, path)
    held = sync_mis([path], trigger=SyncRun.Trigger.UPLOAD, started_by=school.admin)
    assert held.status == SyncRun.Status.HELD
    visit.sign_in_as(school.admin)

    page = visit.goto(f"/staff/mis/sync/{held.pk}/")
    visit.check("sync-report-held")
    expect(page.locator("#held-counts")).to_contain_text("Pupils who would leave the roll")
    page.get_by_role("button", name="Confirm and apply this sync").click()

    expect(page.locator("h1")).to_have_text(f"Sync report {held.pk}")
    expect(page.get_by_text("The sync was confirmed and applied.")).to_be_visible()
    visit.check("sync-report-confirmed", phone=False)
    assert Pupil.objects.filter(on_roll=True).count() == 1
