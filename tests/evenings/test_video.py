"""Video appointments (evenings.video): the school's Jitsi server on the add-on page (its
secret stored encrypted), no publishing a video evening without it, one unguessable room
per appointment given only to the family and the teacher, and room tokens that make the
teacher moderator and the parent a guest."""

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from evenings_school import VIDEO_SERVER, book, london, make_evening, teacher
from teacher_helpers import signed_in, teacher_account

from schoolgate.addons.models import AddonSettings
from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import InvalidSetup
from schoolgate.evenings.live import clock
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.video import jwt

pytestmark = pytest.mark.django_db

SLOT = london(2026, 3, 10, 16, 0)  # the video appointment: 16:00-16:10
OPEN = london(2026, 3, 10, 15, 56)
ROOM = re.compile(re.escape(VIDEO_SERVER) + r"/([A-Za-z0-9_-]+)")


def teaching(mis_id: str):
    user = teacher_account(mis_id)
    user.user_permissions.add(Permission.objects.get(codename="teach"))
    return user


def video_booking(school, evening, parent, pupil, mis_id, hour, minute):
    entry = teacher(evening, school, mis_id)
    slot = entry.slots.get(starts_at=london(2026, 3, 10, hour, minute))
    [found] = booking.book_slots(
        parent=parent,
        evening=evening,
        choices=[booking.Choice(pupil, entry, slot, Appointment.Method.VIDEO)],
        now=london(2026, 3, 1, 12, 0),
    ).appointments
    return found


@pytest.fixture
def video(school):
    evening = make_evening(school, mode=Evening.Mode.BOTH)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    cal = video_booking(school, evening, school.bea, school.cal, "S-MIA", 16, 10)
    in_person = book(school, evening, school.ann, (school.amy, "S-EVE", 16, 30)).appointments[0]
    return evening, amy, cal, in_person


def call(evening, appointment) -> str:
    return f"/parents/evenings/{evening.pk}/appointments/{appointment.pk}/call/"


def teacher_call(evening, appointment) -> str:
    return f"/staff/my-evenings/{evening.pk}/appointments/{appointment.pk}/call/"


def test_a_video_evening_cannot_be_published_until_a_service_is_set(school):
    AddonSettings.objects.filter(pk=1).update(video_server="")
    evening = setup.create_evening(
        actor=school.organiser,
        name="Video evening",
        days=[(london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0))],
        booking_opens=london(2026, 2, 20, 9, 0),
        booking_closes=london(2026, 3, 10, 12, 0),
        mode=Evening.Mode.VIDEO,
        year_groups=[7],
        now=london(2026, 2, 1, 9, 0),
    )
    with pytest.raises(InvalidSetup, match="Set the video service"):
        setup.set_status(evening=evening, actor=school.organiser, status="published")
    evening.refresh_from_db()
    assert evening.status == Evening.Status.DRAFT
    # The organiser's page says why.
    client = signed_in(school.organiser)
    response = client.post(
        reverse("evenings_staff:status", args=[evening.pk]), {"status": "published"}, follow=True
    )
    assert "Set the video service (Add-on settings, Video appointments)" in response.text
    AddonSettings.objects.filter(pk=1).update(video_server=VIDEO_SERVER)
    setup.set_status(evening=evening, actor=school.organiser, status="published")
    evening.refresh_from_db()
    assert evening.status == Evening.Status.PUBLISHED


def test_in_person_evenings_publish_without_a_service(school):
    AddonSettings.objects.filter(pk=1).update(video_server="")
    assert make_evening(school).status == Evening.Status.PUBLISHED


