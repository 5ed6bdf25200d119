"""`schoolgate export-user EMAIL`: everything held about one person, as JSON."""

import json

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from schoolgate.core.emails import normalise_email
from schoolgate.ops.export import export_user


class Command(BaseCommand):
    help = (
        "Print everything Schoolgate holds about one person (account, roles, MIS contact "
        "records and their pupils, audit entries, emails, sign-in records) as JSON, for a "
        "subject access request. The export itself is written to the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, email, output=None, **options):
        from schoolgate.accounts.audit import record

        data = export_user(email=email)
        text = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        else:
            self.stdout.write(text)
        record(
            action="ops.export_user",
            subject=normalise_email(email),
            actor_label="command line",
            found=data["found"],
        )
        if not data["found"]:
            self.stderr.write(f"Nothing is held about {data['email']}.")
