import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.scheduler.registry import jobs, run_due_jobs

INTERVAL_SECONDS = 30

logger = logging.getLogger("schoolgate.scheduler")


class Command(BaseCommand):
    help = (
        "Enqueue scheduled jobs (drop-folder sync, reminders, ...) when they are due, "
        "every 30 seconds. Safe to run on several machines: each job runs once per slot."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args, once=False, **options):
        names = ", ".join(
            _("%(job)s (every %(minutes)d min)") % {"job": j.name, "minutes": j.every_minutes}
            for j in jobs().values()
        )
        self.stdout.write(_("Scheduled jobs: %(names)s") % {"names": names or _("none")})
        try:
            while True:
                try:
                    ran = run_due_jobs(timezone.now())
                except DatabaseError as error:
                    if once:
                        raise
                    # PostgreSQL restarting or failing over: skip this tick and try at
                    # the next (close_old_connections below drops the broken connection)
                    # rather than exit and leave nobody to enqueue the jobs.
                    logger.warning("Database unavailable, jobs not checked: %s", error)
                    ran = []
                for name in ran:
                    self.stdout.write(
                        _("%(when)s enqueued %(job)s")
                        % {"when": f"{timezone.now():%Y-%m-%d %H:%M:%S}", "job": name}
                    )
                if once:
                    return
                close_old_connections()
                time.sleep(INTERVAL_SECONDS - time.time() % INTERVAL_SECONDS)
        except KeyboardInterrupt:
            return
