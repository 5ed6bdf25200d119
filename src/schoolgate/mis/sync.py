"""The sync engine: compare a snapshot with the mirror and apply the difference.

Everything is applied in one transaction, so a file that is bad anywhere changes
nothing, and loading the same data twice changes nothing."""

import hashlib
import logging
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from schoolgate.core import request_memo
from schoolgate.core.emails import email_key
from schoolgate.mis.models import (
    Attendance,
    Contact,
    GroupMembership,
    GroupTeacher,
    Pupil,
    PupilContact,
    Staff,
    SyncRun,
    TeachingGroup,
)
from schoolgate.mis.snapshot import KINDS, InvalidSource, Problem, Snapshot

# Sent inside the sync's transaction once the mirror holds the new data, so that
# work which follows from it (e.g. automatic account generation) commits or rolls
# back with the sync. Receivers get `run` (the SyncRun) and `counts`.
mis_synced = Signal()
# Sent inside the transaction just before the mirror changes (receivers get `run`),
# e.g. to note who may see which pupil so that access changes can be audited.
mis_syncing = Signal()
# Sent inside a full sync's transaction once the mirror holds the new data, before
# `mis_synced`, to weigh the change (receivers get `snapshot`). Receivers only read,
# and return counts to add, e.g. {"accounts_deactivated": 12}; the transaction may be
# rolled back afterwards (the sync held), so they must change nothing.
mis_sync_counting = Signal()

logger = logging.getLogger(__name__)

BATCH = 2000
# Any fixed number: PostgreSQL advisory lock key that serialises syncs.
SYNC_LOCK_KEY = 0x5C4001
ANALYZE_AFTER_ROWS = 1000
MIRROR_MODELS = (
    Pupil,
    Contact,
    PupilContact,
    Staff,
    TeachingGroup,
    GroupMembership,
    GroupTeacher,
    Attendance,
)

PUPIL_FIELDS = (
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
    "year_group",
    "on_roll",
)
CONTACT_FIELDS = ("title", "forename", "surname", "email", "email_key", "phones")
LINK_FIELDS = ("relationship", "parental_responsibility", "priority", "court_order", "no_contact")
STAFF_FIELDS = ("title", "forename", "surname", "email", "email_key", "role", "current")
GROUP_FIELDS = ("kind", "name", "subject", "year_group", "current")
ATTENDANCE_FIELDS = (
    "school_name",
    "sessions_possible",
    "sessions_attended",
    "sessions_authorised",
    "sessions_unauthorised",
)


@dataclass
class Counts:
    added: int = 0
    changed: int = 0
    removed: int = 0

    def as_dict(self) -> dict:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}


@dataclass
class SyncResult:
    counts: dict[str, Counts] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def counts_dict(self) -> dict:
        return {kind: c.as_dict() for kind, c in self.counts.items()}


def sync_mis(
    paths: Iterable[str | Path],
    *,
    trigger: str,
    started_by=None,
    source_format: str | None = None,
    display_names: dict[str, str] | None = None,
    confirm_large_change: bool = False,
) -> SyncRun:
    """Read the files, apply them to the mirror in one transaction, and keep a report.

    Returns the SyncRun; its status says whether the mirror changed. Bad files leave
    the mirror exactly as it was and the report's errors say what and where. A full
    file that would make a large change is held (status `held`, nothing changed)
    unless `confirm_large_change`; see `confirm_held_sync`. Files byte for byte those
    of the last succeeded run are not read again (the run is marked `unchanged`)."""
    from schoolgate.mis.importers import read_sources

    paths = [Path(p) for p in paths]
    names = [(display_names or {}).get(str(p), p.name) for p in paths]
    run = SyncRun.objects.create(
        trigger=trigger,
        started_by=started_by,
        files=names,
        source_format=source_format or "",
    )
    started = time.perf_counter()
    run.file_hashes = file_hashes(paths, source_format=source_format)
    last = _last_applied(run)
    if last is not None and last[0] == run.file_hashes:
        return _skip_unchanged(run, started, kinds=last[1])
    try:
        snapshot = read_sources(paths, source_format=source_format, display_names=display_names)
    except InvalidSource as error:
        return _fail(run, started, error.problems)
    except Exception as error:
        # An importer bug must not leave a run "running" for ever; the log has the trace.
        logger.exception("Sync %s: reading the files failed", run.pk)
        return _fail(run, started, [_unexpected(run, error)])
    run = _apply(run, snapshot, started, check_hold=not confirm_large_change)
    if run.status == SyncRun.Status.HELD:
        _keep_held_files(run, paths, names, source_format=source_format)
    elif run.status == SyncRun.Status.SUCCEEDED:
        _drop_outdated_holds(run)
    return run


