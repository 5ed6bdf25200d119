"""Take-up figures, chase-up emails, copying an evening, the bookings CSV and the teacher-
availability import (included in staff_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/take-up/", not_built_yet, name="takeup"),
    path("<int:evening_id>/copy/", not_built_yet, name="copy"),
    path("<int:evening_id>/bookings.csv", not_built_yet, name="export"),
    path("<int:evening_id>/availability/", not_built_yet, name="availability"),
]
