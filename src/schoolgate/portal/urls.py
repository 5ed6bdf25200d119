from django.urls import path

from schoolgate.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("children/<int:pupil_id>/", views.pupil, name="pupil"),
    path("my-details/", views.my_details, name="my-details"),
]
