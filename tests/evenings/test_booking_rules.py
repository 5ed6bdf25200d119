"""The five booking rules, each refused with a clear error (never an IntegrityError),
and the first three also kept by the database itself."""

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from evenings_school import NOW, book, london, make_evening, minutes, slot, teacher

from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import family_appointments
from schoolgate.evenings.booking.errors import (
    AlreadyBooked,
    BookingClosed,
    Clash,
    InvalidChoice,
    LimitReached,
    NotAllowed,
    NotBookable,
    OutsideWindow,
    PastCutoff,
    SlotTaken,
    SlotUnavailable,
)
from schoolgate.evenings.models import (
    Appointment,
    Evening,
    ParentCell,
    ParentRoomCell,
    SlotClaim,
)
from schoolgate.evenings.setup import services as setup

# Rule 1: a teacher's time holds at most one appointment.


def test_a_taken_slot_cannot_be_booked_by_anyone_else(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(SlotTaken) as error:
        book(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    assert error.value.slots == [slot(evening, school, "S-MIA", 16, 0)]
    assert Appointment.objects.count() == 1


def test_a_slot_in_a_break_cannot_be_booked(school, evening):
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 17, 10),
    )
    with pytest.raises(SlotUnavailable):
        book(school, evening, school.ann, (school.amy, "S-MIA", 17, 0))


def test_the_database_itself_refuses_a_second_claim_on_a_slot(school, evening):
    (first,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(IntegrityError), transaction.atomic():
        SlotClaim.objects.create(slot=slot(evening, school, "S-MIA", 16, 0), appointment=first)


# Rule 2: a pupil has one meeting with a teacher per evening (per parent when separate).


def test_a_pupil_meets_a_teacher_once(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(AlreadyBooked):
        book(school, evening, school.ann, (school.amy, "S-MIA", 17, 0))


def test_split_family_shares_one_meeting_that_both_parents_see(school, evening):
    (meeting,) = book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0)).appointments
    with pytest.raises(AlreadyBooked) as error:
        book(school, evening, school.don, (school.dan, "S-MIA", 17, 0))
    assert error.value.appointments == [meeting]
    seen_by_don = list(family_appointments(parent=school.don, evening=evening, now=NOW))
    assert seen_by_don == [meeting]
    assert seen_by_don[0].booked_by == school.deb


def test_separated_parents_each_book_their_own_meeting(school):
    evening = make_evening(school, split_families=Evening.SplitFamilies.SEPARATE)
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    book(school, evening, school.don, (school.dan, "S-MIA", 17, 0))
    with pytest.raises(AlreadyBooked):
        book(school, evening, school.don, (school.dan, "S-MIA", 18, 0))
    assert Appointment.objects.filter(pupil=school.dan).count() == 2


def test_the_database_itself_refuses_a_second_live_meeting(school, evening):
    (first,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    first.pk = None
    first.starts_at, first.ends_at = london(2026, 3, 10, 17, 0), london(2026, 3, 10, 17, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        first.save()


# Rule 3: a parent is never in two places at once (travel gap included).


def test_a_parent_cannot_be_with_two_teachers_at_once(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(Clash) as error:
        book(school, evening, school.ann, (school.ben, "S-SAM", 16, 0))
    assert [a.pupil for a in error.value.clashes] == [school.amy]


def test_overlapping_choices_in_one_request_are_refused(school, evening):
    with pytest.raises(Clash):
        book(
            school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.ben, "S-SAM", 16, 0)
        )
    assert not Appointment.objects.exists()


def test_the_same_slot_twice_in_one_request_is_refused(school, evening):
    with pytest.raises(InvalidChoice):
        book(
            school, evening, school.ann, (school.amy, "S-TOM", 16, 0), (school.amy, "S-TOM", 16, 0)
        )


def travel_gap_evening(school, **overrides):
    evening = make_evening(school, travel_gap_minutes=5, **overrides)
    for mis_id, room in (("S-MIA", "M1"), ("S-EVE", "E2"), ("S-TOM", "M1"), ("S-SAM", "S4")):
        setup.update_teacher(
            teacher=teacher(evening, school, mis_id), actor=school.organiser, room=room
        )
    return evening


def test_the_travel_gap_applies_between_rooms(school):
    evening = travel_gap_evening(school)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    with pytest.raises(Clash):
        book(school, evening, school.ann, (school.ben, "S-SAM", 16, 10))
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 20))


