"""Settings for the processes that the fault tests and bench/scaleout.py start: the
production settings with the waits shortened, so that a check takes seconds.

Use with PYTHONPATH=tests/ops and DJANGO_SETTINGS_MODULE=fast_settings."""

import os

from schoolgate.settings import *  # noqa: F403
from schoolgate.settings import SCHOOLGATE

SCHOOLGATE = {
    **SCHOOLGATE,
    # A killed worker's rows come back after 10 s, not 5 minutes.
    "OUTBOX_LEASE_SECONDS": int(os.environ.get("OUTBOX_LEASE_SECONDS", "10")),
    # Retries after 5, 10, 20 ... s instead of 1, 2, 4 ... minutes.
    "OUTBOX_RETRY_SECONDS": int(os.environ.get("OUTBOX_RETRY_SECONDS", "5")),
    # Day-before reminders from midnight, looked for every minute (not 17:00, 15 min).
    "REMINDER_HOUR": 0,
    "REMINDER_CHECK_MINUTES": 1,
}
