"""The bookings CSV: one row per confirmed appointment, school times, UTF-8 with a BOM,
and cells a spreadsheet would run as formulas defused."""

import csv
import io

import pytest
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.reports.bookings_csv import bookings_csv, safe
from schoolgate.evenings.setup import services as setup

HEADER = [
    "Date",
    "Start",
    "End",
    "Teacher",
    "Room",
    "Video call page",
    "Pupil",
    "Year",
    "Registration group",
    "Parent",
    "Parent's email",
    "Booked by",
    "Meeting",
    "Message",
    "Attendance",
]


def read(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def test_one_row_per_confirmed_appointment_in_time_order(school, evening):
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, room="M1", now=NOW
    )
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 30), message="About science")
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    [cancelled] = book(school, evening, school.bea, (school.cal, "S-MIA", 17, 0)).appointments
    booking.cancel_appointment(appointment=cancelled, user=school.bea, now=NOW)
    booking.hold_slots(
        parent=school.deb,
        evening=evening,
        choices=[
            (school.dan, teacher(evening, school, "S-EVE"), slot(evening, school, "S-EVE", 16, 0))
        ],
        now=NOW,
    )

    rows = read(bookings_csv(evening))

    assert [(r["Start"], r["Pupil"]) for r in rows] == [("16:00", "Amy Ash"), ("16:30", "Ben Ash")]
    assert rows[0] == {
        "Date": "2026-03-10",
        "Start": "16:00",
        "End": "16:10",
        "Teacher": "Ms M Maths",
        "Room": "M1",
        "Video call page": "",
        "Pupil": "Amy Ash",
        "Year": "7",
        "Registration group": "7A",
        "Parent": "Ann",
        "Parent's email": "ann@example.org",
        "Booked by": "Ann",
        "Meeting": "In person",
        "Message": "",
        "Attendance": "",
    }
    assert rows[1]["Message"] == "About science" and rows[1]["Registration group"] == "9B"


def test_times_are_on_the_schools_clock_in_summer(school):
    evening = make_evening(
        school,
        days=[(london(2026, 6, 9, 16, 0), london(2026, 6, 9, 19, 0))],
        booking_closes=london(2026, 6, 9, 12, 0),
    )
    mia = teacher(evening, school, "S-MIA")
    first = mia.slots.get(starts_at=london(2026, 6, 9, 16, 0))  # 15:00 UTC
    booking.book_slots(
        parent=school.ann, evening=evening, choices=[(school.amy, mia, first)], now=NOW
    )
    [row] = read(bookings_csv(evening))
    assert (row["Date"], row["Start"], row["End"]) == ("2026-06-09", "16:00", "16:10")


def test_booked_by_the_school_video_call_page_and_attendance(school, settings):
    evening = make_evening(school, mode="video")
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"),
        actor=school.organiser,
        video_link="https://meet.example/mia",
        now=NOW,
    )
    [appointment] = book(
        school, evening, school.bea, (school.cal, "S-MIA", 16, 0), actor=school.organiser
    ).appointments
    Appointment.objects.filter(pk=appointment.pk).update(attendance="attended")

    settings.SITE_URL = "https://gate.school.example"
    data = bookings_csv(evening)
    [row] = read(data)

    assert row["Booked by"] == "office@school.example (school)"
    # The family's call page, never the teacher's fixed link (each appointment has its room).
    assert row["Meeting"] == "Video" and row["Video call page"] == (
        f"https://gate.school.example/parents/evenings/{evening.pk}"
        f"/appointments/{appointment.pk}/call/"
    )
    assert b"meet.example/mia" not in data
    assert row["Attendance"] == "Attended"


def test_in_person_or_video_rows_say_which(school, settings):
    evening = make_evening(school, mode="both")
    for code, room in (("S-MIA", "M1"), ("S-SAM", "S2")):
        setup.update_teacher(
            teacher=teacher(evening, school, code),
            actor=school.organiser,
            room=room,
            video_link=f"https://meet.example/{code}",
            now=NOW,
        )
    booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            booking.Choice(
                school.amy, teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0)
            ),
            booking.Choice(
                school.ben,
                teacher(evening, school, "S-SAM"),
                slot(evening, school, "S-SAM", 16, 30),
                method="video",
            ),
        ],
        now=NOW,
    )
    settings.SITE_URL = "https://gate.school.example"
    data = bookings_csv(evening)
    rows = read(data)
    video = Appointment.objects.get(evening=evening, pupil=school.ben)

    assert [(r["Pupil"], r["Meeting"], r["Room"], r["Video call page"]) for r in rows] == [
        ("Amy Ash", "In person", "M1", ""),
        (
            "Ben Ash",
            "Video",
            "S2",
            f"https://gate.school.example/parents/evenings/{evening.pk}"
            f"/appointments/{video.pk}/call/",
        ),
    ]
    assert b"meet.example" not in data


def test_a_formula_in_a_message_is_defused(school, evening):
    book(
        school,
        evening,
        school.ann,
        (school.amy, "S-MIA", 16, 0),
        message='=HYPERLINK("http://evil.example","click")',
    )
    data = bookings_csv(evening)
    [row] = read(data)
    assert row["Message"] == '\'=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+44 7700", "'+44 7700"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann = Bea", "Ann = Bea"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_cells_starting_like_a_formula_get_an_apostrophe(value, cell):
    assert safe(value) == cell


def test_an_evening_with_no_bookings_has_only_the_header(school, evening):
    assert read(bookings_csv(evening)) == []


# --- the download ---------------------------------------------------------------------


def url(evening_id):
    return reverse("evenings_staff:export", args=[evening_id])


def test_the_download_is_a_csv_attachment(client, school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.organiser)
    response = client.get(url(evening.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="spring-parents-evening-bookings.csv"'
    )
    assert len(read(response.content)) == 1


def test_another_evenings_bookings_are_not_found_and_others_are_refused(client, school, evening):
    client.force_login(school.organiser)
    assert client.get(url(evening.pk + 7)).status_code == 404
    for who in (school.teacher_user, school.ann):
        client.force_login(who)
        assert client.get(url(evening.pk)).status_code == 403
