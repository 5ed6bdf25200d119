"""The Schoolgate CSV template (pupils-contacts.csv): one row per pupil-contact link.

A pupil with no contacts has one row with the contact columns empty. Every column
is described in docs/csv-template.md."""

import codecs
from pathlib import Path

from django.utils.translation import gettext as _

from schoolgate.mis.importers.common import (
    CHUNK,
    Budget,
    CsvStream,
    Where,
    compact_phone,
    limit_length,
    open_capped,
    parse_bool,
    parse_date,
    parse_int,
    parse_year_group,
    raise_if_any,
)
from schoolgate.mis.snapshot import (
    ContactRow,
    GroupRow,
    InvalidSource,
    LinkRow,
    Problem,
    PupilRow,
    Snapshot,
)

PUPIL_COLUMNS = (
    "pupil_id",
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
    "year_group",
    "registration_group",
)
PERSON_COLUMNS = (
    "contact_title",
    "contact_forename",
    "contact_surname",
    "contact_email",
    "contact_phone",
)
LINK_COLUMNS = ("relationship", "parental_responsibility", "priority", "court_order")
COLUMNS = PUPIL_COLUMNS + ("contact_id",) + PERSON_COLUMNS + LINK_COLUMNS
REQUIRED = ("pupil_id", "legal_forename", "legal_surname")
CONTACT_REQUIRED = ("contact_forename", "contact_surname")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# Mirror column sizes. A registration group's id is its name, as in a timetable CSV,
# so the two files describe the same form with the same id.
LIMITS = {
    "pupil_id": 100,
    "contact_id": 200,
    "contact_title": 30,
    "contact_email": 254,
    "contact_phone": 40,
    "relationship": 60,
    "registration_group": 96,
}
NAME_MAX = 100
PRIORITY_MAX = 999


def read(path: Path, *, name: str, budget: Budget | None = None) -> Snapshot:
    """Read a pupils-contacts CSV; raise InvalidSource listing every problem found."""
    snapshot = Snapshot(source_format="csv", files=[name])
    budget = budget or Budget.from_settings()
    # Excel's plain 'CSV' save is Windows-1252: read as such, with a warning.
    utf8 = _is_utf8(path, name=name, budget=budget)
    if not utf8:
        snapshot.warnings.append(
            _(
                "%(file)s is not UTF-8; it was read as Windows-1252 (Excel's 'CSV' format). "
                "Check accented names, or save it as 'CSV UTF-8' next time"
            )
            % {"file": name}
        )
    stream = open_capped(path, name=name, budget=budget)
    try:
        return _read(stream, snapshot, name=name, budget=budget, utf8=utf8)
    finally:
        stream.raw.close()


