"""Importing teachers' availability from a CSV file: the rest of each named teacher's
day becomes "Unavailable" breaks; every problem listed with line and column and
nothing applied; a booking in the way refused with it; the same file twice changes
nothing."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, teacher

from schoolgate.evenings.booking.availability import free_starts
from schoolgate.evenings.booking.errors import ChangeRefused, NotAllowed
from schoolgate.evenings.models import Break, SlotClaim
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.setup.availability_csv import import_file
from schoolgate.mis.models import Staff
from schoolgate.mis.snapshot import InvalidSource

GOOD = """teacher,date,from,to
S-MIA,10/03/2026,16:00,17:30
mia.maths@school.example,2026-03-10,18:00,19:00
S-EVE,10/03/2026,,
"""


@pytest.fixture(autouse=True)
def staff_emails(school):
    for staff in Staff.objects.all():
        email = f"{staff.forename.lower()}.{staff.surname.lower()}@school.example"
        Staff.objects.filter(pk=staff.pk).update(email=email, email_key=email)


def run(school, evening, text, *, now=NOW, actor=None):
    return import_file(
        evening=evening,
        data=text.encode("utf-8"),
        name="availability.csv",
        actor=actor or school.organiser,
        now=now,
    )


def unavailable(evening):
    return sorted(
        (
            b.teachers.get().staff.mis_id,
            b.starts_at.astimezone(london(2026, 1, 1).tzinfo).strftime("%H:%M"),
            b.ends_at.astimezone(london(2026, 1, 1).tzinfo).strftime("%H:%M"),
        )
        for b in Break.objects.filter(evening=evening, label="Unavailable")
    )


def problems(school, evening, text) -> list[tuple]:
    with pytest.raises(InvalidSource) as caught:
        run(school, evening, text)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_the_rest_of_each_named_day_becomes_unavailable(school, evening):
    result = run(school, evening, GOOD)

    assert unavailable(evening) == [("S-EVE", "16:00", "19:00"), ("S-MIA", "17:30", "18:00")]
    assert (result.added, result.removed, result.changed_teacher_days) == (2, 0, 2)
    mia = teacher(evening, school, "S-MIA")
    free = [s.starts_at for s in free_starts(evening=evening, teacher=mia, now=NOW)]
    assert london(2026, 3, 10, 17, 20) in free and london(2026, 3, 10, 18, 0) in free
    assert london(2026, 3, 10, 17, 30) not in free and london(2026, 3, 10, 17, 50) not in free
    assert free_starts(evening=evening, teacher=teacher(evening, school, "S-EVE"), now=NOW) == []
    # Tom was not in the file: free all evening.
    assert (
        len(free_starts(evening=evening, teacher=teacher(evening, school, "S-TOM"), now=NOW)) == 18
    )


def test_the_same_file_again_changes_nothing(school, evening):
    run(school, evening, GOOD)
    before = list(Break.objects.order_by("pk").values_list("pk", "starts_at", "ends_at"))
    claims = SlotClaim.objects.count()

    again = run(school, evening, GOOD)

    assert (again.added, again.removed, again.changed_teacher_days) == (0, 0, 0)
    assert again.unchanged_teacher_days == 2
    assert list(Break.objects.order_by("pk").values_list("pk", "starts_at", "ends_at")) == before
    assert SlotClaim.objects.count() == claims


def test_a_new_file_replaces_the_named_teachers_days_only(school, evening):
    run(school, evening, GOOD)
    result = run(school, evening, "teacher,date,from,to\nS-MIA,10/03/2026,16:00,19:00\n")
    assert unavailable(evening) == [("S-EVE", "16:00", "19:00")]
    assert (result.added, result.removed) == (0, 1)


def test_other_breaks_are_left_alone(school, evening):
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 20),
        label="Tea",
        now=NOW,
    )
    run(school, evening, GOOD)
    run(school, evening, "teacher,date,from,to\nS-MIA,10/03/2026,16:00,19:00\n")
    assert Break.objects.filter(evening=evening, label="Tea").count() == 1


def test_headers_in_any_order_and_case_with_a_bom(school, evening):
    text = "\ufeffDate , TEACHER,To,From\r\n2026-03-10,S-mia,19:00,18:30\r\n"
    run(school, evening, text)
    assert unavailable(evening) == [("S-MIA", "16:00", "18:30")]


def test_every_problem_is_listed_with_its_line_and_column_and_nothing_changes(school, evening):
    text = """teacher,date,from,to
