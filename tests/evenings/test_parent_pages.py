"""The parents' booking pages: the list, an evening, choosing times (manual and
automatic), holding and confirming, letting go, changing and cancelling.

The pages run on the real clock, so the evenings here are a few days ahead of today
(evenings_school.py's fixed evening is in the past for the pages)."""

import html as entities
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from evenings_school import LONDON, make_evening, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, Evening, Hold, Slot
from schoolgate.evenings.setup import services as setup

MESSAGE = "How is Amy getting on with fractions?"


def upcoming_evening(school, *, in_days: int = 10, **overrides) -> Evening:
    """A published evening `in_days` from today, 16:00–19:00 in London, booking open."""
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


@pytest.fixture
def upcoming(school) -> Evening:
    return upcoming_evening(school)


def at(evening: Evening, school, mis_id: str, hour: int, minute: int) -> Slot:
    """The teacher's slot at hh:mm on the evening's (first) day."""
    day = timezone.localtime(evening.days.first().starts_at)
    return Slot.objects.get(
        teacher=teacher(evening, school, mis_id),
        starts_at=day.replace(hour=hour, minute=minute),
    )


def key(pupil, evening, school, mis_id: str) -> str:
    return f"{pupil.pk}-{teacher(evening, school, mis_id).pk}"


def book_now(school, evening, parent, *choices, now=None):
    """Book [(pupil, staff mis id, hour, minute)] for `parent` through the engine."""
    return booking.book_slots(
        parent=parent,
        evening=evening,
        choices=[
            (p, teacher(evening, school, m), at(evening, school, m, h, mi))
            for p, m, h, mi in choices
        ],
        now=now,
    ).appointments


def url(name: str, *args) -> str:
    return reverse(f"evenings:{name}", args=args)


