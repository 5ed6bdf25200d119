"""The parents' pages: see the evenings for their children, choose teachers, pick times
(or let Schoolgate plan the visit), hold, confirm, change and cancel.

Thin views over `schoolgate.evenings.booking` (every change) and `availability` /
`parent_selectors` (every read). Each id in a URL or a form is checked through
`parent_selectors`: what this parent may not see is not found (404)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings import absence, booking, waiting
from schoolgate.evenings import parent_selectors as selectors
from schoolgate.evenings.availability import plan_visit
from schoolgate.evenings.errors import BookingError, HoldExpired
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.parent_forms import MESSAGE_LENGTH, MessagesForm, VisitForm
from schoolgate.evenings.planner import CLASHES, CROWDED_OUT, NO_FREE_SLOT, OUTSIDE_WINDOW

# A refused booking: the page is shown again with the reason, and nothing changed.
REFUSED = 409
# The hold ran out before it was confirmed.
GONE = 410


def _reasons() -> dict[str, str]:
    return {
        NO_FREE_SLOT: _("This teacher has no free appointments left."),
        OUTSIDE_WINDOW: _(
            "This teacher has no free appointment between the times you can be there."
        ),
        CLASHES: _(
            "Every free appointment in your times clashes with your other appointments "
            "(travel time between rooms included)."
        ),
        CROWDED_OUT: _(
            "There is not enough time for this teacher as well as the others you chose."
        ),
    }


def _time(value) -> str:
    return date_format(timezone.localtime(value), "H:i")


def _when(value) -> str:
    return date_format(timezone.localtime(value), "l j F, H:i")


def _evening_url(evening) -> str:
    return reverse("evenings:evening", args=[evening.pk])


# --- the list and the evening page ------------------------------------------------


@parent_required
def evening_list(request):
    rows = selectors.evening_rows(request.user, now=timezone.now())
    return render(request, "evenings/parent/list.html", {"rows": rows})


@parent_required
def evening_page(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    return _evening_page(request, evening, children)


def _evening_page(request, evening, children, *, errors=(), ticked=(), status=200):
    now = timezone.now()
    days = list(evening.days.all())
    shown = selectors.shown_appointments(evening, request.user, now=now)
    live = [s.appointment for s in shown]
    # The parent's own held times are theirs to choose again (a new hold replaces them).
    held = [
        a for a in live if a.status == Appointment.Status.HELD and a.parent_id == request.user.pk
    ]
    met = [a for a in live if a not in held]
    return render(
        request,
        "evenings/parent/evening.html",
        {
            "evening": evening,
            "days": days,
            "several_days": len(days) > 1,
            "state": selectors.booking_state(evening, now=now),
            "children": selectors.teachers_by_child(evening, request.user, children, met),
            "appointments": [
                s for s in shown if s.appointment.status == Appointment.Status.CONFIRMED
            ],
            "held": next((a for a in held if a.hold_id), None),
            "errors": errors,
            "ticked": set(ticked),
            "absence_cancelled": absence.cancelled_for_parent(parent=request.user, evening=evening),
            "waiting_entries": waiting.entries_for_parent(parent=request.user, evening=evening),
        },
        status=status,
    )


def _open_or_back(request, evening):
    """None when booking is open; otherwise a redirect to the evening page, which says
    when it opens or that it has closed."""
    if selectors.booking_state(evening, now=timezone.now()) == selectors.OPEN:
        return None
    return redirect(_evening_url(evening))


def _chosen_from_query(request, evening, children):
    values = request.GET.getlist("teacher") or request.POST.getlist("teacher")
    return selectors.chosen_or_404(evening, children, values)


def _method(request, evening) -> str | None:
    """In person or video, when the evening offers both (the engine checks the value)."""
    if evening.mode != Evening.Mode.BOTH:
        return None
    return request.POST.get("method") or None


def _no_teacher(request, evening, children):
    return _evening_page(
        request,
        evening,
        children,
        errors=[(_("Choose at least one teacher to see"), "#teachers")],
    )


# --- choosing times myself --------------------------------------------------------


@parent_required
def manual(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    chosen = _chosen_from_query(request, evening, children)
    if not chosen:
        return _no_teacher(request, evening, children)
    return _open_or_back(request, evening) or _grid(request, evening, chosen)


def _grid(request, evening, chosen, *, picked=None, errors=(), status=200):
    now = timezone.now()
    held = selectors.own_held(evening, request.user, now=now)
    busy = selectors.own_busy(evening, request.user, now=now, confirmed_only=True)
    held_slots = selectors.first_slots(held)
    times = selectors.free_times(
        evening,
        chosen,
        user=request.user,
        now=now,
        busy=busy,
        keep=[s.pk for s in held_slots.values()],
    )
    if picked is None:
        # Choosing again: the times the parent holds now are ticked.
        picked = {
            f"{a.pupil_id}-{a.teacher_id}": held_slots[a.pk].pk for a in held if a.pk in held_slots
        }
    days = list(evening.days.order_by("starts_at"))
    one_day = _one_day(request, days, booked=busy) if len(days) > 1 else None
    if one_day is not None and one_day["day"] is not None:
        # One day only: the parent sees that day's times, not times the rule would refuse.
        for t in times:
            t.days = [group for group in t.days if group.day.pk == one_day["day"].pk]
    return render(
        request,
        "evenings/parent/manual.html",
        {
            "evening": evening,
            "rows": [(t, picked.get(t.chosen.key)) for t in times],
            "busy": busy,
            "one_day": one_day,
            "several_days": len(days) > 1,
            "method": _method(request, evening),
            "errors": errors,
            "chosen": chosen,
        },
        status=status,
    )


def _one_day(request, days, *, booked) -> dict | None:
    """With "bookings restricted to one day": the day the parent's times must be on (the
    day of what they booked already, else the day they chose), and the days to choose
    from. None when the school allows several days."""
    if not get_addon_settings().one_day_only:
        return None
    fixed = next((a.day for a in booked if getattr(a, "day", None) is not None), None)
    chosen = None
    if fixed is None:
        wanted = request.GET.get("day") or request.POST.get("day")
        chosen = next((day for day in days if str(day.pk) == wanted), None)
    query = request.GET.copy()
    query.pop("day", None)
    return {
        "day": fixed or chosen,
        "fixed": fixed is not None,
        "choices": [(day, f"?{query.urlencode()}&day={day.pk}") for day in days],
    }


# --- finding times for me ---------------------------------------------------------


@parent_required
@require_http_methods(["GET", "POST"])
def automatic(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    closed = _open_or_back(request, evening)
    if closed:
        return closed
    days = list(evening.days.all())
    if request.method == "GET":
        chosen = _chosen_from_query(request, evening, children)
        first = days[0]
        form = VisitForm(
            days=days,
            initial={
                "day": first.pk,
                "earliest": _time(first.starts_at),
                "latest": _time(first.ends_at),
            },
        )
        return _visit_form(request, evening, children, form, {c.key for c in chosen})
    chosen = selectors.chosen_or_404(evening, children, request.POST.getlist("teacher"))
    day = request.POST.get("day", "")
    if day != "" and selectors.parse_id(day) not in {d.pk for d in days}:
        raise Http404  # another evening's day
    form = VisitForm(request.POST, days=days)
    valid = form.is_valid()
    errors = _form_errors(form)
    if not chosen:
        errors.append((_("Choose at least one teacher to see"), "#teachers"))
    if not valid or not chosen:
        return _visit_form(request, evening, children, form, {c.key for c in chosen}, errors)
    now = timezone.now()
    try:
        plan = plan_visit(
            parent=request.user,
            evening=evening,
            wanted=[(c.pupil.pk, c.teacher.pk) for c in chosen],
            earliest=form.cleaned_data["earliest_at"],
            latest=form.cleaned_data["latest_at"],
            method=_method(request, evening),
            now=now,
        )
    except BookingError as error:
        return _visit_form(
            request,
            evening,
            children,
            form,
            {c.key for c in chosen},
            [(error.message, "#teachers")],
            status=REFUSED,
        )
    return render(
        request,
        "evenings/parent/proposal.html",
        _proposal(request, evening, chosen, plan, form, now=now),
    )


def _visit_form(request, evening, children, form, ticked, errors=(), status=200):
    shown = selectors.shown_appointments(evening, request.user, now=timezone.now())
    met = [
        s.appointment
        for s in shown
        if not (s.mine and s.appointment.status == Appointment.Status.HELD)
    ]
    teachers = selectors.teachers_by_child(evening, request.user, children, met)
    return render(
        request,
        "evenings/parent/automatic.html",
        {
            "evening": evening,
            "form": form,
            "children": teachers,
            "ticked": ticked,
            "errors": errors,
            "several_days": len(form.days) > 1,
            "method": _method(request, evening),
        },
        status=status,
    )


def _form_errors(form) -> list[tuple[str, str]]:
    errors = []
    for name, field_errors in form.errors.items():
        if name == "__all__":
            errors += [(e, "#main-content") for e in field_errors]
            continue
        anchor = f"id_{name}_0" if name == "day" else form[name].auto_id
        errors += [(e, f"#{anchor}") for e in field_errors]
    return errors


def _proposal(request, evening, chosen, plan, form, *, now):
    by_key = {(c.pupil.pk, c.teacher.pk): c for c in chosen}
    existing = {a.pk: a for a in selectors.own_busy(evening, request.user, now=now)}
    reasons = _reasons()
    steps = []
    for step in plan.steps:
        if step.key is not None:
            steps.append(
                {"new": True, "chosen": by_key[step.key], "start": step.start, "end": step.end}
            )
        else:
            steps.append(
                {
                    "new": False,
                    "appointment": existing.get(step.busy.ref),
                    "start": step.start,
                    "end": step.end,
                }
            )
    return {
        "evening": evening,
        "steps": steps,
        "placed": [(by_key[key], option.ref) for key, option in plan.placed.items()],
        "unplaced": [(by_key[key], reasons[reason]) for key, reason in plan.unplaced.items()],
        "plan": plan,
        "chosen": chosen,
        "form": form,
        "method": _method(request, evening),
    }


# --- holding, confirming, letting go ----------------------------------------------


@parent_required
@require_POST
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
        return _no_teacher(request, evening, children)
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
            return _grid(request, evening, chosen, picked=picked, errors=errors)
    choices = [
        booking.Choice(
            pupil=by_key[key].pupil.pk,
            teacher=by_key[key].teacher.pk,
            slot=slot_id,
            method=_method(request, evening),
        )
        for key, slot_id in picked.items()
    ]
    try:
        held = booking.hold_slots(parent=request.user, evening=evening, choices=choices)
    except BookingError as error:
        return _grid(
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
        return redirect(_evening_url(evening))
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
            "errors": list(errors) + _form_errors(form) if form.is_bound else list(errors),
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
        return redirect(_evening_url(evening))
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
    return redirect(_evening_url(evening))


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
            return redirect(_evening_url(evening))
        messages.info(request, _("The times you held have been let go. Nothing was booked."))
    return redirect(_evening_url(evening))


# --- changing and cancelling ------------------------------------------------------


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
                    "when": _when(appointment.starts_at),
                },
            )
            return redirect(_evening_url(evening))
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
                        "when": _when(moved.starts_at),
                    },
                )
                return redirect(_evening_url(evening))
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
