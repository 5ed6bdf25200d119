"""The site's URLs plus two that fail on purpose, to check the 500 and 503 pages."""

from django.urls import path

from schoolgate.ops.errors import service_unavailable
from schoolgate.urls import urlpatterns as site_urlpatterns


def server_error(request):
    raise RuntimeError("a bug raised on purpose by the browser tests")


def unavailable(request):
    return service_unavailable()


urlpatterns = [
    path("test/server-error", server_error),
    path("test/service-unavailable", unavailable),
    *site_urlpatterns,
]
handler500 = "schoolgate.ops.errors.server_error"
