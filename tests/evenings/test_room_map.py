"""The evening's map of rooms: the organiser uploads, replaces and removes it; parents
with a child at the evening open it and find it in their itinerary."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from evenings_school import book, make_evening
from pypdf import PdfReader

from schoolgate.accounts.models import AuditEntry
from schoolgate.evenings.models import Evening
from schoolgate.evenings.setup import room_map

pytestmark = pytest.mark.django_db


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
PDF = b"%PDF-1.4\n% the map\n%%EOF\n"


def upload(client, evening, name: str, data: bytes, content_type="application/octet-stream"):
    return client.post(
        reverse("evenings_staff:room-map", args=[evening.pk]),
        {"action": "upload", "map": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def stored(evening) -> tuple[bytes, str]:
    evening = Evening.objects.get(pk=evening.pk)
    return room_map.map_bytes(evening), evening.room_map_type


@pytest.fixture
def organiser(client, school):
    client.force_login(school.organiser)
    return client


def test_the_page_without_a_map_offers_an_upload(organiser, evening):
    response = organiser.get(reverse("evenings_staff:room-map", args=[evening.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is no map for this evening yet." in body
    assert 'enctype="multipart/form-data"' in body


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("map.png", png(), "image/png"),
        ("map.jpg", JPEG, "image/jpeg"),
        ("map.pdf", PDF, "application/pdf"),
    ],
)
def test_an_image_or_pdf_is_stored_with_its_type(organiser, school, evening, name, data, kind):
    response = upload(organiser, evening, name, data)
    assert response.status_code == 302
    assert stored(evening) == (data, kind)
    assert AuditEntry.objects.filter(action="evening_room_map_set").count() == 1
    page = organiser.get(reverse("evenings_staff:room-map", args=[evening.pk])).content.decode()
    assert "The map of rooms was added." in page
    assert reverse("evenings_staff:room-map-file", args=[evening.pk]) in page
    assert ("<img" in page) == kind.startswith("image/")


def test_the_type_comes_from_the_bytes_not_the_name(organiser, evening):
    upload(organiser, evening, "map.pdf", png(), content_type="application/pdf")
    assert stored(evening)[1] == "image/png"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("map.png", b"<svg onload=alert(1)>", "The map must be a PNG or JPEG picture, or a PDF."),
        ("map.gif", b"GIF89a" + b"\x00" * 20, "The map must be a PNG or JPEG picture, or a PDF."),
        (
            "map.html",
            b"<html><script>x</script>",
            "The map must be a PNG or JPEG picture, or a PDF.",
        ),
        ("map.png", png() + b"\x00" * room_map.MAX_BYTES, "The map must be 5 MB or smaller."),
    ],
)
def test_a_bad_file_is_refused_and_the_map_stays_as_it_was(organiser, evening, name, data, message):
    upload(organiser, evening, "first.pdf", PDF)
    response = upload(organiser, evening, name, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert message in body
    assert stored(evening) == (PDF, "application/pdf")
    assert AuditEntry.objects.filter(action="evening_room_map_set").count() == 1


def test_no_file_or_an_empty_one_is_refused(organiser, evening):
    response = organiser.post(
        reverse("evenings_staff:room-map", args=[evening.pk]), {"action": "upload"}
    )
    assert response.status_code == 400
    assert "Choose a file to upload." in response.content.decode()
    # Django treats an empty upload as no file at all.
    response = upload(organiser, evening, "empty.png", b"")
    assert response.status_code == 400
    assert stored(evening) == (b"", "")


def test_exactly_five_megabytes_is_accepted(organiser, evening):
    data = png()
    data += b"\x00" * (room_map.MAX_BYTES - len(data))
    assert upload(organiser, evening, "big.png", data).status_code == 302
    assert stored(evening)[0] == data


def test_a_map_is_replaced_then_removed(organiser, evening):
    upload(organiser, evening, "map.pdf", PDF)
    response = upload(organiser, evening, "map.png", png())
    assert response.status_code == 302
    assert stored(evening)[1] == "image/png"
    page = organiser.get(reverse("evenings_staff:room-map", args=[evening.pk])).content.decode()
    assert "The map of rooms was replaced." in page
    response = organiser.post(
        reverse("evenings_staff:room-map", args=[evening.pk]), {"action": "remove"}
    )
    assert response.status_code == 302
    assert stored(evening) == (b"", "")
    assert (
        organiser.get(reverse("evenings_staff:room-map-file", args=[evening.pk])).status_code == 404
    )


def test_the_organisers_copy_is_served_as_its_own_type(organiser, evening):
    upload(organiser, evening, "map.png", png())
    response = organiser.get(reverse("evenings_staff:room-map-file", args=[evening.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == png()


@pytest.mark.parametrize("url_name", ["room-map", "room-map-file"])
def test_only_organisers_manage_the_map(client, school, evening, url_name):
    url = reverse(f"evenings_staff:{url_name}", args=[evening.pk])
    for user in (school.teacher_user, school.ann):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "remove"}).status_code == 403
    client.force_login(school.organiser)
    assert client.get(reverse(f"evenings_staff:{url_name}", args=[999999])).status_code == 404


# --- parents ------------------------------------------------------------------------


def test_a_parent_opens_the_map_inline_with_its_type(client, school, evening):
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("m.pdf", PDF), actor=school.organiser
    )
    client.force_login(school.bea)
    response = client.get(reverse("evenings:room-map", args=[evening.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="room-map-{evening.pk}.pdf"'
    assert response.content == PDF


def test_the_map_is_not_found_for_other_parents_evenings_or_without_a_map(client, school, evening):
    client.force_login(school.ann)
    assert client.get(reverse("evenings:room-map", args=[evening.pk])).status_code == 404
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("m.png", png()), actor=school.organiser
    )
    other = make_evening(school, name="Year 11 evening", year_groups=[11])
    room_map.set_room_map(
        evening=other, upload=SimpleUploadedFile("m.png", png()), actor=school.organiser
    )
    assert client.get(reverse("evenings:room-map", args=[other.pk])).status_code == 404
    assert client.get(reverse("evenings:room-map", args=[999999])).status_code == 404
    client.force_login(school.zak)  # Year 11 only
    assert client.get(reverse("evenings:room-map", args=[evening.pk])).status_code == 404
    assert client.get(reverse("evenings:room-map", args=[other.pk])).status_code == 200


def test_the_evening_page_links_the_itinerary_and_the_map(client, school, evening):
    client.force_login(school.ann)
    page = client.get(reverse("evenings:evening", args=[evening.pk])).content.decode()
    assert reverse("evenings:itinerary-pdf", args=[evening.pk]) not in page  # nothing booked
    assert reverse("evenings:room-map", args=[evening.pk]) not in page
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("m.png", png()), actor=school.organiser
    )
    page = client.get(reverse("evenings:evening", args=[evening.pk])).content.decode()
    assert reverse("evenings:itinerary-pdf", args=[evening.pk]) in page
    assert reverse("evenings:room-map", args=[evening.pk]) in page


def test_an_image_map_is_the_last_page_of_the_itinerary(client, school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("m.png", png()), actor=school.organiser
    )
    client.force_login(school.ann)
    response = client.get(reverse("evenings:itinerary-pdf", args=[evening.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2
    last = reader.pages[-1]
    assert "Map of rooms" in last.extract_text()
    assert len(last.images) == 1


def test_a_pdf_map_is_named_in_the_itinerary_with_its_address(client, school, evening):
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("m.pdf", PDF), actor=school.organiser
    )
    client.force_login(school.ann)
    response = client.get(reverse("evenings:itinerary-pdf", args=[evening.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert len(reader.pages) == 1
    assert "see the map at" in text
    assert f"/parents/evenings/{evening.pk}/room-map/" in text.replace(" ", "")


def test_pages_that_do_not_show_the_map_never_read_it(client, school, evening):
    # Evenings are read on nearly every page; a 5 MB map must not come with them.
    room_map.set_room_map(
        evening=evening, upload=SimpleUploadedFile("map.png", png()), actor=school.organiser
    )
    book(school, evening, school.ann, (school.amy, "S-MIA", 16, 0))
    pages = [
        (school.ann, reverse("evenings:list")),
        (school.ann, reverse("evenings:evening", args=[evening.pk])),
        (school.ann, reverse("portal:home")),
        (school.organiser, reverse("evenings_staff:list")),
        (school.organiser, reverse("evenings_staff:evening", args=[evening.pk])),
        (school.organiser, reverse("evenings_staff:grid", args=[evening.pk])),
    ]
    for user, url in pages:
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        assert not [q for q in queries.captured_queries if "evenings_roommap" in q["sql"]], url
