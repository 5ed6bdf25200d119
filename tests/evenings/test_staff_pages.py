"""The organiser's set-up pages: the list, creating and editing an evening, its page
and status, days, teachers, class lengths and breaks. Every change goes through the
set-up services; a refused change lists the bookings and changes nothing."""

import html
import re
from datetime import datetime

import pytest
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, teacher

from schoolgate.addons.models import AddonSettings
from schoolgate.evenings.models import (
    Break,
    ClassLength,
    Evening,
    EveningDay,
    EveningTeacher,
    Slot,
)
from schoolgate.evenings.setup import services as setup


def text(response) -> str:
    return html.unescape(response.content.decode())


def url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


@pytest.fixture
def organiser(client, school):
    client.force_login(school.organiser)
    return client


def evening_data(**overrides):
    """A valid create form: one day, Tuesday 9 March 2027 16:00-19:00 (GMT)."""
    data = {
        "name": "Year 7 parents' evening",
        "description": "Come to the hall.",
        "days-TOTAL_FORMS": "3",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "1",
        "days-MAX_NUM_FORMS": "3",
        "days-0-date": "2027-03-09",
        "days-0-starts": "16:00",
        "days-0-ends": "19:00",
        "days-1-date": "",
        "days-1-starts": "",
        "days-1-ends": "",
        "days-2-date": "",
        "days-2-starts": "",
        "days-2-ends": "",
        "slot_minutes": "10",
        "mode": "in_person",
        "opens_date": "2027-02-20",
        "opens_time": "09:00",
        "closes_date": "2027-03-09",
        "closes_time": "12:00",
        "cutoff_hours": "",
        "year_groups": ["7"],
        "max_per_pupil": "",
        "max_per_parent": "",
        "travel_gap_minutes": "0",
        "split_families": "shared",
    }
    data.update(overrides)
    return data


def settings_data(evening, **overrides):
    """The edit form as the page fills it in for `evening`."""
    from schoolgate.evenings.web.staff.forms import EveningForm

    initial = EveningForm.initial_for(evening)
    data = {
        key: ("" if value is None else value)
        for key, value in initial.items()
        if key not in ("year_groups", "registration_groups")
    }
    for key in ("opens_date", "closes_date"):
        data[key] = initial[key].isoformat()
    for key in ("opens_time", "closes_time"):
        data[key] = initial[key].strftime("%H:%M")
    data["year_groups"] = [str(y) for y in initial["year_groups"]]
    data["registration_groups"] = [str(g.pk) for g in initial["registration_groups"]]
    data.update(overrides)
    return data


def snapshot(evening):
    """Everything a set-up change could touch, to prove a refusal changed nothing."""
    evening.refresh_from_db()
    return (
        {f.name: getattr(evening, f.name) for f in Evening._meta.concrete_fields},
        sorted(evening.registration_groups.values_list("pk", flat=True)),
        list(EveningDay.objects.filter(evening=evening).values_list("pk", "starts_at", "ends_at")),
        list(
            EveningTeacher.objects.filter(evening=evening)
            .order_by("pk")
            .values_list("pk", "removed", "room", "video_link", "slot_minutes")
        ),
        list(Slot.objects.filter(evening=evening).order_by("pk").values_list("pk", "starts_at")),
        list(ClassLength.objects.filter(evening=evening).values_list("group_id", "minutes")),
        list(Break.objects.filter(evening=evening).values_list("pk", "starts_at", "ends_at")),
    )


def amy_booked_with_mia(school, evening):
    return book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0)).appointments[0]


# --- the list ---------------------------------------------------------------------


def test_list_shows_each_evening_with_status_dates_teachers_and_appointments(
    organiser, school, evening
):
    amy_booked_with_mia(school, evening)
    make_evening(school, name="Year 11 evening", year_groups=[11])
    response = organiser.get(url("list"))
    assert response.status_code == 200
    page = text(response)
    assert "Spring parents' evening" in page
    assert "Year 11 evening" in page
    assert "Published" in page
    assert "Tue 10 Mar 2026" in page
    assert "Create an evening" in page
    rows = {row.name: row for row in response.context["evenings"]}
    assert rows["Spring parents' evening"].teacher_count == 5
    assert rows["Spring parents' evening"].appointment_count == 1
    assert rows["Year 11 evening"].teacher_count == 1
    assert rows["Year 11 evening"].appointment_count == 0


