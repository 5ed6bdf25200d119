"""A teacher's own breaks, private notes and attendance marks, and their calendar feed
(included in teacher_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/appointments/<int:appointment_id>/", not_built_yet, name="appointment"),
    path("<int:evening_id>/breaks/", not_built_yet, name="breaks"),
    path("calendar/", not_built_yet, name="calendar"),
]
