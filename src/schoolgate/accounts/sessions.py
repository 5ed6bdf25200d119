"""Each person's signed-in sessions, noted at sign-in, so that all can be ended at once
(sign out everywhere, deactivation) with any session engine."""

import time
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from schoolgate.accounts.models import SignedInSession

# When the session was last used, in seconds (accounts.middleware.IdleTimeoutMiddleware).
LAST_SEEN = "schoolgate_last_seen"


def note_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: remember the (already cycled) session key."""
    session = getattr(request, "session", None)
    if session is None:
        return
    # A fixed end, SESSION_HOURS from sign-in: the idle timeout saves the session now
    # and then, which would otherwise push a relative expiry on each time.
    session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session[LAST_SEEN] = int(time.time())
    if session.session_key is None:
        session.save()
    SignedInSession.objects.update_or_create(
        session_key=session.session_key, defaults={"user": user}
    )


def note_sign_out(sender, request, user, **kwargs) -> None:
    """user_logged_out receiver: the session is flushed, so forget its key."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        SignedInSession.objects.filter(session_key=session.session_key).delete()


def end_all_sessions(user) -> int:
    """End every session this person signed in with; returns how many were ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(user.signed_in_sessions.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    user.signed_in_sessions.all().delete()
    return len(keys)
