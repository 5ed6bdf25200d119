"""The evening itself in a real browser (docs/evening-live.md, docs/video.md): a teacher
says they are running late on a phone and a waiting parent's page shows the new time
without a reload; a video appointment's Join button appears at the right time (a frozen
clock, moved on by the test); the call page's countdown and "2 minutes left" notice;
another family gets 404 and never sees the link; the camera check with Chromium's fake
camera and microphone. Every new page is checked with axe at desktop and phone sizes, in
English and in Welsh."""

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "evenings"))

from conftest import CHROMIUM, CHROMIUM_ARGS
from evenings_school import book, london, make_evening, make_school
from teacher_helpers import teacher_account
from test_video import video_booking

from schoolgate.accounts.models import User
from schoolgate.addons.models import AddonSettings
from schoolgate.evenings.live import clock
from schoolgate.evenings.models import Evening, RunningLate

pytestmark = pytest.mark.browser

DURING = london(2026, 3, 10, 16, 35)
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def chromium():
    """This module's Chromium, with the fake camera and microphone (and their prompt
    answered yes) for the camera check; otherwise as tests/browser/conftest.py's."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MEDIA
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def frozen_clock():
    """The live and video pages read evenings.live.clock; the live server's thread too."""
    yield clock.set_frozen
    clock.set_frozen(None)


