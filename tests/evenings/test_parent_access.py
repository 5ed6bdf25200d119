"""Every id a parent's booking page takes, in the URL or in a form, is checked: another
family's evening, pupil, teacher, slot, hold or appointment is not found (404), and
nothing changes."""

import pytest
from django.urls import reverse
from django.utils import timezone
from evenings_school import teacher
from test_parent_pages import at, book_now, hold_through_the_grid, key, upcoming_evening, url

from schoolgate.accounts.models import User
from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, Evening, Hold
from schoolgate.evenings.setup import services as setup


@pytest.fixture
def world(school):
    """Ann's evening (Amy, Ben), a Year 11 evening (Zak's Zoe only), a draft evening,
    and Bea's confirmed appointment and live hold."""
    evening = upcoming_evening(school)
    year_11 = upcoming_evening(school, name="Year 11 evening", year_groups=[11])
    draft = upcoming_evening(school, name="Draft evening")
    setup.set_status(evening=draft, actor=school.organiser, status=Evening.Status.DRAFT)
    (beas,) = book_now(school, evening, school.bea, (school.cal, "S-MIA", 16, 0))
    beas.message = "Bea's own words"
    beas.save(update_fields=["message"])
    bea_hold = booking.hold_slots(
        parent=school.bea,
        evening=evening,
        choices=[
            (school.cal, teacher(evening, school, "S-TOM"), at(evening, school, "S-TOM", 16, 30))
        ],
    )
    (anns,) = book_now(school, evening, school.ann, (school.amy, "S-MIA", 17, 0))
    return {
        "evening": evening,
        "year_11": year_11,
        "draft": draft,
        "beas": beas,
        "bea_hold": bea_hold,
        "anns": anns,
        "zoe_zed": key(school.zoe, year_11, school, "S-ZED"),
    }


def snapshot():
    return sorted(
        Appointment.objects.values_list("pk", "status", "starts_at", "message", "parent_id")
    ), sorted(Hold.objects.values_list("pk", "confirmed_at"))


def assert_not_found(response, what):
    assert response.status_code == 404, f"{what}: {response.status_code}"


def test_another_familys_or_a_draft_evening_is_not_found_at_every_address(client, school, world):
    client.force_login(school.ann)
    before = snapshot()
    for evening in (world["year_11"], world["draft"]):
        e = evening.pk
        for name, args in [
            ("evening", [e]),
            ("manual", [e]),
            ("automatic", [e]),
            ("hold", [e, world["bea_hold"].pk]),
            ("cancel", [e, world["anns"].pk]),
            ("change", [e, world["anns"].pk]),
        ]:
            assert_not_found(client.get(url(name, *args)), f"GET {name} {evening}")
        for name, args in [
            ("automatic", [e]),
            ("hold-slots", [e]),
            ("confirm", [e, world["bea_hold"].pk]),
            ("release", [e, world["bea_hold"].pk]),
            ("cancel", [e, world["anns"].pk]),
            ("change", [e, world["anns"].pk]),
        ]:
            assert_not_found(client.post(url(name, *args)), f"POST {name} {evening}")
    assert_not_found(client.get(url("evening", 999999)), "no such evening")
    assert snapshot() == before


def test_another_familys_pupil_or_a_teacher_not_theirs_is_not_found(client, school, world):
    evening = world["evening"]
    client.force_login(school.ann)
    before = snapshot()
    cal_mia = key(school.cal, evening, school, "S-MIA")
    amy_sam = key(school.amy, evening, school, "S-SAM")  # Sam teaches Ben, not Amy
    amy_mia = key(school.amy, evening, school, "S-MIA")
    for bad in (cal_mia, amy_sam, world["zoe_zed"], "1", "x-y", f"{school.amy.pk}-999999", "-1--2"):
        assert_not_found(client.get(url("manual", evening.pk), {"teacher": bad}), f"manual {bad}")
        assert_not_found(
            client.get(url("automatic", evening.pk), {"teacher": bad}), f"automatic {bad}"
        )
        assert_not_found(
            client.post(url("automatic", evening.pk), {"teacher": [amy_mia, bad]}),
            f"automatic POST {bad}",
        )
        assert_not_found(
            client.post(
                url("hold-slots", evening.pk),
                {"teacher": bad, f"slot-{amy_mia}": at(evening, school, "S-MIA", 18, 0).pk},
            ),
            f"hold teacher {bad}",
        )
    cal_slot = at(evening, school, "S-MIA", 18, 10)
    assert_not_found(
        client.post(url("hold-slots", evening.pk), {f"slot-{cal_mia}": cal_slot.pk}), "slot-cal"
    )
    assert snapshot() == before


