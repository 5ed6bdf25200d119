"""Attendance figures for the organiser (included in staff_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/attendance/", not_built_yet, name="attendance"),
]
