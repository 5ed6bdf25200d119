"""The organiser's grid and booking on a parent's behalf in a real browser: every page
checked with axe-core (WCAG 2.2 AA) at desktop and phone sizes; a booking made from a
free cell of the grid with the keyboard alone; a refusal, a move and a cancellation
through the pages."""

import re
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import make_school, teacher
from test_parent_pages import at, book_now, upcoming_evening

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.browser


@pytest.fixture
def school():
    return make_school()


@pytest.fixture
def evening(school):
    """Ten days ahead: Amy booked with Ms Maths at 16:00, Cal held with her at 16:10,
    a tea break for Dr English, and Mr Science in room S4."""
    evening = upcoming_evening(school)
    day = timezone.localtime(evening.days.get().starts_at)
    setup.update_teacher(
        teacher=teacher(evening, school, "S-SAM"), actor=school.organiser, room="S4"
    )
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=day.replace(hour=17, minute=30),
        ends_at=day.replace(hour=17, minute=50),
        teachers=[teacher(evening, school, "S-EVE")],
        label="Tea",
    )
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    booking.hold_slots(
        parent=school.bea,
        evening=evening,
        choices=[
            (school.cal, teacher(evening, school, "S-MIA"), at(evening, school, "S-MIA", 16, 10))
        ],
    )
    return evening


def check_pages(visit, pages):
    failures = []
    for name, path in pages:
        try:
            visit.goto(path)
            visit.check(name)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)


def test_every_grid_page(visit, school, evening):
    amy = Appointment.objects.get(evening=evening, pupil=school.amy)
    slot = at(evening, school, "S-EVE", 16, 30)
    base = f"/staff/evenings/{evening.pk}/grid"
    visit.sign_in_as(school.organiser)
    check_pages(
        visit,
        [
            ("grid", f"{base}/"),
            ("grid-filtered", f"{base}/?year=7&department=Maths"),
            ("grid-filter-error", f"{base}/?year=12"),
            ("behalf-find", f"{base}/book/?slot={slot.pk}"),
            ("behalf-find-results", f"{base}/book/?q=7A"),
            ("behalf-pupil-slot", f"{base}/pupils/{school.amy.pk}/?slot={slot.pk}"),
            ("behalf-pupil-times", f"{base}/pupils/{school.amy.pk}/"),
            ("behalf-pupil-whom", f"{base}/pupils/{school.dan.pk}/"),
            ("behalf-appointment", f"{base}/appointments/{amy.pk}/"),
            ("behalf-move", f"{base}/appointments/{amy.pk}/move/"),
            ("behalf-cancel", f"{base}/appointments/{amy.pk}/cancel/"),
        ],
    )


def test_booking_from_a_free_cell_with_the_keyboard_alone(visit, school, evening):
    visit.sign_in_as(school.organiser)
    page = visit.goto(f"/staff/evenings/{evening.pk}/grid/")

    def tab_to(locator, limit: int = 400):
        target = locator.first
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("(element) => element === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {locator}")

    tab_to(page.get_by_role("link", name=re.compile(r"^Free\W+book Dr E English 16:30$")))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book for a parent")
    tab_to(page.get_by_label("Pupil's name or registration group"))
    page.keyboard.type("ash")
    page.keyboard.press("Enter")
    tab_to(page.get_by_role("link", name="Amy Ash"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book for Amy Ash")
    visit.check("behalf-confirm-keyboard", phone=False)
    tab_to(page.get_by_label("Message to the teacher (optional)"))
    page.keyboard.type("Mrs Ash phoned the office.")
    tab_to(page.get_by_role("button", name="Book and email the parents"))
    page.keyboard.press("Enter")

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Booked for Ann")
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointments grid")
    visit.check("grid-after-booking", phone=False)
    made = Appointment.objects.get(evening=evening, teacher__staff__surname="English")
    assert (made.parent, made.booked_by, made.message) == (
        school.ann,
        school.organiser,
        "Mrs Ash phoned the office.",
    )
    assert timezone.localtime(made.starts_at).strftime("%H:%M") == "16:30"
    assert OutboxMessage.objects.filter(to="ann@example.org", template="evening_booked").exists()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_refusal_plan_move_and_cancel_through_the_pages(visit_at, size, school, evening):
    person = visit_at(size)
    person.sign_in_as(school.organiser)
    page = person.page
    base = f"/staff/evenings/{evening.pk}/grid"

    # A time taken meanwhile: refused, with the reason, and nothing changed.
    taken = at(evening, school, "S-EVE", 16, 40)
    person.goto(f"{base}/pupils/{school.amy.pk}/?slot={taken.pk}")
    book_now(school, evening, school.deb, (school.dan, "S-EVE", 16, 40))
    page.get_by_role("button", name="Book and email the parents").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("someone else has just taken")
    person.check(f"behalf-refused-{size}", phone=False, status=409)

    # The planner proposes a time with Dr English; the proposal is booked.
    person.goto(f"{base}/pupils/{school.amy.pk}/")
    page.get_by_role("group", name="Teachers").get_by_label(re.compile("^Dr E English")).check()
    page.get_by_label("The earliest the parent can be there").fill("17:00")
    page.get_by_role("button", name="Find times").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested times")
    person.check(f"behalf-proposal-{size}", phone=False)
    page.get_by_role("button", name="Book and email the parents").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("17:00")

    # Move Amy's Maths appointment to 18:00, then cancel it with a reason.
    amy = Appointment.objects.get(
        evening=evening, pupil=school.amy, teacher__staff__surname="Maths", status="confirmed"
    )
    person.goto(f"{base}/appointments/{amy.pk}/")
    page.get_by_role("link", name="Move").click()
    page.get_by_label("New time with Ms M Maths").select_option(label="18:00")
    page.get_by_role("button", name="Move and email the parents").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("18:00")
    moved = Appointment.objects.get(moved_from=amy)
    person.goto(f"{base}/appointments/{moved.pk}/")
    page.get_by_role("link", name="Cancel the appointment").click()
    page.get_by_label("Reason (optional, sent to the parents)").fill("Ill")
    page.get_by_role("button", name="Cancel and email the parents").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Cancelled")
    moved.refresh_from_db()
    assert moved.status == Appointment.Status.CANCELLED
