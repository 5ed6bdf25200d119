"""A school-scheduled evening in a real browser: two families give their wishes, a
teacher flags a pupil they must see, the organiser opens it, builds, reviews and
publishes, and each family's itinerary (with its .ics) reaches a real SMTP server.
Every new page is checked with axe-core at desktop and phone sizes."""

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from evenings_school import make_school, teacher

from schoolgate.accounts.models import User
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox import sending
from schoolgate.outbox.testing import school_mail_at, smtp_server

__all__ = ["smtp_server"]

pytestmark = pytest.mark.browser


@pytest.fixture
def school():
    return make_school()


@pytest.fixture
def evening(school):
    now = timezone.now()
    day = timezone.localtime(now).replace(hour=16, minute=0, second=0, microsecond=0)
    day += timedelta(days=10)
    return setup.create_evening(
        actor=school.organiser,
        name="Spring parents' evening",
        days=[(day, day.replace(hour=19))],
        booking_opens=now - timedelta(days=1),
        booking_closes=day - timedelta(hours=4),
        slot_minutes=10,
        year_groups=[7, 9],
    )


def mia_user(school) -> User:
    staff = school.staff["S-MIA"]
    staff.email = "mia@school.example"
    staff.email_key = staff.email
    staff.save()
    user = User.objects.create_user(staff.email, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="evenings", codename="teach")
    )
    return User.objects.get(pk=user.pk)


def choose(page, label: str, option: str, *, within: str):
    page.locator("fieldset", has_text=within).get_by_label(label).select_option(label=option)


def test_wishes_flags_build_review_publish_and_itineraries(
    visit, visit_at, school, evening, smtp_server
):
    school_mail_at(smtp_server)
    # The organiser opens the evening for wishes.
    visit.sign_in_as(school.organiser)
    visit.goto(f"/staff/evenings/{evening.pk}/")
    visit.page.get_by_role("link", name="Scheduled by the school").click()
    visit.check("scheduled-organiser-open")
    close = timezone.localtime() + timedelta(days=3)
    visit.page.get_by_label("Wishes close: date").fill(close.strftime("%Y-%m-%d"))
    visit.page.get_by_label("Wishes close: time").fill("17:00")
    visit.page.get_by_label("Time the solver may take, in seconds").fill("5")
    visit.page.get_by_role("button", name="Open for wishes").click()
    expect(visit.page.get_by_text("The evening is open for wishes.")).to_be_visible()
    visit.check("scheduled-organiser")

    # Ann: Amy's two teachers in order, Ben's science teacher, one visit, from 16:30.
    ann = visit.another_person()
    ann.sign_in_as(school.ann)
    ann.goto("/parents/evenings/")
    ann.page.get_by_role("link", name="Evenings the school schedules").click()
    ann.check("scheduled-parent-list")
    ann.page.get_by_role("link", name="Give your wishes").click()
    ann.check("scheduled-parent-wishes")
    choose(ann.page, "Ms M Maths (Maths)", "Choice 1", within="about Amy")
    choose(ann.page, "Dr E English (English)", "Choice 2", within="about Amy")
    choose(ann.page, "Mr S Science (Science)", "Choice 1", within="about Ben")
    ann.page.get_by_label("We can arrive from (optional)").fill("16:30")
    ann.page.get_by_role("button", name="Save your wishes").click()
    expect(ann.page.get_by_text("your wishes are saved")).to_be_visible()

    # Bea, on a phone: Cal's maths teacher, and a mistake first (leave before arriving).
    bea = visit_at("phone")
    bea.sign_in_as(school.bea)
    bea.goto(f"/parents/evenings/{evening.pk}/wishes/")
    choose(bea.page, "Ms M Maths (Maths)", "Choice 1", within="about Cal")
    bea.page.get_by_label("We can arrive from (optional)").fill("18:00")
    bea.page.get_by_label("We must leave by (optional)").fill("17:00")
    bea.page.get_by_role("button", name="Save your wishes").click()
    expect(bea.page.get_by_role("alert")).to_contain_text("must leave must be after")
    bea.check("scheduled-parent-wishes-error", phone=False)
    bea.page.get_by_label("We must leave by (optional)").fill("")
    bea.page.get_by_role("button", name="Save your wishes").click()
    expect(bea.page.get_by_text("your wishes are saved")).to_be_visible()

    # Mia flags Dan (no wishes) and Cal as must-sees.
    mia = visit.another_person()
    mia.sign_in_as(mia_user(school))
    mia.goto("/staff/my-evenings/wishes/")
    mia.check("scheduled-teacher-list")
    mia.page.get_by_role("link", name=evening.name).click()
    mia.check("scheduled-teacher-flags")
    mia.page.get_by_label("Flag for Cal Best").select_option(label="I must see this pupil's family")
    mia.page.get_by_label("Flag for Dan Dee").select_option(label="I must see this pupil's family")
    mia.page.get_by_role("button", name="Save your flags").click()
    expect(mia.page.get_by_text("2 pupils flagged")).to_be_visible()

    # The organiser builds and reviews.
    visit.goto(f"/staff/evenings/{evening.pk}/scheduled/")
    visit.page.get_by_role("button", name="Close wishes and build the schedule").click()
    expect(visit.page.get_by_role("heading", name="Review the schedule")).to_be_visible()
    figures = visit.page.locator("#figures")
    expect(figures).to_contain_text("4 of 5 asked for")
    expect(figures).to_contain_text("1 of 2")
    expect(visit.page.get_by_text("no family gave wishes for them")).to_be_visible()
    visit.check("scheduled-review")
    assert Appointment.objects.count() == 0

    visit.page.get_by_role("button", name="Publish the schedule").click()
    expect(visit.page.get_by_text("4 appointments booked and 2 families emailed")).to_be_visible()
    assert Evening.objects.get(pk=evening.pk).status == Evening.Status.PUBLISHED
    rows = list(Appointment.objects.filter(status="confirmed").order_by("starts_at"))
    assert {(a.parent_id, a.pupil_id, a.teacher_id) for a in rows} == {
        (school.ann.pk, school.amy.pk, teacher(evening, school, "S-MIA").pk),
        (school.ann.pk, school.amy.pk, teacher(evening, school, "S-EVE").pk),
        (school.ann.pk, school.ben.pk, teacher(evening, school, "S-SAM").pk),
        (school.bea.pk, school.cal.pk, teacher(evening, school, "S-MIA").pk),
    }
    # Ann's meetings start no earlier than she can arrive, one after another.
    ann_rows = [a for a in rows if a.parent_id == school.ann.pk]
    assert timezone.localtime(ann_rows[0].starts_at).strftime("%H:%M") >= "16:30"
    for first, second in zip(ann_rows, ann_rows[1:], strict=False):
        assert first.ends_at <= second.starts_at

    # The itineraries arrive, each with its .ics.
    assert sending.drain()["sent"] == 2
    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert set(received) == {"ann@example.org", "bea@example.org"}
    for message in received.values():
        [part] = list(message.message.iter_attachments())
        assert part.get_content_type() == "text/calendar"
    assert "Ben" in received["ann@example.org"].part("text/plain")

    # Afterwards it is an ordinary evening: Ann sees her appointments.
    ann.goto(f"/parents/evenings/{evening.pk}/")
    expect(ann.page.get_by_text("Ms M Maths").first).to_be_visible()
