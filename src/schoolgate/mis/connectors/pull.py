"""Run a pull: from the command line's arguments or the saved data source, through the
sync engine's `sync_pull`, so the report and the all-or-nothing rule are the files'."""

import logging
import re
from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.core.secrets import decrypt, encrypt
from schoolgate.mis.connectors.http import FetchError, Limits
from schoolgate.mis.connectors.oneroster_api import OneRosterPull, OneRosterSource
from schoolgate.mis.connectors.wonde import DEFAULT_API_URL, WondePull, WondeSource
from schoolgate.mis.models import DataSource, SyncRun
from schoolgate.mis.snapshot import InvalidSource, Problem
from schoolgate.mis.sync import sync_pull

logger = logging.getLogger(__name__)
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def make_pull(source, *, limits: Limits | None = None):
    if isinstance(source, OneRosterSource):
        return OneRosterPull(source, limits=limits)
    return WondePull(source, limits=limits)


def read_or_explain(pull):
    """The pull's Snapshot; a failed fetch becomes the report's one located problem."""
    try:
        return pull.read()
    except FetchError as error:
        raise InvalidSource(
            [
                Problem(
                    file=error.url or source_label(pull.source),
                    message=error.message
                    + " "
                    + _("(stopped after %(pages)s pages; nothing was changed)")
                    % {"pages": pull.pages_read},
                )
            ]
        ) from None


def source_label(source) -> str:
    if isinstance(source, OneRosterSource):
        return f"OneRoster {source.version} API {source.service_url}"
    return f"Wonde school {source.school_id}"


def run_pull(source, *, trigger: str, started_by=None, limits: Limits | None = None) -> SyncRun:
    """Pull everything, then apply it in one transaction (or nothing, and say why)."""
    try:
        pull = make_pull(source, limits=limits)
    except FetchError as error:
        run = SyncRun.objects.create(
            trigger=trigger, started_by=started_by, files=[source_label(source)]
        )
        run.status, run.finished_at, run.duration_ms = SyncRun.Status.FAILED, timezone.now(), 0
        run.errors = [Problem(file=source_label(source), message=error.message).as_dict()]
        run.save()
        return run
    fmt = "wonde" if isinstance(source, WondeSource) else f"oneroster-api-{source.version}"
    return sync_pull(
        lambda: read_or_explain(pull),
        trigger=trigger,
        started_by=started_by,
        source_format=fmt,
        source=source_label(source),
    )


def configured_source(data_source: DataSource):
    """The saved settings as a connector source; None when the school syncs from files."""
    if data_source.kind == DataSource.Kind.ONEROSTER:
        return OneRosterSource(
            url=data_source.oneroster_url,
            client_id=data_source.oneroster_client_id,
            client_secret=decrypt(data_source.oneroster_client_secret),
            version=data_source.oneroster_version,
            token_url=data_source.oneroster_token_url,
        )
    if data_source.kind == DataSource.Kind.WONDE:
        return WondeSource(
            school_id=data_source.wonde_school_id,
            token=decrypt(data_source.wonde_token),
            api_url=data_source.wonde_api_url or DEFAULT_API_URL,
        )
    return None


DATA_SOURCE_FIELDS = (
    "kind",
    "oneroster_url",
    "oneroster_version",
    "oneroster_token_url",
    "oneroster_client_id",
    "wonde_school_id",
    "wonde_api_url",
    "sync_times",
)
SECRET_FIELDS = ("oneroster_client_secret", "wonde_token")


def data_source_from(values: dict, *, saved: DataSource) -> DataSource:
    """The settings as entered, not saved; a blank secret keeps the saved one, a typed
    one is encrypted at once (it is never held in clear on the model)."""
    candidate = DataSource(pk=saved.pk, last_run_id=saved.last_run_id)
    defaults = DataSource()
    for name in DATA_SOURCE_FIELDS:
        setattr(candidate, name, values.get(name) or getattr(defaults, name))
    for name in SECRET_FIELDS:
        typed = values.get(name)
        setattr(candidate, name, encrypt(typed) if typed else getattr(saved, name))
    return candidate


def save_data_source(values: dict) -> DataSource:
    """Save the Data source page's settings (the one row, locked while it changes)."""
    with transaction.atomic():
        DataSource.load()
        saved = DataSource.objects.select_for_update().get(pk=1)
        candidate = data_source_from(values, saved=saved)
        candidate.save()
    return candidate


def pull_configured(*, trigger: str = SyncRun.Trigger.PULL, started_by=None) -> SyncRun | None:
    data_source = DataSource.load()
    source = configured_source(data_source)
    if source is None:
        return None
    run = run_pull(source, trigger=trigger, started_by=started_by)
    DataSource.objects.filter(pk=data_source.pk).update(last_run=run)
    return run


def check_connection(source, *, limits: Limits | None = None) -> dict:
    """Read everything (applying nothing) and say what was found; raises InvalidSource."""
    pull = make_pull(source, limits=limits)
    snapshot = read_or_explain(pull)
    return {
        "pupils": len(snapshot.pupils),
        "contacts_with_pr": len(
            {link.contact_id for link in snapshot.links.values() if link.parental_responsibility}
        ),
        "contacts": len(snapshot.contacts),
        "staff": len(snapshot.staff),
        "classes": sum(1 for g in snapshot.groups.values() if g.kind == "class"),
        "registration_groups": sum(1 for g in snapshot.groups.values() if g.kind == "registration"),
        "warnings": len(snapshot.warnings),
        "pages": pull.pages_read,
    }


def parse_times(text: str) -> list[time]:
    """'07:00, 13:00' -> times; ValueError naming the first entry that is not HH:MM."""
    times = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        match = _TIME.fullmatch(part)
        if not match:
            raise ValueError(part)
        times.append(time(int(match.group(1)), int(match.group(2))))
    return sorted(set(times))


# A time is caught by any scheduler check within this long after it.
CATCH_WINDOW = timedelta(minutes=15)


def due_pull_times(now: datetime | None = None) -> list[datetime]:
    """The configured times (school time zone) that fell in the last CATCH_WINDOW."""
    data_source = DataSource.load()
    if data_source.kind == DataSource.Kind.FILES:
        return []
    try:
        times = parse_times(data_source.sync_times)
    except ValueError:
        return []
    now = timezone.localtime(now or timezone.now())
    due = []
    for day in (now.date() - timedelta(days=1), now.date()):
        for at in times:
            moment = timezone.make_aware(datetime.combine(day, at), now.tzinfo)
            if now - CATCH_WINDOW < moment <= now:
                due.append(moment)
    return due


def claim_due_pulls(enqueue, now: datetime | None = None) -> int:
    """Enqueue one pull for each configured time just passed, once across every scheduler:
    each (time, day) is claimed by a unique ScheduledRun row, as the scheduler's slots are."""
    from schoolgate.scheduler.models import ScheduledRun

    enqueued = 0
    for moment in due_pull_times(now):
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(job="mis.pull_data_source.at", slot=moment)
                enqueue()
        except IntegrityError:
            continue
        enqueued += 1
    return enqueued
