"""Confirmation, change and cancellation emails: queued with the booking (same
transaction), one per person per action, with the itinerary and an .ics file, to the
parent concerned and, for shared meetings, to the other parents who may see the pupil.
Delivery through the real SMTP server of schoolgate.outbox.testing."""

import pytest
from django.conf import settings
from django.db import transaction
from evenings_school import NOW, book, make_evening, slot, teacher
from icalendar import Calendar

from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import SlotTaken
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher
from schoolgate.outbox import sending
from schoolgate.outbox.models import OutboxMessage
from schoolgate.outbox.testing import school_mail_at, smtp_server

__all__ = ["smtp_server"]

pytestmark = pytest.mark.django_db


def emails(to=None, template=None):
    found = OutboxMessage.objects.order_by("pk")
    if to:
        found = found.filter(to=to)
    if template:
        found = found.filter(template=template)
    return list(found)


def ics_of(message: OutboxMessage) -> Calendar:
    [file] = message.attachments
    assert file["filename"].endswith(".ics")
    return Calendar.from_ical(file["content"])


def test_confirming_a_hold_queues_one_email_for_all_its_appointments(school, evening):
    hold = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            (school.amy, teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0)),
            (school.ben, teacher(evening, school, "S-SAM"), slot(evening, school, "S-SAM", 16, 20)),
        ],
        now=NOW,
    )
    assert emails() == []  # a hold is not a booking

    booking.confirm_hold(hold=hold, parent=school.ann, now=NOW)

    [message] = emails()
    assert message.to == "ann@example.org"
    assert message.template == "evening_booked"
    assert message.subject == "Appointments confirmed: Spring parents' evening"
    text = message.body_text
    assert "Tuesday 10 March 2026, 16:00 to 16:10" in text
    assert "Amy Ash with Ms M Maths, Maths (7 Maths)" in text
    assert "Ben Ash with Mr S Science, Science (9 Science)" in text
    assert "16:20 to 16:30" in text
    events = ics_of(message).walk("VEVENT")
    assert len(events) == 2
    assert ics_of(message)["METHOD"] == "PUBLISH"
    # Confirming again (a double click) sends nothing more.
    booking.confirm_hold(hold=hold, parent=school.ann, now=NOW)
    assert len(emails()) == 1


def test_times_in_the_email_are_the_schools_in_summer_time(school):
    evening = make_evening(
        school,
        days=[(_london(2026, 6, 10, 16, 0), _london(2026, 6, 10, 19, 0))],
        booking_closes=_london(2026, 6, 10, 12, 0),
    )
    [appointment] = booking.book_slots(
        parent=school.bea,
        evening=evening,
        choices=[
            (
                school.cal,
                teacher(evening, school, "S-MIA"),
                evening.slots.get(
                    teacher=teacher(evening, school, "S-MIA"),
                    starts_at=_london(2026, 6, 10, 17, 30),
                ),
            )
        ],
        now=NOW,
    ).appointments
    [message] = emails()
    assert "Wednesday 10 June 2026, 17:30 to 17:40" in message.body_text
    [event] = ics_of(message).walk("VEVENT")
    assert event.decoded("DTSTART") == appointment.starts_at
    assert event["DTSTART"].to_ical() == b"20260610T163000Z"


def test_the_room_or_the_video_link_is_in_the_email(school):
    evening = make_evening(school, mode=Evening.Mode.BOTH)
    EveningTeacher.objects.filter(evening=evening, staff=school.staff["S-MIA"]).update(
        room="S12", video_link="https://meet.example.org/maths"
    )
    EveningTeacher.objects.filter(evening=evening, staff=school.staff["S-EVE"]).update(room="E4")
    booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[
            booking.Choice(
                school.amy,
                teacher(evening, school, "S-MIA"),
                slot(evening, school, "S-MIA", 16, 0),
                Appointment.Method.VIDEO,
            ),
            booking.Choice(
                school.amy,
                teacher(evening, school, "S-EVE"),
                slot(evening, school, "S-EVE", 16, 30),
                Appointment.Method.IN_PERSON,
            ),
        ],
        now=NOW,
    )
    [message] = emails()
    # The appointment's own call page (docs/video.md), never the teacher's fixed link.
    video_appointment = Appointment.objects.get(method=Appointment.Method.VIDEO)
    call = (
        f"{settings.SITE_URL.rstrip('/')}/parents/evenings/{evening.pk}"
        f"/appointments/{video_appointment.pk}/call/"
    )
    assert f"Video meeting: {call}" in message.body_text
    assert "meet.example.org/maths" not in message.body_text
    assert "Room: E4" in message.body_text
    assert "Room: S12" not in message.body_text  # a video meeting has no room
    by_teacher = {str(e["SUMMARY"]): e for e in ics_of(message).walk("VEVENT")}
    video = by_teacher["Amy Ash: appointment with Ms M Maths"]
    assert str(video["LOCATION"]) == call
    assert str(video["URL"]) == call
    assert str(by_teacher["Amy Ash: appointment with Dr E English"]["LOCATION"]) == "E4"


