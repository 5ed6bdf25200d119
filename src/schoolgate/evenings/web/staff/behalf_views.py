"""Booking, moving and cancelling on a parent's behalf: find the pupil, choose whom
and when (or let the planner propose), and one appointment's page.

Every change goes through the booking engine (`schoolgate.evenings.booking`) as the
member of staff, which also queues the parents' emails."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from schoolgate.core.access import BOOK_FOR_PARENTS
from schoolgate.evenings import booking
from schoolgate.evenings.booking.errors import BookingError, LimitReached
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.planning.visits import plan_visit
from schoolgate.evenings.web.staff import behalf_selectors as lookup
from schoolgate.evenings.web.staff.grid_common import (
    GET_POST,
    REFUSED,
    back_to_grid,
    booker,
    evening_or_404,
    form_errors,
    grid_viewer,
    plan_reasons,
    when_text,
)
from schoolgate.evenings.web.staff.grid_forms import (
    BehalfVisitForm,
    BookForm,
    CancelForm,
    MoveForm,
    SearchForm,
)


@booker
def behalf(request, evening_id):
    """Find the pupil: by name or registration group (and, from a free cell of the
    grid, among those who may book that teacher)."""
    evening = evening_or_404(evening_id)
    slot = lookup.slot_or_404(evening, request.GET["slot"]) if request.GET.get("slot") else None
    form = SearchForm(request.GET if "q" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        results = lookup.find_pupils(
            evening, form.cleaned_data["q"], teacher=slot.teacher if slot else None
        )
    taught = None
    if slot is not None and not form.is_bound:
        taught = lookup.teachers_pupils(evening, slot.teacher, now=timezone.now())
    return render(
        request,
        "evenings/staff/behalf_find.html",
        {
            "evening": evening,
            "slot": slot,
            "form": form,
            "results": results,
            "taught": taught,
            "errors": form_errors(form) if form.is_bound else [],
        },
    )


class _Pupil:
    """What every pupil page needs, each id checked (404)."""

    def __init__(self, evening_id, pupil_id, data):
        self.evening = evening_or_404(evening_id)
        self.pupil = lookup.pupil_or_404(self.evening, pupil_id)
        self.teachers = lookup.pupil_teachers(self.evening, self.pupil)
        self.parents = lookup.parents_of(self.pupil)
        self.parent = None
        if data.get("parent"):
            self.parent = lookup.parent_or_404(self.parents, data["parent"])
        elif len(self.parents) == 1:
            self.parent = self.parents[0]
        self.slot = None
        if data.get("slot"):
            self.slot = lookup.slot_or_404(self.evening, data["slot"])
            lookup.teacher_or_404(self.teachers, self.slot.teacher_id)


def _method(request, evening) -> str | None:
    if evening.mode != Evening.Mode.BOTH:
        return None
    return request.POST.get("method") or None


def _pupil_page(
    request,
    p: _Pupil,
    *,
    form=None,
    visit=None,
    picked=None,
    ticked=(),
    errors=(),
    limit=None,
    status=200,
):
    now = timezone.now()
    appointments = lookup.pupil_appointments(p.evening, p.pupil, now=now)
    days = list(p.evening.days.all())
    first = days[0] if days else None
    if visit is None and first is not None:
        visit = BehalfVisitForm(
            days=days,
            initial={
                "day": first.pk,
                "earliest": date_format(timezone.localtime(first.starts_at), "H:i"),
                "latest": date_format(timezone.localtime(first.ends_at), "H:i"),
            },
        )
    times = []
    if p.parent is not None and p.slot is None:
        times = lookup.free_times(p.evening, p.teachers, now=now, booked=appointments)
        for t in times:
            t.picked = (picked or {}).get(t.teacher.pk)
    met = {a.teacher_id for a in appointments}
    siblings, visit_so_far = (
        lookup.family(p.evening, p.parent, p.pupil, now=now) if p.parent else ([], [])
    )
    return render(
        request,
        "evenings/staff/behalf_pupil.html",
        {
            "evening": p.evening,
            "pupil": p.pupil,
            "parents": p.parents,
            "parent": p.parent,
            "no_account": lookup.contacts_without_account(p.pupil) if not p.parents else [],
            "slot": p.slot,
            "slot_end": (
                p.slot.starts_at
                + (
                    lookup.teacher_or_404(p.teachers, p.slot.teacher_id).minutes
                    * timedelta(minutes=1)
                )
                if p.slot
                else None
            ),
            "appointments": appointments,
            "siblings": siblings,
            "visit_so_far": visit_so_far,
            "times": times,
            "open_teachers": [t for t in p.teachers if t.teacher.pk not in met],
            "picked": picked or {},
            "ticked": set(ticked),
            "form": form or BookForm(),
            "visit": visit,
            "several_days": len(days) > 1,
            "method": _method(request, p.evening),
            "errors": errors,
            "limit": limit,
        },
        status=status,
    )


@booker
def behalf_pupil(request, evening_id, pupil_id):
    return _pupil_page(request, _Pupil(evening_id, pupil_id, request.GET))


@booker
@require_POST
def behalf_book(request, evening_id, pupil_id):
    """Book the times chosen (`slot-<teacher id>` = slot id) for the parent chosen."""
    p = _Pupil(evening_id, pupil_id, request.POST)
    if p.parent is None:
        return _pupil_page(
            request, p, errors=[(_("Choose whom the booking is for"), "#parent")], status=200
        )
    picked = {}
    for name in request.POST:
        if name.startswith("slot-") and request.POST[name] != "":
            entry = lookup.teacher_or_404(p.teachers, name.removeprefix("slot-"))
            picked[entry.teacher.pk] = lookup.slot_or_404(
                p.evening, request.POST[name], teacher_id=entry.teacher.pk
            )
    if p.slot is not None:
        picked[p.slot.teacher_id] = p.slot
    form = BookForm(request.POST)
    picked_ids = {t: s.pk for t, s in picked.items()}
    if not form.is_valid():
        return _pupil_page(request, p, form=form, picked=picked_ids, errors=form_errors(form))
    if not picked:
        return _pupil_page(
            request,
            p,
            form=form,
            picked=picked_ids,
            errors=[(_("Choose a time with at least one teacher"), "#times")],
        )
    method = _method(request, p.evening)
    choices = [
        booking.Choice(pupil=p.pupil.pk, teacher=teacher_id, slot=slot.pk, method=method)
        for teacher_id, slot in picked.items()
    ]
    try:
        made = booking.book_slots(
            parent=p.parent,
            evening=p.evening,
            choices=choices,
            message=form.cleaned_data["message"].strip(),
            actor=request.user,
            override_limits=form.cleaned_data["override"],
        )
    except LimitReached as error:
        return _pupil_page(
            request,
            p,
            form=form,
            picked=picked_ids,
            errors=[(error.message, "#id_override")],
            limit=error.message,
            status=REFUSED,
        )
    except BookingError as error:
        return _pupil_page(
            request,
            p,
            form=form,
            picked=picked_ids,
            errors=[(error.message, "#times" if p.slot is None else "#booking")],
            status=REFUSED,
        )
    _booked_message(request, p, made)
    first = min(made.appointments, key=lambda a: a.starts_at)
    return redirect(back_to_grid(request, p.evening, first.day_id))


def _booked_message(request, p: _Pupil, made: booking.Booking) -> None:
    lines = [
        _("%(teacher)s for %(pupil)s, %(when)s")
        % {
            "teacher": a.teacher.staff.display_name,
            "pupil": p.pupil.display_name,
            "when": when_text(a.starts_at),
        }
        for a in sorted(made.appointments, key=lambda a: a.starts_at)
    ]
    text = ngettext(
        "Booked for %(parent)s: %(list)s. They have been emailed.",
        "%(count)s appointments booked for %(parent)s: %(list)s. They have been emailed.",
        len(lines),
    ) % {"parent": p.parent, "list": "; ".join(lines), "count": len(lines)}
    messages.success(request, text)
    if made.warnings:
        messages.warning(
            request, _("Limits passed: %(warnings)s") % {"warnings": " ".join(made.warnings)}
        )


@booker
@require_POST
def behalf_plan(request, evening_id, pupil_id):
    """Let the planner propose times for the teachers ticked, between two times."""
    p = _Pupil(evening_id, pupil_id, request.POST)
    if p.parent is None:
        return _pupil_page(request, p, errors=[(_("Choose whom the booking is for"), "#parent")])
    chosen = list(
        dict.fromkeys(
            lookup.teacher_or_404(p.teachers, value).teacher.pk
            for value in request.POST.getlist("teacher")
        )
    )
    days = list(p.evening.days.all())
    if request.POST.get("day") and lookup.parse_id(request.POST["day"]) not in {d.pk for d in days}:
        raise Http404  # another evening's day
    visit = BehalfVisitForm(request.POST, days=days)
    valid = visit.is_valid()
    errors = form_errors(visit) if not valid else []
    if not chosen:
        errors.append((_("Choose at least one teacher"), "#plan-teachers"))
    if errors:
        return _pupil_page(request, p, visit=visit, ticked=chosen, errors=errors)
    try:
        plan = plan_visit(
            parent=p.parent,
            evening=p.evening,
            wanted=[(p.pupil.pk, t) for t in chosen],
            earliest=visit.cleaned_data["earliest_at"],
            latest=visit.cleaned_data["latest_at"],
            method=_method(request, p.evening),
        )
    except BookingError as error:
        return _pupil_page(
            request,
            p,
            visit=visit,
            ticked=chosen,
            errors=[(error.message, "#plan-teachers")],
            status=REFUSED,
        )
    by_id = {t.teacher.pk: t for t in p.teachers}
    reasons = plan_reasons()
    steps = []
    for step in plan.steps:
        if step.key is not None:
            steps.append(
                {"teacher": by_id[step.key[1]].teacher, "start": step.start, "end": step.end}
            )
        else:
            steps.append({"existing": True, "start": step.start, "end": step.end})
    return render(
        request,
        "evenings/staff/behalf_proposal.html",
        {
            "evening": p.evening,
            "pupil": p.pupil,
            "parent": p.parent,
            "plan": plan,
            "steps": steps,
            "placed": [(by_id[key[1]].teacher, option.ref) for key, option in plan.placed.items()],
            "unplaced": [(by_id[key[1]].teacher, reasons[r]) for key, r in plan.unplaced.items()],
            "method": _method(request, p.evening),
            "form": BookForm(),
        },
    )


@grid_viewer
def appointment_page(request, evening_id, appointment_id):
    evening = evening_or_404(evening_id)
    appointment = lookup.appointment_or_404(evening, appointment_id)
    return render(
        request,
        "evenings/staff/behalf_appointment.html",
        {
            "evening": evening,
            "appointment": appointment,
            "can_book": request.user.has_perm(BOOK_FOR_PARENTS),
            "confirmed": appointment.status == Appointment.Status.CONFIRMED,
            "held": appointment.status == Appointment.Status.HELD,
        },
    )


@booker
@GET_POST
def move(request, evening_id, appointment_id):
    """Another time with the same teacher, or a time with another of the pupil's
    teachers: `teacher` (GET or POST) chooses whose times are listed."""
    evening = evening_or_404(evening_id)
    appointment = lookup.appointment_or_404(evening, appointment_id)
    context = {"evening": evening, "appointment": appointment, "errors": [], "limit": None}
    if appointment.status != Appointment.Status.CONFIRMED:
        context["fixed"] = True
        return render(request, "evenings/staff/behalf_move.html", context)
    teachers = lookup.pupil_teachers(evening, appointment.pupil)
    data = request.POST if request.method == "POST" else request.GET
    if data.get("teacher"):
        target = lookup.teacher_or_404(teachers, data["teacher"])
    else:
        target = next((t for t in teachers if t.teacher.pk == appointment.teacher_id), None)
    form = MoveForm(request.POST or None)
    status = 200
    slot = None
    if request.method == "POST" and target is not None:
        if request.POST.get("slot"):
            slot = lookup.slot_or_404(evening, request.POST["slot"], teacher_id=target.teacher.pk)
        if not form.is_valid():
            context["errors"] = form_errors(form)
        elif slot is None:
            context["errors"] = [(_("Choose a new time"), "#times")]
        elif (
            slot.starts_at == appointment.starts_at and target.teacher.pk == appointment.teacher_id
        ):
            context["errors"] = [(_("Choose a time other than the one booked"), "#times")]
        else:
            try:
                new = booking.move_appointment(
                    appointment=appointment,
                    user=request.user,
                    slot=slot,
                    teacher=target.teacher.pk,
                    override_limits=form.cleaned_data["override"],
                )
            except LimitReached as error:
                context["errors"] = [(error.message, "#id_override")]
                context["limit"] = error.message
                status = REFUSED
            except BookingError as error:
                context["errors"] = [(error.message, "#times")]
                status = REFUSED
            else:
                messages.success(
                    request,
                    _(
                        "Moved: %(pupil)s now sees %(teacher)s on %(when)s. The parents "
                        "have been emailed."
                    )
                    % {
                        "pupil": appointment.pupil.display_name,
                        "teacher": new.teacher.staff.display_name,
                        "when": when_text(new.starts_at),
                    },
                )
                if new.warnings:
                    messages.warning(
                        request,
                        _("Limits passed: %(warnings)s") % {"warnings": " ".join(new.warnings)},
                    )
                return redirect(back_to_grid(request, evening, new.day_id))
    now = timezone.now()
    context.update(
        {
            "teachers": teachers,
            "target": target,
            "times": lookup.free_times(evening, [target], now=now)[0] if target else None,
            "picked": slot.pk if slot else None,
            "form": form,
            "several_days": evening.days.count() > 1,
        }
    )
    return render(request, "evenings/staff/behalf_move.html", context, status=status)


@booker
@GET_POST
def cancel(request, evening_id, appointment_id):
    evening = evening_or_404(evening_id)
    appointment = lookup.appointment_or_404(evening, appointment_id)
    form = CancelForm(request.POST or None)
    context = {"evening": evening, "appointment": appointment, "form": form, "errors": []}
    status = 200
    if appointment.status != Appointment.Status.CONFIRMED:
        context["fixed"] = True
        return render(request, "evenings/staff/behalf_cancel.html", context)
    if request.method == "POST":
        if not form.is_valid():
            context["errors"] = form_errors(form)
        else:
            try:
                booking.cancel_appointment(
                    appointment=appointment,
                    user=request.user,
                    reason=form.cleaned_data["reason"].strip(),
                )
            except BookingError as error:
                context["errors"] = [(error.message, "#appointment")]
                status = REFUSED
            else:
                messages.success(
                    request,
                    _(
                        "Cancelled: %(pupil)s with %(teacher)s on %(when)s. The parents "
                        "have been emailed."
                    )
                    % {
                        "pupil": appointment.pupil.display_name,
                        "teacher": appointment.teacher.staff.display_name,
                        "when": when_text(appointment.starts_at),
                    },
                )
                return redirect(back_to_grid(request, evening, appointment.day_id))
    return render(request, "evenings/staff/behalf_cancel.html", context, status=status)
