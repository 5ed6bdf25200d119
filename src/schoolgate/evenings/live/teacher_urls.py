"""The teacher's live page (included in evenings/teacher_urls: /staff/my-evenings/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:evening_id>/live/", views.teacher_page, name="live"),
    path("<int:evening_id>/live/fragment/", views.teacher_fragment, name="live-fragment"),
    path("<int:evening_id>/live/late/", views.running_late, name="live-late"),
    path(
        "<int:evening_id>/live/appointments/<int:appointment_id>/attendance/",
        views.mark,
        name="live-mark",
    ),
]