def test_no_travel_gap_within_one_room(school):
    evening = travel_gap_evening(school)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    book(school, evening, school.ann, (school.amy, "S-TOM", 16, 10))  # also in M1
    assert Appointment.objects.count() == 2


def test_no_travel_gap_after_a_video_meeting(school):
    evening = travel_gap_evening(school, mode=Evening.Mode.BOTH)
    mia = teacher(evening, school, "S-MIA")
    booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0), "video")],
        now=NOW,
    )
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 10))
    assert Appointment.objects.count() == 2


def test_the_database_itself_refuses_one_parent_minute_twice(school, evening):
    (first,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    with pytest.raises(IntegrityError), transaction.atomic():
        ParentCell.objects.create(
            evening=evening,
            parent=school.ann,
            minute=first.starts_at + minutes(3),
            appointment=first,
        )


def test_the_database_itself_refuses_two_rooms_in_one_minute(school):
    evening = travel_gap_evening(school)
    (first,) = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    # The walk from M1 takes until 16:15: no other room may have Ann at 16:12.
    assert ParentRoomCell.objects.get(minute=london(2026, 3, 10, 16, 12)).room == "m1"
    with pytest.raises(IntegrityError), transaction.atomic():
        ParentRoomCell.objects.create(
            evening=evening, parent=school.ann, minute=london(2026, 3, 10, 16, 12), room="s4"
        )


# Rule 4: limits and the one-day rule; staff may pass a limit, with a warning.


def test_a_parent_may_book_only_so_many(school):
    evening = make_evening(school, max_per_parent=2)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), (school.amy, "S-EVE", 16, 10))
    with pytest.raises(LimitReached) as error:
        book(school, evening, school.ann, (school.ben, "S-SAM", 16, 20))
    assert (error.value.limit, error.value.allowed, error.value.booked) == ("per_parent", 2, 2)


def test_a_pupil_may_have_only_so_many_whoever_books(school):
    evening = make_evening(school, max_per_pupil=1)
    book(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    with pytest.raises(LimitReached) as error:
        book(school, evening, school.don, (school.dan, "S-EVE", 16, 0))
    assert error.value.limit == "per_pupil"


def two_day_evening(school, **overrides):
    return make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0)),
            (london(2026, 3, 12, 16, 0), london(2026, 3, 12, 19, 0)),
        ],
        **overrides,
    )


def test_one_day_rule_keeps_a_parent_to_one_day(school):
    settings = get_addon_settings()
    settings.one_day_only = True
    settings.save()
    evening = two_day_evening(school)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    mia_thursday = slot(evening, school, "S-EVE", 16, 0, day=12)
    with pytest.raises(LimitReached) as error:
        booking.book_slots(
            parent=school.ann,
            evening=evening,
            choices=[(school.amy, mia_thursday.teacher, mia_thursday)],
            now=NOW,
        )
    assert error.value.limit == "one_day"
    # Without the add-on setting, two days are fine.
    settings.one_day_only = False
    settings.save()
    booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia_thursday.teacher, mia_thursday)],
        now=NOW,
    )


def test_staff_may_pass_a_limit_for_a_parent_with_a_warning(school):
    evening = make_evening(school, max_per_parent=1)
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    result = book(
        school,
        evening,
        school.ann,
        (school.ben, "S-SAM", 16, 20),
        actor=school.organiser,
        override_limits=True,
    )
    assert result.warnings and "at most 1" in result.warnings[0]
    (appointment,) = result.appointments
    assert appointment.booked_by == school.organiser
    assert appointment.parent == school.ann
    assert appointment.override_warnings == result.warnings


