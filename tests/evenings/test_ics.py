"""The iCalendar files: RFC 5545 structure, line folding and text escaping, and times
right on both sides of the clock changes (UTC "Z" times), parsed back with icalendar."""

from datetime import UTC, datetime, timedelta

import pytest
from evenings_school import NOW, london, make_evening, teacher
from icalendar import Calendar

from schoolgate.evenings import booking
from schoolgate.evenings.comms import ics
from schoolgate.evenings.models import EveningTeacher, Slot


def entry(**overrides) -> ics.Entry:
    values = {
        "appointment_id": 7,
        "uid": ics.uid(7),
        "sequence": 0,
        "evening": "Spring parents' evening",
        "pupil": "Amy Ash",
        "teacher": "Ms M Maths",
        "classes": "Maths (7 Maths)",
        "starts_at": london(2026, 3, 10, 16, 0),
        "ends_at": london(2026, 3, 10, 16, 10),
        "room": "S12",
        "video_link": "",
        "video": False,
        "message": "",
    }
    values.update(overrides)
    return ics.Entry(**values)


def physical_lines(text: str) -> list[bytes]:
    data = text.encode()
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)  # CRLF only
    return lines


def test_a_calendar_has_the_required_properties_and_one_event_per_appointment():
    text = ics.calendar(
        [entry(), entry(appointment_id=8, uid=ics.uid(8))], stamp=datetime(2026, 3, 1, tzinfo=UTC)
    )
    lines = physical_lines(text)
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-1] == b"END:VCALENDAR"
    cal = Calendar.from_ical(text)
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == ics.PRODID
    assert cal["METHOD"] == "PUBLISH"
    events = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [ics.uid(7), ics.uid(8)]
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
            assert required in event
        assert event["DTSTAMP"].to_ical() == b"20260301T000000Z"
        assert event["STATUS"] == "CONFIRMED"


def test_a_feed_calendar_has_no_method():
    assert "METHOD" not in Calendar.from_ical(ics.calendar([entry()], method=None))


def test_a_cancellation_has_method_cancel_and_status_cancelled():
    cal = Calendar.from_ical(ics.calendar([entry(cancelled=True, sequence=1)], method=ics.CANCEL))
    assert cal["METHOD"] == "CANCEL"
    [event] = cal.walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (london(2026, 3, 10, 16, 0), "20260310T160000Z"),  # GMT
        (london(2026, 6, 10, 17, 30), "20260610T163000Z"),  # BST
        (london(2026, 3, 28, 16, 0), "20260328T160000Z"),  # the day before spring forward
        (london(2026, 3, 30, 16, 0), "20260330T150000Z"),  # the day after: BST
        (london(2026, 10, 24, 16, 0), "20261024T150000Z"),  # the day before falling back
        (london(2026, 10, 26, 16, 0), "20261026T160000Z"),  # the day after: GMT again
    ],
)
def test_times_are_utc_on_either_side_of_the_clock_changes(local, utc):
    [event] = Calendar.from_ical(
        ics.calendar([entry(starts_at=local, ends_at=local + timedelta(minutes=10))])
    ).walk("VEVENT")
    assert event["DTSTART"].to_ical().decode() == utc
    assert event.decoded("DTSTART") == local
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=10)


def test_a_session_across_the_change_keeps_its_real_length():
    # 00:30 to 02:30 on 29 March 2026 in London is one hour: 01:00 to 02:00 never happens.
    start, end = london(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    [event] = Calendar.from_ical(ics.calendar([entry(starts_at=start, ends_at=end)])).walk("VEVENT")
    assert event["DTSTART"].to_ical() == b"20260329T003000Z"
    assert event["DTEND"].to_ical() == b"20260329T013000Z"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    teacher_name = "Mr Ŵ Llŷr-ap-Gruffydd-Rhys " * 6
    text = ics.calendar([entry(teacher=teacher_name, evening="Noson rieni – Ysgol Gymraeg " * 4)])
    lines = physical_lines(text)
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # a fold never cuts a multi-byte character
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Amy Ash: appointment with {teacher_name}"


def test_text_is_escaped_and_comes_back_unchanged():
    room = "Hall; back, left\\ side"
    pupil = 'Zoë "Zed", Jr; the 2nd'
    text = ics.calendar([entry(room=room, pupil=pupil)])
    assert "LOCATION:Hall\\; back\\, left\\\\ side" in text.replace("\r\n ", "")
    [event] = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["LOCATION"]) == room
    assert str(event["SUMMARY"]).startswith(pupil)
    description = str(event["DESCRIPTION"])
    assert "\n" in description  # newlines written as \n and read back
    assert f"Pupil: {pupil}" in description.splitlines()
    assert "Room: Hall; back, left\\ side" in description.splitlines()


def test_a_video_appointment_has_its_link_as_location_and_url():
    link = "https://meet.example.org/maths?room=7,8;x=1"
    [event] = Calendar.from_ical(ics.calendar([entry(video=True, video_link=link, room="")])).walk(
        "VEVENT"
    )
    assert str(event["LOCATION"]) == link
    assert str(event["URL"]) == link


def test_file_names_are_safe():
    assert ics.filename("Year 11 / Sixth-form: evening!") == "year-11-sixth-form-evening.ics"
    assert ics.filename("---") == "appointments.ics"


@pytest.mark.django_db
def test_an_evening_right_after_the_spring_change_is_booked_and_written_in_utc(school):
    evening = make_evening(
        school,
        days=[(london(2026, 3, 30, 16, 0), london(2026, 3, 30, 19, 0))],
        booking_closes=london(2026, 3, 30, 12, 0),
    )
    mia = teacher(evening, school, "S-MIA")
    first = Slot.objects.filter(teacher=mia).order_by("starts_at").first()
    assert first.starts_at == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
    [appointment] = booking.book_slots(
        parent=school.bea, evening=evening, choices=[(school.cal, mia, first)], now=NOW
    ).appointments
    [event] = Calendar.from_ical(ics.calendar(ics.entries_for([appointment]))).walk("VEVENT")
    assert event["DTSTART"].to_ical() == b"20260330T150000Z"
    assert event["DTEND"].to_ical() == b"20260330T151000Z"
    assert "When: Monday 30 March 2026, 16:00 to 16:10" in str(event["DESCRIPTION"])


@pytest.mark.django_db
def test_an_evening_right_after_the_autumn_change_is_written_in_utc(school):
    evening = make_evening(
        school,
        days=[(london(2026, 10, 26, 16, 0), london(2026, 10, 26, 19, 0))],
        booking_closes=london(2026, 10, 26, 12, 0),
    )
    EveningTeacher.objects.filter(evening=evening).update(room="S12")
    mia = teacher(evening, school, "S-MIA")
    first = Slot.objects.filter(teacher=mia).order_by("starts_at").first()
    [appointment] = booking.book_slots(
        parent=school.bea, evening=evening, choices=[(school.cal, mia, first)], now=NOW
    ).appointments
    [entry_] = ics.entries_for([appointment])
    assert entry_.room == "S12"
    assert entry_.classes == "Maths (7 Maths)"
    [event] = Calendar.from_ical(ics.calendar([entry_])).walk("VEVENT")
    assert event["DTSTART"].to_ical() == b"20261026T160000Z"
