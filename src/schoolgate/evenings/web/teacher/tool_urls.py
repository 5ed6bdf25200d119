"""A teacher's own breaks, private notes and attendance marks, and their calendar feed
(included in teacher_urls)."""

from django.urls import path

from schoolgate.evenings.web.teacher import tool_views as views

urlpatterns = [
    path(
        "<int:evening_id>/appointments/<int:appointment_id>/",
        views.appointment,
        name="appointment",
    ),
    path("<int:evening_id>/breaks/", views.breaks, name="breaks"),
    path("<int:evening_id>/breaks/<int:break_id>/remove/", views.break_remove, name="break-remove"),
    path("calendar/", views.calendar, name="calendar"),
]
