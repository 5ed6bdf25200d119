"""Teacher absence (cancel or transfer a teacher's appointments) and the waiting lists,
for the organiser (included in staff_urls)."""

from django.urls import path

from schoolgate.evenings.web.staff import absence_views

urlpatterns = [
    path("<int:evening_id>/absences/", absence_views.absences, name="absences"),
    path(
        "<int:evening_id>/absences/<int:absence_id>/",
        absence_views.absence_page,
        name="absence",
    ),
    path("<int:evening_id>/waiting-lists/", absence_views.waiting_lists, name="waiting-lists"),
]
