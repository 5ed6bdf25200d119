"""Running late and the live pages (evenings.live): what a teacher says is stored with who
and when, applies to their later appointments that day only, moves nothing and emails
nobody; the teacher's page, the organiser's view and the family's expected times, each
with other people's ids answering 404."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from evenings_school import book, london, make_evening, teacher
from teacher_helpers import signed_in, teacher_account

from schoolgate.evenings.booking.errors import InvalidChoice, NotAllowed
from schoolgate.evenings.live import clock, delays
from schoolgate.evenings.models import Appointment, RunningLate
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

# The test school's evening: Tuesday 10 March 2026, 16:00-19:00 (GMT), 10-minute slots.
DURING = london(2026, 3, 10, 16, 35)


def teaching(mis_id: str):
    """A teacher's account with the teacher's capability (the Teachers role's)."""
    user = teacher_account(mis_id)
    user.user_permissions.add(Permission.objects.get(codename="teach"))
    return user


def words(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def booked(school):
    """Ann's Amy with Mia at 16:00, 16:30 (Amy) ... and Bea's Cal with Mia at 17:00."""
    evening = make_evening(school)
    first = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments[0]
    eve = book(school, evening, school.ann, (school.amy, "S-EVE", 16, 30)).appointments[0]
    dan = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 30)).appointments[0]
    cal = book(school, evening, school.bea, (school.cal, "S-MIA", 17, 0)).appointments[0]
    return evening, {"amy": first, "amy_eve": eve, "dan": dan, "cal": cal}


def test_a_saying_is_stored_with_who_and_when_and_moves_nothing(school, booked):
    evening, appointments = booked
    mia = teaching("S-MIA")
    entry = teacher(evening, school, "S-MIA")
    emails_before = OutboxMessage.objects.count()
    times_before = list(Appointment.objects.order_by("pk").values_list("starts_at", "ends_at"))

    saying = delays.say_running_late(teacher=entry, actor=mia, minutes=10, now=DURING)

    row = RunningLate.objects.get()
    assert (row.pk, row.teacher_id, row.minutes, row.said_by_id, row.said_at) == (
        saying.pk,
        entry.pk,
        10,
        mia.pk,
        DURING,
    )
    assert OutboxMessage.objects.count() == emails_before
    after = list(Appointment.objects.order_by("pk").values_list("starts_at", "ends_at"))
    assert after == times_before


def test_only_5_10_15_or_back_on_time_and_only_the_teacher_or_an_organiser(school, booked):
    evening, _appointments = booked
    mia, eve = teaching("S-MIA"), teaching("S-EVE")
    entry = teacher(evening, school, "S-MIA")
    with pytest.raises(InvalidChoice):
        delays.say_running_late(teacher=entry, actor=mia, minutes=7, now=DURING)
    with pytest.raises(NotAllowed):
        delays.say_running_late(teacher=entry, actor=eve, minutes=10, now=DURING)
    with pytest.raises(NotAllowed):
        delays.say_running_late(teacher=entry, actor=school.ann, minutes=10, now=DURING)
    assert not RunningLate.objects.exists()
    delays.say_running_late(teacher=entry, actor=school.organiser, minutes=15, now=DURING)
    assert RunningLate.objects.get().said_by == school.organiser


def test_a_delay_applies_to_that_teachers_later_appointments_that_day(school, booked):
    evening, a = booked
    mia = teaching("S-MIA")
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"), actor=mia, minutes=10, now=DURING
    )
    found = delays.expected_times(Appointment.objects.all())
    # 16:00-16:10 was over when she said it at 16:35; 16:30-16:40 was running; 17:00 to come.
    assert found[a["amy"].pk].minutes == 0
    assert found[a["dan"].pk].minutes == 10
    assert found[a["cal"].pk].minutes == 10
    assert found[a["cal"].pk].starts_at == london(2026, 3, 10, 17, 10)
    assert found[a["amy_eve"].pk].minutes == 0  # Eve said nothing

    # Back on time: the latest saying counts.
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"),
        actor=mia,
        minutes=0,
        now=london(2026, 3, 10, 16, 50),
    )
    found = delays.expected_times(Appointment.objects.all())
    assert found[a["cal"].pk].minutes == 0


def test_a_delay_said_on_another_day_does_not_apply(school, booked):
    evening, a = booked
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"),
        actor=school.organiser,
        minutes=15,
        now=london(2026, 3, 9, 18, 0),
    )
    assert delays.expected_times([a["cal"]])[a["cal"].pk].minutes == 0


def test_the_family_sees_the_expected_time_and_another_family_does_not(school, booked):
    evening, a = booked
    mia = teaching("S-MIA")
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"), actor=mia, minutes=10, now=DURING
    )
    bea, ann = signed_in(school.bea), signed_in(school.ann)
    with clock.frozen_at(DURING):
        page = words(bea.get(reverse("evenings:evening", args=[evening.pk])))
        fragment = words(bea.get(reverse("evenings:live", args=[evening.pk])))
        anns = words(ann.get(reverse("evenings:live", args=[evening.pk])))
    assert "17:00 : Cal Best with Ms M Maths about 17:10, running 10 minutes late" in page
    assert "about 17:10, running 10 minutes late" in fragment
    assert "Cal Best" not in anns  # not Ann's child
    assert "Amy Ash with Dr E English" in anns and "running" not in anns


def test_the_family_fragment_is_for_the_evenings_families_only(school, booked):
    evening, _a = booked
    with clock.frozen_at(DURING):
        assert signed_in(school.zak).get(f"/parents/evenings/{evening.pk}/live/").status_code == 404
        assert signed_in(school.ann).get("/parents/evenings/999999/live/").status_code == 404


