"""The parent's hold, confirm and let-go pages, and changing or cancelling an
appointment. Thin views over `schoolgate.evenings.booking`; every id is checked
against the parent (404 otherwise)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.core.ratelimit import Limit, by_user, rate_limited
from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import BookingError, HoldExpired
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.web.parent import selectors
from schoolgate.evenings.web.parent.common import (
    GONE,
    REFUSED,
    chosen_methods,
    evening_url,
    form_errors,
    when_text,
)
from schoolgate.evenings.web.parent.forms import MESSAGE_LENGTH, MessagesForm
from schoolgate.evenings.web.parent.views import no_teacher_page, times_grid_page


@parent_required
@require_POST
@rate_limited("hold", Limit(by_user, 30, 600, "user"))  # docs/accounts.md, Rate limits
def hold(request, evening_id):
    """Hold the times picked (`slot-<pupil>-<teacher>` = slot id), from the grid or an
    accepted proposal; `teacher` fields name the grid's other rows, if any."""
    evening, children = selectors.evening_or_404(request.user, evening_id)
    names = [name for name in request.POST if name.startswith("slot-")]
    keys = [name.removeprefix("slot-") for name in names]
    chosen = selectors.chosen_or_404(evening, children, [*request.POST.getlist("teacher"), *keys])
    by_key = {c.key: c for c in chosen}
    wanted = {}
    for name, key in zip(names, keys, strict=True):
        value = request.POST.get(name, "")
        if value != "":
            pupil_id, teacher_id = selectors.parse_pair(key)
            wanted[f"{pupil_id}-{teacher_id}"] = (teacher_id, selectors.parse_id(value))
    slots = selectors.slots_or_404(evening, wanted.values())
    picked = {k: slots[slot_id].pk for k, (_teacher_id, slot_id) in wanted.items()}
    if not chosen:
        return no_teacher_page(request, evening, children)
    missing = [c for c in chosen if c.key not in picked]
    if missing:
        times = {
            t.chosen.key: t
            for t in selectors.free_times(
                evening, missing, user=request.user, now=timezone.now(), busy=[]
            )
        }
        errors = [
            (
                _("Choose a time with %(teacher)s for %(pupil)s")
                % {"teacher": c.teacher.staff.display_name, "pupil": c.pupil.display_name},
                f"#slot-{c.key}",
            )
            for c in missing
            if times[c.key].count
        ]
        if errors or not picked:
            if not errors:
                errors = [(_("None of these teachers has a free time left"), "#main-content")]
            return times_grid_page(request, evening, chosen, picked=picked, errors=errors)
    methods = chosen_methods(request, evening, picked)
    choices = [
        booking.Choice(
            pupil=by_key[key].pupil.pk,
            teacher=by_key[key].teacher.pk,
            slot=slot_id,
            method=methods[key],
        )
        for key, slot_id in picked.items()
    ]
    try:
        held = booking.hold_slots(parent=request.user, evening=evening, choices=choices)
    except BookingError as error:
        return times_grid_page(
            request,
            evening,
            chosen,
            picked=picked,
            errors=[(error.message, "#times")],
            status=REFUSED,
        )
    return redirect("evenings:hold", evening.pk, held.pk)


