"""The teacher's area of the staff site: /staff/my-evenings/."""

from django.urls import include, path

app_name = "teacher"
urlpatterns = [
    path("", include("schoolgate.evenings.web.teacher.schedule_urls")),
    path("", include("schoolgate.evenings.web.teacher.tool_urls")),
    path("", include("schoolgate.evenings.live.teacher_urls")),
    path("", include("schoolgate.evenings.video.teacher_urls")),
    path("", include("schoolgate.evenings.school_scheduled.teacher_urls")),
]
