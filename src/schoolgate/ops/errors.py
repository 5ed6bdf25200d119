"""Error pages that need no database: 500 and 503 are what people see when the
database (or anything else) has failed, so they are rendered without the context
processors (which read the school's settings from the database)."""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30

logger = logging.getLogger("schoolgate.errors")


def render_standalone(template_name: str, *, status: int) -> HttpResponse:
    """Render a page from plain settings only: no request context, no queries."""
    html = loader.get_template(template_name).render(
        {"school_name": settings.SCHOOLGATE["SCHOOL_NAME"], "retry_after": RETRY_AFTER_SECONDS}
    )
    response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def service_unavailable() -> HttpResponse:
    return render_standalone("503.html", status=503)


@requires_csrf_token
def server_error(request):
    """handler500: the friendly 503 when the cause was the database, else the 500 page.

    Django calls this for exceptions raised outside a view (e.g. while saving the
    session), which DatabaseUnavailableMiddleware cannot see."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return service_unavailable()
    return render_standalone("500.html", status=500)


def bad_request(request, exception):
    """handler400: the friendly 503 when the request failed because the database went
    away while the session was saved (Django reports that as a 400, "session
    interrupted"); Django's own 400 page otherwise."""
    from django.views.defaults import bad_request as django_bad_request

    if caused_by_database(exception):
        return service_unavailable()
    return django_bad_request(request, exception)


def caused_by_database(error: BaseException | None) -> bool:
    """Whether a database error is anywhere in the chain of causes of `error`."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DATABASE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
