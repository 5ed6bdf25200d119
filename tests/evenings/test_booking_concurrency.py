"""Real concurrent bookings on PostgreSQL: threads, each with its own connection,
released together by a barrier. Whatever the interleaving, the rules hold.

SQLite runs one writer at a time (IMMEDIATE transactions), so there is nothing to race
there; these tests need PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from evenings_school import NOW, london, make_evening, make_school, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import (
    AlreadyBooked,
    BookingError,
    ChangeRefused,
    Clash,
    LimitReached,
    SlotTaken,
    SlotUnavailable,
)
from schoolgate.evenings.models import Appointment, ParentCell, SlotClaim
from schoolgate.evenings.setup import services as setup

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need concurrent writers; SQLite runs one writer at a time",
    ),
]


def race(*jobs):
    """Run each job in its own thread with its own connection, all released at once.

    Returns each job's result or the exception it raised, in order."""
    results = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(index, job):
        try:
            start.wait()
            results[index] = job()
        except Exception as error:  # reported by the test, not lost in the thread
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcomes(results) -> list[str]:
    return sorted(type(r).__name__ if isinstance(r, Exception) else "booked" for r in results)


def booker(parent, evening, pupil, teacher_, slot_, **kwargs):
    return lambda: booking.book_slots(
        parent=parent, evening=evening, choices=[(pupil, teacher_, slot_)], now=NOW, **kwargs
    )


def test_twenty_parents_racing_for_one_slot_make_one_booking():
    school = make_school(extra_families=20)
    evening = make_evening(school)
    mia, contested = teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0)
    results = race(
        *(booker(parent, evening, child, mia, contested) for parent, child in school.racers())
    )
    assert outcomes(results) == ["SlotTaken"] * 19 + ["booked"]
    assert Appointment.objects.count() == 1
    assert SlotClaim.objects.count() == 1


def test_twenty_holds_racing_for_one_slot_make_one_hold():
    school = make_school(extra_families=20)
    evening = make_evening(school)
    mia, contested = teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0)
    results = race(
        *(
            lambda parent=parent, child=child: booking.hold_slots(
                parent=parent, evening=evening, choices=[(child, mia, contested)], now=NOW
            )
            for parent, child in school.racers()
        )
    )
    assert outcomes(results).count("SlotTaken") == 19
    assert Appointment.objects.filter(status=Appointment.Status.HELD).count() == 1


@pytest.mark.parametrize("gap", [0, 5])
def test_one_parent_is_never_booked_in_two_places_at_once(gap):
    school = make_school()
    evening = make_evening(school, travel_gap_minutes=gap)
    for mis_id, room in (("S-MIA", "M1"), ("S-SAM", "S4")):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room=room
        )
    mia, sam = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-SAM")
    for hour, minute in ((16, 0), (16, 30), (17, 0), (17, 30), (18, 0)):
        # Same time, or (with the gap) back to back in two rooms: never both.
        sam_minute = minute + (10 if gap else 0)
        results = race(
            booker(
                school.ann, evening, school.amy, mia, slot(evening, school, "S-MIA", hour, minute)
            ),
            booker(
                school.ann,
                evening,
                school.ben,
                sam,
                slot(evening, school, "S-SAM", hour, sam_minute),
            ),
        )
        assert outcomes(results) == ["Clash", "booked"], results
        for appointment in Appointment.objects.filter(status=Appointment.Status.CONFIRMED):
            booking.cancel_appointment(appointment=appointment, user=school.ann, now=NOW)
    assert not ParentCell.objects.exists()


def test_two_parents_of_one_pupil_make_one_meeting_with_a_teacher():
    school = make_school()
    evening = make_evening(school)
    mia = teacher(evening, school, "S-MIA")
    results = race(
        booker(school.deb, evening, school.dan, mia, slot(evening, school, "S-MIA", 16, 0)),
        booker(school.don, evening, school.dan, mia, slot(evening, school, "S-MIA", 17, 0)),
    )
    assert outcomes(results) == ["AlreadyBooked", "booked"]


def test_a_parents_limit_holds_under_a_race():
    school = make_school()
    evening = make_evening(school, max_per_parent=1)
    results = race(
        booker(
            school.ann,
            evening,
            school.amy,
            teacher(evening, school, "S-MIA"),
            slot(evening, school, "S-MIA", 16, 0),
        ),
        booker(
            school.ann,
            evening,
            school.ben,
            teacher(evening, school, "S-SAM"),
            slot(evening, school, "S-SAM", 17, 0),
        ),
    )
    assert outcomes(results) == ["LimitReached", "booked"]


