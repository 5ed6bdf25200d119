from django.urls import path

from schoolgate.evenings import parent_views

app_name = "evenings"
urlpatterns = [
    path("", parent_views.evening_list, name="list"),
]
