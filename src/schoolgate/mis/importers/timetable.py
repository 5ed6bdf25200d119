"""Schoolgate's timetable CSV: staff, registration groups and classes, and who is in them.

One row per (group, member); see docs/csv-timetable.md. Pupils are not created here:
a membership names a pupil by MIS id, who comes from a CTF, OneRoster or CSV."""

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schoolgate.core.emails import normalise_email
from schoolgate.mis.importers.common import (
    Budget,
    CappedReader,
    CsvStream,
    Where,
    limit_length,
    open_capped,
    parse_choice,
    parse_year_group,
    raise_if_any,
)
from schoolgate.mis.snapshot import GroupRow, Problem, Snapshot, StaffRow

REQUIRED = ("group_id", "group_type", "group_name", "member_type", "member_id")
OPTIONAL = ("subject", "year_group", "title", "forename", "surname", "email", "role")
COLUMNS = REQUIRED[:3] + OPTIONAL[:2] + REQUIRED[3:] + OPTIONAL[2:]
GROUP_TYPES = ("registration", "class")
MEMBER_TYPES = ("teacher", "pupil")
# Column limits of the mirror, checked here so a long value is a located problem.
LIMITS = {
    "group_id": 100,
    "group_name": 100,
    "subject": 100,
    "member_id": 100,
    "title": 30,
    "forename": 100,
    "surname": 100,
    "email": 254,
    "role": 100,
}
GROUP_DETAILS = ("group_type", "group_name", "subject", "year_group")
STAFF_DETAILS = ("title", "forename", "surname", "email", "role")

# Translated only when a problem is reported: every row passes these.
A_GROUP = gettext_lazy("group")
A_STAFF_MEMBER = gettext_lazy("member of staff")


class _Record:
    """A group or staff member as stated so far, with the line each detail came from."""

    __slots__ = ("first_line", "lines", "values")

    def __init__(self, line: int):
        self.first_line = line
        self.values: dict[str, object] = {}
        self.lines: dict[str, int] = {}

    def state(
        self,
        field: str,
        value,
        *,
        where: Where,
        problems: list[Problem],
        what: str,
        same=lambda a, b: a == b,
    ) -> None:
        """Record a detail; a blank says nothing, a different value is a problem."""
        if value in ("", None):
            return
        if field not in self.values:
            self.values[field] = value
            self.lines[field] = where.line
        elif not same(self.values[field], value):
            problems.append(
                where.problem(
                    _(
                        "'%(value)s' differs from '%(first)s' given for this %(what)s "
                        "on line %(line)s"
                    )
                    % {
                        "value": value,
                        "first": self.values[field],
                        "what": what,
                        "line": self.lines[field],
                    },
                    field=field,
                )
            )

    def get(self, field: str, default=""):
        return self.values.get(field, default)


def _same_email(a: str, b: str) -> bool:
    return normalise_email(a) == normalise_email(b)


def read(path: Path, *, name: str, budget: Budget | None = None) -> Snapshot:
    """Read a timetable CSV, streamed row by row; raise InvalidSource listing every
    problem found."""
    budget = budget or Budget.from_settings()
    stream = open_capped(path, name=name, budget=budget)
    try:
        return _read(stream, name=name, budget=budget)
    finally:
        stream.raw.close()


def _read(stream: CappedReader, *, name: str, budget: Budget) -> Snapshot:
    problems: list[Problem] = []
    rows = CsvStream(
        stream,
        name=name,
        required=REQUIRED,
        optional=OPTIONAL,
        problems=problems,
        budget=budget,
    )
    groups: dict[str, _Record] = {}
    staff: dict[str, _Record] = {}
    memberships: set[tuple[str, str]] = set()
    group_teachers: set[tuple[str, str]] = set()

    for row in rows:
        where = Where(name, line=row.line)
        values = {
            column: limit_length(
                row.get(column), limit=limit, where=where, field=column, problems=problems
            )
            for column, limit in LIMITS.items()
        }
        group_id, member_id = values["group_id"], values["member_id"]
        member_type = parse_choice(
            row.get("member_type"),
            choices=MEMBER_TYPES,
            where=where,
            field="member_type",
            problems=problems,
            allow_empty=True,
        )
        if member_type and not member_id:
            problems.append(
                where.problem(
                    _("a %(type)s row needs the member's id") % {"type": member_type},
                    field="member_id",
                )
            )
            continue
        if member_id and not member_type and row.get("member_type") == "":
            problems.append(
                where.problem(
                    _("say whether the member is a teacher or a pupil"), field="member_type"
                )
            )
            continue

        if group_id:
            group = groups.setdefault(group_id, _Record(row.line))
            group_type = parse_choice(
                row.get("group_type"),
                choices=GROUP_TYPES,
                where=where,
                field="group_type",
                problems=problems,
                allow_empty=True,
            )
            year_group = parse_year_group(
                row.get("year_group"), where=where, field="year_group", problems=problems
            )
            for field, value in (
                ("group_type", group_type),
                ("group_name", values["group_name"]),
                ("subject", values["subject"]),
                ("year_group", year_group),
            ):
                group.state(field, value, where=where, problems=problems, what=A_GROUP)
        elif member_type == "pupil":
            problems.append(
                where.problem(_("a pupil row needs the group the pupil is in"), field="group_id")
            )
            continue
        elif member_type != "teacher":
            problems.append(
                where.problem(_("the row names neither a group nor a teacher"), field="group_id")
            )
            continue

        if member_type == "teacher":
            person = staff.setdefault(member_id, _Record(row.line))
            for field in STAFF_DETAILS:
                person.state(
                    field,
                    values[field],
                    where=where,
                    problems=problems,
                    what=A_STAFF_MEMBER,
                    same=_same_email if field == "email" else (lambda a, b: a == b),
                )
            if group_id:
                group_teachers.add((group_id, member_id))
        elif member_type == "pupil":
            memberships.add((group_id, member_id))

    snapshot = Snapshot(source_format="timetable", files=[name])
    for group_id, group in groups.items():
        where = Where(name, line=group.first_line)
        for field in ("group_type", "group_name"):
            if not group.get(field):
                problems.append(
                    where.problem(
                        _("group '%(id)s' has no %(field)s on any line")
                        % {"id": group_id, "field": field},
                        field=field,
                    )
                )
        snapshot.groups[group_id] = GroupRow(
            mis_id=group_id,
            kind=group.get("group_type"),
            name=group.get("group_name"),
            subject=group.get("subject"),
            year_group=group.get("year_group", None),
        )
    for staff_id, person in staff.items():
        if not person.get("forename") and not person.get("surname"):
            problems.append(
                Where(name, line=person.first_line).problem(
                    _("member of staff '%(id)s' has no forename or surname on any line")
                    % {"id": staff_id},
                    field="surname",
                )
            )
        snapshot.staff[staff_id] = StaffRow(
            mis_id=staff_id, **{field: person.get(field) for field in STAFF_DETAILS}
        )
    if not staff and not problems:
        # Covering staff with none listed would retire every member of staff.
        problems.append(
            Where(name, line=1).problem(
                _("the file lists no teachers (rows with member_type 'teacher')"),
                field="member_type",
            )
        )
    raise_if_any(problems)

    snapshot.memberships = memberships
    snapshot.group_teachers = group_teachers
    snapshot.covers = {"staff"} | {f"groups:{group.kind}" for group in snapshot.groups.values()}
    return snapshot
