"""The personal calendar feed: a secret, revocable address serving the family's
upcoming confirmed appointments as iCalendar, and the parent's page to see, copy,
reset and turn it off. Only pupils the parent may see now are in it."""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from evenings_school import LONDON, make_evening, teacher
from icalendar import Calendar

from schoolgate.evenings import booking
from schoolgate.evenings.comms.feeds import create_feed, feed_for_token, feed_token, feed_url
from schoolgate.evenings.models import Appointment, CalendarFeed, Evening, Slot
from schoolgate.mis.models import PupilContact

pytestmark = pytest.mark.django_db

PAGE = reverse("calendar:feed")


def upcoming_evening(school, *, in_days: int = 10, **overrides) -> Evening:
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=in_days)
    start = datetime(day.year, day.month, day.day, 16, 0, tzinfo=LONDON)
    values = {
        "days": [(start, start.replace(hour=19))],
        "booking_opens": now - timedelta(days=5),
        "booking_closes": start - timedelta(hours=4),
        "now": now - timedelta(days=5),
    }
    values.update(overrides)
    return make_evening(school, **values)


def book_at(school, evening, parent, pupil, mis_id, hour, minute):
    day = timezone.localtime(evening.days.first().starts_at)
    found = Slot.objects.get(
        teacher=teacher(evening, school, mis_id), starts_at=day.replace(hour=hour, minute=minute)
    )
    [appointment] = booking.book_slots(
        parent=parent,
        evening=evening,
        choices=[(pupil, teacher(evening, school, mis_id), found)],
    ).appointments
    return appointment


def events(client, parent) -> list:
    feed = create_feed(parent=parent)
    response = client.get(reverse("calendar:ics", args=[feed_token(feed)]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    assert "METHOD" not in cal
    return sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))


def summaries(client, parent) -> list[str]:
    return [str(e["SUMMARY"]) for e in events(client, parent)]


def test_the_feed_has_the_familys_upcoming_confirmed_appointments(client, school):
    evening = upcoming_evening(school)
    amy = book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    book_at(school, evening, school.ann, school.ben, "S-SAM", 16, 30)
    book_at(school, evening, school.bea, school.cal, "S-MIA", 16, 10)

    found = events(client, school.ann)

    assert [str(e["SUMMARY"]) for e in found] == [
        "Amy Ash: appointment with Ms M Maths",
        "Ben Ash: appointment with Mr S Science",
    ]
    assert found[0].decoded("DTSTART") == amy.starts_at
    assert found[0]["STATUS"] == "CONFIRMED"


def test_cancelled_and_held_appointments_are_not_in_it(client, school):
    upcoming = upcoming_evening(school)
    cancelled = book_at(school, upcoming, school.ann, school.amy, "S-MIA", 16, 0)
    booking.cancel_appointment(appointment=cancelled, user=school.ann)
    booking.hold_slots(
        parent=school.ann,
        evening=upcoming,
        choices=[
            (
                school.ben,
                teacher(upcoming, school, "S-SAM"),
                Slot.objects.filter(teacher=teacher(upcoming, school, "S-SAM")).first(),
            )
        ],
    )
    assert summaries(client, school.ann) == []


def test_a_past_evening_is_left_out(client, school):
    past = upcoming_evening(school, in_days=-3, booking_closes=timezone.now() - timedelta(days=4))
    # Booked while it was open (a week ago).
    booking.book_slots(
        parent=school.ann,
        evening=past,
        choices=[
            (
                school.amy,
                teacher(past, school, "S-MIA"),
                Slot.objects.filter(teacher=teacher(past, school, "S-MIA")).first(),
            )
        ],
        now=timezone.now() - timedelta(days=5),
    )
    assert Appointment.objects.filter(status="confirmed").count() == 1
    assert summaries(client, school.ann) == []


def test_shared_meetings_are_in_the_other_parents_feed_separate_ones_are_not(client, school):
    shared = upcoming_evening(school)
    separate = upcoming_evening(
        school, in_days=20, split_families=Evening.SplitFamilies.SEPARATE, name="Year 7 evening"
    )
    book_at(school, shared, school.deb, school.dan, "S-MIA", 16, 0)
    book_at(school, separate, school.deb, school.dan, "S-EVE", 16, 0)

    assert len(summaries(client, school.deb)) == 2
    assert summaries(client, school.don) == ["Dan Dee: appointment with Ms M Maths"]


