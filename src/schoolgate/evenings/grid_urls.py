"""The organiser's grid: every teacher against the evening's times, and booking, moving and
cancelling on a parent's behalf (included in staff_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/grid/", not_built_yet, name="grid"),
]
