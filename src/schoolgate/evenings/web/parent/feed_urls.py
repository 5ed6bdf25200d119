"""The parents' calendar feed, under /calendar/ (docs/calendars.md)."""

from django.urls import path

from schoolgate.evenings.comms import feeds

app_name = "calendar"
urlpatterns = [
    path("", feeds.settings_page, name="feed"),
    path("create/", feeds.create, name="create"),
    path("reset/", feeds.reset, name="reset"),
    path("stop/", feeds.stop, name="stop"),
    path("<str:token>.ics", feeds.feed, name="ics"),
]
