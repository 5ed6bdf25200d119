"""Copying an evening to make the next one: days moved keeping their times on the
school's clock (across a clock change), teachers with their rooms, links and lengths,
added and removed staff, class lengths, breaks and settings; a draft, no bookings."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, teacher

from schoolgate.evenings.booking.errors import InvalidSetup, NotAllowed
from schoolgate.evenings.models import (
    Appointment,
    Break,
    ClassLength,
    Evening,
    EveningTeacher,
    RoomMap,
    Slot,
    SlotClaim,
)
from schoolgate.evenings.setup import services as setup
from schoolgate.evenings.setup.copying import copy_evening
from schoolgate.mis.models import Staff


def local(value):
    return value.astimezone(london(2026, 1, 1).tzinfo).strftime("%a %d %b %H:%M")


@pytest.fixture
def source(school):
    """Two days in March (GMT), rooms, a link, a length, Sue added, Fay removed, a class
    length, a break for all and one for Mia, settings off their defaults, a booking."""
    evening = make_evening(
        school,
        days=[
            (london(2026, 3, 10, 16, 0), london(2026, 3, 10, 19, 0)),
            (london(2026, 3, 11, 15, 30), london(2026, 3, 11, 18, 0)),
        ],
        cutoff_hours=24,
        max_per_pupil=3,
        travel_gap_minutes=5,
        mode=Evening.Mode.BOTH,
        description="Come to the hall.",
    )
    organiser = school.organiser
    mia, eve = teacher(evening, school, "S-MIA"), teacher(evening, school, "S-EVE")
    setup.update_teacher(teacher=mia, actor=organiser, room="M1", now=NOW)
    setup.update_teacher(
        teacher=eve,
        actor=organiser,
        room="E2",
        video_link="https://meet.example/eve",
        slot_minutes=20,
        now=NOW,
    )
    setup.add_teacher(evening=evening, actor=organiser, staff=school.staff["S-SUE"], room="Lib")
    setup.remove_teacher(teacher=teacher(evening, school, "S-FAY"), actor=organiser, now=NOW)
    setup.set_class_length(
        evening=evening, actor=organiser, group=school.group("7MA"), minutes=20, now=NOW
    )
    setup.add_break(
        evening=evening,
        actor=organiser,
        starts_at=london(2026, 3, 10, 17, 30),
        ends_at=london(2026, 3, 10, 17, 50),
        label="Tea",
        now=NOW,
    )
    setup.add_break(
        evening=evening,
        actor=organiser,
        starts_at=london(2026, 3, 11, 16, 0),
        ends_at=london(2026, 3, 11, 16, 30),
        teachers=[mia],
        label="Meeting",
        now=NOW,
    )
    Evening.objects.filter(pk=evening.pk).update(
        teachers_set_breaks=True,
        waiting_offer_hours=12,
        room_map_type="application/pdf",
    )
    RoomMap.objects.create(evening=evening, data=b"%PDF-1.4 map")
    book(school, evening, school.ann, (school.amy, "S-EVE", 16, 0))
    return Evening.objects.get(pk=evening.pk)


def test_days_move_and_keep_their_times_across_the_clock_change(school, source):
    # 7 April 2026 is after the clocks went forward: 16:00 is 15:00 UTC now.
    copy = copy_evening(
        evening=source,
        actor=school.organiser,
        name="Summer parents' evening",
        starts_on=london(2026, 4, 7).date(),
        now=NOW,
    ).evening

    assert [(local(d.starts_at), local(d.ends_at)) for d in copy.days.all()] == [
        ("Tue 07 Apr 16:00", "Tue 07 Apr 19:00"),
        ("Wed 08 Apr 15:30", "Wed 08 Apr 18:00"),
    ]
    assert copy.days.first().starts_at.utcoffset() is not None
    assert copy.days.first().starts_at.astimezone(london(2026, 1, 1).tzinfo).hour == 16
    # The window moved by the same 28 days, on the school's clock too.
    assert local(copy.booking_opens) == "Fri 20 Mar 09:00"
    assert local(copy.booking_closes) == "Tue 07 Apr 12:00"


def test_the_copy_is_a_draft_with_the_settings_and_no_bookings(school, source):
    result = copy_evening(
        evening=source,
        actor=school.organiser,
        name="  Summer parents' evening ",
        starts_on=london(2026, 6, 9).date(),
        now=NOW,
    )
    copy = result.evening

    assert copy.name == "Summer parents' evening" and copy.status == Evening.Status.DRAFT
    assert result.days_moved == 91
    for name in (
        "description",
        "slot_minutes",
        "cutoff_hours",
        "max_per_pupil",
        "max_per_parent",
        "travel_gap_minutes",
        "split_families",
        "mode",
        "year_groups",
        "teachers_set_breaks",
        "waiting_offer_hours",
        "room_map_type",
    ):
        assert getattr(copy, name) == getattr(source, name), name
    assert bytes(RoomMap.objects.get(evening=copy).data) == b"%PDF-1.4 map"
    assert copy.created_by == school.organiser
    assert not Appointment.objects.filter(evening=copy).exists()
    assert Appointment.objects.filter(evening=source).count() == 1


def test_teachers_keep_rooms_links_lengths_additions_and_removals(school, source):
    copy = copy_evening(
        evening=source, actor=school.organiser, name="Next", starts_on=london(2026, 6, 9).date()
    ).evening

    teachers = {
        t.staff.mis_id: (t.source, t.removed, t.room, t.video_link, t.slot_minutes)
        for t in EveningTeacher.objects.filter(evening=copy).select_related("staff")
    }
    assert teachers == {
        "S-TOM": ("derived", False, "", "", None),
        "S-MIA": ("derived", False, "M1", "", None),
        "S-EVE": ("derived", False, "E2", "https://meet.example/eve", 20),
        "S-SAM": ("derived", False, "", "", None),
        "S-FAY": ("derived", True, "", "", None),
        "S-SUE": ("added", False, "Lib", "", None),
    }
    eve = EveningTeacher.objects.get(evening=copy, staff__mis_id="S-EVE")
    # Eve's 20-minute slots on both days: 9 on the first, 7 on the second (2.5 hours).
    assert Slot.objects.filter(teacher=eve).count() == 9 + 7
    fay = EveningTeacher.objects.get(evening=copy, staff__mis_id="S-FAY")
    assert not Slot.objects.filter(teacher=fay).exists()
    assert [(c.group.mis_id, c.minutes) for c in ClassLength.objects.filter(evening=copy)] == [
        ("7MA", 20)
    ]


def test_breaks_move_with_their_teachers_and_claim_their_slots(school, source):
    copy = copy_evening(
        evening=source, actor=school.organiser, name="Next", starts_on=london(2026, 6, 9).date()
    ).evening

    breaks = [
        (
            local(b.starts_at),
            local(b.ends_at),
            b.label,
            b.all_teachers,
            [str(t.staff) for t in b.teachers.all()],
        )
        for b in Break.objects.filter(evening=copy).order_by("starts_at")
    ]
    assert breaks == [
        ("Tue 09 Jun 17:30", "Tue 09 Jun 17:50", "Tea", True, []),
        ("Wed 10 Jun 16:00", "Wed 10 Jun 16:30", "Meeting", False, ["Ms M Maths"]),
    ]
    mia = EveningTeacher.objects.get(evening=copy, staff__mis_id="S-MIA")
    assert Break.objects.get(evening=copy, label="Meeting").teachers.get() == mia
    # Mia: two slots in the tea break, three in her meeting; Tom: two in the tea break.
    assert SlotClaim.objects.filter(slot__teacher=mia, brk__isnull=False).count() == 5
    tom = EveningTeacher.objects.get(evening=copy, staff__mis_id="S-TOM")
    assert SlotClaim.objects.filter(slot__teacher=tom, brk__isnull=False).count() == 2


def test_a_given_booking_window_is_used(school, source):
    copy = copy_evening(
        evening=source,
        actor=school.organiser,
        name="Next",
        starts_on=london(2026, 6, 9).date(),
        booking_opens=london(2026, 5, 1, 8, 0),
        booking_closes=london(2026, 6, 8, 18, 0),
    ).evening
    assert local(copy.booking_opens) == "Fri 01 May 08:00"
    assert local(copy.booking_closes) == "Mon 08 Jun 18:00"


def test_teachers_who_no_longer_teach_its_pupils_or_left_are_not_carried_over(school, source):
    Staff.objects.filter(mis_id="S-SUE").update(current=False)
    from schoolgate.mis.models import GroupTeacher

    GroupTeacher.objects.filter(group__mis_id="9SC").delete()  # Sam no longer teaches Ben

    result = copy_evening(
        evening=source, actor=school.organiser, name="Next", starts_on=london(2026, 6, 9).date()
    )

    assert sorted(t.staff.mis_id for t in result.not_carried) == ["S-SAM", "S-SUE"]
    staff = set(
        EveningTeacher.objects.filter(evening=result.evening).values_list(
            "staff__mis_id", flat=True
        )
    )
    assert "S-SAM" not in staff and "S-SUE" not in staff


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_made(school):
    evening = make_evening(school, days=[(london(2026, 3, 22, 1, 30), london(2026, 3, 22, 3, 0))])
    before = Evening.objects.count()
    # On 29 March 2026 the clocks go from 01:00 to 02:00: 01:30 does not exist then.
    with pytest.raises(InvalidSetup, match="does not exist"):
        copy_evening(
            evening=evening,
            actor=school.organiser,
            name="Next",
            starts_on=london(2026, 3, 29).date(),
            booking_opens=london(2026, 3, 1, 9),
            booking_closes=london(2026, 3, 20, 9),
        )
    assert Evening.objects.count() == before


def test_only_organisers_may_copy(school, source):
    with pytest.raises(NotAllowed):
        copy_evening(
            evening=source, actor=school.teacher_user, name="X", starts_on=london(2026, 6, 9).date()
        )


# --- the page -------------------------------------------------------------------------


def url(name, *args):
    return reverse(f"evenings_staff:{name}", args=args)


def test_the_page_offers_a_form_with_the_days(client, school, source):
    client.force_login(school.organiser)
    response = client.get(url("copy", source.pk))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Spring parents' evening (copy)" in page
    assert "Tuesday 10 March 2026, 16:00–19:00" in page


def test_posting_the_form_makes_the_copy_and_opens_it(client, school, source):
    client.force_login(school.organiser)
    response = client.post(
        url("copy", source.pk),
        {"name": "Summer evening", "first_date": "09/06/2026"},
        follow=True,
    )
    copy = Evening.objects.get(name="Summer evening")
    assert response.redirect_chain[-1][0] == url("evening", copy.pk)
    assert "was made as a draft" in html.unescape(response.content.decode())
    assert local(copy.days.first().starts_at) == "Tue 09 Jun 16:00"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "X", "first_date": ""}, "Give the date of the new evening's first day."),
        ({"name": "X", "first_date": "31/02/2026"}, "Give a real date, for example 10/03/2027."),
        ({"name": " ", "first_date": "09/06/2026"}, "Give the new evening a name."),
        (
            {"name": "X", "first_date": "09/06/2026", "opens_date": "2026-05-01"},
            "Give both the date and the time, or neither.",
        ),
        (
            {
                "name": "X",
                "first_date": "09/06/2026",
                "opens_date": "2026-05-01",
                "opens_time": "09:00",
            },
            "Give both ends of the booking window, or neither.",
        ),
        (
            {
                "name": "X",
                "first_date": "09/06/2026",
                "opens_date": "2026-05-01",
                "opens_time": "09:00",
                "closes_date": "2026-04-01",
                "closes_time": "09:00",
            },
            "Booking must close after it opens.",
        ),
    ],
)
def test_mistakes_on_the_form_make_nothing(client, school, source, data, message):
    client.force_login(school.organiser)
    before = Evening.objects.count()
    response = client.post(url("copy", source.pk), data)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert Evening.objects.count() == before


def test_another_evenings_id_is_not_found_and_teachers_are_refused(client, school, source):
    client.force_login(school.organiser)
    assert client.get(url("copy", source.pk + 50)).status_code == 404
    client.force_login(school.teacher_user)
    assert client.get(url("copy", source.pk)).status_code == 403
    assert (
        client.post(url("copy", source.pk), {"name": "X", "first_date": "09/06/2026"}).status_code
        == 403
    )
    assert not Evening.objects.filter(name="X").exists()


def test_copying_twice_makes_two_evenings(school, source):
    for week in (1, 2):
        copy_evening(
            evening=source,
            actor=school.organiser,
            name=f"Copy {week}",
            starts_on=london(2026, 3, 10).date() + timedelta(weeks=week),
        )
    assert Evening.objects.filter(name__startswith="Copy").count() == 2


def test_a_time_the_clocks_skip_is_shown_on_the_date_field(client, school):
    evening = make_evening(school, days=[(london(2026, 3, 22, 1, 30), london(2026, 3, 22, 3, 0))])
    client.force_login(school.organiser)
    response = client.post(
        url("copy", evening.pk),
        {
            "name": "Next",
            "first_date": "29/03/2026",
            "opens_date": "2026-03-01",
            "opens_time": "09:00",
            "closes_date": "2026-03-20",
            "closes_time": "09:00",
        },
    )
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "Date of its first day: 01:30 does not exist on 2026-03-29" in page
    assert not Evening.objects.filter(name="Next").exists()
