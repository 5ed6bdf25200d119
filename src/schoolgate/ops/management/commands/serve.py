"""`schoolgate serve`: production on one machine: the web server, task workers and the
scheduler as one supervised group (docs/deploy.md)."""

import errno
import socket
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor

from schoolgate.ops.checks import require_secret_key
from schoolgate.ops.supervisor import Child, Supervisor
from schoolgate.ops.webserver import server_settings


class Command(BaseCommand):
    help = (
        "Serve Schoolgate in production: gunicorn on HOST:PORT, TASK_WORKERS task workers "
        "and the scheduler, restarted if they die, all stopped by Ctrl-C or SIGTERM. "
        "Applies database migrations first (unless --no-migrate)."
    )

    def add_arguments(self, parser):
        defaults = server_settings()
        parser.add_argument("--host", default=defaults["host"])
        parser.add_argument("--port", type=int, default=defaults["port"])
        parser.add_argument("--workers", type=int, default=defaults["workers"])
        parser.add_argument("--task-workers", type=int, default=defaults["task_workers"])
        parser.add_argument(
            "--no-migrate",
            action="store_false",
            dest="migrate",
            help="refuse to start, rather than migrate, when migrations are pending",
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=30.0,
            help="seconds to wait for the parts to stop before killing them",
        )

    def handle(self, *args, host, port, workers, task_workers, migrate, stop_timeout, **options):
        require_secret_key()
        if workers < 1 or task_workers < 0:
            raise CommandError("--workers must be at least 1 and --task-workers at least 0.")
        self._prepare_database(migrate=migrate)
        _check_port_free(host, port)
        connections.close_all()

        schoolgate = [sys.executable, "-m", "schoolgate"]
        children = [
            Child(
                "web",
                [
                    *schoolgate,
                    "web",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
            ),
            *(Child(f"worker-{n}", [*schoolgate, "worker"]) for n in range(1, task_workers + 1)),
            Child("scheduler", [*schoolgate, "scheduler"]),
        ]
        where = f"[{host}]" if ":" in host else host
        self.stdout.write(
            f"Serving Schoolgate at http://{where}:{port}/ with {workers} web workers, "
            f"{task_workers} task worker{'s' if task_workers != 1 else ''} and the scheduler. "
            "Ctrl-C stops all."
        )
        self.stdout.flush()
        code = Supervisor(children, stop_timeout=stop_timeout).run()
        if code:
            raise CommandError(
                "Schoolgate could not start: see the messages above.", returncode=code
            )

    def _prepare_database(self, *, migrate: bool) -> None:
        try:
            if migrate:
                call_command("migrate", interactive=False, verbosity=0)
                return
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            raise CommandError(f"The database cannot be used: {error}") from None
        if pending:
            raise CommandError(
                f"{len(pending)} database migrations are pending: run `schoolgate migrate`."
            )


def _check_port_free(host: str, port: int) -> None:
    """Fail now, clearly, rather than after gunicorn's retries."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(f"Port {port} on {host} is already in use.") from None
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}") from None