def test_the_family_gets_its_own_room_from_5_minutes_before(school, video):
    evening, amy, cal, _in_person = video
    ann = signed_in(school.ann)
    with clock.frozen_at(london(2026, 3, 10, 15, 54)):
        early = ann.get(call(evening, amy))
    assert early.status_code == 200
    assert "The call opens at 15:55" in early.text
    assert not ROOM.search(early.text)
    with clock.frozen_at(OPEN):
        page = ann.get(call(evening, amy))
        again = ann.get(call(evening, amy))
        cals = signed_in(school.bea).get(call(evening, cal))
    [room] = set(ROOM.findall(page.text))
    amy.refresh_from_db()
    assert room == amy.video_room
    assert len(room) >= 22  # token_urlsafe: 22 characters carry 128 bits
    assert set(ROOM.findall(again.text)) == {room}  # the same room each time
    assert set(ROOM.findall(cals.text)) != {room}  # another appointment, another room
    assert page.headers["Content-Security-Policy"].count(f"frame-src {VIDEO_SERVER}") == 1
    assert f'camera=(self "{VIDEO_SERVER}")' in page.headers["Permissions-Policy"]


def test_another_family_gets_404_and_never_the_room(school, video):
    evening, amy, _cal, in_person = video
    with clock.frozen_at(OPEN):
        signed_in(school.ann).get(call(evening, amy))  # the room exists now
        amy.refresh_from_db()
        bea = signed_in(school.bea)
        assert bea.get(call(evening, amy)).status_code == 404
        assert signed_in(school.zak).get(call(evening, amy)).status_code == 404
        # An in-person appointment has no call; a wrong evening id is not found.
        assert signed_in(school.ann).get(call(evening, in_person)).status_code == 404
        wrong = f"/parents/evenings/{evening.pk + 1}/appointments/{amy.pk}/call/"
        assert signed_in(school.ann).get(wrong).status_code == 404
        for page in (
            bea.get(reverse("evenings:evening", args=[evening.pk])),
            bea.get(reverse("evenings:live", args=[evening.pk])),
            signed_in(school.organiser).get(reverse("evenings_staff:grid", args=[evening.pk])),
        ):
            assert page.status_code == 200
            assert amy.video_room not in page.text
            assert call(evening, amy) not in page.text


def test_with_separate_meetings_only_the_parent_who_booked_may_join(school):
    evening = make_evening(
        school, mode=Evening.Mode.VIDEO, split_families=Evening.SplitFamilies.SEPARATE
    )
    dan = video_booking(school, evening, school.deb, school.dan, "S-MIA", 16, 0)
    with clock.frozen_at(OPEN):
        assert signed_in(school.deb).get(call(evening, dan)).status_code == 200
        assert signed_in(school.don).get(call(evening, dan)).status_code == 404


def test_with_shared_meetings_both_parents_may_join(school):
    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    dan = video_booking(school, evening, school.deb, school.dan, "S-MIA", 16, 0)
    with clock.frozen_at(OPEN):
        assert signed_in(school.don).get(call(evening, dan)).status_code == 200


def test_the_teacher_of_another_appointment_gets_404(school, video):
    evening, amy, _cal, in_person = video
    eve = signed_in(teaching("S-EVE"))
    with clock.frozen_at(OPEN):
        assert eve.get(teacher_call(evening, amy)).status_code == 404
        assert signed_in(teaching("S-MIA")).get(teacher_call(evening, amy)).status_code == 200
        # Eve's own appointment is in person: no call.
        assert eve.get(teacher_call(evening, in_person)).status_code == 404
        # A parent cannot open the teacher's page.
        assert signed_in(school.ann).get(teacher_call(evening, amy)).status_code in (302, 403)


