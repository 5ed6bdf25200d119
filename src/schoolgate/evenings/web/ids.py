"""Ids from URLs and forms, for every audience's pages: a positive whole number, or
404 (so that a bad id reveals nothing and never reaches the database)."""

from django.http import Http404


def parse_id(value) -> int:
    """A positive whole number, or 404."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise Http404 from None
    if number < 1 or number > 2**62:
        raise Http404
    return number