def test_staff_cannot_pass_the_first_three_rules(school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    for choice, error in (
        ((school.cal, "S-MIA", 16, 0), SlotTaken),  # Bea's booking, Ann's slot
        ((school.amy, "S-MIA", 17, 0), AlreadyBooked),
    ):
        parent = school.bea if choice[0] == school.cal else school.ann
        with pytest.raises(error):
            book(school, evening, parent, choice, actor=school.organiser, override_limits=True)
    with pytest.raises(Clash):
        book(
            school,
            evening,
            school.ann,
            (school.ben, "S-SAM", 16, 0),
            actor=school.organiser,
            override_limits=True,
        )


def test_parents_cannot_pass_a_limit(school):
    evening = make_evening(school, max_per_parent=1)
    with pytest.raises(NotAllowed):
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), override_limits=True)


# Rule 5: only in the booking window, and not after the cut-off.


def test_no_booking_before_the_window_opens(school, evening):
    with pytest.raises(OutsideWindow):
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=london(2026, 2, 1, 9))


def test_no_booking_after_the_window_closes(school, evening):
    with pytest.raises(OutsideWindow):
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=london(2026, 3, 10, 12))


def test_no_booking_within_the_cut_off(school):
    evening = make_evening(school, cutoff_hours=24)
    with pytest.raises(PastCutoff):
        book(
            school,
            evening,
            school.ann,
            (school.amy, "S-MIA", 16, 0),
            now=london(2026, 3, 9, 16, 30),
        )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), now=london(2026, 3, 9, 15, 59))


def test_no_booking_for_a_draft_or_closed_evening(school, evening):
    for status in (Evening.Status.DRAFT, Evening.Status.CLOSED):
        setup.set_status(evening=evening, actor=school.organiser, status=status)
        with pytest.raises(BookingClosed):
            book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))


# Access: only for one's own children, only their teachers, staff with permission.


def test_a_parent_cannot_book_for_someone_elses_child(school, evening):
    with pytest.raises(NotAllowed):
        book(school, evening, school.bea, (school.amy, "S-MIA", 16, 0))


def test_a_parent_who_loses_parental_responsibility_cannot_book(school, evening):
    from schoolgate.mis.models import PupilContact

    PupilContact.objects.filter(contact__mis_id="C-DON").update(parental_responsibility=False)
    with pytest.raises(NotAllowed):
        book(school, evening, school.don, (school.dan, "S-MIA", 16, 0))


def test_a_pupil_books_only_their_own_teachers(school, evening):
    with pytest.raises(NotBookable):
        book(school, evening, school.ann, (school.ben, "S-MIA", 16, 0))


def test_the_evening_must_be_for_the_pupil(school, evening):
    eleven = setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-ZED"])
    with pytest.raises(NotBookable):
        booking.book_slots(
            parent=school.zak,
            evening=evening,
            choices=[(school.zoe, eleven, slot(evening, school, "S-ZED", 16, 0))],
            now=NOW,
        )


def test_staff_without_the_permission_cannot_book_for_a_parent(school, evening):
    with pytest.raises(NotAllowed):
        book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), actor=school.teacher_user)
    school.teacher_user.user_permissions.add(Permission.objects.get(codename="book_for_parents"))
    teacher_user = type(school.teacher_user).objects.get(pk=school.teacher_user.pk)
    result = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0), actor=teacher_user)
    assert result.appointments[0].booked_by == teacher_user


def test_a_slot_of_another_teacher_is_refused(school, evening):
    with pytest.raises(InvalidChoice):
        booking.book_slots(
            parent=school.ann,
            evening=evening,
            choices=[
                (
                    school.amy,
                    teacher(evening, school, "S-MIA"),
                    slot(evening, school, "S-EVE", 16, 0),
                )
            ],
            now=NOW,
        )


def test_a_video_meeting_needs_an_evening_that_offers_video(school, evening):
    with pytest.raises(InvalidChoice):
        booking.book_slots(
            parent=school.ann,
            evening=evening,
            choices=[
                (
                    school.amy,
                    teacher(evening, school, "S-MIA"),
                    slot(evening, school, "S-MIA", 16, 0),
                    "video",
                )
            ],
            now=NOW,
        )
