"""Booking, moving and cancelling on a parent's behalf, from the organiser's grid: each
through the booking engine as the member of staff, each emailing the parents
concerned (with the .ics file); refusals are 409 and change nothing; ids of another
evening, pupil or family are 404 and change nothing; only staff with
evenings.book_for_parents may act."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from evenings_school import teacher
from icalendar import Calendar
from test_grid import staff_with
from test_parent_pages import at, book_now, upcoming_evening, words

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.setup import services as setup
from schoolgate.outbox.models import OutboxMessage


def url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


@pytest.fixture
def upcoming(school):
    return upcoming_evening(school)


@pytest.fixture
def office(client, school):
    client.force_login(school.organiser)
    return client


def emails() -> list[tuple[str, str]]:
    return sorted(OutboxMessage.objects.values_list("to", "template"))


def ics_of(message: OutboxMessage) -> Calendar:
    [file] = message.attachments
    assert file["filename"].endswith(".ics")
    return Calendar.from_ical(file["content"])


def live(evening):
    return list(
        Appointment.objects.filter(evening=evening, status__in=Appointment.LIVE)
        .order_by("pk")
        .values_list("pupil__legal_forename", "teacher__staff__surname", "status")
    )


# --- booking ----------------------------------------------------------------------------


def test_a_free_cell_leads_to_the_pupil_and_books_for_their_parent_with_an_email(
    office, school, upcoming
):
    evening = upcoming
    slot = at(evening, school, "S-EVE", 16, 30)

    grid_page = office.get(url("grid", evening.pk))
    find = office.get(url("behalf", evening.pk), {"slot": slot.pk, "q": "7A"})
    pupil_page = office.get(url("behalf-pupil", evening.pk, school.amy.pk), {"slot": slot.pk})
    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk),
        {"parent": school.ann.pk, "slot": slot.pk, "message": "About reading"},
    )

    assert f"/grid/book/?slot={slot.pk}" in grid_page.text
    # Only 7A pupils who may book Dr English: Amy and Dan, not Cal.
    found = words(find.text)
    assert "Amy Ash" in found and "Dan Dee" in found and "Cal Best" not in found
    assert "Check the appointment" in pupil_page.text and "For Ann" in words(pupil_page.text)
    assert answer.status_code == 302
    assert answer.url == f"{url('grid', evening.pk)}?day={evening.days.get().pk}"
    made = Appointment.objects.get(evening=evening)
    assert (made.pupil, made.parent, made.booked_by) == (school.amy, school.ann, school.organiser)
    assert made.status == Appointment.Status.CONFIRMED and made.message == "About reading"
    assert made.starts_at == slot.starts_at
    [message] = OutboxMessage.objects.all()
    assert (message.to, message.template) == ("ann@example.org", "evening_booked")
    assert message.context["by_school"] is True
    [event] = ics_of(message).walk("VEVENT")
    assert event.decoded("dtstart") == slot.starts_at
    # The grid now shows the booking, made by the school.
    after = office.get(url("grid", evening.pk))
    assert 'Amy Ash</a> <span class="sg-grid__by">(school)</span>' in after.text


def test_a_pupil_with_two_parents_asks_whom_for_and_tells_both(office, school, upcoming):
    evening = upcoming
    slot = at(evening, school, "S-MIA", 17, 0)

    question = office.get(url("behalf-pupil", evening.pk, school.dan.pk), {"slot": slot.pk})
    answer = office.post(
        url("behalf-book", evening.pk, school.dan.pk), {"parent": school.don.pk, "slot": slot.pk}
    )

    assert "Who is the booking for?" in question.text
    assert "Deb" in question.text and "Don" in question.text
    assert answer.status_code == 302
    assert Appointment.objects.get(evening=evening).parent == school.don
    assert emails() == [
        ("deb@example.org", "evening_booked"),
        ("don@example.org", "evening_booked"),
    ]


def test_times_chosen_for_several_teachers_book_together_in_one_email(office, school, upcoming):
    evening = upcoming
    mia, eve = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")

    page = office.get(url("behalf-pupil", evening.pk, school.amy.pk))
    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk),
        {
            "parent": school.ann.pk,
            f"slot-{mia.pk}": at(evening, school, "S-MIA", 16, 0).pk,
            f"slot-{eve.pk}": at(evening, school, "S-EVE", 16, 10).pk,
            f"slot-{teacher(evening, school, 'S-TOM').pk}": "",
        },
    )

    assert f'name="slot-{mia.pk}"' in page.text and f'name="slot-{eve.pk}"' in page.text
    assert answer.status_code == 302
    assert sorted(live(evening)) == [
        ("Amy", "English", "confirmed"),
        ("Amy", "Maths", "confirmed"),
    ]
    assert emails() == [("ann@example.org", "evening_booked")]


def test_no_time_chosen_is_an_error_and_books_nothing(office, school, upcoming):
    answer = office.post(url("behalf-book", upcoming.pk, school.amy.pk), {"parent": school.ann.pk})

    assert answer.status_code == 200
    assert "Choose a time with at least one teacher" in answer.text
    assert live(upcoming) == [] and emails() == []


def test_the_planner_proposes_times_and_they_are_booked(office, school, upcoming):
    evening = upcoming
    mia, eve = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")
    book_now(school, evening, school.ann, (school.ben, "S-SAM", 17, 0))

    proposal = office.post(
        url("behalf-plan", evening.pk, school.amy.pk),
        {
            "parent": school.ann.pk,
            "teacher": [mia.pk, eve.pk],
            "earliest": "16:40",
            "latest": "17:30",
        },
    )
    slots = dict(re.findall(r'name="slot-(\d+)" value="(\d+)"', proposal.text))
    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk),
        {"parent": school.ann.pk, **{f"slot-{t}": s for t, s in slots.items()}},
    )

    assert proposal.status_code == 200, proposal.text
    assert set(slots) == {str(mia.pk), str(eve.pk)}
    # Around Ben's 17:00: the shortest visit is the two just before it (or after it).
    assert re.search(
        r"Arrive by (16:40, finished at 17:10|17:00, finished at 17:30)", words(proposal.text)
    ), words(proposal.text)
    assert answer.status_code == 302
    assert len(live(evening)) == 3


def test_a_limit_is_refused_then_passed_when_the_organiser_chooses_to(office, school):
    evening = upcoming_evening(school, max_per_pupil=1)
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()
    slot = at(evening, school, "S-EVE", 16, 30)
    data = {"parent": school.ann.pk, "slot": slot.pk}

    refused = office.post(url("behalf-book", evening.pk, school.amy.pk), data)
    nothing = (live(evening), emails())
    passed = office.post(url("behalf-book", evening.pk, school.amy.pk), {**data, "override": "on"})

    assert refused.status_code == 409
    assert "At most 1 appointments per pupil at this evening (already 1)." in refused.text
    assert "Book anyway, passing the evening" in refused.text
    assert nothing == ([("Amy", "Maths", "confirmed")], [])
    assert passed.status_code == 302
    made = Appointment.objects.get(evening=evening, teacher__staff__surname="English")
    assert made.override_warnings == [
        "At most 1 appointments per pupil at this evening (already 1)."
    ]
    assert emails() == [("ann@example.org", "evening_booked")]


def test_a_time_just_taken_is_refused_with_409_and_nothing_changes(office, school, upcoming):
    evening = upcoming
    book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()

    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk),
        {"parent": school.ann.pk, "slot": at(evening, school, "S-MIA", 16, 0).pk},
    )

    assert answer.status_code == 409
    assert "someone else has just taken that time" in answer.text
    assert "govuk-error-summary" in answer.text
    assert live(evening) == [("Cal", "Maths", "confirmed")] and emails() == []


# --- moving and cancelling -----------------------------------------------------------------


def test_moving_to_another_time_emails_the_change_with_the_calendar_update(
    office, school, upcoming
):
    evening = upcoming
    [old] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()
    new_slot = at(evening, school, "S-MIA", 18, 0)

    page = office.get(url("behalf-move", evening.pk, old.pk))
    answer = office.post(url("behalf-move", evening.pk, old.pk), {"slot": new_slot.pk})

    assert page.status_code == 200 and f'value="{new_slot.pk}"' in page.text
    assert answer.status_code == 302
    old.refresh_from_db()
    new = old.moved_to
    assert old.status == Appointment.Status.CANCELLED and old.cancelled_by == school.organiser
    assert (new.starts_at, new.teacher, new.parent) == (new_slot.starts_at, old.teacher, school.ann)
    [message] = OutboxMessage.objects.all()
    assert (message.to, message.template) == ("ann@example.org", "evening_changed")
    [event] = ics_of(message).walk("VEVENT")
    assert event.decoded("dtstart") == new_slot.starts_at


def test_moving_to_another_teacher_of_the_pupil(office, school, upcoming):
    evening = upcoming
    [old] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    eve = teacher(evening, school, "S-EVE")
    slot = at(evening, school, "S-EVE", 16, 20)

    page = office.get(url("behalf-move", evening.pk, old.pk), {"teacher": eve.pk})
    answer = office.post(
        url("behalf-move", evening.pk, old.pk), {"teacher": eve.pk, "slot": slot.pk}
    )

    assert "New time with Dr E English" in page.text
    assert answer.status_code == 302
    assert live(evening) == [("Amy", "English", "confirmed")]
    assert ("ann@example.org", "evening_changed") in emails()


def test_a_move_to_a_taken_time_of_another_teacher_changes_nothing(office, school, upcoming):
    evening = upcoming
    [old] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    book_now(school, evening, school.deb, (school.dan, "S-EVE", 16, 20))
    OutboxMessage.objects.all().delete()
    eve = teacher(evening, school, "S-EVE")

    answer = office.post(
        url("behalf-move", evening.pk, old.pk),
        {"teacher": eve.pk, "slot": at(evening, school, "S-EVE", 16, 20).pk},
    )

    assert answer.status_code == 409
    assert "someone else has just taken that time" in answer.text
    old.refresh_from_db()
    assert old.status == Appointment.Status.CONFIRMED
    assert live(evening) == [("Amy", "Maths", "confirmed"), ("Dan", "English", "confirmed")]
    assert emails() == []


def test_cancelling_with_a_reason_emails_every_parent_concerned(office, school, upcoming):
    evening = upcoming
    [appointment] = book_now(school, evening, school.deb, (school.dan, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()

    page = office.get(url("behalf-cancel", evening.pk, appointment.pk))
    answer = office.post(
        url("behalf-cancel", evening.pk, appointment.pk),
        {"reason": "Mrs Dee phoned: Dan is ill."},
    )

    assert "Cancel and email the parents" in page.text
    assert answer.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by == school.organiser
    messages = list(OutboxMessage.objects.order_by("to"))
    assert [(m.to, m.template) for m in messages] == [
        ("deb@example.org", "evening_cancelled"),
        ("don@example.org", "evening_cancelled"),
    ]
    for message in messages:
        assert "The school's reason: Mrs Dee phoned: Dan is ill." in message.body_text
        assert ics_of(message)["method"] == "CANCEL"
    assert live(evening) == []


def test_the_appointment_page_shows_who_booked_it(office, school, upcoming):
    evening = upcoming
    [appointment] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))

    page = words(office.get(url("behalf-appointment", evening.pk, appointment.pk)).text)

    assert "Booked by the parent" in page
    assert "For Ann (ann@example.org)" in page
    assert "Move" in page and "Cancel the appointment" in page


# --- who may, and which ids --------------------------------------------------------------


def test_another_evenings_ids_are_not_found_and_change_nothing(office, school, upcoming):
    evening = upcoming
    other = upcoming_evening(school, name="Other evening", in_days=12)
    [theirs] = book_now(school, other, school.bea, (school.cal, "S-MIA", 16, 0))
    [mine] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()
    other_slot = at(other, school, "S-EVE", 16, 0)
    other_eve = teacher(other, school, "S-EVE")

    answers = [
        office.get(url("behalf-appointment", evening.pk, theirs.pk)),
        office.get(url("behalf-move", evening.pk, theirs.pk)),
        office.post(url("behalf-move", evening.pk, theirs.pk), {"slot": other_slot.pk}),
        office.post(url("behalf-cancel", evening.pk, theirs.pk), {"reason": "x"}),
        office.get(url("behalf", evening.pk), {"slot": other_slot.pk}),
        office.get(url("behalf-pupil", evening.pk, school.amy.pk), {"slot": other_slot.pk}),
        # Zoe (Year 11) is not a pupil of this evening.
        office.get(url("behalf-pupil", evening.pk, school.zoe.pk)),
        # Bea is not a parent of Amy.
        office.post(
            url("behalf-book", evening.pk, school.amy.pk),
            {"parent": school.bea.pk, "slot": at(evening, school, "S-EVE", 16, 0).pk},
        ),
        office.post(
            url("behalf-book", evening.pk, school.amy.pk),
            {"parent": school.ann.pk, "slot": other_slot.pk},
        ),
        office.post(
            url("behalf-book", evening.pk, school.amy.pk),
            {"parent": school.ann.pk, f"slot-{other_eve.pk}": other_slot.pk},
        ),
        # Mr Science teaches Ben, not Amy.
        office.post(
            url("behalf-book", evening.pk, school.amy.pk),
            {
                "parent": school.ann.pk,
                f"slot-{teacher(evening, school, 'S-SAM').pk}": at(
                    evening, school, "S-SAM", 16, 0
                ).pk,
            },
        ),
        office.post(
            url("behalf-move", evening.pk, mine.pk),
            {"teacher": other_eve.pk, "slot": other_slot.pk},
        ),
        office.post(
            url("behalf-move", evening.pk, mine.pk), {"slot": at(other, school, "S-MIA", 17, 0).pk}
        ),
        office.post(url("behalf-book", evening.pk, school.amy.pk), {"parent": "junk"}),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert live(other) == [("Cal", "Maths", "confirmed")]
    assert live(evening) == [("Amy", "Maths", "confirmed")]
    assert emails() == []


def test_staff_without_book_for_parents_cannot_act(client, school, upcoming):
    evening = upcoming
    [appointment] = book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    OutboxMessage.objects.all().delete()
    client.force_login(staff_with("organise_evenings"))
    slot = at(evening, school, "S-EVE", 16, 0)

    answers = [
        client.get(url("behalf", evening.pk)),
        client.get(url("behalf-pupil", evening.pk, school.amy.pk)),
        client.post(
            url("behalf-book", evening.pk, school.amy.pk),
            {"parent": school.ann.pk, "slot": slot.pk},
        ),
        client.post(url("behalf-plan", evening.pk, school.amy.pk), {"parent": school.ann.pk}),
        client.post(url("behalf-move", evening.pk, appointment.pk), {"slot": slot.pk}),
        client.post(url("behalf-cancel", evening.pk, appointment.pk)),
    ]
    seen = client.get(url("behalf-appointment", evening.pk, appointment.pk))

    assert [a.status_code for a in answers] == [403] * len(answers)
    assert seen.status_code == 200 and "Cancel the appointment" not in seen.text
    assert live(evening) == [("Amy", "Maths", "confirmed")] and emails() == []


def test_a_pupil_whose_parents_have_no_account_cannot_be_booked_for(office, school, upcoming):
    school.ann.is_active = False
    school.ann.save()

    page = office.get(url("behalf-pupil", upcoming.pk, school.amy.pk))

    assert "No parent or carer of Amy Ash has an account" in page.text
    assert "Mrs Ann Ash" in page.text


def test_searching_for_nothing_says_what_to_enter(office, upcoming):
    page = office.get(url("behalf", upcoming.pk), {"q": " "})

    assert "Enter part of a pupil&#x27;s name, or their registration group" in page.text


def test_a_draft_evening_refuses_the_booking(office, school, upcoming):
    setup.set_status(evening=upcoming, actor=school.organiser, status="draft")

    answer = office.post(
        url("behalf-book", upcoming.pk, school.amy.pk),
        {"parent": school.ann.pk, "slot": at(upcoming, school, "S-MIA", 16, 0).pk},
    )

    assert answer.status_code == 409
    assert "This evening is still a draft." in answer.text
    assert live(upcoming) == []


def test_the_office_books_for_a_parent_after_booking_closed_and_inside_the_cut_off(office, school):
    # A parent phones the day before: closed to them, not to the office.
    evening = upcoming_evening(school, cutoff_hours=24 * 30)
    setup.update_evening(
        evening=evening,
        actor=school.organiser,
        booking_closes=timezone.now() - timedelta(hours=1),
        now=timezone.now() - timedelta(days=5),
    )
    slot = at(evening, school, "S-MIA", 16, 0)
    with pytest.raises(booking.OutsideWindow):
        booking.book_slots(
            parent=school.ann, evening=evening, choices=[(school.amy.pk, slot.teacher_id, slot.pk)]
        )

    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk), {"parent": school.ann.pk, "slot": slot.pk}
    )

    assert answer.status_code == 302
    assert live(evening) == [("Amy", "Maths", "confirmed")]
    assert ("ann@example.org", "evening_booked") in emails()


def test_separate_meetings_tell_only_the_parent_booked_for(office, school):
    evening = upcoming_evening(school, split_families="separate")

    answer = office.post(
        url("behalf-book", evening.pk, school.dan.pk),
        {"parent": school.deb.pk, "slot": at(evening, school, "S-MIA", 16, 0).pk},
    )

    assert answer.status_code == 302
    assert emails() == [("deb@example.org", "evening_booked")]


def test_a_free_cell_lists_the_teachers_pupils_not_yet_booked(office, school, upcoming):
    evening = upcoming
    book_now(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    sue = setup.add_teacher(evening=evening, actor=school.organiser, staff=school.staff["S-SUE"])

    maths = office.get(url("behalf", evening.pk), {"slot": at(evening, school, "S-MIA", 17, 0).pk})
    senco = office.get(url("behalf", evening.pk), {"slot": sue.slots.order_by("starts_at")[0].pk})

    listed = re.search(r'id="taught">.*?</ul>', maths.text, re.S).group(0)
    assert re.findall(r">([A-Z][a-z]+ [A-Z][a-z]+)</a>", listed) == ["Cal Best", "Dan Dee"]
    assert 'id="taught"' not in senco.text  # every pupil may book the SENCO: search instead


def test_the_pupil_page_shows_the_parents_other_children_and_visit(office, school, upcoming):
    evening = upcoming
    book_now(school, evening, school.ann, (school.ben, "S-SAM", 17, 0))

    page = office.get(url("behalf-pupil", evening.pk, school.amy.pk))
    text = words(page.text)

    assert "Ann's other appointments at this evening: 17:00–17:10: Ben Ash with Mr S Science" in (
        text
    )
    assert "Also book for: Ben Ash" in text
    assert f"/grid/pupils/{school.ben.pk}/?parent={school.ann.pk}" in page.text


def test_after_booking_the_organiser_is_back_on_the_grid_as_they_filtered_it(
    office, school, upcoming
):
    evening = upcoming
    office.get(url("grid", evening.pk), {"year": "7", "department": "Maths"})

    answer = office.post(
        url("behalf-book", evening.pk, school.amy.pk),
        {"parent": school.ann.pk, "slot": at(evening, school, "S-MIA", 16, 0).pk},
    )

    day = evening.days.get().pk
    assert answer.url == f"{url('grid', evening.pk)}?year=7&department=Maths&day={day}"
    office.get(url("grid", evening.pk))  # every teacher again
    [appointment] = live_appointments(evening)
    moved = office.post(
        url("behalf-move", evening.pk, appointment.pk),
        {"slot": at(evening, school, "S-MIA", 17, 0).pk},
    )
    assert moved.url == f"{url('grid', evening.pk)}?day={day}"


def live_appointments(evening):
    return list(Appointment.objects.filter(evening=evening, status__in=Appointment.LIVE))


def test_search_finds_a_year_group_by_its_number_and_names_by_any_part(school, office, upcoming):
    pupils = {
        school.amy.pk: "Amy",
        school.ben.pk: "Ben",
        school.cal.pk: "Cal",
        school.dan.pk: "Dan",
    }

    def found(query):
        page = office.get(url("behalf", upcoming.pk), {"q": query}).text
        links = {url("behalf-pupil", upcoming.pk, pk): name for pk, name in pupils.items()}
        return {name for link, name in links.items() if f'href="{link}' in page}

    # From evenings_school's rows: Amy, Cal and Dan are in year 7, Ben in year 9.
    assert found("7") == {"Amy", "Cal", "Dan"}
    assert found("Year 7") == found("Y7") == {"Amy", "Cal", "Dan"}
    assert found("9") == {"Ben"}
    assert found("as") == {"Amy", "Ben"}  # part of a surname
    assert found("7 as") == {"Amy"}
