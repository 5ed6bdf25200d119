"""A teacher's absence: the engine's transfer, then `absence.mark_absent` (cancel or
transfer the appointments, block the time, record the outcome) and the organiser's
page. Emails are asserted on the outbox rows."""

import pytest
from evenings_school import NOW, book, london, make_evening, slot, teacher

from schoolgate.evenings import booking, setup
from schoolgate.evenings.errors import AlreadyBooked, NotAllowed, SlotUnavailable
from schoolgate.evenings.models import Appointment, SlotClaim
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def emails(template=None):
    found = OutboxMessage.objects.order_by("pk")
    if template:
        found = found.filter(template=template)
    return list(found)


def add_sue(school, evening):
    return setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-SUE"])


# --- the engine: transfer_appointment -------------------------------------------


def test_transfer_keeps_the_time_with_the_other_teacher_and_emails_the_change(school, evening):
    [old] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    sue = add_sue(school, evening)
    OutboxMessage.objects.all().delete()

    new = booking.transfer_appointment(appointment=old, teacher=sue, user=school.organiser, now=NOW)

    old.refresh_from_db()
    assert old.status == Appointment.Status.CANCELLED
    assert (new.teacher, new.starts_at, new.ends_at) == (sue, old.starts_at, old.ends_at)
    assert new.status == Appointment.Status.CONFIRMED and new.moved_from == old
    assert SlotClaim.objects.get(slot=slot(evening, school, "S-SUE", 16, 0)).appointment == new
    assert not SlotClaim.objects.filter(slot=slot(evening, school, "S-MIA", 16, 0)).exists()
    [message] = emails()
    assert (message.to, message.template) == ("ann@example.org", "evening_changed")
    assert "Ms M Maths cannot be there, so another teacher will see you" in message.body_text
    assert "Amy Ash with Ms S Senco" in message.body_text


def test_transfer_works_after_booking_closed_and_within_the_cutoff(school):
    evening = make_evening(school, cutoff_hours=48)
    [old] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    sue = add_sue(school, evening)
    late = london(2026, 3, 10, 14, 0)  # booking closed at noon

    new = booking.transfer_appointment(
        appointment=old, teacher=sue, user=school.organiser, now=late
    )

    assert new.teacher == sue


def test_transfer_refuses_a_busy_teacher_and_changes_nothing(school, evening):
    [old] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    book(school, evening, school.bea, (school.cal, "S-TOM", 16, 0))
    with pytest.raises(Exception) as refused:
        booking.transfer_appointment(
            appointment=old,
            teacher=teacher(evening, school, "S-TOM"),
            user=school.organiser,
            now=NOW,
        )
    assert refused.value.code == "slot_taken"
    old.refresh_from_db()
    assert old.status == Appointment.Status.CONFIRMED
    assert SlotClaim.objects.get(slot=slot(evening, school, "S-MIA", 16, 0)).appointment == old


def test_transfer_refuses_when_the_pupil_already_meets_that_teacher(school, evening):
    [old, _tutor] = book(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.amy, "S-TOM", 16, 30)
    ).appointments
    with pytest.raises(AlreadyBooked):
        booking.transfer_appointment(
            appointment=old,
            teacher=teacher(evening, school, "S-TOM"),
            user=school.organiser,
            now=NOW,
        )


def test_transfer_refuses_a_time_the_teacher_does_not_have(school, evening):
    [old] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    sue = setup.add_teacher(
        evening=evening, actor=school.organiser, staff=school.staff["S-SUE"], slot_minutes=20
    )
    # Sue's appointments last 20 minutes: none runs from 16:00 to 16:10.
    with pytest.raises(SlotUnavailable) as refused:
        booking.transfer_appointment(appointment=old, teacher=sue, user=school.organiser, now=NOW)
    assert refused.value.message == "Ms S Senco has no appointment time from 16:00 to 16:10."
    old.refresh_from_db()
    assert old.status == Appointment.Status.CONFIRMED


def test_only_staff_may_transfer(school, evening):
    [old] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    sue = add_sue(school, evening)
    for user in (school.ann, school.teacher_user):
        with pytest.raises(NotAllowed):
            booking.transfer_appointment(appointment=old, teacher=sue, user=user, now=NOW)
