from django.urls import path

from schoolgate.mis import views

app_name = "mis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.dashboard_list, name="dashboard-list"),
    path("sync/", views.sync, name="sync"),
    path("sync/<int:run_id>/", views.sync_report, name="sync-report"),
    path("sync/<int:run_id>/confirm/", views.sync_confirm, name="sync-confirm"),
    path("sync/templates/<str:name>", views.csv_template, name="template"),
    path("data-source/", views.data_source, name="data-source"),
]
