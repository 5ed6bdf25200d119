"""The teacher's tools and the organiser's attendance page in a real browser: the
appointment page (note and attendance saved), the teacher's own breaks (added, refused,
too late), the teacher's calendar page and the attendance figures, each checked with
axe-core at desktop and phone sizes."""

import sys
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import book, make_evening, make_school, teacher
from teacher_helpers import book_at, evening_at, teacher_account

from schoolgate.evenings.models import AppointmentNote, Break
from schoolgate.evenings.running import teacher_tools
from schoolgate.evenings.setup import services as setup

pytestmark = pytest.mark.browser


def test_the_teachers_appointment_page(visit):
    school = make_school()
    mia = teacher_account("S-MIA")
    evening = make_evening(school)  # 10 March 2026: over, so attendance can be marked
    appointment = book(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), message="Times tables"
    ).appointments[0]
    visit.sign_in_as(mia)

    page = visit.goto(reverse("teacher:appointment", args=[evening.pk, appointment.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Amy Ash")
    expect(page.get_by_text("Times tables")).to_be_visible()
    visit.check("teacher-appointment")

    page.get_by_label("Attended", exact=True).check()
    page.get_by_label("Your private note").fill("Reading age to check.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("Attended", exact=True)).to_be_checked()
    visit.check("teacher-appointment-saved", phone=False)
    assert AppointmentNote.objects.get(author=mia).text == "Reading age to check."


def test_the_teachers_own_breaks_page(visit):
    school = make_school()
    mia = teacher_account("S-MIA")
    evening = evening_at(school, in_days=30, opens_in_days=10, teachers_set_breaks=True)
    day = evening.days.first()
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        teachers=None,
        starts_at=day.starts_at.replace(hour=day.starts_at.hour + 2),
        ends_at=day.starts_at.replace(hour=day.starts_at.hour + 2, minute=15),
        label="Tea",
    )
    visit.sign_in_as(mia)

    page = visit.goto(reverse("teacher:breaks", args=[evening.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("My breaks")
    visit.check("teacher-breaks")

    page.get_by_label("Name (optional)").fill("Marking")
    page.get_by_label("Starts at").fill("17:00")
    page.get_by_label("Ends at").fill("16:50")
    page.get_by_role("button", name="Add the break").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    visit.check("teacher-breaks-error", phone=False)

    page.get_by_label("Ends at").fill("17:20")
    page.get_by_role("button", name="Add the break").click()
    expect(page.get_by_text("Your break was added.")).to_be_visible()
    visit.check("teacher-breaks-added", phone=False)
    assert Break.objects.filter(created_by=mia, label="Marking").exists()

    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Your break was removed.")).to_be_visible()
    assert not Break.objects.filter(created_by=mia).exists()

    late = evening_at(
        school, in_days=30, opens_in_days=-1, teachers_set_breaks=True, name="Open evening"
    )
    visit.goto(reverse("teacher:breaks", args=[late.pk]))
    expect(page.get_by_text("it is too late to change your breaks here")).to_be_visible()
    visit.check("teacher-breaks-too-late")


def test_the_teachers_calendar_page(visit):
    school = make_school()
    mia = teacher_account("S-MIA")
    evening = evening_at(school, in_days=10, opens_in_days=-2)
    book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    visit.sign_in_as(mia)

    page = visit.goto(reverse("teacher:calendar"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My calendar feed")
    visit.check("teacher-calendar-none")

    page.get_by_role("button", name="Make my calendar address").click()
    address = page.get_by_label("Your calendar address")
    expect(address).to_be_visible()
    visit.check("teacher-calendar")
    served = page.request.get(address.input_value())
    assert served.status == 200 and "Amy Ash" in served.text()


def test_the_organisers_attendance_page(visit):
    school = make_school()
    mia = teacher_account("S-MIA")
    evening = make_evening(school)
    made = [
        book(school, evening, parent, (pupil, mis_id, 16, minute)).appointments[0]
        for parent, pupil, mis_id, minute in (
            (school.ann, school.amy, "S-MIA", 0),
            (school.bea, school.cal, "S-MIA", 10),
            (school.ann, school.ben, "S-SAM", 20),
        )
    ]
    teacher_tools.mark_attendance(appointment=made[0], actor=mia, attendance="attended")
    teacher_tools.save_note(appointment=made[0], author=mia, text="Never on this page")
    visit.sign_in_as(school.organiser)

    page = visit.goto(reverse("evenings_staff:attendance", args=[evening.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance")
    visit.check("attendance")

    page.get_by_label("Teacher", exact=True).select_option(
        str(teacher(evening, school, "S-MIA").pk)
    )
    page.get_by_role("button", name="Show their appointments").click()
    visit.check("attendance-teacher")
    form = page.locator(f"#appointment-{made[1].pk}")
    form.get_by_label("Did not attend").check()
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Attendance saved for Cal Best.")).to_be_visible()
    assert "Never on this page" not in page.content()
    made[1].refresh_from_db()
    assert made[1].attendance == "did_not_attend"
