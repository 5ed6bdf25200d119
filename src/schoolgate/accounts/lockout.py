"""Lockout after repeated failed sign-ins (django-axes), per email and per address."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from schoolgate.core.emails import normalise_email


def username(request, credentials) -> str:
    """The typed email as stored, so "Jo@X.org" and "jo@x.org" count as one person."""
    return normalise_email((credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD, ""))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the one the nearest trusted proxy saw."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw; anything further left is the
        # client's own claim and could be forged.
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a successful sign-in clears only the failures
    against that same email: otherwise signing in to one's own account would wipe the
    count of guesses made from the same address at someone else's."""

    def reset_user_attempts(self, request, credentials=None) -> int:
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials)
        ).delete()
        return count


def is_locked_out(email: str) -> bool:
    """Whether sign-in for this email is locked now (failures within the cool-off)."""
    attempts = AccessAttempt.objects.filter(username=normalise_email(email))
    cool_off = get_cool_off()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
    return failures >= settings.AXES_FAILURE_LIMIT


def unlock(email: str) -> int:
    """Clear the failures against this email and from the addresses that made them."""
    attempts = AccessAttempt.objects.filter(username=normalise_email(email))
    addresses = set(attempts.values_list("ip_address", flat=True))
    count, _ = attempts.delete()
    extra, _ = AccessAttempt.objects.filter(ip_address__in=addresses - {None, ""}).delete()
    return count + extra


def locked_out_response(request, original_response=None, credentials=None):
    """The page shown while locked out: the same whether or not the account exists."""
    cool_off = get_cool_off()
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0
    return render(
        request,
        "accounts/locked_out.html",
        {"lockout_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
