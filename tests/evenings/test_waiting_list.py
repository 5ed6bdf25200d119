"""Waiting lists: a family joins a full teacher's list with a note and can leave it;
when a slot frees up the first family waiting is offered it (a hold in their name for
the evening's waiting_offer_hours, and an email); an offer taken is booked, one not
taken lapses and the next family is offered the slot. The scheduled job offers each
freed slot once, to one family, with one email, however often and however many
workers run it. Emails are asserted on the outbox rows."""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from evenings_school import NOW, book, london, make_evening, make_school, slot, teacher
from test_parent_pages import book_now, key, upcoming_evening

from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import (
    InvalidChoice,
    NotAllowed,
    NotBookable,
    OutsideWindow,
    SlotTaken,
)
from schoolgate.evenings.models import Appointment, Hold, WaitingListEntry
from schoolgate.evenings.running import absence, waiting
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


# --- the engine: long holds that a new hold does not replace ---------------------


def test_a_hold_can_last_longer_and_be_kept_beside_a_new_one(school, evening):
    mia = teacher(evening, school, "S-MIA")
    until = NOW + timedelta(hours=24)
    long = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0))],
        now=NOW,
        expires_at=until,
        replace_hold=False,
    )
    assert long.expires_at == until
    assert Appointment.objects.get(hold=long).expires_at == until
    booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            (school.amy, teacher(evening, school, "S-EVE"), slot(evening, school, "S-EVE", 17, 0))
        ],
        now=NOW,
        replace_hold=False,
    )
    assert Appointment.objects.filter(hold=long, status=Appointment.Status.HELD).exists()
    assert Hold.objects.count() == 2


# --- joining and leaving ---------------------------------------------------------


def fill_mia(school, evening):
    """Mia is full: a break from 16:10 and Bea's Cal at 16:00. Returns Cal's appointment."""
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 16, 10),
        ends_at=london(2026, 3, 10, 19, 0),
        teachers=[teacher(evening, school, "S-MIA")],
        now=NOW,
    )
    [cal] = book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0)).appointments
    OutboxMessage.objects.all().delete()
    return cal


def join(school, evening, parent, pupil, note="", now=NOW):
    return waiting.join(
        parent=parent,
        evening=evening,
        pupil=pupil,
        teacher=teacher(evening, school, "S-MIA"),
        note=note,
        now=now,
    )


def offers():
    return list(OutboxMessage.objects.filter(template="evening_waiting_offer").order_by("pk"))


def test_a_family_joins_a_full_teachers_list_with_a_note(school, evening):
    with pytest.raises(InvalidChoice) as refused:
        join(school, evening, school.ann, school.amy)
    assert refused.value.message == "Ms M Maths still has free times: please choose one of them."
    fill_mia(school, evening)

    entry = join(school, evening, school.ann, school.amy, note="  Any evening time works.  ")

    assert (entry.status, entry.note, entry.parent) == (
        "waiting",
        "Any evening time works.",
        school.ann,
    )
    with pytest.raises(InvalidChoice) as refused:
        join(school, evening, school.ann, school.amy)
    assert "already on this teacher's waiting list" in refused.value.message
    assert WaitingListEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("bea_for_amy", NotAllowed),  # not her child
        ("ann_for_ben", NotBookable),  # Mia does not teach Ben
        ("bea_for_cal", InvalidChoice),  # Cal already meets Mia
    ],
)
def test_joining_is_refused_for_the_wrong_child_or_teacher(school, evening, who, error):
    fill_mia(school, evening)
    parent, pupil = {
        "bea_for_amy": (school.bea, school.amy),
        "ann_for_ben": (school.ann, school.ben),
        "bea_for_cal": (school.bea, school.cal),
    }[who]
    with pytest.raises(error):
        join(school, evening, parent, pupil)
    assert not WaitingListEntry.objects.exists()


def test_joining_is_refused_once_booking_has_closed(school, evening):
    fill_mia(school, evening)
    with pytest.raises(OutsideWindow):
        join(school, evening, school.ann, school.amy, now=london(2026, 3, 10, 13, 0))


