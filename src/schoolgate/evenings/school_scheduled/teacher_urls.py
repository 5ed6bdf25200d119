"""Teachers' flags, under /staff/my-evenings/ (namespace teacher)."""

from django.urls import path

from schoolgate.evenings.school_scheduled import views

urlpatterns = [
    path("wishes/", views.teacher_list, name="scheduled-list"),
    path("<int:evening_id>/flags/", views.teacher_flags, name="scheduled-flags"),
]
