"""The teacher's calendar feed: their own upcoming confirmed appointments in their one
secret, revocable address (feeds.py, teacher_feed.py), never a note or a parent's
message; and the staff page teacher:calendar that makes, resets and turns it off."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from icalendar import Calendar
from teacher_helpers import book_at, evening_at, signed_in, teacher_account

from schoolgate.accounts.models import User
from schoolgate.accounts.roles import TEACHERS
from schoolgate.core.emails import normalise_email
from schoolgate.evenings import booking
from schoolgate.evenings.comms import ics
from schoolgate.evenings.comms.feeds import create_feed, feed_token
from schoolgate.evenings.models import CalendarFeed
from schoolgate.evenings.running import teacher_tools
from schoolgate.mis.models import Contact, Staff

PAGE = reverse("teacher:calendar")


@pytest.fixture
def mia(school):
    return teacher_account("S-MIA")


@pytest.fixture
def upcoming(school):
    """An evening in 10 days, booking open: Amy (16:00) and Cal (16:10) with Ms Maths,
    Dan with Dr English (16:00); Cal's then cancelled."""
    evening = evening_at(school, in_days=10, opens_in_days=-2)
    teacher_entry = evening.teachers.get(staff__mis_id="S-MIA")
    teacher_entry.room = "M4"
    teacher_entry.save()
    amy = book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0, message="Fractions")
    cal = book_at(school, evening, school.bea, school.cal, "S-MIA", 16, 10)
    dan = book_at(school, evening, school.deb, school.dan, "S-EVE", 16, 0)
    booking.cancel_appointment(appointment=cal, user=school.bea)
    return evening, amy, dan


def fetch(client, feed):
    return client.get(reverse("calendar:ics", args=[feed_token(feed)]))


def events(client, user):
    response = fetch(client, create_feed(parent=user))
    assert response.status_code == 200
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def test_the_feed_has_the_teachers_upcoming_confirmed_appointments(client, school, mia, upcoming):
    evening, amy, _dan = upcoming
    teacher_tools.save_note(appointment=amy, author=mia, text="Private: ask about home")
    [event] = events(client, mia)
    assert event["UID"] == "teaching-" + ics.uid(amy.pk)
    assert str(event["SUMMARY"]) == "Parents' evening: Amy Ash (Mrs Ann Ash)"
    assert str(event["LOCATION"]) == "M4"
    description = str(event["DESCRIPTION"])
    assert "Pupil: Amy Ash" in description and "Parent: Mrs Ann Ash" in description
    assert "Room: M4" in description
    assert event.decoded("DTSTART") == amy.starts_at
    text = fetch(client, CalendarFeed.objects.get(parent=mia)).content.decode()
    assert "Private: ask about home" not in text and "Fractions" not in text


def test_a_video_appointment_carries_its_link(client, school, mia):
    evening = evening_at(school, in_days=10, opens_in_days=-2, mode="video")
    entry = evening.teachers.get(staff__mis_id="S-MIA")
    entry.video_link = "https://meet.example/mia"
    entry.save()
    amy = book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    [event] = events(client, mia)
    # The teacher's own call page for the appointment (docs/video.md), not a fixed link.
    site = settings.SITE_URL.rstrip("/")
    call = f"{site}/staff/my-evenings/{evening.pk}/appointments/{amy.pk}/call/"
    assert str(event["LOCATION"]) == call
    assert f"Video meeting: {call}" in str(event["DESCRIPTION"])


def test_other_teachers_and_past_appointments_are_not_in_it(client, school, mia, upcoming):
    past = evening_at(school, in_days=-10, opens_in_days=-30, name="Last term")
    book_at(school, past, school.ann, school.amy, "S-MIA", 16, 0, now=past.booking_opens)
    eve = teacher_account("S-EVE")
    [mias] = events(client, mia)
    assert "Amy Ash" in str(mias["SUMMARY"])
    [eves] = events(client, eve)
    assert "Dan Dee" in str(eves["SUMMARY"])
    assert events(client, school.teacher_user) == []  # staff who teach nothing


def test_a_teacher_who_is_also_a_parent_gets_both_in_one_feed(client, school, upcoming):
    evening, amy, _dan = upcoming
    # Bea Best's contact record is the MIS email of the staff member Ms Maths.
    teacher_account("S-MIA")
    bea_email = Contact.objects.get(mis_id="C-BEA").email_key
    Staff.objects.filter(mis_id="S-MIA").update(
        email=bea_email, email_key=normalise_email(bea_email)
    )
    User.objects.filter(pk=school.bea.pk).update(is_staff=True)
    school.bea.groups.add(Group.objects.get(name=TEACHERS))
    cal_again = book_at(school, evening, school.bea, school.cal, "S-TOM", 16, 30)
    summaries = sorted(
        str(e["SUMMARY"]) for e in events(client, User.objects.get(pk=school.bea.pk))
    )
    assert summaries == [
        "Cal Best: appointment with Mr T Tutor",
        "Parents' evening: Amy Ash (Mrs Ann Ash)",
    ]
    assert cal_again.status == "confirmed"


def test_resetting_or_turning_off_revokes_the_address(client, school, mia, upcoming):
    feed = create_feed(parent=mia)
    old = reverse("calendar:ics", args=[feed_token(feed)])
    assert client.get(old).status_code == 200
    staff = signed_in(mia)
    assert staff.post(PAGE, {"action": "reset"}).status_code == 302
    assert client.get(old).status_code == 404
    feed = CalendarFeed.objects.get(parent=mia)
    new = reverse("calendar:ics", args=[feed_token(feed)])
    assert client.get(new).status_code == 200
    assert staff.post(PAGE, {"action": "stop"}).status_code == 302
    assert client.get(new).status_code == 404
    assert not CalendarFeed.objects.filter(parent=mia).exists()


def test_a_deactivated_teacher_has_no_feed(client, school, mia, upcoming):
    feed = create_feed(parent=mia)
    User.objects.filter(pk=mia.pk).update(is_active=False)
    assert fetch(client, feed).status_code == 404


def test_the_page_makes_the_address_and_shows_the_count(school, mia, upcoming):
    staff = signed_in(mia)
    page = staff.get(PAGE).content.decode()
    assert "You do not have a calendar address yet." in page
    assert not CalendarFeed.objects.exists()  # looking makes nothing
    response = staff.post(PAGE, {"action": "create"})
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(parent=mia)
    page = staff.get(PAGE).content.decode()
    assert feed_token(feed) in page and "webcal://" in page
    assert "It has 1 upcoming appointment with you now." in page


def test_an_unknown_action_changes_nothing(school, mia):
    staff = signed_in(mia)
    staff.post(PAGE, {"action": "create"})
    key = CalendarFeed.objects.get(parent=mia).key
    response = staff.post(PAGE, {"action": "explode"}, follow=True)
    assert "Nothing was changed" in response.content.decode()
    assert CalendarFeed.objects.get(parent=mia).key == key


def test_the_page_is_for_staff_only(client, school):
    assert client.get(PAGE).status_code == 302  # to sign in
    assert signed_in(school.ann).get(PAGE).status_code == 403
    assert signed_in(school.ann).post(PAGE, {"action": "create"}).status_code == 403
    assert not CalendarFeed.objects.exists()
