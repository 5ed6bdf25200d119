"""Teacher absence: cancel or transfer a teacher's appointments (included in staff_urls)."""

from django.http import Http404
from django.urls import path

from schoolgate.core.access import staff_required


@staff_required()
def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/absences/", not_built_yet, name="absences"),
]