def test_list_says_when_there_are_no_evenings(organiser):
    response = organiser.get(url("list"))
    assert "There are no parents' evenings yet." in text(response)


# --- creating an evening --------------------------------------------------------


def test_create_page_shows_an_empty_form(organiser):
    response = organiser.get(url("create"))
    assert response.status_code == 200
    page = text(response)
    assert 'name="days-0-date"' in page and 'name="days-2-date"' in page
    assert "Year 7" in page and "Year 9" in page and "7A" in page


def test_creating_an_evening_makes_a_draft_with_its_days_in_school_time(organiser, school):
    response = organiser.post(
        url("create"),
        evening_data(
            **{"days-1-date": "2027-03-30", "days-1-starts": "16:30", "days-1-ends": "18:00"},
            cutoff_hours="24",
            max_per_pupil="3",
            max_per_parent="6",
            travel_gap_minutes="2",
            mode="both",
            split_families="separate",
            registration_groups=[str(school.group("9B").pk)],
        ),
    )
    evening = Evening.objects.get()
    assert response.status_code == 302
    assert response.url == url("evening", evening.pk)
    assert evening.status == Evening.Status.DRAFT
    assert evening.created_by == school.organiser
    assert evening.description == "Come to the hall."
    assert (evening.cutoff_hours, evening.max_per_pupil, evening.max_per_parent) == (24, 3, 6)
    assert evening.travel_gap_minutes == 2
    assert evening.mode == Evening.Mode.BOTH
    assert evening.split_families == Evening.SplitFamilies.SEPARATE
    assert evening.year_groups == [7]
    assert list(evening.registration_groups.all()) == [school.group("9B")]
    assert evening.booking_opens == london(2027, 2, 20, 9, 0)
    # 9 March is GMT; 30 March is after the clocks go forward (BST): both London times.
    assert list(evening.days.values_list("starts_at", "ends_at")) == [
        (london(2027, 3, 9, 16, 0), london(2027, 3, 9, 19, 0)),
        (london(2027, 3, 30, 16, 30), london(2027, 3, 30, 18, 0)),
    ]
    staff = set(
        EveningTeacher.objects.filter(evening=evening).values_list("staff__mis_id", flat=True)
    )
    assert staff == {"S-TOM", "S-MIA", "S-EVE", "S-SAM", "S-FAY"}
    assert Slot.objects.filter(evening=evening).count() == 5 * (18 + 9)
    followed = organiser.get(response.url)
    assert "was created as a draft" in text(followed)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "This field is required."),
        ({"closes_date": "2027-02-19"}, "closes_date", "Booking must close after it opens."),
        ({"year_groups": []}, "year_groups", "Choose at least one year group"),
        ({"slot_minutes": "0"}, "slot_minutes", "greater than or equal to 1"),
        ({"opens_time": "25:00"}, "opens_time", "Enter a valid time."),
        ({"mode": "carrier pigeon"}, "mode", "Select a valid choice."),
        ({"days-0-ends": "15:00"}, None, "The day must end after it starts."),
        ({"days-0-date": ""}, None, "This field is required."),
        ({"days-0-date": "2027-03-28", "days-0-starts": "01:30"}, None, "clocks go forward"),
    ],
)
def test_invalid_input_on_the_create_form_creates_nothing(organiser, changes, field, message):
    response = organiser.post(url("create"), evening_data(**changes))
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert "govuk-error-summary" in page
    if field:
        assert message in " ".join(response.context["form"].errors[field])
    assert not Evening.objects.exists()


def test_overlapping_days_are_refused_and_nothing_is_created(organiser):
    response = organiser.post(
        url("create"),
        evening_data(
            **{"days-1-date": "2027-03-09", "days-1-starts": "18:00", "days-1-ends": "20:00"}
        ),
    )
    assert response.status_code == 200
    assert "Days of an evening cannot overlap." in text(response)
    assert not Evening.objects.exists()


