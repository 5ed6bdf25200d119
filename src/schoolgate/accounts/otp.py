"""Time-based one-time passwords (TOTP, RFC 6238) for staff: enrolment with a QR code
drawn on the server, and a 6-digit code after the password."""

import time
from datetime import timedelta

import pyotp
import segno
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from schoolgate.accounts.models import TOTPDevice

SESSION_KEY = "schoolgate_2fa_verified"
STEP = 30
# A code from the step before or after also counts: phones' clocks drift.
DRIFT_STEPS = 1


def is_required(user) -> bool:
    """Whether this person must give a code: staff when the school requires it, and
    anyone who has set up an authenticator of their own accord."""
    if not user.is_authenticated:
        return False
    if settings.STAFF_REQUIRE_2FA and user.is_staff:
        return True
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def pending_device(user) -> TOTPDevice:
    """The device being set up (a new secret until a first code confirms it)."""
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, defaults={"secret": pyotp.random_base32()}
    )
    return device


def provisioning_uri(device: TOTPDevice, *, issuer: str) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code as an inline SVG element (no styles or scripts, so the CSP holds)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, title=_("QR code for your authenticator app"), svgclass="sg-qr"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def is_locked(device: TOTPDevice) -> bool:
    """Too many wrong codes within the lockout time: no code is accepted until it passes."""
    if device.failures < settings.LOCKOUT_FAILURES or device.last_failure_at is None:
        return False
    return timezone.now() - device.last_failure_at < timedelta(minutes=settings.LOCKOUT_MINUTES)


def verify(device: TOTPDevice, code: str, *, now: float | None = None) -> bool:
    """Check a code (each time step at most once) and count failures; saves the device."""
    code = "".join(code.split())
    if is_locked(device):
        return False
    step = _matching_step(device, code, now=time.time() if now is None else now)
    if step is None:
        device.failures += 1
        device.last_failure_at = timezone.now()
        device.save(update_fields=["failures", "last_failure_at"])
        return False
    device.last_step = step
    device.failures = 0
    device.last_failure_at = None
    fields = ["last_step", "failures", "last_failure_at"]
    if device.confirmed_at is None:
        device.confirmed_at = timezone.now()
        fields.append("confirmed_at")
    device.save(update_fields=fields)
    return True


def _matching_step(device: TOTPDevice, code: str, *, now: float) -> int | None:
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(device.secret, interval=STEP)
    current = int(now // STEP)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > device.last_step and constant_time_compare(totp.at(step * STEP), code):
            return step
    return None


def mark_verified(request) -> None:
    request.session[SESSION_KEY] = True


def is_verified(request) -> bool:
    return bool(request.session.get(SESSION_KEY))
