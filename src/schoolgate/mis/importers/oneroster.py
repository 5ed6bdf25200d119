"""IMS OneRoster 1.1 and 1.2 CSV bundles (a folder or a .zip): pupils, contacts, staff, classes.

OneRoster carries no parental responsibility or contact priority: both are derived
from roles and the order of `agentSourcedIds`. See docs/import-oneroster.md."""

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from schoolgate.mis.importers.common import (
    MB,
    YEAR_CODES,
    YEAR_RANGE,
    Budget,
    CappedReader,
    CsvRow,
    CsvStream,
    LimitExceeded,
    Where,
    compact_phone,
    limit_length,
    open_capped,
    parse_choice,
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
    StaffRow,
)

# A OneRoster bundle has a handful of files; a directory of more is not one.
ZIP_ENTRIES_MAX = 1000
WANTED_FILES = ("users.csv", "classes.csv", "enrollments.csv", "roles.csv", "manifest.csv")

# Contact roles, and whether each holds parental responsibility (PR).
CONTACT_ROLES = {"parent": True, "guardian": True, "relative": False}
PUPIL_ROLE = "student"
TEACHER_ROLE = "teacher"
# Adults who are staff only when they teach a class (OneRoster 1.1 and 1.2 role names).
OTHER_STAFF_ROLES = frozenset(
    {
        "administrator",
        "aide",
        "proctor",
        "counselor",
        "principal",
        "siteadministrator",
        "districtadministrator",
        "systemadministrator",
    }
)
CLASS_KINDS = {"homeroom": "registration", "scheduled": "class"}
# US grade codes with a UK equivalent; R, N1 and N2 as in a CTF.
GRADE_CODES = {**YEAR_CODES, "RECEPTION": 0, "KG": 0, "TK": 0, "PK": -1}
_YEAR_NUMBER = re.compile(r"(?:YEAR|YR|Y|NC)?\s*(\d{1,2})")
# A UPN: a check letter, 11 digits, and a digit (or a letter in a temporary UPN).
_UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
_DRIVE = re.compile(r"[A-Za-z]:")
ID_MAX, CONTACT_ID_MAX, NAME_MAX, EMAIL_MAX, ROLE_MAX = 100, 200, 100, 254, 100


@dataclass
class _User:
    line: int
    sourced_id: str
    role: str
    given: str
    family: str
    preferred_given: str
    preferred_family: str
    identifier: str
    email: str
    phones: tuple[tuple[str, str], ...]
    agents: list[str]
    agents_field: str
    grades: list[str]
    roles: list[str] = field(default_factory=list)


def read(path: Path, *, name: str, budget: Budget | None = None) -> Snapshot:
    """Read a OneRoster bundle; raise InvalidSource listing every problem found."""
    budget = budget or Budget.from_settings()
    with _Bundle(path, name=name, budget=budget) as files:
        return BundleReader(name=name, files=files).read()


