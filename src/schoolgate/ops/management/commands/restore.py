"""`schoolgate restore PATH`: replace the database's content with a backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from schoolgate.ops.backup import BackupError, restore_database


class Command(BaseCommand):
    help = (
        "Replace everything in the database with the backup at PATH (made by "
        "`schoolgate backup`). Stop Schoolgate first; run `schoolgate migrate` after."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation",
        )

    def handle(self, *args, path, interactive=True, **options):
        name = connection.settings_dict["NAME"]
        if interactive:
            answer = input(
                f"This replaces everything in the database {name} with {path}.\n"
                "Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        try:
            restore_database(path=path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored {name} from {path}.")
