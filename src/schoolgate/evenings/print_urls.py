"""The organiser's printouts: every teacher's schedule in one PDF, and the room map
(included in staff_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/schedules.pdf", not_built_yet, name="pack"),
    path("<int:evening_id>/room-map/", not_built_yet, name="room-map"),
]
