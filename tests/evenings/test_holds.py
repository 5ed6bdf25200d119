"""Holds: chosen slots are kept for a parent while they confirm, then free themselves."""

from datetime import timedelta

import pytest
from evenings_school import NOW, book, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import free_starts
from schoolgate.evenings.booking.errors import HoldExpired, NotAllowed, OutsideWindow, SlotTaken
from schoolgate.evenings.models import Appointment, Hold, ParentCell, SlotClaim
from schoolgate.mis.models import PupilContact

LATER = NOW + timedelta(seconds=121)


def hold(school, evening, parent, *choices, now=NOW, **kwargs):
    resolved = [
        (pupil, teacher(evening, school, mis_id), slot(evening, school, mis_id, h, m))
        for pupil, mis_id, h, m in choices
    ]
    return booking.hold_slots(parent=parent, evening=evening, choices=resolved, now=now, **kwargs)


def test_held_slots_are_unavailable_to_others(school, evening):
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    assert held.expires_at == NOW + timedelta(seconds=120)
    with pytest.raises(SlotTaken):
        book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    mia = teacher(evening, school, "S-MIA")
    assert slot(evening, school, "S-MIA", 16, 0) not in free_starts(
        evening=evening, teacher=mia, now=NOW
    )


def test_confirming_turns_a_hold_into_appointments_with_a_message(school, evening):
    held = hold(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 10)
    )
    confirmed = booking.confirm_hold(
        hold=held, parent=school.ann, message="Her times tables", now=NOW + timedelta(seconds=90)
    )
    assert [a.status for a in confirmed] == [Appointment.Status.CONFIRMED] * 2
    assert {a.message for a in Appointment.objects.all()} == {"Her times tables"}
    assert all(a.expires_at is None for a in Appointment.objects.all())


def test_one_message_per_teacher(school, evening):
    held = hold(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 10)
    )
    maths = Appointment.objects.get(teacher__staff__mis_id="S-MIA")
    booking.confirm_hold(hold=held, parent=school.ann, messages={maths.pk: "Fractions"}, now=NOW)
    assert dict(Appointment.objects.values_list("teacher__staff__mis_id", "message")) == {
        "S-MIA": "Fractions",
        "S-SAM": "",
    }


def test_an_expired_hold_frees_itself_for_the_next_booking(school, evening):
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    mia = teacher(evening, school, "S-MIA")
    assert slot(evening, school, "S-MIA", 16, 0) in free_starts(
        evening=evening, teacher=mia, now=LATER
    )
    (taken,) = book(
        school, evening, school.bea, (school.cal, "S-MIA", 16, 0), now=LATER
    ).appointments
    assert (
        SlotClaim.objects.get(slot__starts_at=taken.starts_at, slot__teacher=mia).appointment
        == taken
    )
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()


def test_a_parents_own_expired_hold_does_not_block_them(school, evening):
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    # Same pupil and teacher, same parent time: all cleared once the hold has expired.
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=LATER)
    assert Appointment.objects.get().status == Appointment.Status.CONFIRMED


def test_an_expired_hold_cannot_be_confirmed(school, evening):
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(HoldExpired):
        booking.confirm_hold(hold=held, parent=school.ann, now=LATER)


def test_a_new_hold_replaces_the_parents_earlier_one(school, evening):
    first = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 30))
    assert Appointment.objects.get().starts_at == slot(evening, school, "S-MIA", 16, 30).starts_at
    with pytest.raises(HoldExpired):
        booking.confirm_hold(hold=first, parent=school.ann, now=NOW)
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))


def test_another_parent_cannot_confirm_my_hold(school, evening):
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(NotAllowed):
        booking.confirm_hold(hold=held, parent=school.bea, now=NOW)


