"""Teachers' schedules (schoolgate.evenings.reports.schedules) and the teacher's pages:
/staff/my-evenings/ and the schedule of an evening."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from evenings_school import LONDON, NOW, book, london, make_evening, slot, teacher
from schedule_school import link_teacher, make_mia

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import TEACHERS
from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, Evening, RoomMap, TeacherAbsence
from schoolgate.evenings.reports import schedules
from schoolgate.evenings.setup import services as setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def mia(school, evening):
    return make_mia(school, evening)


def test_a_schedule_mixes_appointments_and_breaks_in_time_order(school, evening, mia):
    found = schedules.teacher_schedule(evening=evening, teacher=mia, now=NOW)
    rows = found.rows
    times = [(r.kind, r.starts_at.astimezone(LONDON).strftime("%H:%M")) for r in rows]
    assert times == [
        ("appointment", "16:00"),
        ("appointment", "16:30"),
        ("break", "16:40"),
        ("break", "17:30"),
        ("appointment", "18:00"),
    ]
    amy = rows[0]
    assert amy.appointment.pupil == school.amy
    assert amy.appointment.message == "Fractions, please"
    assert amy.parents == ["Mrs Ann Ash"]
    assert amy.classes == ["7 Maths"]
    assert found.appointment_count == 3
    # Dan's separated parents both may see him: both are listed for a shared meeting.
    assert rows[4].parents == ["Ms Deb Dee", "Mr Don Dee"]


def test_another_teacher_has_only_their_own_appointments_and_the_shared_break(school, evening, mia):
    eve = teacher(evening, school, "S-EVE")
    found = schedules.teacher_schedule(evening=evening, teacher=eve, now=NOW)
    assert [r.appointment.pupil for r in found.rows if not r.is_break] == [school.amy]
    assert [r.brk.label for r in found.rows if r.is_break] == ["Tea"]
    assert found.rows[0].classes == ["7 English"]


def test_separate_meetings_list_only_the_parent_who_booked(school):
    evening = make_evening(school, split_families=Evening.SplitFamilies.SEPARATE)
    book(school, evening, school.don, (school.dan, "S-MIA", 16, 0))
    found = schedules.teacher_schedule(
        evening=evening, teacher=teacher(evening, school, "S-MIA"), now=NOW
    )
    assert found.rows[0].parents == ["Mr Don Dee"]


def test_cancelled_appointments_are_left_out_and_held_ones_are_marked(school, evening, mia):
    amy = Appointment.objects.get(teacher=mia, pupil=school.amy)
    booking.cancel_appointment(appointment=amy, user=school.ann, now=NOW)
    booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 20))],
        now=NOW,
    )
    found = schedules.teacher_schedule(evening=evening, teacher=mia, now=NOW)
    appointments = [r for r in found.rows if not r.is_break]
    assert [(r.appointment.pupil, r.held) for r in appointments] == [
        (school.amy, True),
        (school.cal, False),
        (school.dan, False),
    ]


def test_an_absence_is_listed_and_marks_the_rows_it_covers(school, evening, mia):
    TeacherAbsence.objects.create(
        evening=evening,
        teacher=mia,
        starts_at=london(2026, 3, 10, 17, 45),
        ends_at=london(2026, 3, 10, 18, 30),
        action=TeacherAbsence.Action.TRANSFER,
    )
    found = schedules.teacher_schedule(evening=evening, teacher=mia, now=NOW)
    assert len(found.absences) == 1
    assert [r.absent for r in found.rows] == [False, False, False, True, True]


def test_the_pack_reads_every_schedule_in_the_same_number_of_queries(school, evening, mia):
    with CaptureQueriesContext(connection) as few:
        schedules.schedules(evening=evening, now=NOW)
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 30), (school.amy, "S-TOM", 17, 0))
    book(school, evening, school.bea, (school.cal, "S-TOM", 16, 0))
    with CaptureQueriesContext(connection) as more:
        found = schedules.schedules(evening=evening, now=NOW)
    # At most 10, and one read of the office's shared-email approvals.
    assert len(more.captured_queries) == len(few.captured_queries) <= 11
    names = [s.teacher.staff.surname for s in found]
    assert names == sorted(names)
    assert sum(s.appointment_count for s in found) == 7


# --- the pages -------------------------------------------------------------------


def test_my_evenings_lists_the_evenings_i_teach_at_upcoming_first(client, school, evening, mia):
    later = make_evening(
        school,
        name="Autumn evening",
        days=[(london(2026, 11, 10, 16, 0), london(2026, 11, 10, 19, 0))],
        booking_opens=london(2026, 10, 1, 9, 0),
        booking_closes=london(2026, 11, 9, 12, 0),
    )
    make_evening(school, name="Year 11 evening", year_groups=[11])  # not Mia's
    client.force_login(school.teacher_user)
    now = london(2026, 6, 1, 12, 0)
    entries = schedules.teacher_evenings(school.teacher_user, now=now)
    assert [e.evening for e in entries] == [later, evening]
    response = client.get(reverse("teacher:evenings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Spring parents&#x27; evening" in body and "Autumn evening" in body
    assert "Year 11 evening" not in body
    assert reverse("teacher:schedule", args=[evening.pk]) in body


def test_a_staff_member_who_teaches_at_no_evening_is_told_so(client, school, evening):
    client.force_login(school.teacher_user)
    response = client.get(reverse("teacher:evenings"))
    assert response.status_code == 200
    assert "You are not taking part in any parents" in response.content.decode()


def test_the_schedule_page_shows_my_appointments_breaks_and_links(client, school, evening, mia):
    Appointment.objects.filter(teacher=mia, pupil=school.cal).update(
        attendance=Appointment.Attendance.DID_NOT_ATTEND
    )
    client.force_login(school.teacher_user)
    response = client.get(reverse("teacher:schedule", args=[evening.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Amy Ash", "Cal Best", "Dan Dee", "Fractions, please", "M4", "Break: Tea"):
        assert text in body
    assert "Break: Phone call" in body
    assert "Did not attend" in body
    assert "Reading at home" not in body  # Eve's appointment
    for a in Appointment.objects.filter(teacher=mia):
        assert reverse("teacher:appointment", args=[evening.pk, a.pk]) in body
    assert reverse("teacher:schedule-pdf", args=[evening.pk]) in body
    assert (
        body.index("16:00")
        < body.index("Break: Phone call")
        < body.index("Break: Tea")
        < body.index("18:00")
    )


@pytest.mark.parametrize("url_name", ["teacher:schedule", "teacher:schedule-pdf"])
def test_an_evening_i_do_not_teach_at_is_not_found(client, school, evening, mia, url_name):
    other = make_evening(school, name="Year 11 evening", year_groups=[11])
    draft = setup.create_evening(
        actor=school.organiser,
        name="Draft",
        days=[(london(2026, 3, 12, 16, 0), london(2026, 3, 12, 19, 0))],
        booking_opens=london(2026, 2, 20, 9, 0),
        booking_closes=london(2026, 3, 10, 12, 0),
        slot_minutes=10,
        year_groups=[7],
        now=NOW,
    )
    client.force_login(school.teacher_user)
    for evening_id in (other.pk, draft.pk, 999999):
        assert client.get(reverse(url_name, args=[evening_id])).status_code == 404
    # Removed from the evening: not found either.
    mia.removed = True
    mia.save()
    assert client.get(reverse(url_name, args=[evening.pk])).status_code == 404


@pytest.mark.parametrize("url_name", ["teacher:schedule", "teacher:schedule-pdf"])
def test_another_member_of_staff_cannot_see_my_schedule(client, school, evening, mia, url_name):
    other = User.objects.create_user("other.teacher@school.example", is_staff=True)
    other.groups.add(Group.objects.get(name=TEACHERS))
    link_teacher(other, "S-EVE")
    client.force_login(other)
    response = client.get(reverse("teacher:schedule", args=[evening.pk]))
    assert response.status_code == 200
    assert "Fractions, please" not in response.content.decode()
    # The organiser, who does not teach, is refused: the pack is theirs.
    client.force_login(school.organiser)
    assert client.get(reverse(url_name, args=[evening.pk])).status_code == 403


@pytest.mark.parametrize(
    "url_name", ["teacher:evenings", "teacher:schedule", "teacher:schedule-pdf"]
)
def test_parents_cannot_open_teacher_pages(client, school, evening, url_name):
    client.force_login(school.ann)
    args = [] if url_name == "teacher:evenings" else [evening.pk]
    assert client.get(reverse(url_name, args=args)).status_code == 403


def test_the_teacher_pages_never_read_the_map_of_rooms(client, school, evening, mia):
    Evening.objects.filter(pk=evening.pk).update(room_map_type="image/png")
    RoomMap.objects.create(evening=evening, data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000)
    client.force_login(school.teacher_user)
    for url in (
        reverse("teacher:evenings"),
        reverse("teacher:schedule", args=[evening.pk]),
        reverse("teacher:schedule-pdf", args=[evening.pk]),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert not [q for q in queries.captured_queries if "evenings_roommap" in q["sql"]], url
