"""Schedules and printing in a real browser, axe-checked at desktop and phone sizes:
the teacher's evenings and schedule, the organiser's map of rooms page (empty, with a
map, and with a refused file), and the parent's evening page with the links to the
printable itinerary and the map."""

import struct
import zlib
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from schoolgate.accounts.roles import TEACHERS
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import free_starts
from schoolgate.evenings.models import Evening, EveningTeacher
from schoolgate.evenings.setup import room_map
from schoolgate.evenings.setup import services as setup

pytestmark = pytest.mark.browser


def local(day, hour, minute=0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=timezone.get_default_timezone())


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * 40 for _ in range(20))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 20, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def evening(school, parent_for):
    """Ten days ahead, Years 7 and 9: Tom Teach (tutor of 7A, 9 Science) in room T1
    with Amy (with a message) and Ben booked, a tea break for everyone."""
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
    tom = EveningTeacher.objects.get(evening=evening, staff=school.staff["tom"])
    setup.update_teacher(teacher=tom, actor=school.admin, room="T1")
    setup.add_break(
        evening=evening,
        actor=school.admin,
        starts_at=local(day, 17, 30),
        ends_at=local(day, 17, 45),
        label="Tea",
    )
    setup.set_status(evening=evening, actor=school.admin, status=Evening.Status.PUBLISHED)
    ann = parent_for(school.contacts["ann"])
    starts = free_starts(evening=evening, teacher=tom)
    booking.book_slots(
        parent=ann,
        evening=evening,
        choices=[(school.pupils["amy"], tom, starts[0])],
        message="How is Amy settling into her new form? A long message, to wrap on a phone.",
    )
    booking.book_slots(
        parent=ann, evening=evening, choices=[(school.pupils["ben"], tom, starts[3])]
    )
    return evening


def as_teacher(school):
    school.teacher.groups.add(Group.objects.get(name=TEACHERS))
    return school.teacher


def test_the_teachers_evenings_and_schedule(visit, school, evening):
    visit.sign_in_as(as_teacher(school))
    visit.goto("/staff/my-evenings/")
    expect(visit.page.get_by_text("T1", exact=True)).to_be_visible()
    visit.check("teacher-evenings")
    visit.page.get_by_role("link", name="View your schedule for Spring parents' evening").click()
    expect(visit.page.get_by_role("heading", name="My schedule")).to_be_visible()
    expect(visit.page.get_by_text("Break: Tea")).to_be_visible()
    expect(visit.page.get_by_role("cell", name="Amy Ash", exact=True)).to_be_visible()
    visit.check("teacher-schedule")
    with visit.page.expect_download() as download:
        visit.page.get_by_role("link", name="Download as PDF").click()
    assert download.value.suggested_filename.startswith("schedule-mr-t-teach-")


def test_a_teacher_at_no_evening(visit, school):
    visit.sign_in_as(as_teacher(school))
    visit.goto("/staff/my-evenings/")
    visit.check("teacher-evenings-none")


def test_the_room_map_page(visit, school, evening):
    visit.sign_in_as(school.admin)
    visit.goto(f"/staff/evenings/{evening.pk}/room-map/")
    visit.check("room-map-empty")
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("map.png", png()), actor=school.admin
    )
    visit.goto(f"/staff/evenings/{evening.pk}/room-map/")
    expect(visit.page.get_by_role("img", name="The map of rooms for this evening")).to_be_visible()
    visit.check("room-map-image")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_refused_map_file(visit_at, size, school, evening, tmp_path):
    person = visit_at(size)
    person.sign_in_as(school.admin)
    person.goto(f"/staff/evenings/{evening.pk}/room-map/")
    bad = tmp_path / "map.png"
    bad.write_bytes(b"GIF89a not really a png")
    person.page.get_by_label("Map of rooms").set_input_files(str(bad))
    person.page.get_by_role("button", name="Upload the map").click()
    expect(person.page.get_by_role("heading", name="There is a problem")).to_be_visible()
    person.check(f"room-map-error-{size}", phone=False, status=400)
    assert Evening.objects.get(pk=evening.pk).room_map_type == ""


def test_the_parents_evening_page_links_the_itinerary_and_map(visit, school, evening, parent_for):
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("map.png", png()), actor=school.admin
    )
    visit.sign_in_as(parent_for(school.contacts["ann"]))
    visit.goto(f"/parents/evenings/{evening.pk}/")
    expect(
        visit.page.get_by_role("link", name="Download your itinerary to print (PDF)")
    ).to_be_visible()
    expect(visit.page.get_by_role("link", name="Map of rooms")).to_be_visible()
    visit.check("parent-evening-itinerary")
    with visit.page.expect_download() as download:
        visit.page.get_by_role("link", name="Download your itinerary to print (PDF)").click()
    assert download.value.suggested_filename == "itinerary-spring-parents-evening.pdf"
