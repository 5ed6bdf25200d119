"""Running an evening in a real browser: the take-up page (and its chase-up button),
copying an evening and the teacher-availability upload, each checked with axe-core
(WCAG 2.2 AA) at desktop and phone sizes, with errors shown where a form can have them."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import free_starts
from schoolgate.evenings.models import Break, Evening, EveningTeacher
from schoolgate.evenings.running import chaseup
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.browser

SIZES = ["desktop", "phone"]


def local(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=timezone.get_default_timezone())


@pytest.fixture
def evening(school, parent_for):
    """Published, booking open, ten days ahead for Years 7 and 9, a tea break, and
    Amy Ash booked with her Maths teacher (Dr Reed)."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=10)
    evening = setup.create_evening(
        actor=school.admin,
        name="Spring parents' evening",
        days=[(local(day, 16), local(day, 19))],
        booking_opens=now - timedelta(hours=1),
        booking_closes=local(day, 12),
        slot_minutes=10,
        year_groups=[7, 9],
    )
    setup.add_break(
        evening=evening,
        actor=school.admin,
        starts_at=local(day, 17, 30),
        ends_at=local(day, 17, 45),
        label="Tea",
    )
    setup.set_status(evening=evening, actor=school.admin, status=Evening.Status.PUBLISHED)
    ann = parent_for(school.contacts["ann"])
    parent_for(school.contacts["cara"])
    ria = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    first = free_starts(evening=evening, teacher=ria)[0]
    booking.book_slots(parent=ann, evening=evening, choices=[(school.pupils["amy"], ria, first)])
    return evening


def test_the_pages_for_running_an_evening(visit, school, evening):
    visit.sign_in_as(school.admin)
    base = f"/staff/evenings/{evening.pk}"
    failures = []
    for name, path in [
        ("evening-takeup", f"{base}/take-up/"),
        ("evening-copy", f"{base}/copy/"),
        ("evening-availability", f"{base}/availability/"),
    ]:
        try:
            visit.goto(path)
            visit.check(name)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("size", SIZES)
def test_chasing_up_copying_and_uploading_with_errors(visit_at, size, school, evening):
    person = visit_at(size)
    person.sign_in_as(school.admin)
    page = person.page
    base = f"/staff/evenings/{evening.pk}"

    # Take-up: Amy booked; Ben, Eve and Gus have not. The button emails their parents.
    person.goto(f"{base}/take-up/")
    expect(page.locator("#overall-booked")).to_have_text("1")
    expect(page.locator("#not-booked-table")).to_contain_text("Ben Ash")
    page.get_by_role("button", name="Email the families who have not booked").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("1 chase-up email sent.")
    assert list(
        OutboxMessage.objects.filter(template=chaseup.TEMPLATE).values_list("to", flat=True)
    ) == ["ann.ash@example.org"]
    person.check(f"evening-takeup-chased-{size}", phone=False)

    # Copy: no date given.
    person.goto(f"{base}/copy/")
    page.get_by_role("button", name="Make the copy").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    person.check(f"evening-copy-error-{size}", phone=False)
    assert Evening.objects.count() == 1

    # Availability: a file with problems, listed with their lines; nothing changes.
    day = timezone.localdate(evening.days.get().starts_at)
    person.goto(f"{base}/availability/")
    page.get_by_label("Availability file (CSV)").set_input_files(
        files=[
            {
                "name": "availability.csv",
                "mimeType": "text/csv",
                "buffer": (
                    "teacher,date,from,to\n"
                    f"S-NOBODY,{day:%d/%m/%Y},16:00,17:00\n"
                    f"S-RIA,{day:%d/%m/%Y},4pm,17:00\n"
                ).encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and check the changes").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The file has problems: nothing was changed")
    expect(summary).to_contain_text("line 3, field 'from'")
    person.check(f"evening-availability-errors-{size}", phone=False)
    assert Break.objects.filter(evening=evening).count() == 1


def test_copying_and_importing_with_the_browser(visit, school, evening):
    visit.sign_in_as(school.admin)
    page = visit.goto(f"/staff/evenings/{evening.pk}/")
    page.get_by_role("link", name="Copy this evening to make the next one").click()
    next_day = timezone.localdate(evening.days.get().starts_at) + timedelta(days=28)
    page.get_by_label("Name of the new evening").fill("Summer parents' evening")
    page.get_by_label("Date of its first day").fill(next_day.isoformat())
    page.get_by_role("button", name="Make the copy").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("was made as a draft")
    copy = Evening.objects.get(name="Summer parents' evening")
    assert timezone.localtime(copy.days.get().starts_at) == local(next_day, 16)
    visit.check("evening-copied", phone=False)

    page = visit.goto(f"/staff/evenings/{copy.pk}/availability/")
    page.get_by_label("Availability file (CSV)").set_input_files(
        files=[
            {
                "name": "availability.csv",
                "mimeType": "text/csv",
                "buffer": f"teacher,date,from,to\nS-RIA,{next_day:%d/%m/%Y},16:00,18:00\n".encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and check the changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the changes")
    expect(page.locator("#changes")).to_contain_text("18:00–19:00")
    assert not copy.breaks.filter(label="Unavailable").exists()
    visit.check("evening-availability-confirm", phone=False)
    page.get_by_role("button", name="Apply these changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Availability imported")
    assert copy.breaks.filter(label="Unavailable").count() == 1
    visit.check("evening-availability-imported", phone=False)