# --- the evening page and its status -----------------------------------------------


def test_evening_page_shows_settings_days_teachers_lengths_and_breaks(organiser, school, evening):
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 45),
        label="Tea",
        now=NOW,
    )
    response = organiser.get(url("evening", evening.pk))
    assert response.status_code == 200
    page = text(response)
    for expected in (
        "Spring parents' evening",
        "Published",
        "Tuesday 10 March 2026, 16:00–19:00",
        "5 teachers take part.",
        "17:30–17:45: Tea (every teacher)",
        "Year 7, Year 9",
        "10 minutes",
        "Close the evening",
        "Back to draft",
    ):
        assert expected in page, expected
    for name in ("edit", "days", "teachers", "class-lengths", "breaks"):
        assert url(name, evening.pk) in page


@pytest.mark.parametrize("status", ["closed", "draft", "published"])
def test_status_buttons_set_the_status(organiser, evening, status):
    evening.status = Evening.Status.CLOSED if status == "published" else evening.status
    evening.save()
    response = organiser.post(url("status", evening.pk), {"status": status})
    assert response.status_code == 302
    evening.refresh_from_db()
    assert evening.status == status


def test_an_unknown_status_is_refused(organiser, evening):
    response = organiser.post(url("status", evening.pk), {"status": "party"}, follow=True)
    assert "Unknown status." in text(response)
    evening.refresh_from_db()
    assert evening.status == Evening.Status.PUBLISHED


# --- editing the settings ----------------------------------------------------------


def test_settings_page_is_filled_in_with_the_evening(organiser, evening):
    response = organiser.get(url("edit", evening.pk))
    assert response.status_code == 200
    page = text(response)
    assert 'value="Spring parents\' evening"' in page or "Spring parents' evening" in page
    assert 'value="2026-02-20"' in page and 'value="09:00"' in page
    assert 'name="days-0-date"' not in page  # days have their own page


def test_saving_the_settings_changes_the_evening(organiser, school, evening):
    response = organiser.post(
        url("edit", evening.pk),
        settings_data(evening, name="Spring evening", cutoff_hours="12", max_per_parent="4"),
    )
    assert response.status_code == 302
    evening.refresh_from_db()
    assert (evening.name, evening.cutoff_hours, evening.max_per_parent) == ("Spring evening", 12, 4)


def test_saving_unchanged_settings_changes_nothing(organiser, evening):
    before = snapshot(evening)
    response = organiser.post(url("edit", evening.pk), settings_data(evening), follow=True)
    assert "Nothing was changed." in text(response)
    assert snapshot(evening) == before


def test_invalid_settings_change_nothing(organiser, evening):
    before = snapshot(evening)
    response = organiser.post(
        url("edit", evening.pk), settings_data(evening, slot_minutes="", travel_gap_minutes="-1")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"slot_minutes", "travel_gap_minutes"}
    assert snapshot(evening) == before


def test_a_default_length_that_a_teachers_length_is_not_a_multiple_of_is_an_error(
    organiser, school, evening
):
    setup.update_teacher(
        teacher=teacher(evening, school, "S-MIA"), actor=school.organiser, slot_minutes=20, now=NOW
    )
    before = snapshot(evening)
    response = organiser.post(url("edit", evening.pk), settings_data(evening, slot_minutes="15"))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["slot_minutes"])
    assert "whole multiple of the evening's 15 minutes" in errors
    assert snapshot(evening) == before


def test_a_new_length_that_would_break_a_booking_is_refused_with_the_booking(
    organiser, school, evening
):
    amy_booked_with_mia(school, evening)
    before = snapshot(evening)
    response = organiser.post(url("edit", evening.pk), settings_data(evening, slot_minutes="5"))
    assert response.status_code == 409
    page = text(response)
    assert "This change would break bookings: nothing was changed" in page
    assert "Teachers using the evening's length have bookings" in page
    assert "Amy Ash with Ms M Maths, Tue 10 Mar, 16:00 (booked for Ann)" in page
    assert snapshot(evening) == before


