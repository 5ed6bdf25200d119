"""Parents' waiting lists for full teachers (included in parent_urls)."""

from django.http import Http404
from django.urls import path


def not_built_yet(request, **kwargs):
    raise Http404


urlpatterns = [
    path("<int:evening_id>/waiting-list/", not_built_yet, name="waiting-list"),
]
