"""A teacher's absence: the engine's transfer, then `absence.mark_absent` (cancel or
transfer the appointments, block the time, record the outcome) and the organiser's
page. Emails are asserted on the outbox rows."""

import html

import pytest
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, slot, teacher
from test_parent_pages import book_now, upcoming_evening

from schoolgate.evenings import booking
from schoolgate.evenings.booking import availability
from schoolgate.evenings.booking.errors import (
    AlreadyBooked,
    InvalidSetup,
    NotAllowed,
    NotBookable,
    SlotUnavailable,
)
from schoolgate.evenings.models import Appointment, Break, SlotClaim, TeacherAbsence
from schoolgate.evenings.running import absence
from schoolgate.evenings.setup import services as setup
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


# --- mark_absent -----------------------------------------------------------------


def test_cancel_for_the_whole_evening_tells_every_parent_and_blocks_the_teacher(school, evening):
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    book(school, evening, school.bea, (school.cal, "S-MIA", 18, 30))
    [other] = book(school, evening, school.bea, (school.cal, "S-TOM", 16, 0)).appointments
    OutboxMessage.objects.all().delete()

    done = absence.mark_absent(
        evening=evening, teacher=mia, actor=school.organiser, action="cancel", now=NOW
    )

    assert not Appointment.objects.filter(teacher=mia, status__in=Appointment.LIVE).exists()
    other.refresh_from_db()
    assert other.status == Appointment.Status.CONFIRMED
    assert {(m.to, m.template) for m in emails()} == {
        ("ann@example.org", "evening_cancelled"),
        ("bea@example.org", "evening_cancelled"),
    }
    for message in emails():
        assert "Ms M Maths cannot be there, so the school has had to cancel it" in (
            message.body_text
        )
        assert f"/parents/evenings/{evening.pk}/" in message.body_text
    # Every one of Mia's slots is taken by the absence: nothing can be booked.
    assert set(
        SlotClaim.objects.filter(slot__teacher=mia).values_list("brk__label", flat=True)
    ) == {"Absent"}
    assert SlotClaim.objects.filter(slot__teacher=mia).count() == 18
    # Away all evening, Mia is no longer offered at all.
    with pytest.raises(NotBookable):
        book(school, evening, school.deb, (school.dan, "S-MIA", 17, 0))
    assert done.action == "cancel" and done.starts_at is None
    assert len(done.outcome["cancelled"]) == 2


def test_a_whole_absence_blocks_each_day_with_its_own_break(school):
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0)),
            (london(2026, 3, 12, 15, 0), london(2026, 3, 12, 17, 0)),
        ],
    )
    mia = teacher(evening, school, "S-MIA")
    [day2] = booking.book_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 15, 30, day=12))],
        now=NOW,
    ).appointments
    done = absence.mark_absent(
        evening=evening, teacher=mia, actor=school.organiser, action="cancel", now=NOW
    )
    breaks = Break.objects.filter(pk__in=done.outcome["breaks"]).order_by("starts_at")
    assert [(b.starts_at, b.ends_at, b.label) for b in breaks] == [
        (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0), "Absent"),
        (london(2026, 3, 12, 15, 0), london(2026, 3, 12, 17, 0), "Absent"),
    ]
    assert [list(b.teachers.all()) for b in breaks] == [[mia], [mia]]
    day2.refresh_from_db()
    assert day2.status == Appointment.Status.CANCELLED
    assert SlotClaim.objects.filter(slot__teacher=mia, brk__isnull=False).count() == 18 + 12


def test_part_of_the_evening_affects_only_that_time(school, evening):
    mia = teacher(evening, school, "S-MIA")
    [before] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 50)).appointments
    [during] = book(school, evening, school.bea, (school.cal, "S-MIA", 17, 0)).appointments
    [after] = book(school, evening, school.deb, (school.dan, "S-MIA", 18, 0)).appointments
    OutboxMessage.objects.all().delete()

    absence.mark_absent(
        evening=evening,
        teacher=mia,
        actor=school.organiser,
        action="cancel",
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 18, 0),
        now=NOW,
    )

    statuses = {a.pk: a.status for a in Appointment.objects.filter(teacher=mia)}
    assert statuses == {
        before.pk: Appointment.Status.CONFIRMED,
        during.pk: Appointment.Status.CANCELLED,
        after.pk: Appointment.Status.CONFIRMED,
    }
    assert [m.to for m in emails()] == ["bea@example.org"]
    blocked = SlotClaim.objects.filter(slot__teacher=mia, brk__isnull=False)
    assert blocked.count() == 6
    assert min(c.slot.starts_at for c in blocked) == london(2026, 3, 10, 17, 0)
    # Outside the absence Mia can still be booked.
    book(school, evening, school.bea, (school.cal, "S-MIA", 18, 30))