def test_a_slot_of_another_teacher_or_evening_is_not_found(client, school, world):
    evening = world["evening"]
    client.force_login(school.ann)
    before = snapshot()
    amy_mia = key(school.amy, evening, school, "S-MIA")
    other_evening = upcoming_evening(school, name="Another evening")
    for bad in (
        at(evening, school, "S-EVE", 18, 0).pk,  # Eve's, not Mia's
        at(other_evening, school, "S-MIA", 18, 0).pk,  # another evening's
        at(world["year_11"], school, "S-ZED", 18, 0).pk,  # another family's evening
        999999,
        "abc",
    ):
        assert_not_found(
            client.post(url("hold-slots", evening.pk), {f"slot-{amy_mia}": bad}), f"slot {bad}"
        )
        assert_not_found(
            client.post(
                url("change", evening.pk, world["anns"].pk), {"slot": bad, "confirm": "yes"}
            ),
            f"change slot {bad}",
        )
    assert snapshot() == before


def test_a_day_of_another_evening_is_not_found(client, school, world):
    evening = world["evening"]
    client.force_login(school.ann)
    amy_mia = key(school.amy, evening, school, "S-MIA")

    for bad in (world["year_11"].days.get().pk, 999999, "x"):
        assert_not_found(
            client.post(
                url("automatic", evening.pk),
                {"day": bad, "earliest": "16:00", "latest": "17:00", "teacher": amy_mia},
            ),
            f"day {bad}",
        )


def test_another_parents_hold_is_not_found(client, school, world):
    evening, hold = world["evening"], world["bea_hold"]
    client.force_login(school.ann)
    before = snapshot()

    assert_not_found(client.get(url("hold", evening.pk, hold.pk)), "hold page")
    assert_not_found(client.post(url("confirm", evening.pk, hold.pk)), "confirm")
    assert_not_found(client.post(url("release", evening.pk, hold.pk)), "release")

    assert snapshot() == before
    assert Appointment.objects.filter(hold=hold, status="held").count() == 1


def test_a_message_for_an_appointment_not_in_my_hold_is_not_found(client, school, world):
    evening = world["evening"]
    client.force_login(school.ann)
    mine = hold_through_the_grid(
        client,
        evening,
        {key(school.ben, evening, school, "S-SAM"): at(evening, school, "S-SAM", 18, 0)},
    )
    before = snapshot()

    for other in (world["beas"].pk, world["anns"].pk, "abc"):
        assert_not_found(
            client.post(url("confirm", evening.pk, mine.pk), {f"message-{other}": "Overwritten"}),
            f"message-{other}",
        )

    assert snapshot() == before
    world["beas"].refresh_from_db()
    assert world["beas"].message == "Bea's own words"


def test_another_familys_appointment_is_not_found(client, school, world):
    evening, beas = world["evening"], world["beas"]
    client.force_login(school.ann)
    before = snapshot()

    for name in ("cancel", "change"):
        assert_not_found(client.get(url(name, evening.pk, beas.pk)), f"GET {name}")
        assert_not_found(client.post(url(name, evening.pk, beas.pk)), f"POST {name}")
    slot = at(evening, school, "S-MIA", 18, 30)
    assert_not_found(
        client.post(url("change", evening.pk, beas.pk), {"slot": slot.pk, "confirm": "yes"}),
        "move",
    )
    other_evening = upcoming_evening(school, name="Another evening")
    assert_not_found(
        client.get(url("cancel", other_evening.pk, world["anns"].pk)), "under another evening"
    )

    assert snapshot() == before


def test_a_parent_who_lost_the_child_loses_the_appointment_pages(client, school, world):
    """Access follows the MIS: an account whose email no longer matches sees nothing."""
    ann = User.objects.get(pk=school.ann.pk)
    ann.email = "ann.new@example.org"
    ann.save()
    client.force_login(ann)

    assert client.get(url("evening", world["evening"].pk)).status_code == 403
    assert client.get(url("cancel", world["evening"].pk, world["anns"].pk)).status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client, world):
    response = client.get(url("evening", world["evening"].pk))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))


def test_a_hold_page_is_only_for_its_own_evening(client, school, world):
    evening = world["evening"]
    client.force_login(school.ann)
    mine = hold_through_the_grid(
        client,
        evening,
        {key(school.ben, evening, school, "S-SAM"): at(evening, school, "S-SAM", 18, 0)},
    )
    other_evening = upcoming_evening(school, name="Another evening")

    assert_not_found(client.get(url("hold", other_evening.pk, mine.pk)), "hold elsewhere")
    assert_not_found(client.post(url("confirm", other_evening.pk, mine.pk)), "confirm elsewhere")
    assert Appointment.objects.get(hold=mine).status == "held"
    assert Appointment.objects.get(hold=mine).expires_at > timezone.now()