def test_leaving_booked_pupils_out_of_the_audience_is_refused(organiser, school, evening):
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 0))
    before = snapshot(evening)
    response = organiser.post(url("edit", evening.pk), settings_data(evening, year_groups=["7"]))
    assert response.status_code == 409
    page = text(response)
    assert "Some booked pupils would no longer be part of this evening." in page
    assert "Ben Ash with Mr S Science" in page
    assert snapshot(evening) == before


# --- days --------------------------------------------------------------------------


def test_days_page_lists_the_days_with_their_bookings(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    response = organiser.get(url("days", evening.pk))
    assert response.status_code == 200
    assert response.context["days"][0][1] == 1
    assert "Tuesday 10 March 2026" in text(response)
    # The only day cannot be removed: no button for it.
    assert url("day-remove", evening.pk, evening.days.get().pk) not in text(response)


def test_adding_a_day_gives_every_teacher_slots_in_it(organiser, evening):
    before = Slot.objects.filter(evening=evening).count()
    response = organiser.post(
        url("days", evening.pk), {"date": "2026-03-12", "starts": "09:00", "ends": "10:00"}
    )
    assert response.status_code == 302
    assert evening.days.count() == 2
    assert Slot.objects.filter(evening=evening).count() == before + 5 * 6


def test_a_date_may_be_typed_the_british_way_without_a_date_picker(organiser, evening):
    response = organiser.post(
        url("days", evening.pk), {"date": "12/03/2026", "starts": "09:00", "ends": "10:00"}
    )
    assert response.status_code == 302
    assert evening.days.last().starts_at == london(2026, 3, 12, 9, 0)


def test_a_day_overlapping_another_is_refused(organiser, evening):
    before = snapshot(evening)
    response = organiser.post(
        url("days", evening.pk), {"date": "2026-03-10", "starts": "18:00", "ends": "20:00"}
    )
    assert response.status_code == 200
    assert "Days of an evening cannot overlap." in text(response)
    assert snapshot(evening) == before


def test_changing_a_day_moves_it(organiser, evening):
    day = evening.days.get()
    page = text(organiser.get(url("day", evening.pk, day.pk)))
    assert 'value="2026-03-10"' in page and 'value="16:00"' in page
    response = organiser.post(
        url("day", evening.pk, day.pk), {"date": "2026-03-10", "starts": "15:00", "ends": "19:00"}
    )
    assert response.status_code == 302
    day.refresh_from_db()
    assert day.starts_at == london(2026, 3, 10, 15, 0)


def test_shortening_a_day_over_a_booking_is_refused_with_the_booking(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    day = evening.days.get()
    before = snapshot(evening)
    response = organiser.post(
        url("day", evening.pk, day.pk), {"date": "2026-03-10", "starts": "17:00", "ends": "19:00"}
    )
    assert response.status_code == 409
    assert "Amy Ash with Ms M Maths" in text(response)
    assert snapshot(evening) == before


def test_removing_a_day_without_bookings(organiser, school, evening):
    extra = setup.add_day(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 12, 16, 0),
        ends_at=london(2026, 3, 12, 17, 0),
        now=NOW,
    )
    response = organiser.post(url("day-remove", evening.pk, extra.pk))
    assert response.status_code == 302
    assert list(evening.days.all()) == [evening.days.get()]
    assert not EveningDay.objects.filter(pk=extra.pk).exists()


def test_removing_a_day_with_bookings_is_refused_with_them(organiser, school, evening):
    setup.add_day(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 12, 16, 0),
        ends_at=london(2026, 3, 12, 17, 0),
        now=NOW,
    )
    amy_booked_with_mia(school, evening)
    day = evening.days.first()
    before = snapshot(evening)
    response = organiser.post(url("day-remove", evening.pk, day.pk))
    assert response.status_code == 409
    page = text(response)
    assert "This day has bookings." in page
    assert "Amy Ash with Ms M Maths" in page
    assert snapshot(evening) == before


def test_the_last_day_cannot_be_removed(organiser, evening):
    day = evening.days.get()
    response = organiser.post(url("day-remove", evening.pk, day.pk), follow=True)
    assert "An evening needs at least one day." in text(response)
    assert evening.days.count() == 1


