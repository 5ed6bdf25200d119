"""Cancelling and moving appointments: until the cut-off for parents, atomically."""

import pytest
from evenings_school import NOW, book, london, make_evening, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import Clash, NotAllowed, PastCutoff, SlotTaken
from schoolgate.evenings.models import Appointment, ParentCell, ParentRoomCell, SlotClaim
from schoolgate.evenings.setup import services as setup


def test_cancelling_frees_the_slot_and_the_parents_time(school, evening):
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by == school.ann
    assert not SlotClaim.objects.exists()
    assert not ParentCell.objects.exists()
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 0))
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))


def test_cancelling_twice_is_harmless(school, evening):
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED


def test_parents_cannot_cancel_within_the_cut_off_but_staff_can(school):
    evening = make_evening(school, cutoff_hours=24)
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    late = london(2026, 3, 10, 9, 0)
    with pytest.raises(PastCutoff):
        booking.cancel_appointment(appointment=appointment, user=school.ann, now=late)
    booking.cancel_appointment(appointment=appointment, user=school.organiser, now=late)
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED


def test_only_the_parent_it_belongs_to_may_cancel(school, evening):
    (appointment,) = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0)).appointments
    for someone_else in (school.don, school.bea, school.teacher_user):
        with pytest.raises(NotAllowed):
            booking.cancel_appointment(appointment=appointment, user=someone_else, now=NOW)


def test_moving_books_the_new_time_and_cancels_the_old_at_once(school, evening):
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    Appointment.objects.filter(pk=old.pk).update(message="Reading")
    new = booking.move_appointment(
        appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 17, 0), now=NOW
    )
    old.refresh_from_db()
    assert old.status == Appointment.Status.CANCELLED
    assert new.moved_from == old
    assert new.starts_at == london(2026, 3, 10, 17, 0)
    assert new.message == "Reading"
    assert list(SlotClaim.objects.values_list("appointment", flat=True)) == [new.pk]
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))


def test_moving_to_another_teacher(school, evening):
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    new = booking.move_appointment(
        appointment=old,
        user=school.ann,
        teacher=teacher(evening, school, "S-EVE"),
        slot=slot(evening, school, "S-EVE", 16, 0),
        now=NOW,
    )
    assert new.teacher == teacher(evening, school, "S-EVE")


def test_moving_onto_a_taken_slot_changes_nothing(school, evening):
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    book(school, evening, school.bea, (school.cal, "S-MIA", 17, 0))
    with pytest.raises(SlotTaken):
        booking.move_appointment(
            appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 17, 0), now=NOW
        )
    old.refresh_from_db()
    assert old.status == Appointment.Status.CONFIRMED
    assert SlotClaim.objects.filter(appointment=old).exists()
    assert ParentCell.objects.filter(appointment=old).count() == 10


def test_moving_within_ones_own_time_works(school, evening):
    setup.set_class_length(
        evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=20
    )
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    new = booking.move_appointment(
        appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 16, 10), now=NOW
    )
    assert (new.starts_at, new.ends_at) == (
        london(2026, 3, 10, 16, 10),
        london(2026, 3, 10, 16, 30),
    )


def test_moving_keeps_the_travel_gap(school):
    evening = make_evening(school, travel_gap_minutes=5)
    for mis_id, room in (("S-MIA", "M1"), ("S-SAM", "S4")):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room=room
        )
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 30))
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(Clash):
        booking.move_appointment(
            appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 16, 20), now=NOW
        )
    new = booking.move_appointment(
        appointment=old, user=school.ann, slot=slot(evening, school, "S-MIA", 16, 10), now=NOW
    )
    booking.cancel_appointment(appointment=new, user=school.ann, now=NOW)
    # Ben's meeting in S4 keeps its minutes and its walk; Amy's are all gone.
    assert set(ParentRoomCell.objects.values_list("room", flat=True)) == {"s4"}
    assert ParentRoomCell.objects.count() == 15


def test_parents_cannot_move_within_the_cut_off(school):
    evening = make_evening(school, cutoff_hours=2)
    (old,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(PastCutoff):
        booking.move_appointment(
            appointment=old,
            user=school.ann,
            slot=slot(evening, school, "S-MIA", 18, 0),
            now=london(2026, 3, 10, 14, 30),
        )


def test_only_the_parent_it_belongs_to_may_move_it(school, evening):
    (old,) = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0)).appointments
    with pytest.raises(NotAllowed):
        booking.move_appointment(
            appointment=old, user=school.don, slot=slot(evening, school, "S-MIA", 17, 0), now=NOW
        )


def test_staff_move_for_a_parent(school, evening):
    (old,) = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0)).appointments
    new = booking.move_appointment(
        appointment=old,
        user=school.organiser,
        slot=slot(evening, school, "S-MIA", 17, 0),
        now=NOW,
    )
    assert new.parent == school.deb
    assert new.booked_by == school.organiser
