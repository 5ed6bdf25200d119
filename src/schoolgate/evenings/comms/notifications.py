"""Emails about appointments: booked, changed, cancelled, and the day-before reminder,
each with its iCalendar file, all through the outbox.

The booking services call `booked`, `moved` and `cancelled` inside their transaction,
so the outbox rows commit with the booking and never without it. One email per person
per action, however many appointments it concerns.

Who is told (docs/calendars.md): the parent whose appointment it is, and, when the
evening's meetings are shared, every other parent with an account who may see the
pupil now: they may come to the meeting, and they would see it on the portal anyway.
The email to another parent never names who booked. Someone who has lost access to a
pupil (accounts.access) is not told about that pupil. When meetings are separate, only
the parent concerned is told."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from schoolgate.accounts.access import generation_mode, pupils_visible_to, qualifying_links
from schoolgate.accounts.models import User
from schoolgate.core.emails import normalise_email
from schoolgate.core.i18n import supported_language
from schoolgate.evenings.comms import ics
from schoolgate.evenings.models import Appointment, Evening, ReminderSent
from schoolgate.outbox.services import attachment, queue_emails

logger = logging.getLogger(__name__)

BOOKED = "evening_booked"
CHANGED = "evening_changed"
CANCELLED = "evening_cancelled"
REMINDER = "evening_reminder"

_RELATED = ("evening", "pupil", "teacher__staff", "parent")


def booked(appointments: Iterable[Appointment], *, actor=None) -> None:
    """Queue the confirmations of newly confirmed appointments (one action)."""
    appointments = _fresh(appointments)
    if not appointments:
        return
    _notify(BOOKED, appointments, actor=actor, method=ics.PUBLISH)


def moved(*, old: Appointment, new: Appointment, actor=None, extra: dict | None = None) -> None:
    """Queue the emails for an appointment moved from `old` to `new`: the new event
    replaces the old in calendars (same UID, a higher SEQUENCE). `extra` adds to the
    emails' context (`absent_teacher`: the name of a teacher who cannot come)."""
    [new] = _fresh([new])
    [old] = _fresh([old])
    _notify(CHANGED, [new], actor=actor, method=ics.PUBLISH, before={new.pk: old}, extra=extra)


def cancelled(
    appointments: Iterable[Appointment], *, actor=None, extra: dict | None = None
) -> None:
    """Queue the cancellation notices (METHOD:CANCEL removes the events); `extra` as
    for `moved`."""
    appointments = _fresh(appointments)
    if not appointments:
        return
    _notify(CANCELLED, appointments, actor=actor, method=ics.CANCEL, extra=extra)


def itinerary(
    *, parent, evening: Evening | None = None, mode: str | None = None
) -> QuerySet[Appointment]:
    """The confirmed appointments this parent is told about and sees in calendars: those
    of the pupils they may see now, and of those only their own at an evening whose
    meetings are separate."""
    appointments = Appointment.objects.filter(
        Q(evening__split_families=Evening.SplitFamilies.SHARED) | Q(parent=parent),
        status=Appointment.Status.CONFIRMED,
        pupil__in=pupils_visible_to(parent, mode=mode),
    )
    if evening is not None:
        appointments = appointments.filter(evening=evening)
    return appointments.select_related(*_RELATED).order_by("starts_at", "pk")


def reminder_recipients(evening: Evening) -> list[User]:
    """Everyone who gets a reminder for this evening: see the module's docstring."""
    confirmed = list(
        Appointment.objects.filter(
            evening=evening, status=Appointment.Status.CONFIRMED
        ).select_related(*_RELATED)
    )
    return [user for user, _mine in _recipients(evening, confirmed).values()]


def queue_reminder(*, parent, evening: Evening):
    """Queue the day-before reminder for one parent (their itinerary and its .ics);
    returns the outbox message, or None when they have nothing to come to."""
    with language_of(parent):
        appointments = list(itinerary(parent=parent, evening=evening))
        if not appointments:
            return None
        entries = ics.entries_for(appointments)
        spec = _email(
            REMINDER,
            parent,
            evening=evening,
            entries=entries,
            concerned=entries,
            method=ics.PUBLISH,
            context={},
            organiser=_organiser(),
        )
    [message] = queue_emails([spec])
    return message


def reminder_hour() -> int:
    """Day-before reminders go from this hour (school time) on the day before."""
    return settings.SCHOOLGATE.get("REMINDER_HOUR", 17)


def evenings_due_reminders(now: datetime) -> QuerySet[Evening]:
    """Evenings whose first day is tomorrow (school time), once it is reminder time."""
    local = timezone.localtime(now)
    if local.hour < reminder_hour():
        return Evening.objects.none()
    tomorrow = local.date() + timedelta(days=1)
    start = timezone.make_aware(datetime.combine(tomorrow, time.min))
    end = timezone.make_aware(datetime.combine(tomorrow + timedelta(days=1), time.min))
    return (
        Evening.objects.filter(status__in=[Evening.Status.PUBLISHED, Evening.Status.CLOSED])
        .annotate(first_day=Min("days__starts_at"))
        .filter(first_day__gte=start, first_day__lt=end)
        .order_by("pk")
    )


