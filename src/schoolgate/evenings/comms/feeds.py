"""Personal calendar feeds: a secret address per parent serving their family's upcoming
appointments as iCalendar, and the page where the parent sees, copies and resets it.

The address is /calendar/<feed id>-<HMAC of the feed's key with SECRET_KEY>.ics. It is
checked with a constant-time comparison; a reset draws a new key, so the old address
stops working at once. The feed shows only pupils the parent may see now
(accounts.access), so a sync that removes access empties it at the next refresh. A
member of staff's feed also carries their own appointments as a teacher (teacher_feed)."""

import hashlib
import secrets

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from schoolgate.accounts.decorators import parent_required
from schoolgate.core.access import public
from schoolgate.evenings.comms import ics
from schoolgate.evenings.comms.notifications import itinerary
from schoolgate.evenings.comms.teacher_feed import add_teaching_events
from schoolgate.evenings.models import CalendarFeed

SALT = "schoolgate.evenings.calendar-feed"


# --- services and selectors --------------------------------------------------------


def feed_token(feed: CalendarFeed) -> str:
    return f"{feed.pk}-{_mac(feed.pk, feed.key)}"


def feed_url(feed: CalendarFeed) -> str:
    return settings.SITE_URL + reverse("calendar:ics", args=[feed_token(feed)])


def create_feed(*, parent) -> CalendarFeed:
    """The parent's feed, made now if they have none."""
    feed, _created = CalendarFeed.objects.get_or_create(
        parent=parent, defaults={"key": secrets.token_hex(32)}
    )
    return feed


def reset_feed(*, parent) -> CalendarFeed:
    """A new address for the parent's feed; the old one stops working."""
    feed, created = CalendarFeed.objects.get_or_create(
        parent=parent, defaults={"key": secrets.token_hex(32)}
    )
    if not created:
        feed.key = secrets.token_hex(32)
        feed.created_at = timezone.now()
        feed.last_read_at = None
        feed.save(update_fields=["key", "created_at", "last_read_at"])
    return feed


def stop_feed(*, parent) -> bool:
    """Turn the parent's feed off; returns whether there was one."""
    deleted, _by_model = CalendarFeed.objects.filter(parent=parent).delete()
    return bool(deleted)


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed this token opens, or None. The comparison takes the same time
    however much of the token is right, and an unknown id costs the same HMAC."""
    feed_id, _sep, mac = (token or "").partition("-")
    feed = None
    if feed_id.isdigit() and len(feed_id) < 19:
        feed = (
            CalendarFeed.objects.filter(pk=int(feed_id), parent__is_active=True)
            .select_related("parent")
            .first()
        )
    expected = _mac(feed.pk, feed.key) if feed else _mac(0, "")
    if feed is None or not constant_time_compare(expected, mac):
        return None
    return feed


def feed_calendar(*, parent, now=None) -> str:
    """The parent's family's upcoming confirmed appointments as one VCALENDAR, and, for
    a member of staff, their own appointments as a teacher (teacher_feed)."""
    now = now or timezone.now()
    appointments = itinerary(parent=parent).filter(ends_at__gt=now)
    text = ics.calendar(
        ics.entries_for(appointments),
        method=None,
        name=_("Parents' evenings"),
        stamp=now,
    )
    return add_teaching_events(text, user=parent, now=now)


def _mac(feed_id: int, key: str) -> str:
    return salted_hmac(SALT, f"{feed_id}:{key}", algorithm="sha256").hexdigest()


def _etag(content: str) -> str:
    return '"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'


# --- views -------------------------------------------------------------------------


@public
@require_GET
@never_cache
def feed(request, token: str):
    """The feed itself: no sign-in (calendar apps cannot), the token is the key."""
    found = feed_for_token(token)
    if found is None:
        raise Http404
    content = feed_calendar(parent=found.parent)
    CalendarFeed.objects.filter(pk=found.pk).update(last_read_at=timezone.now())
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="parents-evenings.ics"'
    response["ETag"] = _etag(content)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@parent_required
@never_cache
def settings_page(request):
    found = CalendarFeed.objects.filter(parent=request.user).first()
    url = feed_url(found) if found else ""
    return render(
        request,
        "evenings/calendar/feed.html",
        {
            "feed": found,
            "url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[-1] if url else "",
            "upcoming": itinerary(parent=request.user).filter(ends_at__gt=timezone.now()).count(),
        },
    )


@require_POST
@parent_required
def create(request):
    create_feed(parent=request.user)
    messages.success(request, _("Your calendar address is ready. Copy it into your calendar."))
    return redirect("calendar:feed")


@require_POST
@parent_required
def reset(request):
    reset_feed(parent=request.user)
    messages.success(
        request,
        _(
            "Your calendar has a new address. The old one no longer works: add the new one "
            "to your calendar."
        ),
    )
    return redirect("calendar:feed")


@require_POST
@parent_required
def stop(request):
    if stop_feed(parent=request.user):
        messages.success(request, _("Your calendar address no longer works."))
    return redirect("calendar:feed")
