from django.urls import include, path

from schoolgate.evenings import staff_views as views

app_name = "evenings_staff"
urlpatterns = [
    path("", views.evening_list, name="list"),
    path("new/", views.evening_create, name="create"),
    path("<int:evening_id>/", views.evening_page, name="evening"),
    path("<int:evening_id>/settings/", views.evening_edit, name="edit"),
    path("<int:evening_id>/status/", views.evening_status, name="status"),
    path("<int:evening_id>/days/", views.days, name="days"),
    path("<int:evening_id>/days/<int:day_id>/", views.day_change, name="day"),
    path("<int:evening_id>/days/<int:day_id>/remove/", views.day_remove, name="day-remove"),
    path("<int:evening_id>/teachers/", views.teachers, name="teachers"),
    path("<int:evening_id>/teachers/refresh/", views.teachers_refresh, name="teachers-refresh"),
    path("<int:evening_id>/teachers/add/", views.teacher_add, name="teacher-add"),
    path("<int:evening_id>/teachers/<int:teacher_id>/", views.teacher_change, name="teacher"),
    path(
        "<int:evening_id>/teachers/<int:teacher_id>/remove/",
        views.teacher_remove,
        name="teacher-remove",
    ),
    path(
        "<int:evening_id>/teachers/<int:teacher_id>/restore/",
        views.teacher_restore,
        name="teacher-restore",
    ),
    path("<int:evening_id>/class-lengths/", views.class_lengths, name="class-lengths"),
    path(
        "<int:evening_id>/class-lengths/<int:length_id>/remove/",
        views.class_length_remove,
        name="class-length-remove",
    ),
    path("<int:evening_id>/breaks/", views.breaks, name="breaks"),
    path("<int:evening_id>/breaks/<int:break_id>/", views.break_change, name="break"),
    path("<int:evening_id>/breaks/<int:break_id>/remove/", views.break_remove, name="break-remove"),
    # Running the evening: each part in its own module.
    path("", include("schoolgate.evenings.grid_urls")),
    path("", include("schoolgate.evenings.absence_urls")),
    path("", include("schoolgate.evenings.takeup_urls")),
    path("", include("schoolgate.evenings.print_urls")),
    path("", include("schoolgate.evenings.attendance_urls")),
    path("", include("schoolgate.evenings.school_scheduled.staff_urls")),
]