# --- teachers ----------------------------------------------------------------------


def test_teachers_page_lists_the_teachers_and_who_can_be_added(organiser, school, evening):
    response = organiser.get(url("teachers", evening.pk))
    assert response.status_code == 200
    page = text(response)
    assert "5 teachers take part" in page
    assert "Ms M Maths" in page and "Teaches these pupils" in page
    choices = [str(s) for s in response.context["add_form"].fields["staff"].queryset]
    assert choices == ["Mr Z Eleven", "Ms S Senco"]


def test_teachers_page_warns_of_missing_video_links_when_meetings_may_be_by_video(
    organiser, school
):
    evening = make_evening(school, mode=Evening.Mode.BOTH)
    mia = teacher(evening, school, "S-MIA")
    setup.update_teacher(
        teacher=mia, actor=school.organiser, video_link="https://meet.example.org/m", now=NOW
    )
    # With the school's video service set, each appointment has its own room: no warning.
    page = text(organiser.get(url("teachers", evening.pk)))
    assert "video meeting link yet" not in page
    # Without it, the teachers' own links are what families get.
    AddonSettings.objects.filter(pk=1).update(video_server="")
    page = text(organiser.get(url("teachers", evening.pk)))
    assert "4 teachers have no video meeting link yet." in page
    in_person = make_evening(school, name="In person")
    assert "video meeting link yet" not in text(organiser.get(url("teachers", in_person.pk)))


def test_adding_a_member_of_staff(organiser, school, evening):
    sue = school.staff["S-SUE"]
    response = organiser.post(url("teacher-add", evening.pk), {"staff": sue.pk, "room": " Hall "})
    assert response.status_code == 302
    added = EveningTeacher.objects.get(evening=evening, staff=sue)
    assert added.source == EveningTeacher.Source.ADDED and added.room == "Hall"
    assert Slot.objects.filter(teacher=added).count() == 18


def test_adding_someone_already_taking_part_is_an_error_on_the_field(organiser, school, evening):
    before = snapshot(evening)
    response = organiser.post(url("teacher-add", evening.pk), {"staff": school.staff["S-MIA"].pk})
    assert response.status_code == 200
    assert "staff" in response.context["add_form"].errors
    assert snapshot(evening) == before


def test_removing_and_restoring_a_teacher_keeps_their_room(organiser, school, evening):
    tom = teacher(evening, school, "S-TOM")
    tom.room = "T1"
    tom.save()
    assert organiser.post(url("teacher-remove", evening.pk, tom.pk)).status_code == 302
    tom.refresh_from_db()
    assert tom.removed and not Slot.objects.filter(teacher=tom).exists()
    page = text(organiser.get(url("teachers", evening.pk)))
    assert url("teacher-restore", evening.pk, tom.pk) in page
    assert organiser.post(url("teacher-restore", evening.pk, tom.pk)).status_code == 302
    tom.refresh_from_db()
    assert not tom.removed and tom.room == "T1"
    assert Slot.objects.filter(teacher=tom).count() == 18


