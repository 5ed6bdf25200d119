"""A teacher's evenings and schedule, on the page and as an A4 PDF (included in teacher_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("", not_built_yet, name="evenings"),
    path("<int:evening_id>/", not_built_yet, name="schedule"),
    path("<int:evening_id>/schedule.pdf", not_built_yet, name="schedule-pdf"),
]
