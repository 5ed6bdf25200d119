"""`schoolgate worker`: one task worker (django-tasks-db's db_worker) for every queue."""

import contextlib
import logging
import os
import socket
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from schoolgate.ops.checks import require_secret_key

logger = logging.getLogger("schoolgate.worker")

# Waits between tries while the database is away: 1, 2, 4 ... seconds, at most this.
MAX_WAIT_SECONDS = 30
# A worker loop that ran this long was healthy: the next outage starts at 1 s again.
HEALTHY_SECONDS = 60


class Command(BaseCommand):
    help = (
        "Run background tasks (email, syncs, heartbeats) until stopped. Run as many as "
        "you like, on as many machines: each task is taken by one worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks at an empty queue"
        )
        parser.add_argument("--queue-name", default="*", help="queues to take tasks from")

    def handle(self, *args, interval, queue_name, **options):
        require_secret_key()
        failures = 0
        while True:
            started = time.monotonic()
            try:
                call_command(
                    "db_worker",
                    queue_name=queue_name,
                    interval=interval,
                    # The autoreloader would put a second process between the signal and
                    # the work.
                    reload=False,
                    worker_id=f"{socket.gethostname()}-{os.getpid()}"[-64:],
                    verbosity=options["verbosity"],
                )
                return  # stopped by a signal
            except DatabaseError as error:
                # db_worker gives up on the first database error (PostgreSQL restarting,
                # a failover): wait and start again rather than exit, so that workers
                # outside `serve` come back by themselves too. A task cut off here keeps
                # its outbox lease, and the rows are retried when it expires.
                if time.monotonic() - started > HEALTHY_SECONDS:
                    failures = 0
                failures += 1
                wait = min(2 ** (failures - 1), MAX_WAIT_SECONDS)
                logger.warning(
                    "Database unavailable (%s: %s): the worker tries again in %d s",
                    type(error).__name__,
                    str(error).strip(),
                    wait,
                )
                with contextlib.suppress(DatabaseError):
                    connections.close_all()
                time.sleep(wait)