def hold_through_the_grid(client, evening, picks: dict[str, Slot]):
    response = client.post(
        url("hold-slots", evening.pk), {f"slot-{k}": s.pk for k, s in picks.items()}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.fullmatch(rf"/parents/evenings/{evening.pk}/holds/(\d+)/", response.url)
    assert match, response.url
    return Hold.objects.get(pk=int(match.group(1)))


def text(response) -> str:
    """The page's visible words, one space between them."""
    return words(response.content.decode())


def words(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return entities.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def list_rows(response) -> dict[str, str]:
    """{evening name: the words of its row} on the list page."""
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", response.text, re.S)[1:]
    found = {}
    for row in rows:
        name = words(re.search(r"<th[^>]*>(.*?)</th>", row, re.S).group(1))
        found[name] = words(row)
    return found


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_each_evening_with_its_booking_state(client, school, upcoming):
    now = timezone.now()
    soon = upcoming_evening(
        school, name="Summer evening", booking_opens=now + timedelta(days=2), now=now
    )
    closed = upcoming_evening(
        school, name="Closed evening", in_days=1, booking_closes=now - timedelta(hours=1)
    )
    upcoming_evening(school, name="Year 11 evening", year_groups=[11])
    draft = upcoming_evening(school, name="Draft evening")
    setup.set_status(evening=draft, actor=school.organiser, status=Evening.Status.DRAFT)
    book_now(school, upcoming, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.ann)

    response = client.get(url("list"))

    assert response.status_code == 200
    rows = list_rows(response)
    assert set(rows) == {"Spring parents' evening", "Summer evening", "Closed evening"}
    spring = rows["Spring parents' evening"]
    assert "Booked 1" in spring and "Amy Ash, Ben Ash" in spring
    assert "Booking opens" in rows["Summer evening"]
    opens = timezone.localtime(soon.booking_opens)
    assert f"{opens:%-d %B %Y}, {opens:%H:%M}" in rows["Summer evening"]
    assert "Booking closed" in rows["Closed evening"]
    assert closed.pk and "Year 11" not in response.text and "Draft evening" not in response.text


def test_an_evening_with_nothing_booked_says_book(client, school, upcoming):
    client.force_login(school.bea)

    page = text(client.get(url("list")))

    assert "Cal Best" in page and "Book Spring parents' evening" in page


# --- the evening page -----------------------------------------------------------------


def test_the_evening_page_lists_each_childs_teachers_with_subject_class_and_room(
    client, school, upcoming
):
    setup.update_teacher(
        teacher=teacher(upcoming, school, "S-MIA"), actor=school.organiser, room="S12"
    )
    client.force_login(school.ann)

    response = client.get(url("evening", upcoming.pk))

    assert response.status_code == 200
    html = response.text
    boxes = re.findall(r'name="teacher" type="checkbox" value="([\d-]+)"', html)
    assert sorted(boxes) == sorted(
        [
            key(school.amy, upcoming, school, "S-EVE"),
            key(school.amy, upcoming, school, "S-MIA"),
            key(school.amy, upcoming, school, "S-TOM"),
            key(school.ben, upcoming, school, "S-FAY"),
            key(school.ben, upcoming, school, "S-SAM"),
        ]
    )
    page = text(response)
    assert "Teachers for Amy Ash" in page and "Teachers for Ben Ash" in page
    assert "Ms M Maths Maths · 7 Maths · Room S12" in page
    assert "Mr T Tutor Form tutor · 7A" in page
    assert "Mr S Science Science · 9 Science" in page
    assert "Choose times myself" in page and "Find times for me" in page
    assert f'formaction="{url("automatic", upcoming.pk)}"' in html


def test_the_evening_page_says_when_booking_opens(client, school):
    now = timezone.now()
    evening = upcoming_evening(school, booking_opens=now + timedelta(days=3), now=now)
    client.force_login(school.ann)

    page = text(client.get(url("evening", evening.pk)))

    opens = timezone.localtime(evening.booking_opens)
    assert f"Booking opens on {opens:%A %-d %B %Y}, {opens:%H:%M}." in page
    assert "Choose times myself" not in page


def test_choosing_no_teacher_asks_for_one(client, school, upcoming):
    client.force_login(school.ann)

    response = client.get(url("manual", upcoming.pk))

    assert response.status_code == 200
    assert "govuk-error-summary" in response.text
    assert "Choose at least one teacher to see" in text(response)


# --- choosing times myself ------------------------------------------------------------


def test_the_grid_shows_free_times_and_marks_clashes_with_my_other_bookings(
    client, school, upcoming
):
    book_now(school, upcoming, school.ann, (school.ben, "S-SAM", 16, 0))
    book_now(school, upcoming, school.bea, (school.cal, "S-MIA", 16, 10))
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    amy_eve = key(school.amy, upcoming, school, "S-EVE")

    response = client.get(url("manual", upcoming.pk), {"teacher": [amy_mia, amy_eve]})

    assert response.status_code == 200
    html = response.text
    mia = re.findall(rf'name="slot-{amy_mia}" type="radio" value="(\d+)"', html)
    eve = re.findall(rf'name="slot-{amy_eve}" type="radio" value="(\d+)"', html)
    assert len(mia) == 17 and len(eve) == 18  # 16:00–18:50, Bea has Mia's 16:10
    assert str(at(upcoming, school, "S-MIA", 16, 10).pk) not in mia
    page = text(response)
    assert "Your other appointments at this evening" in page
    assert "16:00–16:10: Mr S Science for Ben Ash" in page
    clash = at(upcoming, school, "S-MIA", 16, 0)
    assert f'aria-describedby="slot-{amy_mia}-{clash.pk}-clash"' in html
    assert re.search(rf'id="slot-{amy_mia}-{clash.pk}-clash"[^>]*>Clashes with Ben<', html)
    assert f'action="{url("hold-slots", upcoming.pk)}"' in html


def test_manual_booking_holds_the_times_then_confirms_them_with_a_message(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    ben_sam = key(school.ben, upcoming, school, "S-SAM")
    assert (
        client.get(url("manual", upcoming.pk), {"teacher": [amy_mia, ben_sam]}).status_code == 200
    )

    hold = hold_through_the_grid(
        client,
        upcoming,
        {
            amy_mia: at(upcoming, school, "S-MIA", 16, 30),
            ben_sam: at(upcoming, school, "S-SAM", 16, 40),
        },
    )

    held = list(Appointment.objects.filter(hold=hold).order_by("starts_at"))
    assert [a.status for a in held] == ["held", "held"]
    page = client.get(url("hold", upcoming.pk, hold.pk))
    assert page.status_code == 200
    until = timezone.localtime(hold.expires_at)
    assert f"held for you until {until:%H:%M}" in text(page)
    seconds = int(re.search(r'data-seconds="(\d+)"', page.text).group(1))
    assert 100 <= seconds <= 120
    assert "schoolgate/evenings-countdown.js" in page.text
    assert "16:30–16:40 Ms M Maths for Amy Ash Held" in text(page)

    response = client.post(url("confirm", upcoming.pk, hold.pk), {f"message-{held[0].pk}": MESSAGE})

    assert response.status_code == 302 and response.url == url("evening", upcoming.pk)
    confirmed = {a.pk: a for a in Appointment.objects.filter(hold=hold)}
    assert {a.status for a in confirmed.values()} == {"confirmed"}
    assert confirmed[held[0].pk].message == MESSAGE and confirmed[held[1].pk].message == ""
    after = client.get(response.url)
    assert "Your 2 appointments are booked." in text(after)
    assert "govuk-notification-banner--success" in after.text
    # The held page is never cached, and Back to it after confirming says they are booked.
    assert "no-store" in page["Cache-Control"]
    back = client.get(url("hold", upcoming.pk, hold.pk), follow=True)
    assert back.redirect_chain == [(url("evening", upcoming.pk), 302)]
    assert "These are booked: you confirmed them already." in text(back)
    assert "Held" not in text(back).split("These are booked")[1][:40]
    assert "16:30–16:40: Amy Ash with Ms M Maths Change" in text(after)


def test_a_grid_row_left_empty_is_an_error(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    ben_sam = key(school.ben, upcoming, school, "S-SAM")

    response = client.post(
        url("hold-slots", upcoming.pk),
        {"teacher": [amy_mia, ben_sam], f"slot-{amy_mia}": at(upcoming, school, "S-MIA", 16, 0).pk},
    )

    assert response.status_code == 200
    assert "Choose a time with Mr S Science for Ben Ash" in text(response)
    assert f'href="#slot-{ben_sam}"' in response.text and f'id="slot-{ben_sam}"' in response.text
    assert not Appointment.objects.filter(evening=upcoming).exists()


def test_a_time_taken_meanwhile_is_refused_with_the_reason_and_nothing_changes(
    client, school, upcoming
):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    book_now(school, upcoming, school.bea, (school.cal, "S-MIA", 16, 0))

    response = client.post(
        url("hold-slots", upcoming.pk), {f"slot-{amy_mia}": at(upcoming, school, "S-MIA", 16, 0).pk}
    )

    assert response.status_code == 409
    assert "someone else has just taken that time" in text(response)
    assert "govuk-error-summary" in response.text
    assert not Appointment.objects.filter(parent=school.ann).exists()
    assert not Hold.objects.filter(parent=school.ann).exists()


def test_a_clash_between_my_own_picks_is_refused(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    ben_sam = key(school.ben, upcoming, school, "S-SAM")

    response = client.post(
        url("hold-slots", upcoming.pk),
        {
            f"slot-{amy_mia}": at(upcoming, school, "S-MIA", 17, 0).pk,
            f"slot-{ben_sam}": at(upcoming, school, "S-SAM", 17, 0).pk,
        },
    )

    assert response.status_code == 409
    # Both named, so the parent knows which to change (the school's staff rows).
    said = text(response)
    assert "17:00 with Ms M Maths and 17:00 with Mr S Science overlap" in said
    assert not Appointment.objects.filter(parent=school.ann).exists()


def test_a_limit_is_refused_with_the_reason(client, school):
    evening = upcoming_evening(school, max_per_parent=1)
    client.force_login(school.ann)

    response = client.post(
        url("hold-slots", evening.pk),
        {
            f"slot-{key(school.amy, evening, school, 'S-MIA')}": at(
                evening, school, "S-MIA", 16, 0
            ).pk,
            f"slot-{key(school.ben, evening, school, 'S-SAM')}": at(
                evening, school, "S-SAM", 16, 30
            ).pk,
        },
    )

    assert response.status_code == 409
    assert "A parent may book at most 1 appointments at this evening" in text(response)
    assert not Appointment.objects.filter(evening=evening).exists()


def test_a_video_appointment_shows_the_meeting_link(client, school):
    evening = upcoming_evening(school, mode=Evening.Mode.VIDEO)
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"),
        actor=school.organiser,
        video_link="https://meet.example.org/maths",
    )
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.ann)
    amy = Appointment.objects.get(evening=evening, pupil=school.amy)

    page = client.get(url("evening", evening.pk))

    assert "Where Video: join the meeting" in text(page)
    # The appointment's own call page (docs/video.md), never the teacher's fixed link.
    assert f'href="/parents/evenings/{evening.pk}/appointments/{amy.pk}/call/"' in page.text
    assert "meet.example.org/maths" not in page.text


def test_when_the_evening_offers_both_the_parent_chooses_video(client, school):
    evening = upcoming_evening(school, mode=Evening.Mode.BOTH)
    client.force_login(school.ann)
    amy_mia = key(school.amy, evening, school, "S-MIA")
    grid = client.get(url("manual", evening.pk), {"teacher": amy_mia})
    assert "How would you like to meet Ms M Maths about Amy Ash?" in text(grid)

    planned = client.post(
        url("automatic", evening.pk),
        {"earliest": "17:00", "latest": "18:00", "teacher": amy_mia, f"method-{amy_mia}": "video"},
    )
    fields = dict(re.findall(r'name="((?:slot|method)-[\d-]+)" value="([\w]+)"', planned.text))
    assert fields[f"method-{amy_mia}"] == "video"
    held = client.post(url("hold-slots", evening.pk), fields)

    assert held.status_code == 302
    assert Appointment.objects.get(parent=school.ann).method == "video"


# --- holds: running out, letting go ---------------------------------------------------


def test_an_expired_hold_says_so_and_offers_to_choose_again(client, school, upcoming, settings):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    settings.HOLD_SECONDS = 0  # the hold has run out as soon as it is made
    hold = hold_through_the_grid(client, upcoming, {amy_mia: at(upcoming, school, "S-MIA", 16, 0)})
    (held,) = Appointment.objects.filter(hold=hold)

    page = client.get(url("hold", upcoming.pk, hold.pk))
    confirmed = client.post(url("confirm", upcoming.pk, hold.pk), {f"message-{held.pk}": "Hi"})

    for response in (page, confirmed):
        assert response.status_code == 410
        assert "Your held times have run out" in text(response)
        assert f'href="{url("evening", upcoming.pk)}"' in response.text
    assert not Appointment.objects.filter(status="confirmed").exists()


def test_messages_typed_before_a_hold_lapses_are_kept_for_the_next_hold(
    client, school, upcoming, settings
):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    settings.HOLD_SECONDS = 0
    hold = hold_through_the_grid(client, upcoming, {amy_mia: at(upcoming, school, "S-MIA", 16, 0)})
    (held,) = Appointment.objects.filter(hold=hold)

    lapsed = client.post(url("confirm", upcoming.pk, hold.pk), {f"message-{held.pk}": MESSAGE})

    assert lapsed.status_code == 410
    assert "What you wrote to the teachers is kept" in text(lapsed)
    settings.HOLD_SECONDS = 120
    again = hold_through_the_grid(
        client, upcoming, {amy_mia: at(upcoming, school, "S-MIA", 16, 30)}
    )
    page = client.get(url("hold", upcoming.pk, again.pk))
    assert MESSAGE in page.text  # filled in, not typed again
    until = timezone.localtime(again.expires_at)
    assert f"Confirm by {until:%H:%M}." in text(page)  # beside the message boxes


def test_letting_go_frees_the_times_for_others(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    four = at(upcoming, school, "S-MIA", 16, 0)
    hold = hold_through_the_grid(client, upcoming, {amy_mia: four})

    response = client.post(url("release", upcoming.pk, hold.pk))

    assert response.status_code == 302 and response.url == url("evening", upcoming.pk)
    assert not Appointment.objects.filter(evening=upcoming).exists()
    assert "The times you held have been let go." in text(client.get(response.url))
    client.force_login(school.bea)
    grid = client.get(
        url("manual", upcoming.pk), {"teacher": key(school.cal, upcoming, school, "S-MIA")}
    )
    assert f'value="{four.pk}"' in grid.text


def test_choosing_again_ticks_the_times_held_and_the_new_hold_replaces_them(
    client, school, upcoming
):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    first = hold_through_the_grid(client, upcoming, {amy_mia: at(upcoming, school, "S-MIA", 16, 0)})
    evening_page = client.get(url("evening", upcoming.pk))
    until = timezone.localtime(first.expires_at)
    # The day too: a waiting-list offer is held for hours, across midnight.
    assert f"You have times held until {until:%A} {until.day} {until:%B, %H:%M}" in text(
        evening_page
    )
    assert f'value="{amy_mia}"' in evening_page.text  # held, not booked: still a tick box

    grid = client.get(url("manual", upcoming.pk), {"teacher": amy_mia})

    four = at(upcoming, school, "S-MIA", 16, 0)
    assert re.search(rf'value="{four.pk}" checked', grid.text)
    second = hold_through_the_grid(
        client, upcoming, {amy_mia: at(upcoming, school, "S-MIA", 16, 20)}
    )
    assert not Appointment.objects.filter(hold=first).exists()
    assert (
        Appointment.objects.get(hold=second).starts_at
        == at(upcoming, school, "S-MIA", 16, 20).starts_at
    )


# --- finding times for me -------------------------------------------------------------


def test_the_automatic_form_ticks_the_teachers_chosen(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")

    response = client.get(url("automatic", upcoming.pk), {"teacher": amy_mia})

    assert response.status_code == 200
    assert re.search(rf'value="{amy_mia}" checked', response.text)
    assert re.search(r'name="earliest"[^>]*value="16:00"', response.text)
    assert re.search(r'name="latest"[^>]*value="19:00"', response.text)


def test_automatic_booking_proposes_the_shortest_visit_for_two_children_and_holds_it(
    client, school, upcoming
):
    book_now(school, upcoming, school.bea, (school.cal, "S-MIA", 16, 30))
    client.force_login(school.ann)
    chosen = [
        key(school.amy, upcoming, school, "S-MIA"),
        key(school.amy, upcoming, school, "S-EVE"),
        key(school.ben, upcoming, school, "S-SAM"),
    ]

    response = client.post(
        url("automatic", upcoming.pk),
        {"day": upcoming.days.get().pk, "earliest": "16:30", "latest": "18:00", "teacher": chosen},
    )

    assert response.status_code == 200
    page = text(response)
    assert "Arrive by 16:30 and you will be finished at 17:00" in page
    assert "Teachers who do not fit" not in page
    fields = dict(re.findall(r'name="(slot-[\d-]+)" value="(\d+)"', response.text))
    assert set(fields) == {f"slot-{k}" for k in chosen}
    starts = sorted(
        timezone.localtime(Slot.objects.get(pk=v).starts_at).strftime("%H:%M")
        for v in fields.values()
    )
    assert starts == ["16:30", "16:40", "16:50"]
    assert (
        Slot.objects.get(pk=fields[f"slot-{chosen[0]}"]).starts_at
        != at(upcoming, school, "S-MIA", 16, 30).starts_at
    )  # Mia's 16:30 is Bea's

    accepted = client.post(url("hold-slots", upcoming.pk), fields)

    assert accepted.status_code == 302
    hold = Hold.objects.get(parent=school.ann)
    assert Appointment.objects.filter(hold=hold, status="held").count() == 3
    held = Appointment.objects.filter(hold=hold)
    confirm = client.post(
        url("confirm", upcoming.pk, hold.pk), {f"message-{a.pk}": "" for a in held}
    )
    assert confirm.status_code == 302
    assert Appointment.objects.filter(parent=school.ann, status="confirmed").count() == 3


def test_automatic_booking_says_which_teachers_do_not_fit_and_why(client, school, upcoming):
    book_now(school, upcoming, school.bea, (school.cal, "S-MIA", 16, 0))
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")
    amy_eve = key(school.amy, upcoming, school, "S-EVE")
    amy_tom = key(school.amy, upcoming, school, "S-TOM")
    ben_sam = key(school.ben, upcoming, school, "S-SAM")

    response = client.post(
        url("automatic", upcoming.pk),
        {
            "day": upcoming.days.get().pk,
            "earliest": "16:00",
            "latest": "16:10",
            "teacher": [amy_mia, amy_eve, amy_tom],
        },
    )

    page = text(response)
    assert response.status_code == 200
    assert "Teachers who do not fit" in page
    assert (
        "Ms M Maths for Amy Ash This teacher has no free appointment between the times you "
        "can be there." in page
    )
    assert "There is not enough time for this teacher as well as the others you chose." in page
    assert len(re.findall(r'name="slot-', response.text)) == 1
    assert ben_sam not in response.text


def test_automatic_booking_with_blank_times_plans_over_the_whole_evening(client, school, upcoming):
    """As bench/booking_rush.py asks: tick boxes from the evening page, times blank."""
    client.force_login(school.ann)
    boxes = re.findall(
        r'name="teacher" type="checkbox" value="([\d-]+)"',
        client.get(url("evening", upcoming.pk)).text,
    )
    assert client.get(url("automatic", upcoming.pk)).status_code == 200

    response = client.post(
        url("automatic", upcoming.pk),
        {"teacher": boxes, "earliest": "", "latest": ""},
    )

    assert response.status_code == 200
    fields = dict(re.findall(r'name="(slot-[\d-]+)" value="(\d+)"', response.text))
    assert len(fields) == 5
    starts = sorted(Slot.objects.get(pk=v).starts_at for v in fields.values())
    assert [timezone.localtime(s).strftime("%H:%M") for s in starts] == [
        "16:00",
        "16:10",
        "16:20",
        "16:30",
        "16:40",
    ]


def test_the_automatic_form_explains_bad_times(client, school, upcoming):
    client.force_login(school.ann)
    amy_mia = key(school.amy, upcoming, school, "S-MIA")

    response = client.post(
        url("automatic", upcoming.pk),
        {
            "day": upcoming.days.get().pk,
            "earliest": "18:00",
            "latest": "half five",
            "teacher": amy_mia,
        },
    )
    reversed_times = client.post(
        url("automatic", upcoming.pk),
        {"day": upcoming.days.get().pk, "earliest": "18:00", "latest": "17:00"},
    )

    assert response.status_code == 200
    assert "Enter the latest time as hours and minutes, like 18:45" in text(response)
    assert 'href="#id_latest"' in response.text
    page = text(reversed_times)
    assert "The latest time must be after the earliest time" in page
    assert "Choose at least one teacher to see" in page


def test_a_multi_day_evening_asks_which_day(client, school):
    now = timezone.now()
    first = timezone.localdate() + timedelta(days=10)
    start = datetime(first.year, first.month, first.day, 16, 0, tzinfo=LONDON)
    evening = upcoming_evening(
        school,
        days=[
            (start, start.replace(hour=18)),
            (start + timedelta(days=1), start.replace(hour=18) + timedelta(days=1)),
        ],
        now=now,
    )
    client.force_login(school.ann)
    amy_mia = key(school.amy, evening, school, "S-MIA")
    second = evening.days.order_by("starts_at")[1]

    form = client.get(url("automatic", evening.pk), {"teacher": amy_mia})
    response = client.post(
        url("automatic", evening.pk),
        {"day": second.pk, "earliest": "17:00", "latest": "18:00", "teacher": amy_mia},
    )

    assert "Which day?" in text(form)
    assert len(re.findall(r'name="day" type="radio"', form.text)) == 2
    (slot_id,) = re.findall(rf'name="slot-{amy_mia}" value="(\d+)"', response.text)
    placed = Slot.objects.get(pk=slot_id)
    assert placed.day_id == second.pk
    assert timezone.localtime(placed.starts_at).strftime("%H:%M") == "17:00"


# --- changing and cancelling ----------------------------------------------------------


def test_cancelling_asks_first_then_cancels(client, school, upcoming):
    (appointment,) = book_now(school, upcoming, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.ann)
    evening_page = client.get(url("evening", upcoming.pk))
    assert url("cancel", upcoming.pk, appointment.pk) in evening_page.text

    check = client.get(url("cancel", upcoming.pk, appointment.pk))
    assert check.status_code == 200
    assert "Are you sure you want to cancel this appointment?" in text(check)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"

    response = client.post(url("cancel", upcoming.pk, appointment.pk))

    assert response.status_code == 302 and response.url == url("evening", upcoming.pk)
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancelled_by == school.ann
    after = text(client.get(response.url))
    assert "Your appointment with Ms M Maths for Amy Ash on" in after and "is cancelled." in after


def test_changing_shows_free_times_then_a_check_then_moves(client, school, upcoming):
    (appointment,) = book_now(school, upcoming, school.ann, (school.amy, "S-MIA", 16, 0))
    book_now(school, upcoming, school.ann, (school.ben, "S-SAM", 16, 30))
    client.force_login(school.ann)
    new = at(upcoming, school, "S-MIA", 17, 20)

    grid = client.get(url("change", upcoming.pk, appointment.pk))
    assert grid.status_code == 200
    assert f'name="slot" type="radio" value="{new.pk}"' in grid.text
    assert "16:30–16:40: Mr S Science for Ben Ash" in text(grid)
    check = client.post(url("change", upcoming.pk, appointment.pk), {"slot": new.pk})
    assert check.status_code == 200
    assert "Check your new time" in text(check) and "17:20–17:30" in text(check)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"

    response = client.post(
        url("change", upcoming.pk, appointment.pk), {"slot": new.pk, "confirm": "yes"}
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    moved = appointment.moved_to
    assert moved.status == "confirmed" and moved.starts_at == new.starts_at
    assert "is now on" in text(client.get(response.url))


def test_changing_without_a_new_time_asks_for_one(client, school, upcoming):
    (appointment,) = book_now(school, upcoming, school.ann, (school.amy, "S-MIA", 16, 0))
    client.force_login(school.ann)

    response = client.post(url("change", upcoming.pk, appointment.pk), {})

    assert response.status_code == 200 and "Choose a new time" in text(response)


def test_after_the_cut_off_change_and_cancel_are_refused_and_nothing_changes(client, school):
    now = timezone.now()
    evening = upcoming_evening(school, in_days=1, cutoff_hours=48)
    (appointment,) = book_now(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=now - timedelta(days=4)
    )
    client.force_login(school.ann)

    page = client.get(url("evening", evening.pk))
    cancel = client.post(url("cancel", evening.pk, appointment.pk))
    change = client.post(
        url("change", evening.pk, appointment.pk),
        {"slot": at(evening, school, "S-MIA", 18, 0).pk, "confirm": "yes"},
    )

    assert url("cancel", evening.pk, appointment.pk) not in page.text
    assert url("change", evening.pk, appointment.pk) not in page.text
    assert cancel.status_code == 409
    assert "within 48 hours of their start" in text(cancel)
    assert "govuk-error-summary" in cancel.text
    assert "It is too late to change or cancel this appointment online" in text(change)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    assert Appointment.objects.filter(evening=evening).count() == 1


# --- families -------------------------------------------------------------------------


def test_the_other_parent_sees_the_appointment_and_who_booked_it(client, school, upcoming):
    (appointment,) = book_now(school, upcoming, school.deb, (school.dan, "S-MIA", 16, 0))
    client.force_login(school.don)

    response = client.get(url("evening", upcoming.pk))

    page = text(response)
    assert "16:00–16:10: Dan Dee with Ms M Maths Where – Booked by Deb" in page
    assert url("cancel", upcoming.pk, appointment.pk) not in response.text
    dan_mia = key(school.dan, upcoming, school, "S-MIA")
    assert f'value="{dan_mia}"' not in response.text  # already met: no tick box
    assert "Already booked: Ms M Maths at 16:00" in page
    listing = text(client.get(url("list")))
    assert "Booked 1" in listing
    check = client.get(url("cancel", upcoming.pk, appointment.pk))
    assert "Only Deb, who booked this appointment, can change or cancel it." in text(check)
    refused = client.post(url("cancel", upcoming.pk, appointment.pk))
    assert refused.status_code == 409
    assert "Only the parent who booked this appointment may change it." in text(refused)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_with_separate_meetings_each_parent_books_their_own(client, school):
    evening = upcoming_evening(school, split_families=Evening.SplitFamilies.SEPARATE)
    book_now(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    client.force_login(school.don)
    dan_mia = key(school.dan, evening, school, "S-MIA")

    page = client.get(url("evening", evening.pk))
    assert f'value="{dan_mia}"' in page.text
    assert "16:00–16:10: Dan Dee with Ms M Maths Where – Booked by Deb" in text(page)
    hold = hold_through_the_grid(client, evening, {dan_mia: at(evening, school, "S-MIA", 16, 30)})
    response = client.post(url("confirm", evening.pk, hold.pk))

    assert response.status_code == 302
    meetings = Appointment.objects.filter(evening=evening, pupil=school.dan, status="confirmed")
    assert sorted(
        (a.parent.email, timezone.localtime(a.starts_at).strftime("%H:%M")) for a in meetings
    ) == [
        ("deb@example.org", "16:00"),
        ("don@example.org", "16:30"),
    ]
    both = text(client.get(url("evening", evening.pk)))
    assert (
        "16:00–16:10: Dan Dee with Ms M Maths Where – Booked by Deb" in both
        and "16:30–16:40: Dan Dee with Ms M Maths Change" in both
        and "Booked by You" in both
    )


def test_with_one_day_only_the_parent_chooses_the_day_first(client, school):
    from schoolgate.addons.selectors import get_addon_settings

    addon = get_addon_settings()
    addon.one_day_only = True
    addon.save()
    first = timezone.localdate() + timedelta(days=10)
    second = first + timedelta(days=2)
    tue = datetime(first.year, first.month, first.day, 16, 0, tzinfo=LONDON)
    thu = datetime(second.year, second.month, second.day, 16, 0, tzinfo=LONDON)
    evening = upcoming_evening(
        school, days=[(tue, tue.replace(hour=19)), (thu, thu.replace(hour=19))]
    )
    client.force_login(school.ann)
    amy_mia = key(school.amy, evening, school, "S-MIA")

    first_visit = client.get(url("manual", evening.pk), {"teacher": amy_mia})
    assert "Choose the day first" in text(first_visit)
    assert 'id="times"' not in first_visit.text  # no times before the day is chosen
    days = list(evening.days.order_by("starts_at"))
    chosen = client.get(url("manual", evening.pk), {"teacher": amy_mia, "day": days[1].pk})
    thursday_slots = set(Slot.objects.filter(day=days[1]).values_list("pk", flat=True).iterator())
    offered = {int(pk) for pk in re.findall(r'type="radio" value="(\d+)">', chosen.text)}
    greyed = {int(pk) for pk in re.findall(r'type="radio" value="(\d+)" disabled', chosen.text)}
    tuesday_slots = set(Slot.objects.filter(day=days[0]).values_list("pk", flat=True).iterator())
    assert offered and offered <= thursday_slots  # only that day's times can be chosen
    assert greyed and greyed <= tuesday_slots  # the other day's are shown, not to be chosen
    assert f"You chose {thu:%A} {thu.day} {thu:%B}: times on other days are greyed out" in text(
        chosen
    )
    assert "Not available: your school books each family's appointments on one day" in text(chosen)
