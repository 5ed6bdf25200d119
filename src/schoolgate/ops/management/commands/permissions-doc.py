"""`schoolgate permissions-doc`: write docs/permissions.md from the views' declarations."""

from django.core.management.base import BaseCommand, CommandError

from schoolgate.ops.permissions_doc import DOC_PATH, render


class Command(BaseCommand):
    help = "Write docs/permissions.md from the views' declarations (--check: fail if stale)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only check it is current")

    def handle(self, *args, check=False, **options):
        text = render()
        if check:
            if not DOC_PATH.exists() or DOC_PATH.read_text() != text:
                raise CommandError(f"{DOC_PATH} is out of date: run `schoolgate permissions-doc`")
            return
        DOC_PATH.write_text(text)
        self.stdout.write(f"Wrote {DOC_PATH}")
