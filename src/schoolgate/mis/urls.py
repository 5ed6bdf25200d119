from django.urls import path

from schoolgate.mis import views

app_name = "mis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sync/", views.sync, name="sync"),
]
