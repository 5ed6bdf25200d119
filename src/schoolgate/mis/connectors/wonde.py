"""Wonde (the integration layer most UK MIS data flows through): students with their
contacts, employees, classes, registration groups and lessons, read in full over
`meta.pagination.next` into a `Snapshot` (docs/import-wonde.md)."""

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

from django.utils.translation import gettext as _

from schoolgate.mis.connectors import authorised_get
from schoolgate.mis.connectors.auth import Bearer
from schoolgate.mis.connectors.http import FetchError, HttpClient, Limits
from schoolgate.mis.importers.common import Where, compact_phone, limit_length, raise_if_any
from schoolgate.mis.snapshot import (
    ContactRow,
    GroupRow,
    LinkRow,
    Problem,
    PupilRow,
    Snapshot,
    StaffRow,
)

DEFAULT_API_URL = "https://api.wonde.com/v1.0"
PER_PAGE = 200
MAX_PAGES = 100_000
_UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
ID_MAX, NAME_MAX, EMAIL_MAX, TITLE_MAX, ROLE_MAX, REL_MAX = 100, 100, 254, 35, 100, 100
# Wonde phone keys -> the CTF telephone types the mirror keeps.
PHONE_TYPES = (("home", "H"), ("mobile", "M"), ("work", "W"), ("phone", ""), ("primary", ""))
INCLUDES = {
    "students": "contacts.contact_details,education_details,year",
    "employees": "contact_details,employment_details",
    "classes": "students,employees,subject",
    "groups": "students,employees",
    "lessons": "",
}


@dataclass
class WondeSource:
    school_id: str
    token: str
    api_url: str = DEFAULT_API_URL

    @property
    def school_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/schools/{quote(self.school_id, safe='')}"


