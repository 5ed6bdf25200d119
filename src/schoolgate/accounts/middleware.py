"""Request guards of our own: the Permissions-Policy header, and the second factor."""

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from schoolgate.accounts import otp

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