def test_removing_a_teacher_with_bookings_is_refused_with_them(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    mia = teacher(evening, school, "S-MIA")
    before = snapshot(evening)
    response = organiser.post(url("teacher-remove", evening.pk, mia.pk))
    assert response.status_code == 409
    page = text(response)
    assert "Ms M Maths has bookings; move or cancel them first." in page
    assert "Amy Ash with Ms M Maths, Tue 10 Mar, 16:00" in page
    assert snapshot(evening) == before


def test_refreshing_the_teachers_from_the_mis(organiser, school, evening):
    tom = teacher(evening, school, "S-TOM")
    setup.remove_teacher(teacher=tom, actor=school.organiser, now=NOW)
    EveningTeacher.objects.filter(evening=evening, staff__mis_id="S-EVE").delete()
    response = organiser.post(url("teachers-refresh", evening.pk), follow=True)
    page = text(response)
    assert "1 teacher joined." in page
    ids = EveningTeacher.objects.filter(evening=evening, removed=False)
    assert set(ids.values_list("staff__mis_id", flat=True)) == {"S-MIA", "S-EVE", "S-SAM", "S-FAY"}


def test_changing_a_teachers_room_link_and_length(organiser, school, evening):
    mia = teacher(evening, school, "S-MIA")
    assert organiser.get(url("teacher", evening.pk, mia.pk)).status_code == 200
    response = organiser.post(
        url("teacher", evening.pk, mia.pk),
        {"room": "M2", "video_link": "https://meet.example.org/mia", "slot_minutes": "20"},
    )
    assert response.status_code == 302
    mia.refresh_from_db()
    assert (mia.room, mia.video_link, mia.slot_minutes) == (
        "M2",
        "https://meet.example.org/mia",
        20,
    )
    assert Slot.objects.filter(teacher=mia).count() == 9


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slot_minutes": "15"}, "whole multiple of the evening's 10 minutes"),
        ({"video_link": "not a link"}, "Enter a valid URL."),
        ({"slot_minutes": "-10"}, "greater than or equal to 1"),
    ],
)
def test_invalid_teacher_details_change_nothing(organiser, school, evening, data, message):
    mia = teacher(evening, school, "S-MIA")
    before = snapshot(evening)
    response = organiser.post(url("teacher", evening.pk, mia.pk), {"room": "M2", **data})
    assert response.status_code == 200
    assert message in text(response)
    assert snapshot(evening) == before


