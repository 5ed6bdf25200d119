"""The bookings of an evening as a CSV file: one row per confirmed appointment.

UTF-8 with a byte-order mark, so that Excel reads accented names right; times on
the school's clock. A cell that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) gets a leading apostrophe: a parent's message
is text the school did not write. The columns are described in docs/take-up.md.

A video appointment's link is its family's call page on Schoolgate (docs/video.md),
which opens only for that family: the office can give it to a parent who lost the
email. Never a teacher's fixed meeting link: each appointment has its own room."""

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.video import rooms
from schoolgate.mis.models import GroupMembership, TeachingGroup

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
YEAR_CODES = {0: "R", -1: "N2", -2: "N1"}


def safe(value) -> str:
    """A cell's text, defused when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def filename(evening: Evening) -> str:
    return f"{slugify(evening.name) or 'evening'}-bookings.csv"


def columns() -> list[str]:
    return [
        _("Date"),
        _("Start"),
        _("End"),
        _("Teacher"),
        _("Room"),
        _("Video call page"),
        _("Pupil"),
        _("Year"),
        _("Registration group"),
        _("Parent"),
        _("Parent's email"),
        _("Booked by"),
        _("Meeting"),
        _("Message"),
        _("Attendance"),
    ]


def rows(evening: Evening) -> Iterator[list[str]]:
    """The data rows, in time order then by teacher."""
    appointments = (
        Appointment.objects.filter(evening=evening, status=Appointment.Status.CONFIRMED)
        .select_related("pupil", "teacher__staff", "parent", "booked_by")
        .order_by("starts_at", "teacher__staff__surname", "teacher__staff__forename", "pk")
    )
    forms = defaultdict(list)
    for pupil_id, name in (
        GroupMembership.objects.filter(
            pupil__in=appointments.values("pupil_id"),
            group__kind=TeachingGroup.Kind.REGISTRATION,
            group__current=True,
        )
        .order_by("group__name")
        .values_list("pupil_id", "group__name")
    ):
        forms[pupil_id].append(name)
    zone = timezone.get_default_timezone()
    for a in appointments:
        start = timezone.localtime(a.starts_at, zone)
        end = timezone.localtime(a.ends_at, zone)
        year = a.pupil.year_group
        yield [
            start.date().isoformat(),
            f"{start:%H:%M}",
            f"{end:%H:%M}",
            str(a.teacher.staff),
            a.teacher.room,
            rooms.call_link(a) if a.method == Appointment.Method.VIDEO else "",
            a.pupil.display_name,
            "" if year is None else YEAR_CODES.get(year, str(year)),
            ", ".join(forms.get(a.pupil_id, [])),
            _person(a.parent),
            a.parent.email,
            _booked_by(a),
            a.get_method_display(),
            a.message,
            a.get_attendance_display() if a.attendance else "",
        ]


def bookings_csv(evening: Evening) -> bytes:
    """The whole file, BOM included."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns())
    for row in rows(evening):
        writer.writerow([safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def _person(user) -> str:
    return user.get_full_name() or user.email


def _booked_by(appointment: Appointment) -> str:
    by = appointment.booked_by
    if by is None:
        return ""
    if by.pk == appointment.parent_id:
        return _person(by)
    if by.is_staff:
        return _("%(name)s (school)") % {"name": _person(by)}
    return _person(by)
