"""The organiser's live view (included in evenings/staff_urls: /staff/evenings/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:evening_id>/live/", views.organiser_page, name="live"),
    path("<int:evening_id>/live/fragment/", views.organiser_fragment, name="live-fragment"),
]