def test_a_pupils_limit_holds_when_both_parents_race():
    school = make_school()
    evening = make_evening(school, max_per_pupil=1)
    results = race(
        booker(
            school.deb,
            evening,
            school.dan,
            teacher(evening, school, "S-MIA"),
            slot(evening, school, "S-MIA", 16, 0),
        ),
        booker(
            school.don,
            evening,
            school.dan,
            teacher(evening, school, "S-EVE"),
            slot(evening, school, "S-EVE", 17, 0),
        ),
    )
    assert outcomes(results) == ["LimitReached", "booked"]


def test_racing_for_a_slot_whose_hold_expired_makes_one_booking():
    school = make_school(extra_families=6)
    evening = make_evening(school)
    mia, contested = teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 16, 0)
    (first, first_child), *others = school.racers()
    booking.hold_slots(
        parent=first, evening=evening, choices=[(first_child, mia, contested)], now=NOW
    )
    later = NOW + timedelta(minutes=5)
    results = race(
        *(
            lambda parent=parent, child=child: booking.book_slots(
                parent=parent, evening=evening, choices=[(child, mia, contested)], now=later
            )
            for parent, child in others
        )
    )
    assert outcomes(results) == ["SlotTaken"] * 4 + ["booked"]
    assert list(Appointment.objects.values_list("status", flat=True)) == ["confirmed"]
    assert not ParentCell.objects.filter(parent=first).exists()


def test_two_moves_onto_one_free_slot_make_one_and_keep_the_other_where_it_was():
    school = make_school()
    evening = make_evening(school)
    mia = teacher(evening, school, "S-MIA")
    (amy,) = booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0))],
        now=NOW,
    ).appointments
    (cal,) = booking.book_slots(
        parent=school.bea,
        evening=evening,
        choices=[(school.cal, mia, slot(evening, school, "S-MIA", 16, 10))],
        now=NOW,
    ).appointments
    target = slot(evening, school, "S-MIA", 18, 0)
    results = race(
        lambda: booking.move_appointment(appointment=amy, user=school.ann, slot=target, now=NOW),
        lambda: booking.move_appointment(appointment=cal, user=school.bea, slot=target, now=NOW),
    )
    assert outcomes(results) == ["SlotTaken", "booked"]
    live = Appointment.objects.filter(status=Appointment.Status.CONFIRMED)
    assert sorted(a.starts_at for a in live) in (
        [london(2026, 3, 10, 16, 0), london(2026, 3, 10, 18, 0)],
        [london(2026, 3, 10, 16, 10), london(2026, 3, 10, 18, 0)],
    )


def test_a_break_and_a_booking_racing_for_one_slot_never_both_win():
    school = make_school()
    evening = make_evening(school)
    mia, contested = teacher(evening, school, "S-MIA"), slot(evening, school, "S-MIA", 17, 0)
    for _round in range(3):
        results = race(
            booker(school.ann, evening, school.amy, mia, contested),
            lambda: setup.add_break(
                evening=evening,
                actor=school.organiser,
                starts_at=london(2026, 3, 10, 17, 0),
                ends_at=london(2026, 3, 10, 17, 10),
                teachers=[mia],
                now=NOW,
            ),
        )
        booked, broke = (not isinstance(r, Exception) for r in results)
        assert booked != broke, results
        if booked:
            assert isinstance(results[1], ChangeRefused)
        else:
            assert isinstance(results[0], SlotUnavailable)
        assert SlotClaim.objects.filter(slot=contested).count() == 1
        # Reset for the next round.
        Appointment.objects.all().delete()
        evening.breaks.all().delete()


def test_no_unexpected_errors_in_a_mixed_rush():
    """Forty mixed requests at once: every outcome is a booking or a clear refusal."""
    school = make_school(extra_families=20)
    evening = make_evening(school, max_per_parent=2, travel_gap_minutes=5)
    teachers = [teacher(evening, school, m) for m in ("S-MIA", "S-TOM")]
    for t, room in zip(teachers, ("M1", "T1"), strict=True):
        setup.update_teacher(teacher=t, actor=school.organiser, room=room)
    jobs = []
    for i, (parent, child) in enumerate(school.racers()):
        for t in teachers:
            jobs.append(
                booker(
                    parent,
                    evening,
                    child,
                    t,
                    slot(evening, school, t.staff.mis_id, 16, 10 * (i % 3)),
                )
            )
    results = race(*jobs)
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, BookingError)
    ]
    assert unexpected == []
    assert {type(r) for r in results if isinstance(r, Exception)} <= {
        SlotTaken,
        Clash,
        AlreadyBooked,
        LimitReached,
    }
    assert Appointment.objects.count() == SlotClaim.objects.count() == 6
