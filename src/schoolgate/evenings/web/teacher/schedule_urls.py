"""A teacher's evenings and schedule, on the page and as an A4 PDF (included in teacher_urls)."""

from django.urls import path

from schoolgate.evenings.web.teacher import schedule_views as views

urlpatterns = [
    path("", views.evening_list, name="evenings"),
    path("<int:evening_id>/", views.schedule, name="schedule"),
    path("<int:evening_id>/schedule.pdf", views.schedule_pdf, name="schedule-pdf"),
]
