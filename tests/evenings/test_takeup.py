"""Take-up: live figures by year group, registration group and teacher, fill rates,
the families who have not booked, and the page, in a fixed number of queries."""

import html
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from evenings_school import NOW, book, london, make_evening, slot, snapshot, teacher

from schoolgate.accounts.models import User
from schoolgate.evenings import booking
from schoolgate.evenings.models import ChaseUp, Evening
from schoolgate.evenings.reports.takeup import take_up
from schoolgate.evenings.setup import services as setup
from schoolgate.mis.sync import apply_snapshot


def by_label(lines):
    return {line.label: (line.booked, line.total, line.percent) for line in lines}


def by_teacher(figures, school, evening):
    return {
        line.teacher.staff.mis_id: (line.pupils, line.seen, line.booked_slots, line.slots)
        for line in figures.teachers
    }


def test_a_pupil_counts_as_booked_with_one_confirmed_appointment(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.amy, "S-EVE", 16, 20))
    book(school, evening, school.deb, (school.dan, "S-EVE", 17, 0))

    figures = take_up(evening, now=NOW)

    # Years 7 and 9: Amy, Cal, Dan (7A) and Ben (9B); Zoe (Year 11) is not invited.
    assert (figures.overall.booked, figures.overall.total, figures.overall.percent) == (2, 4, 50)
    assert by_label(figures.years) == {"Year 7": (2, 3, 67), "Year 9": (0, 1, 0)}
    assert by_label(figures.forms) == {"7A": (2, 3, 67), "9B": (0, 1, 0)}


def test_held_and_cancelled_appointments_do_not_count(school, evening):
    mia = teacher(evening, school, "S-MIA")

    booking.hold_slots(
        parent=school.bea,
        evening=evening,
        choices=[(school.cal, mia, slot(evening, school, "S-MIA", 16, 0))],
        now=NOW,
    )
    [appointment] = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 30)).appointments
    booking.cancel_appointment(appointment=appointment, user=school.deb, now=NOW)

    figures = take_up(evening, now=NOW)

    assert figures.overall.booked == 0
    assert by_teacher(figures, school, evening)["S-MIA"][1:3] == (0, 0)


def test_each_teacher_has_pupils_seen_and_a_fill_rate_without_breaks(school, evening):
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 18, 0),
        now=NOW,
    )
    setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-SUE"], now=NOW)
    setup.set_class_length(
        evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=20, now=NOW
    )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.amy, "S-SUE", 16, 20))

    figures = by_teacher(take_up(evening, now=NOW), school, evening)

    # 18 ten-minute slots, 3 in the break: 15 bookable. Amy's 20-minute Maths
    # appointment takes two of Mia's slots.
    assert figures["S-MIA"] == (3, 1, 2, 15)
    assert figures["S-SUE"] == (4, 1, 1, 15)  # added: every pupil of the evening may book
    assert figures["S-TOM"] == (3, 0, 0, 15)  # tutor of 7A
    assert figures["S-SAM"] == (1, 0, 0, 15)
    fill = {line.teacher.staff.mis_id: line.fill_percent for line in take_up(evening).teachers}
    assert fill["S-MIA"] == 13 and fill["S-TOM"] == 0


