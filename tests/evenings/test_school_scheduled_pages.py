"""The school-scheduled pages: who may open them, other families' ids (404), the
forms' mistakes, and the organiser's walk from opening to publishing."""

import pytest
from django.urls import reverse
from evenings_school import NOW, london, teacher
from test_school_scheduled import staff_user
from test_school_scheduled import wish as _wish

from schoolgate.evenings.models import Appointment
from schoolgate.evenings.school_scheduled.models import FamilyWish, TeacherFlag

pytestmark = pytest.mark.django_db


def scheduled_evening(school):
    """The pages run on the real clock: an evening ten days from today, wishes open
    until five days from now."""
    from datetime import timedelta

    from django.utils import timezone

    from schoolgate.evenings.school_scheduled import wishes
    from schoolgate.evenings.setup import services as setup

    now = timezone.now()
    day = timezone.localtime(now).replace(hour=16, minute=0, second=0, microsecond=0)
    day += timedelta(days=10)
    evening = setup.create_evening(
        actor=school.organiser,
        name="Spring parents' evening",
        days=[(day, day.replace(hour=19))],
        booking_opens=now - timedelta(days=1),
        booking_closes=day - timedelta(hours=4),
        slot_minutes=10,
        year_groups=[7, 9],
        now=now,
    )
    return wishes.open_for_wishes(
        evening=evening, actor=school.organiser, wishes_close=now + timedelta(days=5), now=now
    )


def wish(school, scheduled, parent, ranks):
    from django.utils import timezone

    return _wish(school, scheduled, parent, ranks, now=timezone.now())


def test_parent_wishes_page_saves_ranks_and_window(client, school):
    scheduled = scheduled_evening(school)
    evening = scheduled.evening
    mia, eve = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")
    client.force_login(school.ann)
    url = reverse("evenings:scheduled-wishes", args=[evening.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f"rank-{school.amy.pk}-{mia.pk}" in page.content.decode()
    response = client.post(
        url,
        {
            f"rank-{school.amy.pk}-{mia.pk}": "2",
            f"rank-{school.amy.pk}-{eve.pk}": "1",
            "arrive_after": "16:30",
            "leave_by": "18:00",
            "one_visit": "no",
        },
    )
    assert response.status_code == 302
    family = FamilyWish.objects.get(parent=school.ann)
    assert (str(family.arrive_after), str(family.leave_by), family.one_visit) == (
        "16:30:00",
        "18:00:00",
        False,
    )
    assert sorted((m.teacher_id, m.rank) for m in family.meetings.all()) == [
        (mia.pk, 2),
        (eve.pk, 1),
    ]
    assert client.get(reverse("evenings:scheduled-list")).status_code == 200


def test_parent_wishes_mistakes_are_shown_and_change_nothing(client, school):
    scheduled = scheduled_evening(school)
    evening = scheduled.evening
    mia, eve = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")
    client.force_login(school.ann)
    url = reverse("evenings:scheduled-wishes", args=[evening.pk])
    response = client.post(
        url,
        {
            f"rank-{school.amy.pk}-{mia.pk}": "1",
            f"rank-{school.amy.pk}-{eve.pk}": "1",
            "arrive_after": "18:00",
            "leave_by": "17:00",
            "one_visit": "yes",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "different choice number" in body
    assert "must leave must be after" in body
    assert not FamilyWish.objects.exists()


def test_other_families_ids_are_not_found(client, school):
    scheduled = scheduled_evening(school)
    evening = scheduled.evening
    mia = teacher(evening, school, "S-MIA")
    sam = teacher(evening, school, "S-SAM")
    client.force_login(school.bea)
    url = reverse("evenings:scheduled-wishes", args=[evening.pk])
    # Amy is Ann's child; Sam does not teach Cal; a made-up id.
    for field in (
        f"rank-{school.amy.pk}-{mia.pk}",
        f"rank-{school.cal.pk}-{sam.pk}",
        "rank-99999-1",
        "rank-x-y",
    ):
        assert client.post(url, {field: "1", "one_visit": "yes"}).status_code == 404
    client.force_login(school.zak)  # Zoe's year is not invited
    assert client.get(url).status_code == 404
    assert not FamilyWish.objects.exists()


def test_teacher_flags_own_pupils_only(client, school):
    scheduled = scheduled_evening(school)
    user = staff_user(school, "S-MIA")
    client.force_login(user)
    url = reverse("teacher:scheduled-flags", args=[scheduled.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert school.cal.display_name in page.content.decode()
    assert school.ben.display_name not in page.content.decode()
    assert client.post(url, {f"flag-{school.ben.pk}": "must"}).status_code == 404
    response = client.post(url, {f"flag-{school.cal.pk}": "must"})
    assert response.status_code == 302
    assert TeacherFlag.objects.get().pupil_id == school.cal.pk
    assert client.get(reverse("teacher:scheduled-list")).status_code == 200
    # Another teacher's evening place, or none: not found.
    other = staff_user(school, "S-ZED")
    client.force_login(other)
    assert client.get(url).status_code == 404


def test_the_organiser_opens_builds_reviews_and_publishes(client, school):
    scheduled = scheduled_evening(school)
    evening = scheduled.evening
    wish(school, scheduled, school.ann, [(school.amy, "S-MIA", 1)])
    wish(school, scheduled, school.bea, [(school.cal, "S-MIA", 1)])
    client.force_login(school.organiser)
    page = client.get(reverse("evenings_staff:scheduled", args=[evening.pk]))
    assert page.status_code == 200
    response = client.post(reverse("evenings_staff:scheduled-build", args=[evening.pk]))
    assert response.status_code == 302
    review = client.get(reverse("evenings_staff:scheduled-review", args=[evening.pk]))
    assert review.status_code == 200
    assert "2 of 2" in review.content.decode()
    publish_url = reverse("evenings_staff:scheduled-publish", args=[evening.pk])
    assert client.post(publish_url).status_code == 302
    assert client.post(publish_url).status_code == 302
    assert Appointment.objects.count() == 2
    # Parents and teachers may not open the organiser's pages.
    client.force_login(school.ann)
    assert client.get(reverse("evenings_staff:scheduled", args=[evening.pk])).status_code == 403


def test_the_organiser_page_refuses_a_closing_time_in_the_past(client, school):
    from schoolgate.evenings.setup import services as setup

    evening = setup.create_evening(
        actor=school.organiser,
        name="Autumn",
        days=[(london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0))],
        booking_opens=london(2026, 2, 20, 9, 0),
        booking_closes=london(2026, 3, 10, 12, 0),
        slot_minutes=10,
        year_groups=[7],
        now=NOW,
    )
    client.force_login(school.organiser)
    url = reverse("evenings_staff:scheduled", args=[evening.pk])
    response = client.post(
        url, {"close_date": "2020-01-01", "close_time": "12:00", "time_limit": "5"}
    )
    assert response.status_code == 409
    assert "future" in response.content.decode()
