"""What the organiser's grid and the pages for booking on a parent's behalf share:
who may open them, the evening (404 otherwise), form errors and the way back to
the grid with its filters."""

from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from schoolgate.core.access import BOOK_FOR_PARENTS, ORGANISE_EVENINGS, capability_required
from schoolgate.evenings.models import Evening
from schoolgate.evenings.planning.planner import CLASHES, CROWDED_OUT, NO_FREE_SLOT, OUTSIDE_WINDOW

REFUSED = 409


GET_POST = require_http_methods(["GET", "POST"])


FILTERS = ("day", "year", "department", "teacher")


# Organisers, and staff who book on parents' behalf, see the grid.
grid_viewer = capability_required(ORGANISE_EVENINGS, BOOK_FOR_PARENTS)


booker = capability_required(BOOK_FOR_PARENTS)


def evening_or_404(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


def staff_url(name: str, *args) -> str:
    return reverse(f"evenings_staff:{name}", args=args)


def when_text(value) -> str:
    return date_format(timezone.localtime(value), "l j F, H:i")


def plan_reasons() -> dict[str, str]:
    return {
        NO_FREE_SLOT: _("This teacher has no free appointments left."),
        OUTSIDE_WINDOW: _("This teacher has no free appointment between those times."),
        CLASHES: _(
            "Every free appointment between those times clashes with the parent's other "
            "appointments (travel time between rooms included)."
        ),
        CROWDED_OUT: _("There is not enough time for this teacher as well as the others."),
    }


def form_errors(form, prefix: str = "") -> list[tuple[str, str]]:
    errors = []
    for name, field_errors in form.errors.items():
        if name == "__all__":
            errors += [(e, "#main-content") for e in field_errors]
            continue
        field = form[name]
        anchor = f"{field.auto_id}_0" if field.widget_type == "radioselect" else field.auto_id
        errors += [(f"{prefix}{field.label}: {e}", f"#{anchor}") for e in field_errors]
    return errors


def filters_key(evening) -> str:
    return f"evenings-grid-{evening.pk}"


def remember_filters(request, evening) -> None:
    """The grid's filters, so that after a booking, move or cancellation the organiser
    is back on the grid they were working from. Written only when they change."""
    wanted = {k: v for k, v in request.GET.items() if k in FILTERS and v}
    if request.session.get(filters_key(evening), {}) != wanted:
        request.session[filters_key(evening)] = wanted


def back_to_grid(request, evening, day_id: int) -> str:
    """The grid as the organiser last filtered it, on the day of the change."""
    query = QueryDict(mutable=True)
    for name, value in request.session.get(filters_key(evening), {}).items():
        if name in FILTERS and name != "day":
            query[name] = str(value)
    query["day"] = str(day_id)
    return f"{staff_url('grid', evening.pk)}?{query.urlencode()}"
