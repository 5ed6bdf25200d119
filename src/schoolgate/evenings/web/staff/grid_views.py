"""The organiser's grid, and booking, moving and cancelling on a parent's behalf.

Thin views: reads through `schoolgate.evenings.reports.grid` (every id is looked up within the
evening in the address, and anything else is 404), every change through the booking
engine (`schoolgate.evenings.booking`) as the member of staff, which also queues the
emails to the parents concerned. A refusal from the engine is shown in an error
summary with status 409, and nothing changes.

The grid is for organisers and for staff who book on parents' behalf; booking, moving
and cancelling need evenings.book_for_parents."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from schoolgate.core.access import BOOK_FOR_PARENTS
from schoolgate.evenings.models import Evening
from schoolgate.evenings.reports import grid
from schoolgate.evenings.web.staff import behalf_selectors as lookup
from schoolgate.evenings.web.staff.forms import day_label
from schoolgate.evenings.web.staff.grid_common import (
    evening_or_404,
    form_errors,
    grid_viewer,
    remember_filters,
    staff_url,
)
from schoolgate.evenings.web.staff.grid_forms import (
    GridFilterForm,
)


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
    evening = evening_or_404(evening_id)
    days = list(evening.days.all())
    teachers = grid.evening_teachers(evening)
    day = None
    if request.GET.get("day"):
        wanted = lookup.parse_id(request.GET["day"])
        day = next((d for d in days if d.pk == wanted), None)
        if day is None:
            raise Http404
    teacher = None
    if request.GET.get("teacher"):
        wanted = lookup.parse_id(request.GET["teacher"])
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
        remember_filters(request, evening)
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
    book_url = staff_url("behalf", evening.pk)
    # One reverse for every booked cell: the id is appended.
    appointment_url = staff_url("behalf-appointment", evening.pk, 1).removesuffix("1/")
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
            "errors": form_errors(form) if form.is_bound else [],
            "filtered": bool(year or department or teacher),
            "can_book": can_book,
            "book_url": book_url,
            "several_days": len(days) > 1,
            "video": evening.mode == Evening.Mode.VIDEO,
        },
    )