def sync_snapshot(
    snapshot: Snapshot, *, trigger: str, started_by=None, confirm_large_change: bool = True
) -> SyncRun:
    """Apply an already-read snapshot (e.g. from an MIS connector) and keep a report.

    A connector's snapshot is not kept for a later confirmation, so it is applied
    unless the caller asks for the large-change check; held then, it cannot be
    confirmed on the page (the connector runs again with the confirmation)."""
    run = SyncRun.objects.create(trigger=trigger, started_by=started_by, files=snapshot.files)
    return _apply(run, snapshot, time.perf_counter(), check_hold=not confirm_large_change)


def sync_pull(
    read,
    *,
    trigger: str,
    started_by=None,
    source_format: str = "",
    source: str = "",
    confirm_large_change: bool = False,
) -> SyncRun:
    """An MIS connector's pull: `read()` fetches every page into a Snapshot, then it is
    applied like files. A read that fails (raises InvalidSource) applies nothing and its
    problems are the report's errors (docs/import-oneroster-api.md)."""
    run = SyncRun.objects.create(
        trigger=trigger,
        started_by=started_by,
        files=[source] if source else [],
        source_format=source_format,
    )
    started = time.perf_counter()
    try:
        snapshot = read()
    except InvalidSource as error:
        return _fail(run, started, error.problems)
    except Exception as error:
        logger.exception("Sync %s: the pull failed", run.pk)
        return _fail(run, started, [_unexpected(run, error)])
    # A pull that would take much of the roll off is held like a file (nothing changes);
    # it has no files to confirm later: pull again with the confirmation.
    return _apply(run, snapshot, started, check_hold=not confirm_large_change)


class HoldRefused(Exception):
    """A held sync cannot be confirmed (already done, out of date, or its counts moved)."""


def confirm_held_sync(run: SyncRun, *, user, expected_counts: dict) -> SyncRun:
    """Apply a held sync, re-reading its kept files and re-checking its counts.

    Refused (HoldRefused, nothing changed) when the run is no longer held, when any
    sync succeeded after it (the mirror it was counted against has changed), or when
    the counts worked out now differ from `expected_counts` (those the person saw);
    in the last case the run stays held with the new counts, to be looked at again."""
    from schoolgate.mis.importers import read_sources

    if run.status != SyncRun.Status.HELD:
        raise HoldRefused(_("This sync is not waiting to be confirmed."))
    if is_outdated(run):
        raise HoldRefused(
            _(
                "Another sync has changed the data since this one was held, so its counts "
                "are out of date. Sync the files again."
            )
        )
    files = run.hold.get("files", [])
    paths = [Path(f["path"]) for f in files]
    started = time.perf_counter()
    try:
        snapshot = read_sources(
            paths,
            source_format=run.hold.get("source_format") or None,
            display_names={f["path"]: f["name"] for f in files},
        )
    except InvalidSource as error:
        raise HoldRefused(
            _("The held files can no longer be read (%(error)s). Sync the files again.")
            % {"error": error.problems[0]}
        ) from None
    # Claim the run: of two people confirming at once, one applies it, one is refused.
    claimed = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.HELD).update(
        status=SyncRun.Status.RUNNING
    )
    if not claimed:
        raise HoldRefused(_("This sync is not waiting to be confirmed."))
    run.hold = {**run.hold, "confirmed_by": {"id": user.pk, "name": str(user)}}
    run.status = SyncRun.Status.RUNNING
    run = _apply(run, snapshot, started, check_hold=False, expected_counts=expected_counts)
    if run.status == SyncRun.Status.HELD:
        raise HoldRefused(
            _(
                "The counts have changed since the page was shown (the data changed in the "
                "meantime). Check the new counts below before you confirm."
            )
        )
    if run.status == SyncRun.Status.SUCCEEDED:
        _drop_outdated_holds(run)
    return run


def is_outdated(run: SyncRun) -> bool:
    """A hold is out of date once any later sync has succeeded: the mirror it was
    weighed against has changed."""
    return SyncRun.objects.filter(pk__gt=run.pk, status=SyncRun.Status.SUCCEEDED).exists()


