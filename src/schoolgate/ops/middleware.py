"""Middleware for running in production: /healthz before everything else, a request
id on every request and log line, and a friendly 503 when the database is down."""

import logging
import re
import time
import uuid

from django.conf import settings

from schoolgate.ops.errors import DATABASE_ERRORS, service_unavailable
from schoolgate.ops.logging import request_id_var

HEADER = "X-Request-ID"
# Ids from a proxy or load balancer are kept when they look like ids: no spaces,
# quotes or control characters that could forge or break a log line.
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:;=+/@-]{0,199}")

request_logger = logging.getLogger("schoolgate.request")
error_logger = logging.getLogger("schoolgate.errors")


class HealthCheckMiddleware:
    """Answer /healthz first: no host check (load balancers probe by IP address), no
    HTTPS redirect, no session, and no log line every few seconds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            from schoolgate.ops.health import healthz

            return healthz(request)
        return self.get_response(request)


def request_id_from(header: str | None) -> str:
    """The incoming id when it is sane and came through a trusted proxy, else a new one.
    Without TRUSTED_PROXIES the header is the client's own, and a client could tie its
    requests to someone else's in the logs."""
    if settings.TRUSTED_PROXIES and header and SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id (the proxy's, or a new one), put it on every log line
    written while the request runs, return it as X-Request-ID, and log one line per
    request with the URL pattern rather than the path (paths can carry tokens)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id
        # Cleared by clear_request_id when the response is finished: Django itself logs
        # errors (django.request) after the middleware has returned.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        match = getattr(request, "resolver_match", None)
        route = match.route if match else ""
        request_logger.info(
            "%s %s %s",
            request.method,
            route or "(no route)",
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "view": match.view_name if match else "",
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


def clear_request_id(**kwargs) -> None:
    """request_finished receiver: lines after the request carry no id."""
    request_id_var.set("")


class DatabaseUnavailableMiddleware:
    """A view (or its template) that finds the database gone gets the friendly 503
    page instead of a traceback; Django reconnects on a later request by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            # No traceback: during an outage every request would print one.
            error_logger.warning(
                "Database unavailable (%s): %s", type(exception).__name__, exception
            )
            return service_unavailable()
        return None