S-NOBODY,10/03/2026,16:00,17:00
S-MIA,11/03/2026,16:00,17:00
S-MIA,31/02/2026,16:00,17:00
S-EVE,10/03/2026,4pm,17:00
S-EVE,10/03/2026,16:00,
S-TOM,10/03/2026,18:00,17:00
S-TOM,10/03/2026,15:00,17:00
,10/03/2026,16:00,17:00
S-SAM,10/03/2026,16:00,17:00
S-SAM,10/03/2026,,
"""
    found = problems(school, evening, text)
    assert found == [
        (
            2,
            "teacher",
            "'S-NOBODY' is not the staff id or email of a teacher taking part in this evening",
        ),
        (3, "date", "11/03/2026 is not a day of this evening (its days: 10/03/2026)"),
        (4, "date", "'31/02/2026' is not a date (expected DD/MM/YYYY or YYYY-MM-DD)"),
        (5, "from", "'4pm' is not a time (expected HH:MM, for example 16:30)"),
        (
            6,
            "to",
            "give both times, or leave both empty when the teacher is not available that day",
        ),
        (7, "to", "the end must come after the start"),
        (8, "from", "15:00 to 17:00 is not within the day, 16:00 to 19:00"),
        (9, "teacher", "give the teacher's staff id from the MIS, or their email"),
        (
            11,
            "from",
            "the teacher is given times on line 10 for the same day, and not available at all here",
        ),
    ]
    assert not Break.objects.exists()


def test_a_missing_or_unknown_column_is_a_problem_on_line_1(school, evening):
    assert problems(school, evening, "teacher,date,from\nS-MIA,10/03/2026,16:00\n") == [
        (1, "to", "the required column is missing")
    ]
    assert problems(
        school, evening, "teacher,date,from,to,room\nS-MIA,10/03/2026,16:00,17:00,M1\n"
    ) == [(1, "room", "this is not a column of the file (see docs/csv-availability.md)")]


def test_an_empty_file_is_a_problem(school, evening):
    assert problems(school, evening, "teacher,date,from,to\n") == [(2, "", "the file has no rows")]


def test_a_removed_teacher_is_not_a_teacher_of_the_evening(school, evening):
    setup.remove_teacher(teacher=teacher(evening, school, "S-FAY"), actor=school.organiser, now=NOW)
    [(line, field, _message)] = problems(
        school, evening, "teacher,date,from,to\nS-FAY,10/03/2026,,\n"
    )
    assert (line, field) == (2, "teacher")


def test_a_booking_in_the_way_is_refused_with_every_booking_and_nothing_changes(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 17, 40))
    book(school, evening, school.deb, (school.dan, "S-EVE", 16, 0))
    run(school, evening, "teacher,date,from,to\nS-TOM,10/03/2026,16:00,17:00\n")
    before = unavailable(evening)

    with pytest.raises(ChangeRefused) as caught:
        run(school, evening, GOOD + "S-TOM,10/03/2026,16:00,18:00\n")

    assert sorted(a.pupil.legal_forename for a in caught.value.appointments) == ["Amy", "Dan"]
    assert unavailable(evening) == before


def test_only_organisers_may_import(school, evening):
    with pytest.raises(NotAllowed):
        run(school, evening, GOOD, actor=school.teacher_user)
    assert not Break.objects.exists()


# --- the page -------------------------------------------------------------------------


def url(evening_id):
    return reverse("evenings_staff:availability", args=[evening_id])


def upload(client, evening, text, name="availability.csv"):
    return client.post(
        url(evening.pk),
        {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")},
        follow=True,
    )


def test_the_page_explains_the_file(client, school, evening):
    client.force_login(school.organiser)
    response = client.get(url(evening.pk))
    assert response.status_code == 200
    assert "teacher,date,from,to" in response.content.decode()


def test_uploading_a_good_file_shows_the_changes_then_applies_them(client, school, evening):
    client.force_login(school.organiser)

    response = upload(client, evening, GOOD)

    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and response.redirect_chain == []
    assert "Check the changes" in page and "Nothing has been changed yet." in page
    assert "Ms M Maths" in page and "17:30–18:00" in page and "16:00–19:00" in page
    assert not Break.objects.exists()
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    applied = client.post(
        url(evening.pk), {"content": content, "name": "availability.csv"}, follow=True
    )
    page = html.unescape(applied.content.decode())
    assert applied.redirect_chain[-1][0] == url(evening.pk)
    assert "Availability imported: 2 teachers' days changed" in page
    assert unavailable(evening) == [("S-EVE", "16:00", "19:00"), ("S-MIA", "17:30", "18:00")]
    # The same file again: nothing to change, said at once.
    again = html.unescape(upload(client, evening, GOOD).content.decode())
    assert "already as the file says: nothing to change" in again


def test_the_confirm_step_checks_everything_again(client, school, evening):
    client.force_login(school.organiser)
    page = upload(client, evening, GOOD).content.decode()
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    # Booked meanwhile, inside Mia's new unavailable time: refused, nothing changed.
    book(school, evening, school.ann, (school.amy, "S-MIA", 17, 40))
    response = client.post(url(evening.pk), {"content": content, "name": "availability.csv"})
    assert response.status_code == 409
    assert "Amy Ash with Ms M Maths" in html.unescape(response.content.decode())
    assert not Break.objects.exists()
    damaged = client.post(url(evening.pk), {"content": "not base64!", "name": "x.csv"}, follow=True)
    assert "The upload was damaged" in damaged.content.decode()
    assert not Break.objects.exists()


def test_uploading_a_file_with_problems_lists_them_and_changes_nothing(client, school, evening):
    client.force_login(school.organiser)
    response = upload(client, evening, "teacher,date,from,to\nS-X,10/03/2026,16:00,17:00\n")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "The file has problems: nothing was changed" in page
    assert "availability.csv, line 2, field 'teacher': 'S-X' is not the staff id" in page
    assert not Break.objects.exists()


def test_uploading_a_file_over_a_booking_is_refused_with_it(client, school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 17, 40))
    client.force_login(school.organiser)
    response = upload(client, evening, GOOD)
    page = html.unescape(response.content.decode())
    assert response.status_code == 409
    assert "This change would break bookings: nothing was changed" in page
    assert "Amy Ash with Ms M Maths" in page
    assert not Break.objects.exists()


def test_uploading_nothing_is_an_error_on_the_field(client, school, evening):
    client.force_login(school.organiser)
    response = client.post(url(evening.pk), {})
    assert response.status_code == 200
    assert "Choose a CSV file to upload." in response.content.decode()


def test_another_evenings_id_is_not_found_and_teachers_are_refused(client, school, evening):
    other = make_evening(school, name="Other")
    client.force_login(school.organiser)
    assert client.get(url(other.pk + 10)).status_code == 404
    client.force_login(school.teacher_user)
    assert client.get(url(evening.pk)).status_code == 403
    assert upload(client, evening, GOOD).status_code == 403
    assert not Break.objects.exists()
