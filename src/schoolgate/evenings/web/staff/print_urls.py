"""The organiser's printouts: every teacher's schedule in one PDF, and the room map
(included in staff_urls)."""

from django.urls import path

from schoolgate.evenings.web.staff import print_views as views

urlpatterns = [
    path("<int:evening_id>/schedules.pdf", views.pack, name="pack"),
    path("<int:evening_id>/room-map/", views.room_map_page, name="room-map"),
    path("<int:evening_id>/room-map/map", views.room_map_file, name="room-map-file"),
]
