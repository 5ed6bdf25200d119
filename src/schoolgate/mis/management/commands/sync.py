import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from schoolgate.mis.importers import FORMATS
from schoolgate.mis.models import SyncRun
from schoolgate.mis.snapshot import KINDS
from schoolgate.mis.sync import sync_mis


class Command(BaseCommand):
    help = (
        "Sync MIS data from files: a CTF, a OneRoster bundle (folder or .zip), the "
        "pupils-contacts CSV template and/or a timetable CSV, all in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="PATH")
        api = parser.add_argument_group(
            "pull from an MIS service instead of files (docs/import-oneroster-api.md, "
            "docs/import-wonde.md)"
        )
        api.add_argument("--oneroster-api", metavar="URL", help="OneRoster REST service address")
        api.add_argument("--client-id", metavar="ID")
        api.add_argument("--client-secret", metavar="SECRET")
        api.add_argument("--token-url", metavar="URL", help="OAuth 2 token address (1.2)")
        api.add_argument("--oneroster-version", choices=("1.1", "1.2"), default="1.2")
        api.add_argument("--wonde", metavar="SCHOOL_ID", help="Wonde school id")
        api.add_argument("--token", metavar="TOKEN", help="Wonde access token")
        api.add_argument("--api-url", metavar="URL", help="Wonde API address")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            dest="source_format",
            help="read every file as this format instead of working it out",
        )
        parser.add_argument(
            "--confirm-large-change",
            action="store_true",
            help="apply a full file even if it takes many pupils off roll or deactivates "
            "many parent accounts (without it such a sync is held, and the command exits 2)",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print the report as one JSON object",
        )

    def handle(self, *args, paths, source_format=None, as_json=False, **options):
        source = _pull_source(paths, options)
        if source is not None:
            from schoolgate.mis.connectors.pull import run_pull

            run = run_pull(source, trigger=SyncRun.Trigger.COMMAND)
        else:
            run = sync_mis(
                paths,
                trigger=SyncRun.Trigger.COMMAND,
                source_format=source_format,
                confirm_large_change=options.get("confirm_large_change", False),
            )
        if as_json:
            self.stdout.write(_dumps(report(run)))
        else:
            self._summary(run)
        if run.status == SyncRun.Status.HELD:
            sys.exit(2)
        if run.status != SyncRun.Status.SUCCEEDED:
            sys.exit(1)

    def _summary(self, run: SyncRun) -> None:
        if run.unchanged:
            self.stdout.write(
                _(
                    "Sync %(id)s: unchanged. The files are byte for byte those of the last "
                    "sync that succeeded, so they were not read again."
                )
                % {"id": run.pk}
            )
        elif run.status == SyncRun.Status.SUCCEEDED:
            self.stdout.write(
                _("Sync %(id)s succeeded in %(seconds).1f s (%(format)s).")
                % {
                    "id": run.pk,
                    "seconds": (run.duration_ms or 0) / 1000,
                    "format": run.source_format or "?",
                }
            )
            width = max(len(kind) for kind in KINDS)
            self.stdout.write(f"{'':{width}}  {_('added'):>8} {_('changed'):>8} {_('removed'):>8}")
            for kind, c in report(run)["counts"].items():
                self.stdout.write(
                    f"{kind:{width}}  {c['added']:>8} {c['changed']:>8} {c['removed']:>8}"
                )
        for warning in run.warnings:
            self.stdout.write(_("Warning: %(warning)s") % {"warning": warning})
        if run.status == SyncRun.Status.HELD:
            counts = run.hold["counts"]
            self.stderr.write(
                _(
                    "Sync %(id)s is held: nothing was changed. It would take %(pupils)s of "
                    "%(roll)s pupils off roll, remove %(contacts)s contacts and deactivate "
                    "%(accounts)s parent accounts. Check the files; if this is right, run the "
                    "command again with --confirm-large-change."
                )
                % {
                    "id": run.pk,
                    "pupils": counts["pupils_leaving"],
                    "roll": counts["on_roll_before"],
                    "contacts": counts["contacts_removed"],
                    "accounts": counts["accounts_deactivated"],
                }
            )
        elif run.status != SyncRun.Status.SUCCEEDED:
            self.stderr.write(_("Sync %(id)s failed: nothing was changed.") % {"id": run.pk})
            for problem in run.errors:
                self.stderr.write(f"  {problem.get('text') or problem.get('message')}")


def _pull_source(paths, options):
    """The connector source the options name, or None for a file sync."""
    from schoolgate.mis.connectors.oneroster_api import OneRosterSource
    from schoolgate.mis.connectors.wonde import DEFAULT_API_URL, WondeSource

    oneroster, wonde = options.get("oneroster_api"), options.get("wonde")
    if not oneroster and not wonde:
        if not paths:
            raise CommandError(
                _("give the files to sync, --oneroster-api URL or --wonde SCHOOL_ID")
            )
        return None
    if paths or (oneroster and wonde):
        raise CommandError(_("sync from files, a OneRoster API or Wonde: one at a time"))
    if oneroster:
        if not options.get("client_id") or not options.get("client_secret"):
            raise CommandError(_("--oneroster-api needs --client-id and --client-secret"))
        return OneRosterSource(
            url=oneroster,
            client_id=options["client_id"],
            client_secret=options["client_secret"],
            version=options.get("oneroster_version") or "1.2",
            token_url=options.get("token_url") or "",
        )
    if not options.get("token"):
        raise CommandError(_("--wonde needs --token"))
    return WondeSource(
        school_id=wonde, token=options["token"], api_url=options.get("api_url") or DEFAULT_API_URL
    )


def report(run: SyncRun) -> dict:
    """The run as the stable JSON report of `schoolgate sync --json` (docs/sync.md)."""
    zero = {"added": 0, "changed": 0, "removed": 0}
    return {
        "status": run.status,
        "counts": {kind: {**zero, **run.counts.get(kind, {})} for kind in KINDS},
        "warnings": list(run.warnings),
        "errors": list(run.errors),
        "run_id": run.pk,
        "duration_ms": run.duration_ms,
        "unchanged": run.unchanged,
        "held": run.hold.get("counts") if run.status == SyncRun.Status.HELD else None,
    }


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
