"""iCalendar (RFC 5545) files of appointments, for confirmation and reminder emails and
the parents' calendar feeds, written with the `icalendar` package.

- One VEVENT per appointment. Its UID is that of the first appointment in its chain of
  moves (`moved_from`), so a change replaces the event in the parent's calendar instead
  of adding a second one; SEQUENCE counts the moves, plus one when cancelled.
- Times are UTC ("20260310T160000Z"): correct on either side of a clock change without
  a VTIMEZONE that every client would have to read right. Calendars show them in the
  reader's own time zone; the emails show the school's.
- Emails carry METHOD:PUBLISH (booked, changed, reminder) or METHOD:CANCEL with
  STATUS:CANCELLED (cancelled); feeds carry no METHOD (RFC 5545 section 3.7.2)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from schoolgate.evenings.models import Appointment
from schoolgate.evenings.video import rooms
from schoolgate.mis.models import GroupMembership, TeachingGroup

PUBLISH = "PUBLISH"
CANCEL = "CANCEL"
PRODID = "-//Schoolgate//Parents' evenings//EN"
MIMETYPE = "text/calendar"


@dataclass
class Entry:
    """One appointment as a parent sees it: what the emails and calendars show."""

    appointment_id: int
    uid: str
    sequence: int
    evening: str
    pupil: str
    teacher: str
    classes: str
    starts_at: datetime
    ends_at: datetime
    room: str
    video_link: str
    video: bool
    message: str
    cancelled: bool = False

    def context(self) -> dict:
        """For an email template: plain values, times in the school's time zone."""
        starts, ends = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return {
            "evening": self.evening,
            "pupil": self.pupil,
            "teacher": self.teacher,
            "classes": self.classes,
            "day": starts.date(),
            "starts": starts,
            "ends": ends,
            "room": self.room,
            "video_link": self.video_link,
            "video": self.video,
            "cancelled": self.cancelled,
        }


def entries_for(
    appointments: Iterable[Appointment], *, cancelled: bool = False, for_teacher: bool = False
) -> list[Entry]:
    """Entries for these appointments (a handful of queries, however many), by time.

    A video appointment's link is its call page (the parent's, or the teacher's with
    `for_teacher`), which checks who opens it: never the room itself (docs/video.md)."""
    appointments = sorted(appointments, key=lambda a: (a.starts_at, a.pk))
    if not appointments:
        return []
    chains = _chains(appointments)
    classes = _classes({(a.pupil_id, a.teacher.staff_id) for a in appointments})
    entries = []
    for a in appointments:
        root, moves = chains[a.pk]
        gone = cancelled or a.status == Appointment.Status.CANCELLED
        video = a.method == Appointment.Method.VIDEO
        entries.append(
            Entry(
                appointment_id=a.pk,
                uid=uid(root),
                sequence=moves + (1 if gone else 0),
                evening=a.evening.name,
                pupil=a.pupil.display_name,
                teacher=a.teacher.staff.display_name,
                classes=", ".join(classes.get((a.pupil_id, a.teacher.staff_id), [])),
                starts_at=a.starts_at,
                ends_at=a.ends_at,
                room="" if video else a.teacher.room,
                video_link=rooms.call_link(a, for_teacher=for_teacher) if video else "",
                video=video,
                message=a.message,
                cancelled=gone,
            )
        )
    return entries


