"""`schoolgate retention [--dry-run] [--json]`: apply the retention policy now."""

import json

from django.core.management.base import BaseCommand

from schoolgate.ops.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Apply the retention policy (RETAIN_* settings): blank parents' messages and "
        "delete teachers' private notes after evenings long over, deactivate and later "
        "delete accounts no longer linked to any pupil, delete old sync reports. The "
        "scheduler does this daily. --dry-run lists what would go and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, dry_run, as_json, **options):
        report = apply_retention(dry_run=dry_run)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        verb = "Would" if dry_run else "Did"
        self.stdout.write(f"{verb} apply the retention policy:")
        for name, count in report.messages.items():
            self.stdout.write(f"  blank {count} message(s) to teachers from '{name}'")
        for name, count in report.notes.items():
            self.stdout.write(f"  delete {count} teachers' private note(s) from '{name}'")
        for email in report.deactivated:
            self.stdout.write(f"  deactivate {email} (no longer linked to any pupil)")
        for email in report.accounts_deleted:
            self.stdout.write(f"  delete the account {email} (orphaned past the retention time)")
        for email in report.accounts_kept:
            self.stdout.write(f"  keep {email} for now: an appointment at an evening to come")
        if report.sync_reports:
            self.stdout.write(f"  delete {report.sync_reports} old sync report(s)")
        if not (
            report.messages
            or report.notes
            or report.deactivated
            or report.accounts_deleted
            or report.accounts_kept
            or report.sync_reports
        ):
            self.stdout.write("  nothing is due.")