def _read(stream, snapshot: Snapshot, *, name: str, budget: Budget, utf8: bool) -> Snapshot:
    problems: list[Problem] = []
    rows = CsvStream(
        stream,
        name=name,
        required=REQUIRED,
        optional=COLUMNS,
        problems=problems,
        budget=budget,
        encoding="utf-8" if utf8 else "cp1252",
        on_error=None if utf8 else _cp1252_problem(name),
    )
    header = rows.columns
    unknown = sorted(header - set(COLUMNS))
    for column in unknown:
        problems.append(
            Where(name, line=1).problem(
                _("this is not a column of the template (see docs/csv-template.md)"),
                field=column,
            )
        )

    pupil_seen: dict[str, tuple[int, dict[str, str]]] = {}
    contact_seen: dict[str, tuple[int, dict[str, str]]] = {}
    link_seen: dict[tuple[str, str], int] = {}
    upn_seen: dict[str, tuple[str, int]] = {}
    groups: dict[str, list[str]] = {}
    for row in rows:
        at = Where(name, line=row.line)
        values = {
            column: limit_length(
                row.get(column),
                limit=LIMITS.get(column, NAME_MAX),
                where=at,
                field=column,
                problems=problems,
            )
            for column in COLUMNS
        }
        missing = [c for c in REQUIRED if not values[c]]
        contact_id = values["contact_id"]
        if contact_id:
            missing += [c for c in CONTACT_REQUIRED if not values[c]]
        else:
            for column in PERSON_COLUMNS + LINK_COLUMNS:
                if values[column]:
                    problems.append(
                        at.problem(
                            _("contact details are given but contact_id is empty"),
                            field=column,
                        )
                    )
                    break
        for column in missing:
            problems.append(at.problem(_("a value is needed"), field=column))
        if "pupil_id" in missing:
            continue

        pupil_id = values["pupil_id"]
        pupil_details = {c: values[c] for c in PUPIL_COLUMNS}
        if pupil_id in pupil_seen:
            _same_details(
                what=_("pupil"),
                first=pupil_seen[pupil_id],
                details=pupil_details,
                at=at,
                problems=problems,
            )
        else:
            pupil_seen[pupil_id] = (row.line, pupil_details)
            upn = values["upn"].upper()
            if upn and (len(upn) != 13 or not upn.isalnum()):
                problems.append(
                    at.problem(
                        _("'%(value)s' is not a UPN (13 letters and digits)") % {"value": upn},
                        field="upn",
                    )
                )
            elif upn and upn in upn_seen:
                other, line = upn_seen[upn]
                problems.append(
                    at.problem(
                        _("the UPN %(upn)s is also used by pupil %(other)s on line %(line)s")
                        % {"upn": upn, "other": other, "line": line},
                        field="upn",
                    )
                )
            elif upn:
                upn_seen[upn] = (pupil_id, row.line)
            snapshot.pupils[pupil_id] = PupilRow(
                mis_id=pupil_id,
                upn=upn,
                legal_forename=values["legal_forename"],
                legal_surname=values["legal_surname"],
                preferred_forename=values["preferred_forename"],
                preferred_surname=values["preferred_surname"],
                date_of_birth=parse_date(
                    values["date_of_birth"],
                    where=at,
                    field="date_of_birth",
                    problems=problems,
                    formats=DATE_FORMATS,
                ),
                year_group=parse_year_group(
                    values["year_group"], where=at, field="year_group", problems=problems
                ),
            )
            if values["registration_group"]:
                groups.setdefault(values["registration_group"], []).append(pupil_id)

        if not contact_id:
            continue
        person = {c: values[c] for c in PERSON_COLUMNS}
        if contact_id in contact_seen:
            _same_details(
                what=_("contact"),
                first=contact_seen[contact_id],
                details=person,
                at=at,
                problems=problems,
            )
        else:
            contact_seen[contact_id] = (row.line, person)
            phone = compact_phone(values["contact_phone"])
            snapshot.contacts[contact_id] = ContactRow(
                mis_id=contact_id,
                title=values["contact_title"],
                forename=values["contact_forename"],
                surname=values["contact_surname"],
                email=values["contact_email"],
                # The template does not say what kind of phone it is.
                phones=(("", phone),) if phone else (),
            )
        key = (pupil_id, contact_id)
        if key in link_seen:
            problems.append(
                at.problem(
                    _("pupil %(pupil)s and contact %(contact)s are already linked on line %(line)s")
                    % {"pupil": pupil_id, "contact": contact_id, "line": link_seen[key]},
                    field="contact_id",
                )
            )
            continue
        link_seen[key] = row.line
        snapshot.links[key] = LinkRow(
            pupil_id=pupil_id,
            contact_id=contact_id,
            relationship=values["relationship"],
            parental_responsibility=parse_bool(
                values["parental_responsibility"],
                where=at,
                field="parental_responsibility",
                problems=problems,
            ),
            priority=parse_int(
                values["priority"],
                where=at,
                field="priority",
                problems=problems,
                minimum=1,
                maximum=PRIORITY_MAX,
            ),
            court_order=parse_bool(
                values["court_order"], where=at, field="court_order", problems=problems
            ),
        )
    raise_if_any(problems)

    for group_name, pupil_ids in groups.items():
        group_id = group_name
        years = {snapshot.pupils[p].year_group for p in pupil_ids}
        snapshot.groups[group_id] = GroupRow(
            mis_id=group_id,
            kind="registration",
            name=group_name,
            # A vertical tutor group (several years) has no one year group.
            year_group=years.pop() if len(years) == 1 else None,
        )
        snapshot.memberships |= {(group_id, p) for p in pupil_ids}
    snapshot.covers = {"pupils", "contacts", "links"}
    if groups:
        snapshot.covers.add("groups:registration")
    return snapshot


def _same_details(
    *,
    what: str,
    first: tuple[int, dict[str, str]],
    details: dict[str, str],
    at: Where,
    problems: list[Problem],
) -> None:
    """A pupil or contact repeated on another row must repeat the same details."""
    first_line, first_details = first
    for column, value in details.items():
        if value != first_details[column]:
            problems.append(
                at.problem(
                    _(
                        "the same %(what)s has '%(first)s' on line %(line)s but '%(value)s' here; "
                        "every row of one %(what)s must carry the same details"
                    )
                    % {
                        "what": what,
                        "first": first_details[column],
                        "line": first_line,
                        "value": value,
                    },
                    field=column,
                )
            )


def _is_utf8(path: Path, *, name: str, budget: Budget) -> bool:
    """Whether the file decodes as UTF-8, checked a chunk at a time (a first pass over
    the file on disk; the budget is not charged twice, but the file's own cap holds)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    checker = Budget(file_bytes=budget.file_bytes, total_bytes=budget.file_bytes, rows=0)
    stream = open_capped(path, name=name, budget=checker)
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.raw.close()
    return True


def _cp1252_problem(name: str):
    def problem(data: bytes, start: int, line: int) -> InvalidSource:
        return InvalidSource(
            [
                Where(name, line=line).problem(
                    _(
                        "the file is neither UTF-8 nor Windows-1252 (byte %(byte)s cannot be "
                        "read): save it as 'CSV UTF-8'"
                    )
                    % {"byte": f"0x{data[start]:02X}"}
                )
            ]
        )

    return problem