def test_a_booked_teachers_length_cannot_change(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    mia = teacher(evening, school, "S-MIA")
    before = snapshot(evening)
    response = organiser.post(url("teacher", evening.pk, mia.pk), {"slot_minutes": "20"})
    assert response.status_code == 409
    assert "Amy Ash with Ms M Maths" in text(response)
    assert snapshot(evening) == before


def test_a_removed_teacher_has_no_details_page(organiser, school, evening):
    tom = teacher(evening, school, "S-TOM")
    setup.remove_teacher(teacher=tom, actor=school.organiser, now=NOW)
    assert organiser.get(url("teacher", evening.pk, tom.pk)).status_code == 404


# --- class lengths -----------------------------------------------------------------


def test_class_lengths_page_offers_the_classes_of_the_evening(organiser, school, evening):
    response = organiser.get(url("class-lengths", evening.pk))
    assert response.status_code == 200
    groups = {g.mis_id for g in response.context["form"].fields["group"].queryset}
    assert groups == {"7A", "9B", "7MA", "7EN", "9SC"}  # not 11C: no Year 11 here


def test_setting_and_removing_a_class_length(organiser, school, evening):
    group = school.group("7MA")
    response = organiser.post(
        url("class-lengths", evening.pk), {"group": group.pk, "minutes": "20"}
    )
    assert response.status_code == 302
    length = ClassLength.objects.get(evening=evening)
    assert (length.group, length.minutes) == (group, 20)
    page = text(organiser.get(url("class-lengths", evening.pk)))
    assert "7 Maths (Maths)" in page and "20 min" in page
    response = organiser.post(url("class-length-remove", evening.pk, length.pk))
    assert response.status_code == 302
    assert not ClassLength.objects.exists()


def test_a_class_length_not_a_multiple_is_an_error_and_changes_nothing(organiser, school, evening):
    response = organiser.post(
        url("class-lengths", evening.pk), {"group": school.group("7MA").pk, "minutes": "15"}
    )
    assert response.status_code == 200
    assert "not a whole multiple" in " ".join(response.context["form"].errors["minutes"])
    assert not ClassLength.objects.exists()


def test_a_class_length_is_refused_while_its_pupils_have_bookings(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    before = snapshot(evening)
    response = organiser.post(
        url("class-lengths", evening.pk), {"group": school.group("7MA").pk, "minutes": "20"}
    )
    assert response.status_code == 409
    page = text(response)
    assert "Pupils of this class have bookings with its teachers." in page
    assert "Amy Ash with Ms M Maths" in page
    assert snapshot(evening) == before


# --- breaks ------------------------------------------------------------------------


def break_data(evening, **overrides):
    data = {
        "label": "Tea",
        "day": evening.days.get().pk,
        "starts": "17:30",
        "ends": "17:45",
        "who": "all",
    }
    data.update(overrides)
    return data


def test_adding_a_break_for_every_teacher(organiser, evening):
    assert organiser.get(url("breaks", evening.pk)).status_code == 200
    response = organiser.post(url("breaks", evening.pk), break_data(evening))
    assert response.status_code == 302
    brk = Break.objects.get(evening=evening)
    assert brk.all_teachers and brk.label == "Tea"
    assert (brk.starts_at, brk.ends_at) == (
        london(2026, 3, 10, 17, 30),
        london(2026, 3, 10, 17, 45),
    )
    assert brk.claims.count() == 5 * 2
    page = text(organiser.get(url("breaks", evening.pk)))
    assert "17:30–17:45" in page and "Every teacher" in page


def test_adding_a_break_for_some_teachers(organiser, school, evening):
    mia, tom = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-TOM")
    response = organiser.post(
        url("breaks", evening.pk), break_data(evening, who="some", teachers=[mia.pk, tom.pk])
    )
    assert response.status_code == 302
    brk = Break.objects.get(evening=evening)
    assert not brk.all_teachers and set(brk.teachers.all()) == {mia, tom}
    assert brk.claims.count() == 4


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"who": "some"}, "teachers"),
        ({"ends": "17:00"}, "ends"),
        ({"starts": ""}, "starts"),
        ({"day": "999999"}, "day"),
    ],
)
def test_invalid_breaks_change_nothing(organiser, evening, changes, field):
    before = snapshot(evening)
    response = organiser.post(url("breaks", evening.pk), break_data(evening, **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert snapshot(evening) == before


def test_a_break_over_a_booking_is_refused_with_it(organiser, school, evening):
    amy_booked_with_mia(school, evening)
    before = snapshot(evening)
    response = organiser.post(
        url("breaks", evening.pk), break_data(evening, starts="16:00", ends="16:10")
    )
    assert response.status_code == 409
    page = text(response)
    assert "The break would cover booked appointments." in page
    assert "Amy Ash with Ms M Maths, Tue 10 Mar, 16:00" in page
    assert snapshot(evening) == before


def test_changing_and_removing_a_break(organiser, school, evening):
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 45),
        now=NOW,
    )
    page = text(organiser.get(url("break", evening.pk, brk.pk)))
    assert 'value="17:30"' in page
    mia = teacher(evening, school, "S-MIA")
    response = organiser.post(
        url("break", evening.pk, brk.pk),
        break_data(evening, starts="18:00", ends="18:20", who="some", teachers=[mia.pk]),
    )
    assert response.status_code == 302
    brk.refresh_from_db()
    assert brk.starts_at == london(2026, 3, 10, 18, 0) and list(brk.teachers.all()) == [mia]
    assert brk.claims.count() == 2
    assert organiser.post(url("break-remove", evening.pk, brk.pk)).status_code == 302
    assert not Break.objects.exists()


def test_moving_a_break_over_a_booking_is_refused(organiser, school, evening):
    brk = setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 45),
        now=NOW,
    )
    amy_booked_with_mia(school, evening)
    before = snapshot(evening)
    response = organiser.post(
        url("break", evening.pk, brk.pk), break_data(evening, starts="16:00", ends="16:20")
    )
    assert response.status_code == 409
    assert "Amy Ash with Ms M Maths" in text(response)
    assert snapshot(evening) == before


# --- who may use these pages, and ids of other evenings ------------------------------