def test_families_who_have_not_booked_with_their_parents_accounts(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    User.objects.filter(pk=school.bea.pk).update(last_login=NOW - timedelta(days=2))
    User.objects.filter(pk=school.deb.pk).update(invited_at=NOW - timedelta(days=9))
    User.objects.filter(pk=school.don.pk).update(is_active=False)

    rows = {row.name: row for row in take_up(evening, now=NOW).not_booked}

    assert sorted(rows) == ["Ben Ash", "Cal Best", "Dan Dee"]
    assert rows["Ben Ash"].year_label == "Year 9" and rows["Ben Ash"].forms == ["9B"]
    accounts = {p.email: (p.account, p.chased) for row in rows.values() for p in row.parents}
    assert accounts == {
        "ann@example.org": ("not_invited", True),
        "bea@example.org": ("active", True),
        "deb@example.org": ("invited", True),
        "don@example.org": ("deactivated", False),
    }


def test_a_parent_without_an_account_or_email_is_noted(school, evening):
    User.objects.filter(pk=school.bea.pk).delete()
    from schoolgate.mis.models import Contact

    Contact.objects.filter(mis_id="C-DON").update(email="", email_key="")

    rows = {row.name: row for row in take_up(evening, now=NOW).not_booked}

    assert [(p.account, p.chased) for p in rows["Cal Best"].parents] == [("no_account", False)]
    assert ("no_email", False) in [(p.account, p.chased) for p in rows["Dan Dee"].parents]
    assert rows["Cal Best"].reachable is False and rows["Dan Dee"].reachable is True


def test_chased_parents_show_when(school, evening):
    ChaseUp.objects.create(evening=evening, parent=school.bea, sent_on=NOW.date())
    figures = take_up(evening, now=NOW)
    [cal] = [row for row in figures.not_booked if row.name == "Cal Best"]
    assert cal.parents[0].chased_on == NOW.date()
    assert figures.chased_today == 1 and figures.to_chase == 4


def _count_queries(evening) -> int:
    with CaptureQueriesContext(connection) as queries:
        take_up(evening, now=NOW)
    return len(queries)


def test_the_figures_take_the_same_number_of_queries_whatever_the_size(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    small = _count_queries(evening)

    with transaction.atomic():
        apply_snapshot(snapshot(extra_families=20))
    for n in range(1, 21):
        User.objects.create_user(f"r{n:02}@example.org")
    racers = school.racers()
    for i, (parent, child) in enumerate(racers[:8]):
        book(school, evening, parent, (child, "S-TOM", 16 + i // 6, (i % 6) * 10))
    setup.refresh_teachers(evening=evening, actor=school.organiser, now=NOW)
    large = _count_queries(evening)

    figures = take_up(evening, now=NOW)
    assert figures.overall.total == 24 and figures.overall.booked == 9
    assert len(figures.not_booked) == 15
    assert small == large == 13  # 12, and one read of the office's shared-email approvals


# --- the page -------------------------------------------------------------------------


def url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


def test_the_page_shows_the_figures_and_the_families(client, school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.organiser)

    response = client.get(url("takeup", evening.pk))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert 'id="overall-booked">1<' in page and 'id="overall-percent">25%<' in page
    assert "Take-up by year group" in page and "Take-up by teacher" in page
    assert "Ben Ash" in page and "Cal Best" in page and "Amy Ash" not in page
    assert "bea@example.org" in page
    assert "Nobody to email" not in page
    assert "gets the chase-up email" not in page  # booking has closed
    # Booking closed long ago (real time): no chase-up button, and why.
    assert "Booking has closed" in page


def test_the_page_offers_the_chase_up_while_booking_is_open(client, school):
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=20)
    evening = make_evening(
        school,
        days=[(london(day.year, day.month, day.day, 16), london(day.year, day.month, day.day, 19))],
        booking_opens=now - timedelta(days=1),
        booking_closes=now + timedelta(days=10),
        now=now,
    )
    client.force_login(school.organiser)
    page = client.get(url("takeup", evening.pk)).content.decode()
    assert "Email the families who have not booked" in page
    assert url("chase", evening.pk) in page
    assert page.count("gets the chase-up email") == 5  # Ann (Amy, Ben), Bea, Deb, Don


def test_a_draft_says_chase_ups_wait_for_publishing(client, school, evening):
    setup.set_status(evening=evening, actor=school.organiser, status=Evening.Status.DRAFT)
    client.force_login(school.organiser)
    page = client.get(url("takeup", evening.pk)).content.decode()
    assert "once the evening is published" in page


def test_every_pupil_booked_says_so(client, school):
    evening = make_evening(school, year_groups=[9])
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 0))
    client.force_login(school.organiser)
    page = client.get(url("takeup", evening.pk)).content.decode()
    assert "Every pupil the evening is for has at least one appointment." in page


def test_the_page_is_not_found_for_an_evening_that_does_not_exist(client, school, evening):
    client.force_login(school.organiser)
    assert client.get(url("takeup", evening.pk + 100)).status_code == 404


@pytest.mark.parametrize("who", ["teacher_user", "ann"])
def test_only_organisers_see_take_up(client, school, evening, who):
    client.force_login(getattr(school, who))
    assert client.get(url("takeup", evening.pk)).status_code == 403


def test_a_pupil_nobody_can_be_emailed_about_is_pointed_out(client, school, evening):
    User.objects.filter(pk=school.bea.pk).update(is_active=False)
    client.force_login(school.organiser)
    page = html.unescape(client.get(url("takeup", evening.pk)).content.decode())
    assert page.count("Nobody to email: contact the family another way.") == 1
    assert "account deactivated" in page