class _Bundle:
    """The bundle's CSV files we use, each opened for a capped streaming read when its
    turn comes: {lower-case file name: display name}, and `open(key)`.

    A zip is never unpacked: each member is decompressed a chunk at a time while it
    is parsed, and counted against the caps as it goes (docs/sync.md, "Limits")."""

    def __init__(self, path: Path, *, name: str, budget: Budget):
        self.path, self.name, self.budget = path, name, budget
        self.archive: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.paths: dict[str, Path] = {}
        self.display: dict[str, str] = {}

    def __enter__(self) -> "_Bundle":
        path, name = self.path, self.name
        if path.is_dir():
            self._open_folder()
        elif not path.exists():
            raise InvalidSource([Where(name).problem(_("the file does not exist"))])
        elif path.suffix.lower() != ".zip":
            raise InvalidSource(
                [Where(name).problem(_("a OneRoster bundle must be a folder or a .zip file"))]
            )
        else:
            try:
                self._open_zip()
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError) as e:
                self.close()
                raise _unreadable(name, e) from None
            except InvalidSource:
                self.close()
                raise
        if "users.csv" not in self.display:
            self.close()
            raise InvalidSource(
                [Where(name).problem(_("the OneRoster bundle has no users.csv, which is required"))]
            )
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def __contains__(self, key: str) -> bool:
        return key in self.display

    def open(self, key: str) -> CappedReader:
        display = self.display[key]
        if key in self.paths:
            return open_capped(self.paths[key], name=display, budget=self.budget)
        try:
            member = self.archive.open(self.members[key])
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError) as error:
            raise _unreadable(self.name, error) from None
        return CappedReader(_ZipErrors(member, self.name), name=display, budget=self.budget)

    def _open_folder(self) -> None:
        for child in sorted(self.path.iterdir()):
            key = child.name.lower()
            if child.is_file() and key in WANTED_FILES:
                self.paths[key] = child
                self.display[key] = f"{self.name}/{child.name}"

    def _open_zip(self) -> None:
        name = self.name
        if self.path.stat().st_size > self.budget.file_bytes:
            raise self.budget.file_too_big(name)
        with self.path.open("rb") as handle:
            # Read the zip's directory size first: a small zip can hold a directory of
            # millions of entries, which `ZipFile` would read into memory whole.
            end = zipfile._EndRecData(handle)  # the stdlib's own reader of the end record
        if end is None:
            raise _unreadable(name, _("it is not a zip file"))
        if end[zipfile._ECD_ENTRIES_TOTAL] > ZIP_ENTRIES_MAX:
            raise LimitExceeded(
                [
                    Where(name).problem(
                        _("the zip holds %(count)s entries; a OneRoster bundle has at most %(max)s")
                        % {"count": end[zipfile._ECD_ENTRIES_TOTAL], "max": ZIP_ENTRIES_MAX}
                    )
                ]
            )
        self.archive = archive = zipfile.ZipFile(self.path)
        problems: list[Problem] = []
        infos = [info for info in archive.infolist() if not info.is_dir()]
        for info in infos:
            parts = re.split(r"[\\/]", info.filename)
            if info.filename.startswith(("/", "\\")) or _DRIVE.match(info.filename):
                problems.append(
                    Where(name, element=info.filename).problem(
                        _("the zip holds a file with an absolute path; it was not unpacked")
                    )
                )
            elif ".." in parts:
                problems.append(
                    Where(name, element=info.filename).problem(
                        _("the zip holds a file whose path leads out of the folder ('..')")
                    )
                )
        raise_if_any(problems)
        for info in infos:
            base = re.split(r"[\\/]", info.filename)[-1].lower()
            if base not in WANTED_FILES:
                continue
            if base in self.members:
                problems.append(
                    Where(name, element=info.filename).problem(
                        _("the zip holds two files named %(file)s (the other is %(other)s)")
                        % {"file": base, "other": self.members[base].filename}
                    )
                )
            elif info.flag_bits & 0x1:
                problems.append(
                    Where(name, element=info.filename).problem(
                        _("the file is encrypted; zip the bundle without a password")
                    )
                )
            self.members[base] = info
            self.display[base] = f"{name}/{info.filename}"
        raise_if_any(problems)
        # What the zip declares is checked first (cheap), though never trusted: the
        # capped reads stop at the caps whatever the directory says.
        for key, info in self.members.items():
            if info.file_size > self.budget.file_bytes:
                raise self.budget.file_too_big(self.display[key])
        declared = sum(info.file_size for info in self.members.values())
        if declared > self.budget.total_bytes:
            raise LimitExceeded([_too_big(name, declared, self.budget)])


class _ZipErrors:
    """A zip member whose read errors (a corrupt stream) become a located problem."""

    def __init__(self, member, name: str):
        self.member, self.name = member, name

    def read(self, size: int) -> bytes:
        try:
            return self.member.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise _unreadable(self.name, error) from None

    def close(self) -> None:
        self.member.close()


def _unreadable(name: str, error) -> InvalidSource:
    return InvalidSource(
        [Where(name).problem(_("the zip file cannot be read: %(error)s") % {"error": error})]
    )