def hold_limits() -> tuple[int, int]:
    """(percent of the roll, number of parent accounts) above which a full sync is held."""
    limits = settings.SCHOOLGATE
    return (
        limits.get("SYNC_HOLD_OFF_ROLL_PERCENT", 10),
        limits.get("SYNC_HOLD_DEACTIVATED_ACCOUNTS", 50),
    )


class _Held(Exception):
    def __init__(self, counts: dict):
        super().__init__(counts)
        self.counts = counts


def _hold_counts(snapshot: Snapshot, result: "SyncResult", on_roll_before: int) -> dict:
    """What a sync just applied (inside its transaction) takes away: pupils leaving,
    contacts removed, parent accounts that would be deactivated (asked of the
    `mis_sync_counting` receivers, which read and change nothing)."""
    counts = {
        "on_roll_before": on_roll_before,
        "pupils_leaving": result.counts["pupils"].removed,
        "contacts_removed": result.counts["contacts"].removed,
        "accounts_deactivated": 0,
    }
    touched = any(
        result.counts[kind].removed or result.counts[kind].changed
        for kind in ("pupils", "contacts", "links")
    )
    if touched:  # else no one's access can have changed: skip the dearer question
        for _receiver, answer in mis_sync_counting.send(sender=SyncRun, snapshot=snapshot):
            for key, value in (answer or {}).items():
                counts[key] = counts.get(key, 0) + value
    return counts


def is_large(counts: dict) -> bool:
    percent, accounts = hold_limits()
    leaving_limit = counts["on_roll_before"] * percent / 100
    return counts["pupils_leaving"] > leaving_limit or counts["accounts_deactivated"] > accounts


def _apply(
    run: SyncRun,
    snapshot: Snapshot,
    started: float,
    *,
    check_hold: bool = False,
    expected_counts: dict | None = None,
) -> SyncRun:
    """Apply in one transaction; any failure, even in a `mis_synced` receiver, rolls the
    mirror back and is recorded on the run rather than raised. A large change (when
    checked) or counts other than `expected_counts` roll back too and hold the run."""
    run.source_format = snapshot.source_format or run.source_format
    run.full = snapshot.full
    gauge = snapshot.full and (check_hold or expected_counts is not None)
    try:
        with transaction.atomic():
            _lock_mirror()
            on_roll_before = Pupil.objects.filter(on_roll=True).count() if gauge else 0
            mis_syncing.send(sender=SyncRun, run=run)
            result = apply_snapshot(snapshot)
            if gauge:
                counts = _hold_counts(snapshot, result, on_roll_before)
                if expected_counts is not None and counts != expected_counts:
                    raise _Held(counts)
                if check_hold and is_large(counts):
                    raise _Held(counts)
            run.counts = result.counts_dict()
            run.warnings = snapshot.warnings + result.warnings
            run.status = SyncRun.Status.SUCCEEDED
            _finish(run, started)
            mis_synced.send(sender=SyncRun, run=run, counts=run.counts)
    except _Held as held:
        return _hold(run, started, held.counts, warnings=snapshot.warnings)
    except InvalidSource as error:
        return _fail(run, started, error.problems, warnings=snapshot.warnings)
    except Exception as error:
        logger.exception("Sync %s failed and was rolled back", run.pk)
        return _fail(run, started, [_unexpected(run, error)], warnings=snapshot.warnings)
    _refresh_statistics(run.counts)
    return run


def _hold(run: SyncRun, started: float, counts: dict, *, warnings: list[str]) -> SyncRun:
    run.status = SyncRun.Status.HELD
    run.counts = {}
    run.warnings = list(warnings)
    run.hold = {**run.hold, "counts": counts}
    run.hold.pop("confirmed_by", None)
    _finish(run, started)
    return run


def held_dir(run: SyncRun) -> Path:
    return Path(settings.SCHOOLGATE["SYNC_HELD_DIR"]) / f"run-{run.pk}"


def _keep_held_files(
    run: SyncRun, paths: list[Path], names: list[str], *, source_format: str | None
) -> None:
    """Copy a held run's files where its confirmation will read them again."""
    folder = held_dir(run)
    shutil.rmtree(folder, ignore_errors=True)  # left by a database since restored
    folder.mkdir(parents=True)
    files = []
    for index, (path, name) in enumerate(zip(paths, names, strict=True)):
        target = folder / f"{index + 1}-{path.name}"
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copyfile(path, target)
        files.append({"path": str(target), "name": name})
    run.hold = {**run.hold, "files": files, "source_format": source_format or ""}
    run.save(update_fields=["hold"])


