"""Request guards of our own: the Permissions-Policy header, the idle timeout, and the
second factor."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext

from schoolgate.accounts import otp
from schoolgate.accounts.sessions import LAST_SEEN

# Nothing Schoolgate does needs any of these browser features.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# The time of the last request is saved at most this often, not on every request.
LAST_SEEN_EVERY = 60


def idle_limit(user) -> int:
    """Seconds without a request after which this person is signed out."""
    hours = settings.STAFF_IDLE_HOURS if user.is_staff else settings.PARENT_IDLE_HOURS
    return int(hours * 3600)


class IdleTimeoutMiddleware:
    """Sign out a session left unused for STAFF_IDLE_HOURS (staff) or PARENT_IDLE_HOURS
    (everyone else); the request then carries on signed out (docs/accounts.md)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > idle_limit(user):
                hours = max(1, round(idle_limit(user) / 3600))
                logout(request)
                messages.info(
                    request,
                    ngettext(
                        "You were signed out after %(hours)s hour without using the service.",
                        "You were signed out after %(hours)s hours without using the service.",
                        hours,
                    )
                    % {"hours": hours},
                )
            elif now - last_seen >= LAST_SEEN_EVERY or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """A person who must give a code (see otp.is_required) reaches nothing but the
    two-factor pages and sign-out until they have given one in this session."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths: tuple[str, ...] | None = None

    def open_paths(self) -> tuple[str, ...]:
        if self._open_paths is None:
            self._open_paths = (
                reverse("accounts:two-factor"),
                reverse("accounts:two-factor-set-up"),
                reverse("accounts:sign-out"),
                "/static/",
                "/i18n/",
            )
        return self._open_paths

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.open_paths())
            and not otp.is_verified(request)
            and otp.is_required(user)
        ):
            target = (
                "accounts:two-factor"
                if otp.confirmed_device(user)
                else "accounts:two-factor-set-up"
            )
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
