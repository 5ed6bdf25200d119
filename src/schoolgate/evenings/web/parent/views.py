"""The parents' pages: see the evenings for their children, choose teachers, pick times
(or let Schoolgate plan the visit), hold, confirm, change and cancel.

Thin views over `schoolgate.evenings.booking` (every change) and `availability` /
`parent_selectors` (every read). Each id in a URL or a form is checked through
`parent_selectors`: what this parent may not see is not found (404)."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schoolgate.accounts.decorators import parent_required
from schoolgate.addons.selectors import get_addon_settings
from schoolgate.evenings.booking.errors import BookingError
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.planning.visits import plan_visit
from schoolgate.evenings.running import absence, waiting
from schoolgate.evenings.web.parent import selectors
from schoolgate.evenings.web.parent.common import (
    REFUSED,
    chosen_methods,
    evening_url,
    form_errors,
    plan_reasons,
    time_text,
)
from schoolgate.evenings.web.parent.forms import VisitForm


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
    return redirect(evening_url(evening))


def chosen_from_query(request, evening, children):
    values = request.GET.getlist("teacher") or request.POST.getlist("teacher")
    return selectors.chosen_or_404(evening, children, values)


def no_teacher_page(request, evening, children):
    return _evening_page(
        request,
        evening,
        children,
        errors=[(_("Choose at least one teacher to see"), "#teachers")],
    )


@parent_required
def manual(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    chosen = chosen_from_query(request, evening, children)
    if not chosen:
        return no_teacher_page(request, evening, children)
    return _open_or_back(request, evening) or times_grid_page(request, evening, chosen)


def times_grid_page(request, evening, chosen, *, picked=None, errors=(), status=200):
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
    # One day only: the other days' times are shown greyed out, not to be chosen (the
    # template says why); the engine refuses them anyway.
    one_day = _one_day(request, days, booked=busy) if len(days) > 1 else None
    methods = chosen_methods(request, evening, [t.chosen.key for t in times])
    if request.method == "GET":
        # Choosing again: each held time keeps its way of meeting.
        methods.update({f"{a.pupil_id}-{a.teacher_id}": a.method for a in held})
    return render(
        request,
        "evenings/parent/manual.html",
        {
            "evening": evening,
            "rows": [(t, picked.get(t.chosen.key), methods.get(t.chosen.key)) for t in times],
            "busy": busy,
            "one_day": one_day,
            "several_days": len(days) > 1,
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


@parent_required
@require_http_methods(["GET", "POST"])
def automatic(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    closed = _open_or_back(request, evening)
    if closed:
        return closed
    days = list(evening.days.all())
    if request.method == "GET":
        chosen = chosen_from_query(request, evening, children)
        first = days[0]
        form = VisitForm(
            days=days,
            initial={
                "day": first.pk,
                "earliest": time_text(first.starts_at),
                "latest": time_text(first.ends_at),
            },
        )
        return _visit_form(request, evening, children, form, {c.key for c in chosen})
    chosen = selectors.chosen_or_404(evening, children, request.POST.getlist("teacher"))
    day = request.POST.get("day", "")
    if day != "" and selectors.parse_id(day) not in {d.pk for d in days}:
        raise Http404  # another evening's day
    form = VisitForm(request.POST, days=days)
    valid = form.is_valid()
    errors = form_errors(form)
    if not chosen:
        errors.append((_("Choose at least one teacher to see"), "#teachers"))
    if not valid or not chosen:
        return _visit_form(request, evening, children, form, {c.key for c in chosen}, errors)
    now = timezone.now()
    methods = chosen_methods(request, evening, [c.key for c in chosen])
    try:
        plan = plan_visit(
            parent=request.user,
            evening=evening,
            wanted=[(c.pupil.pk, c.teacher.pk) for c in chosen],
            earliest=form.cleaned_data["earliest_at"],
            latest=form.cleaned_data["latest_at"],
            methods={(c.pupil.pk, c.teacher.pk): methods[c.key] for c in chosen},
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
            "video_keys": {
                key
                for key, method in chosen_methods(request, evening, ticked).items()
                if method == Appointment.Method.VIDEO
            },
        },
        status=status,
    )


def _proposal(request, evening, chosen, plan, form, *, now):
    by_key = {(c.pupil.pk, c.teacher.pk): c for c in chosen}
    existing = {a.pk: a for a in selectors.own_busy(evening, request.user, now=now)}
    reasons = plan_reasons()
    methods = chosen_methods(request, evening, [c.key for c in chosen])
    steps = []
    for step in plan.steps:
        if step.key is not None:
            steps.append(
                {
                    "new": True,
                    "chosen": by_key[step.key],
                    "method": methods.get(by_key[step.key].key),
                    "start": step.start,
                    "end": step.end,
                }
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
        "placed": [
            (by_key[key], option.ref, methods.get(by_key[key].key))
            for key, option in plan.placed.items()
        ],
        "unplaced": [(by_key[key], reasons[reason]) for key, reason in plan.unplaced.items()],
        "plan": plan,
        "chosen": chosen,
        "form": form,
    }
