"""The parent's home page: each child with year, form and tutor, upcoming appointments,
the evenings for them with a clear booking state, and what needs doing."""

import html as entities
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from portal_school import at, book, make_evening, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.models import Evening
from schoolgate.evenings.setup import services as setup
from schoolgate.portal.selectors import home_page
from schoolgate.portal.services import request_correction

HOME = "/parents/"


def sections(html: str) -> dict[str, str]:
    """{child's name: their section's text}, tags and spacing dropped."""
    found = {}
    for block in re.findall(r'<section class="sg-child"(.*?)</section>', html, re.S):
        name = re.search(r"<h2[^>]*><a[^>]*>(.*?)</a></h2>", block).group(1)
        found[name] = text(block)
    return found


def text(fragment: str) -> str:
    return entities.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def todos(html: str) -> list[str]:
    block = re.search(
        r'<ul class="govuk-list govuk-list--bullet" aria-labelledby="todo">(.*?)</ul>', html, re.S
    )
    if not block:
        return []
    return [text(li) for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def test_each_child_has_year_form_and_tutor(client, school, parents):
    client.force_login(parents["ann"])

    children = sections(client.get(HOME).text)

    assert list(children) == ["Amy Ash", "Ben Ash"]
    assert "Year and form Year 7, 7A Form tutor Mr T Teach" in children["Amy Ash"]
    assert "Year and form Year 9, 9B Form tutor Ms S Scott" in children["Ben Ash"]


def test_an_open_evening_says_book_now_for_each_child_and_is_on_the_to_do_list(
    client, school, parents
):
    evening = make_evening(school)
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    children = sections(html)
    for name in ("Amy Ash", "Ben Ash"):
        assert "Spring parents' evening" in children[name]
        assert "Not booked Book now" in children[name]
    assert f'href="{reverse("evenings:evening", args=[evening.pk])}"' in html
    assert todos(html) == [
        "Book appointments for Amy Ash at Spring parents' evening. Book now",
        "Book appointments for Ben Ash at Spring parents' evening. Book now",
    ]


def test_a_booked_child_says_booked_and_lists_time_teacher_and_room(client, school, parents):
    evening = make_evening(school)
    setup.update_teacher(teacher=teacher(evening, school, "ria"), actor=school.admin, room="S12")
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    children = sections(html)
    day = timezone.localtime(evening.days.get().starts_at)
    assert f"{day:%A} {day.day} {day:%B} at 16:30 with Dr R Reed, room S12" in children["Amy Ash"]
    assert "Booked See or change" in children["Amy Ash"]
    assert "None booked." in children["Ben Ash"] and "Book now" in children["Ben Ash"]
    assert [t for t in todos(html) if "Amy" in t] == []


def test_the_other_parent_sees_the_booking_as_booked_too(client, school, parents):
    evening = make_evening(school)
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    client.force_login(parents["al"])

    children = sections(client.get(HOME).text)

    assert "16:30 with Dr R Reed" in children["Amy Ash"]
    assert "Booked" in children["Amy Ash"]


def test_in_separate_meetings_the_other_parents_booking_does_not_book_mine(client, school, parents):
    evening = make_evening(school, year_groups=[8], split_families=Evening.SplitFamilies.SEPARATE)
    book(school, evening, parents["cara"], ("cal", "ria", 16, 30))
    client.force_login(parents["colin"])

    html = client.get(HOME).text

    cal = sections(html)["Cal Cole"]
    assert "16:30 with Dr R Reed" in cal  # the meeting is still shown to him
    assert "Not booked Book now" in cal
    assert todos(html) == ["Book appointments for Cal Cole at Spring parents' evening. Book now"]


def test_an_evening_not_open_yet_says_when_booking_opens(client, school, parents):
    make_evening(school, opens_in_days=3)
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    amy = sections(html)["Amy Ash"]
    assert "Booking opens" in amy and "Book now" not in amy
    assert todos(html) == []


def test_once_booking_has_closed_it_says_so_and_asks_nothing(client, school, parents):
    evening = make_evening(school, in_days=2)
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    setup.update_evening(
        evening=evening,
        actor=school.admin,
        booking_closes=timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5),
    )
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    children = sections(html)
    assert "Booked" in children["Amy Ash"] and "16:30 with Dr R Reed" in children["Amy Ash"]
    assert "Booking closed" in children["Ben Ash"] and "Book now" not in children["Ben Ash"]
    assert todos(html) == []


def test_evenings_for_other_years_drafts_and_past_ones_are_not_shown(client, school, parents):
    make_evening(school, name="Year 8 evening", year_groups=[8])
    make_evening(school, name="Draft evening", publish=False)
    make_evening(school, name="Last term's evening", in_days=-3, opens_in_days=-20)
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    assert "Year 8 evening" not in html and "Draft evening" not in html
    assert "Last term" not in html
    assert "No parents' evenings for this child at the moment." in text(html)


def test_a_hold_not_yet_confirmed_is_the_first_thing_to_do(client, school, parents):
    evening = make_evening(school)
    hold = booking.hold_slots(
        parent=parents["ann"],
        evening=evening,
        choices=[
            (
                school.pupils["amy"],
                teacher(evening, school, "ria"),
                at(evening, school, "ria", 17, 0),
            )
        ],
    )
    client.force_login(parents["ann"])

    html = client.get(HOME).text

    assert todos(html)[0].startswith("You are holding appointments at Spring parents' evening")
    assert f'href="{reverse("evenings:hold", args=[evening.pk, hold.pk])}"' in html


def test_a_correction_waiting_for_the_school_is_on_the_to_do_list(client, school, parents):
    request_correction(user=parents["ann"], field="phone", details="07700 900999")
    client.force_login(parents["ann"])

    assert todos(client.get(HOME).text) == [
        "The school has not yet made the correction you asked for. See your details"
    ]


def test_an_appointment_that_is_over_is_no_longer_upcoming(school, parents):
    evening = make_evening(school)
    book(school, evening, parents["ann"], ("amy", "ria", 16, 0), ("ben", "tom", 18, 0))
    day = timezone.localtime(evening.days.get().starts_at)

    children, _todos = home_page(parents["ann"], now=day.replace(hour=17))

    upcoming = {c.child.name: [a.teacher.staff.surname for a in c.appointments] for c in children}
    assert upcoming == {"Amy Ash": [], "Ben Ash": ["Teach"]}
