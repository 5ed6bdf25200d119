"""A family's call pages and the camera check (included in evenings/parent_urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "<int:evening_id>/appointments/<int:appointment_id>/call/",
        views.family_call,
        name="call",
    ),
    path("camera-check/", views.camera_check, name="camera-check"),
]
