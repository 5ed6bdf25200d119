"""In person or video, chosen per appointment where the evening offers both (issue 16,
docs/video.md "In person or video"): through the times page, the planner, the hold and
confirm pages, to the stored rows, the confirmation email and its .ics, and the
teacher's schedule and PDF. Another family's ids are not found."""

import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from icalendar import Calendar
from pypdf import PdfReader
from teacher_helpers import signed_in, teacher_account
from test_parent_pages import at, key, text, upcoming_evening, url

from schoolgate.evenings.models import Appointment, Evening, EveningTeacher, Hold
from schoolgate.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(school) -> Evening:
    """An evening offering both; the teachers have rooms and their own fixed links."""
    evening = upcoming_evening(school, mode=Evening.Mode.BOTH)
    for code, room in (("S-MIA", "M4"), ("S-SAM", "S2")):
        EveningTeacher.objects.filter(evening=evening, staff=school.staff[code]).update(
            room=room, video_link=f"https://meet.example.org/{code.lower()}"
        )
    return evening


def call_link(evening, appointment) -> str:
    return (
        f"{settings.SITE_URL.rstrip('/')}/parents/evenings/{evening.pk}"
        f"/appointments/{appointment.pk}/call/"
    )


def hold_id(response, evening) -> int:
    assert response.status_code == 302, text(response)[:2000]
    match = re.fullmatch(rf"/parents/evenings/{evening.pk}/holds/(\d+)/", response.url)
    assert match, response.url
    return int(match.group(1))


def pdf_words(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_a_family_books_one_teacher_in_person_and_another_by_video_in_one_step(
    client, school, both
):
    client.force_login(school.ann)
    amy_mia = key(school.amy, both, school, "S-MIA")
    ben_sam = key(school.ben, both, school, "S-SAM")

    grid = client.get(url("manual", both.pk), {"teacher": [amy_mia, ben_sam]})
    page = text(grid)
    assert "How would you like to meet Ms M Maths about Amy Ash?" in page
    assert "How would you like to meet Mr S Science about Ben Ash?" in page
    held = client.post(
        url("hold-slots", both.pk),
        {
            f"slot-{amy_mia}": at(both, school, "S-MIA", 16, 0).pk,
            f"method-{amy_mia}": "in_person",
            f"slot-{ben_sam}": at(both, school, "S-SAM", 16, 30).pk,
            f"method-{ben_sam}": "video",
        },
    )
    hold = hold_id(held, both)
    hold_page = text(client.get(url("hold", both.pk, hold)))
    assert "Ms M Maths for Amy Ash Room M4" in hold_page
    assert "Mr S Science for Ben Ash Video" in hold_page
    confirmed = client.post(url("confirm", both.pk, hold), {})
    assert confirmed.status_code == 302

    rows = {
        (a.pupil_id, a.teacher.staff.mis_id): (a.method, a.status)
        for a in Appointment.objects.filter(evening=both).select_related("teacher__staff")
    }
    assert rows == {
        (school.amy.pk, "S-MIA"): ("in_person", "confirmed"),
        (school.ben.pk, "S-SAM"): ("video", "confirmed"),
    }

    [message] = OutboxMessage.objects.filter(to="ann@example.org", template="evening_booked")
    video = Appointment.objects.get(evening=both, pupil=school.ben)
    assert "Room: M4" in message.body_text
    assert f"Video meeting: {call_link(both, video)}" in message.body_text
    assert "Room: S2" not in message.body_text  # Ben's meeting is by video: no room
    assert "meet.example.org" not in message.body_text  # never a teacher's fixed link
    [file] = message.attachments
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(file["content"]).walk("VEVENT")}
    assert str(events["Amy Ash: appointment with Ms M Maths"]["LOCATION"]) == "M4"
    assert "URL" not in events["Amy Ash: appointment with Ms M Maths"]
    ben = events["Ben Ash: appointment with Mr S Science"]
    assert str(ben["LOCATION"]) == str(ben["URL"]) == call_link(both, video)


def test_the_teachers_schedule_and_pdf_say_which(school, both):
    client = signed_in(school.ann)
    amy_mia = key(school.amy, both, school, "S-MIA")
    amy_eve = key(school.amy, both, school, "S-EVE")
    hold = hold_id(
        client.post(
            url("hold-slots", both.pk),
            {
                f"slot-{amy_mia}": at(both, school, "S-MIA", 16, 0).pk,
                f"method-{amy_mia}": "video",
                f"slot-{amy_eve}": at(both, school, "S-EVE", 16, 30).pk,
                f"method-{amy_eve}": "in_person",
            },
        ),
        both,
    )
    client.post(url("confirm", both.pk, hold), {})
    EveningTeacher.objects.filter(evening=both, staff=school.staff["S-EVE"]).update(room="E4")
    mia, eve = signed_in(teacher_account("S-MIA")), signed_in(teacher_account("S-EVE"))

    mia_page = text(mia.get(reverse("teacher:schedule", args=[both.pk])))
    eve_page = text(eve.get(reverse("teacher:schedule", args=[both.pk])))
    mia_pdf = pdf_words(mia.get(reverse("teacher:schedule-pdf", args=[both.pk])))
    eve_pdf = pdf_words(eve.get(reverse("teacher:schedule-pdf", args=[both.pk])))

    # The row's "Where": Video for Mia's (her room M4 is in the heading only), E4 for Eve's.
    assert "16:00–16:10 Amy Ash Mrs Ann Ash 7 Maths Video: join the meeting" in mia_page
    assert "16:00–16:10 Amy Ash Mrs Ann Ash 7 Maths Video –" in mia_pdf
    assert "16:30–16:40 Amy Ash Mrs Ann Ash 7 English E4 –" in eve_page
    assert "16:30–16:40 Amy Ash Mrs Ann Ash 7 English E4 –" in eve_pdf


