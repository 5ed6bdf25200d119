"""A parent's printable itinerary (PDF) for an evening, and the school's map of rooms.

The evening must be one this parent may see (parent_selectors.evening_or_404: a
published or closed evening for at least one of their children), else 404; the
itinerary lists the appointments of the children they may see now, whoever booked
them, as the evening's page does."""

import base64
from collections import defaultdict

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from schoolgate.accounts.decorators import parent_required
from schoolgate.evenings.models import Appointment
from schoolgate.evenings.reports.pdf import pdf_response, render_pdf
from schoolgate.evenings.setup import room_map
from schoolgate.evenings.web.parent import selectors
from schoolgate.evenings.web.staff.print_views import room_map_response


def itinerary(evening, user, *, now) -> list[tuple]:
    """[(day, [ShownAppointment])] of the family's confirmed appointments, by time."""
    shown = [
        s
        for s in selectors.shown_appointments(evening, user, now=now)
        if s.appointment.status == Appointment.Status.CONFIRMED
    ]
    by_day = defaultdict(list)
    for s in shown:
        by_day[s.appointment.day_id].append(s)
    return [(day, by_day[day.pk]) for day in evening.days.all() if by_day[day.pk]]


@parent_required
def itinerary_pdf(request, evening_id):
    evening, children = selectors.evening_or_404(request.user, evening_id)
    days = itinerary(evening, request.user, now=timezone.now())
    map_url = map_data = None
    if room_map.has_room_map(evening):
        if evening.room_map_type == room_map.PDF:
            map_url = request.build_absolute_uri(reverse("evenings:room-map", args=[evening.pk]))
        else:
            encoded = base64.b64encode(room_map.map_bytes(evening)).decode("ascii")
            map_data = f"data:{evening.room_map_type};base64,{encoded}"
    data = render_pdf(
        "evenings/parent/itinerary.html",
        {
            "evening": evening,
            "children": children,
            "days": days,
            "several_days": evening.days.count() > 1,
            "parent": request.user,
            "map_url": map_url,
            "map_data": map_data,
        },
        request=request,
    )
    name = slugify(evening.name) or "evening"
    return pdf_response(data, filename=f"itinerary-{name}.pdf")


@parent_required
def room_map_page(request, evening_id):
    evening, _children = selectors.evening_or_404(request.user, evening_id)
    if not room_map.has_room_map(evening):
        raise Http404
    return room_map_response(evening)
