import os
import sys

from django.core.management.base import BaseCommand, CommandError

from schoolgate.ops.supervisor import Child, Supervisor


class Command(BaseCommand):
    help = (
        "Serve Schoolgate for development at 127.0.0.1:8000 (Django's runserver), with a "
        "task worker and the scheduler beside it; Ctrl-C or SIGTERM stops all three."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        addrport = serve_address(addrport)
        if not os.environ.get("SITE_URL"):
            # Links in emails (written by the worker) point where the site is served.
            os.environ["SITE_URL"] = f"http://{addrport}"
        schoolgate = [sys.executable, "-m", "schoolgate"]
        children = [
            Child("web", [*schoolgate, "runserver", addrport, "--noreload"]),
            Child("worker", [*schoolgate, "db_worker", "--interval", "0.5"]),
            Child("scheduler", [*schoolgate, "scheduler"]),
        ]
        self.stdout.write(f"Serving at http://{addrport}/ with a task worker and the scheduler.")
        self.stdout.flush()
        code = Supervisor(children, stop_timeout=10).run()
        if code:
            raise CommandError("Schoolgate could not start: see the messages above.")


def serve_address(addrport: str) -> str:
    """'8101' -> '127.0.0.1:8101'; '0.0.0.0:8101' and '127.0.0.1:8000' as given."""
    addrport = addrport.strip()
    if addrport.isdigit():
        return f"127.0.0.1:{addrport}"
    return addrport
