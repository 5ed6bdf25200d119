"""Attendance figures (evenings.attendance) and the organiser's attendance page: counts
overall, by teacher and by year group in a fixed number of queries; the organiser marks
attendance there; teachers' private notes never appear."""

import pytest
from django.urls import reverse
from evenings_school import NOW, book, make_evening, teacher
from teacher_helpers import book_at, evening_at, signed_in, teacher_account

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, AppointmentNote
from schoolgate.evenings.running import attendance, teacher_tools


@pytest.fixture
def mia(school):
    return teacher_account("S-MIA")


@pytest.fixture
def marked(school, evening, mia):
    """Five appointments at the (past) fixture evening: Amy, Cal and Dan with Ms Maths
    (attended, did not attend, not marked), Ben with Mr Science (attended, Year 9), and
    Amy with Dr English cancelled (never counted)."""
    made = {}
    for key, parent, pupil, mis_id, hour, minute in (
        ("amy", school.ann, school.amy, "S-MIA", 16, 0),
        ("cal", school.bea, school.cal, "S-MIA", 16, 10),
        ("dan", school.deb, school.dan, "S-MIA", 16, 20),
        ("ben", school.ann, school.ben, "S-SAM", 16, 40),
        ("gone", school.ann, school.amy, "S-EVE", 17, 0),
    ):
        made[key] = book(school, evening, parent, (pupil, mis_id, hour, minute)).appointments[0]
    teacher_tools.mark_attendance(appointment=made["amy"], actor=mia, attendance="attended")
    teacher_tools.mark_attendance(appointment=made["cal"], actor=mia, attendance="did_not_attend")
    teacher_tools.mark_attendance(
        appointment=made["ben"], actor=school.organiser, attendance="attended"
    )
    teacher_tools.mark_attendance(
        appointment=made["gone"], actor=school.organiser, attendance="attended"
    )
    booking.cancel_appointment(appointment=made["gone"], user=school.ann, now=NOW)
    teacher_tools.save_note(appointment=made["amy"], author=mia, text="Secret about Amy")
    return made


def as_tuple(figures):
    return (figures.attended, figures.did_not_attend, figures.not_marked)


def test_figures_overall_by_teacher_and_by_year(school, evening, marked):
    figures = attendance.evening_figures(evening)
    assert as_tuple(figures.overall) == (2, 1, 1)
    assert figures.overall.total == 4 and figures.overall.attended_percent == 67
    assert [(str(t.staff), as_tuple(f)) for t, f in figures.by_teacher] == [
        ("Ms M Maths", (1, 1, 1)),
        ("Mr S Science", (1, 0, 0)),
    ]
    assert [(year, as_tuple(f)) for year, f in figures.by_year] == [
        (7, (1, 1, 1)),
        (9, (1, 0, 0)),
    ]


def test_figures_take_the_same_queries_however_many_appointments(
    school, evening, marked, django_assert_num_queries
):
    with django_assert_num_queries(4):
        attendance.evening_figures(evening)
    book(school, evening, school.don, (school.dan, "S-EVE", 18, 0))
    book(school, evening, school.bea, (school.cal, "S-TOM", 18, 0))
    with django_assert_num_queries(4):
        figures = attendance.evening_figures(evening)
    assert as_tuple(figures.overall) == (2, 1, 3) and len(figures.by_teacher) == 4


def test_an_evening_with_no_appointments_has_zero_figures(school):
    evening = make_evening(school, name="Empty")
    figures = attendance.evening_figures(evening)
    assert as_tuple(figures.overall) == (0, 0, 0) and figures.overall.attended_percent is None
    assert figures.by_teacher == [] and figures.by_year == []


def page_url(evening, **query):
    url = reverse("evenings_staff:attendance", args=[evening.pk])
    return url + (f"?teacher={query['teacher']}" if "teacher" in query else "")


def test_the_page_shows_the_figures_and_never_a_note(school, evening, marked):
    client = signed_in(school.organiser)
    response = client.get(page_url(evening))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<dd class="govuk-summary-list__value" id="total">4</dd>' in page
    assert "Ms M Maths" in page and "Year 9" in page
    mia_entry = teacher(evening, school, "S-MIA")
    page = client.get(page_url(evening, teacher=mia_entry.pk)).content.decode()
    assert "Amy Ash" in page and "Cal Best" in page and "Dan Dee" in page
    assert "Secret about Amy" not in page
    assert AppointmentNote.objects.filter(text="Secret about Amy").exists()


def test_the_organiser_marks_attendance_on_the_page(school, evening, marked):
    client = signed_in(school.organiser)
    dan = marked["dan"]
    mia_entry = teacher(evening, school, "S-MIA")
    response = client.post(
        page_url(evening),
        {"appointment": dan.pk, "teacher": mia_entry.pk, f"a{dan.pk}-attendance": "attended"},
    )
    assert response.status_code == 302
    assert response.url.endswith(f"?teacher={mia_entry.pk}#appointment-{dan.pk}")
    dan.refresh_from_db()
    assert dan.attendance == "attended" and dan.attendance_marked_by == school.organiser
    assert as_tuple(attendance.evening_figures(evening).overall) == (3, 1, 0)


def test_bad_marks_and_other_evenings_ids_change_nothing(school, evening, marked):
    client = signed_in(school.organiser)
    dan = marked["dan"]
    response = client.post(
        page_url(evening), {"appointment": dan.pk, f"a{dan.pk}-attendance": "maybe"}
    )
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    gone = marked["gone"]
    response = client.post(
        page_url(evening), {"appointment": gone.pk, f"a{gone.pk}-attendance": "did_not_attend"}
    )
    assert response.status_code == 409
    other = make_evening(school, name="Other evening")
    for data in ({"appointment": dan.pk}, {"appointment": "x"}):
        assert client.post(page_url(other), data).status_code == 404
    assert (
        client.get(page_url(other, teacher=teacher(evening, school, "S-MIA").pk)).status_code == 404
    )
    dan.refresh_from_db()
    assert dan.attendance == ""
    assert Appointment.objects.get(pk=gone.pk).attendance == "attended"


def test_the_page_says_when_attendance_can_be_marked_for_an_evening_to_come(school, mia):
    evening = evening_at(school, in_days=3, opens_in_days=-5)
    appointment = book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    client = signed_in(school.organiser)
    page = client.get(page_url(evening, teacher=teacher(evening, school, "S-MIA").pk))
    assert "Not yet: attendance can be marked from" in page.content.decode()
    response = client.post(
        page_url(evening),
        {"appointment": appointment.pk, f"a{appointment.pk}-attendance": "attended"},
    )
    assert response.status_code == 409
    assert Appointment.objects.get(pk=appointment.pk).attendance == ""


def test_teachers_and_parents_cannot_open_the_page(school, evening, mia):
    assert signed_in(mia).get(page_url(evening)).status_code == 403
    assert signed_in(school.ann).get(page_url(evening)).status_code == 403
