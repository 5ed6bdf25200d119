"""schoolgate accounts generate|resend: parent accounts from the command line."""

import json

from django.core.management.base import BaseCommand, CommandError

from schoolgate.accounts.access import MODES
from schoolgate.accounts.generation import NoParentGroup, generate_accounts
from schoolgate.accounts.invitations import resend_invitations

LABEL = "command line"


class Command(BaseCommand):
    help = "Generate parent accounts from the MIS mirror, or resend invitations."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        generate = actions.add_parser(
            "generate",
            help="create and invite an account for every qualifying contact who has none",
        )
        generate.add_argument("--mode", choices=MODES, required=True)
        generate.add_argument(
            "--dry-run", action="store_true", help="count what would happen; change nothing"
        )
        generate.add_argument(
            "--json", dest="as_json", action="store_true", help="print the counts as JSON"
        )
        resend = actions.add_parser(
            "resend", help="invite again every parent who has never signed in"
        )
        resend.add_argument(
            "--json", dest="as_json", action="store_true", help="print the count as JSON"
        )

    def handle(self, *args, action: str, as_json: bool = False, **options):
        if action == "generate":
            try:
                result = generate_accounts(
                    mode=options["mode"], actor_label=LABEL, dry_run=options["dry_run"]
                )
            except NoParentGroup as error:
                raise CommandError(str(error)) from None
            if as_json:
                self.stdout.write(_dumps(result.as_dict()))
            else:
                self.stdout.write(_summary(result))
        else:
            invited = resend_invitations(actor_label=LABEL)
            if as_json:
                self.stdout.write(_dumps({"invited": invited}))
            else:
                self.stdout.write(f"Invitations queued again for {invited:,} parent(s).")


def _dumps(data: dict) -> str:
    return json.dumps(data)


def _summary(result) -> str:
    would = "would be " if result.dry_run else ""
    skipped = ", ".join(f"{reason} {n:,}" for reason, n in result.skipped.items())
    return (
        f"{result.mode} contacts: {result.created:,} account(s) {would}created, "
        f"{result.existing:,} already exist(s), {result.invited:,} invitation(s) {would}queued, "
        f"{result.same_account:,} contact(s) sharing a household's account; "
        f"left out: {skipped}."
    )
