"""The live pages: the teacher's (TEACH, their own place at the evening only), the
organiser's (ORGANISE_EVENINGS) and the family's expected times (parents, their own
evenings only). Each page has a fragment address that its script asks for again every
few seconds (static/schoolgate/evenings-live.js, under the CSP) and a refresh link for
browsers without JavaScript. Any id that is not the user's own is a 404."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.core.access import ORGANISE_EVENINGS, TEACH, capability_required
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import Evening
from schoolgate.evenings.reports import schedules
from schoolgate.evenings.running import teacher_tools
from schoolgate.evenings.web.parent import selectors as parent_selectors

from . import clock, delays, selectors

TEACHER_SECONDS = 10
ORGANISER_SECONDS = 15
FAMILY_SECONDS = 5


def _own_entry_or_404(user, evening_id):
    entry = schedules.teacher_entry_or_none(user, evening_id=evening_id)
    if entry is None:
        raise Http404
    return entry


# --- the teacher's live page ------------------------------------------------------


def _teacher_context(entry):
    now = clock.now()
    return {
        "evening": entry.evening,
        "live": selectors.teacher_live(entry, now=now),
        "now": now,
        "steps": [m for m in delays.STEPS if m],
        "seconds": TEACHER_SECONDS,
    }


@capability_required(TEACH)
@never_cache
@require_GET
def teacher_page(request, evening_id):
    entry = _own_entry_or_404(request.user, evening_id)
    return render(request, "evenings/live/teacher.html", _teacher_context(entry))


@capability_required(TEACH)
@never_cache
@require_GET
def teacher_fragment(request, evening_id):
    entry = _own_entry_or_404(request.user, evening_id)
    return render(request, "evenings/live/_teacher_body.html", _teacher_context(entry))


@capability_required(TEACH)
@require_POST
def running_late(request, evening_id):
    entry = _own_entry_or_404(request.user, evening_id)
    try:
        minutes = int(request.POST.get("minutes", ""))
    except ValueError:
        minutes = -1
    try:
        delays.say_running_late(teacher=entry, actor=request.user, minutes=minutes)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        if minutes:
            messages.success(
                request,
                _("Families now see that you are running %(minutes)s minutes late.")
                % {"minutes": minutes},
            )
        else:
            messages.success(request, _("Families now see that you are on time."))
    return redirect(reverse("teacher:live", args=[entry.evening_id]))


@capability_required(TEACH)
@require_POST
def mark(request, evening_id, appointment_id):
    entry = _own_entry_or_404(request.user, evening_id)
    found = teacher_tools.appointment_for_teacher(
        request.user, evening_id=entry.evening_id, appointment_id=appointment_id
    )
    if found is None:
        raise Http404
    try:
        teacher_tools.mark_attendance(
            appointment=found,
            actor=request.user,
            attendance=request.POST.get("attendance", "?"),
            now=clock.now(),
        )
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(pupil)s: %(mark)s.")
            % {
                "pupil": found.pupil.display_name,
                "mark": found.get_attendance_display() or _("not marked"),
            },
        )
    return redirect(reverse("teacher:live", args=[entry.evening_id]))


# --- the organiser's live view ----------------------------------------------------


def _organiser_context(evening):
    now = clock.now()
    day, rows = selectors.organiser_live(evening, now=now)
    return {
        "evening": evening,
        "day": day,
        "rows": rows,
        "late": [r for r in rows if r.late_minutes],
        "now": now,
        "seconds": ORGANISER_SECONDS,
    }


@capability_required(ORGANISE_EVENINGS)
@never_cache
@require_GET
def organiser_page(request, evening_id):
    evening = get_object_or_404(Evening, pk=evening_id)
    return render(request, "evenings/live/organiser.html", _organiser_context(evening))


@capability_required(ORGANISE_EVENINGS)
@never_cache
@require_GET
def organiser_fragment(request, evening_id):
    evening = get_object_or_404(Evening, pk=evening_id)
    return render(request, "evenings/live/_organiser_body.html", _organiser_context(evening))


# --- a family's expected times ----------------------------------------------------


def family_context(evening, user) -> dict:
    now = clock.now()
    today = selectors.timezone.localdate(now)
    rows = [
        r
        for r in selectors.family_live(evening, user, now=now)
        if r.video or selectors.timezone.localdate(r.appointment.starts_at) == today
    ]
    return {
        "evening": evening,
        "live_rows": rows,
        "any_video": any(r.video for r in rows),
        # Asked for again only on the day: weeks ahead nothing changes by the minute.
        "polling": any(
            selectors.timezone.localdate(r.appointment.starts_at) == today for r in rows
        ),
        "now": now,
        "seconds": FAMILY_SECONDS,
    }


@parent_required
@never_cache
@require_GET
def family_fragment(request, evening_id):
    evening, _children = parent_selectors.evening_or_404(request.user, evening_id)
    return render(request, "evenings/live/_family_body.html", family_context(evening, request.user))
