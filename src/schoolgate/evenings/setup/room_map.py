"""The school's map of rooms for an evening: a PNG, JPEG or PDF of at most 5 MB, kept
in the database beside the evening (RoomMap; its type in Evening.room_map_type) and shown to the
parents of children at the evening with their itinerary.

The type is decided by the file's first bytes, never by its name or the browser's
word for it, and the file is served back only as that type."""

from django.db import transaction
from django.utils.translation import gettext as _

from schoolgate.accounts import audit
from schoolgate.evenings.models import Evening, RoomMap

MAX_BYTES = 5 * 1024 * 1024
PNG = "image/png"
JPEG = "image/jpeg"
PDF = "application/pdf"
# (first bytes, type); JPEG files start with SOI and another marker.
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"%PDF-", PDF),
]
EXTENSIONS = {PNG: "png", JPEG: "jpg", PDF: "pdf"}


class RoomMapError(ValueError):
    """An upload refused, with the reason in the organiser's words."""


def sniff(data: bytes) -> str:
    """The file's type from its first bytes, or RoomMapError."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    raise RoomMapError(_("The map must be a PNG or JPEG picture, or a PDF."))


def read_upload(upload) -> tuple[bytes, str]:
    """The uploaded file's bytes and type, checked: not empty, at most 5 MB, a PNG,
    JPEG or PDF. Reads at most one byte past the limit."""
    if upload is None:
        raise RoomMapError(_("Choose a file to upload."))
    if upload.size is not None and upload.size > MAX_BYTES:
        raise RoomMapError(_("The map must be 5 MB or smaller."))
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if not data:
        raise RoomMapError(_("The file you chose is empty."))
    if len(data) > MAX_BYTES:
        raise RoomMapError(_("The map must be 5 MB or smaller."))
    return data, sniff(data)


def set_room_map(*, evening: Evening, upload, actor) -> str:
    """Store (or replace) the evening's map; nothing changes when the file is refused.
    Returns the type stored."""
    data, kind = read_upload(upload)
    with transaction.atomic():
        RoomMap.objects.update_or_create(evening_id=evening.pk, defaults={"data": data})
        Evening.objects.filter(pk=evening.pk).update(room_map_type=kind)
        audit.record(
            action="evening_room_map_set",
            subject=f"evening {evening.pk}",
            actor=actor,
            type=kind,
            bytes=len(data),
        )
    evening.room_map_type = kind
    return kind


def remove_room_map(*, evening: Evening, actor) -> None:
    with transaction.atomic():
        RoomMap.objects.filter(evening_id=evening.pk).delete()
        Evening.objects.filter(pk=evening.pk).update(room_map_type="")
        audit.record(
            action="evening_room_map_removed", subject=f"evening {evening.pk}", actor=actor
        )
    evening.room_map_type = ""


def has_room_map(evening: Evening) -> bool:
    return bool(evening.room_map_type)


def map_bytes(evening: Evening) -> bytes:
    """The stored map (PostgreSQL gives a memoryview)."""
    data = RoomMap.objects.filter(evening_id=evening.pk).values_list("data", flat=True).first()
    return bytes(data or b"")


def filename(evening: Evening) -> str:
    return f"room-map-{evening.pk}.{EXTENSIONS.get(evening.room_map_type, 'bin')}"
