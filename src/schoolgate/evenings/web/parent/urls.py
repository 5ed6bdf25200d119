"""The parents' booking pages, under /parents/evenings/ (see docs/booking.md)."""

from django.urls import include, path

from schoolgate.evenings.web.parent import hold_views
from schoolgate.evenings.web.parent import views as parent_views

app_name = "evenings"
urlpatterns = [
    path("", parent_views.evening_list, name="list"),
    path("<int:evening_id>/", parent_views.evening_page, name="evening"),
    path("<int:evening_id>/manual/", parent_views.manual, name="manual"),
    path("<int:evening_id>/automatic/", parent_views.automatic, name="automatic"),
    path("<int:evening_id>/hold/", hold_views.hold, name="hold-slots"),
    path("<int:evening_id>/holds/<int:hold_id>/", hold_views.hold_page, name="hold"),
    path("<int:evening_id>/holds/<int:hold_id>/confirm/", hold_views.confirm, name="confirm"),
    path("<int:evening_id>/holds/<int:hold_id>/release/", hold_views.release, name="release"),
    path(
        "<int:evening_id>/appointments/<int:appointment_id>/cancel/",
        hold_views.cancel,
        name="cancel",
    ),
    path(
        "<int:evening_id>/appointments/<int:appointment_id>/change/",
        hold_views.change,
        name="change",
    ),
    path("", include("schoolgate.evenings.web.parent.waiting_urls")),
    path("", include("schoolgate.evenings.web.parent.itinerary_urls")),
    path("", include("schoolgate.evenings.live.parent_urls")),
    path("", include("schoolgate.evenings.video.parent_urls")),
    path("", include("schoolgate.evenings.school_scheduled.parent_urls")),
]
