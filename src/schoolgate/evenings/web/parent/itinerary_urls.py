"""A parent's printable itinerary and the school's room map (included in parent_urls)."""

from django.urls import path

from schoolgate.evenings.web.parent import itinerary_views as views

urlpatterns = [
    path("<int:evening_id>/itinerary.pdf", views.itinerary_pdf, name="itinerary-pdf"),
    path("<int:evening_id>/room-map/", views.room_map_page, name="room-map"),
]
