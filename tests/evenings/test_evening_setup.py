"""Setting up an evening: teachers from the mirror, slots, lengths, days and breaks,
and edits that would break a booking refused with the bookings listed."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from evenings_school import NOW, book, london, make_evening, teacher

from schoolgate.evenings.booking.errors import ChangeRefused, InvalidSetup, NotAllowed
from schoolgate.evenings.models import Evening, EveningTeacher, Slot, SlotClaim
from schoolgate.evenings.setup import services as setup


def staff_ids(evening):
    return set(
        EveningTeacher.objects.filter(evening=evening, removed=False).values_list(
            "staff__mis_id", flat=True
        )
    )


def test_teachers_are_the_class_teachers_and_form_tutors_of_the_pupils_it_is_for(school, evening):
    assert staff_ids(evening) == {"S-TOM", "S-MIA", "S-EVE", "S-SAM", "S-FAY"}


def test_audience_by_registration_group_only(school):
    evening = make_evening(school, year_groups=[], registration_groups=[school.group("9B")])
    assert staff_ids(evening) == {"S-FAY", "S-SAM"}


def test_every_teacher_gets_slots_of_their_length_for_every_day(school):
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 18, 0)),
            (london(2026, 3, 12, 9, 0), london(2026, 3, 12, 10, 0)),
        ],
    )
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, slot_minutes=20, now=NOW
    )
    mia = Slot.objects.filter(teacher=teacher(evening, school, "S-MIA"))
    tom = Slot.objects.filter(teacher=teacher(evening, school, "S-TOM"))
    assert tom.count() == 12 + 6
    assert mia.count() == 6 + 3
    assert [s.starts_at for s in mia[:3]] == [
        london(2026, 3, 10, 16, 0),
        london(2026, 3, 10, 16, 20),
        london(2026, 3, 10, 16, 40),
    ]


def test_a_teachers_length_must_be_a_whole_multiple_of_the_evenings(school, evening):
    with pytest.raises(InvalidSetup) as error:
        setup.update_teacher(
            teacher=teacher(evening, school, "S-MIA"),
            actor=school.organiser,
            slot_minutes=15,
            now=NOW,
        )
    assert error.value.field == "slot_minutes"


def test_a_day_across_the_clock_change_has_slots_for_the_real_time(school):
    # Sunday 29 March 2026: clocks go forward at 01:00 GMT, so 00:30–02:30 on the wall
    # is one real hour. Times are stored in UTC and shown in London time.
    evening = make_evening(
        school,
        days=[(london(2026, 3, 29, 0, 30), london(2026, 3, 29, 2, 30))],
        booking_closes=london(2026, 3, 28, 12, 0),
    )
    starts = list(
        Slot.objects.filter(teacher=teacher(evening, school, "S-TOM")).values_list(
            "starts_at", flat=True
        )
    )
    assert len(starts) == 6
    assert starts[0] == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert [f"{timezone.localtime(s):%H:%M}" for s in starts] == [
        "00:30",
        "00:40",
        "00:50",
        "02:00",
        "02:10",
        "02:20",
    ]
    assert str(evening.days.get()) == "Sun 29 Mar 2026 00:30–02:30"


def test_times_without_a_time_zone_are_refused(school):
    with pytest.raises(InvalidSetup):
        make_evening(school, days=[(datetime(2026, 3, 10, 16), datetime(2026, 3, 10, 19))])


def test_only_organisers_set_up_evenings(school):
    with pytest.raises(NotAllowed):
        make_evening(school, actor=school.teacher_user)
    with pytest.raises(NotAllowed):
        make_evening(school, actor=school.ann)


def test_extra_staff_can_be_added_and_anyone_at_the_evening_may_book_them(school, evening):
    sue = setup.add_teacher(
        evening=evening, actor=school.organiser, staff=school.staff["S-SUE"], room="SEN base"
    )
    assert sue.source == EveningTeacher.Source.ADDED
    assert Slot.objects.filter(teacher=sue).count() == 18
    booked = book(school, evening, school.ann, (school.ben, "S-SUE", 16, 0))
    assert booked.appointments[0].teacher == sue


def test_a_removed_teacher_stays_removed_when_teachers_are_derived_again(school, evening):
    tom = teacher(evening, school, "S-TOM")
    setup.remove_teacher(teacher=tom, actor=school.organiser, now=NOW)
    assert not Slot.objects.filter(teacher=tom).exists()
    changes = setup.refresh_teachers(evening=evening, actor=school.organiser, now=NOW)
    assert changes.added == []
    assert "S-TOM" not in staff_ids(evening)


def test_removing_a_teacher_with_bookings_is_refused_with_the_bookings(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.remove_teacher(teacher=teacher(evening, school, "S-MIA"), actor=school.organiser)
    assert error.value.appointments == booked
    assert "S-MIA" in staff_ids(evening)


def test_shrinking_a_day_over_a_booking_is_refused_and_changes_nothing(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 18, 50)).appointments
    day = evening.days.get()
    before = Slot.objects.count()
    with pytest.raises(ChangeRefused) as error:
        setup.change_day(
            day=day,
            actor=school.organiser,
            starts_at=day.starts_at,
            ends_at=london(2026, 3, 10, 18, 30),
            now=NOW,
        )
    assert error.value.appointments == booked
    day.refresh_from_db()
    assert day.ends_at == london(2026, 3, 10, 19, 0)
    assert Slot.objects.count() == before


def test_shrinking_and_growing_a_day_without_bookings_in_the_way_recuts_the_slots(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 30)).appointments[0]
    day = evening.days.get()
    setup.change_day(
        day=day,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 15, 30),
        ends_at=london(2026, 3, 10, 18, 0),
        now=NOW,
    )
    assert Slot.objects.filter(teacher=teacher(evening, school, "S-TOM")).count() == 15
    # The booked slot was kept, claim and all.
    assert SlotClaim.objects.get(appointment=booked).slot.starts_at == london(2026, 3, 10, 16, 30)


def test_a_break_for_all_teachers_blocks_their_slots(school, evening):
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 15),
        label="Tea",
    )
    # 17:00 and 17:10 (which overlaps the break) for each of the five teachers.
    assert SlotClaim.objects.filter(brk=brk).count() == 10


def test_a_break_for_one_teacher_blocks_only_theirs(school, evening):
    mia = teacher(evening, school, "S-MIA")
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 10),
        teachers=[mia],
    )
    assert list(SlotClaim.objects.filter(brk=brk).values_list("slot__teacher", flat=True)) == [
        mia.pk
    ]


def test_moving_a_break_over_an_appointment_is_refused_with_it(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 17, 30)).appointments
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 10),
    )
    with pytest.raises(ChangeRefused) as error:
        setup.change_break(
            brk=brk,
            actor=school.organiser,
            starts_at=london(2026, 3, 10, 17, 20),
            ends_at=london(2026, 3, 10, 17, 40),
        )
    assert error.value.appointments == booked
    brk.refresh_from_db()
    assert brk.starts_at == london(2026, 3, 10, 17, 0)
    assert SlotClaim.objects.filter(brk=brk).count() == 5


def test_removing_a_break_frees_its_slots(school, evening):
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 10),
    )
    setup.remove_break(brk=brk, actor=school.organiser)
    assert not SlotClaim.objects.exists()


def test_changing_a_booked_teachers_length_is_refused(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.update_teacher(
            teacher=teacher(evening, school, "S-MIA"),
            actor=school.organiser,
            slot_minutes=20,
            now=NOW,
        )
    assert error.value.appointments == booked


def test_changing_the_evenings_length_with_bookings_is_refused(school, evening):
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.update_evening(evening=evening, actor=school.organiser, slot_minutes=5, now=NOW)
    assert error.value.appointments == booked
    evening.refresh_from_db()
    assert evening.slot_minutes == 10


def test_a_class_length_makes_its_appointments_take_consecutive_slots(school, evening):
    setup.set_class_length(
        evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=20
    )
    (appointment,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    assert appointment.ends_at == london(2026, 3, 10, 16, 20)
    assert SlotClaim.objects.filter(appointment=appointment).count() == 2


def test_a_class_length_must_be_a_multiple_of_its_teachers_length(school, evening):
    with pytest.raises(InvalidSetup):
        setup.set_class_length(
            evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=15
        )


def test_leaving_booked_pupils_out_of_the_audience_is_refused(school, evening):
    booked = book(school, evening, school.ann, (school.ben, "S-SAM", 16, 0)).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.update_evening(evening=evening, actor=school.organiser, year_groups=[7], now=NOW)
    assert error.value.appointments == booked
    assert "S-SAM" in staff_ids(evening)


def test_narrowing_the_audience_drops_teachers_nobody_can_book_any_more(school, evening):
    setup.update_evening(evening=evening, actor=school.organiser, year_groups=[7], now=NOW)
    assert staff_ids(evening) == {"S-TOM", "S-MIA", "S-EVE"}


def test_a_travel_gap_that_booked_parents_could_not_keep_is_refused(school, evening):
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, room="M1", now=NOW
    )
    setup.update_teacher(
        teacher=teacher(evening, school, "S-SAM"), actor=school.organiser, room="S4", now=NOW
    )
    booked = book(
        school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 10)
    ).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.update_evening(evening=evening, actor=school.organiser, travel_gap_minutes=5, now=NOW)
    assert error.value.appointments == booked
    evening.refresh_from_db()
    assert evening.travel_gap_minutes == 0


def test_moving_a_teacher_to_another_room_is_refused_when_a_parent_could_not_walk_it(
    school, evening
):
    setup.update_evening(evening=evening, actor=school.organiser, travel_gap_minutes=5, now=NOW)
    for mis_id in ("S-MIA", "S-SAM"):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room="Hall"
        )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 10))
    with pytest.raises(ChangeRefused):
        setup.update_teacher(
            teacher=teacher(evening, school, "S-SAM"), actor=school.organiser, room="Lab 2"
        )
    assert teacher(evening, school, "S-SAM").room == "Hall"


def test_splitting_families_once_booked_is_refused(school, evening):
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    with pytest.raises(ChangeRefused):
        setup.update_evening(
            evening=evening,
            actor=school.organiser,
            split_families=Evening.SplitFamilies.SEPARATE,
            now=NOW,
        )


def test_a_booked_day_cannot_be_removed_and_a_free_one_can(school):
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 18, 0)),
            (london(2026, 3, 12, 16, 0), london(2026, 3, 12, 18, 0)),
        ],
    )
    first, second = evening.days.all()
    booked = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(ChangeRefused) as error:
        setup.remove_day(day=first, actor=school.organiser, now=NOW)
    assert error.value.appointments == booked
    setup.remove_day(day=second, actor=school.organiser, now=NOW)
    assert list(evening.days.all()) == [first]
    assert not Slot.objects.filter(day=second).exists()