def test_leaving_the_list(school, evening):
    fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    with pytest.raises(NotAllowed):
        waiting.leave(parent=school.bea, entry=entry, now=NOW)
    assert waiting.entries_for_parent(parent=school.ann, evening=evening) == [entry]

    left = waiting.leave(parent=school.ann, entry=entry, now=NOW)

    assert left.status == "withdrawn"
    assert waiting.entries_for_parent(parent=school.ann, evening=evening) == []
    # The family may join again later.
    join(school, evening, school.ann, school.amy)


# --- offers ------------------------------------------------------------------------


def test_a_freed_slot_is_offered_to_the_first_family_once(school, evening, settings):
    settings.SITE_URL = "https://school.example"
    cal = fill_mia(school, evening)
    first = join(school, evening, school.ann, school.amy)
    second = join(school, evening, school.deb, school.dan, now=NOW + timedelta(minutes=1))
    assert waiting.run_waiting_lists(now=NOW)["offered"] == 0  # nothing free yet

    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    later = NOW + timedelta(minutes=5)
    assert waiting.run_waiting_lists(now=later)["offered"] == 1
    assert waiting.run_waiting_lists(now=later + timedelta(minutes=1))["offered"] == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("offered", "waiting")
    assert first.offer_expires_at == later + timedelta(hours=24)
    [held] = Appointment.objects.filter(hold=first.hold)
    assert (held.status, held.pupil, held.starts_at) == ("held", school.amy, cal.starts_at)
    assert held.expires_at == later + timedelta(hours=24)
    [message] = offers()
    assert message.to == "ann@example.org"
    assert message.subject == "A time with Ms M Maths is free: Spring parents' evening"
    assert "Tuesday 10 March 2026, 16:00 to 16:10" in message.body_text
    assert "Amy Ash with Ms M Maths" in message.body_text
    assert "held for you until Tuesday 11 March, 12:05" not in message.body_text
    assert "held for you until Monday 2 March, 12:05" in message.body_text
    assert f"https://school.example/parents/evenings/{evening.pk}/holds/{first.hold_id}/" in (
        message.body_text
    )
    # Nobody else can book the slot meanwhile.
    with pytest.raises(SlotTaken):
        book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0), now=later)


def test_an_offer_taken_up_is_booked(school, evening):
    cal = fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)
    entry.refresh_from_db()

    [confirmed] = booking.confirm_hold(hold=entry.hold, parent=school.ann, now=NOW)
    assert waiting.entries_for_parent(parent=school.ann, evening=evening) == []
    waiting.run_waiting_lists(now=NOW + timedelta(minutes=1))

    entry.refresh_from_db()
    assert entry.status == "booked"
    assert confirmed.status == "confirmed" and confirmed.pupil == school.amy
    assert [m.template for m in OutboxMessage.objects.order_by("pk")][-2:] == [
        "evening_waiting_offer",
        "evening_booked",
    ]


def test_an_offer_not_taken_up_lapses_and_goes_to_the_next_family(school, evening):
    cal = fill_mia(school, evening)
    first = join(school, evening, school.ann, school.amy)
    second = join(school, evening, school.deb, school.dan, now=NOW + timedelta(minutes=1))
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)

    counts = waiting.run_waiting_lists(now=NOW + timedelta(hours=24, minutes=1))

    assert counts == {"booked": 0, "lapsed": 1, "offered": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("lapsed", "offered")
    assert not Appointment.objects.filter(hold=first.hold_id).exists()
    assert Appointment.objects.get(hold=second.hold).pupil == school.dan
    assert [m.to for m in offers()] == ["ann@example.org", "deb@example.org"]


def test_an_offer_let_go_or_left_goes_to_the_next_family(school, evening):
    cal = fill_mia(school, evening)
    first = join(school, evening, school.ann, school.amy)
    second = join(school, evening, school.deb, school.dan, now=NOW + timedelta(minutes=1))
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)
    first.refresh_from_db()

    booking.release_hold(hold=first.hold, user=school.ann, now=NOW)
    waiting.run_waiting_lists(now=NOW + timedelta(minutes=1))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("lapsed", "offered")
    waiting.leave(parent=school.deb, entry=second, now=NOW + timedelta(minutes=2))
    second.refresh_from_db()
    assert second.status == "withdrawn"
    assert not Appointment.objects.filter(hold=second.hold_id, status="held").exists()


