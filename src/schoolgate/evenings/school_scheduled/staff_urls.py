"""The organiser's pages, under /staff/evenings/ (namespace evenings_staff)."""

from django.urls import path

from schoolgate.evenings.school_scheduled import views

urlpatterns = [
    path("<int:evening_id>/scheduled/", views.organiser_page, name="scheduled"),
    path("<int:evening_id>/scheduled/build/", views.organiser_build, name="scheduled-build"),
    path("<int:evening_id>/scheduled/review/", views.organiser_review, name="scheduled-review"),
    path("<int:evening_id>/scheduled/publish/", views.organiser_publish, name="scheduled-publish"),
]
