"""The PDFs: a teacher's schedule, the organiser's pack of every teacher's schedule,
and a parent's itinerary. Each is read back with pypdf and its text checked."""

import http.server
import io
import threading

import pytest
from django.template import engines
from django.urls import reverse
from evenings_school import NOW, book, london, make_evening, slot, teacher
from pypdf import PdfReader
from schedule_school import link_teacher, make_mia
from weasyprint import HTML

from schoolgate.evenings import booking
from schoolgate.evenings.models import Appointment, Evening, EveningTeacher
from schoolgate.evenings.reports import pdf, schedules
from schoolgate.mis.models import PupilContact

pytestmark = pytest.mark.django_db


@pytest.fixture
def mia(school, evening):
    return make_mia(school, evening)


def taking_part(evening) -> list[EveningTeacher]:
    """The evening's teachers, read from the rows."""
    return list(
        EveningTeacher.objects.filter(evening=evening, removed=False).select_related("staff")
    )


def pdf_text(response) -> tuple[str, int]:
    """The text of a PDF response (spaces squeezed) and its number of pages."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)


def hhmm(value) -> str:
    return value.astimezone(london(2026, 1, 1).tzinfo).strftime("%H:%M")


def test_my_schedule_pdf_has_every_appointment_room_and_break(client, school, evening, mia):
    client.force_login(school.teacher_user)
    response = client.get(reverse("teacher:schedule-pdf", args=[evening.pk]))
    text, pages = pdf_text(response)
    assert response["Content-Disposition"] == (
        'attachment; filename="schedule-ms-m-maths-2026-03-10.pdf"'
    )
    assert pages == 1
    found = schedules.teacher_schedule(evening=evening, teacher=mia, now=NOW)
    for row in found.rows:
        assert f"{hhmm(row.starts_at)}–{hhmm(row.ends_at)}" in text
        if row.is_break:
            assert f"Break: {row.brk.label}" in text
        else:
            assert row.appointment.pupil.display_name in text
            for parent in row.parents:
                assert parent in text
    for text_expected in ("Ms M Maths", "M4", "7 Maths", "Fractions, please", "Tuesday 10 March"):
        assert text_expected in text
    assert "Page 1 of 1" in text
    # Nothing of another teacher's appointments.
    assert "Reading at home" not in text
    assert "7 English" not in text


def test_the_pack_has_every_teachers_appointments_on_pages_of_their_own(
    client, school, evening, mia
):
    eve = teacher(evening, school, "S-EVE")
    eve.room = "E12"
    eve.save()
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 30))
    client.force_login(school.organiser)
    response = client.get(reverse("evenings_staff:pack", args=[evening.pk]))
    text, pages = pdf_text(response)
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="schedules-spring-parents-evening-{evening.pk}.pdf"'
    )
    # Expected from the rows, not from the selector the pack is drawn from.
    names = [t.staff.display_name for t in taking_part(evening)]
    assert pages >= len(names)  # each teacher starts a new page
    reader = PdfReader(io.BytesIO(response.content))
    for name in names:
        assert [p for p in reader.pages if name in p.extract_text()], name
    # Every page says whose schedule it is (at the top, and in the title).
    for page in reader.pages:
        assert any(name in page.extract_text() for name in names)
    for a in Appointment.objects.filter(evening=evening, status="confirmed"):
        assert a.pupil.display_name in text
        assert f"{hhmm(a.starts_at)}–{hhmm(a.ends_at)}" in text
    for room in ("M4", "E12"):
        assert room in text
    assert "Break: Tea" in text and "Break: Phone call" in text
    assert "Fractions, please" in text and "Reading at home" in text


def test_teacher_pages_of_the_pack_keep_to_their_own_appointments(client, school, evening, mia):
    client.force_login(school.organiser)
    response = client.get(reverse("evenings_staff:pack", args=[evening.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    eve_pages = [p.extract_text() for p in reader.pages if "Dr E English" in p.extract_text()]
    assert eve_pages
    eve_text = " ".join(" ".join(eve_pages).split())
    assert "Reading at home" in eve_text
    assert "Fractions, please" not in eve_text and "Cal Best" not in eve_text


def test_only_organisers_get_the_pack(client, school, evening, mia):
    client.force_login(school.teacher_user)
    assert client.get(reverse("evenings_staff:pack", args=[evening.pk])).status_code == 403
    client.force_login(school.organiser)
    assert client.get(reverse("evenings_staff:pack", args=[999999])).status_code == 404


def test_the_parent_itinerary_has_only_the_familys_appointments(client, school, evening, mia):
    eve = teacher(evening, school, "S-EVE")
    eve.room = "E12"
    eve.save()
    book(school, evening, school.ann, (school.ben, "S-SAM", 16, 30))
    client.force_login(school.ann)
    response = client.get(reverse("evenings:itinerary-pdf", args=[evening.pk]))
    text, pages = pdf_text(response)
    assert response["Content-Disposition"] == (
        'attachment; filename="itinerary-spring-parents-evening.pdf"'
    )
    for expected in (
        "16:00–16:10 Amy Ash Ms M Maths M4",
        "16:10–16:20 Amy Ash Dr E English E12",
        "16:30–16:40 Ben Ash Mr S Science",
    ):
        assert expected in text
    # Another family's children and messages are absent.
    for other in ("Cal Best", "Dan Dee", "Fractions, please"):
        assert other not in text
    assert text.index("16:00–16:10") < text.index("16:10–16:20") < text.index("16:30–16:40")


def test_a_separated_parent_sees_the_shared_meeting_the_other_booked(client, school, evening, mia):
    client.force_login(school.don)
    text, _pages = pdf_text(client.get(reverse("evenings:itinerary-pdf", args=[evening.pk])))
    assert "18:00–18:10 Dan Dee Ms M Maths M4" in text
    assert "Amy Ash" not in text


def test_the_itinerary_follows_access_now(client, school, evening, mia):
    """A parent who loses access to a child no longer sees the child's appointments;
    a parent with no child at the evening gets 404."""
    PupilContact.objects.filter(pupil=school.dan, contact__mis_id="C-DON").update(
        parental_responsibility=False
    )
    client.force_login(school.don)
    assert client.get(reverse("evenings:itinerary-pdf", args=[evening.pk])).status_code == 403
    client.force_login(school.zak)  # a Year 11 parent: not this evening
    assert client.get(reverse("evenings:itinerary-pdf", args=[evening.pk])).status_code == 404
    other = make_evening(school, name="Year 11 evening", year_groups=[11])
    client.force_login(school.ann)
    assert client.get(reverse("evenings:itinerary-pdf", args=[other.pk])).status_code == 404
    assert client.get(reverse("evenings:itinerary-pdf", args=[999999])).status_code == 404


def test_the_pdf_fetcher_reads_our_static_files_and_nothing_else():
    fetcher = pdf.LocalOnlyFetcher()
    css = fetcher.fetch(pdf.BASE_URL + "static/schoolgate/print.css")
    assert b"@page" in css.read()
    for url in (
        "http://127.0.0.1:8000/static/schoolgate/print.css",
        "https://example.org/x.png",
        "file:///etc/passwd",
        pdf.BASE_URL + "static/../settings.py",
        pdf.BASE_URL + "static/%2e%2e/%2e%2e/etc/passwd",
        pdf.BASE_URL + "parents/evenings/1/room-map/",
    ):
        with pytest.raises(pdf.NotFetched):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_an_address_in_the_html_is_never_fetched():
    """An image or stylesheet on another server (a parent could type one into a
    message) is left out of the PDF: the server is never asked for it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        spy = f"http://127.0.0.1:{server.server_port}"
        template = engines["django"].from_string(
            '<link rel="stylesheet" href="{{ spy }}/x.css"><p>x</p><img src="{{ spy }}/spy.png">'
        )
        data = HTML(
            string=template.render({"spy": spy}),
            base_url=pdf.BASE_URL,
            url_fetcher=pdf.LocalOnlyFetcher(),
        ).write_pdf()
    finally:
        server.shutdown()
        server.server_close()
    assert data.startswith(b"%PDF")
    assert hits == []


