from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from schoolgate.mis.demo import (
    DEFAULT_PUPILS,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DemoError,
    set_up_demo,
)


class Command(BaseCommand):
    help = (
        "Set up the demo: when the MIS mirror is empty, generate a school into "
        "DATA_DIR/demo/ and load it through the real sync; then create (or keep) an "
        "administrator, a teacher and a parent sign-in and print them. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--pupils",
            type=int,
            default=DEFAULT_PUPILS,
            help="size of the school generated when the mirror is empty",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args, pupils: int, seed: int, **options):
        directory = Path(settings.DATA_DIR) / "demo"
        try:
            result = set_up_demo(directory=directory, pupils=pupils, seed=seed)
        except (DemoError, ValueError) as error:
            raise CommandError(str(error)) from None
        if result.run is not None:
            self.stdout.write(
                f"Generated a demo school in {result.directory} and loaded it "
                f"(sync {result.run.pk}, {result.run.duration_ms / 1000:.1f} s)."
            )
        counts = result.counts
        width = max(len(s.email) for s in result.sign_ins)
        lines = [
            "",
            f"Schoolgate demo: {counts['pupils']:,} pupils, {counts['contacts']:,} contacts, "
            f"{counts['staff']:,} staff.",
            f"Open {settings.SITE_URL} and sign in as:",
            "",
        ]
        for sign_in in result.sign_ins:
            lines.append(
                f"  {sign_in.role:<14} {sign_in.email:<{width}}  {sign_in.name} ({sign_in.about})"
            )
        lines += [
            "",
            f"Password for all three: {DEMO_PASSWORD}",
            "",
            f"No email leaves this computer: each one is printed here in full, and the "
            f"administrator reads them all, links included, at {settings.SITE_URL}/staff/outbox/",
            "",
            "This is a local demo of made-up people with a published password:",
            "never use these sign-ins on a server that holds a real school's data.",
        ]
        self.stdout.write("\n".join(lines))
