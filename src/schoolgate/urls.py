from django.urls import include, path

from schoolgate.core import views as core_views
from schoolgate.ops import health

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("schoolgate.accounts.urls")),
    path("staff/mis/", include("schoolgate.mis.urls")),
    path("staff/addons/", include("schoolgate.addons.urls")),
    path("staff/outbox/", include("schoolgate.outbox.urls")),
    path("parents/", include("schoolgate.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Answered before any other middleware by ops.middleware.HealthCheckMiddleware.
    path("healthz", health.healthz, name="healthz"),
]

# The friendly 503 page for database errors outside a view, the 500 page otherwise.
handler500 = "schoolgate.ops.errors.server_error"