def test_transfer_keeps_free_times_and_cancels_and_lists_the_clashes(school, evening):
    mia = teacher(evening, school, "S-MIA")
    tom = teacher(evening, school, "S-TOM")
    [amy] = book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments
    [cal] = book(school, evening, school.bea, (school.cal, "S-MIA", 16, 30)).appointments
    [dan] = book(school, evening, school.deb, (school.dan, "S-MIA", 17, 0)).appointments
    # Tom is busy at 16:30 (when Cal sees Mia), with Dan, who would see Mia at 17:00.
    book(school, evening, school.deb, (school.dan, "S-TOM", 16, 30))
    OutboxMessage.objects.all().delete()

    done = absence.mark_absent(
        evening=evening,
        teacher=mia,
        actor=school.organiser,
        action="transfer",
        substitute=tom,
        now=NOW,
    )

    outcome = absence.outcome_of(done)
    [(old, new)] = outcome.transferred
    assert old == amy and (new.teacher, new.starts_at) == (tom, amy.starts_at)
    assert new.status == Appointment.Status.CONFIRMED
    assert {c.appointment for c in outcome.clashes} == {cal, dan}
    reasons = {c.appointment.pk: c.reason for c in outcome.clashes}
    assert reasons[cal.pk] == "Mr T Tutor has another appointment then."
    assert reasons[dan.pk] == "The pupil already has an appointment with Mr T Tutor."
    for clash in (cal, dan):
        clash.refresh_from_db()
        assert clash.status == Appointment.Status.CANCELLED
    assert outcome.cancelled == []
    assert sorted((m.to, m.template) for m in emails()) == [
        ("ann@example.org", "evening_changed"),
        ("bea@example.org", "evening_cancelled"),
        ("deb@example.org", "evening_cancelled"),
        ("don@example.org", "evening_cancelled"),  # Dan's other parent: meetings are shared
    ]
    assert not Appointment.objects.filter(teacher=mia, status__in=Appointment.LIVE).exists()


def test_transfer_to_staff_not_taking_part_adds_them(school, evening):
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))

    done = absence.mark_absent(
        evening=evening,
        teacher=mia,
        actor=school.organiser,
        action="transfer",
        substitute=school.staff["S-SUE"],
        now=NOW,
    )

    sue = teacher(evening, school, "S-SUE")
    assert done.substitute == sue and sue.room == mia.room
    assert Appointment.objects.get(teacher=sue).pupil == school.amy