def test_an_offer_ends_when_booking_closes(school, evening):
    cal = fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    late = london(2026, 3, 10, 9, 0)  # booking closes at 12:00

    waiting.run_waiting_lists(now=late)

    entry.refresh_from_db()
    assert entry.offer_expires_at == evening.booking_closes
    # Too short an offer is not made at all.
    assert (
        waiting.offer_expiry(evening, cal.starts_at, london(2026, 3, 10, 11, 45))
        - london(2026, 3, 10, 11, 45)
        < waiting.SHORTEST_OFFER
    )


def test_a_new_hold_of_the_family_keeps_their_offer(school, evening):
    cal = fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)
    entry.refresh_from_db()

    booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            (school.amy, teacher(evening, school, "S-EVE"), slot(evening, school, "S-EVE", 17, 0))
        ],
        now=NOW,
    )

    assert Appointment.objects.filter(hold=entry.hold, status="held").exists()


def test_choosing_the_offered_teacher_again_replaces_the_offer(school, evening):
    cal = fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)
    entry.refresh_from_db()
    mia = teacher(evening, school, "S-MIA")

    again = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0))],
        now=NOW,
    )
    booking.confirm_hold(hold=again, parent=school.ann, now=NOW)
    waiting.run_waiting_lists(now=NOW + timedelta(minutes=1))

    entry.refresh_from_db()
    assert entry.status == "booked"
    assert not Appointment.objects.filter(hold=entry.hold_id).exists()


def test_a_cancellation_queues_the_job_when_families_wait(school, evening):
    from django_tasks_db.models import DBTaskResult

    from schoolgate.evenings.tasks import run_waiting_lists

    tasks = DBTaskResult.objects.filter(task_path=run_waiting_lists.module_path)
    [tom] = book(school, evening, school.ann, (school.amy, "S-TOM", 16, 0)).appointments
    booking.cancel_appointment(appointment=tom, user=school.ann, now=NOW)
    assert tasks.count() == 0  # nobody waits for Tom
    cal = fill_mia(school, evening)
    join(school, evening, school.ann, school.amy)

    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)

    assert tasks.count() == 1
    assert run_waiting_lists.call(at=NOW.isoformat())["offered"] == 1


def test_an_absence_puts_an_offer_back_to_waiting(school, evening):
    cal = fill_mia(school, evening)
    entry = join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    waiting.run_waiting_lists(now=NOW)

    absence.mark_absent(
        evening=evening,
        teacher=teacher(evening, school, "S-MIA"),
        actor=school.organiser,
        action="cancel",
        now=NOW,
    )

    entry.refresh_from_db()
    assert entry.status == "waiting" and entry.hold is None
    assert waiting.run_waiting_lists(now=NOW + timedelta(minutes=1))["offered"] == 0


def test_the_scheduler_enqueues_the_job_every_minute_and_two_runs_offer_once(school, evening):
    from django_tasks_db.models import DBTaskResult

    from schoolgate.evenings.tasks import run_waiting_lists
    from schoolgate.scheduler.registry import autodiscover, jobs, run_due_jobs

    autodiscover()
    assert jobs()["evenings.waiting_lists"].every_minutes == 1
    tasks = DBTaskResult.objects.filter(task_path=run_waiting_lists.module_path)
    assert "evenings.waiting_lists" in run_due_jobs(NOW)
    assert "evenings.waiting_lists" not in run_due_jobs(NOW + timedelta(seconds=30))
    assert "evenings.waiting_lists" in run_due_jobs(NOW + timedelta(minutes=1))
    assert tasks.count() == 2

    cal = fill_mia(school, evening)
    join(school, evening, school.ann, school.amy)
    booking.cancel_appointment(appointment=cal, user=school.bea, now=NOW)
    # What two workers would run for those two minutes:
    assert run_waiting_lists.call(at=NOW.isoformat())["offered"] == 1
    assert run_waiting_lists.call(at=NOW.isoformat())["offered"] == 0
    assert [m.to for m in offers()] == ["ann@example.org"]


