"""OneRoster 1.1 and 1.2 rostering over REST: users, classes and enrollments, read in
full and handed to the OneRoster importer's own reader, so an API pull and the same
data as a CSV bundle give the same mirror (docs/import-oneroster-api.md)."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from schoolgate.mis.connectors import authorised_get
from schoolgate.mis.connectors.auth import ClientCredentials, OAuth1Signer
from schoolgate.mis.connectors.http import FetchError, HttpClient, Limits
from schoolgate.mis.importers.common import CsvRow
from schoolgate.mis.importers.oneroster import BundleReader
from schoolgate.mis.snapshot import Snapshot

VERSIONS = ("1.1", "1.2")
SERVICE_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
SCOPE_12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
PAGE_SIZE = 500
MAX_PAGES = 100_000  # a service that never says "the end" is stopped, not followed for ever
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


@dataclass
class OneRosterSource:
    url: str
    client_id: str
    client_secret: str
    version: str = "1.2"
    token_url: str = ""  # 1.2; default: <service root>/token

    @property
    def service_url(self) -> str:
        """The service root: the URL as given if it has the OneRoster path, else the usual one."""
        url = self.url.rstrip("/")
        if "/ims/oneroster" in urlsplit(url).path:
            return url
        return url + SERVICE_PATHS[self.version]


class OneRosterPull:
    """One pull: an HTTP client with its byte budget, the auth, and what was read."""

    def __init__(
        self,
        source: OneRosterSource,
        *,
        limits: Limits | None = None,
        client: HttpClient | None = None,
    ):
        if source.version not in VERSIONS:
            raise FetchError(
                _("OneRoster version must be 1.1 or 1.2, not %(v)s") % {"v": source.version}
            )
        self.source = source
        self.client = client or HttpClient(limits=limits or Limits.from_settings())
        if source.version == "1.1":
            self.auth = OAuth1Signer(source.client_id, source.client_secret)
        else:
            parts = urlsplit(source.url)
            token_url = source.token_url or f"{parts.scheme}://{parts.netloc}/token"
            self.auth = ClientCredentials(
                self.client,
                token_url=token_url,
                client_id=source.client_id,
                client_secret=source.client_secret,
                scope=SCOPE_12,
            )
        self.pages_read = 0

    def collection(self, name: str, *, limit: int = PAGE_SIZE) -> list[dict]:
        """Every record of a collection, page by page (limit/offset, X-Total-Count, next link)."""
        root = self.source.service_url
        url = f"{root}/{name}?{urlencode({'limit': limit, 'offset': 0})}"
        records: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            data, response = authorised_get(self.client, self.auth, url)
            self.pages_read += 1
            items = data.get(name) if isinstance(data, dict) else None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise FetchError(
                    _("%(url)s (page %(page)s of %(name)s) does not hold a '%(name)s' list")
                    % {"url": url, "page": page, "name": name},
                    url=url,
                )
            records.extend(items)
            total = _int(response.headers.get("x-total-count"))
            link = _NEXT_LINK.search(response.headers.get("link", ""))
            if total is not None and len(records) >= total:
                return records
            if link:
                url = urljoin(url, link.group(1))
                continue
            # Without a total or a link only an empty page is the end: a service may
            # serve fewer records than the limit asked for on every page.
            if not items:
                if total is not None and len(records) < total:
                    raise FetchError(
                        _(
                            "%(url)s: the service said there are %(total)s %(name)s but the pages "
                            "held %(count)s; a page is missing"
                        )
                        % {"url": url, "total": total, "name": name, "count": len(records)},
                        url=url,
                    )
                return records
            url = _with_offset(url, len(records), limit)
        raise FetchError(
            _("%(name)s: more than %(pages)s pages; stopped") % {"name": name, "pages": MAX_PAGES}
        )

    def read(self) -> Snapshot:
        users = self.collection("users")
        classes = self.collection("classes")
        enrollments = self.collection("enrollments")
        return read_records(
            users=users,
            classes=classes,
            enrollments=enrollments,
            version=self.source.version,
            name=self.source.service_url,
        )


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _with_offset(url: str, offset: int, limit: int) -> str:
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("offset", "limit")
    ]
    query += [("limit", str(limit)), ("offset", str(offset))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refs(value) -> str:
    """A list of GUIDRefs ({"sourcedId": ...}) or strings as the CSV's comma list."""
    if not isinstance(value, list):
        return ""
    ids = [item.get("sourcedId", "") if isinstance(item, dict) else str(item) for item in value]
    return ",".join(i for i in ids if i)


