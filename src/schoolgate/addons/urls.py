from django.urls import path

from schoolgate.addons import views

app_name = "addons"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
]
