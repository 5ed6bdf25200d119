"""The pupil page: what the school holds about the child, attendance where the data
carries it, and every appointment for the child whoever booked it."""

import html as entities
import re

from django.urls import reverse
from django.utils import timezone
from portal_school import book, make_evening, teacher
from school import resync

from schoolgate.evenings import booking
from schoolgate.evenings.models import Evening
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.snapshot import AttendanceRow


def page(client, school, pupil: str) -> str:
    response = client.get(reverse("portal:pupil", args=[school.pupils[pupil].pk]))
    assert response.status_code == 200
    return response.text


def appointment_rows(html: str) -> list[str]:
    block = re.search(r'id="appointments-caption">.*?<tbody[^>]*>(.*?)</tbody>', html, re.S)
    if not block:
        return []
    return [
        entities.unescape(" ".join(re.sub(r"<[^>]+>", " ", row).split()))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", block.group(1), re.S)
    ]


def test_every_appointment_is_listed_whoever_booked_it(client, school, parents):
    evening = make_evening(school)
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    book(school, evening, parents["al"], ("amy", "sam", 17, 0))
    book(school, evening, parents["ann"], ("amy", "tom", 17, 30), actor=school.admin)
    client.force_login(parents["al"])

    rows = appointment_rows(page(client, school, "amy"))

    day = timezone.localtime(evening.days.get().starts_at)
    assert [r.split(", ", 1)[0] for r in rows] == [f"{day:%A} {day.day} {day:%B %Y}"] * 3
    assert "16:30–16:40 Dr R Reed" in rows[0] and rows[0].endswith("Another parent or carer")
    assert "17:00–17:10 Ms S Scott" in rows[1] and rows[1].endswith("You")
    assert "17:30–17:40 Mr T Teach" in rows[2] and rows[2].endswith("The school")
    assert all("Spring parents' evening" in r for r in rows)


def test_the_other_parent_is_never_named(client, school, parents):
    evening = make_evening(school, year_groups=[8], split_families=Evening.SplitFamilies.SEPARATE)
    book(school, evening, parents["cara"], ("cal", "ria", 16, 30))
    client.force_login(parents["colin"])

    html = page(client, school, "cal")

    assert "Another parent or carer" in html
    assert "Cara" not in html and "cara.cole" not in html


def test_the_room_is_shown_for_each_appointment(client, school, parents):
    evening = make_evening(school)
    setup.update_teacher(teacher=teacher(evening, school, "ria"), actor=school.admin, room="S12")
    book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    client.force_login(parents["ann"])

    rows = appointment_rows(page(client, school, "amy"))

    assert "Dr R Reed S12" in rows[0]


def test_cancelled_appointments_and_other_childrens_are_not_listed(client, school, parents):
    evening = make_evening(school)
    [kept] = book(school, evening, parents["ann"], ("amy", "ria", 16, 30))
    [gone] = book(school, evening, parents["ann"], ("amy", "sam", 17, 0))
    booking.cancel_appointment(appointment=gone, user=parents["ann"])
    book(school, evening, parents["ann"], ("ben", "tom", 18, 0))
    book(school, evening, parents["gina"], ("gus", "ria", 18, 0))
    client.force_login(parents["ann"])

    rows = appointment_rows(page(client, school, "amy"))

    assert len(rows) == 1 and "Dr R Reed" in rows[0]


def test_a_child_with_no_appointments_says_so(client, school, parents):
    client.force_login(parents["ann"])

    assert "No appointments booked for this child." in page(client, school, "amy")


def test_attendance_from_the_mis_is_shown_by_school_year(client, school, parents):
    snapshot = school.snapshot
    amy = school.snapshot.pupils["P-AMY"].mis_id
    snapshot.attendance_pupils = {amy}
    snapshot.attendance = {
        (amy, 2024, "838/3321"): AttendanceRow(
            amy, 2024, "838/3321", "Our School", 380, 361, 15, 4
        ),
        (amy, 2025, "838/3321"): AttendanceRow(amy, 2025, "838/3321", "Our School", 120, 120, 0, 0),
    }
    resync(snapshot)
    client.force_login(parents["ann"])

    html = page(client, school, "amy")

    block = re.search(r'id="attendance-caption">.*?<tbody[^>]*>(.*?)</tbody>', html, re.S)[1]
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", r).split())
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S)
    ]
    assert rows == [
        "2025/26 Our School 120 120 0 0 100.0%",
        "2024/25 Our School 380 361 15 4 95.0%",
    ]
    assert "Not provided by your school" not in page(client, school, "amy")
    assert "Not provided by your school" in page(client, school, "ben")


def test_without_attendance_in_the_data_the_page_says_so(client, school, parents):
    client.force_login(parents["ann"])

    assert "Not provided by your school's data." in page(client, school, "amy")


def test_the_page_shows_date_of_birth_year_form_and_classes(client, school, parents):
    client.force_login(parents["ann"])

    html = page(client, school, "amy")

    assert "5 January 2014" in html and "Year 7" in html and "7A" in html
    maths = re.search(r"Maths</th>(.*?)</tr>", html, re.S).group(1)
    assert "7 Maths A" in maths and "Dr R Reed" in maths
    english = re.search(r"English</th>(.*?)</tr>", html, re.S).group(1)
    assert "7 English" in english and "Ms S Scott" in english
