"""A teacher's absence and the waiting lists in a real browser: the organiser's
absence page (the form, its errors, the result of a cancel and of a transfer with a
clash), the staff waiting lists, and the parent's waiting-list pages, each checked with
axe-core at desktop and phone sizes."""

import re
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import make_school, teacher
from test_parent_pages import book_now, upcoming_evening

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, TeacherAbsence, WaitingListEntry
from schoolgate.evenings.running import waiting
from schoolgate.evenings.setup import services as setup

pytestmark = pytest.mark.browser

SIZES = ["desktop", "phone"]


@pytest.fixture
def school():
    return make_school()


@pytest.fixture
def evening(school):
    return upcoming_evening(school)


def test_the_absence_form_and_its_errors(visit_at, school, evening):
    for size in SIZES:
        person = visit_at(size)
        person.sign_in_as(school.organiser)
        page = person.goto(f"/staff/evenings/{evening.pk}/absences/")
        if size == "desktop":
            person.check("evening-absences", phone=False)
        page.get_by_label("Part of one day").check()
        page.get_by_label("Give them to another member of staff at the same times").check()
        page.get_by_role("button", name="Mark absent").click()
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("Choose the teacher who is absent.")
        expect(summary).to_contain_text("Give the time the absence starts, like 17:30.")
        expect(summary).to_contain_text("Choose who takes the appointments.")
        person.check(f"evening-absence-errors-{size}", phone=False)
    assert not TeacherAbsence.objects.exists()


def test_marking_a_teacher_absent_and_cancelling(visit, school, evening):
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 10))
    visit.sign_in_as(school.organiser)
    page = visit.goto(f"/staff/evenings/{evening.pk}/")
    page.get_by_role("link", name="A teacher is absent").click()
    page.get_by_label("Which teacher is absent?").select_option(label="Ms M Maths (2 appointments)")
    page.get_by_label("The whole evening").check()
    page.get_by_label("Cancel them: parents are told and can book again").check()
    page.get_by_role("button", name="Mark absent").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Ms M Maths is marked absent. 2 appointments were cancelled"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Ms M Maths is absent")
    mia = teacher(evening, school, "S-MIA")
    assert not Appointment.objects.filter(teacher=mia, status__in=Appointment.LIVE).exists()
    visit.check("evening-absence-cancelled")
    page = visit.goto(f"/staff/evenings/{evening.pk}/absences/")
    expect(page.get_by_role("link", name="Ms M Maths")).to_be_visible()
    visit.check("evening-absences-with-one")

    parent = visit.another_person()
    parent.sign_in_as(school.ann)
    page = parent.goto(f"/parents/evenings/{evening.pk}/")
    expect(page.locator("#cancelled-by-absence")).to_contain_text("Amy Ash with Ms M Maths")
    parent.check("parent-evening-absence-notice")


def test_transferring_part_of_the_evening_with_a_clash(visit, school, evening):
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 17, 0))
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 17, 10))
    book_now(school, evening, school.deb, (school.dan, "S-EVE", 17, 10))
    visit.sign_in_as(school.organiser)
    page = visit.goto(f"/staff/evenings/{evening.pk}/absences/")
    page.get_by_label("Which teacher is absent?").select_option(label="Ms M Maths (2 appointments)")
    page.get_by_label("Part of one day").check()
    page.get_by_label("Absent from").fill("17:00")
    page.get_by_label("Absent until").fill("18:00")
    page.get_by_label("Give them to another member of staff at the same times").check()
    page.get_by_label("Who takes the appointments").select_option(label="Dr E English")
    page.get_by_role("button", name="Mark absent").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "1 appointment was given to Dr E English. 1 could not be"
    )
    expect(page.get_by_role("table", name="Not transferred: cancelled")).to_contain_text("Cal Best")
    visit.check("evening-absence-transferred")


def make_mia_full(school, evening):
    day = timezone.localtime(evening.days.get().starts_at)
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=day.replace(hour=16, minute=10),
        ends_at=day.replace(hour=19),
        teachers=[teacher(evening, school, "S-MIA")],
    )
    return book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))[0]


def test_a_parent_joins_a_waiting_list_and_is_offered_a_time(visit, school, evening):
    cal = make_mia_full(school, evening)
    visit.sign_in_as(school.ann)
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    page.get_by_role("group", name="Amy Ash").get_by_label("Ms M Maths", exact=True).check()
    page.get_by_role("button", name="Choose times myself").click()
    page.get_by_role("link", name="Join the waiting list for Ms M Maths (Amy Ash)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Ms M Maths's waiting list")
    visit.check("parent-waiting-list-join")
    page.get_by_label("A note for the school (optional)").fill("Any time after 17:00")
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You are on Ms M Maths's waiting list for Amy Ash."
    )
    expect(page.locator("#waiting-entries")).to_contain_text("Waiting")
    visit.check("parent-evening-waiting")
    visit.goto(f"/parents/evenings/{evening.pk}/waiting-list/")
    visit.check("parent-waiting-list")

    organiser = visit.another_person()
    organiser.sign_in_as(school.organiser)
    page = organiser.goto(f"/staff/evenings/{evening.pk}/")
    page.get_by_role("link", name="Waiting lists for full teachers").click()
    expect(page.get_by_role("table", name="Ms M Maths")).to_contain_text("Any time after 17:00")
    organiser.check("evening-waiting-lists")

    booking.cancel_appointment(appointment=cal, user=school.bea)
    waiting.run_waiting_lists()
    entry = WaitingListEntry.objects.get()
    assert entry.status == "offered"
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    page.get_by_role("link", name=re.compile("Confirm it by")).click()
    expect(page.locator("[data-countdown]")).to_have_count(0)
    visit.check("parent-waiting-offer")
    page.get_by_role("button", name="Confirm appointments").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your appointment is booked."
    )
    assert Appointment.objects.get(pupil=school.amy, teacher__staff__surname="Maths").status == (
        "confirmed"
    )


@pytest.mark.parametrize("size", SIZES)
def test_joining_the_list_of_a_teacher_with_free_times_is_refused(visit_at, size, school, evening):
    make_mia_full(school, evening)
    person = visit_at(size)
    person.sign_in_as(school.ann)
    amy_eve = f"{school.amy.pk}-{teacher(evening, school, 'S-EVE').pk}"
    page = person.goto(f"/parents/evenings/{evening.pk}/waiting-list/?teacher={amy_eve}")
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Dr E English still has free times: please choose one of them."
    )
    person.check(f"parent-waiting-list-refused-{size}", phone=False)
    assert not WaitingListEntry.objects.exists()
