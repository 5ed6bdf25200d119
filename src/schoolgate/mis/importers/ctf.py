"""DfE Common Transfer File (CTF) XML: pupils, their contacts and the links between them.

The file is streamed (iterparse, each Pupil cleared once read) with a parser that
never touches the network or expands entities. See docs/import-ctf.md for the
field mapping and how a contact, which has no id in a CTF, is identified."""

import re
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from schoolgate.core.emails import normalise_email
from schoolgate.mis.importers.common import (
    CHUNK,
    Budget,
    CappedReader,
    LimitExceeded,
    Where,
    check_problems,
    limit_length,
    open_capped,
    parse_bool,
    parse_date,
    parse_int,
    parse_year_group,
    raise_if_any,
    stable_id,
)
from schoolgate.mis.snapshot import (
    AttendanceRow,
    ContactRow,
    InvalidSource,
    LinkRow,
    Problem,
    PupilRow,
    Snapshot,
)

ROOT = "CTfile"
COVERS = frozenset({"pupils", "contacts", "links"})
# Column limits of the mirror, checked here so a long value is a located problem.
NAME_MAX, TITLE_MAX, RELATIONSHIP_MAX, EMAIL_MAX = 100, 30, 60, 254
UPN_LENGTH = 13
PRIORITY_MAX = 999
SCHOOL_NAME_MAX = 200
# A school year has about 380 sessions (half days); anything far above is a bad value.
SESSIONS_MAX = 1000
SESSION_FIELDS = (
    ("possible", "SessionsPossible"),
    ("attended", "SessionsAttended"),
    ("authorised", "SessionsAuthorised"),
    ("unauthorised", "SessionsUnauthorised"),
)
# Elements held at once: a real pupil has a few hundred (contacts, attendance,
# assessment results); this bounds the tree lxml builds to a few MB.
HELD_ELEMENTS_MAX = 100_000
_LXML_WHERE = re.compile(r",? line \d+, column \d+$")


def _children(element) -> dict:
    """An element's child elements by local name (the first of each), namespace stripped."""
    found = {}
    for child in element:
        tag = child.tag
        if tag.__class__ is str:  # comments and processing instructions are not
            if tag[0] == "{":
                tag = tag[tag.index("}") + 1 :]
            if tag not in found:
                found[tag] = child
    return found


def _raw(children: dict, tag: str) -> str:
    """The trimmed text of a child ('' when it is absent or empty)."""
    element = children.get(tag)
    if element is None:
        return ""
    text = element.text
    return text.strip() if text else ""