class WondePull:
    def __init__(
        self, source: WondeSource, *, limits: Limits | None = None, client: HttpClient | None = None
    ):
        self.source = source
        self.client = client or HttpClient(limits=limits or Limits.from_settings())
        self.auth = Bearer(source.token)
        self.pages_read = 0

    def collection(self, name: str) -> list[dict]:
        query = {"per_page": PER_PAGE}
        if INCLUDES[name]:
            query["include"] = INCLUDES[name]
        url = f"{self.source.school_url}/{name}?{urlencode(query)}"
        records: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            data, _response = authorised_get(self.client, self.auth, url)
            self.pages_read += 1
            items = data.get("data") if isinstance(data, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise FetchError(
                    _("%(url)s (page %(page)s of %(name)s) does not hold a 'data' list")
                    % {"url": url, "page": page, "name": name},
                    url=url,
                )
            records.extend(items)
            pagination = (data.get("meta") or {}).get("pagination") or {}
            following = pagination.get("next")
            if not following:
                if pagination.get("more"):
                    raise FetchError(
                        _("%(url)s: Wonde said there are more %(name)s but gave no next page")
                        % {"url": url, "name": name},
                        url=url,
                    )
                return records
            url = following
        raise FetchError(
            _("%(name)s: more than %(pages)s pages; stopped") % {"name": name, "pages": MAX_PAGES}
        )

    def read(self) -> Snapshot:
        return read_records(
            students=self.collection("students"),
            employees=self.collection("employees"),
            classes=self.collection("classes"),
            groups=self.collection("groups"),
            lessons=self.collection("lessons"),
            name=self.source.school_url,
        )


def _data(value) -> list | dict | None:
    """Wonde wraps every include as {"data": ...}."""
    return value.get("data") if isinstance(value, dict) else None


def _list(value) -> list[dict]:
    items = _data(value)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _str(value) -> str:
    return str(value).strip() if value not in (None, "") else ""


def _flag(value) -> bool:
    return value is True or _str(value).lower() in ("true", "1", "yes", "y")


class _Reader:
    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []
        self.snapshot = Snapshot(source_format="wonde", files=[name])
        self.pupil_ids: dict[str, str] = {}  # Wonde student id -> pupil mis_id
        self.pupil_years: dict[str, int | None] = {}

    def where(self, collection: str, n: int, record: dict) -> Where:
        return Where(f"{self.name}/{collection}", line=n, element=_str(record.get("id")))

    def text(self, value, *, at: Where, field: str, limit: int) -> str:
        return limit_length(_str(value), limit=limit, where=at, field=field, problems=self.problems)

    def students(self, records: list[dict]) -> None:
        snapshot = self.snapshot
        for n, record in enumerate(records, start=1):
            at = self.where("students", n, record)
            wonde_id = _str(record.get("id"))
            if not wonde_id:
                self.problems.append(at.problem(_("the student has no id"), field="id"))
                continue
            education = _data(record.get("education_details")) or {}
            upn = _str(education.get("upn")).upper()
            mis_id = upn if _UPN.fullmatch(upn) else wonde_id
            if mis_id in snapshot.pupils:
                self.problems.append(
                    at.problem(
                        _("the UPN %(upn)s is also another student's") % {"upn": upn}, field="upn"
                    )
                )
                continue
            legal_forename = self.text(
                record.get("legal_forename") or record.get("forename"),
                at=at,
                field="legal_forename",
                limit=NAME_MAX,
            )
            legal_surname = self.text(
                record.get("legal_surname") or record.get("surname"),
                at=at,
                field="legal_surname",
                limit=NAME_MAX,
            )
            if not legal_forename or not legal_surname:
                self.problems.append(
                    at.problem(_("the student's legal name is missing"), field="legal_surname")
                )
                continue
            year = _year(education.get("current_nc_year"))
            if year is None:
                year = _year((_data(record.get("year")) or {}).get("code"))
            self.pupil_ids[wonde_id] = mis_id
            self.pupil_years[mis_id] = year
            snapshot.pupils[mis_id] = PupilRow(
                mis_id=mis_id,
                upn=upn if _UPN.fullmatch(upn) else "",
                legal_forename=legal_forename,
                legal_surname=legal_surname,
                preferred_forename=self.text(
                    record.get("forename"), at=at, field="forename", limit=NAME_MAX
                ),
                preferred_surname=self.text(
                    record.get("surname"), at=at, field="surname", limit=NAME_MAX
                ),
                date_of_birth=_date(record.get("date_of_birth")),
                year_group=year,
            )
            for contact in _list(record.get("contacts")):
                self.contact(contact, pupil_id=mis_id, at=at)

    def contact(self, record: dict, *, pupil_id: str, at: Where) -> None:
        contact_id = _str(record.get("id"))
        if not contact_id:
            self.problems.append(
                at.problem(_("a contact of the student has no id"), field="contacts")
            )
            return
        at = Where(at.file, line=at.line, element=f"{at.element}/contacts/{contact_id}")
        details = _data(record.get("contact_details")) or {}
        emails = details.get("emails") if isinstance(details.get("emails"), dict) else {}
        phones_in = details.get("phones") if isinstance(details.get("phones"), dict) else {}
        email = next(
            (
                _str(emails.get(k))
                for k in ("email", "primary", "home", "work")
                if _str(emails.get(k))
            ),
            "",
        )
        phones = []
        for key, kind in PHONE_TYPES:
            number = compact_phone(_str(phones_in.get(key)))
            if number and number not in (p for _k, p in phones):
                phones.append((kind, number))
        forename = self.text(
            record.get("forename") or record.get("legal_forename"),
            at=at,
            field="forename",
            limit=NAME_MAX,
        )
        surname = self.text(
            record.get("surname") or record.get("legal_surname"),
            at=at,
            field="surname",
            limit=NAME_MAX,
        )
        if not forename and not surname:
            self.problems.append(at.problem(_("the contact has neither a forename nor a surname")))
            return
        self.snapshot.contacts[contact_id] = ContactRow(
            mis_id=contact_id,
            forename=forename,
            surname=surname,
            title=self.text(record.get("title"), at=at, field="title", limit=TITLE_MAX),
            email=self.text(email, at=at, field="emails", limit=EMAIL_MAX),
            phones=tuple(phones),
        )
        relation = (
            record.get("relationship") if isinstance(record.get("relationship"), dict) else {}
        )
        priority = relation.get("priority")
        try:
            priority = int(priority) if priority not in (None, "") else None
        except (TypeError, ValueError):
            self.problems.append(
                at.problem(
                    _("'%(value)s' is not a whole number") % {"value": priority},
                    field="relationship.priority",
                )
            )
            priority = None
        self.snapshot.links[(pupil_id, contact_id)] = LinkRow(
            pupil_id=pupil_id,
            contact_id=contact_id,
            relationship=self.text(
                relation.get("relationship"), at=at, field="relationship", limit=REL_MAX
            ),
            parental_responsibility=_flag(relation.get("parental_responsibility")),
            priority=priority,
            court_order=_flag(relation.get("court_order")),
        )

    def employees(self, records: list[dict]) -> None:
        for n, record in enumerate(records, start=1):
            at = self.where("employees", n, record)
            staff_id = self.text(record.get("id"), at=at, field="id", limit=ID_MAX)
            if not staff_id:
                self.problems.append(at.problem(_("the employee has no id"), field="id"))
                continue
            details = _data(record.get("contact_details")) or {}
            emails = details.get("emails") if isinstance(details.get("emails"), dict) else {}
            email = next(
                (
                    _str(emails.get(k))
                    for k in ("email", "work", "primary", "home")
                    if _str(emails.get(k))
                ),
                "",
            )
            employment = _data(record.get("employment_details")) or {}
            self.snapshot.staff[staff_id] = StaffRow(
                mis_id=staff_id,
                title=self.text(record.get("title"), at=at, field="title", limit=TITLE_MAX),
                forename=self.text(
                    record.get("forename") or record.get("legal_forename"),
                    at=at,
                    field="forename",
                    limit=NAME_MAX,
                ),
                surname=self.text(
                    record.get("surname") or record.get("legal_surname"),
                    at=at,
                    field="surname",
                    limit=NAME_MAX,
                ),
                email=self.text(email, at=at, field="emails", limit=EMAIL_MAX),
                role=_str(employment.get("job_title") or employment.get("staff_role"))[:ROLE_MAX],
            )

    def groups(self, records: list[dict], *, collection: str) -> None:
        snapshot = self.snapshot
        for n, record in enumerate(records, start=1):
            at = self.where(collection, n, record)
            if collection == "groups" and _str(record.get("type")).upper() != "REGISTRATION":
                continue  # houses, years and the like are not groups parents see
            group_id = self.text(record.get("id"), at=at, field="id", limit=ID_MAX)
            name = self.text(record.get("name"), at=at, field="name", limit=NAME_MAX)
            if not group_id or not name:
                self.problems.append(at.problem(_("the group has no id or no name"), field="name"))
                continue
            members = [
                self.pupil_ids[s["id"]]
                for s in _list(record.get("students"))
                if s.get("id") in self.pupil_ids
            ]
            years = {self.pupil_years.get(m) for m in members}
            subject = (_data(record.get("subject")) or {}) if collection == "classes" else {}
            snapshot.groups[group_id] = GroupRow(
                mis_id=group_id,
                kind="class" if collection == "classes" else "registration",
                name=name,
                subject=self.text(subject.get("name"), at=at, field="subject", limit=NAME_MAX),
                # Wonde gives a class no year: the one its pupils share, if they do.
                year_group=years.pop() if len(years) == 1 else None,
            )
            snapshot.memberships |= {(group_id, m) for m in members}
            for employee in _list(record.get("employees")):
                if _str(employee.get("id")) in snapshot.staff:
                    snapshot.group_teachers.add((group_id, _str(employee.get("id"))))

    def lessons(self, records: list[dict]) -> None:
        """The timetable: whoever teaches a class's lessons teaches the class."""
        snapshot = self.snapshot
        for record in records:
            class_id = _ref(record.get("class"))
            staff_id = _ref(record.get("employee"))
            if class_id in snapshot.groups and staff_id in snapshot.staff:
                snapshot.group_teachers.add((class_id, staff_id))


def _ref(value) -> str:
    """A lesson's class or employee: an id, or an included object with one."""
    if isinstance(value, dict):
        inner = _data(value)
        return _str((inner if isinstance(inner, dict) else value).get("id"))
    return _str(value)


def _year(value) -> int | None:
    text = _str(value).upper().removeprefix("YEAR").removeprefix("Y").strip()
    if text in ("R", "RECEPTION"):
        return 0
    if text in ("N1", "N2"):
        return -2 if text == "N1" else -1
    try:
        year = int(text)
    except ValueError:
        return None
    return year if -2 <= year <= 14 else None


def _date(value) -> date | None:
    text = _str(value.get("date") if isinstance(value, dict) else value)[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def read_records(*, students, employees, classes, groups, lessons, name: str) -> Snapshot:
    reader = _Reader(name)
    reader.students(students)
    reader.employees(employees)
    reader.groups(classes, collection="classes")
    reader.groups(groups, collection="groups")
    reader.lessons(lessons)
    raise_if_any(reader.problems)
    snapshot = reader.snapshot
    snapshot.covers = {
        "pupils",
        "contacts",
        "links",
        "staff",
        "groups:registration",
        "groups:class",
    }
    return snapshot
