"""What an importer reads from a file: plain rows keyed by MIS ids, no database.

Importers turn files into a `Snapshot`; the sync engine compares snapshots with the
mirror. Keeping the two apart means each importer is tested on its own, and one
diff engine serves every format."""

from dataclasses import dataclass, field
from datetime import date

# The kinds of record a sync can carry, in the order they are applied.
KINDS = ("pupils", "contacts", "links", "staff", "groups", "memberships", "group_teachers")


@dataclass(frozen=True)
class PupilRow:
    mis_id: str
    legal_forename: str
    legal_surname: str
    upn: str = ""
    preferred_forename: str = ""
    preferred_surname: str = ""
    date_of_birth: date | None = None
    year_group: int | None = None


@dataclass(frozen=True)
class ContactRow:
    mis_id: str
    forename: str = ""
    surname: str = ""
    title: str = ""
    email: str = ""
    phones: tuple[tuple[str, str], ...] = ()  # (type, number) pairs


@dataclass(frozen=True)
class LinkRow:
    pupil_id: str
    contact_id: str
    relationship: str = ""
    parental_responsibility: bool = False
    priority: int | None = None
    court_order: bool = False
    no_contact: bool = False


@dataclass(frozen=True)
class AttendanceRow:
    """One school year's sessions (half days) at one school, from a CTF."""

    pupil_id: str
    year: int
    school: str = ""  # LEA/Estab
    school_name: str = ""
    possible: int | None = None
    attended: int | None = None
    authorised: int | None = None
    unauthorised: int | None = None


@dataclass(frozen=True)
class StaffRow:
    mis_id: str
    forename: str = ""
    surname: str = ""
    title: str = ""
    email: str = ""
    role: str = ""


@dataclass(frozen=True)
class GroupRow:
    mis_id: str
    kind: str  # "registration" or "class"
    name: str
    subject: str = ""
    year_group: int | None = None


@dataclass
class Snapshot:
    """Everything read from the files of one sync.

    `covers` names the kinds the files are the whole truth for: a kind not covered is
    left alone (a CTF says nothing of classes), and a partial file covers nothing
    whose absence would remove records."""

    pupils: dict[str, PupilRow] = field(default_factory=dict)
    contacts: dict[str, ContactRow] = field(default_factory=dict)
    links: dict[tuple[str, str], LinkRow] = field(default_factory=dict)
    staff: dict[str, StaffRow] = field(default_factory=dict)
    groups: dict[str, GroupRow] = field(default_factory=dict)
    memberships: set[tuple[str, str]] = field(default_factory=set)  # (group_id, pupil_id)
    group_teachers: set[tuple[str, str]] = field(default_factory=set)  # (group_id, staff_id)
    # Attendance by (pupil_id, year, school), and the pupils whose attendance the files
    # state in full (a pupil with an Attendance element): only theirs is replaced.
    attendance: dict[tuple[str, int, str], AttendanceRow] = field(default_factory=dict)
    attendance_pupils: set[str] = field(default_factory=set)
    covers: set[str] = field(default_factory=set)
    full: bool = True
    warnings: list[str] = field(default_factory=list)
    source_format: str = ""
    files: list[str] = field(default_factory=list)

    def merge(self, other: "Snapshot") -> None:
        """Add another file's records (e.g. a timetable CSV beside a CTF)."""
        self.pupils.update(other.pupils)
        self.contacts.update(other.contacts)
        self.links.update(other.links)
        self.staff.update(other.staff)
        self.groups.update(other.groups)
        self.memberships |= other.memberships
        self.group_teachers |= other.group_teachers
        self.attendance.update(other.attendance)
        self.attendance_pupils |= other.attendance_pupils
        self.covers |= other.covers
        self.full = self.full and other.full
        self.warnings.extend(other.warnings)
        formats = [f for f in (self.source_format, other.source_format) if f]
        self.source_format = "+".join(dict.fromkeys(formats))
        self.files.extend(other.files)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located in the user's terms."""

    file: str
    message: str
    line: int | None = None
    element: str = ""
    field: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.element:
            where.append(self.element)
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "element": self.element,
            "field": self.field,
            "message": self.message,
            "text": str(self),
        }


class InvalidSource(Exception):
    """The files cannot be synced; `problems` says what is wrong and where."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))
