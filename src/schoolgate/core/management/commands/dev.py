import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serve Schoolgate for development at 127.0.0.1:8000, with a task worker and the "
        "scheduler beside it; Ctrl-C stops all three."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        helpers = [
            subprocess.Popen([sys.executable, "-m", "schoolgate", *command])
            for command in (("db_worker", "--interval", "0.5"), ("scheduler",))
        ]
        self.stdout.write("Task worker and scheduler started.")
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for process in helpers:
                process.terminate()
            for process in helpers:
                process.wait(timeout=10)