def test_an_absence_lets_go_of_held_times(school, evening):
    mia = teacher(evening, school, "S-MIA")
    hold = booking.hold_slots(
        parent=school.ann,
        evening=evening,
        choices=[(school.amy, mia, slot(evening, school, "S-MIA", 16, 0))],
        now=NOW,
    )
    done = absence.mark_absent(
        evening=evening, teacher=mia, actor=school.organiser, action="cancel", now=NOW
    )
    assert done.outcome["holds_released"] == 1
    assert not Appointment.objects.filter(hold=hold).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "sack"}, "action"),
        ({"action": "transfer"}, "substitute"),
        ({"action": "cancel", "starts_at": london(2026, 3, 10, 17, 0)}, "starts"),
        (
            {
                "action": "cancel",
                "starts_at": london(2026, 3, 11, 17, 0),
                "ends_at": london(2026, 3, 11, 18, 0),
            },
            "starts",
        ),
        (
            {
                "action": "cancel",
                "starts_at": london(2026, 3, 10, 18, 0),
                "ends_at": london(2026, 3, 10, 17, 0),
            },
            "ends",
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(school, evening, kwargs, field):
    mia = teacher(evening, school, "S-MIA")
    [amy] = book(school, evening, school.ann, (school.amy, "S-MIA", 17, 0)).appointments
    with pytest.raises(InvalidSetup) as refused:
        absence.mark_absent(evening=evening, teacher=mia, actor=school.organiser, now=NOW, **kwargs)
    assert refused.value.field == field
    amy.refresh_from_db()
    assert amy.status == Appointment.Status.CONFIRMED
    assert not TeacherAbsence.objects.exists()
    assert not SlotClaim.objects.filter(brk__isnull=False).exists()


def test_transfer_to_the_absent_teacher_is_refused(school, evening):
    mia = teacher(evening, school, "S-MIA")
    with pytest.raises(InvalidSetup):
        absence.mark_absent(
            evening=evening,
            teacher=mia,
            actor=school.organiser,
            action="transfer",
            substitute=mia,
            now=NOW,
        )


def test_a_teacher_of_another_evening_is_refused(school, evening):
    other = make_evening(school, name="Other")
    with pytest.raises(InvalidSetup):
        absence.mark_absent(
            evening=evening,
            teacher=teacher(other, school, "S-MIA"),
            actor=school.organiser,
            action="cancel",
            now=NOW,
        )


def test_only_organisers_may_mark_absence(school, evening):
    for user in (school.ann, school.teacher_user):
        with pytest.raises(NotAllowed):
            absence.mark_absent(
                evening=evening,
                teacher=teacher(evening, school, "S-MIA"),
                actor=user,
                action="cancel",
                now=NOW,
            )


# --- the organiser's pages and the parent's evening page -------------------------


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def staff_url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


@pytest.fixture
def organiser(client, school):
    client.force_login(school.organiser)
    return client


def test_the_absence_page_marks_a_teacher_absent_and_shows_what_was_done(
    organiser, school, evening
):
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    page = organiser.get(staff_url("absences", evening.pk))
    assert page.status_code == 200
    assert "No teacher has been marked absent." in page_text(page)
    assert "Ms M Maths (1 appointment)" in page_text(page)
    assert "Mr T Tutor (0 appointments)" in page_text(page)

    response = organiser.post(
        staff_url("absences", evening.pk), {"teacher": mia.pk, "when": "whole", "action": "cancel"}
    )

    done = TeacherAbsence.objects.get()
    assert response.status_code == 302
    assert response.url == staff_url("absence", evening.pk, done.pk)
    result = organiser.get(response.url)
    text = page_text(result)
    assert "Ms M Maths is marked absent. 1 appointment was cancelled" in text
    assert "Amy Ash" in text and "ann@example.org" in text
    assert "Ms M Maths" in page_text(organiser.get(staff_url("absences", evening.pk)))


def test_the_page_transfers_part_of_the_evening_and_lists_the_clashes(organiser, school, evening):
    mia = teacher(evening, school, "S-MIA")
    book(school, evening, school.ann, (school.amy, "S-MIA", 17, 0))
    book(school, evening, school.bea, (school.cal, "S-MIA", 17, 10))
    book(school, evening, school.deb, (school.dan, "S-EVE", 17, 10))
    eve = teacher(evening, school, "S-EVE")

    response = organiser.post(
        staff_url("absences", evening.pk),
        {
            "teacher": mia.pk,
            "when": "part",
            "day": evening.days.get().pk,
            "starts": "17:00",
            "ends": "17:30",
            "action": "transfer",
            "substitute": eve.staff_id,
        },
        follow=True,
    )

    text = page_text(response)
    assert "1 appointment was given to Dr E English. 1 could not be" in text
    assert "Not transferred: cancelled" in text
    assert "Cal Best" in text and "Dr E English has another appointment then." in text
    assert Appointment.objects.get(teacher=eve, pupil=school.amy).starts_at == london(
        2026, 3, 10, 17, 0
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"when": "whole", "action": "cancel"}, "Choose the teacher who is absent."),
        ({"when": "part", "action": "cancel"}, "Give the time the absence starts, like 17:30."),
        (
            {"when": "part", "action": "cancel", "starts": "18:00", "ends": "17:00"},
            "The absence must end after it starts.",
        ),
        ({"when": "whole", "action": "transfer"}, "Choose who takes the appointments."),
        ({"when": "whole"}, "Choose what should happen to the appointments."),
    ],
)
def test_bad_answers_say_what_is_wrong_and_change_nothing(
    organiser, school, evening, data, message
):
    [amy] = book(school, evening, school.ann, (school.amy, "S-MIA", 17, 0)).appointments
    data = {**data, "day": evening.days.get().pk}
    if message != "Choose the teacher who is absent.":
        data["teacher"] = teacher(evening, school, "S-MIA").pk
    response = organiser.post(staff_url("absences", evening.pk), data)
    assert response.status_code == 200
    assert "There is a problem" in page_text(response)
    assert message in page_text(response)
    amy.refresh_from_db()
    assert amy.status == Appointment.Status.CONFIRMED
    assert not TeacherAbsence.objects.exists()