def _drop_outdated_holds(applied: SyncRun) -> None:
    """Once a sync has succeeded, earlier holds are out of date: their files can go."""
    for run in SyncRun.objects.filter(pk__lte=applied.pk).exclude(hold={}):
        shutil.rmtree(held_dir(run), ignore_errors=True)


def file_hashes(paths: list[Path], *, source_format: str | None) -> list[str]:
    """SHA-256 of each file's bytes (a folder: of its files' names and bytes), sorted,
    and the format asked for; [] when a file is missing or too big to be read."""
    limit = settings.SCHOOLGATE.get("MIS_FILE_MAX_MB", 50) * 1024 * 1024
    hashes = []
    try:
        for path in paths:
            digest = hashlib.sha256()
            members = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for member in members:
                if member.stat().st_size > limit:
                    return []
                if path.is_dir():
                    digest.update(str(member.relative_to(path)).encode() + b"\0")
                with member.open("rb") as handle:
                    while chunk := handle.read(1024 * 1024):
                        digest.update(chunk)
            hashes.append(digest.hexdigest())
    except OSError:
        return []
    return sorted(hashes) + [f"format:{source_format or ''}"]


def _last_applied(run: SyncRun) -> tuple[list, dict] | None:
    """The file hashes and counts of the last succeeded run, when this run has hashes."""
    if not run.file_hashes:
        return None
    return (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, pk__lt=run.pk)
        .order_by("-pk")
        .values_list("file_hashes", "counts")
        .first()
    )


def _skip_unchanged(run: SyncRun, started: float, *, kinds) -> SyncRun:
    """The same bytes as the last applied sync: the mirror already holds them. The
    counts are zero for every kind that sync reported (attendance too, if it did)."""
    run.status = SyncRun.Status.SUCCEEDED
    run.unchanged = True
    run.counts = {kind: Counts().as_dict() for kind in (*KINDS, *kinds) if kind}
    _finish(run, started)
    return run


def _refresh_statistics(counts: dict) -> None:
    """After a big change (a first sync above all) PostgreSQL plans with stale row counts
    until autovacuum catches up, and the access subqueries (`qualifying_links`) become
    nested loops taking minutes at 50,000 pupils: refresh the statistics at once."""
    if connection.vendor != "postgresql":
        return
    if sum(sum(c.values()) for c in counts.values()) < ANALYZE_AFTER_ROWS:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in MIRROR_MODELS)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
    except Exception:
        logger.exception("ANALYZE after a sync failed; autovacuum will catch up")


