"""The call pages (the family's and the teacher's) and the parents' camera and
microphone check. A call page shows the room (embedded, and as a link) from 5 minutes
before the slot on, with a countdown to its end and a "2 minutes left" notice; the call
is never cut off. Anyone but the family and the teacher gets 404."""

from datetime import timedelta

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from schoolgate.accounts.decorators import parent_required
from schoolgate.core.access import TEACH, capability_required
from schoolgate.evenings.live import clock
from schoolgate.evenings.live.delays import expected_times
from schoolgate.evenings.live.selectors import teacher_live
from schoolgate.evenings.running import teacher_tools

from . import rooms

NOTICE_SECONDS = 120


def _call_page(request, appointment, *, name, moderator, extra):
    now = clock.now()
    expected = expected_times([appointment])[appointment.pk]
    opens, _closes = rooms.join_window(expected.starts_at, expected.ends_at)
    found = rooms.service()
    room_url = ""
    if found is not None and now >= opens:
        room_url = rooms.room_url(appointment, found, name=name, moderator=moderator, now=now)
    seconds_left = max(0, int((expected.ends_at - now).total_seconds()))
    response = render(
        request,
        "evenings/video/call.html",
        {
            "appointment": appointment,
            "evening": appointment.evening,
            "expected": expected,
            "opens": opens,
            "room_url": room_url,
            "no_service": found is None,
            "seconds_left": seconds_left,
            "started": now >= expected.starts_at,
            "notice": 0 < seconds_left <= NOTICE_SECONDS,
            "notice_seconds": NOTICE_SECONDS,
            **extra,
        },
    )
    if found is not None:
        # The room is framed from the school's server, which may use the camera and mic.
        response._csp_config = {**settings.SECURE_CSP, "frame-src": [found.origin]}
        allowed = f'(self "{found.origin}")'
        response.headers["Permissions-Policy"] = (
            f"camera={allowed}, microphone={allowed}, display-capture={allowed}"
        )
    return response


@parent_required
@never_cache
@require_GET
def family_call(request, evening_id, appointment_id):
    appointment = rooms.for_family_or_404(
        request.user, evening_id=evening_id, appointment_id=appointment_id
    )
    name = request.user.get_full_name() or teacher_tools.parent_name(request.user)
    return _call_page(
        request, appointment, name=name, moderator=False, extra={"for_teacher": False}
    )


@capability_required(TEACH)
@never_cache
@require_GET
def teacher_call(request, evening_id, appointment_id):
    appointment = teacher_tools.appointment_for_teacher(
        request.user, evening_id=evening_id, appointment_id=appointment_id
    )
    if appointment is None or not rooms.is_video(appointment):
        raise Http404
    live = teacher_live(appointment.teacher, now=clock.now())
    upcoming = [r for r in [live.now, live.next, *live.later] if r is not None]
    after = [r for r in upcoming if r.appointment.starts_at > appointment.starts_at]
    following = after[0] if after else None
    # The call may run on into free time up to the next appointment (or the day's end).
    free_until = following.expected.starts_at if following else appointment.day.ends_at
    run_on = free_until - appointment.ends_at >= timedelta(minutes=1)
    return _call_page(
        request,
        appointment,
        name=appointment.teacher.staff.display_name,
        moderator=True,
        extra={
            "for_teacher": True,
            "following": following,
            "run_on_until": free_until if run_on else None,
            "parents": teacher_tools.parents_of(appointment),
        },
    )


@parent_required
@require_GET
def camera_check(request):
    response = render(request, "evenings/video/camera_check.html")
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self)"
    return response