def test_another_evenings_teacher_or_absence_is_not_found(organiser, school, evening):
    other = make_evening(school, name="Other")
    response = organiser.post(
        staff_url("absences", evening.pk),
        {"teacher": teacher(other, school, "S-MIA").pk, "when": "whole", "action": "cancel"},
    )
    assert response.status_code == 200
    assert "Choose a teacher of this evening." in page_text(response)
    done = absence.mark_absent(
        evening=other,
        teacher=teacher(other, school, "S-MIA"),
        actor=school.organiser,
        action="cancel",
        now=NOW,
    )
    assert organiser.get(staff_url("absence", evening.pk, done.pk)).status_code == 404
    assert organiser.get(staff_url("absence", other.pk, done.pk)).status_code == 200
    assert organiser.get(staff_url("absences", 999999)).status_code == 404


def test_teachers_and_parents_cannot_open_the_absence_pages(client, school, evening):
    for user in (school.teacher_user, school.ann):
        client.force_login(user)
        assert client.get(staff_url("absences", evening.pk)).status_code == 403


def test_the_parents_evening_page_shows_their_cancellation_only(client, school):
    upcoming = upcoming_evening(school)
    book_now(school, upcoming, school.ann, (school.amy, "S-MIA", 16, 0))
    book_now(school, upcoming, school.bea, (school.cal, "S-MIA", 16, 10))
    absence.mark_absent(
        evening=upcoming,
        teacher=teacher(upcoming, school, "S-MIA"),
        actor=school.organiser,
        action="cancel",
    )

    client.force_login(school.ann)
    text = page_text(client.get(reverse("evenings:evening", args=[upcoming.pk])))
    assert "Cancelled because a teacher cannot be there" in text
    assert "Amy Ash with Ms M Maths" in text
    assert "Cal Best" not in text
    assert "You can book another time, or another teacher, below." in text
    client.force_login(school.deb)
    text = page_text(client.get(reverse("evenings:evening", args=[upcoming.pk])))
    assert "Cancelled because a teacher cannot be there" not in text


def test_a_teacher_away_all_evening_is_no_longer_offered_to_parents(school, evening):
    mia = teacher(evening, school, "S-MIA")
    absence.mark_absent(
        evening=evening,
        teacher=mia,
        actor=school.organiser,
        action="cancel",
        starts_at=london(2026, 3, 10, 17, 0),
        ends_at=london(2026, 3, 10, 18, 0),
        now=NOW,
    )
    # Away for an hour: still offered for the rest of the evening.
    assert (
        mia.pk
        in availability.bookable_teachers(evening=evening, pupil_ids=[school.amy.pk])[school.amy.pk]
    )

    absence.mark_absent(
        evening=evening, teacher=mia, actor=school.organiser, action="cancel", now=NOW
    )

    offered = availability.bookable_teachers(evening=evening, pupil_ids=[school.amy.pk])
    assert mia.pk not in offered[school.amy.pk] and offered[school.amy.pk]


def test_the_absence_forms_teachers_are_listed_by_name(school, evening):
    from schoolgate.evenings.models import EveningTeacher
    from schoolgate.evenings.web.staff.absence_forms import AbsenceForm

    form = AbsenceForm(evening=evening)
    listed = [teacher.staff for teacher in form.fields["teacher"].queryset]

    staff = [t.staff for t in EveningTeacher.objects.filter(evening=evening, removed=False)]
    assert len(staff) >= 2
    assert listed == sorted(staff, key=lambda s: (s.surname, s.forename))
