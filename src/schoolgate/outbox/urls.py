from django.urls import path

from schoolgate.outbox import views

app_name = "outbox"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:message_id>/", views.message_detail, name="detail"),
    path("<int:message_id>/retry/", views.message_retry, name="retry"),
]
