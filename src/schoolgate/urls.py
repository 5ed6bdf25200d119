from django.urls import include, path

from schoolgate.core import i18n
from schoolgate.core import views as core_views
from schoolgate.ops import health

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("schoolgate.accounts.urls")),
    path("staff/mis/", include("schoolgate.mis.urls")),
    path("staff/addons/", include("schoolgate.addons.urls")),
    path("staff/outbox/", include("schoolgate.outbox.urls")),
    path("staff/evenings/", include("schoolgate.evenings.web.staff.urls")),
    path("staff/my-evenings/", include("schoolgate.evenings.web.teacher.urls")),
    path("staff/corrections/", include("schoolgate.portal.staff_urls")),
    path("parents/evenings/", include("schoolgate.evenings.web.parent.urls")),
    path("parents/", include("schoolgate.portal.urls")),
    path("calendar/", include("schoolgate.evenings.web.parent.feed_urls")),
    # Django's set_language, which also saves a signed-in person's choice.
    path("i18n/setlang/", i18n.set_language, name="set_language"),
    # Answered before any other middleware by ops.middleware.HealthCheckMiddleware.
    path("healthz", health.healthz, name="healthz"),
]

# The friendly 503 page for database errors outside a view, the 500 page otherwise.
handler500 = "schoolgate.ops.errors.server_error"
# ...and for a session that could not be saved because the database went away.
handler400 = "schoolgate.ops.errors.bad_request"