class _Room(BaseHTTPRequestHandler):
    """A stand-in for the school's Jitsi server: any room is a small page."""

    def do_GET(self):
        body = (
            b"<!doctype html><html lang='en'><head><title>Room</title></head>"
            b"<body><main><h1>Meeting room</h1></main></body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def jitsi():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Room)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield url
    server.shutdown()
    server.server_close()


def teaching(mis_id: str) -> User:
    user = teacher_account(mis_id)
    user.user_permissions.add(Permission.objects.get(codename="teach"))
    return user


def until(page, script: str, seconds: float = 10) -> None:
    """Wait for `script` to be true in the page (page.wait_for_function evaluates a
    string, which the page's CSP forbids; evaluate goes through DevTools)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true within {seconds} s: {script}"
        page.wait_for_timeout(100)


def welsh(*users) -> None:
    User.objects.filter(pk__in=[u.pk for u in users]).update(language="cy")


def test_a_teacher_running_late_on_a_phone_shows_on_the_waiting_parents_page(
    visit_at, frozen_clock
):
    school = make_school()
    evening = make_evening(school)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 30))
    book(school, evening, school.bea, (school.cal, "S-MIA", 17, 0))
    mia = teaching("S-MIA")
    frozen_clock(DURING)

    parent = visit_at("desktop")
    parent.sign_in_as(school.bea)
    page = parent.goto(f"/parents/evenings/{evening.pk}/")
    expect(page.get_by_role("heading", name="On the evening")).to_be_visible()
    expect(page.locator("#evening-live")).not_to_contain_text("running")
    parent.check("live-parent-evening")

    phone = visit_at("phone")
    phone.sign_in_as(mia)
    teacher_page = phone.goto(f"/staff/my-evenings/{evening.pk}/live/")
    expect(teacher_page.get_by_role("heading", name="Your evening, live")).to_be_visible()
    phone.check("live-teacher")
    teacher_page.get_by_role("button", name="10 minutes late").click()
    expect(
        teacher_page.get_by_text("Families now see that you are running 10 minutes late.")
    ).to_be_visible()
    assert RunningLate.objects.get().said_by == mia

    # The parent's page, not reloaded, shows the new time within 10 seconds.
    expect(page.locator("#evening-live")).to_contain_text(
        "about 17:10, running 10 minutes late", timeout=10_000
    )
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    parent.check("live-parent-evening-late", phone=False)

    # The teacher's page asks again every 10 seconds but leaves its buttons alone while
    # nothing changed (the CSRF tokens differ on every response).
    teacher_page.evaluate("() => { document.getElementById('late-5').dataset.kept = 'yes'; }")
    with teacher_page.expect_response(lambda r: "/live/fragment/" in r.url, timeout=15_000):
        pass
    teacher_page.wait_for_timeout(300)
    assert teacher_page.evaluate("() => document.getElementById('late-5').dataset.kept") == "yes"

    # The teacher marks the 16:30 appointment attended with one tap.
    teacher_page.get_by_role("button", name="Attended Amy Ash").click()
    expect(teacher_page.get_by_text("Amy Ash: Attended.")).to_be_visible()


def test_the_organisers_live_view(visit, frozen_clock):
    school = make_school()
    evening = make_evening(school)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    RunningLate.objects.create(
        teacher=evening.teachers.get(staff__mis_id="S-MIA"), minutes=15, said_at=DURING
    )
    frozen_clock(DURING)
    visit.sign_in_as(school.organiser)
    page = visit.goto(f"/staff/evenings/{evening.pk}/live/")
    expect(page.get_by_text("1 teacher is running late.")).to_be_visible()
    visit.check("live-organiser")
    welsh(school.organiser)
    page.reload()
    visit.check("live-organiser-cy")


def test_the_join_button_appears_at_the_right_time_and_the_call_counts_down(
    visit, jitsi, frozen_clock
):
    school = make_school()
    evening = make_evening(school, mode=Evening.Mode.BOTH)
    AddonSettings.objects.filter(pk=1).update(video_server=jitsi)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    frozen_clock(london(2026, 3, 10, 15, 50))

    visit.sign_in_as(school.ann)
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    live = page.locator("#evening-live")
    expect(live).to_contain_text("the Join button appears here on Tuesday 10 March at 15:55")
    expect(live.get_by_role("link", name="Join the video call")).to_have_count(0)
    visit.check("video-parent-before")

    # 15:56: the button appears without a reload (the page asks again every 5 seconds).
    frozen_clock(london(2026, 3, 10, 15, 56))
    join = live.get_by_role("link", name="Join the video call for Amy Ash with Ms M Maths")
    expect(join).to_be_visible(timeout=10_000)
    join.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Video call: Amy Ash with Ms M Maths")
    expect(page.get_by_role("timer")).to_contain_text("Time left: 14:")
    expect(page.locator("iframe[title='Video call']")).to_have_attribute(
        "src",
        f"{jitsi}/{amy.__class__.objects.get(pk=amy.pk).video_room}#config.prejoinConfig.enabled=false",
    )
    expect(page.get_by_text("2 minutes left")).to_be_hidden()
    visit.check("video-call")

    # 2 minutes 3 seconds before the end: the notice comes up by itself.
    frozen_clock(london(2026, 3, 10, 16, 7, 57))
    page.reload()
    expect(page.get_by_text("2 minutes left")).to_be_hidden()
    expect(page.get_by_text("2 minutes left")).to_be_visible(timeout=8_000)
    expect(page.get_by_text("The call will not be cut off.")).to_be_visible()
    visit.check("video-call-notice", phone=False)

    # 16:15: the Join button has gone from the evening page (5 minutes after the slot).
    frozen_clock(london(2026, 3, 10, 16, 16))
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    expect(page.get_by_role("link", name="Join the video call")).to_have_count(0)

    welsh(school.ann)
    frozen_clock(london(2026, 3, 10, 15, 57))
    visit.goto(f"/parents/evenings/{evening.pk}/appointments/{amy.pk}/call/")
    visit.check("video-call-cy")
    visit.goto(f"/parents/evenings/{evening.pk}/")
    visit.check("video-parent-cy")


def test_another_family_gets_404_for_the_call_and_never_sees_the_link(visit, jitsi, frozen_clock):
    school = make_school()
    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    AddonSettings.objects.filter(pk=1).update(video_server=jitsi)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    video_booking(school, evening, school.bea, school.cal, "S-MIA", 16, 30)
    frozen_clock(london(2026, 3, 10, 15, 58))
    owner = visit.another_person()
    owner.sign_in_as(school.ann)
    owner.goto(f"/parents/evenings/{evening.pk}/appointments/{amy.pk}/call/")
    room = amy.__class__.objects.get(pk=amy.pk).video_room
    assert room

    visit.sign_in_as(school.bea)
    visit.goto(f"/parents/evenings/{evening.pk}/appointments/{amy.pk}/call/", status=404)
    page = visit.goto(f"/parents/evenings/{evening.pk}/")
    html = page.content()
    assert room not in html
    assert f"/appointments/{amy.pk}/call/" not in html
    expect(page.get_by_text("Amy Ash")).to_have_count(0)


def test_the_teachers_call_page_says_who_is_next(visit, jitsi, frozen_clock):
    school = make_school()
    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    AddonSettings.objects.filter(pk=1).update(video_server=jitsi)
    amy = video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    video_booking(school, evening, school.bea, school.cal, "S-MIA", 16, 10)
    mia = teaching("S-MIA")
    frozen_clock(london(2026, 3, 10, 16, 2))
    visit.sign_in_as(mia)
    page = visit.goto(f"/staff/my-evenings/{evening.pk}/appointments/{amy.pk}/call/")
    expect(page.locator("#next")).to_contain_text("Next: 16:10, Cal Best")
    visit.check("video-teacher-call")
    visit.goto(f"/staff/my-evenings/{evening.pk}/live/")
    expect(page.get_by_role("link", name="Video call for Amy Ash")).to_be_visible()
    visit.check("live-teacher-video")
    welsh(mia)
    visit.goto(f"/staff/my-evenings/{evening.pk}/live/")
    visit.check("live-teacher-cy")


def test_the_camera_and_microphone_check(visit):
    school = make_school()
    visit.sign_in_as(school.ann)
    page = visit.goto("/parents/evenings/camera-check/")
    visit.check("video-camera-check")
    page.get_by_role("button", name="Start the check").click()
    expect(page.get_by_role("status")).to_have_text("Your camera and microphone are working.")
    video = page.locator("video")
    expect(video).to_be_visible()
    until(page, "() => document.querySelector('video').videoWidth > 0")
    # Chromium's fake microphone beeps: the meter moves.
    until(page, "() => document.querySelector('meter').value > 0")
    visit.check("video-camera-check-working", phone=False)
    welsh(school.ann)
    visit.goto("/parents/evenings/camera-check/")
    visit.check("video-camera-check-cy")


def test_the_video_settings_page(visit):
    school = make_school()
    school.organiser.user_permissions.add(Permission.objects.get(codename="change_addonsettings"))
    visit.sign_in_as(school.organiser)
    page = visit.goto("/staff/addons/video/")
    expect(page.get_by_text("asks the first person in each room to sign in")).to_be_visible()
    page.get_by_label("Jitsi Meet server").fill("http://meet.example.org")
    page.get_by_role("button", name="Save video settings").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    visit.check("video-settings-error", phone=False)
    page.get_by_label("Jitsi Meet server").fill("https://meet.example.org")
    page.get_by_role("button", name="Save video settings").click()
    expect(page.get_by_text("Your video settings have been saved.")).to_be_visible()
    visit.check("video-settings")
    welsh(school.organiser)
    page.reload()
    visit.check("video-settings-cy")