def test_the_teachers_live_page_says_late_and_marks_attendance(school, booked):
    evening, a = booked
    mia = teaching("S-MIA")
    client = signed_in(mia)
    with clock.frozen_at(DURING):
        page = words(client.get(reverse("teacher:live", args=[evening.pk])))
        assert "Now 16:30–16:40: Dan Dee" in page
        assert "Next 17:00–17:10: Cal Best" in page
        response = client.post(reverse("teacher:live-late", args=[evening.pk]), {"minutes": "10"})
        assert response.status_code == 302
        assert RunningLate.objects.get().minutes == 10
        assert RunningLate.objects.get().said_by == mia
        response = client.post(
            reverse("teacher:live-mark", args=[evening.pk, a["amy"].pk]),
            {"attendance": "did_not_attend"},
        )
        assert response.status_code == 302
        page = words(client.get(reverse("teacher:live-fragment", args=[evening.pk])))
    a["amy"].refresh_from_db()
    assert a["amy"].attendance == "did_not_attend" and a["amy"].attendance_marked_by == mia
    assert "Running 10 minutes late since 16:35" in page
    assert "Expected about 17:10" in page


def test_the_teacher_gets_404_for_other_teachers_appointments_and_evenings(school, booked):
    evening, a = booked
    eve = signed_in(teaching("S-EVE"))
    sue = signed_in(teaching("S-SUE"))  # takes part in no appointment of these
    with clock.frozen_at(DURING):
        response = eve.post(
            reverse("teacher:live-mark", args=[evening.pk, a["amy"].pk]), {"attendance": "attended"}
        )
        assert response.status_code == 404  # Mia's appointment
        other = make_evening(school, name="Another evening", year_groups=[9])
        assert eve.get(reverse("teacher:live", args=[other.pk])).status_code == 404
        assert eve.get(reverse("teacher:live", args=[999999])).status_code == 404
        response = sue.post(reverse("teacher:live-late", args=[other.pk]), {"minutes": "5"})
        assert response.status_code == 404
    a["amy"].refresh_from_db()
    assert a["amy"].attendance == ""
    assert not RunningLate.objects.exists()


def test_parents_and_teachers_cannot_open_the_organisers_view(school, booked):
    evening, _a = booked
    url = reverse("evenings_staff:live", args=[evening.pk])
    assert signed_in(teaching("S-MIA")).get(url).status_code == 403
    assert signed_in(school.ann).get(url).status_code in (302, 403)


def test_the_organisers_view_counts_done_no_shows_to_come_and_late(school, booked):
    evening, a = booked
    mia = teaching("S-MIA")
    Appointment.objects.filter(pk=a["amy"].pk).update(attendance="did_not_attend")
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"), actor=mia, minutes=15, now=DURING
    )
    with clock.frozen_at(DURING):
        page = words(
            signed_in(school.organiser).get(reverse("evenings_staff:live", args=[evening.pk]))
        )
    # Mia: 16:00 no-show, 16:30 (Dan) running, 17:00 to come; Eve: 16:30 (Amy) running.
    assert "1 teacher is running late." in page
    assert "Ms M Maths 15 minutes since 16:35 0 1 2" in page
    assert "Dr E English On time 0 0 1" in page


def test_the_live_views_take_the_same_queries_however_many_appointments(school, booked):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from schoolgate.evenings.live import selectors

    evening, _a = booked
    mia = teacher(evening, school, "S-MIA")

    def counts():
        found = []
        for run in (
            lambda: selectors.organiser_live(evening, now=DURING),
            lambda: selectors.teacher_live(mia, now=DURING),
        ):
            with CaptureQueriesContext(connection) as queries:
                run()
            found.append(len(queries))
        return found

    counts()  # the teacher's evening is read once, then cached on the entry
    before = counts()
    # Twenty more confirmed appointments (written straight in: only the count matters).
    template = Appointment.objects.get(pk=_a["cal"].pk)
    for n in range(1, 21):
        template.pk = None
        template.family_key = n
        template.starts_at = london(2026, 3, 10, 17, 10) + timedelta(minutes=n)
        template.ends_at = template.starts_at + timedelta(minutes=10)
        template.save()
    assert counts() == before
    assert before == [5, 5]


def test_the_printed_itinerary_shows_the_expected_time(school, booked):
    import io

    from pypdf import PdfReader

    evening, _a = booked
    delays.say_running_late(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, minutes=5, now=DURING
    )
    response = signed_in(school.bea).get(reverse("evenings:itinerary-pdf", args=[evening.pk]))
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "about 17:05, running 5 minutes late" in text


def test_the_family_page_asks_again_only_on_the_day(school):
    from test_video import video_booking

    from schoolgate.evenings.models import Evening

    evening = make_evening(school, mode=Evening.Mode.VIDEO)
    video_booking(school, evening, school.ann, school.amy, "S-MIA", 16, 0)
    ann = signed_in(school.ann)
    with clock.frozen_at(london(2026, 3, 10, 15, 0)):
        on_the_day = ann.get(reverse("evenings:evening", args=[evening.pk])).text
    assert f'data-live-url="/parents/evenings/{evening.pk}/live/"' in on_the_day
    with clock.frozen_at(london(2026, 3, 9, 18, 0)):
        day_before = ann.get(reverse("evenings:evening", args=[evening.pk])).text
    # The video call is listed (when Join appears, the camera check) but not asked for again.
    assert 'id="evening-live"' in day_before and "the Join button appears" in day_before
    assert "data-live-url" not in day_before
