from django.urls import include, path

from schoolgate.evenings.web.staff import teacher_views, views

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
    path("<int:evening_id>/teachers/", teacher_views.teachers, name="teachers"),
    path(
        "<int:evening_id>/teachers/refresh/",
        teacher_views.teachers_refresh,
        name="teachers-refresh",
    ),
    path("<int:evening_id>/teachers/add/", teacher_views.teacher_add, name="teacher-add"),
    path(
        "<int:evening_id>/teachers/<int:teacher_id>/", teacher_views.teacher_change, name="teacher"
    ),
    path(
        "<int:evening_id>/teachers/<int:teacher_id>/remove/",
        teacher_views.teacher_remove,
        name="teacher-remove",
    ),
    path(
        "<int:evening_id>/teachers/<int:teacher_id>/restore/",
        teacher_views.teacher_restore,
        name="teacher-restore",
    ),
    path("<int:evening_id>/class-lengths/", teacher_views.class_lengths, name="class-lengths"),
    path(
        "<int:evening_id>/class-lengths/<int:length_id>/remove/",
        teacher_views.class_length_remove,
        name="class-length-remove",
    ),
    path("<int:evening_id>/breaks/", teacher_views.breaks, name="breaks"),
    path("<int:evening_id>/breaks/<int:break_id>/", teacher_views.break_change, name="break"),
    path(
        "<int:evening_id>/breaks/<int:break_id>/remove/",
        teacher_views.break_remove,
        name="break-remove",
    ),
    # Running the evening: each part in its own module.
    path("", include("schoolgate.evenings.web.staff.grid_urls")),
    path("", include("schoolgate.evenings.web.staff.absence_urls")),
    path("", include("schoolgate.evenings.web.staff.takeup_urls")),
    path("", include("schoolgate.evenings.web.staff.print_urls")),
    path("", include("schoolgate.evenings.web.staff.attendance_urls")),
    path("", include("schoolgate.evenings.live.staff_urls")),
    path("", include("schoolgate.evenings.school_scheduled.staff_urls")),
]
