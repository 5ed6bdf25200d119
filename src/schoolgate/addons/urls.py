from django.urls import path

from schoolgate.addons import mis_accounts, video, views

app_name = "addons"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("mis-accounts/", mis_accounts.mis_accounts_page, name="mis-accounts"),
    path("video/", video.video_page, name="video"),
]
