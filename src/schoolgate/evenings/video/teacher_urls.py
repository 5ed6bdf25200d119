"""The teacher's call pages (included in evenings/teacher_urls)."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "<int:evening_id>/appointments/<int:appointment_id>/call/",
        views.teacher_call,
        name="call",
    ),
]
