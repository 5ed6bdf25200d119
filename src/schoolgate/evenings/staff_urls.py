from django.urls import path

from schoolgate.evenings import staff_views

app_name = "evenings_staff"
urlpatterns = [
    path("", staff_views.evening_list, name="list"),
]
