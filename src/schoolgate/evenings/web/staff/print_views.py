"""The organiser's printouts: every teacher's schedule in one PDF (the pack), and the
evening's map of rooms (upload, replace, remove, look at it).

Thin views over `schedules`, `pdf` and `room_map`; organisers only
("evenings.organise_evenings"); an evening id that does not exist is 404."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from schoolgate.core.access import ORGANISE_EVENINGS, capability_required
from schoolgate.evenings.models import Evening
from schoolgate.evenings.reports import schedules
from schoolgate.evenings.reports.pdf import pdf_response, render_pdf
from schoolgate.evenings.setup import room_map

organiser = capability_required(ORGANISE_EVENINGS)


def _evening(evening_id) -> Evening:
    return get_object_or_404(Evening, pk=evening_id)


@organiser
def pack(request, evening_id):
    evening = _evening(evening_id)
    data = render_pdf(
        "evenings/print/schedules.html",
        {"evening": evening, "schedules": schedules.schedules(evening=evening)},
        request=request,
    )
    name = slugify(evening.name) or "evening"
    return pdf_response(data, filename=f"schedules-{name}-{evening.pk}.pdf")


class RoomMapForm(forms.Form):
    map = forms.FileField(
        label=gettext_lazy("Map of rooms"),
        help_text=gettext_lazy("A PNG or JPEG picture, or a PDF, of 5 MB or less."),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".png,.jpg,.jpeg,.pdf"}),
    )

    def clean_map(self):
        upload = self.cleaned_data.get("map")
        try:
            room_map.read_upload(upload)
        except room_map.RoomMapError as error:
            raise forms.ValidationError(str(error)) from None
        return upload


@organiser
@require_http_methods(["GET", "POST"])
def room_map_page(request, evening_id):
    evening = _evening(evening_id)
    form = RoomMapForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            if room_map.has_room_map(evening):
                room_map.remove_room_map(evening=evening, actor=request.user)
                messages.success(request, _("The map of rooms was removed."))
            return redirect(reverse("evenings_staff:room-map", args=[evening.pk]))
        form = RoomMapForm(request.POST, request.FILES)
        if form.is_valid():
            replacing = room_map.has_room_map(evening)
            room_map.set_room_map(
                evening=evening, upload=form.cleaned_data["map"], actor=request.user
            )
            messages.success(
                request,
                _("The map of rooms was replaced.")
                if replacing
                else _("The map of rooms was added."),
            )
            return redirect(reverse("evenings_staff:room-map", args=[evening.pk]))
        status = 400
    return render(
        request,
        "evenings/staff/room_map.html",
        {
            "evening": evening,
            "form": form,
            "has_map": room_map.has_room_map(evening),
            "is_image": evening.room_map_type in (room_map.PNG, room_map.JPEG),
            "map_type": evening.room_map_type,
        },
        status=status,
    )


@organiser
def room_map_file(request, evening_id):
    evening = _evening(evening_id)
    return room_map_response(evening)


def room_map_response(evening: Evening) -> HttpResponse:
    """The stored map as its own type, shown in the browser, never sniffed as another."""
    if not room_map.has_room_map(evening):
        raise Http404
    response = HttpResponse(room_map.map_bytes(evening), content_type=evening.room_map_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = content_disposition_header(False, room_map.filename(evening))
    response["Cache-Control"] = "private, no-cache"
    return response
