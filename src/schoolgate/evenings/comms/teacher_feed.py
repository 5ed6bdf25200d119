"""A teacher's appointments in their calendar feed (docs/teacher-tools.md).

A person has one calendar feed (CalendarFeed, one secret address per account, see
feeds.py). For a member of staff who teaches at evenings it also carries their own
upcoming confirmed appointments there: pupil, parent, class, time, room or video link.
Never the private notes, and not the parents' messages either (the address is a bearer
secret; the messages stay behind the sign-in, on the appointment page). A person who is
both a parent and a teacher gets both kinds of event in the one feed."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from schoolgate.evenings.comms import ics
from schoolgate.evenings.running.teacher_tools import (
    contact_names,
    parent_name,
    teacher_appointments,
)

RELATED = ("evening", "pupil", "parent", "teacher__staff")


def upcoming_teaching(user, *, now: datetime | None = None):
    """The user's own upcoming confirmed appointments as a teacher."""
    now = now or timezone.now()
    return (
        teacher_appointments(user)
        .filter(ends_at__gt=now)
        .select_related(*RELATED)
        .order_by("starts_at", "pk")
    )


def add_teaching_events(calendar_text: str, *, user, now: datetime | None = None) -> str:
    """The VCALENDAR text with the user's teaching appointments added (unchanged when
    they teach none)."""
    now = now or timezone.now()
    appointments = list(upcoming_teaching(user, now=now))
    if not appointments:
        return calendar_text
    cal = Calendar.from_ical(calendar_text)
    names = contact_names(a.parent.email for a in appointments)
    by_id = {a.pk: a for a in appointments}
    for entry in ics.entries_for(appointments, for_teacher=True):
        appointment = by_id[entry.appointment_id]
        cal.add_component(
            _event(entry, parent=parent_name(appointment.parent, contacts=names), stamp=now)
        )
    return cal.to_ical().decode()


def _event(entry: ics.Entry, *, parent: str, stamp: datetime) -> Event:
    event = Event()
    # Not the parent's UID: a teacher who is also the parent keeps both events.
    event.add("uid", "teaching-" + entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", entry.starts_at.astimezone(UTC))
    event.add("dtend", entry.ends_at.astimezone(UTC))
    event.add(
        "summary",
        _("Parents' evening: %(pupil)s (%(parent)s)") % {"pupil": entry.pupil, "parent": parent},
    )
    event.add("description", ics.description(entry, parent=parent))
    if entry.video_link:
        event.add("location", entry.video_link)
        event.add("url", entry.video_link)
    elif entry.room:
        event.add("location", entry.room)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def count_upcoming(user) -> int:
    return upcoming_teaching(user).count()
