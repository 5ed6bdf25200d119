"""Explaining a refusal: which rule a unique violation broke, with the rows in the way."""

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from schoolgate.evenings.booking.errors import (
    AlreadyBooked,
    Clash,
    SlotTaken,
    SlotUnavailable,
)
from schoolgate.evenings.models import (
    Appointment,
    EveningTeacher,
    SlotClaim,
)
from schoolgate.evenings.planning import planner


def already_booked_refusal(evening, parent, wanted, family_key) -> AlreadyBooked:
    query = Q()
    for w in wanted:
        query |= Q(pupil_id=w.pupil_id, teacher_id=w.teacher.pk)
    existing = list(
        Appointment.objects.filter(
            query,
            evening=evening,
            family_key=family_key,
            status__in=Appointment.LIVE,
        ).select_related("parent", "teacher__staff", "pupil")
    )
    return AlreadyBooked(
        _(
            "This pupil already has an appointment with this teacher at this evening; "
            "everyone with access to the pupil can see it."
        ),
        appointments=existing,
    )


def slot_taken_refusal(slot_ids) -> SlotTaken | SlotUnavailable:
    claims = list(SlotClaim.objects.filter(slot_id__in=slot_ids).select_related("slot", "brk"))
    if any(c.brk_id for c in claims) and not any(c.appointment_id for c in claims):
        return SlotUnavailable(
            _("That time is in the teacher's break."), slots=[c.slot for c in claims]
        )
    return SlotTaken(
        _("Sorry, someone else has just taken that time. Please choose another."),
        slots=[c.slot for c in claims],
    )


def clash_refusal(evening, parent, new_appointments) -> Clash:
    gap = timedelta(minutes=evening.travel_gap_minutes)
    new_ids = {a.pk for a in new_appointments}
    existing = (
        Appointment.objects.filter(evening=evening, parent=parent, status__in=Appointment.LIVE)
        .exclude(pk__in=new_ids)
        .select_related("teacher__staff", "pupil")
    )
    clashes = [
        old
        for old in existing
        if any(
            not planner.apart(busy_span_of(old), busy_span_of(new), gap=gap)
            for new in new_appointments
        )
    ]
    return Clash(
        _(
            "This time clashes with another of your appointments (travel time between "
            "rooms included)."
        ),
        clashes=clashes,
    )


def busy_span(starts_at, ends_at, teacher: EveningTeacher, method: str) -> planner.Busy:
    return planner.Busy(
        starts_at, ends_at, room=teacher.room, in_person=method == Appointment.Method.IN_PERSON
    )


def busy_span_of(appointment: Appointment) -> planner.Busy:
    return busy_span(
        appointment.starts_at, appointment.ends_at, appointment.teacher, appointment.method
    )
