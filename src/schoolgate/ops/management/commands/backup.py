"""`schoolgate backup PATH`: a consistent copy of the whole database, while it runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schoolgate.ops.backup import BackupError, backup_database


class Command(BaseCommand):
    help = (
        "Back up the database to PATH: SQLite's online backup, or pg_dump's custom format "
        "on PostgreSQL (needs the PostgreSQL client tools). Safe while Schoolgate runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path, **options):
        try:
            written = backup_database(path=path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        size = written.stat().st_size
        self.stdout.write(f"Backed up to {written} ({size / 1_000_000:.1f} MB).")
