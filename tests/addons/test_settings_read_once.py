"""The add-on settings row is read once per web request, and never served stale."""

from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from schoolgate.addons.models import AddonSettings
from schoolgate.addons.selectors import get_addon_settings


def reads_of_settings(queries) -> int:
    return sum('"addons_addonsettings"' in q["sql"] for q in queries)


@contextmanager
def a_request():
    """The start and end of a web request as Django signals them, without closing the
    test's database connection (as the test client does too)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.send(sender=None)
    try:
        yield
    finally:
        request_finished.send(sender=None)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_within_a_request_the_row_is_read_once_and_a_save_is_seen_at_once():
    get_addon_settings()  # the row exists
    with a_request():
        with CaptureQueriesContext(connection) as queries:
            names = {get_addon_settings().school_name for _ in range(5)}
        assert reads_of_settings(queries) == 1 and len(names) == 1

        # Another part of the same request saves a change: the next read sees it.
        row = AddonSettings.objects.get(pk=1)
        row.school_name = "Hill School"
        row.save()
        assert get_addon_settings().school_name == "Hill School"


def test_outside_a_request_every_read_goes_to_the_database():
    """A task or command never keeps a copy: another process may change the row."""
    get_addon_settings()
    AddonSettings.objects.filter(pk=1).update(school_name="Changed elsewhere")
    with CaptureQueriesContext(connection) as queries:
        assert get_addon_settings().school_name == "Changed elsewhere"
        get_addon_settings()
    assert reads_of_settings(queries) == 2


def test_each_request_starts_afresh():
    with a_request():
        get_addon_settings()
    AddonSettings.objects.filter(pk=1).update(school_name="Changed between requests")
    with a_request():
        assert get_addon_settings().school_name == "Changed between requests"
