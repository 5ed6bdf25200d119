"""The organiser's grid, and booking, moving and cancelling on a parent's behalf.

Thin views: reads through `schoolgate.evenings.reports.grid` (every id is looked up within the
evening in the address, and anything else is 404), every change through the booking
engine (`schoolgate.evenings.booking`) as the member of staff, which also queues the
emails to the parents concerned. A refusal from the engine is shown in an error
summary with status 409, and nothing changes.

The grid is for organisers and for staff who book on parents' behalf; booking, moving
and cancelling need evenings.book_for_parents."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, capability_required
from schoolgate.evenings import booking
from schoolgate.evenings.booking.availability import plan_visit
from schoolgate.evenings.booking.errors import BookingError, LimitReached
from schoolgate.evenings.models import Appointment, Evening
from schoolgate.evenings.planning.planner import CLASHES, CROWDED_OUT, NO_FREE_SLOT, OUTSIDE_WINDOW
from schoolgate.evenings.reports import grid
from schoolgate.evenings.web.staff.forms import day_label
from schoolgate.evenings.web.staff.grid_forms import (
    BehalfVisitForm,
    BookForm,
    CancelForm,
    GridFilterForm,
    MoveForm,
    SearchForm,
)

REFUSED = 409
GET_POST = require_http_methods(["GET", "POST"])
FILTERS = ("day", "year", "department", "teacher")


# Organisers, and staff who book on parents' behalf, see the grid.
grid_viewer = capability_required(ORGANISE_EVENINGS, BOOK_FOR_PARENTS)
booker = capability_required(BOOK_FOR_PARENTS)


def _evening(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


def _url(name: str, *args) -> str:
    return reverse(f"evenings_staff:{name}", args=args)


def _when(value) -> str:
    return date_format(timezone.localtime(value), "l j F, H:i")


def _reasons() -> dict[str, str]:
    return {
        NO_FREE_SLOT: _("This teacher has no free appointments left."),
        OUTSIDE_WINDOW: _("This teacher has no free appointment between those times."),
        CLASHES: _(
            "Every free appointment between those times clashes with the parent's other "
            "appointments (travel time between rooms included)."
        ),
        CROWDED_OUT: _("There is not enough time for this teacher as well as the others."),
    }


def _form_errors(form, prefix: str = "") -> list[tuple[str, str]]:
    errors = []
    for name, field_errors in form.errors.items():
        if name == "__all__":
            errors += [(e, "#main-content") for e in field_errors]
            continue
        field = form[name]
        anchor = f"{field.auto_id}_0" if field.widget_type == "radioselect" else field.auto_id
        errors += [(f"{prefix}{field.label}: {e}", f"#{anchor}") for e in field_errors]
    return errors


# --- the grid ------------------------------------------------------------------------


def _filters_key(evening) -> str:
    return f"evenings-grid-{evening.pk}"


def _remember_filters(request, evening) -> None:
    """The grid's filters, so that after a booking, move or cancellation the organiser
    is back on the grid they were working from. Written only when they change."""
    wanted = {k: v for k, v in request.GET.items() if k in FILTERS and v}
    if request.session.get(_filters_key(evening), {}) != wanted:
        request.session[_filters_key(evening)] = wanted


def _back_to_grid(request, evening, day_id: int) -> str:
    """The grid as the organiser last filtered it, on the day of the change."""
    query = QueryDict(mutable=True)
    for name, value in request.session.get(_filters_key(evening), {}).items():
        if name in FILTERS and name != "day":
            query[name] = str(value)
    query["day"] = str(day_id)
    return f"{_url('grid', evening.pk)}?{query.urlencode()}"


def _cells_html(result: grid.Grid, *, can_book: bool, book_url: str, appointment_url: str):
    """[(row, its cells' HTML)]: thousands of cells (70 teachers x 40 times) are built
    here rather than by the template engine, which would take most of a second over
    them (bench/grid.py). Every value from the database is escaped."""
    labels = {
        "free": escape(_("Free")),
        "held": escape(_("Held")),
        "break": escape(_("Break")),
        "absent": escape(_("Absent")),
        "past": escape(_("Too late")),
        "school": escape(_("(school)")),
        "book": escape(_("book")),
    }
    times = [date_format(timezone.localtime(at), "H:i") for at in result.columns]
    book = escape(book_url)
    link = escape(appointment_url)
    rows = []
    for row in result.rows:
        name = escape(row.teacher.staff.display_name)
        parts = []
        for c in row.cells:
            span = f' colspan="{c.span}"' if c.span > 1 else ""
            state = c.state
            if state == grid.FREE:
                if can_book:
                    inner = (
                        f'<a class="govuk-link" href="{book}?slot={c.slot_id}">{labels["free"]}'
                        f'<span class="govuk-visually-hidden">: {labels["book"]} {name} '
                        f"{times[c.column]}</span></a>"
                    )
                else:
                    inner = labels["free"]
            elif state == grid.BOOKED:
                inner = (
                    f'<a class="govuk-link" href="{link}{c.appointment_id}/">{escape(c.pupil)}</a>'
                )
                if c.by_school:
                    inner += f' <span class="sg-grid__by">{labels["school"]}</span>'
            elif state == grid.HELD:
                inner = (
                    f'<a class="govuk-link" href="{link}{c.appointment_id}/">{labels["held"]}'
                    f'<span class="govuk-visually-hidden">: {escape(c.pupil)}</span></a>'
                )
            elif state == grid.BREAK:
                inner = escape(c.label) if c.label else labels["break"]
            elif state == grid.ABSENT:
                inner = labels["absent"]
            elif state == grid.PAST:
                inner = labels["past"]
            else:
                inner = "–"
            parts.append(
                f'<td class="govuk-table__cell sg-grid__cell sg-grid__cell--{state}"{span}>'
                f"{inner}</td>"
            )
        rows.append((row, mark_safe("".join(parts))))
    return rows


@grid_viewer
def grid_page(request, evening_id):
    evening = _evening(evening_id)
    days = list(evening.days.all())
    teachers = grid.evening_teachers(evening)
    day = None
    if request.GET.get("day"):
        wanted = grid.parse_id(request.GET["day"])
        day = next((d for d in days if d.pk == wanted), None)
        if day is None:
            raise Http404
    teacher = None
    if request.GET.get("teacher"):
        wanted = grid.parse_id(request.GET["teacher"])
        teacher = next((t for t in teachers if t.pk == wanted), None)
        if teacher is None:
            raise Http404
    taught = grid.teaching(evening, [t.staff_id for t in teachers])
    years, departments = grid.filter_values(taught)
    form = GridFilterForm(
        request.GET or None,
        days=days,
        years=years,
        departments=departments,
        teachers=teachers,
        day_label=day_label,
    )
    year, department = None, ""
    if form.is_bound and form.is_valid():
        year = int(form.cleaned_data["year"]) if form.cleaned_data["year"] else None
        department = form.cleaned_data["department"]
    if not form.is_bound or form.is_valid():
        _remember_filters(request, evening)
    result = grid.build_grid(
        evening,
        day=day,
        year=year,
        department=department,
        teacher=teacher,
        days=days,
        teachers=teachers,
        taught=taught,
    )
    can_book = request.user.has_perm(BOOK_FOR_PARENTS)
    book_url = _url("behalf", evening.pk)
    # One reverse for every booked cell: the id is appended.
    appointment_url = _url("behalf-appointment", evening.pk, 1).removesuffix("1/")
    return render(
        request,
        "evenings/staff/grid.html",
        {
            "evening": evening,
            "grid": result,
            "rows": _cells_html(
                result, can_book=can_book, book_url=book_url, appointment_url=appointment_url
            ),
            "form": form,
            "errors": _form_errors(form) if form.is_bound else [],
            "filtered": bool(year or department or teacher),
            "can_book": can_book,
            "book_url": book_url,
            "several_days": len(days) > 1,
            "video": evening.mode == Evening.Mode.VIDEO,
        },
    )


# --- finding the pupil -----------------------------------------------------------------


@booker
def behalf(request, evening_id):
    """Find the pupil: by name or registration group (and, from a free cell of the
    grid, among those who may book that teacher)."""
    evening = _evening(evening_id)
    slot = grid.slot_or_404(evening, request.GET["slot"]) if request.GET.get("slot") else None
    form = SearchForm(request.GET if "q" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        results = grid.find_pupils(
            evening, form.cleaned_data["q"], teacher=slot.teacher if slot else None
        )
    taught = None
    if slot is not None and not form.is_bound:
        taught = grid.teachers_pupils(evening, slot.teacher, now=timezone.now())
    return render(
        request,
        "evenings/staff/behalf_find.html",
        {
            "evening": evening,
            "slot": slot,
            "form": form,
            "results": results,
            "taught": taught,
            "errors": _form_errors(form) if form.is_bound else [],
        },
    )


# --- the pupil: whom for, and which times ------------------------------------------------


class _Pupil:
    """What every pupil page needs, each id checked (404)."""

    def __init__(self, evening_id, pupil_id, data):
        self.evening = _evening(evening_id)
        self.pupil = grid.pupil_or_404(self.evening, pupil_id)
        self.teachers = grid.pupil_teachers(self.evening, self.pupil)
        self.parents = grid.parents_of(self.pupil)
        self.parent = None
        if data.get("parent"):
            self.parent = grid.parent_or_404(self.parents, data["parent"])
        elif len(self.parents) == 1:
            self.parent = self.parents[0]
        self.slot = None
        if data.get("slot"):
            self.slot = grid.slot_or_404(self.evening, data["slot"])
            grid.teacher_or_404(self.teachers, self.slot.teacher_id)


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
    appointments = grid.pupil_appointments(p.evening, p.pupil, now=now)
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
        times = grid.free_times(p.evening, p.teachers, now=now, booked=appointments)
        for t in times:
            t.picked = (picked or {}).get(t.teacher.pk)
    met = {a.teacher_id for a in appointments}
    siblings, visit_so_far = (
        grid.family(p.evening, p.parent, p.pupil, now=now) if p.parent else ([], [])
    )
    return render(
        request,
        "evenings/staff/behalf_pupil.html",
        {
            "evening": p.evening,
            "pupil": p.pupil,
            "parents": p.parents,
            "parent": p.parent,
            "no_account": grid.contacts_without_account(p.pupil) if not p.parents else [],
            "slot": p.slot,
            "slot_end": (
                p.slot.starts_at
                + (
                    grid.teacher_or_404(p.teachers, p.slot.teacher_id).minutes
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
            entry = grid.teacher_or_404(p.teachers, name.removeprefix("slot-"))
            picked[entry.teacher.pk] = grid.slot_or_404(
                p.evening, request.POST[name], teacher_id=entry.teacher.pk
            )
    if p.slot is not None:
        picked[p.slot.teacher_id] = p.slot
    form = BookForm(request.POST)
    picked_ids = {t: s.pk for t, s in picked.items()}
    if not form.is_valid():
        return _pupil_page(request, p, form=form, picked=picked_ids, errors=_form_errors(form))
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
    return redirect(_back_to_grid(request, p.evening, first.day_id))


def _booked_message(request, p: _Pupil, made: booking.Booking) -> None:
    lines = [
        _("%(teacher)s for %(pupil)s, %(when)s")
        % {
            "teacher": a.teacher.staff.display_name,
            "pupil": p.pupil.display_name,
            "when": _when(a.starts_at),
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
            grid.teacher_or_404(p.teachers, value).teacher.pk
            for value in request.POST.getlist("teacher")
        )
    )
    days = list(p.evening.days.all())
    if request.POST.get("day") and grid.parse_id(request.POST["day"]) not in {d.pk for d in days}:
        raise Http404  # another evening's day
    visit = BehalfVisitForm(request.POST, days=days)
    valid = visit.is_valid()
    errors = _form_errors(visit) if not valid else []
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
    reasons = _reasons()
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


# --- one appointment: see, move, cancel ---------------------------------------------------


@grid_viewer
def appointment_page(request, evening_id, appointment_id):
    evening = _evening(evening_id)
    appointment = grid.appointment_or_404(evening, appointment_id)
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
    evening = _evening(evening_id)
    appointment = grid.appointment_or_404(evening, appointment_id)
    context = {"evening": evening, "appointment": appointment, "errors": [], "limit": None}
    if appointment.status != Appointment.Status.CONFIRMED:
        context["fixed"] = True
        return render(request, "evenings/staff/behalf_move.html", context)
    teachers = grid.pupil_teachers(evening, appointment.pupil)
    data = request.POST if request.method == "POST" else request.GET
    if data.get("teacher"):
        target = grid.teacher_or_404(teachers, data["teacher"])
    else:
        target = next((t for t in teachers if t.teacher.pk == appointment.teacher_id), None)
    form = MoveForm(request.POST or None)
    status = 200
    slot = None
    if request.method == "POST" and target is not None:
        if request.POST.get("slot"):
            slot = grid.slot_or_404(evening, request.POST["slot"], teacher_id=target.teacher.pk)
        if not form.is_valid():
            context["errors"] = _form_errors(form)
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
                        "when": _when(new.starts_at),
                    },
                )
                if new.warnings:
                    messages.warning(
                        request,
                        _("Limits passed: %(warnings)s") % {"warnings": " ".join(new.warnings)},
                    )
                return redirect(_back_to_grid(request, evening, new.day_id))
    now = timezone.now()
    context.update(
        {
            "teachers": teachers,
            "target": target,
            "times": grid.free_times(evening, [target], now=now)[0] if target else None,
            "picked": slot.pk if slot else None,
            "form": form,
            "several_days": evening.days.count() > 1,
        }
    )
    return render(request, "evenings/staff/behalf_move.html", context, status=status)


@booker
@GET_POST
def cancel(request, evening_id, appointment_id):
    evening = _evening(evening_id)
    appointment = grid.appointment_or_404(evening, appointment_id)
    form = CancelForm(request.POST or None)
    context = {"evening": evening, "appointment": appointment, "form": form, "errors": []}
    status = 200
    if appointment.status != Appointment.Status.CONFIRMED:
        context["fixed"] = True
        return render(request, "evenings/staff/behalf_cancel.html", context)
    if request.method == "POST":
        if not form.is_valid():
            context["errors"] = _form_errors(form)
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
                        "when": _when(appointment.starts_at),
                    },
                )
                return redirect(_back_to_grid(request, evening, appointment.day_id))
    return render(request, "evenings/staff/behalf_cancel.html", context, status=status)
