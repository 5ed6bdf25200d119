"""The parents' booking pages in a real browser: a parent books for two children by
choosing times (desktop) and by letting Schoolgate plan the visit (phone), watches the
hold's countdown, confirms, changes and cancels; the manual booking again with the
keyboard alone, and again with JavaScript turned off. Every page is checked with
axe-core (WCAG 2.2 AA) at desktop and phone sizes (see browser_helpers.Visit.check)."""

import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import make_school, teacher
from test_parent_pages import at, book_now, key, upcoming_evening

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment

pytestmark = pytest.mark.browser


@pytest.fixture
def school():
    return make_school()


@pytest.fixture
def evening(school):
    return upcoming_evening(school)


def tick(page, label: str, *, within: str):
    """Tick a teacher's box in one child's group (labels repeat across children)."""
    group = page.get_by_role("group", name=within)
    group.get_by_label(label, exact=True).check()


def choose_time(page, *, teacher_for: str, time: str):
    page.get_by_role("group", name=teacher_for).get_by_label(time, exact=True).check()


def booked_rows(page) -> list[str]:
    """The titles of the booked appointments' cards."""
    titles = page.locator("#appointments .govuk-summary-card__title")
    return [" ".join(t.split()) for t in titles.all_inner_texts()]


def test_a_parent_books_two_children_by_choosing_times_and_changes_and_cancels(
    visit, school, evening
):
    book_now(school, evening, school.ann, (school.ben, "S-FAY", 17, 0))
    visit.sign_in_as(school.ann)
    page = visit.goto("/parents/evenings/")
    visit.check("parent-evenings-list")

    page.get_by_role("link", name=re.compile(r"^See or change")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring parents' evening")
    visit.check("parent-evening")
    tick(page, "Ms M Maths", within="Teachers for Amy Ash")
    tick(page, "Mr S Science", within="Teachers for Ben Ash")
    page.get_by_role("button", name="Choose times myself").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your times")
    visit.check("parent-manual-grid")
    expect(page.get_by_text("Clashes with Ben").first).to_be_visible()
    choose_time(page, teacher_for="Ms M Maths for Amy Ash", time="16:30")
    choose_time(page, teacher_for="Mr S Science for Ben Ash", time="16:40")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    timer = page.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"Time left to confirm: [12]:\d\d"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=3000)  # it ticks
    visit.check("parent-hold")
    page.get_by_label("Message to Ms M Maths about Amy Ash (optional)").fill("Fractions, please")
    page.get_by_role("button", name="Confirm appointments").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your 2 appointments are booked."
    )
    visit.check("parent-evening-booked", phone=False)
    assert booked_rows(page) == [
        "16:30–16:40: Amy Ash with Ms M Maths",
        "16:40–16:50: Ben Ash with Mr S Science",
        "17:00–17:10: Ben Ash with Mrs F Form",
    ]
    mia = Appointment.objects.get(pupil=school.amy, status="confirmed")
    assert mia.message == "Fractions, please"

    page.get_by_role("link", name="Change the appointment with Ms M Maths for Amy Ash").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change an appointment")
    visit.check("parent-change")
    choose_time(page, teacher_for="Ms M Maths for Amy Ash", time="18:00")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your new time")
    visit.check("parent-change-check", phone=False)
    page.get_by_role("button", name="Change the time").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is now on")

    page.get_by_role("link", name="Cancel the appointment with Mr S Science for Ben Ash").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to cancel this appointment?"
    )
    visit.check("parent-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is cancelled")
    times = sorted(
        timezone.localtime(a.starts_at).strftime("%H:%M")
        for a in Appointment.objects.filter(parent=school.ann, status="confirmed")
    )
    assert times == ["17:00", "18:00"]


