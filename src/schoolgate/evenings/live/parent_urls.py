"""A family's expected times (included in evenings/parent_urls: /parents/evenings/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:evening_id>/live/", views.family_fragment, name="live"),
]
