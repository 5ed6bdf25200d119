"""Waiting lists: a family joins a full teacher's list with a note and can leave it;
when a slot frees up the first family waiting is offered it (a hold in their name for
the evening's waiting_offer_hours, and an email); an offer taken is booked, one not
taken lapses and the next family is offered the slot. The scheduled job offers each
freed slot once, to one family, with one email, however often and however many
workers run it. Emails are asserted on the outbox rows."""

from datetime import timedelta

import pytest
from evenings_school import NOW, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, Hold

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
