"""The site's URLs plus views that fail on purpose, for the error page tests."""

from django.http import HttpResponse
from django.urls import path

from schoolgate.urls import urlpatterns as site_urlpatterns


def boom(request):
    raise RuntimeError("a bug")


def remember_visit(request):
    # Needs no query itself; the session is saved after the view, by middleware.
    request.session["visited"] = True
    return HttpResponse("ok")


urlpatterns = [
    path("test/boom", boom),
    path("test/remember", remember_visit),
    *site_urlpatterns,
]
handler500 = "schoolgate.ops.errors.server_error"
