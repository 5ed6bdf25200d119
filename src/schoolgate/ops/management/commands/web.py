"""`schoolgate web`: the web server alone (gunicorn), e.g. one per app server."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from schoolgate.ops.checks import require_secret_key
from schoolgate.ops.webserver import run_web, server_settings


class Command(BaseCommand):
    help = (
        "Serve Schoolgate with gunicorn on HOST:PORT (default 127.0.0.1:8000) with "
        "WEB_CONCURRENCY workers. No task worker or scheduler: see `schoolgate serve`."
    )

    def add_arguments(self, parser):
        defaults = server_settings()
        parser.add_argument("--host", default=defaults["host"])
        parser.add_argument("--port", type=int, default=defaults["port"])
        parser.add_argument("--workers", type=int, default=defaults["workers"])
        parser.add_argument("--threads", type=int, default=defaults["threads"])
        parser.add_argument("--timeout", type=int, default=defaults["timeout"])

    def handle(self, *args, host, port, workers, threads, timeout, **options):
        require_secret_key()
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        # gunicorn forks its workers from this process: no connection may be shared.
        connections.close_all()
        run_web(host=host, port=port, workers=workers, threads=threads, timeout=timeout)