def test_the_planner_keeps_each_teachers_way_of_meeting(client, school, both):
    client.force_login(school.ann)
    amy_mia = key(school.amy, both, school, "S-MIA")
    ben_sam = key(school.ben, both, school, "S-SAM")

    form = client.get(url("automatic", both.pk), {"teacher": [amy_mia, ben_sam]})
    assert "How would you like to meet Mr S Science about Ben Ash?" in text(form)
    planned = client.post(
        url("automatic", both.pk),
        {
            "earliest": "17:00",
            "latest": "18:00",
            "teacher": [amy_mia, ben_sam],
            f"method-{amy_mia}": "in_person",
            f"method-{ben_sam}": "video",
        },
    )
    proposal = text(planned)
    assert "Ms M Maths for Amy Ash Room M4" in proposal
    assert "Mr S Science for Ben Ash Video" in proposal
    fields = dict(re.findall(r'name="((?:slot|method)-[\d-]+)" value="(\w+)"', planned.text))
    assert fields[f"method-{amy_mia}"] == "in_person"
    assert fields[f"method-{ben_sam}"] == "video"
    hold_id(client.post(url("hold-slots", both.pk), fields), both)

    methods = dict(
        Appointment.objects.filter(evening=both).values_list("teacher__staff__mis_id", "method")
    )
    assert methods == {"S-MIA": "in_person", "S-SAM": "video"}


def test_a_way_of_meeting_the_evening_does_not_offer_is_refused(client, school, both):
    client.force_login(school.ann)
    amy_mia = key(school.amy, both, school, "S-MIA")

    held = client.post(
        url("hold-slots", both.pk),
        {f"slot-{amy_mia}": at(both, school, "S-MIA", 16, 0).pk, f"method-{amy_mia}": "phone"},
    )
    planned = client.post(
        url("automatic", both.pk), {"teacher": amy_mia, f"method-{amy_mia}": "phone"}
    )

    for response in (held, planned):
        assert response.status_code == 409
        assert "This evening does not offer that kind of meeting." in text(response)
    assert not Appointment.objects.filter(evening=both).exists()


def test_on_a_video_only_evening_in_person_is_refused(client, school):
    evening = upcoming_evening(school, mode=Evening.Mode.VIDEO)
    client.force_login(school.ann)
    amy_mia = key(school.amy, evening, school, "S-MIA")

    grid = client.get(url("manual", evening.pk), {"teacher": amy_mia})
    held = client.post(
        url("hold-slots", evening.pk),
        {f"slot-{amy_mia}": at(evening, school, "S-MIA", 16, 0).pk, f"method-{amy_mia}": "x"},
    )

    assert "How would you like to meet" not in text(grid)  # nothing to choose
    # Not offered here: the field is ignored and the evening's own way applies.
    hold_id(held, evening)
    assert Appointment.objects.get(evening=evening).method == "video"


def test_another_familys_ids_are_not_found(client, school, both):
    ann = signed_in(school.ann)
    amy_mia = key(school.amy, both, school, "S-MIA")
    ben_sam = key(school.ben, both, school, "S-SAM")
    hold = hold_id(
        ann.post(
            url("hold-slots", both.pk),
            {
                f"slot-{amy_mia}": at(both, school, "S-MIA", 16, 0).pk,
                f"method-{amy_mia}": "in_person",
                f"slot-{ben_sam}": at(both, school, "S-SAM", 16, 30).pk,
                f"method-{ben_sam}": "video",
            },
        ),
        both,
    )
    client.force_login(school.bea)  # Cal's parent: Amy and Ben are not hers

    grid = client.get(url("manual", both.pk), {"teacher": ben_sam})
    taken = client.post(
        url("hold-slots", both.pk),
        {f"slot-{ben_sam}": at(both, school, "S-SAM", 17, 0).pk, f"method-{ben_sam}": "video"},
    )
    their_hold = client.get(url("hold", both.pk, hold))
    their_confirm = client.post(url("confirm", both.pk, hold), {})
    ann.post(url("confirm", both.pk, hold), {})
    video = Appointment.objects.get(evening=both, pupil=school.ben)
    their_call = client.get(url("call", both.pk, video.pk))

    assert [r.status_code for r in (grid, taken, their_hold, their_confirm, their_call)] == [
        404
    ] * 5
    assert Hold.objects.get(pk=hold).confirmed_at is not None  # Ann's, confirmed by Ann
    assert Appointment.objects.filter(evening=both, parent=school.bea).count() == 0
