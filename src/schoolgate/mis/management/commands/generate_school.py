from django.core.management.base import BaseCommand, CommandError

from schoolgate.mis.demo import DEFAULT_PUPILS, DEFAULT_SEED, generate_school


class Command(BaseCommand):
    help = (
        "Write a synthetic school as MIS exports, OUTDIR/school.ctf.xml (CTF 19: pupils "
        "and contacts) and OUTDIR/timetable.csv (staff and groups). The same seed gives "
        "the same files."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", metavar="OUTDIR")
        parser.add_argument(
            "--pupils", type=int, default=DEFAULT_PUPILS, help="number of pupils (years 7-11)"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args, outdir: str, pupils: int, seed: int, **options):
        try:
            generated = generate_school(outdir, pupils=pupils, seed=seed)
        except ValueError as error:
            raise CommandError(f"--pupils: {error}") from None
        except OSError as error:
            raise CommandError(f"{outdir}: cannot write the files ({error})") from None
        counts = generated.school.counts()
        self.stdout.write(
            f"Wrote {generated.ctf} and {generated.timetable}: {counts['pupils']:,} pupils, "
            f"{counts['contacts']:,} contacts, {counts['staff']:,} staff, "
            f"{counts['groups']:,} groups.\n"
            f"Load them with: schoolgate sync {generated.ctf} {generated.timetable}"
        )
