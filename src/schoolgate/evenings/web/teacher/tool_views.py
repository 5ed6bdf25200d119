"""The teacher's pages: one appointment (note and attendance), their own breaks, and
their calendar feed. Thin views over `teacher_tools`; any id that is not the signed-in
teacher's own is a 404, so ids reveal nothing."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.core.access import TEACH, capability_required
from schoolgate.evenings.booking.errors import BookingError, ChangeRefused, SetupError
from schoolgate.evenings.comms import feeds, teacher_feed
from schoolgate.evenings.models import Break, CalendarFeed, Evening
from schoolgate.evenings.running import teacher_tools
from schoolgate.evenings.web.staff.forms import add_setup_error
from schoolgate.evenings.web.teacher.forms import AppointmentRecordForm, OwnBreakForm

GET_POST = require_http_methods(["GET", "POST"])
REFUSED = 409


# --- one appointment ---------------------------------------------------------------


@capability_required(TEACH)
@never_cache
@GET_POST
def appointment(request, evening_id, appointment_id):
    found = teacher_tools.appointment_for_teacher(
        request.user, evening_id=evening_id, appointment_id=appointment_id
    )
    if found is None:
        raise Http404
    can_mark = teacher_tools.may_mark_attendance(found)
    initial = {"attendance": found.attendance, "note": teacher_tools.note_text(found, request.user)}
    form = AppointmentRecordForm(request.POST or None, initial=initial, can_mark=can_mark)
    status = 200
    if request.method == "POST" and form.is_valid():
        changes = {"note": form.cleaned_data["note"]}
        if can_mark:
            changes["attendance"] = form.cleaned_data["attendance"]
        try:
            teacher_tools.update_appointment_record(
                appointment=found, actor=request.user, **changes
            )
        except BookingError as error:
            form.add_error(None, error.message)
            status = REFUSED
        else:
            messages.success(request, _("Saved."))
            return redirect(request.path)
    return render(
        request,
        "evenings/teacher/appointment.html",
        {
            "appointment": found,
            "evening": found.evening,
            "form": form,
            "can_mark": can_mark,
            "opens": teacher_tools.attendance_opens(found),
            "parents": teacher_tools.parents_of(found),
            "marked_by": found.attendance_marked_by if found.attendance else None,
        },
        status=status,
    )


# --- own breaks --------------------------------------------------------------------


def _evening_taught(user, evening_id) -> Evening:
    evening = get_object_or_404(Evening.objects.select_related("created_by"), pk=evening_id)
    if not teacher_tools.teaches(user, evening) or not evening.teachers_set_breaks:
        raise Http404
    return evening


def _breaks_page(request, evening, form, *, refused=None, status=200):
    return render(
        request,
        "evenings/teacher/breaks.html",
        {
            "evening": evening,
            "rows": teacher_tools.breaks_for_teacher(request.user, evening),
            "form": form,
            "open": teacher_tools.own_breaks_open(evening),
            "organiser": evening.created_by,
            "refused": refused,
        },
        status=REFUSED if refused else status,
    )


@capability_required(TEACH)
@GET_POST
def breaks(request, evening_id):
    """The breaks that apply to the teacher, and (before booking opens) a form to add
    one for themself."""
    evening = _evening_taught(request.user, evening_id)
    form = OwnBreakForm(request.POST or None, evening=evening)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            teacher_tools.add_own_break(
                evening=evening,
                actor=request.user,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                label=data["label"],
            )
        except ChangeRefused as error:
            return _breaks_page(request, evening, form, refused=error)
        except SetupError as error:
            add_setup_error(form, error, {"break": "starts"})
        except BookingError as error:  # not allowed (any more): booking has opened
            form.add_error(None, error.message)
            return _breaks_page(request, evening, form, status=REFUSED)
        else:
            messages.success(request, _("Your break was added."))
            return redirect(reverse("teacher:breaks", args=[evening.pk]))
    return _breaks_page(request, evening, form)


@capability_required(TEACH)
@require_POST
def break_remove(request, evening_id, break_id):
    evening = _evening_taught(request.user, evening_id)
    brk = get_object_or_404(Break, pk=break_id, evening=evening)
    if not any(row.mine and row.brk.pk == brk.pk for row in _rows(request.user, evening)):
        raise Http404  # not theirs: an organiser's break, or another teacher's
    try:
        teacher_tools.remove_own_break(brk=brk, actor=request.user)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your break was removed."))
    return redirect(reverse("teacher:breaks", args=[evening.pk]))


def _rows(user, evening):
    return teacher_tools.breaks_for_teacher(user, evening)


# --- calendar feed -----------------------------------------------------------------


@capability_required(TEACH)
@never_cache
@GET_POST
def calendar(request):
    """The staff member's calendar address: make, reset or turn off (POST `action`)."""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "create":
            feeds.create_feed(parent=request.user)
            messages.success(
                request, _("Your calendar address is ready. Copy it into your calendar.")
            )
        elif action == "reset":
            feeds.reset_feed(parent=request.user)
            messages.success(
                request,
                _(
                    "Your calendar has a new address. The old one no longer works: add the "
                    "new one to your calendar."
                ),
            )
        elif action == "stop":
            if feeds.stop_feed(parent=request.user):
                messages.success(request, _("Your calendar address no longer works."))
        else:
            messages.error(request, _("Nothing was changed: choose one of the buttons."))
        return redirect(reverse("teacher:calendar"))
    found = CalendarFeed.objects.filter(parent=request.user).first()
    url = feeds.feed_url(found) if found else ""
    return render(
        request,
        "evenings/teacher/calendar.html",
        {
            "feed": found,
            "url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[-1] if url else "",
            "upcoming": teacher_feed.upcoming_teaching(request.user, now=timezone.now()).count(),
        },
    )