def test_a_parent_on_a_phone_lets_schoolgate_plan_the_visit(visit_at, school, evening):
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    phone = visit_at("phone")
    phone.sign_in_as(school.ann)
    page = phone.goto(f"/parents/evenings/{evening.pk}/")
    tick(page, "Ms M Maths", within="Teachers for Amy Ash")
    tick(page, "Dr E English", within="Teachers for Amy Ash")
    tick(page, "Mr S Science", within="Teachers for Ben Ash")
    page.get_by_role("button", name="Find times for me").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Find times for me")
    phone.check("parent-automatic")
    page.get_by_label("The earliest you can be there").fill("16:00")
    page.get_by_label("The latest you can stay until").fill("nine")
    page.get_by_role("button", name="Find times").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the latest time")
    phone.check("parent-automatic-errors", phone=False)

    page.get_by_label("The latest you can stay until").fill("16:30")
    page.get_by_role("button", name="Find times").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggested times")
    expect(page.locator("#itinerary tbody tr")).to_have_count(3)
    phone.check("parent-proposal", phone=False)
    page.get_by_role("button", name="Hold these times").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    expect(page.get_by_role("timer")).to_be_visible()
    phone.check("parent-hold-phone", phone=False)
    page.get_by_role("button", name="Confirm appointments").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your 3 appointments are booked."
    )
    phone.check("parent-evening-booked-phone", phone=False)
    times = sorted(
        timezone.localtime(a.starts_at).strftime("%H:%M")
        for a in Appointment.objects.filter(parent=school.ann, status="confirmed")
    )
    assert times == ["16:00", "16:10", "16:20"]


def test_the_pages_that_say_no(visit, school, evening):
    """A teacher who does not fit, a time taken meanwhile, an expired hold, a second
    parent's view of an appointment they did not book, and booking not open yet."""
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    visit.sign_in_as(school.ann)
    page = visit.goto(f"/parents/evenings/{evening.pk}/automatic/")
    tick(page, "Ms M Maths", within="Teachers for Amy Ash")
    tick(page, "Dr E English", within="Teachers for Amy Ash")
    page.get_by_label("The earliest you can be there").fill("16:00")
    page.get_by_label("The latest you can stay until").fill("16:10")
    page.get_by_role("button", name="Find times").click()
    expect(page.get_by_role("heading", name="Teachers who do not fit")).to_be_visible()
    visit.check("parent-proposal-not-fitted", phone=False)

    amy_mia = key(school.amy, evening, school, "S-MIA")
    page = visit.goto(f"/parents/evenings/{evening.pk}/manual/?teacher={amy_mia}")
    choose_time(page, teacher_for="Ms M Maths for Amy Ash", time="16:10")
    book_now(school, evening, school.deb, (school.dan, "S-MIA", 16, 10))  # meanwhile
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("someone else has just taken")
    visit.check("parent-manual-taken", phone=False)

    expired = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            (school.amy, teacher(evening, school, "S-MIA"), at(evening, school, "S-MIA", 17, 0))
        ],
        now=timezone.now() - timedelta(minutes=5),
    )
    visit.goto(f"/parents/evenings/{evening.pk}/holds/{expired.pk}/", status=410)
    expect(visit.page.get_by_role("heading", level=1)).to_have_text("Your held times have run out")
    visit.check("parent-hold-expired", status=410)

    (debs,) = book_now(school, evening, school.deb, (school.dan, "S-EVE", 16, 0))
    don = visit.another_person()
    don.sign_in_as(school.don)
    don.goto(f"/parents/evenings/{evening.pk}/")
    assert booked_rows(don.page) == [
        "16:00–16:10: Dan Dee with Dr E English",
        "16:10–16:20: Dan Dee with Ms M Maths",
    ]
    expect(don.page.locator("#appointments")).to_contain_text("Deb")
    don.check("parent-evening-second-parent")
    don.goto(f"/parents/evenings/{evening.pk}/appointments/{debs.pk}/cancel/")
    expect(don.page.locator(".govuk-inset-text")).to_contain_text("Only Deb, who booked")
    don.check("parent-cancel-not-theirs")

    later = upcoming_evening(
        school, name="Summer evening", booking_opens=timezone.now() + timedelta(days=2)
    )
    visit.goto(f"/parents/evenings/{later.pk}/")
    expect(visit.page.get_by_text("Booking opens on")).to_be_visible()
    visit.check("parent-evening-not-open")