def _text(record: dict, *keys: str) -> str:
    for key in keys:
        value = record.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _ref(value) -> str:
    return str(value.get("sourcedId", "")).strip() if isinstance(value, dict) else ""


class _ApiTables:
    """What the reader asks of a bundle (which files it has, their display names), for
    tables of rows made from JSON records."""

    def __init__(self, *, name: str, keys):
        self.display = {key: f"{name}/{key.removesuffix('.csv')}" for key in keys}

    def __contains__(self, key: str) -> bool:
        return key in self.display


class _ApiReader(BundleReader):
    """The OneRoster importer's reader, fed rows made from JSON records instead of CSV."""

    def __init__(self, *, name: str, tables: dict[str, list[CsvRow]]):
        super().__init__(name=name, files=_ApiTables(name=name, keys=tables))
        self.tables = tables

    def rows(self, key: str, *, required, optional=()):
        return self.files.display[key], self.tables[key]


def read_records(
    *, users: list[dict], classes: list[dict], enrollments: list[dict], version: str, name: str
) -> Snapshot:
    """Records as the REST binding gives them -> the Snapshot the CSV importer would make.

    A record's position in its collection (from 1) stands where a CSV line would."""
    user_rows, role_rows = [], []
    for n, user in enumerate(users, start=1):
        values = {
            "sourcedid": _text(user, "sourcedId"),
            "status": _text(user, "status"),
            "givenname": _text(user, "givenName"),
            "familyname": _text(user, "familyName"),
            "preferredgivenname": _text(user, "preferredFirstName", "preferredGivenName"),
            "preferredfamilyname": _text(user, "preferredLastName", "preferredFamilyName"),
            "identifier": _text(user, "identifier"),
            "email": _text(user, "email"),
            "sms": _text(user, "sms"),
            "phone": _text(user, "phone"),
            "agentsourcedids": _refs(user.get("agents")),
            "grades": ",".join(str(g).strip() for g in user.get("grades") or [] if str(g).strip()),
        }
        if version == "1.1" or "role" in user:
            values["role"] = _text(user, "role")
        for role in user.get("roles") or []:
            if isinstance(role, dict):
                role_rows.append(
                    CsvRow(
                        line=n,
                        values={
                            "usersourcedid": values["sourcedid"],
                            "role": _text(role, "role"),
                            "roletype": _text(role, "roleType"),
                            "status": "",
                        },
                    )
                )
        user_rows.append(CsvRow(line=n, values=values))
    class_rows = [
        CsvRow(
            line=n,
            values={
                "sourcedid": _text(c, "sourcedId"),
                "status": _text(c, "status"),
                "title": _text(c, "title"),
                "classtype": _text(c, "classType"),
                "subjects": ",".join(str(s).strip() for s in c.get("subjects") or []),
                "grades": ",".join(str(g).strip() for g in c.get("grades") or []),
            },
        )
        for n, c in enumerate(classes, start=1)
    ]
    enrollment_rows = [
        CsvRow(
            line=n,
            values={
                "classsourcedid": _ref(e.get("class")),
                "usersourcedid": _ref(e.get("user")),
                "role": _text(e, "role"),
                "status": _text(e, "status"),
            },
        )
        for n, e in enumerate(enrollments, start=1)
    ]
    tables = {"users.csv": user_rows, "classes.csv": class_rows, "enrollments.csv": enrollment_rows}
    if version == "1.2" and role_rows:
        tables["roles.csv"] = role_rows
    snapshot = _ApiReader(name=name, tables=tables).read()
    snapshot.source_format = f"oneroster-api-{version}"
    return snapshot