def test_confirming_checks_access_again(school, evening):
    held = hold(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    PupilContact.objects.filter(contact__mis_id="C-DEB").update(parental_responsibility=False)
    with pytest.raises(NotAllowed):
        booking.confirm_hold(hold=held, parent=school.deb, now=NOW)


def test_confirming_after_booking_closes_is_refused(school, evening):
    held = hold(
        school,
        evening,
        school.ann,
        (school.amy, "S-MIA", 16, 0),
        now=evening.booking_closes - timedelta(seconds=30),
    )
    with pytest.raises(OutsideWindow):
        booking.confirm_hold(hold=held, parent=school.ann, now=evening.booking_closes)


def test_confirming_twice_is_harmless(school, evening):
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    first = booking.confirm_hold(hold=held, parent=school.ann, now=NOW)
    again = booking.confirm_hold(hold=held, parent=school.ann, now=NOW)
    assert first == again


def test_releasing_a_hold_gives_the_slots_back(school, evening):
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    assert booking.release_hold(hold=held, user=school.ann, now=NOW) == 1
    assert not SlotClaim.objects.exists()
    assert not ParentCell.objects.exists()
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))


def test_the_clean_up_deletes_expired_holds_only(school, evening):
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    hold(
        school, evening, school.bea, (school.cal, "S-MIA", 16, 10), now=NOW + timedelta(seconds=60)
    )
    assert booking.release_expired_holds(now=LATER) == 1
    assert list(Appointment.objects.values_list("parent__email", flat=True)) == ["bea@example.org"]
    assert SlotClaim.objects.count() == 1
    assert Hold.objects.count() == 1


def test_the_hold_length_is_a_setting(school, evening, settings):
    settings.HOLD_SECONDS = 600
    held = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    assert held.expires_at == NOW + timedelta(seconds=600)


# --- bounded holds: one per family per evening, never past the first choice's end ---


def test_reposting_the_same_choice_refreshes_the_hold_and_adds_no_rows(school, evening):
    first = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    again = hold(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=NOW + timedelta(seconds=100)
    )
    assert again.pk == first.pk
    assert Hold.objects.count() == 1
    (held,) = Appointment.objects.all()
    assert held.hold_id == first.pk
    assert held.expires_at == NOW + timedelta(seconds=120)
    booking.confirm_hold(hold=again, parent=school.ann, now=NOW + timedelta(seconds=110))
    assert Appointment.objects.get().status == Appointment.Status.CONFIRMED


def test_choosing_again_never_holds_past_two_minutes_from_the_first_choice(school, evening):
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 30))
    # Every 100 seconds the parent re-chooses (the same times, or one of them moved).
    for seconds, minute in ((100, 0), (110, 10)):
        latest = hold(
            school,
            evening,
            school.ann,
            (school.amy, "S-MIA", 16, minute),
            (school.ben, "S-SAM", 16, 30),
            now=NOW + timedelta(seconds=seconds),
        )
        assert latest.expires_at == NOW + timedelta(seconds=120)
    assert Hold.objects.count() == 1
    assert set(Appointment.objects.values_list("expires_at", flat=True)) == {
        NOW + timedelta(seconds=120)
    }
    # Past two minutes another family may take the times the parent kept re-choosing.
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 10), now=LATER)
    with pytest.raises(HoldExpired):
        booking.confirm_hold(hold=latest, parent=school.ann, now=LATER)


def test_one_hold_row_per_family_per_evening(school, evening):
    for n in range(6):
        hold(
            school,
            evening,
            school.ann,
            (school.amy, "S-MIA", 16, 10 * (n % 2)),
            now=NOW + timedelta(seconds=15 * n),
        )
    hold(school, evening, school.bea, (school.cal, "S-MIA", 17, 0))
    assert sorted(Hold.objects.values_list("parent__email", flat=True)) == [
        "ann@example.org",
        "bea@example.org",
    ]
    assert Appointment.objects.filter(parent=school.ann).count() == 1


def test_a_hold_after_the_last_one_ran_out_gets_its_own_two_minutes(school, evening):
    hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    later = hold(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=LATER)
    assert later.expires_at == LATER + timedelta(seconds=120)
    assert Hold.objects.count() == 1