# --- two workers at once (PostgreSQL) ----------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="races need concurrent writers; SQLite runs one writer at a time",
)
@pytest.mark.parametrize("freed", [1, 2])
def test_workers_running_at_once_offer_each_slot_once_to_one_family(freed):
    from test_booking_concurrency import race

    school = make_school(extra_families=4)
    evening = make_evening(school)
    mia = teacher(evening, school, "S-MIA")
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 16, 20),
        ends_at=london(2026, 3, 10, 19, 0),
        teachers=[mia],
        now=NOW,
    )
    taken = [
        book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0)).appointments[0],
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 10)).appointments[0],
    ]
    for n, (parent, child) in enumerate(school.racers()):
        waiting.join(
            parent=parent,
            evening=evening,
            pupil=child,
            teacher=mia,
            now=NOW + timedelta(seconds=n),
        )
    for appointment in taken[:freed]:
        booking.cancel_appointment(appointment=appointment, user=school.organiser, now=NOW)

    results = race(*[lambda: waiting.run_waiting_lists(now=NOW)] * 4)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["offered"] for r in results) == freed
    offered = list(WaitingListEntry.objects.filter(status="offered").order_by("created_at"))
    assert len(offered) == freed
    held = Appointment.objects.filter(status="held", teacher=mia)
    assert held.count() == freed
    assert len({a.starts_at for a in held}) == freed
    assert len(offers()) == freed
    assert sorted(m.to for m in offers()) == sorted(e.parent.email for e in offered)


# --- the pages ---------------------------------------------------------------------


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def full(school):
    """An upcoming evening at which Mia is full (a break from 16:10, Cal at 16:00)."""
    evening = upcoming_evening(school)
    day = timezone.localtime(evening.days.get().starts_at)
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=day.replace(hour=16, minute=10),
        ends_at=day.replace(hour=19),
        teachers=[teacher(evening, school, "S-MIA")],
    )
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    return evening


def parent_url(name, *args):
    return reverse(f"evenings:{name}", args=args)


def test_a_parent_finds_a_full_teacher_and_joins_then_leaves_the_list(client, school, full):
    client.force_login(school.ann)
    amy_mia = key(school.amy, full, school, "S-MIA")
    grid = page_text(client.get(parent_url("manual", full.pk), {"teacher": amy_mia}))
    link = f"/parents/evenings/{full.pk}/waiting-list/?teacher={amy_mia}"
    assert "Sorry, this teacher has no free times left." in grid
    assert link in grid and "Join the waiting list for Ms M Maths (Amy Ash)" in grid

    form = client.get(link)
    assert form.status_code == 200
    assert "Join Ms M Maths's waiting list" in page_text(form)
    response = client.post(
        parent_url("waiting-list", full.pk), {"teacher": amy_mia, "note": "After 17:00 please"}
    )
    assert response.status_code == 302 and response.url == parent_url("evening", full.pk)
    entry = WaitingListEntry.objects.get()
    assert (entry.parent, entry.pupil, entry.note) == (school.ann, school.amy, "After 17:00 please")
    evening_page = page_text(client.get(response.url))
    assert "You are on Ms M Maths's waiting list for Amy Ash." in evening_page
    assert "Ms M Maths for Amy Ash" in evening_page and "Leave the list" in evening_page

    left = client.post(parent_url("waiting-list-leave", full.pk, entry.pk))
    assert left.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "withdrawn"


def test_joining_a_teacher_with_free_times_is_refused(client, school, full):
    client.force_login(school.ann)
    response = client.post(
        parent_url("waiting-list", full.pk), {"teacher": key(school.amy, full, school, "S-EVE")}
    )
    assert response.status_code == 409
    assert "Dr E English still has free times: please choose one of them." in page_text(response)
    assert not WaitingListEntry.objects.exists()


def test_a_note_too_long_is_refused_and_nothing_changes(client, school, full):
    client.force_login(school.ann)
    response = client.post(
        parent_url("waiting-list", full.pk),
        {"teacher": key(school.amy, full, school, "S-MIA"), "note": "x" * 1001},
    )
    assert response.status_code == 200
    assert "There is a problem" in page_text(response)
    assert "A note for the school (optional): Ensure this value has at most 1000" in page_text(
        response
    )
    assert not WaitingListEntry.objects.exists()


