"""Take-up figures, chase-up emails, copying an evening, the bookings CSV and the teacher-
availability import (included in staff_urls)."""

from django.urls import path

from schoolgate.evenings.web.staff import takeup_views as views

urlpatterns = [
    path("<int:evening_id>/take-up/", views.takeup_page, name="takeup"),
    path("<int:evening_id>/take-up/chase/", views.chase, name="chase"),
    path("<int:evening_id>/copy/", views.copy_page, name="copy"),
    path("<int:evening_id>/bookings.csv", views.export_csv, name="export"),
    path("<int:evening_id>/availability/", views.availability_page, name="availability"),
]