def _lock_mirror() -> None:
    """One sync at a time: two concurrent diffs against the same mirror would collide.
    SQLite's IMMEDIATE transactions already serialise writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SYNC_LOCK_KEY])


def _unexpected(run: SyncRun, error: Exception) -> Problem:
    return Problem(
        file=", ".join(run.files) or "sync",
        message=_("the sync stopped on an unexpected error (%(error)s)")
        % {"error": f"{type(error).__name__}: {error}"},
    )


def _fail(
    run: SyncRun, started: float, problems: list[Problem], *, warnings: list[str] | None = None
) -> SyncRun:
    run.status = SyncRun.Status.FAILED
    run.counts = {}
    run.warnings = list(warnings or [])
    run.errors = [p.as_dict() for p in problems]
    _finish(run, started)
    return run


def _finish(run: SyncRun, started: float) -> None:
    run.finished_at = timezone.now()
    run.duration_ms = int((time.perf_counter() - started) * 1000)
    run.save()


def apply_snapshot(snapshot: Snapshot) -> SyncResult:
    """Make the mirror match the snapshot for the kinds it covers. Call in a transaction."""
    result = SyncResult()
    full = snapshot.full
    covers = snapshot.covers

    # Pupils: absent from a full sync means off roll, never deleted.
    pupil_rows = {
        mis_id: (
            row.upn,
            row.legal_forename,
            row.legal_surname,
            row.preferred_forename,
            row.preferred_surname,
            row.date_of_birth,
            row.year_group,
            True,
        )
        for mis_id, row in snapshot.pupils.items()
    }
    pupil_pks, result.counts["pupils"] = _upsert(
        Pupil,
        PUPIL_FIELDS,
        pupil_rows,
        retire=full and "pupils" in covers,
        retire_values={"on_roll": False},
    )

    # Validating an address is the dearest step per contact: do it once.
    keys = {mis_id: email_key(row.email) for mis_id, row in snapshot.contacts.items()}
    for contact in snapshot.contacts.values():
        if contact.email and not keys[contact.mis_id]:
            result.warnings.append(
                f"Contact {contact.forename} {contact.surname} ({contact.mis_id}): "
                f"'{contact.email}' is not a valid email address"
            )
    # A new contact with no link would be deleted as an orphan straight away: leave it
    # out, or every re-sync would report it as added and removed.
    linked = {contact_id for _pupil, contact_id in snapshot.links}
    unlinked = [mis_id for mis_id in snapshot.contacts if mis_id not in linked]
    known: set[str] = set()
    if unlinked:
        existing_contacts = Contact.objects.values_list("mis_id", flat=True)
        if len(unlinked) < 900:
            existing_contacts = existing_contacts.filter(mis_id__in=unlinked)
        known = set(existing_contacts)
    contact_rows = {
        mis_id: (
            row.title,
            row.forename,
            row.surname,
            row.email,
            keys[mis_id],
            [{"type": t, "number": n} for t, n in row.phones],
        )
        for mis_id, row in snapshot.contacts.items()
        if mis_id in linked or mis_id in known
    }
    contact_pks, result.counts["contacts"] = _upsert(
        Contact, CONTACT_FIELDS, contact_rows, retire=False
    )
    result.counts["links"] = _sync_links(
        snapshot, pupil_pks, contact_pks, replace=full and "links" in covers
    )
    # Only contacts linked to a pupil on roll are kept.
    # Count only the rows of each kind, not whatever else the delete cascades to.
    off_roll_links = PupilContact.objects.filter(pupil__on_roll=False)
    result.counts["links"].removed += off_roll_links.delete()[1].get(PupilContact._meta.label, 0)
    orphans = Contact.objects.filter(pupil_links__isnull=True)
    result.counts["contacts"].removed += orphans.delete()[1].get(Contact._meta.label, 0)

    staff_rows = {
        mis_id: (
            row.title,
            row.forename,
            row.surname,
            row.email,
            email_key(row.email),
            row.role,
            True,
        )
        for mis_id, row in snapshot.staff.items()
    }
    staff_pks, result.counts["staff"] = _upsert(
        Staff,
        STAFF_FIELDS,
        staff_rows,
        retire=full and "staff" in covers,
        retire_values={"current": False},
    )

    group_kinds = {c.split(":", 1)[1] for c in covers if c.startswith("groups:")} if full else set()
    group_rows = {
        mis_id: (row.kind, row.name, row.subject, row.year_group, True)
        for mis_id, row in snapshot.groups.items()
    }
    group_pks, result.counts["groups"] = _upsert(
        TeachingGroup,
        GROUP_FIELDS,
        group_rows,
        retire=bool(group_kinds),
        retire_values={"current": False},
        retire_filter={"kind__in": group_kinds},
    )
    result.counts["memberships"] = _sync_pairs(
        GroupMembership,
        "pupil",
        snapshot.memberships,
        group_pks,
        pupil_pks,
        group_kinds,
        result.warnings,
        what="pupil",
    )
    result.counts["group_teachers"] = _sync_pairs(
        GroupTeacher,
        "staff",
        snapshot.group_teachers,
        group_pks,
        staff_pks,
        group_kinds,
        result.warnings,
        what="teacher",
    )
    # Reported only when the files state some attendance (a CTF's Attendance section).
    if snapshot.attendance_pupils:
        result.counts["attendance"] = _sync_attendance(snapshot, pupil_pks)
    # Who may see which pupil follows the mirror: nothing this request worked out stands.
    request_memo.forget()
    return result


def _sync_attendance(snapshot: Snapshot, pupil_pks: dict) -> Counts:
    """Make each stated pupil's attendance rows match the files: added, changed, and
    removed when a year is no longer stated. Other pupils' rows are left alone."""
    counts = Counts()
    unknown = sorted(p for p in snapshot.attendance_pupils if p not in pupil_pks)
    if unknown:
        raise InvalidSource(
            [
                Problem(
                    file=", ".join(snapshot.files) or "sync",
                    element=f"attendance of {mis_id}",
                    message="the attendance names a pupil that is in neither the files nor "
                    "the mirror",
                )
                for mis_id in unknown
            ]
        )
    stated = [pupil_pks[p] for p in snapshot.attendance_pupils]
    pupil_ids = {pk: mis_id for mis_id, pk in pupil_pks.items()}
    existing = {}
    for start in range(0, len(stated), BATCH):
        for row in Attendance.objects.filter(
            pupil_id__in=stated[start : start + BATCH]
        ).values_list("pupil_id", "year", "school", "pk", *ATTENDANCE_FIELDS):
            existing[(pupil_ids[row[0]], row[1], row[2])] = (row[3], tuple(row[4:]))
    new_rows, changed_objects = [], []
    for key, row in snapshot.attendance.items():
        values = (row.school_name, row.possible, row.attended, row.authorised, row.unauthorised)
        if key not in existing:
            new_rows.append((pupil_pks[row.pupil_id], row.year, row.school, *values))
        elif existing[key][1] != values:
            obj = Attendance(pk=existing[key][0])
            for name, value in zip(ATTENDANCE_FIELDS, values, strict=True):
                setattr(obj, name, value)
            changed_objects.append(obj)
    _insert_rows(Attendance, ("pupil", "year", "school", *ATTENDANCE_FIELDS), new_rows)
    Attendance.objects.bulk_update(changed_objects, ATTENDANCE_FIELDS, batch_size=BATCH)
    gone = [pk for key, (pk, _values) in existing.items() if key not in snapshot.attendance]
    _delete_pks(Attendance, gone)
    counts.added, counts.changed, counts.removed = len(new_rows), len(changed_objects), len(gone)
    return counts