def test_another_familys_child_entry_or_evening_is_not_found(client, school, full):
    ann_entry = waiting.join(
        parent=school.ann, evening=full, pupil=school.amy, teacher=teacher(full, school, "S-MIA")
    )
    other = upcoming_evening(school, name="Other evening")
    client.force_login(school.deb)
    amy_mia = key(school.amy, full, school, "S-MIA")
    assert client.get(parent_url("waiting-list", full.pk), {"teacher": amy_mia}).status_code == 404
    assert client.post(parent_url("waiting-list", full.pk), {"teacher": amy_mia}).status_code == 404
    # Dan may not book Sam (Year 9 science).
    dan_sam = key(school.dan, full, school, "S-SAM")
    assert client.get(parent_url("waiting-list", full.pk), {"teacher": dan_sam}).status_code == 404
    assert client.post(parent_url("waiting-list", full.pk), {"note": "hi"}).status_code == 404
    assert client.post(parent_url("waiting-list-leave", full.pk, ann_entry.pk)).status_code == 404
    ann_entry.refresh_from_db()
    assert ann_entry.status == "waiting"
    # Deb sees neither Ann's place nor her note.
    for path in (parent_url("waiting-list", full.pk), parent_url("evening", full.pk)):
        text = page_text(client.get(path))
        assert "Amy" not in text
    # The right family, the wrong evening.
    client.force_login(school.ann)
    assert client.post(parent_url("waiting-list-leave", other.pk, ann_entry.pk)).status_code == 404
    assert client.get(parent_url("waiting-list", full.pk)).status_code == 200


def test_the_offer_page_shows_the_day_and_no_countdown(client, school, full):
    entry = waiting.join(
        parent=school.ann, evening=full, pupil=school.amy, teacher=teacher(full, school, "S-MIA")
    )
    cal = Appointment.objects.get(pupil=school.cal, status="confirmed")
    booking.cancel_appointment(appointment=cal, user=school.bea)
    waiting.run_waiting_lists()
    entry.refresh_from_db()
    client.force_login(school.ann)

    page = page_text(client.get(parent_url("hold", full.pk, entry.hold_id)))

    until = timezone.localtime(entry.offer_expires_at)
    assert "These times are held for you until" in page
    assert f">{date_format(until, 'l j F, H:i')}</time>" in page
    assert "data-countdown" not in page
    evening_page = page_text(client.get(parent_url("evening", full.pk)))
    assert "A time is held for you" in evening_page
    assert f"/parents/evenings/{full.pk}/holds/{entry.hold_id}/" in evening_page


def test_the_organiser_sees_each_teachers_list(client, school, full):
    waiting.join(
        parent=school.ann,
        evening=full,
        pupil=school.amy,
        teacher=teacher(full, school, "S-MIA"),
        note="Mornings are hard",
    )
    client.force_login(school.organiser)
    page = page_text(client.get(reverse("evenings_staff:waiting-lists", args=[full.pk])))
    assert "Ms M Maths" in page and "Amy Ash" in page and "Mornings are hard" in page
    other = upcoming_evening(school, name="Other evening")
    page = page_text(client.get(reverse("evenings_staff:waiting-lists", args=[other.pk])))
    assert "Nobody is on a waiting list for this evening." in page
    client.force_login(school.teacher_user)
    assert client.get(reverse("evenings_staff:waiting-lists", args=[full.pk])).status_code == 403


def test_cancelling_for_an_absent_teacher_wakes_the_waiting_list(school, evening):
    """An absence cancels through the same path as any cancellation: the families
    waiting for that teacher are served with the change, not at the next minute."""
    from django_tasks_db.models import DBTaskResult

    from schoolgate.evenings.tasks import run_waiting_lists

    tasks = DBTaskResult.objects.filter(task_path=run_waiting_lists.module_path)
    cal = fill_mia(school, evening)
    join(school, evening, school.ann, school.amy)
    assert tasks.count() == 0

    absence.mark_absent(
        evening=evening,
        teacher=teacher(evening, school, "S-MIA"),
        actor=school.organiser,
        action="cancel",
        starts_at=london(2026, 3, 10, 16, 0),
        ends_at=london(2026, 3, 10, 16, 10),
        now=NOW,
    )

    cal.refresh_from_db()
    assert cal.status == Appointment.Status.CANCELLED
    assert tasks.count() == 1
