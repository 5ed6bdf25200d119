"""The organiser's grid: every teacher against the evening's times, and booking, moving and
cancelling on a parent's behalf (included in staff_urls). docs/organiser-grid.md."""

from django.urls import path

from schoolgate.evenings.web.staff import behalf_views, grid_views

urlpatterns = [
    path("<int:evening_id>/grid/", grid_views.grid_page, name="grid"),
    path("<int:evening_id>/grid/book/", behalf_views.behalf, name="behalf"),
    path(
        "<int:evening_id>/grid/pupils/<int:pupil_id>/",
        behalf_views.behalf_pupil,
        name="behalf-pupil",
    ),
    path(
        "<int:evening_id>/grid/pupils/<int:pupil_id>/book/",
        behalf_views.behalf_book,
        name="behalf-book",
    ),
    path(
        "<int:evening_id>/grid/pupils/<int:pupil_id>/plan/",
        behalf_views.behalf_plan,
        name="behalf-plan",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/",
        behalf_views.appointment_page,
        name="behalf-appointment",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/move/",
        behalf_views.move,
        name="behalf-move",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/cancel/",
        behalf_views.cancel,
        name="behalf-cancel",
    ),
]