def test_video_meetings_give_the_link_in_the_schedule_and_the_itinerary(client, school):
    evening = make_evening(school, mode=Evening.Mode.BOTH)
    mia = teacher(evening, school, "S-MIA")
    mia.room = "M4"
    mia.video_link = "https://meet.example.org/mia-maths"
    mia.save()
    link_teacher(school.teacher_user, "S-MIA")
    booking.book_slots(
        parent=school.bea,
        evening=evening,
        choices=[(school.cal, mia, slot(evening, school, "S-MIA", 16, 0), "video")],
        now=NOW,
    )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 10))
    client.force_login(school.teacher_user)
    text, _pages = pdf_text(client.get(reverse("teacher:schedule-pdf", args=[evening.pk])))
    assert "16:00–16:10CalBest" in text.replace(" ", "")
    # The teacher joins from their live or call page: the paper says which, not a link.
    assert "16:00–16:10CalBestMsBeaBest7MathsVideo" in text.replace(" ", "")
    assert "meet.example.org" not in text
    assert "16:10–16:20 Amy Ash" in text
    client.force_login(school.bea)
    text, _pages = pdf_text(client.get(reverse("evenings:itinerary-pdf", args=[evening.pk])))
    assert "16:00–16:10 Cal Best Ms M Maths Video:" in text
    cal = Appointment.objects.get(evening=evening, pupil=school.cal)
    call = f"/parents/evenings/{evening.pk}/appointments/{cal.pk}/call/"
    assert call in text.replace(" ", "")
    assert "meet.example.org" not in text


def test_a_schedule_running_over_pages_names_its_teacher_on_each(client, school, evening, mia):
    Appointment.objects.filter(teacher=mia).update(message="Reading and spelling. " * 150)
    client.force_login(school.organiser)
    response = client.get(reverse("evenings_staff:pack", args=[evening.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    texts = [page.extract_text() for page in reader.pages]
    mias = [t for t in texts if "Ms M Maths" in t]
    assert len(mias) >= 3  # her schedule runs over pages
    assert len(texts) >= len(taking_part(evening)) + 2
    for text in mias:
        assert "Dr E English" not in text  # a new teacher starts a new page
    for text in texts:
        assert "Page " in text and " of " in text
