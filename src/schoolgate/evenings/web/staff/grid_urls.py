"""The organiser's grid: every teacher against the evening's times, and booking, moving and
cancelling on a parent's behalf (included in staff_urls). docs/organiser-grid.md."""

from django.urls import path

from schoolgate.evenings.web.staff import grid_views as views

urlpatterns = [
    path("<int:evening_id>/grid/", views.grid_page, name="grid"),
    path("<int:evening_id>/grid/book/", views.behalf, name="behalf"),
    path("<int:evening_id>/grid/pupils/<int:pupil_id>/", views.behalf_pupil, name="behalf-pupil"),
    path(
        "<int:evening_id>/grid/pupils/<int:pupil_id>/book/",
        views.behalf_book,
        name="behalf-book",
    ),
    path(
        "<int:evening_id>/grid/pupils/<int:pupil_id>/plan/",
        views.behalf_plan,
        name="behalf-plan",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/",
        views.appointment_page,
        name="behalf-appointment",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/move/",
        views.move,
        name="behalf-move",
    ),
    path(
        "<int:evening_id>/grid/appointments/<int:appointment_id>/cancel/",
        views.cancel,
        name="behalf-cancel",
    ),
]
