"""Attendance figures for the organiser (included in staff_urls)."""

from django.urls import path

from schoolgate.evenings.web.staff import attendance_views

urlpatterns = [
    path("<int:evening_id>/attendance/", attendance_views.attendance_page, name="attendance"),
]