def queue_due_reminders(*, now: datetime | None = None) -> int:
    """Queue the day-before reminders that are due and not yet sent; returns how many.

    Each (parent, evening) is claimed by inserting its unique ReminderSent row in the
    transaction that queues the email: however many workers run this at once, one
    wins each claim and the others skip it, so every reminder goes exactly once."""
    from schoolgate.addons.selectors import get_addon_settings

    now = now or timezone.now()
    if not get_addon_settings().day_before_reminders:
        return 0
    queued = 0
    for evening in evenings_due_reminders(now):
        done = set(ReminderSent.objects.filter(evening=evening).values_list("parent_id", flat=True))
        for parent in reminder_recipients(evening):
            if parent.pk in done:
                continue
            try:
                with transaction.atomic():
                    claim = ReminderSent.objects.create(
                        evening=evening, parent=parent, queued_at=now
                    )
                    message = queue_reminder(parent=parent, evening=evening)
                    if message is None:
                        transaction.set_rollback(True)  # nothing to remind them of
                        continue
                    claim.message = message
                    claim.save(update_fields=["message"])
            except IntegrityError:
                continue  # another worker has this one
            queued += 1
    if queued:
        logger.info("Queued %s day-before reminders", queued)
    return queued


# --- the work --------------------------------------------------------------------


def _notify(
    template: str,
    appointments: list[Appointment],
    *,
    actor,
    method: str,
    before: dict[int, Appointment] | None = None,
    extra: dict | None = None,
) -> None:
    by_evening = defaultdict(list)
    for a in appointments:
        by_evening[a.evening_id].append(a)
    # Read once per action, not once per recipient: this runs inside the booking.
    mode = generation_mode()
    organiser = _organiser()
    specs = []
    for group in by_evening.values():
        evening = group[0].evening
        for user, mine in _recipients(evening, group, mode=mode).values():
            with language_of(user):
                whole = ics.entries_for(itinerary(parent=user, evening=evening, mode=mode))
                ids = {a.pk for a in mine}
                concerned = [e for e in whole if e.appointment_id in ids]
                if method == ics.CANCEL or len(concerned) != len(mine):
                    concerned = ics.entries_for(mine, cancelled=method == ics.CANCEL)
                context = {
                    **(extra or {}),
                    "by_school": bool(
                        actor is not None
                        and actor.pk not in {a.parent_id for a in mine}
                        and actor.is_staff
                    ),
                    "for_other_parent": all(a.parent_id != user.pk for a in mine),
                    "pupils": sorted({a.pupil.display_name for a in mine}),
                }
                if before:
                    was = [before[a.pk] for a in mine if a.pk in before]
                    context["before"] = [e.context() for e in ics.entries_for(was)]
                specs.append(
                    _email(
                        template,
                        user,
                        evening=evening,
                        entries=whole,
                        concerned=concerned,
                        method=method,
                        context=context,
                        organiser=organiser,
                    )
                )
    if specs:
        queue_emails(specs)


def _email(
    template: str,
    user,
    *,
    evening: Evening,
    entries,
    concerned,
    method: str,
    context: dict,
    organiser: tuple[str, str],
) -> dict:
    """One email's spec for queue_emails: the context and the .ics of `concerned`."""
    address, school = organiser
    content = ics.calendar(
        concerned, method=method, name=evening.name, organiser=address, organiser_name=school
    )
    return {
        "to": user.email,
        "template": template,
        "context": {
            **context,
            "name": user.first_name,
            "evening": evening.name,
            "appointments": [e.context() for e in concerned],
            "itinerary": [e.context() for e in entries],
            # The whole itinerary is worth showing only when it is not just `concerned`.
            "show_itinerary": [e.appointment_id for e in entries]
            != [e.appointment_id for e in concerned],
            "link": settings.SITE_URL + reverse("evenings:evening", args=[evening.pk]),
            "calendar_link": settings.SITE_URL + reverse("calendar:feed"),
        },
        "attachments": [
            attachment(
                filename=ics.filename(evening.name),
                content=content,
                mimetype=f"{ics.MIMETYPE}; method={method}",
            )
        ],
    }


def _recipients(
    evening: Evening, appointments: list[Appointment], *, mode: str | None = None
) -> dict[int, tuple]:
    """{user id: (user, [the appointments they are told about])}: see the docstring."""
    pupil_ids = {a.pupil_id for a in appointments}
    access = defaultdict(set)  # email key -> pupils it may see now
    for email_key, pupil_id in (
        qualifying_links(mode=mode)
        .filter(pupil_id__in=pupil_ids)
        .values_list("contact__email_key", "pupil_id")
    ):
        access[email_key].add(pupil_id)
    if evening.shared_meetings:
        users = list(User.objects.filter(is_active=True, email__in=list(access)))
    else:
        users = list(
            User.objects.filter(is_active=True, pk__in={a.parent_id for a in appointments})
        )
    result = {}
    for user in sorted(users, key=lambda u: u.pk):
        visible = access.get(normalise_email(user.email), set())
        mine = [
            a
            for a in appointments
            if a.pupil_id in visible and (evening.shared_meetings or a.parent_id == user.pk)
        ]
        if mine:
            result[user.pk] = (user, mine)
    return result


def _fresh(appointments: Iterable[Appointment]) -> list[Appointment]:
    """The appointments with what the emails show, read again inside the transaction."""
    ids = [a.pk for a in appointments]
    return list(Appointment.objects.filter(pk__in=ids).select_related(*_RELATED))


def language_of(user):
    language = supported_language(getattr(user, "language", ""))
    return translation.override(language) if language else nullcontext()


def _organiser() -> tuple[str, str]:
    """The ORGANIZER of the events: the address emails come from, and the school."""
    from schoolgate.addons.sender import current_sender
    from schoolgate.core.context_processors import school_name

    return current_sender().from_email, school_name()
