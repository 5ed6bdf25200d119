"""The office's queue of parents' correction requests, under /staff/corrections/."""

from django.urls import path

from schoolgate.portal import staff_views

app_name = "corrections"
urlpatterns = [
    path("", staff_views.queue, name="queue"),
    path("<int:correction_id>/done/", staff_views.mark_done, name="done"),
]
