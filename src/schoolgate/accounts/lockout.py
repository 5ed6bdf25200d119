"""Slowing down password guessing without locking people out (docs/accounts.md, Lockout).

Every failed sign-in is one SignInFailure row (email, address, time), so the counts
are shared by every web server through the database. Failures older than
LOCKOUT_WINDOW_MINUTES are forgotten. The rules:

- per email: from the LOCKOUT_FAILURES-th failure on, an address that has itself
  failed for that email must wait before its next try, LOCKOUT_DELAY_SECONDS after
  the email's latest failure, doubling with each further failure, at most
  LOCKOUT_MINUTES. An address that has not failed for the email is not made to wait:
  the right password from there always signs in (the owner on their own phone is not
  locked out by someone guessing elsewhere);
- per address: from LOCKOUT_ADDRESS_FAILURES failures (any emails, so a school's or a
  home's shared address is not stopped by a few typing mistakes) the address waits in
  the same way, whatever the email;
- a try refused because of a wait is not counted, so it never lengthens the wait;
- an emailed invitation or reset link always signs the person in (no password is
  asked), and setting a password that way clears the email's failures.

A try is written down before the password is checked and counted against the tries
before it, so a burst of guesses sent at once is held to the same limits."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max
from django.shortcuts import render
from django.utils import timezone

from schoolgate.accounts.models import SignInFailure
from schoolgate.core.emails import normalise_email

NO_WAIT = timedelta(0)


def stored_email(email: str) -> str:
    """The typed email as counted: normalised, so "Jo@X.org" and "jo@x.org" are one."""
    return normalise_email(email or "")[: SignInFailure.EMAIL_LENGTH]


@dataclass
class Attempt:
    email: str
    address: str
    wait: timedelta  # more than zero: refused without looking at the password
    row_id: int | None = None


def delay(beyond: int) -> timedelta:
    """The wait after the limit's failure (`beyond` 0), doubling for each one after it."""
    first = settings.LOCKOUT_DELAY_SECONDS
    longest = settings.LOCKOUT_MINUTES * 60
    return timedelta(seconds=min(first * 2 ** min(beyond, 32), longest))


def wait_for(email: str, address: str, *, now: datetime | None = None, before_id=None):
    """How long this address must wait before trying this email (zero: it may try)."""
    now = now or timezone.now()
    recent = SignInFailure.objects.filter(
        at__gte=now - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    )
    if before_id is not None:
        recent = recent.filter(pk__lt=before_id)
    until = None
    by_address = recent.filter(address=address).aggregate(n=Count("pk"), last=Max("at"))
    if by_address["n"] >= settings.LOCKOUT_ADDRESS_FAILURES:
        until = by_address["last"] + delay(by_address["n"] - settings.LOCKOUT_ADDRESS_FAILURES)
    by_email = recent.filter(email=email).aggregate(n=Count("pk"), last=Max("at"))
    if (
        by_email["n"] >= settings.LOCKOUT_FAILURES
        and recent.filter(email=email, address=address).exists()
    ):
        email_until = by_email["last"] + delay(by_email["n"] - settings.LOCKOUT_FAILURES)
        until = max(until, email_until) if until else email_until
    return max(until - now, NO_WAIT) if until else NO_WAIT


def begin(email: str, address: str) -> Attempt:
    """Before checking a password: note the try, or refuse it (and forget it) if the
    address must wait."""
    email = stored_email(email)
    row = SignInFailure.objects.create(email=email, address=address)
    wait = wait_for(email, address, now=row.at, before_id=row.pk)
    if wait:
        row.delete()
        return Attempt(email, address, wait)
    return Attempt(email, address, NO_WAIT, row.pk)


def succeeded(attempt: Attempt) -> None:
    """The right password: this try and this address's earlier failures for the email
    are cleared (not other addresses' guesses, which keep their waits)."""
    SignInFailure.objects.filter(email=attempt.email, address=attempt.address).delete()


def failed(attempt: Attempt) -> timedelta:
    """A wrong password: the try stays counted; the wait that now applies, if any."""
    return wait_for(attempt.email, attempt.address)


def is_locked_out(email: str) -> bool:
    """Whether sign-in for this email is being slowed down now (for the user page)."""
    since = timezone.now() - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    failures = SignInFailure.objects.filter(email=stored_email(email), at__gte=since).count()
    return failures >= settings.LOCKOUT_FAILURES


def unlock(email: str) -> int:
    """Clear the failures against this email and from the addresses that made them."""
    attempts = SignInFailure.objects.filter(email=stored_email(email))
    addresses = set(attempts.values_list("address", flat=True))
    count, _ = attempts.delete()
    extra, _ = SignInFailure.objects.filter(address__in=addresses - {""}).delete()
    return count + extra


def clear(email: str) -> None:
    """After a password is set from an emailed link: earlier guesses no longer matter."""
    SignInFailure.objects.filter(email=stored_email(email)).delete()


def prune(*, now: datetime | None = None) -> int:
    """Delete failures older than the window (they no longer count for anything)."""
    since = (now or timezone.now()) - timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)
    count, _ = SignInFailure.objects.filter(at__lt=since).delete()
    return count


def locked_out_response(request, wait: timedelta | None = None):
    """The page shown while a wait applies: the same whether or not the account exists."""
    wait = wait if wait is not None else timedelta(minutes=settings.LOCKOUT_MINUTES)
    minutes = max(1, -(-int(wait.total_seconds()) // 60))  # rounded up
    return render(request, "accounts/locked_out.html", {"lockout_minutes": minutes}, status=429)
