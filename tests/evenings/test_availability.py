"""What parents see: their evenings, whom each child may book, free times, the
family's appointments, and a proposed itinerary they can hold."""

from datetime import timedelta

import pytest
from evenings_school import NOW, book, london, make_evening, slot, teacher

from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import (
    evenings_for_parent,
    family_appointments,
    free_starts,
    teachers_for_pupil,
)
from schoolgate.evenings.booking.errors import NotAllowed
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.planning import planner
from schoolgate.evenings.planning.visits import plan_visit
from schoolgate.evenings.setup import services as setup


def test_parents_see_the_published_evenings_for_their_children(school, evening):
    draft = make_evening(school, name="Draft")
    setup.set_status(evening=draft, actor=school.organiser, status=Evening.Status.DRAFT)
    assert evenings_for_parent(school.ann, now=NOW) == [evening]
    assert evenings_for_parent(school.zak, now=NOW) == []  # Year 11 only


def test_each_child_may_book_their_teachers_with_subjects(school, evening):
    found = {
        b.teacher.staff.mis_id: b for b in teachers_for_pupil(evening=evening, pupil=school.amy)
    }
    assert set(found) == {"S-TOM", "S-MIA", "S-EVE"}
    assert found["S-MIA"].subjects == ["Maths"]
    assert found["S-TOM"].is_form_tutor
    assert found["S-MIA"].minutes == 10


def test_free_times_leave_out_taken_slots_breaks_and_the_cut_off(school):
    evening = make_evening(school, cutoff_hours=1)
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 10),
    )
    free = free_starts(evening=evening, teacher=mia, now=london(2026, 3, 10, 15, 15))
    assert slot(evening, school, "S-MIA", 16, 0) not in free
    assert slot(evening, school, "S-MIA", 16, 10) not in free  # within the hour
    assert slot(evening, school, "S-MIA", 16, 20) in free
    assert slot(evening, school, "S-MIA", 17, 0) not in free
    assert len(free) == 18 - 3


def test_longer_appointments_need_consecutive_free_slots(school, evening):
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 20))
    free = free_starts(evening=evening, teacher=mia, minutes=20, now=NOW)
    starts = [f"{s.starts_at.astimezone(london(2026, 1, 1).tzinfo):%H:%M}" for s in free]
    assert "16:00" in starts
    assert "16:10" not in starts  # runs into 16:20
    assert "18:50" not in starts  # runs past the end of the day


def test_everyone_with_access_sees_all_of_a_pupils_appointments(school, evening):
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    book(school, evening, school.ann, (school.amy, "S-EVE", 16, 0))
    seen = family_appointments(parent=school.don, evening=evening, now=NOW)
    assert [(a.pupil, a.booked_by) for a in seen] == [(school.dan, school.deb)]


def test_the_planner_proposes_a_visit_that_can_be_held(school):
    evening = make_evening(school, travel_gap_minutes=5)
    for mis_id, room in (("S-MIA", "M1"), ("S-EVE", "E2"), ("S-SAM", "S4"), ("S-TOM", "M1")):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room=room
        )
    # Ben already sees his form tutor at 17:00; Cal's parent has Maths at 16:50.
    book(school, evening, school.ann, (school.ben, "S-FAY", 17, 0))
    book(school, evening, school.bea, (school.cal, "S-MIA", 16, 50))
    wanted = [
        (school.amy, teacher(evening, school, "S-MIA")),
        (school.amy, teacher(evening, school, "S-EVE")),
        (school.ben, teacher(evening, school, "S-SAM")),
    ]
    plan = plan_visit(
        parent=school.ann,
        evening=evening,
        wanted=wanted,
        earliest=london(2026, 3, 10, 16, 30),
        latest=london(2026, 3, 10, 18, 0),
        now=NOW,
    )
    assert plan.complete and plan.exact
    # Every appointment in the window, walks between rooms, the tutor meeting kept.
    times = sorted(o.start for o in plan.placed.values())
    assert times[0] >= london(2026, 3, 10, 16, 30)
    # Four rooms on a 10-minute grid with a 5-minute walk: 4 meetings + 3 walks.
    assert plan.span == timedelta(minutes=70)
    held = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[(pupil, teacher_id, o.ref) for (pupil, teacher_id), o in plan.placed.items()],
        now=NOW,
    )
    assert held.appointments.count() == 3


def test_the_planner_says_why_a_teacher_does_not_fit(school, evening):
    mia = teacher(evening, school, "S-MIA")
    for hour in (16, 17, 18):
        for minute in range(0, 60, 10):
            setup.add_break(
                evening=evening,
                actor=school.organiser,
                starts_at=london(2026, 3, 10, hour, minute),
                ends_at=london(2026, 3, 10, hour, minute) + timedelta(minutes=10),
                teachers=[mia],
            )
    plan = plan_visit(
        parent=school.ann,
        evening=evening,
        wanted=[(school.amy, mia), (school.amy, teacher(evening, school, "S-EVE"))],
        now=NOW,
    )
    assert plan.unplaced == {(school.amy.pk, mia.pk): planner.NO_FREE_SLOT}
    assert Appointment.objects.count() == 0


def test_the_planner_refuses_someone_elses_child(school, evening):
    with pytest.raises(NotAllowed):
        plan_visit(
            parent=school.bea,
            evening=evening,
            wanted=[(school.amy, teacher(evening, school, "S-MIA"))],
            now=NOW,
        )
