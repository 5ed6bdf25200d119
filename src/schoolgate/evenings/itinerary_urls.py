"""A parent's printable itinerary and the school's room map (included in parent_urls)."""

from django.http import Http404
from django.urls import path


def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/itinerary.pdf", not_built_yet, name="itinerary-pdf"),
    path("<int:evening_id>/room-map/", not_built_yet, name="room-map"),
]