@parent_required
@never_cache  # Back after confirming asks again, instead of showing a stale "Held" page
def hold_page(request, evening_id, hold_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    held = selectors.hold_or_404(request.user, evening, hold_id)
    if held.confirmed_at is not None:
        messages.info(request, _("These are booked: you confirmed them already."))
        return redirect(evening_url(evening))
    return _hold_page(request, evening, held)


def _hold_page(request, evening, held, *, form=None, errors=(), status=200):
    now = timezone.now()
    appointments = selectors.held_appointments(held, now=now)
    if not appointments:
        return _expired(request, evening)
    form = form or MessagesForm(
        appointments=appointments, initial=_kept_initial(request, appointments)
    )
    others = selectors.own_busy(evening, request.user, now=now, confirmed_only=True)
    itinerary = sorted(
        [{"appointment": a, "held": True, "message": form[f"message-{a.pk}"]} for a in appointments]
        + [{"appointment": a, "held": False} for a in others],
        key=lambda row: (row["appointment"].starts_at, row["appointment"].pk),
    )
    expires_at = min(a.expires_at for a in appointments)
    return render(
        request,
        "evenings/parent/hold.html",
        {
            "evening": evening,
            "hold": held,
            "itinerary": itinerary,
            "appointments": appointments,
            "form": form,
            "errors": list(errors) + form_errors(form) if form.is_bound else list(errors),
            "expires_at": expires_at,
            "several_days": evening.days.count() > 1,
            "seconds_left": max(0, int((expires_at - now).total_seconds())),
            # A waiting-list offer is held for hours: its end, with the day, and no countdown.
            "long_hold": (expires_at - now).total_seconds() > 15 * 60,
        },
        status=status,
    )


def _expired(request, evening, *, kept: bool = False):
    return render(
        request, "evenings/parent/expired.html", {"evening": evening, "kept": kept}, status=GONE
    )


# Messages typed to teachers when a hold lapsed: {"<pupil id>:<teacher id>": text}, kept
# in the session so the next hold for the same pupil and teacher starts with them.
KEPT_MESSAGES = "evenings_kept_messages"


def _keep_messages(request, held) -> bool:
    rows = Appointment.objects.filter(hold=held).values_list("pk", "pupil_id", "teacher_id")
    kept = dict(request.session.get(KEPT_MESSAGES, {}))
    for pk, pupil_id, teacher_id in rows:
        text = (request.POST.get(f"message-{pk}") or "").strip()
        if text:
            kept[f"{pupil_id}:{teacher_id}"] = text[:MESSAGE_LENGTH]
    request.session[KEPT_MESSAGES] = kept
    return bool(kept)


def _kept_initial(request, appointments) -> dict:
    kept = request.session.get(KEPT_MESSAGES, {})
    return {
        f"message-{a.pk}": kept[f"{a.pupil_id}:{a.teacher_id}"]
        for a in appointments
        if f"{a.pupil_id}:{a.teacher_id}" in kept
    }


@parent_required
@never_cache
@require_POST
def confirm(request, evening_id, hold_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    held = selectors.hold_or_404(request.user, evening, hold_id)
    mine = set(held.appointments.values_list("pk", flat=True))
    for name in request.POST:
        if (
            name.startswith("message-")
            and selectors.parse_id(name.removeprefix("message-")) not in mine
        ):
            raise Http404
    if held.confirmed_at is not None:
        return redirect(evening_url(evening))
    now = timezone.now()
    appointments = selectors.held_appointments(held, now=now)
    if not appointments:
        return _expired(request, evening, kept=_keep_messages(request, held))
    form = MessagesForm(request.POST, appointments=appointments)
    if not form.is_valid():
        return _hold_page(request, evening, held, form=form)
    try:
        confirmed = booking.confirm_hold(hold=held, parent=request.user, messages=form.messages())
    except HoldExpired:
        return _expired(request, evening, kept=_keep_messages(request, held))
    except BookingError as error:
        return _hold_page(
            request,
            evening,
            held,
            form=form,
            errors=[(error.message, "#itinerary")],
            status=REFUSED,
        )
    request.session.pop(KEPT_MESSAGES, None)
    messages.success(
        request,
        ngettext(
            "Your appointment is booked.",
            "Your %(count)s appointments are booked.",
            len(confirmed),
        )
        % {"count": len(confirmed)},
    )
    return redirect(evening_url(evening))


@parent_required
@require_POST
def release(request, evening_id, hold_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    held = selectors.hold_or_404(request.user, evening, hold_id)
    if held.confirmed_at is None:
        try:
            booking.release_hold(hold=held, user=request.user)
        except BookingError as error:  # not expected: the hold is this parent's
            messages.error(request, error.message)
            return redirect(evening_url(evening))
        messages.info(request, _("The times you held have been let go. Nothing was booked."))
    return redirect(evening_url(evening))


def _why_fixed(appointment, *, user, evening) -> str:
    """Why a parent cannot change or cancel this appointment here (for the page)."""
    if appointment.status != Appointment.Status.CONFIRMED:
        return _("This appointment is not booked any more.")
    if appointment.parent_id != user.pk:
        return _("Only %(parent)s, who booked this appointment, can change or cancel it.") % {
            "parent": appointment.parent
        }
    return _(
        "It is too late to change or cancel this appointment online. Please contact the school."
    )


@parent_required
@require_http_methods(["GET", "POST"])
def cancel(request, evening_id, appointment_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    appointment = selectors.appointment_or_404(request.user, evening, appointment_id)
    context = {"evening": evening, "appointment": appointment, "errors": []}
    status = 200
    if request.method == "POST":
        try:
            booking.cancel_appointment(appointment=appointment, user=request.user)
        except BookingError as error:
            context["errors"] = [(error.message, "#appointment")]
            status = REFUSED
        else:
            messages.success(
                request,
                _("Your appointment with %(teacher)s for %(pupil)s on %(when)s is cancelled.")
                % {
                    "teacher": appointment.teacher.staff.display_name,
                    "pupil": appointment.pupil.display_name,
                    "when": when_text(appointment.starts_at),
                },
            )
            return redirect(evening_url(evening))
    now = timezone.now()
    context["changeable"] = selectors.changeable(
        appointment, user=request.user, evening=evening, now=now
    )
    if not context["changeable"] and not context["errors"]:
        context["fixed"] = _why_fixed(appointment, user=request.user, evening=evening)
    return render(request, "evenings/parent/cancel.html", context, status=status)


@parent_required
@require_http_methods(["GET", "POST"])
def change(request, evening_id, appointment_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    appointment = selectors.appointment_or_404(request.user, evening, appointment_id)
    now = timezone.now()
    context = {"evening": evening, "appointment": appointment, "errors": []}
    if not selectors.changeable(appointment, user=request.user, evening=evening, now=now):
        context["fixed"] = _why_fixed(appointment, user=request.user, evening=evening)
        return render(request, "evenings/parent/change.html", context)
    chosen = selectors.chosen_for(evening, appointment)
    slot = None
    if request.method == "POST" and request.POST.get("slot", "") != "":
        slot = selectors.slot_or_404(evening, appointment.teacher_id, request.POST["slot"])
    status = 200
    if request.method == "POST":
        if slot is None:
            context["errors"] = [(_("Choose a new time"), "#times")]
        elif slot.starts_at == appointment.starts_at:
            context["errors"] = [(_("Choose a time other than the one you have"), "#times")]
        elif request.POST.get("confirm") == "yes":
            try:
                moved = booking.move_appointment(
                    appointment=appointment, user=request.user, slot=slot
                )
            except BookingError as error:
                context["errors"] = [(error.message, "#times")]
                status = REFUSED
            else:
                messages.success(
                    request,
                    _("Your appointment with %(teacher)s for %(pupil)s is now on %(when)s.")
                    % {
                        "teacher": moved.teacher.staff.display_name,
                        "pupil": appointment.pupil.display_name,
                        "when": when_text(moved.starts_at),
                    },
                )
                return redirect(evening_url(evening))
        else:
            context["slot"] = slot
            context["new_end"] = slot.starts_at + (appointment.ends_at - appointment.starts_at)
            return render(request, "evenings/parent/change_confirm.html", context)
    busy = selectors.own_busy(
        evening, request.user, now=now, confirmed_only=True, exclude=appointment.pk
    )
    context["times"] = (
        selectors.free_times(evening, [chosen], user=request.user, now=now, busy=busy)[0]
        if chosen
        else None
    )
    context["busy"] = busy
    context["picked"] = slot.pk if slot else None
    return render(request, "evenings/parent/change.html", context, status=status)