def test_a_parent_who_loses_access_sees_nothing_of_that_pupil_at_once(client, school):
    evening = upcoming_evening(school)
    book_at(school, evening, school.deb, school.dan, "S-MIA", 16, 0)
    assert len(summaries(client, school.don)) == 1

    PupilContact.objects.filter(contact__mis_id="C-DON").update(parental_responsibility=False)

    assert summaries(client, school.don) == []


@pytest.mark.parametrize(
    "token",
    ["", "abc", "1-", "1-00", "999999-" + "0" * 64, "x" * 300, "1-" + "g" * 64],
)
def test_unknown_or_malformed_tokens_are_not_found(client, school, token):
    create_feed(parent=school.ann)
    assert feed_for_token(token) is None
    if token:
        assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_token_with_one_character_changed_is_not_found(client, school):
    token = feed_token(create_feed(parent=school.ann))
    changed = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert client.get(f"/calendar/{changed}.ics").status_code == 404
    assert client.get(f"/calendar/{token}.ics").status_code == 200


def test_the_database_does_not_hold_the_address(school):
    feed = create_feed(parent=school.ann)
    token = feed_token(feed)
    mac = token.split("-", 1)[1]
    assert feed.key not in token
    assert not CalendarFeed.objects.filter(key__contains=mac).exists()


def test_resetting_revokes_the_old_address_and_makes_a_new_one(client, school):
    client.force_login(school.ann)
    client.post(reverse("calendar:create"))
    old = feed_url(CalendarFeed.objects.get(parent=school.ann))

    response = client.post(reverse("calendar:reset"), follow=True)

    new = feed_url(CalendarFeed.objects.get(parent=school.ann))
    assert new != old
    assert "The old one no longer works" in response.content.decode()
    assert new in response.content.decode()
    assert client.get(urlsplit(old).path).status_code == 404
    assert client.get(urlsplit(new).path).status_code == 200


def test_turning_the_feed_off_revokes_it(client, school):
    client.force_login(school.ann)
    client.post(reverse("calendar:create"))
    token = feed_token(CalendarFeed.objects.get(parent=school.ann))
    client.post(reverse("calendar:stop"))
    assert not CalendarFeed.objects.exists()
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert "Make my calendar address" in client.get(PAGE).content.decode()


def test_a_deactivated_account_has_no_feed(client, school):
    token = feed_token(create_feed(parent=school.ann))
    school.ann.is_active = False
    school.ann.save()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_needs_no_sign_in_and_is_not_cached(client, school):
    token = feed_token(create_feed(parent=school.ann))
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert CalendarFeed.objects.get(parent=school.ann).last_read_at is not None


def test_the_page_shows_the_address_to_copy_and_the_count(client, school):
    evening = upcoming_evening(school)
    book_at(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    client.force_login(school.ann)

    page = client.get(PAGE).content.decode()
    assert "Make my calendar address" in page
    assert not CalendarFeed.objects.exists()  # looking makes nothing

    page = client.post(reverse("calendar:create"), follow=True).content.decode()
    url = feed_url(CalendarFeed.objects.get(parent=school.ann))
    assert f'value="{url}"' in page
    assert "webcal://" in page
    assert "It has 1 upcoming appointment now." in page


def test_the_page_needs_a_signed_in_parent(client, school):
    assert client.get(PAGE).status_code == 302
    client.force_login(school.organiser)
    assert client.get(PAGE).status_code == 403
    assert client.post(reverse("calendar:create")).status_code == 403


def test_changes_are_post_only(client, school):
    client.force_login(school.ann)
    for name in ("calendar:create", "calendar:reset", "calendar:stop"):
        assert client.get(reverse(name)).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_each_parent_has_their_own_address(client, school):
    ann, bea = create_feed(parent=school.ann), create_feed(parent=school.bea)
    assert feed_token(ann) != feed_token(bea)
    assert feed_for_token(feed_token(bea)).parent == school.bea