def _existing(model, fields: tuple[str, ...], **filters) -> dict[str, tuple[int, tuple]]:
    rows = model.objects.filter(**filters).values_list("mis_id", "pk", *fields)
    return {row[0]: (row[1], tuple(row[2:])) for row in rows.iterator(chunk_size=BATCH)}


def _upsert(
    model,
    fields: tuple[str, ...],
    rows: dict[str, tuple],
    *,
    retire: bool,
    retire_values: dict | None = None,
    retire_filter: dict | None = None,
) -> tuple[dict[str, int], Counts]:
    """Create new rows, update changed ones, and retire (or leave) absent ones.

    Returns {mis_id: pk} for every row now in the table, and the counts."""
    counts = Counts()
    existing = _existing(model, fields)
    # New rows go in as plain values, each prepared as its field would prepare it
    # (dates, JSON): building a model instance per row cost more than the insert.
    preparers = [model._meta.get_field(name).get_db_prep_save for name in ("mis_id", *fields)]
    new_ids, new_rows, changed_objects = [], [], []
    for mis_id, values in rows.items():
        if mis_id not in existing:
            new_ids.append(mis_id)
            new_rows.append(
                tuple(
                    prepare(value, connection)
                    for prepare, value in zip(preparers, (mis_id, *values), strict=True)
                )
            )
        elif existing[mis_id][1] != values:
            obj = model(pk=existing[mis_id][0], mis_id=mis_id)
            for name, value in zip(fields, values, strict=True):
                setattr(obj, name, value)
            changed_objects.append(obj)
    _insert_rows(model, ("mis_id", *fields), new_rows)
    model.objects.bulk_update(changed_objects, fields, batch_size=BATCH)
    counts.added, counts.changed = len(new_rows), len(changed_objects)

    if retire:
        index = {name: i for i, name in enumerate(fields)}
        to_retire = [
            pk
            for mis_id, (pk, values) in existing.items()
            if mis_id not in rows
            and any(values[index[k]] != v for k, v in retire_values.items())
            and _matches(values, index, retire_filter or {})
        ]
        for start in range(0, len(to_retire), BATCH):
            model.objects.filter(pk__in=to_retire[start : start + BATCH]).update(**retire_values)
        counts.removed = len(to_retire)

    pks = {mis_id: pk for mis_id, (pk, _) in existing.items()}
    if new_ids:
        pks.update(
            model.objects.filter(mis_id__in=new_ids).values_list("mis_id", "pk")
            if len(new_ids) < 900
            else model.objects.values_list("mis_id", "pk")
        )
    return pks, counts


def _matches(values: tuple, index: dict[str, int], filters: dict) -> bool:
    for key, allowed in filters.items():
        name = key.removesuffix("__in")
        if values[index[name]] not in allowed:
            return False
    return True