def uid(root_appointment_id: int) -> str:
    """The event's UID: stable for an appointment and every move of it."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"appointment-{root_appointment_id}@{host or 'schoolgate'}"


def calendar(
    entries: Iterable[Entry],
    *,
    method: str | None = PUBLISH,
    name: str = "",
    organiser: str = "",
    organiser_name: str = "",
    stamp: datetime | None = None,
) -> str:
    """The VCALENDAR text (CRLF line ends, lines folded at 75 octets)."""
    stamp = (stamp or timezone.now()).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    address = parseaddr(organiser)[1] if organiser else ""
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("sequence", entry.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.starts_at.astimezone(UTC))
        event.add("dtend", entry.ends_at.astimezone(UTC))
        event.add("summary", summary(entry))
        event.add("description", description(entry))
        if entry.video_link:
            event.add("location", entry.video_link)
            event.add("url", entry.video_link)
        elif entry.room:
            event.add("location", entry.room)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        if address:
            organizer = vCalAddress(f"mailto:{address}")
            organizer.params["cn"] = vText(organiser_name or _school_name())
            event["organizer"] = organizer
        cal.add_component(event)
    return cal.to_ical().decode()


def summary(entry: Entry) -> str:
    return _("%(pupil)s: appointment with %(teacher)s") % {
        "pupil": entry.pupil,
        "teacher": entry.teacher,
    }


def description(entry: Entry, *, parent: str | None = None) -> str:
    """The event's text: for a parent it names the teacher; for the teacher's own
    feed, the `parent` they will meet."""
    starts, ends = timezone.localtime(entry.starts_at), timezone.localtime(entry.ends_at)
    lines = [
        entry.evening,
        _("Pupil: %(name)s") % {"name": entry.pupil},
        _("Parent: %(name)s") % {"name": parent}
        if parent is not None
        else _("Teacher: %(name)s") % {"name": entry.teacher},
    ]
    if entry.classes:
        lines.append(_("Class: %(classes)s") % {"classes": entry.classes})
    lines.append(
        _("When: %(day)s, %(start)s to %(end)s")
        % {
            "day": date_format(starts, "l j F Y"),
            "start": date_format(starts, "H:i"),
            "end": date_format(ends, "H:i"),
        }
    )
    if entry.video:
        lines.append(_("Video meeting: %(link)s") % {"link": entry.video_link or _("link to come")})
    elif entry.room:
        lines.append(_("Room: %(room)s") % {"room": entry.room})
    if entry.cancelled:
        lines.append(_("This appointment is cancelled."))
    return "\n".join(lines)


def filename(evening_name: str) -> str:
    """A safe file name for an evening's .ics attachment."""
    stem = "".join(c if c.isalnum() else "-" for c in evening_name.lower()).strip("-")
    while "--" in stem:
        stem = stem.replace("--", "-")
    return f"{stem or 'appointments'}.ics"


def _chains(appointments: list[Appointment]) -> dict[int, tuple[int, int]]:
    """{appointment id: (id of the first in its chain of moves, number of moves)}: one
    query per step back, however many appointments."""
    parent_of = {a.pk: a.moved_from_id for a in appointments}
    wanted = {p for p in parent_of.values() if p is not None and p not in parent_of}
    while wanted:
        found = dict(Appointment.objects.filter(pk__in=wanted).values_list("pk", "moved_from_id"))
        parent_of.update(found)
        parent_of.update(dict.fromkeys(wanted - found.keys()))  # deleted: the chain ends
        wanted = {p for p in found.values() if p is not None and p not in parent_of}
    result = {}
    for a in appointments:
        at, moves = a.pk, 0
        while parent_of.get(at) is not None:
            at, moves = parent_of[at], moves + 1
        result[a.pk] = (at, moves)
    return result


def _classes(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
    """{(pupil id, staff id): ["Maths (7 Maths)", "Form tutor (7A)"]}: the current
    classes in which that member of staff teaches that pupil (one query)."""
    rows = (
        GroupMembership.objects.filter(
            pupil_id__in={p for p, _s in pairs},
            group__current=True,
            group__groupteacher__staff_id__in={s for _p, s in pairs},
        )
        .values_list(
            "pupil_id",
            "group__groupteacher__staff_id",
            "group__kind",
            "group__name",
            "group__subject",
        )
        .distinct()
    )
    found = defaultdict(list)
    for pupil_id, staff_id, kind, name, subject in rows:
        if (pupil_id, staff_id) in pairs:
            found[(pupil_id, staff_id)].append(TeachingGroup(kind=kind, name=name, subject=subject))
    return {
        pair: [
            _class_label(g)
            for g in sorted(
                groups, key=lambda g: (g.kind != TeachingGroup.Kind.REGISTRATION, g.name)
            )
        ]
        for pair, groups in found.items()
    }


def _class_label(group: TeachingGroup) -> str:
    if group.kind == TeachingGroup.Kind.REGISTRATION:
        return _("Form tutor (%(group)s)") % {"group": group.name}
    if group.subject:
        return f"{group.subject} ({group.name})"
    return group.name


def _school_name() -> str:
    from schoolgate.core.context_processors import school_name

    return school_name()
