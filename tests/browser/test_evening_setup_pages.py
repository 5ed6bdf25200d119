"""The organiser's parents' evening set-up pages in a real browser: every page checked
with axe-core (WCAG 2.2 AA) at desktop and phone sizes, forms answered with errors and
with a refusal that lists bookings, and an evening created, given a break and
published through the pages alone."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from schoolgate.addons.models import AddonSettings
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import free_starts
from schoolgate.evenings.models import Evening, EveningTeacher
from schoolgate.evenings.setup import services as setup

pytestmark = pytest.mark.browser

SIZES = ["desktop", "phone"]


def local(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=timezone.get_default_timezone())


@pytest.fixture
def evening(school):
    """A published evening ten days ahead for Years 7 and 9, with a break, a class
    length, a room and a booking (Amy Ash with her Maths teacher at 16:00)."""
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=10)
    evening = setup.create_evening(
        actor=school.admin,
        name="Spring parents' evening",
        description="Come to the main hall.",
        days=[(local(day, 16), local(day, 19))],
        booking_opens=now - timedelta(hours=1),
        booking_closes=local(day, 12),
        slot_minutes=10,
        year_groups=[7, 9],
    )
    ria = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    setup.update_teacher(teacher=ria, actor=school.admin, room="M1")
    setup.add_break(
        evening=evening,
        actor=school.admin,
        starts_at=local(day, 17, 30),
        ends_at=local(day, 17, 45),
        label="Tea",
    )
    setup.set_class_length(
        evening=evening,
        actor=school.admin,
        group=_group("9SC"),
        minutes=20,
    )
    setup.set_status(evening=evening, actor=school.admin, status=Evening.Status.PUBLISHED)
    return evening


def _group(mis_id):
    from schoolgate.mis.models import TeachingGroup

    return TeachingGroup.objects.get(mis_id=mis_id)


def book_amy(school, evening, parent_for):
    """Ann books Amy's Maths teacher (Dr Reed) at the evening's first slot."""
    ann = parent_for(school.contacts["ann"])
    ria = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    first = free_starts(evening=evening, teacher=ria)[0]
    booking.book_slots(parent=ann, evening=evening, choices=[(school.pupils["amy"], ria, first)])
    return first


def check_pages(visit, pages):
    failures = []
    for name, path in pages:
        try:
            visit.goto(path)
            visit.check(name)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_every_set_up_page(visit, school, evening, parent_for):
    book_amy(school, evening, parent_for)
    day = evening.days.get()
    ria = EveningTeacher.objects.get(evening=evening, staff=school.staff["ria"])
    brk = evening.breaks.get()
    visit.sign_in_as(school.admin)
    base = f"/staff/evenings/{evening.pk}"
    check_pages(
        visit,
        [
            ("evenings-list", "/staff/evenings/"),
            ("evening-create", "/staff/evenings/new/"),
            ("evening-overview", f"{base}/"),
            ("evening-settings", f"{base}/settings/"),
            ("evening-days", f"{base}/days/"),
            ("evening-day", f"{base}/days/{day.pk}/"),
            ("evening-teachers", f"{base}/teachers/"),
            ("evening-teacher", f"{base}/teachers/{ria.pk}/"),
            ("evening-class-lengths", f"{base}/class-lengths/"),
            ("evening-breaks", f"{base}/breaks/"),
            ("evening-break", f"{base}/breaks/{brk.pk}/"),
        ],
    )


@pytest.mark.parametrize("size", SIZES)
def test_forms_answered_with_errors_and_refusals(visit_at, size, school, evening, parent_for):
    first = book_amy(school, evening, parent_for)
    person = visit_at(size)
    person.sign_in_as(school.admin)
    page = person.page
    base = f"/staff/evenings/{evening.pk}"

    person.goto("/staff/evenings/new/")
    page.get_by_role("button", name="Create the evening").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    person.check(f"evening-create-error-{size}", phone=False)
    assert not Evening.objects.exclude(pk=evening.pk).exists()

    # A break over Amy's appointment: refused, with the booking listed.
    person.goto(f"{base}/breaks/")
    start = timezone.localtime(first.starts_at)
    page.locator("#id_starts").fill(start.strftime("%H:%M"))
    page.locator("#id_ends").fill((start + timedelta(minutes=10)).strftime("%H:%M"))
    page.get_by_role("button", name="Add the break").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The break would cover booked appointments.")
    expect(summary).to_contain_text("Amy Ash with Dr R Reed")
    person.check(f"evening-break-refused-{size}", phone=False)
    assert evening.breaks.count() == 1

    person.goto(f"{base}/teachers/")
    page.get_by_role("button", name="Add to the evening").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    person.check(f"evening-teacher-add-error-{size}", phone=False)


def test_creating_and_publishing_an_evening_with_the_browser(visit, school):
    # The school's video service is set: an evening with video appointments may be
    # published (docs/video.md).
    AddonSettings.objects.update_or_create(
        pk=1, defaults={"video_server": "https://meet.school.example"}
    )
    visit.sign_in_as(school.admin)
    page = visit.goto("/staff/evenings/")
    page.get_by_role("link", name="Create an evening").click()
    day = timezone.localdate() + timedelta(days=14)
    page.get_by_label("Name", exact=True).fill("Year 9 options evening")
    page.locator("#id_days-0-date").fill(day.isoformat())
    page.locator("#id_days-0-starts").fill("16:00")
    page.locator("#id_days-0-ends").fill("18:00")
    page.get_by_label("Appointment length in minutes").fill("5")
    page.get_by_label("In person or video").check()
    today = timezone.localdate()
    page.get_by_label("Booking opens: date").fill(today.isoformat())
    page.get_by_label("Booking opens: time").fill("00:00")
    page.get_by_label("Booking closes: date").fill(day.isoformat())
    page.get_by_label("Booking closes: time").fill("12:00")
    page.get_by_label("Cut-off in hours (optional)").fill("24")
    page.get_by_label("Year 9").check()
    page.get_by_label("Travel gap in minutes").fill("2")
    page.get_by_role("button", name="Create the evening").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Year 9 options evening")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("was created as a draft")
    evening = Evening.objects.get(name="Year 9 options evening")
    assert evening.status == Evening.Status.DRAFT
    assert evening.mode == Evening.Mode.BOTH and evening.cutoff_hours == 24
    assert timezone.localtime(evening.days.get().starts_at) == local(day, 16)
    visit.check("evening-created", phone=False)

    # A break for one teacher, then publish.
    page.get_by_role("navigation", name="This evening").get_by_role("link", name="Breaks").click()
    page.get_by_label("Name (optional)").fill("Options talk")
    page.locator("#id_starts").fill("17:00")
    page.locator("#id_ends").fill("17:20")
    page.get_by_label("Only the teachers ticked below").check()
    page.get_by_label("Ms S Scott").check()
    page.get_by_role("button", name="Add the break").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The break was added.")
    brk = evening.breaks.get()
    assert [t.staff for t in brk.teachers.all()] == [school.staff["sam"]]

    page.get_by_role("link", name="Overview").click()
    page.get_by_role("button", name="Publish the evening").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The evening is published")
    evening.refresh_from_db()
    assert evening.status == Evening.Status.PUBLISHED