def _sync_links(snapshot: Snapshot, pupil_pks: dict, contact_pks: dict, *, replace: bool) -> Counts:
    counts = Counts()
    unknown = [
        Problem(
            file=", ".join(snapshot.files) or "sync",
            element=f"link {row.pupil_id} → {row.contact_id}",
            message="the link names a "
            + ("pupil" if row.pupil_id not in pupil_pks else "contact")
            + " that is in neither the files nor the mirror",
        )
        for row in snapshot.links.values()
        if row.pupil_id not in pupil_pks or row.contact_id not in contact_pks
    ]
    if unknown:
        raise InvalidSource(unknown)
    # Keyed by MIS ids through the pk maps already in hand: cheaper than joining.
    pupil_ids = {pk: mis_id for mis_id, pk in pupil_pks.items()}
    contact_ids = {pk: mis_id for mis_id, pk in contact_pks.items()}
    existing = {
        (pupil_ids[row[0]], contact_ids[row[1]]): (row[2], tuple(row[3:]))
        for row in PupilContact.objects.values_list(
            "pupil_id", "contact_id", "pk", *LINK_FIELDS
        ).iterator(chunk_size=BATCH)
    }
    new_rows, changed_objects = [], []
    for key, row in snapshot.links.items():
        values = (
            row.relationship,
            row.parental_responsibility,
            row.priority,
            row.court_order,
            row.no_contact,
        )
        if key not in existing:
            new_rows.append((pupil_pks[row.pupil_id], contact_pks[row.contact_id], *values))
        elif existing[key][1] != values:
            obj = PupilContact(pk=existing[key][0])
            for name, value in zip(LINK_FIELDS, values, strict=True):
                setattr(obj, name, value)
            changed_objects.append(obj)
    _insert_rows(PupilContact, ("pupil", "contact", *LINK_FIELDS), new_rows)
    PupilContact.objects.bulk_update(changed_objects, LINK_FIELDS, batch_size=BATCH)
    counts.added, counts.changed = len(new_rows), len(changed_objects)
    if replace:
        gone = [pk for key, (pk, _) in existing.items() if key not in snapshot.links]
        _delete_pks(PupilContact, gone)
        counts.removed = len(gone)
    return counts


def _sync_pairs(
    model,
    other: str,
    pairs: set[tuple[str, str]],
    group_pks: dict,
    other_pks: dict,
    replace_kinds: set[str],
    warnings: list[str],
    *,
    what: str,
) -> Counts:
    """Memberships and group teachers: sets of (group, person) pairs."""
    counts = Counts()
    # Keyed by MIS ids through the pk maps already in hand: cheaper than joining.
    group_ids = {pk: mis_id for mis_id, pk in group_pks.items()}
    other_ids = {pk: mis_id for mis_id, pk in other_pks.items()}
    kinds = dict(TeachingGroup.objects.values_list("pk", "kind"))
    existing = {
        (group_ids[group], other_ids[person]): (pk, kinds[group])
        for group, person, pk in model.objects.values_list(
            "group_id", f"{other}_id", "pk"
        ).iterator(chunk_size=BATCH)
    }
    new_rows = []
    for group_id, person_id in sorted(pairs):
        if (group_id, person_id) in existing:
            continue
        if person_id not in other_pks:
            warnings.append(f"Group {group_id}: {what} '{person_id}' is not known; skipped")
            continue
        if group_id not in group_pks:
            warnings.append(f"Group '{group_id}' is not known; its {what} {person_id} skipped")
            continue
        new_rows.append((group_pks[group_id], other_pks[person_id]))
    _insert_rows(model, ("group", other), new_rows)
    counts.added = len(new_rows)
    if replace_kinds:
        gone = [
            pk for key, (pk, kind) in existing.items() if key not in pairs and kind in replace_kinds
        ]
        _delete_pks(model, gone)
        counts.removed = len(gone)
    return counts


def _insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Plain INSERTs for links and pairs: a model instance per row cost far more than the
    database's own work (bench/sync.py: 550,000 memberships at 50,000 pupils)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams the rows; executemany there costs a round trip per row.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def _delete_pks(model, pks: list[int]) -> None:
    for start in range(0, len(pks), BATCH):
        model.objects.filter(pk__in=pks[start : start + BATCH])._raw_delete(model.objects.db)