class _Reader:
    """State of one file's read: rows so far, problems, and where each UPN was seen."""

    def __init__(self, name: str, budget: Budget):
        self.name, self.budget = name, budget
        self.snapshot = Snapshot(source_format="ctf", files=[name])
        self.problems: list[Problem] = []
        self.upn_seen: dict[str, tuple[int, int | None]] = {}
        self.qualifier_seen = False
        self.pupil_count = 0

    def text(self, children: dict, tag: str, *, where: Where, field: str, limit: int) -> str:
        """A child's trimmed text, or a located problem when it is too long to keep."""
        element = children.get(tag)
        if element is None:
            return ""
        value = element.text
        if not value:
            return ""
        value = value.strip()
        if len(value) > limit:
            return limit_length(
                value, limit=limit, where=where, field=field, problems=self.problems
            )
        return value

    def header(self, element) -> None:
        self.qualifier_seen = True
        qualifier = _raw(_children(element), "DocumentQualifier").lower()
        if qualifier == "full":
            self.snapshot.covers |= COVERS
        elif qualifier == "partial":
            self.snapshot.full = False
        elif qualifier:
            self.problems.append(
                Where(
                    self.name, line=element.sourceline, element="Header/DocumentQualifier"
                ).problem(_("'%(value)s' is neither 'full' nor 'partial'") % {"value": qualifier})
            )
        else:
            self.snapshot.full = False
            self.snapshot.warnings.append(
                _(
                    "%(file)s: the header does not say whether the file is full or partial; "
                    "it was read as partial, so nothing absent from it was removed"
                )
                % {"file": self.name}
            )

    def pupil(self, element) -> None:
        self.pupil_count += 1
        label = f"Pupil[{self.pupil_count}]"
        at = Where(self.name, line=element.sourceline, element=label)
        problems = self.problems
        fields = _children(element)

        upn = _raw(fields, "UPN").upper()
        upn_element = fields.get("UPN")
        upn_at = Where(
            self.name,
            line=(upn_element if upn_element is not None else element).sourceline,
            element=f"{label}/UPN",
        )
        if not upn:
            problems.append(
                upn_at.problem(_("the pupil has no UPN, which Schoolgate needs to identify them"))
            )
            return
        if len(upn) != UPN_LENGTH or not upn.isalnum():
            problems.append(
                upn_at.problem(
                    _("'%(value)s' is not a UPN (13 letters and digits)") % {"value": upn}
                )
            )
            return
        if upn in self.upn_seen:
            first, first_line = self.upn_seen[upn]
            problems.append(
                upn_at.problem(
                    _("the UPN %(upn)s is also used by Pupil[%(first)s] on line %(line)s")
                    % {"upn": upn, "first": first, "line": first_line}
                )
            )
            return
        self.upn_seen[upn] = (self.pupil_count, element.sourceline)

        surname = self.text(fields, "Surname", where=at, field="Surname", limit=NAME_MAX)
        forename = self.text(fields, "Forename", where=at, field="Forename", limit=NAME_MAX)
        for value, field in ((surname, "Surname"), (forename, "Forename")):
            if not value:
                problems.append(at.problem(_("the pupil's legal name is missing"), field=field))
        basic = fields.get("BasicDetails")
        basic = _children(basic) if basic is not None else {}
        self.snapshot.pupils[upn] = PupilRow(
            mis_id=upn,
            upn=upn,
            legal_surname=surname,
            legal_forename=forename,
            preferred_surname=self.text(
                basic,
                "PreferredSurname",
                where=at,
                field="BasicDetails/PreferredSurname",
                limit=NAME_MAX,
            ),
            preferred_forename=self.text(
                basic,
                "PreferredForename",
                where=at,
                field="BasicDetails/PreferredForename",
                limit=NAME_MAX,
            ),
            date_of_birth=parse_date(_raw(fields, "DOB"), where=at, field="DOB", problems=problems),
            year_group=parse_year_group(
                _raw(basic, "NCyearActual"),
                where=at,
                field="BasicDetails/NCyearActual",
                problems=problems,
            ),
        )

        links = []
        index = 0
        for contact in fields.get("Contacts", ()):
            tag = contact.tag
            if tag.__class__ is not str or not tag.endswith("Contact"):
                continue  # a comment, or an element a later CTF version added
            index += 1
            # Each contact is kept (a contact and a link): it counts as a row too.
            self.budget.count_row(name=self.name, line=contact.sourceline, element=label)
            link = self.contact(contact, upn=upn, label=f"{label}/Contacts/Contact[{index}]")
            if link is not None:
                links.append(link)
        # Priority is the link's Order, whatever order the file lists contacts in.
        links.sort(key=lambda link: (link.priority is None, link.priority or 0))
        for link in links:
            key = (upn, link.contact_id)
            if key in self.snapshot.links:
                link = _merge_links(self.snapshot.links[key], link)
            self.snapshot.links[key] = link

        attendance = fields.get("Attendance")
        if attendance is not None:
            self.attendance(attendance, upn=upn, label=f"{label}/Attendance")

    def attendance(self, element, *, upn: str, label: str) -> None:
        """Each YearData: sessions possible, attended and absent (authorised or not).

        Two entries for the same year and school (periods of one year) are added up."""
        self.snapshot.attendance_pupils.add(upn)
        index = 0
        for year_data in element:
            tag = year_data.tag
            if tag.__class__ is not str or not tag.endswith("YearData"):
                continue
            index += 1
            at = Where(self.name, line=year_data.sourceline, element=f"{label}/YearData[{index}]")
            fields = _children(year_data)
            year = parse_int(
                _raw(fields, "Year"),
                where=at,
                field="Year",
                problems=self.problems,
                minimum=1900,
                maximum=2999,
            )
            if year is None:
                if not _raw(fields, "Year"):
                    self.problems.append(at.problem(_("the attendance has no year"), field="Year"))
                continue
            school = "/".join(p for p in (_raw(fields, "LEA"), _raw(fields, "Estab")) if p)
            sessions = {
                name: parse_int(
                    _raw(fields, tag),
                    where=at,
                    field=tag,
                    problems=self.problems,
                    minimum=0,
                    maximum=SESSIONS_MAX,
                )
                for name, tag in SESSION_FIELDS
            }
            row = AttendanceRow(
                pupil_id=upn,
                year=year,
                school=school[:20],
                school_name=self.text(
                    fields, "SchoolName", where=at, field="SchoolName", limit=SCHOOL_NAME_MAX
                ),
                **sessions,
            )
            key = (upn, year, row.school)
            if key in self.snapshot.attendance:
                row = _add_attendance(self.snapshot.attendance[key], row)
            self.snapshot.attendance[key] = row

    def contact(self, element, *, upn: str, label: str) -> LinkRow | None:
        problems = self.problems
        at = Where(self.name, line=element.sourceline, element=label)
        fields = _children(element)
        forename = self.text(fields, "Forename", where=at, field="Forename", limit=NAME_MAX)
        surname = self.text(fields, "Surname", where=at, field="Surname", limit=NAME_MAX)
        title = self.text(fields, "Title", where=at, field="Title", limit=TITLE_MAX)
        email = self.text(fields, "Email", where=at, field="Email", limit=EMAIL_MAX)
        phones = []
        for phone in fields.get("Phones", ()):
            kind = number = None
            for part in phone:
                tag = part.tag
                if tag.__class__ is str:
                    if tag.endswith("PhoneNo"):
                        number = part.text
                    elif tag.endswith("TelephoneType"):
                        kind = part.text
            number = "".join(number.split()) if number else ""  # SIMS puts spaces inside
            if number:
                phones.append((kind.strip().upper() if kind else "", number))

        # CTF names the PR flag Responsibility; some writers use Responsible.
        field = "Responsibility" if "Responsibility" in fields else "Responsible"
        court_order = ""
        for part in fields.get("SuppInfo", ()):
            if part.tag.__class__ is str and part.tag.endswith("CourtOrder"):
                court_order = part.text
        relationship = self.text(
            fields, "Relationship", where=at, field="Relationship", limit=RELATIONSHIP_MAX
        )
        responsibility = parse_bool(_raw(fields, field), where=at, field=field, problems=problems)
        priority = parse_int(
            _raw(fields, "Order"),
            where=at,
            field="Order",
            problems=problems,
            minimum=1,
            maximum=PRIORITY_MAX,
        )
        court_order = parse_bool(
            court_order,
            where=at,
            field="SuppInfo/CourtOrder",
            problems=problems,
        )
        if not forename and not surname:
            problems.append(at.problem(_("the contact has neither a forename nor a surname")))
            return None

        row = ContactRow(
            mis_id=contact_id(
                forename=forename, surname=surname, email=email, phones=phones, upn=upn
            ),
            forename=forename,
            surname=surname,
            title=title,
            email=email,
            phones=tuple(dict.fromkeys(phones)),
        )
        contacts = self.snapshot.contacts
        if row.mis_id in contacts:
            row = _merge_contacts(contacts[row.mis_id], row)
        contacts[row.mis_id] = row
        return LinkRow(
            pupil_id=upn,
            contact_id=row.mis_id,
            relationship=relationship,
            parental_responsibility=responsibility,
            priority=priority,
            court_order=court_order,
        )


