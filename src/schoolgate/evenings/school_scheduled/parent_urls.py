"""Parents' wishes, under /parents/evenings/ (namespace evenings)."""

from django.urls import path

from schoolgate.evenings.school_scheduled import views

urlpatterns = [
    path("wishes/", views.parent_list, name="scheduled-list"),
    path("<int:evening_id>/wishes/", views.parent_wishes, name="scheduled-wishes"),
]