def test_manual_booking_with_the_keyboard_alone(visit, school, evening):
    visit.sign_in_as(school.ann)
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    amy_mia = key(school.amy, evening, school, "S-MIA")
    ben_sam = key(school.ben, evening, school, "S-SAM")

    def tab_to(selector: str, limit: int = 60):
        target = page.locator(selector).first
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("(element) => element === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to(f"#teacher-{amy_mia}")
    page.keyboard.press("Space")
    tab_to(f"#teacher-{ben_sam}")
    page.keyboard.press("Space")
    tab_to("button:has-text('Choose times myself')")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your times")
    tab_to(f"input[name='slot-{amy_mia}']")
    page.keyboard.press("Space")  # the first free time: 16:00
    page.keyboard.press("ArrowRight")  # 16:10
    page.keyboard.press("ArrowRight")  # 16:20
    tab_to(f"input[name='slot-{ben_sam}']")
    page.keyboard.press("Space")  # 16:00
    tab_to("button:has-text('Continue')")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
    tab_to("button:has-text('Confirm appointments')")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your 2 appointments are booked."
    )
    times = sorted(
        (a.pupil.forename, timezone.localtime(a.starts_at).strftime("%H:%M"))
        for a in Appointment.objects.filter(parent=school.ann, status="confirmed")
    )
    assert times == [("Amy", "16:20"), ("Ben", "16:00")]


def test_booking_works_without_javascript(chromium, live_server, school, evening):
    client = Client()
    client.force_login(school.ann)
    context = chromium.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto(f"/parents/evenings/{evening.pk}/")
        tick(page, "Ms M Maths", within="Teachers for Amy Ash")
        page.get_by_role("button", name="Choose times myself").click()
        choose_time(page, teacher_for="Ms M Maths for Amy Ash", time="16:50")
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your appointments")
        expect(page.get_by_role("timer")).to_be_hidden()  # no script: no countdown...
        expires = Appointment.objects.get(parent=school.ann).expires_at
        expect(page.locator("#held-until")).to_contain_text(  # ...but the plain time
            f"held for you until {timezone.localtime(expires):%H:%M}"
        )
        page.get_by_role("button", name="Confirm appointments").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "Your appointment is booked."
        )

        tick(page, "Mr S Science", within="Teachers for Ben Ash")
        page.get_by_role("button", name="Find times for me").click()
        page.get_by_label("The earliest you can be there").fill("16:40")
        page.get_by_label("The latest you can stay until").fill("17:10")
        page.get_by_role("button", name="Find times").click()
        page.get_by_role("button", name="Hold these times").click()
        page.get_by_role("button", name="Confirm appointments").click()
        expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    finally:
        context.close()
    times = sorted(
        (a.pupil.forename, timezone.localtime(a.starts_at).strftime("%H:%M"))
        for a in Appointment.objects.filter(parent=school.ann, status="confirmed")
    )
    # Ben's nearest time to Amy's 16:50–17:00 in 16:40–17:10: 16:40 or 17:00.
    assert times[0] == ("Amy", "16:50") and times[1][0] == "Ben"
    assert times[1][1] in ("16:40", "17:00")


def test_the_cut_off_and_a_choice_of_meeting(visit, school):
    """Within the cut-off the links go and the engine's refusal is shown; an evening in
    person or by video asks which."""
    near = upcoming_evening(school, name="Near evening", in_days=1, cutoff_hours=48)
    (appointment,) = book_now(
        school,
        near,
        school.ann,
        (school.amy, "S-MIA", 16, 0),
        now=timezone.now() - timedelta(days=4),
    )
    visit.sign_in_as(school.ann)
    page = visit.goto(f"/parents/evenings/{near.pk}/")
    expect(page.get_by_role("link", name=re.compile("^Cancel the appointment"))).to_have_count(0)
    visit.check("parent-evening-past-cut-off")
    cancel = f"/parents/evenings/{near.pk}/appointments/{appointment.pk}/cancel/"
    visit.goto(cancel)
    expect(visit.page.locator(".govuk-inset-text")).to_contain_text("It is too late")
    visit.check("parent-cancel-past-cut-off")

    both = upcoming_evening(school, name="Both evening", mode="both")
    amy_mia = key(school.amy, both, school, "S-MIA")
    page = visit.goto(f"/parents/evenings/{both.pk}/manual/?teacher={amy_mia}")
    page.get_by_label("By video").check()
    choose_time(page, teacher_for="Ms M Maths for Amy Ash", time="17:00")
    visit.check("parent-manual-grid-both", phone=False)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm appointments").click()
    expect(page.locator("#appointments")).to_contain_text("Video")
    assert Appointment.objects.get(evening=both).method == "video"