def test_staff_booking_for_a_parent_emails_the_parent_saying_the_school_booked(school, evening):
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0), actor=school.organiser)

    [message] = emails()
    assert message.to == "bea@example.org"
    assert "has booked these appointments" in message.body_text
    assert not emails(to="office@school.example")


def test_shared_meetings_also_tell_the_other_parent_without_naming_who_booked(school, evening):
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))

    deb, don = emails(to="deb@example.org"), emails(to="don@example.org")
    assert len(deb) == 1 and len(don) == 1
    assert "are confirmed" in deb[0].body_text
    assert "have been booked for your child" in don[0].body_text
    assert "Deb" not in don[0].body_text and "deb@" not in don[0].body_text
    assert don[0].subject == "Appointments booked for your child: Spring parents' evening"
    assert len(ics_of(don[0]).walk("VEVENT")) == 1
    # Nobody else hears of it.
    assert {m.to for m in emails()} == {"deb@example.org", "don@example.org"}


def test_separate_meetings_tell_only_the_parent_concerned(school):
    evening = make_evening(school, split_families=Evening.SplitFamilies.SEPARATE)
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    assert [m.to for m in emails()] == ["deb@example.org"]


def test_a_parent_who_lost_access_is_not_told(school, evening):
    from schoolgate.mis.models import PupilContact

    PupilContact.objects.filter(contact__mis_id="C-DON").update(parental_responsibility=False)
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    assert [m.to for m in emails()] == ["deb@example.org"]


def test_moving_sends_a_change_with_the_same_uid_and_a_higher_sequence(school, evening):
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    [first] = emails()
    new = booking.move_appointment(
        appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 17, 0), now=NOW
    )
    [change] = emails(template="evening_changed")
    assert change.subject == "Appointment changed: Spring parents' evening"
    now_part, before_part = change.body_text.split("Instead of:")
    assert "17:00 to 17:10" in now_part and "16:00 to 16:10" in before_part
    [booked_event] = ics_of(first).walk("VEVENT")
    [moved_event] = ics_of(change).walk("VEVENT")
    assert moved_event["UID"] == booked_event["UID"]
    assert moved_event["SEQUENCE"] == booked_event["SEQUENCE"] + 1
    assert moved_event.decoded("DTSTART") == new.starts_at
    # A second move keeps the UID and goes one higher again.
    booking.move_appointment(
        appointment=new, user=school.ann, slot=slot(evening, school, "S-MIA", 18, 0), now=NOW
    )
    [_first, second] = emails(template="evening_changed")
    [again] = ics_of(second).walk("VEVENT")
    assert again["UID"] == booked_event["UID"] and again["SEQUENCE"] == 2
    assert len(emails()) == 3


def test_cancelling_sends_method_cancel_with_the_same_uid(school, evening):
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    [first] = emails()
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)  # again

    [message] = emails(template="evening_cancelled")
    assert message.subject == "Appointment cancelled: Spring parents' evening"
    assert "is cancelled" in message.body_text
    cal = ics_of(message)
    assert cal["METHOD"] == "CANCEL"
    [event] = cal.walk("VEVENT")
    [booked] = ics_of(first).walk("VEVENT")
    assert event["UID"] == booked["UID"]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] > booked["SEQUENCE"]
    assert message.attachments[0]["mimetype"] == "text/calendar; method=CANCEL"


def test_staff_cancelling_tells_the_parent_the_school_cancelled(school, evening):
    (appointment,) = book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0)).appointments
    booking.cancel_appointment(appointment=appointment, user=school.organiser, now=NOW)
    [message] = emails(template="evening_cancelled")
    assert message.to == "bea@example.org"
    assert "has cancelled this appointment" in message.body_text


def test_a_refused_booking_queues_nothing(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(SlotTaken):
        book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    assert [m.to for m in emails()] == ["ann@example.org"]


@pytest.mark.django_db(transaction=True)
def test_a_booking_is_its_own_transaction_and_leaves_no_email_when_refused(school, evening):
    """A booking is one durable transaction (docs/architecture.md rule 10): it cannot
    run inside a caller's transaction, so it never commits half of a larger change."""
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    assert emails() == []
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_hold_made_as_a_step_rolls_back_with_the_callers_transaction(school, evening):
    mia = teacher(evening, school, "S-MIA")
    with pytest.raises(RuntimeError, match="caller fails"), transaction.atomic():
        booking.hold_slots(
            parent=school.ann,
            evening=evening,
            choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0))],
            now=NOW,
            step=True,
        )
        assert Appointment.objects.count() == 1
        raise RuntimeError("the caller fails after holding")
    assert not Appointment.objects.exists()


def test_the_email_arrives_with_its_ics_as_text_calendar(school, evening, smtp_server):
    school_mail_at(smtp_server)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))

    assert sending.drain()["sent"] == 1

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["ann@example.org"]
    assert "Amy Ash with Ms M Maths" in received.part("text/plain")
    assert "Amy Ash with Ms M Maths" in received.part("text/html")
    [part] = list(received.message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH"
    assert part.get_filename() == "spring-parents-evening.ics"
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert event["DTSTART"].to_ical() == b"20260310T160000Z"


def _london(*args):
    from evenings_school import london

    return london(*args)