def every_url(evening, school):
    """(method, url) for every page and action of one evening."""
    day = evening.days.first()
    mia = teacher(evening, school, "S-MIA")
    brk = Break.objects.filter(evening=evening).first()
    length = ClassLength.objects.filter(evening=evening).first()
    return [
        ("get", url("list")),
        ("get", url("create")),
        ("post", url("create")),
        ("get", url("evening", evening.pk)),
        ("get", url("edit", evening.pk)),
        ("post", url("edit", evening.pk)),
        ("post", url("status", evening.pk)),
        ("get", url("days", evening.pk)),
        ("post", url("days", evening.pk)),
        ("get", url("day", evening.pk, day.pk)),
        ("post", url("day", evening.pk, day.pk)),
        ("post", url("day-remove", evening.pk, day.pk)),
        ("get", url("teachers", evening.pk)),
        ("post", url("teachers-refresh", evening.pk)),
        ("post", url("teacher-add", evening.pk)),
        ("get", url("teacher", evening.pk, mia.pk)),
        ("post", url("teacher", evening.pk, mia.pk)),
        ("post", url("teacher-remove", evening.pk, mia.pk)),
        ("post", url("teacher-restore", evening.pk, mia.pk)),
        ("get", url("class-lengths", evening.pk)),
        ("post", url("class-lengths", evening.pk)),
        ("post", url("class-length-remove", evening.pk, length.pk)),
        ("get", url("breaks", evening.pk)),
        ("post", url("breaks", evening.pk)),
        ("get", url("break", evening.pk, brk.pk)),
        ("post", url("break", evening.pk, brk.pk)),
        ("post", url("break-remove", evening.pk, brk.pk)),
    ]


@pytest.fixture
def full_evening(school, evening):
    """The evening with a break and a class length, so every URL has an id to take."""
    setup.add_break(
        evening=evening,
        actor=school.organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 45),
        now=NOW,
    )
    setup.set_class_length(
        evening=evening, actor=school.organiser, group=school.group("7MA"), minutes=20, now=NOW
    )
    return evening


def test_signed_out_people_are_sent_to_sign_in(client, school, full_evening):
    before = snapshot(full_evening)
    for method, address in every_url(full_evening, school):
        response = getattr(client, method)(address)
        assert response.status_code == 302, address
        assert response.url.startswith(reverse("accounts:sign-in")), address
    assert snapshot(full_evening) == before


@pytest.mark.parametrize("who", ["teacher_user", "ann"])
def test_teachers_and_parents_are_refused_every_page_and_action(client, school, full_evening, who):
    client.force_login(getattr(school, who))
    before = snapshot(full_evening)
    for method, address in every_url(full_evening, school):
        response = getattr(client, method)(
            address, {"status": "closed"} if method == "post" else None
        )
        assert response.status_code == 403, address
    assert snapshot(full_evening) == before


def test_ids_of_another_evening_are_not_found(organiser, school, full_evening):
    other = make_evening(school, name="Other evening", year_groups=[7])
    before = snapshot(full_evening), snapshot(other)
    mine = every_url(full_evening, school)
    swapped = [
        (method, address.replace(f"/{full_evening.pk}/", f"/{other.pk}/", 1))
        for method, address in mine
        if re.search(r"/\d+/[a-z-]+/\d+/", address)  # the URLs with a second id
    ]
    assert len(swapped) == 11
    for method, address in swapped:
        assert getattr(organiser, method)(address).status_code == 404, address
    assert (snapshot(full_evening), snapshot(other)) == before


def test_an_evening_that_does_not_exist_is_not_found(organiser):
    assert organiser.get(url("evening", 999999)).status_code == 404
    assert organiser.post(url("status", 999999), {"status": "closed"}).status_code == 404


def test_actions_refuse_get(organiser, school, full_evening):
    for method, address in every_url(full_evening, school):
        if method == "post" and organiser.get(address).status_code != 200:
            assert organiser.get(address).status_code == 405, address


def test_changes_need_the_csrf_token(school, evening):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(school.organiser)
    response = client.post(url("status", evening.pk), {"status": "closed"})
    assert response.status_code == 403
    evening.refresh_from_db()
    assert evening.status == Evening.Status.PUBLISHED


def test_pages_show_times_in_the_school_time_zone_across_the_clock_change(organiser, school):
    evening = make_evening(
        school,
        days=[
            (
                datetime(2026, 4, 7, 15, 0, tzinfo=london(2026, 4, 7).tzinfo),
                london(2026, 4, 7, 18, 0),
            )
        ],
    )
    page = text(organiser.get(url("days", evening.pk)))
    assert "15:00–18:00" in page  # BST: 14:00–17:00 UTC shown as London time
