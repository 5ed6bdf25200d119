"""`schoolgate worker`: one task worker (django-tasks-db's db_worker) for every queue."""

import os
import socket

from django.core.management import call_command
from django.core.management.base import BaseCommand

from schoolgate.ops.checks import require_secret_key


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
        call_command(
            "db_worker",
            queue_name=queue_name,
            interval=interval,
            # The autoreloader would put a second process between the signal and the work.
            reload=False,
            worker_id=f"{socket.gethostname()}-{os.getpid()}"[-64:],
            verbosity=options["verbosity"],
        )
