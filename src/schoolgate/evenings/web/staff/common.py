"""What the organiser's set-up pages share: the capability they need, the evening
(404 otherwise), and rendering a page with a refusal or after a save."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from schoolgate.core.access import ORGANISE_EVENINGS, capability_required
from schoolgate.evenings.booking.errors import ChangeRefused
from schoolgate.evenings.models import (
    Appointment,
    Break,
    Evening,
)

# A change refused because it would break bookings: the page again, with the list.
REFUSED = 409


GET_POST = require_http_methods(["GET", "POST"])


organiser = capability_required(ORGANISE_EVENINGS)


def evening_or_404(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


def staff_url(name: str, *args) -> str:
    return reverse(f"evenings_staff:{name}", args=args)


def confirmed_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": Appointment.Status.CONFIRMED})


def render_page(request, template: str, context: dict, *, refused: ChangeRefused | None = None):
    context["refused"] = refused
    return render(request, template, context, status=REFUSED if refused else 200)


def saved(request, text: str, to: str):
    messages.success(request, text)
    return redirect(to)


def evening_breaks(evening) -> list[Break]:
    return list(evening.breaks.prefetch_related("teachers__staff").order_by("starts_at"))