def contact_id(*, forename: str, surname: str, email: str, phones: list, upn: str) -> str:
    """A contact's id, the same for the same person under each sibling.

    Names with the email when there is one; else names with the first phone; else
    names with the pupil's UPN, so that people who cannot be told apart stay apart."""
    names = (forename.casefold(), surname.casefold())
    if email:
        return stable_id("ctf:", "email", *names, normalise_email(email))
    if phones:
        digits = "".join(ch for ch in phones[0][1] if ch.isdigit())
        return stable_id("ctf:", "phone", *names, digits)
    return stable_id("ctf:", "upn", *names, upn)


def _merge_contacts(first: ContactRow, other: ContactRow) -> ContactRow:
    """One person seen under two siblings: keep the first details, add new phones."""
    return ContactRow(
        mis_id=first.mis_id,
        forename=first.forename or other.forename,
        surname=first.surname or other.surname,
        title=first.title or other.title,
        email=first.email or other.email,
        phones=tuple(dict.fromkeys(first.phones + other.phones)),
    )


def _add_attendance(first: AttendanceRow, other: AttendanceRow) -> AttendanceRow:
    def add(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return AttendanceRow(
        pupil_id=first.pupil_id,
        year=first.year,
        school=first.school,
        school_name=first.school_name or other.school_name,
        **{name: add(getattr(first, name), getattr(other, name)) for name, _t in SESSION_FIELDS},
    )


def _merge_links(first: LinkRow, other: LinkRow) -> LinkRow:
    """One person listed twice under the same pupil: the stronger of each flag."""
    priorities = [p for p in (first.priority, other.priority) if p is not None]
    return LinkRow(
        pupil_id=first.pupil_id,
        contact_id=first.contact_id,
        relationship=first.relationship or other.relationship,
        parental_responsibility=first.parental_responsibility or other.parental_responsibility,
        priority=min(priorities) if priorities else None,
        court_order=first.court_order or other.court_order,
        no_contact=first.no_contact or other.no_contact,
    )


def _parser_options() -> dict:
    # No DTD, no network, no entity expansion, no unbounded text nodes.
    return {
        "resolve_entities": False,
        "no_network": True,
        "huge_tree": False,
        "load_dtd": False,
        "dtd_validation": False,
    }


class _XmlStream(CappedReader):
    """The capped byte stream lxml parses, also counting the elements begun since the
    last pupil was freed: everything read between two frees is held in the tree, so
    that span is capped too (a flood of elements inside or between pupils)."""

    def __init__(self, raw, *, name: str, budget: Budget):
        super().__init__(raw, name=name, budget=budget)
        self.since_free = 0

    def read(self, size: int = CHUNK) -> bytes:
        data = super().read(size)
        self.since_free += data.count(b"<")
        if self.since_free > HELD_ELEMENTS_MAX:
            raise LimitExceeded(
                [
                    Problem(
                        file=self.name,
                        message=_(
                            "more than %(count)s elements come inside one pupil or between two "
                            "pupils: this is not a CTF"
                        )
                        % {"count": f"{HELD_ELEMENTS_MAX:,}"},
                    )
                ]
            )
        return data


def read(path: Path, *, name: str, budget: Budget | None = None) -> Snapshot:
    """Read a CTF file; raise InvalidSource listing every problem found."""
    budget = budget or Budget.from_settings()
    reader = _Reader(name, budget)
    root = None
    stream = open_capped(path, name=name, budget=budget)
    stream = _XmlStream(stream.raw, name=name, budget=budget)
    try:
        context = etree.iterparse(
            stream,
            events=("end",),
            tag=("{*}Header", "{*}Pupil"),
            **_parser_options(),
        )
        for _event, element in context:
            if root is None:
                root = element.getroottree().getroot()
                _check_document(root, name=name)
            parent = element.getparent()
            if element.tag.endswith("Pupil"):
                budget.count_row(name=name, line=element.sourceline, element="Pupil")
                reader.pupil(element)
                check_problems(reader.problems)
            elif parent is root:
                reader.header(element)
            else:
                continue
            # Free what has been read, so a large file streams in little memory.
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
            stream.since_free = 0
        if root is None:  # no Header or Pupil at all: say what the file is instead
            _check_document(context.root, name=name)
    except etree.XMLSyntaxError as error:
        reader.problems.append(_syntax_problem(error, name=name))
        raise InvalidSource(reader.problems) from None
    except OSError as error:
        raise InvalidSource(
            [Problem(file=name, message=_("the file cannot be read: %(error)s") % {"error": error})]
        ) from None
    finally:
        stream.raw.close()
    if not reader.qualifier_seen:
        reader.header(etree.Element("Header"))
    if reader.snapshot.full and not reader.pupil_count and not reader.problems:
        reader.problems.append(
            Problem(
                file=name,
                element="CTFpupilData",
                message=_(
                    "a full CTF with no pupils would take every pupil off roll; check the export"
                ),
            )
        )
    raise_if_any(reader.problems)
    return reader.snapshot


def _check_document(root, *, name: str) -> None:
    if etree.QName(root).localname != ROOT:
        raise InvalidSource(
            [
                Problem(
                    file=name,
                    line=root.sourceline,
                    element=etree.QName(root).localname,
                    message=_("the root element is <%(found)s>, not <CTfile>: this is not a CTF")
                    % {"found": etree.QName(root).localname},
                )
            ]
        )
    if root.getroottree().docinfo.doctype:
        # A CTF never has a DTD; refusing one keeps entity tricks out entirely.
        raise InvalidSource(
            [
                Problem(
                    file=name,
                    line=1,
                    message=_("the file declares a DOCTYPE, which a CTF never has"),
                )
            ]
        )


# What the XML parser says about a file that stops in the middle of an element.
_DAMAGED = (
    "premature end",
    "starttag",
    "endtag",
    "couldn't find end",
    "end of data",
    "expected '>'",
)


def _syntax_problem(error: etree.XMLSyntaxError, *, name: str) -> Problem:
    message = _LXML_WHERE.sub("", error.msg or str(error))
    column = error.position[1] if error.position else None
    lowered = message.lower()
    if "encoding" in lowered or "utf-8" in lowered or ("char" in lowered and "range" in lowered):
        text = _(
            "the file's bytes do not match its declared encoding (column %(column)s): "
            "export it again as UTF-8"
        ) % {"column": column}
    elif "no element found" in lowered or "document is empty" in lowered:
        text = _("the file is empty")
    elif any(sign in lowered for sign in _DAMAGED):
        # A file cut short (a download or copy that stopped) ends inside a tag.
        text = _(
            "the file ends early or is damaged at column %(column)s of this line: export "
            "it from the MIS again and sync the new file"
        ) % {"column": column}
    else:
        text = _("the XML is not well formed (column %(column)s): %(detail)s") % {
            "column": column,
            "detail": message,
        }
    return Problem(file=name, line=max(error.lineno or 1, 1), message=text)
