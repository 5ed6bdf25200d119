"""Parents' waiting lists for full teachers (included in parent_urls)."""

from django.urls import path

from schoolgate.evenings.web.parent import waiting_views

urlpatterns = [
    path("<int:evening_id>/waiting-list/", waiting_views.waiting_list, name="waiting-list"),
    path(
        "<int:evening_id>/waiting-list/<int:entry_id>/leave/",
        waiting_views.leave,
        name="waiting-list-leave",
    ),
]
