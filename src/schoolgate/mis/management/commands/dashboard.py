import json

from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from schoolgate.mis.dashboard import LISTS, dashboard_figures


class Command(BaseCommand):
    help = "Print the Data Dashboard figures (keys documented in docs/sync.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args, as_json: bool = False, **options):
        figures = dashboard_figures()
        if as_json:
            self.stdout.write(_dumps(figures))
            return
        rows = [
            (_("Pupils on roll"), figures["pupils_on_roll"]),
            (_("Contacts"), figures["contacts"]),
            (_("Pupil–contact links"), figures["links"]),
            (_("Staff"), figures["staff"]),
            (_("Groups"), figures["groups"]),
        ] + [(str(item.title), figures[item.figure]) for item in LISTS.values()]
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            self.stdout.write(f"{label.ljust(width)}  {value:>7}")
        last = figures["last_sync"]
        if last:
            self.stdout.write(
                _("Last sync: %(when)s, %(status)s (run %(id)s)")
                % {
                    "when": last["started_at"].isoformat(timespec="seconds"),
                    "status": last["status"],
                    "id": last["run_id"],
                }
            )
        else:
            self.stdout.write(_("No sync yet."))


def _dumps(figures: dict) -> str:
    return json.dumps(figures, cls=DjangoJSONEncoder)
