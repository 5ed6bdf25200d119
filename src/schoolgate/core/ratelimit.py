"""Rate limits on the pages anyone can flood (docs/accounts.md, Rate limits).

A count per key in a fixed window, kept in the default cache: Redis when CACHE_URL
is set, so every web server and process shares it; otherwise each process's memory,
which limits each process on its own. A refused request gets the "Too many requests"
page (HTTP 429) before the view runs, so it creates nothing."""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per `seconds` for each value `key(request, **kwargs)`
    gives; a key of None (for example no email typed) is not limited."""

    key: Callable
    count: int
    seconds: int
    name: str = ""


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the one the nearest trusted proxy saw."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw; anything further left is the
        # client's own claim and could be forged.
        if len(hops) >= proxies:
            return hops[-proxies][:45]
    return request.META.get("REMOTE_ADDR", "")[:45]


def by_address(request, **kwargs):
    return client_ip(request)


def by_user(request, **kwargs):
    return request.user.pk if request.user.is_authenticated else None


def overall(request, **kwargs):
    return "all"


def clock() -> float:
    """Now, in seconds (tests hold it still, so a count never straddles two windows)."""
    return time.time()


def hit(scope: str, key, limit: Limit) -> bool:
    """Count one request; whether it is within the limit."""
    window = int(clock() // limit.seconds)
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{limit.name}:{limit.seconds}:{window}:{digest}"
    # add() starts the count only if absent, so two servers cannot both reset it.
    cache.add(cache_key, 0, timeout=limit.seconds + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=limit.seconds + 5)
        count = 1
    return count <= limit.count


def refused(scope: str, limits, request, **kwargs) -> int | None:
    """Count the request against each limit; the seconds to wait if one is exceeded."""
    if not settings.RATE_LIMITS:
        return None
    wait = None
    for limit in limits:
        key = limit.key(request, **kwargs)
        if key is not None and not hit(scope, key, limit):
            wait = max(wait or 0, limit.seconds)
    return wait


def too_many_requests(request, wait_seconds: int):
    minutes = max(1, -(-wait_seconds // 60))
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(wait_seconds)
    return response


def rate_limited(scope: str, *limits: Limit, methods=("POST",)):
    """Refuse a view's `methods` beyond any of `limits` with the 429 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in methods:
                wait = refused(scope, limits, request, **kwargs)
                if wait:
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