def _too_big(name: str, size: int, budget: Budget) -> Problem:
    return Where(name).problem(
        _("the bundle unpacks to %(size)s MB; at most %(limit)s MB can be read")
        % {"size": size // MB, "limit": budget.total_bytes // MB}
    )


class BundleReader:
    """One bundle's read: the parsed users, and the problems and warnings so far."""

    def __init__(self, *, name: str, files: _Bundle):
        self.name = name
        self.files = files
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.snapshot = Snapshot(source_format="oneroster", files=[name])
        self.users: dict[str, _User] = {}
        self.deleted_users: set[str] = set()
        self.deleted_count = 0
        self.contact_role: dict[str, str] = {}  # contact id -> parent, guardian or relative
        self.classes: set[str] = set()
        self.deleted_classes: set[str] = set()

    def rows(self, key: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()):
        """The file's display name and its rows, streamed; a file that cannot be read at
        all adds its problems and gives no rows. A cap passed stops the whole read."""
        display = self.files.display[key]
        return display, self._stream(key, display, required=required, optional=optional)

    def _stream(self, key: str, display: str, *, required, optional):
        stream = self.files.open(key)
        try:
            yield from CsvStream(
                stream,
                name=display,
                required=required,
                optional=optional,
                problems=self.problems,
                budget=self.files.budget,
            )
        except LimitExceeded:
            raise
        except InvalidSource as error:
            self.problems.extend(error.problems)
        finally:
            stream.raw.close()

    def warn(self, display: str, line: int, message: str) -> None:
        self.warnings.append(
            _("%(file)s, line %(line)s: %(message)s")
            % {"file": display, "line": line, "message": message}
        )

    def unknown_id(self, where: Where, *, field: str, message: str) -> None:
        """A reference to a record not in the bundle: wrong in a bulk file, usual in a delta."""
        if self.snapshot.full:
            self.problems.append(where.problem(message, field=field))
        else:
            self.warn(where.file, where.line, message + " " + _("(skipped in a delta bundle)"))

    def read(self) -> Snapshot:
        self.read_manifest()
        self.read_users()
        if not self.users and self.problems:
            raise_if_any(self.problems)  # every other check would only repeat "unknown user"
        self.read_roles()
        staff_candidates = self.classify()
        self.read_links()
        groups_read = self.read_classes()
        if groups_read:
            self.read_enrollments(staff_candidates)
        raise_if_any(self.problems)

        snapshot = self.snapshot
        snapshot.covers = {"pupils", "contacts", "links", "staff"}
        if groups_read:
            snapshot.covers |= {"groups:registration", "groups:class"}
        if not snapshot.full and self.deleted_count:
            self.warnings.append(
                _(
                    "%(file)s: %(count)s records are marked 'tobedeleted'; a delta bundle "
                    "only adds and changes records, so they are removed by the next bulk export"
                )
                % {"file": self.name, "count": self.deleted_count}
            )
        snapshot.warnings.extend(self.warnings)
        return snapshot

    def read_manifest(self) -> None:
        if "manifest.csv" not in self.files:
            return
        _display, rows = self.rows("manifest.csv", required=("propertyname", "value"))
        for row in rows:
            prop = row.get("propertyname").lower()
            if prop.startswith("file.") and row.get("value").lower() == "delta":
                self.snapshot.full = False

    def read_users(self) -> None:
        display, rows = self.rows(
            "users.csv",
            required=("sourcedid", "givenname", "familyname"),
            # `role` is not listed: whether the column exists matters (1.2 has roles.csv).
            optional=(
                "status",
                "identifier",
                "email",
                "sms",
                "phone",
                "preferredgivenname",
                "preferredfamilyname",
            ),
        )
        seen: dict[str, int] = {}
        role_checked = "roles.csv" in self.files
        for row in rows:
            if not role_checked:
                role_checked = True
                if "role" not in row.values:
                    self.problems.append(
                        Where(display, line=1).problem(
                            _("the required column is missing (and there is no roles.csv)"),
                            field="role",
                        )
                    )
            at = Where(display, line=row.line)
            sourced_id = self.check_id(row, at=at, seen=seen, limit=ID_MAX)
            if not sourced_id:
                continue
            if row.get("status").lower() == "tobedeleted":
                self.deleted_users.add(sourced_id)
                self.deleted_count += 1
                continue
            agents_field = "agents" if "agents" in row.values else "agentSourcedIds"
            grades = row.get("grades") or row.get("grade")
            # sms is a mobile; OneRoster does not say what kind of phone `phone` is.
            sms, phone = compact_phone(row.get("sms")), compact_phone(row.get("phone"))
            phones = ((("M", sms),) if sms else ()) + (
                (("", phone),) if phone and phone != sms else ()
            )
            self.users[sourced_id] = _User(
                line=row.line,
                sourced_id=sourced_id,
                role=row.get("role").lower(),
                given=self.text(row.get("givenname"), at=at, field="givenName"),
                family=self.text(row.get("familyname"), at=at, field="familyName"),
                # 'preffered' is a misspelling found in real exports.
                preferred_given=self.text(
                    row.get("preferredgivenname") or row.get("prefferedgivenname"),
                    at=at,
                    field="preferredGivenName",
                ),
                preferred_family=self.text(
                    row.get("preferredfamilyname") or row.get("prefferedfamilyname"),
                    at=at,
                    field="preferredFamilyName",
                ),
                identifier=row.get("identifier").upper(),
                email=self.text(row.get("email"), at=at, field="email", limit=EMAIL_MAX),
                phones=phones,
                agents=_split_list(row.get("agentsourcedids") or row.get("agents")),
                agents_field=agents_field,
                grades=_split_list(grades),
            )

    def check_id(self, row: CsvRow, *, at: Where, seen: dict[str, int], limit: int) -> str:
        """The row's sourcedId, or '' with a Problem when it is missing or repeated."""
        sourced_id = row.get("sourcedid")
        if not sourced_id:
            self.problems.append(at.problem(_("the sourcedId is empty"), field="sourcedId"))
            return ""
        if sourced_id in seen:
            self.problems.append(
                at.problem(
                    _("the sourcedId %(id)s is also used on line %(line)s")
                    % {"id": sourced_id, "line": seen[sourced_id]},
                    field="sourcedId",
                )
            )
            return ""
        seen[sourced_id] = row.line
        return limit_length(
            sourced_id, limit=limit, where=at, field="sourcedId", problems=self.problems
        )

    def text(self, value: str, *, at: Where, field: str, limit: int = NAME_MAX) -> str:
        return limit_length(value, limit=limit, where=at, field=field, problems=self.problems)

    def read_roles(self) -> None:
        """OneRoster 1.2: roles.csv gives each user's roles, primary first."""
        if "roles.csv" in self.files:
            display, rows = self.rows(
                "roles.csv", required=("usersourcedid", "role"), optional=("roletype", "status")
            )
            found: dict[str, list[tuple[bool, str]]] = {}
            for row in rows:
                if row.get("status").lower() == "tobedeleted":
                    continue
                user_id = row.get("usersourcedid")
                if user_id in self.deleted_users:
                    continue
                if user_id not in self.users:
                    self.unknown_id(
                        Where(display, line=row.line),
                        field="userSourcedId",
                        message=_("'%(id)s' is not a user in users.csv") % {"id": user_id},
                    )
                    continue
                primary = row.get("roletype").lower() == "primary"
                found.setdefault(user_id, []).append((not primary, row.get("role").lower()))
            for user_id, roles in found.items():
                self.users[user_id].roles = [role for _secondary, role in sorted(roles)]
        for user in self.users.values():
            if not user.roles and user.role:
                user.roles = [user.role]

    def classify(self) -> dict[str, StaffRow]:
        """Make pupils, contacts and teachers; return the adults who are staff if they teach."""
        snapshot = self.snapshot
        display = self.files.display["users.csv"]
        candidates: dict[str, StaffRow] = {}
        for user in self.users.values():
            if not user.roles:
                self.warn(display, user.line, _("the user has no role; skipped"))
                continue
            known = [
                r
                for r in user.roles
                if r in CONTACT_ROLES or r in OTHER_STAFF_ROLES or r in (PUPIL_ROLE, TEACHER_ROLE)
            ]
            if not known:
                self.warn(
                    display,
                    user.line,
                    _("'%(role)s' is not a OneRoster role; the user was skipped")
                    % {"role": ", ".join(user.roles)},
                )
                continue
            if PUPIL_ROLE in known:
                for value, column in ((user.given, "givenName"), (user.family, "familyName")):
                    if not value:
                        self.problems.append(
                            Where(display, line=user.line).problem(
                                _("the student's legal name is missing"), field=column
                            )
                        )
                snapshot.pupils[user.sourced_id] = PupilRow(
                    mis_id=user.sourced_id,
                    upn=user.identifier if _UPN.fullmatch(user.identifier) else "",
                    legal_forename=user.given,
                    legal_surname=user.family,
                    preferred_forename=user.preferred_given,
                    preferred_surname=user.preferred_family,
                    year_group=self.pupil_year(user, display=display),
                )
            contact_role = next((r for r in known if r in CONTACT_ROLES), "")
            if contact_role:
                self.contact_role[user.sourced_id] = contact_role
            if TEACHER_ROLE in known:
                snapshot.staff[user.sourced_id] = _staff_row(user, role=TEACHER_ROLE)
            elif other := next((r for r in known if r in OTHER_STAFF_ROLES), ""):
                candidates[user.sourced_id] = _staff_row(user, role=other)
        return candidates

    def pupil_year(self, user: _User, *, display: str) -> int | None:
        if not user.grades:
            return None
        year = grade_to_year(user.grades[0])
        if year is None:
            self.warn(
                display,
                user.line,
                _("the grade '%(grade)s' is not a UK year group; the year group was left empty")
                % {"grade": user.grades[0]},
            )
        return year

    def read_links(self) -> None:
        """Link pupils and contacts from either side's agentSourcedIds, once each."""
        display = self.files.display["users.csv"]
        pupils, contact_role = self.snapshot.pupils, self.contact_role
        ordered: dict[str, list[str]] = {}
        # The pupil's own list sets the order; links only the contact states come after.
        for side in ("pupil", "contact"):
            for user in self.users.values():
                if side == "pupil" and user.sourced_id not in pupils:
                    continue
                if side == "contact" and user.sourced_id not in contact_role:
                    continue
                for agent in user.agents:
                    at = Where(display, line=user.line)
                    if agent in self.deleted_users:
                        continue
                    if agent not in self.users:
                        self.unknown_id(
                            at,
                            field=user.agents_field,
                            message=_("'%(id)s' is not a user in users.csv") % {"id": agent},
                        )
                        continue
                    pupil_id, contact_id = (
                        (user.sourced_id, agent) if side == "pupil" else (agent, user.sourced_id)
                    )
                    other = agent
                    wanted = contact_role if side == "pupil" else pupils
                    if other not in wanted:
                        roles = ", ".join(self.users[other].roles) or _("no role")
                        self.warn(
                            display,
                            user.line,
                            _(
                                "%(field)s names %(id)s (%(roles)s), who is not a %(wanted)s; "
                                "that link was not loaded"
                            )
                            % {
                                "field": user.agents_field,
                                "id": other,
                                "roles": roles,
                                "wanted": _("parent, guardian or relative")
                                if side == "pupil"
                                else _("student"),
                            },
                        )
                        continue
                    links = ordered.setdefault(pupil_id, [])
                    if contact_id not in links:
                        links.append(contact_id)

        linked: set[str] = set()
        for pupil_id, contact_ids in ordered.items():
            for priority, contact_id in enumerate(contact_ids, start=1):
                role = contact_role[contact_id]
                self.snapshot.links[(pupil_id, contact_id)] = LinkRow(
                    pupil_id=pupil_id,
                    contact_id=contact_id,
                    relationship=role,
                    parental_responsibility=CONTACT_ROLES[role],
                    priority=priority,
                )
                linked.add(contact_id)
        for contact_id in contact_role:
            user = self.users[contact_id]
            if contact_id not in linked:
                # An unlinked contact would be removed by the sync as soon as it was added.
                self.warn(display, user.line, _("the contact is linked to no pupil; skipped"))
                continue
            self.snapshot.contacts[contact_id] = ContactRow(
                mis_id=contact_id,
                forename=user.preferred_given or user.given,
                surname=user.preferred_family or user.family,
                email=user.email,
                phones=user.phones,
            )

    def read_classes(self) -> bool:
        """classes.csv to groups; False when there is none."""
        if "classes.csv" not in self.files:
            return False
        display, rows = self.rows(
            "classes.csv",
            required=("sourcedid", "title", "classtype"),
            optional=("status", "subjects"),
        )
        seen: dict[str, int] = {}
        for row in rows:
            at = Where(display, line=row.line)
            sourced_id = self.check_id(row, at=at, seen=seen, limit=ID_MAX)
            if not sourced_id:
                continue
            if row.get("status").lower() == "tobedeleted":
                self.deleted_classes.add(sourced_id)
                self.deleted_count += 1
                continue
            class_type = parse_choice(
                row.get("classtype"),
                choices=CLASS_KINDS,
                where=at,
                field="classType",
                problems=self.problems,
            )
            title = self.text(row.get("title"), at=at, field="title")
            if not title:
                self.problems.append(at.problem(_("the class has no title"), field="title"))
            subjects = _split_list(row.get("subjects"))
            subject = self.text(subjects[0] if subjects else "", at=at, field="subjects")
            years = {grade_to_year(g) for g in _split_list(row.get("grades") or row.get("grade"))}
            self.classes.add(sourced_id)
            if class_type:
                self.snapshot.groups[sourced_id] = GroupRow(
                    mis_id=sourced_id,
                    kind=CLASS_KINDS[class_type],
                    name=title,
                    subject=subject if class_type == "scheduled" else "",
                    # A class spanning several years (or none known) has no one year group.
                    year_group=years.pop() if len(years) == 1 else None,
                )
        return True

    def read_enrollments(self, candidates: dict[str, StaffRow]) -> None:
        if "enrollments.csv" not in self.files:
            return
        display, rows = self.rows(
            "enrollments.csv",
            required=("classsourcedid", "usersourcedid", "role"),
            optional=("status",),
        )
        snapshot = self.snapshot
        for row in rows:
            if row.get("status").lower() == "tobedeleted":
                continue
            at = Where(display, line=row.line)
            class_id, user_id = row.get("classsourcedid"), row.get("usersourcedid")
            role = row.get("role").lower()
            if class_id in self.deleted_classes or user_id in self.deleted_users:
                continue
            if class_id not in self.classes:
                self.unknown_id(
                    at,
                    field="classSourcedId",
                    message=_("'%(id)s' is not a class in classes.csv") % {"id": class_id},
                )
                continue
            if user_id not in self.users:
                self.unknown_id(
                    at,
                    field="userSourcedId",
                    message=_("'%(id)s' is not a user in users.csv") % {"id": user_id},
                )
                continue
            if class_id not in snapshot.groups:
                continue  # its classType was wrong, which is already a problem
            if role == PUPIL_ROLE:
                if user_id in snapshot.pupils:
                    snapshot.memberships.add((class_id, user_id))
                else:
                    self.warn(
                        display,
                        row.line,
                        _("%(id)s is enrolled as a student but is not one; skipped")
                        % {"id": user_id},
                    )
            elif role == TEACHER_ROLE:
                if user_id in candidates:
                    snapshot.staff[user_id] = candidates[user_id]
                if user_id in snapshot.staff:
                    snapshot.group_teachers.add((class_id, user_id))
                else:
                    self.warn(
                        display,
                        row.line,
                        _("%(id)s is enrolled as a teacher but is not staff; skipped")
                        % {"id": user_id},
                    )


def _staff_row(user: _User, *, role: str) -> StaffRow:
    return StaffRow(
        mis_id=user.sourced_id,
        forename=user.preferred_given or user.given,
        surname=user.preferred_family or user.family,
        email=user.email,
        role=role[:ROLE_MAX],
    )


def _split_list(value: str) -> list[str]:
    """A OneRoster list ("a,b" in one quoted field) as trimmed, non-empty items."""
    return [item.strip() for item in value.split(",") if item.strip()]


def grade_to_year(grade: str) -> int | None:
    """A OneRoster grade as a UK National Curriculum year, or None when it is not one.

    '7', '07', 'Year 7', 'Y7' -> 7; R, Reception, KG -> 0; PK -> -1 (N1, N2 as in a CTF)."""
    text = grade.strip().upper()
    if text in GRADE_CODES:
        return GRADE_CODES[text]
    match = _YEAR_NUMBER.fullmatch(text)
    if match and YEAR_RANGE[0] <= int(match.group(1)) <= YEAR_RANGE[1]:
        return int(match.group(1))
    return None
