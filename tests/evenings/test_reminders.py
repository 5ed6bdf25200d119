"""Day-before reminders: one email per parent and evening, from 17:00 (school time) on
the day before the evening begins, with the itinerary and an .ics file; exactly once
however many runs or workers, proven with real concurrent connections on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult
from evenings_school import NOW, book, london, make_evening, make_school, slot, teacher
from icalendar import Calendar

from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings import booking
from schoolgate.evenings.comms.notifications import queue_due_reminders
from schoolgate.evenings.models import Evening, ReminderSent
from schoolgate.evenings.tasks import send_day_before_reminders
from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.testing import school_mail_at, smtp_server
from schoolgate.scheduler.registry import run_due_jobs

__all__ = ["smtp_server"]

REMINDER_TIME = london(2026, 3, 9, 17, 0)  # the evening is on Tuesday 10 March


def reminders():
    return list(OutboxMessage.objects.filter(template="evening_reminder").order_by("to"))


def booked_families(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 30))
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 10))


@pytest.mark.django_db
def test_each_parent_gets_one_reminder_with_their_itinerary_and_ics(school, evening):
    booked_families(school, evening)

    assert queue_due_reminders(now=REMINDER_TIME) == 2

    ann, bea = reminders()
    assert (ann.to, bea.to) == ("ann@example.org", "bea@example.org")
    assert ann.subject == "Reminder: Spring parents' evening is tomorrow"
    assert "Amy Ash with Ms M Maths" in ann.body_text
    assert "Ben Ash with Mr S Science" in ann.body_text
    assert "Cal" not in ann.body_text
    [file] = ann.attachments
    assert file["mimetype"] == "text/calendar; method=PUBLISH"
    assert len(Calendar.from_ical(file["content"]).walk("VEVENT")) == 2
    assert ReminderSent.objects.count() == 2


@pytest.mark.django_db
def test_running_again_sends_nothing_more(school, evening):
    booked_families(school, evening)
    queue_due_reminders(now=REMINDER_TIME)
    assert queue_due_reminders(now=REMINDER_TIME + timedelta(minutes=15)) == 0
    assert queue_due_reminders(now=london(2026, 3, 9, 23, 59)) == 0
    assert len(reminders()) == 2


@pytest.mark.django_db
def test_a_parent_who_books_later_that_day_gets_their_reminder_at_the_next_run(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    queue_due_reminders(now=REMINDER_TIME)
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 10), now=REMINDER_TIME)
    assert queue_due_reminders(now=REMINDER_TIME + timedelta(minutes=15)) == 1
    assert [m.to for m in reminders()] == ["ann@example.org", "bea@example.org"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when",
    [
        london(2026, 3, 9, 16, 59),  # the day before, before 17:00
        london(2026, 3, 8, 17, 0),  # two days before
        london(2026, 3, 10, 9, 0),  # the day itself
        london(2026, 3, 10, 17, 0),
        london(2026, 3, 11, 17, 0),  # after
    ],
)
def test_no_reminder_on_other_days_or_before_the_hour(school, evening, when):
    booked_families(school, evening)
    assert queue_due_reminders(now=when) == 0
    assert reminders() == []


@pytest.mark.django_db
def test_no_reminder_when_the_setting_is_off(school, evening):
    booked_families(school, evening)
    addon_settings = get_addon_settings()
    addon_settings.day_before_reminders = False
    addon_settings.save()
    assert queue_due_reminders(now=REMINDER_TIME) == 0
    assert reminders() == []
    assert not ReminderSent.objects.exists()


@pytest.mark.django_db
def test_no_reminder_for_cancelled_appointments_or_unconfirmed_holds(school, evening):
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    booking.hold_slots(
        parent=school.bea,
        evening=evening,
        choices=[
            (school.cal, teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0))
        ],
        now=REMINDER_TIME - timedelta(seconds=30),
    )
    assert queue_due_reminders(now=REMINDER_TIME) == 0
    assert reminders() == []


@pytest.mark.django_db
def test_cancelled_appointments_are_left_out_of_the_itinerary(school, evening):
    kept, dropped = book(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 30)
    ).appointments
    booking.cancel_appointment(appointment=dropped, user=school.ann, now=NOW)
    queue_due_reminders(now=REMINDER_TIME)
    [ann] = reminders()
    assert "Ben Ash" not in ann.body_text
    assert len(Calendar.from_ical(ann.attachments[0]["content"]).walk("VEVENT")) == 1


@pytest.mark.django_db
def test_draft_evenings_get_no_reminder(school, evening):
    booked_families(school, evening)
    Evening.objects.filter(pk=evening.pk).update(status=Evening.Status.DRAFT)
    assert queue_due_reminders(now=REMINDER_TIME) == 0


@pytest.mark.django_db
def test_shared_meetings_remind_the_other_parent_too(school, evening):
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    queue_due_reminders(now=REMINDER_TIME)
    assert [m.to for m in reminders()] == ["deb@example.org", "don@example.org"]


@pytest.mark.django_db
def test_a_multi_day_evening_is_reminded_before_its_first_day_only(school):
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0)),
            (london(2026, 3, 12, 16, 0), london(2026, 3, 12, 19, 0)),
        ],
    )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    assert queue_due_reminders(now=london(2026, 3, 11, 17, 0)) == 0
    assert queue_due_reminders(now=REMINDER_TIME) == 1


@pytest.mark.django_db
def test_an_evening_right_after_the_clocks_go_forward_is_reminded_the_day_before(school):
    evening = make_evening(
        school,
        days=[(london(2026, 3, 30, 16, 0), london(2026, 3, 30, 19, 0))],
        booking_closes=london(2026, 3, 30, 12, 0),
    )
    mia = teacher(evening, school, "S-MIA")
    first = evening.slots.filter(teacher=mia).order_by("starts_at").first()
    booking.book_slots(
        parent=school.bea, evening=evening, choices=[(school.cal, mia, first)], now=NOW
    )
    # 17:00 on Sunday 29 March is 16:00 UTC (BST began at 01:00 that morning).
    assert queue_due_reminders(now=london(2026, 3, 29, 16, 59)) == 0
    assert queue_due_reminders(now=london(2026, 3, 29, 17, 0)) == 1
    [message] = reminders()
    assert "Monday 30 March 2026, 16:00 to 16:10" in message.body_text


@pytest.mark.django_db
def test_the_scheduler_enqueues_one_task_per_slot_and_the_task_queues_the_reminders(
    school, evening
):
    booked_families(school, evening)
    tasks = DBTaskResult.objects.filter(task_path=send_day_before_reminders.module_path)
    assert "evenings.day_before_reminders" in run_due_jobs(REMINDER_TIME)
    assert "evenings.day_before_reminders" not in run_due_jobs(REMINDER_TIME)
    assert tasks.count() == 1

    # What a worker runs, twice (at reminder time): two reminders, not four.
    assert send_day_before_reminders.call(at=REMINDER_TIME.isoformat()) == 2
    assert send_day_before_reminders.call(at=REMINDER_TIME.isoformat()) == 0
    assert len(reminders()) == 2


@pytest.mark.django_db
def test_the_reminder_arrives_with_its_ics(school, evening, smtp_server):
    school_mail_at(smtp_server)
    booked_families(school, evening)
    OutboxMessage.objects.all().delete()  # the confirmations
    queue_due_reminders(now=REMINDER_TIME)

    assert sending.drain()["sent"] == 2

    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    [part] = list(received["ann@example.org"].message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert len(Calendar.from_ical(part.get_content()).walk("VEVENT")) == 2


# --- on PostgreSQL: real concurrent workers ---------------------------------------


def race(jobs):
    results = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index, job):
        try:
            start.wait()
            results[index] = job()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="races need concurrent writers; SQLite runs one writer at a time",
)
def test_concurrent_workers_queue_exactly_one_reminder_per_parent_and_evening():
    school = make_school(extra_families=12)
    evening = make_evening(school)
    for index, (parent, child) in enumerate(school.racers()):
        booking.book_slots(
            parent=parent,
            evening=evening,
            choices=[
                (
                    child,
                    teacher(evening, school, "S-MIA"),
                    slot(evening, school, "S-MIA", 17 + index // 6, (index % 6) * 10),
                )
            ],
            now=NOW,
        )
    booked_families(school, evening)
    OutboxMessage.objects.all().delete()

    results = race([lambda: queue_due_reminders(now=REMINDER_TIME)] * 6)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 14
    by_parent = {}
    for message in reminders():
        by_parent[message.to] = by_parent.get(message.to, 0) + 1
    assert len(by_parent) == 14
    assert set(by_parent.values()) == {1}
    assert ReminderSent.objects.count() == 14
    # And once more, sequentially: nothing.
    assert queue_due_reminders(now=REMINDER_TIME) == 0
