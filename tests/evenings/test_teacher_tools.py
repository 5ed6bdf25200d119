"""A teacher's own tools at an evening (evenings.teacher_tools): their own breaks,
private notes and attendance marks, with the pages that call them. Also the two
evening settings these rely on, set on the organiser's settings form."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from evenings_school import NOW, book, make_evening, teacher
from teacher_helpers import book_at, evening_at, signed_in, teacher_account

from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import ChangeRefused, NotAllowed
from schoolgate.evenings.models import Appointment, AppointmentNote, Break, Evening, SlotClaim
from schoolgate.evenings.running import teacher_tools
from schoolgate.evenings.setup import services as setup
from schoolgate.ops.export import export_user


@pytest.fixture
def organiser(school):
    client = Client()
    client.force_login(school.organiser)
    return client


def test_the_settings_form_sets_teachers_own_breaks_and_the_waiting_offer(organiser, school):
    from test_staff_pages import settings_data

    evening = make_evening(school)
    response = organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="on", waiting_offer_hours="6"),
    )
    assert response.status_code == 302
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is True and evening.waiting_offer_hours == 6
    page = organiser.get(reverse("evenings_staff:evening", args=[evening.pk])).content.decode()
    assert "Teachers may set their own breaks until booking opens" in page
    assert "for 6 hours" in page

    response = organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="", waiting_offer_hours="0"),
    )
    assert response.status_code == 200
    assert "waiting_offer_hours" in response.context["form"].errors
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is True and evening.waiting_offer_hours == 6

    organiser.post(
        reverse("evenings_staff:edit", args=[evening.pk]),
        settings_data(evening, teachers_set_breaks="", waiting_offer_hours=""),
    )
    evening.refresh_from_db()
    assert evening.teachers_set_breaks is False and evening.waiting_offer_hours == 24
    assert Evening.objects.count() == 1


# --- own breaks: the rules (setup's break functions with a teacher as the actor) ----


@pytest.fixture
def mia(school):
    return teacher_account("S-MIA")


@pytest.fixture
def eve(school):
    return teacher_account("S-EVE")


def future_evening(school, **overrides):
    """Booking opens in 10 days, the evening in 30; teachers may set breaks."""
    return evening_at(
        school, in_days=30, opens_in_days=10, **{"teachers_set_breaks": True, **overrides}
    )


def at(evening, hour, minute):
    day = timezone.localtime(evening.days.first().starts_at)
    return day.replace(hour=hour, minute=minute)


def claimed_by_break(evening, school, mis_id):
    return sorted(
        timezone.localtime(c.slot.starts_at).strftime("%H:%M")
        for c in SlotClaim.objects.filter(
            brk__isnull=False, slot__teacher=teacher(evening, school, mis_id)
        ).select_related("slot")
    )


def test_a_teacher_adds_a_break_for_themself_before_booking_opens(school, mia):
    evening = future_evening(school)
    brk = teacher_tools.add_own_break(
        evening=evening, actor=mia, starts_at=at(evening, 17, 0), ends_at=at(evening, 17, 20)
    )
    assert brk.created_by == mia and not brk.all_teachers
    assert list(brk.teachers.all()) == [teacher(evening, school, "S-MIA")]
    assert claimed_by_break(evening, school, "S-MIA") == ["17:00", "17:10"]
    assert claimed_by_break(evening, school, "S-EVE") == []


def test_a_teacher_cannot_set_breaks_when_the_evening_does_not_allow_it(school, mia):
    evening = future_evening(school, teachers_set_breaks=False)
    with pytest.raises(NotAllowed):
        teacher_tools.add_own_break(
            evening=evening, actor=mia, starts_at=at(evening, 17, 0), ends_at=at(evening, 17, 20)
        )
    assert not Break.objects.exists() and not SlotClaim.objects.exists()


def test_a_teacher_cannot_set_breaks_once_booking_has_opened(school, mia):
    evening = future_evening(school)
    brk = teacher_tools.add_own_break(
        evening=evening, actor=mia, starts_at=at(evening, 17, 0), ends_at=at(evening, 17, 20)
    )
    after = evening.booking_opens + timedelta(minutes=1)
    with pytest.raises(NotAllowed, match="ask the evening's organiser"):
        teacher_tools.add_own_break(
            evening=evening,
            actor=mia,
            starts_at=at(evening, 18, 0),
            ends_at=at(evening, 18, 20),
            now=after,
        )
    with pytest.raises(NotAllowed):
        teacher_tools.remove_own_break(brk=brk, actor=mia, now=after)
    assert list(Break.objects.all()) == [brk]
    # The organiser still may.
    setup.remove_break(brk=brk, actor=school.organiser, now=after)
    assert not Break.objects.exists()


def test_a_teacher_cannot_make_breaks_for_everyone_or_for_someone_else(school, mia):
    evening = future_evening(school)
    times = {"starts_at": at(evening, 17, 0), "ends_at": at(evening, 17, 20)}
    for teachers in (None, [teacher(evening, school, "S-EVE")], []):
        with pytest.raises(NotAllowed):
            setup.add_break(evening=evening, actor=mia, teachers=teachers, **times)
    both = [teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")]
    with pytest.raises(NotAllowed):
        setup.add_break(evening=evening, actor=mia, teachers=both, **times)
    assert not Break.objects.exists()


def test_staff_who_do_not_teach_at_the_evening_cannot_set_breaks(school):
    evening = future_evening(school)
    outsider = teacher_account("S-ZED")  # teaches Year 11 only: not at this evening
    with pytest.raises(NotAllowed):
        teacher_tools.add_own_break(
            evening=evening,
            actor=outsider,
            starts_at=at(evening, 17, 0),
            ends_at=at(evening, 17, 20),
        )
    with pytest.raises(NotAllowed):
        setup.add_break(
            evening=evening,
            actor=school.teacher_user,
            teachers=[teacher(evening, school, "S-MIA")],
            starts_at=at(evening, 17, 0),
            ends_at=at(evening, 17, 20),
        )
    assert not Break.objects.exists()


def test_a_teacher_can_change_only_the_breaks_they_made(school, mia, eve):
    evening = future_evening(school)
    times = {"starts_at": at(evening, 17, 0), "ends_at": at(evening, 17, 20)}
    for_mia = setup.add_break(
        evening=evening,
        actor=school.organiser,
        teachers=[teacher(evening, school, "S-MIA")],
        **times,
    )
    for_all = setup.add_break(evening=evening, actor=school.organiser, teachers=None, **times)
    evens = teacher_tools.add_own_break(
        evening=evening, actor=eve, starts_at=at(evening, 18, 0), ends_at=at(evening, 18, 10)
    )
    for brk in (for_mia, for_all, evens):
        with pytest.raises(NotAllowed):
            teacher_tools.remove_own_break(brk=brk, actor=mia)
        with pytest.raises(NotAllowed):
            setup.change_break(brk=brk, actor=mia, ends_at=at(evening, 18, 30))
    assert Break.objects.count() == 3
    mine = teacher_tools.add_own_break(
        evening=evening, actor=mia, starts_at=at(evening, 18, 30), ends_at=at(evening, 18, 40)
    )
    with pytest.raises(NotAllowed):  # not to someone else
        setup.change_break(brk=mine, actor=mia, teachers=[teacher(evening, school, "S-EVE")])
    setup.change_break(brk=mine, actor=mia, ends_at=at(evening, 18, 50))
    assert claimed_by_break(evening, school, "S-MIA") == ["17:00", "17:10", "18:30", "18:40"]
    teacher_tools.remove_own_break(brk=mine, actor=mia)
    assert set(Break.objects.all()) == {for_mia, for_all, evens}


def test_a_teachers_break_over_a_booking_is_refused_listing_it(school, mia):
    evening = future_evening(school)
    booked = book_at(
        school, evening, school.ann, school.amy, "S-MIA", 17, 10, now=evening.booking_opens
    )
    with pytest.raises(ChangeRefused) as refused:
        teacher_tools.add_own_break(
            evening=evening, actor=mia, starts_at=at(evening, 17, 0), ends_at=at(evening, 17, 30)
        )
    assert refused.value.appointments == [booked]
    assert not Break.objects.exists()
    assert claimed_by_break(evening, school, "S-MIA") == []


# --- own breaks: the page -------------------------------------------------------------


def breaks_url(evening):
    return reverse("teacher:breaks", args=[evening.pk])


def break_data(evening, starts="17:00", ends="17:20", label="Marking"):
    return {"label": label, "day": evening.days.first().pk, "starts": starts, "ends": ends}


def test_the_breaks_page_adds_a_break_and_shows_the_organisers_as_not_editable(school, mia):
    evening = future_evening(school)
    organisers = setup.add_break(
        evening=evening,
        actor=school.organiser,
        teachers=None,
        starts_at=at(evening, 18, 0),
        ends_at=at(evening, 18, 10),
        label="Tea",
    )
    client = signed_in(mia)
    page = client.get(breaks_url(evening)).content.decode()
    assert "Tea" in page and "(every teacher)" in page and "Set by the organiser" in page
    assert reverse("teacher:break-remove", args=[evening.pk, organisers.pk]) not in page

    response = client.post(breaks_url(evening), break_data(evening))
    assert response.status_code == 302
    mine = Break.objects.get(created_by=mia)
    assert mine.label == "Marking"
    assert list(mine.teachers.all()) == [teacher(evening, school, "S-MIA")]
    page = client.get(breaks_url(evening)).content.decode()
    assert reverse("teacher:break-remove", args=[evening.pk, mine.pk]) in page

    # The organiser's break cannot be removed through the teacher's page.
    response = client.post(reverse("teacher:break-remove", args=[evening.pk, organisers.pk]))
    assert response.status_code == 404
    response = client.post(reverse("teacher:break-remove", args=[evening.pk, mine.pk]))
    assert response.status_code == 302
    assert list(Break.objects.all()) == [organisers]


def test_the_breaks_page_is_not_found_when_the_evening_does_not_allow_it(school, mia):
    evening = future_evening(school, teachers_set_breaks=False)
    client = signed_in(mia)
    assert client.get(breaks_url(evening)).status_code == 404
    assert client.post(breaks_url(evening), break_data(evening)).status_code == 404
    assert not Break.objects.exists()


def test_the_breaks_page_is_not_found_for_staff_who_do_not_teach_there(school, mia):
    evening = future_evening(school)
    outsider = signed_in(teacher_account("S-ZED"))
    assert outsider.get(breaks_url(evening)).status_code == 404
    assert outsider.post(breaks_url(evening), break_data(evening)).status_code == 404
    brk = teacher_tools.add_own_break(
        evening=evening, actor=mia, starts_at=at(evening, 17, 0), ends_at=at(evening, 17, 20)
    )
    eve = signed_in(teacher_account("S-EVE"))
    remove = reverse("teacher:break-remove", args=[evening.pk, brk.pk])
    assert eve.post(remove).status_code == 404
    assert outsider.post(remove).status_code == 404
    assert Break.objects.filter(pk=brk.pk).exists()


def test_after_booking_opens_the_page_says_who_to_ask_and_changes_nothing(school, mia):
    evening = evening_at(school, in_days=30, opens_in_days=-1, teachers_set_breaks=True)
    client = signed_in(mia)
    page = client.get(breaks_url(evening)).content.decode()
    assert "it is too late to change your breaks here" in page
    assert school.organiser.email in page
    assert 'name="starts"' not in page
    response = client.post(breaks_url(evening), break_data(evening))
    assert response.status_code == 409
    assert "ask the evening" in response.content.decode()
    assert not Break.objects.exists()


def test_the_breaks_page_refuses_a_break_over_a_booking_and_lists_it(school, mia):
    evening = future_evening(school)
    book_at(school, evening, school.ann, school.amy, "S-MIA", 17, 10, now=evening.booking_opens)
    response = signed_in(mia).post(breaks_url(evening), break_data(evening))
    assert response.status_code == 409
    page = response.content.decode()
    assert "This change would break bookings" in page and "Amy Ash" in page
    assert not Break.objects.exists()


def test_the_breaks_page_shows_bad_input_on_its_fields(school, mia):
    evening = future_evening(school)
    response = signed_in(mia).post(breaks_url(evening), break_data(evening, ends="16:50"))
    assert response.status_code == 200
    assert "ends" in response.context["form"].errors
    assert not Break.objects.exists()


# --- the appointment page: note and attendance -----------------------------------------


def appointment_url(appointment):
    return reverse("teacher:appointment", args=[appointment.evening_id, appointment.pk])


@pytest.fixture
def booked(school, evening):
    """Amy with Ms Maths (16:00) and with Dr English (16:20) at the fixture evening (10
    March 2026, over by now), booked by Ann with a message for each."""
    maths = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), message="Times tables")
    english = book(school, evening, school.ann, (school.amy, "S-EVE", 16, 20))
    return maths.appointments[0], english.appointments[0]


def test_the_teacher_sees_the_appointment_with_the_parents_message(school, mia, booked):
    maths, _english = booked
    page = signed_in(mia).get(appointment_url(maths)).content.decode()
    assert "Amy Ash" in page and "Times tables" in page
    assert "Mrs Ann Ash" in page
    assert reverse("teacher:schedule", args=[maths.evening_id]) in page
    assert 'name="attendance"' in page and 'name="note"' in page


def test_the_teacher_saves_a_note_and_marks_attendance(school, mia, booked):
    maths, _english = booked
    client = signed_in(mia)
    response = client.post(
        appointment_url(maths), {"attendance": "attended", "note": "  Needs a reading age.  "}
    )
    assert response.status_code == 302
    maths.refresh_from_db()
    assert maths.attendance == Appointment.Attendance.ATTENDED
    assert maths.attendance_marked_by == mia and maths.attendance_marked_at is not None
    assert AppointmentNote.objects.get(appointment=maths, author=mia).text == "Needs a reading age."
    page = client.get(appointment_url(maths)).content.decode()
    assert "Needs a reading age." in page and "Marked by" in page

    client.post(appointment_url(maths), {"attendance": "did_not_attend", "note": "Changed"})
    maths.refresh_from_db()
    assert maths.attendance == Appointment.Attendance.DID_NOT_ATTEND
    assert AppointmentNote.objects.get(appointment=maths).text == "Changed"

    client.post(appointment_url(maths), {"attendance": "", "note": ""})
    maths.refresh_from_db()
    assert maths.attendance == "" and maths.attendance_marked_by is None
    assert not AppointmentNote.objects.exists()


def test_bad_input_on_the_appointment_page_changes_nothing(school, mia, booked):
    maths, _english = booked
    client = signed_in(mia)
    client.post(appointment_url(maths), {"attendance": "attended", "note": "First"})
    for data in (
        {"attendance": "maybe", "note": "Second"},
        {"attendance": "did_not_attend", "note": "x" * (teacher_tools.NOTE_MAX_LENGTH + 1)},
    ):
        response = client.post(appointment_url(maths), data)
        assert response.status_code == 200
        assert "There is a problem" in response.content.decode()
        maths.refresh_from_db()
        assert maths.attendance == Appointment.Attendance.ATTENDED
        assert AppointmentNote.objects.get().text == "First"


def test_another_teacher_cannot_open_or_save_the_appointment(school, mia, eve, booked):
    maths, english = booked
    client = signed_in(eve)
    assert client.get(appointment_url(english)).status_code == 200
    assert client.get(appointment_url(maths)).status_code == 404
    response = client.post(appointment_url(maths), {"attendance": "attended", "note": "Mine"})
    assert response.status_code == 404
    # The right id at the wrong evening, and ids that do not exist.
    other = make_evening(school, name="Another evening")
    assert (
        client.get(reverse("teacher:appointment", args=[other.pk, english.pk])).status_code == 404
    )
    assert (
        client.get(reverse("teacher:appointment", args=[english.evening_id, 99999])).status_code
        == 404
    )
    maths.refresh_from_db()
    assert maths.attendance == "" and not AppointmentNote.objects.exists()
    # Staff who teach nothing, and parents.
    assert signed_in(school.teacher_user).get(appointment_url(english)).status_code == 404
    assert signed_in(school.ann).get(appointment_url(english)).status_code == 403


def test_a_teacher_never_sees_another_teachers_note(school, mia, eve, booked):
    maths, english = booked
    booking.cancel_appointment(appointment=english, user=school.ann, now=NOW)
    teacher_tools.save_note(appointment=maths, author=mia, text="Mia's private thoughts")
    # The appointment moves to Dr English (as an absence transfer would): the note stays
    # Ms Maths's, and Dr English's page does not show it.
    Appointment.objects.filter(pk=maths.pk).update(teacher=teacher(maths.evening, school, "S-EVE"))
    page = signed_in(eve).get(appointment_url(maths))
    assert page.status_code == 200
    assert "Mia's private thoughts" not in page.content.decode()
    assert page.context["form"]["note"].value() == ""
    signed_in(eve).post(appointment_url(maths), {"attendance": "attended", "note": "Eve's own"})
    assert dict(AppointmentNote.objects.values_list("author__email", "text")) == {
        mia.email: "Mia's private thoughts",
        eve.email: "Eve's own",
    }


def test_parents_never_see_notes(school, mia, booked):
    maths, _english = booked
    teacher_tools.save_note(appointment=maths, author=mia, text="Confidential remark")
    client = signed_in(school.ann)
    for url in (
        reverse("evenings:list"),
        reverse("evenings:evening", args=[maths.evening_id]),
        reverse("portal:home"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Confidential remark" not in response.content.decode()


def test_attendance_cannot_be_marked_before_the_day_starts(school, mia):
    evening = evening_at(school, in_days=3, opens_in_days=-5)
    appointment = book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    client = signed_in(mia)
    page = client.get(appointment_url(appointment)).content.decode()
    assert 'name="attendance"' not in page and "You can mark attendance from" in page
    # A note can be kept beforehand; an attendance value posted anyway is ignored.
    client.post(appointment_url(appointment), {"attendance": "attended", "note": "Prep"})
    appointment.refresh_from_db()
    assert appointment.attendance == ""
    assert AppointmentNote.objects.get().text == "Prep"
    with pytest.raises(teacher_tools.TooEarly):
        teacher_tools.mark_attendance(appointment=appointment, actor=mia, attendance="attended")
    day_start = evening.days.first().starts_at
    teacher_tools.mark_attendance(
        appointment=appointment, actor=mia, attendance="attended", now=day_start
    )
    appointment.refresh_from_db()
    assert appointment.attendance == "attended"


def test_only_confirmed_appointments_are_marked_or_noted(school, mia, booked):
    maths, _english = booked
    booking.cancel_appointment(appointment=maths, user=school.ann, now=NOW)
    maths.refresh_from_db()
    assert signed_in(mia).get(appointment_url(maths)).status_code == 404
    with pytest.raises(teacher_tools.NotConfirmed):
        teacher_tools.mark_attendance(appointment=maths, actor=mia, attendance="attended")
    with pytest.raises(teacher_tools.NotConfirmed):
        teacher_tools.save_note(appointment=maths, author=mia, text="Late")
    maths.refresh_from_db()
    assert maths.attendance == "" and not AppointmentNote.objects.exists()


def test_only_the_teacher_or_an_organiser_marks_attendance(school, mia, eve, booked):
    maths, _english = booked
    for someone in (eve, school.teacher_user, school.ann):
        with pytest.raises(NotAllowed):
            teacher_tools.mark_attendance(appointment=maths, actor=someone, attendance="attended")
        with pytest.raises(NotAllowed):
            teacher_tools.save_note(appointment=maths, author=someone, text="Hello")
    maths.refresh_from_db()
    assert maths.attendance == "" and not AppointmentNote.objects.exists()
    teacher_tools.mark_attendance(
        appointment=maths, actor=school.organiser, attendance="did_not_attend"
    )
    maths.refresh_from_db()
    assert maths.attendance == "did_not_attend" and maths.attendance_marked_by == school.organiser
    with pytest.raises(NotAllowed):  # organisers mark, but keep no notes on others' meetings
        teacher_tools.save_note(appointment=maths, author=school.organiser, text="Hello")


def test_export_user_includes_the_notes_the_teacher_wrote(school, mia, eve, booked):
    maths, english = booked
    teacher_tools.save_note(appointment=maths, author=mia, text="Mia wrote this")
    teacher_tools.save_note(appointment=english, author=eve, text="Eve wrote this")
    exported = export_user(email=mia.email)["parts"]["evening_notes"]
    assert [(n["pupil"], n["text"]) for n in exported] == [("Amy Ash", "Mia wrote this")]
    assert export_user(email=school.ann.email)["parts"]["evening_notes"] == []


def test_the_page_names_every_parent_who_may_come_to_a_shared_meeting(school, mia, evening):
    dan = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0)).appointments[0]
    page = signed_in(mia).get(appointment_url(dan)).content.decode()
    assert "Ms Deb Dee (booked)" in page and "Mr Don Dee" in page
    separate = make_evening(school, name="Separate", split_families="separate")
    own = book(school, separate, school.deb, (school.dan, "S-MIA", 16, 0)).appointments[0]
    page = signed_in(mia).get(appointment_url(own)).content.decode()
    assert "Ms Deb Dee (booked)" in page and "Don Dee" not in page