def test_room_tokens_make_the_teacher_moderator_and_the_parent_a_guest(school, video):
    evening, amy, _cal, _in_person = video
    client = signed_in(school.organiser)
    school.organiser.user_permissions.add(Permission.objects.get(codename="change_addonsettings"))
    response = client.post(
        reverse("addons:video"),
        {"video_server": VIDEO_SERVER, "video_app_id": "schoolgate", "video_app_secret": "s3cret!"},
    )
    assert response.status_code == 302
    stored = AddonSettings.objects.get(pk=1)
    assert stored.video_app_id == "schoolgate"
    assert "s3cret!" not in stored.video_app_secret and stored.video_app_secret.startswith(
        "fernet:"
    )
    assert "s3cret!" not in client.get(reverse("addons:video")).text

    mia = teaching("S-MIA")
    with clock.frozen_at(OPEN):
        parent_page = signed_in(school.ann).get(call(evening, amy)).text
        teacher_page = signed_in(mia).get(teacher_call(evening, amy)).text
    amy.refresh_from_db()

    def claims(page):
        src = re.search(r'<iframe[^>]* src="([^"]+)"', page).group(1).replace("&amp;", "&")
        parts = urlsplit(src)
        assert parts.path == f"/{amy.video_room}"
        return jwt.decode(unquote(parse_qs(parts.query)["jwt"][0]), "s3cret!")

    guest, moderator = claims(parent_page), claims(teacher_page)
    assert guest["room"] == moderator["room"] == amy.video_room
    assert guest["iss"] == "schoolgate" and guest["sub"] == "meet.school.example"
    assert guest["moderator"] is False and guest["context"]["user"]["moderator"] is False
    assert moderator["moderator"] is True and moderator["context"]["user"]["moderator"] is True
    # Valid from before the window to well after the slot: no hard cut-off.
    assert guest["nbf"] <= OPEN.timestamp()
    assert guest["exp"] >= london(2026, 3, 10, 17, 0).timestamp()
    with pytest.raises(ValueError):
        jwt.decode(re.search(r"jwt=([^&#\"]+)", parent_page).group(1).replace("%2E", "."), "wrong")


def test_the_video_settings_check_what_they_are_given(school):
    school.organiser.user_permissions.add(Permission.objects.get(codename="change_addonsettings"))
    client = signed_in(school.organiser)
    response = client.post(reverse("addons:video"), {"video_server": "http://meet.example"})
    assert response.status_code == 200
    assert "Enter the server&#x27;s https:// address only" in response.text
    response = client.post(
        reverse("addons:video"), {"video_server": VIDEO_SERVER, "video_app_id": "x"}
    )
    assert "Enter the app secret that goes with the app ID." in response.text
    assert AddonSettings.objects.get(pk=1).video_app_id == ""
    page = client.get(reverse("addons:video")).text
    assert "https://meet.jit.si" in page and "sign in" in page


def test_the_teacher_sees_who_is_next_and_may_run_on(school, video):
    evening, amy, cal, _in_person = video
    with clock.frozen_at(OPEN):
        page = signed_in(teaching("S-MIA")).get(teacher_call(evening, amy)).text
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Next: 16:10, Cal Best" in text
    assert f'href="{teacher_call(evening, cal)}"' in page
    # Cal's call follows at once: no free time to run on into.
    assert "you can let this call run on" not in text


def test_a_free_slot_after_the_call_lets_it_run_on(school):
    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    video_booking(school, evening, school.bea, school.cal, "S-MIA", 16, 30)
    with clock.frozen_at(OPEN):
        page = signed_in(teaching("S-MIA")).get(teacher_call(evening, amy)).text
    assert "You are free until 16:30: you can let this call run on." in page


def test_without_a_service_an_evening_published_before_keeps_the_teachers_link(school, video):
    evening, amy, _cal, _in_person = video
    evening.teachers.filter(staff__mis_id="S-MIA").update(video_link="https://meet.example/m")
    AddonSettings.objects.filter(pk=1).update(video_server="")
    with clock.frozen_at(OPEN):
        page = signed_in(school.ann).get(call(evening, amy)).text
    assert 'href="https://meet.example/m"' in page and "<iframe" not in page
    amy.refresh_from_db()
    assert amy.video_room == ""


@pytest.mark.django_db(transaction=True)
def test_two_first_visits_at_once_agree_on_one_room(school):
    """The room is drawn by an UPDATE on an empty name: whoever comes second reads the
    first one's room (run on PostgreSQL too: DATABASE_URL)."""
    import threading

    from django.db import connection

    from schoolgate.evenings.video import rooms

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:"):
        pytest.skip("threads need a database file or PostgreSQL, not in-memory SQLite")
    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    found, start = [], threading.Barrier(4)

    def visit():
        try:
            start.wait()
            found.append(rooms.room_name(Appointment.objects.get(pk=amy.pk)))
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    amy.refresh_from_db()
    assert len(found) == 4 and set(found) == {amy.video_room}
