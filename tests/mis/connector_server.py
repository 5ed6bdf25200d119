"""A real HTTP server on 127.0.0.1 for the MIS connector tests: the OneRoster REST
binding (OAuth 1.0a for 1.1, OAuth 2 client credentials for 1.2, limit/offset paging
with X-Total-Count or a next link) and the Wonde API (bearer token, cursor paging
through meta.pagination.next), with faults on demand.

The OAuth 1.0a check here is written from RFC 5849 on its own (not with the code under
test), so a signature the connector gets wrong is refused."""

import base64
import csv
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

CLIENT_ID, CLIENT_SECRET = "school-client", "s3cret/with+chars"
WONDE_TOKEN = "wonde-token-123"
OR11_ROOT, OR12_ROOT = "/ims/oneroster/v1p1", "/ims/oneroster/rostering/v1p2"


@dataclass
class State:
    """What the server serves, and the faults it injects (set by each test)."""

    oneroster: dict[str, list[dict]] = field(default_factory=dict)  # collection -> records
    wonde: dict[str, list[dict]] = field(default_factory=dict)
    wonde_school: dict = field(default_factory=dict)
    page_size: int | None = None  # the most records a page holds, whatever limit asks
    paging: str = "total"  # "total" (X-Total-Count), "link" (Link: rel=next), "short" (neither)
    token_uses: int | None = None  # a bearer token stops working after this many uses
    faults: dict[tuple[str, int], list] = field(
        default_factory=dict
    )  # (collection, page) -> actions
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query)
    tokens_issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, int] = field(default_factory=dict)  # token -> uses left


def _pct(value: str) -> str:
    return quote(value, safe="~-._")


def expected_oauth1_signature(method: str, url: str, oauth: dict[str, str], secret: str) -> str:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
    pairs = sorted((_pct(k), _pct(v)) for k, v in params)
    normal = "&".join(f"{k}={v}" for k, v in pairs)
    base = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
    text = "&".join([method, _pct(base), _pct(normal)])
    key = f"{_pct(secret)}&".encode()
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()


class Handler(BaseHTTPRequestHandler):
    server: "Server"

    def log_message(self, *args):  # keep the test output quiet
        pass

    # -- helpers
    def send(self, status: int, body: bytes | dict, headers: dict | None = None, *, length=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    @property
    def state(self) -> State:
        return self.server.state

    def do_POST(self):
        self.state.requests.append(("POST", self.path))
        if self.path != "/token":
            return self.send(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        expected = base64.b64encode(
            f"{CLIENT_ID}:{quote(CLIENT_SECRET, safe='')}".encode()
        ).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self.send(401, {"error": "invalid_client"})
        if form.get("grant_type") != "client_credentials":
            return self.send(400, {"error": "unsupported_grant_type"})
        with self.state.lock:
            self.state.tokens_issued += 1
            token = f"tok-{self.state.tokens_issued}"
            self.state.tokens[token] = self.state.token_uses or 10**9
        self.send(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def do_GET(self):
        self.state.requests.append(("GET", self.path))
        parts = urlsplit(self.path)
        if parts.path.startswith(OR11_ROOT + "/") or parts.path.startswith(OR12_ROOT + "/"):
            return self.oneroster(parts)
        if parts.path.startswith("/v1.0/schools/"):
            return self.wonde(parts)
        self.send(404, {"error": "not found"})

    def authorised_oneroster(self, root: str) -> bool:
        header = self.headers.get("Authorization", "")
        if root == OR11_ROOT:
            if not header.startswith("OAuth "):
                return False
            oauth = {}
            for item in header[6:].split(","):
                name, _eq, value = item.strip().partition("=")
                oauth[unquote(name)] = unquote(value.strip('"'))
            if oauth.get("oauth_consumer_key") != CLIENT_ID:
                return False
            if oauth.get("oauth_signature_method") != "HMAC-SHA1":
                return False
            if abs(int(oauth.get("oauth_timestamp", "0")) - time.time()) > 300:
                return False
            host = self.headers["Host"]
            url = f"http://{host}{self.path}"
            return oauth.get("oauth_signature") == expected_oauth1_signature(
                "GET", url, oauth, CLIENT_SECRET
            )
        token = header.removeprefix("Bearer ")
        with self.state.lock:
            left = self.state.tokens.get(token, 0)
            if left <= 0:
                return False
            self.state.tokens[token] = left - 1
        return True

    def fault(self, collection: str, page: int) -> bool:
        """Act out the next fault queued for this page; True when the response was sent."""
        actions = self.state.faults.get((collection, page))
        if not actions:
            return False
        action = actions.pop(0)
        if isinstance(action, int):
            headers = {"Retry-After": "1"} if action == 429 else {}
            self.send(action, {"error": "injected"}, headers)
            return True
        kind, value = action
        if kind == "retry-after":
            self.send(429, {"error": "slow down"}, {"Retry-After": str(value)})
        elif kind == "sleep":
            time.sleep(value)
            return False  # then answer normally (too late)
        elif kind == "truncate":
            self.send(200, b'{"users": [{"sourcedId": "x", "giv')
        elif kind == "short-body":
            self.send(200, b'{"users": []}', length=500)  # promises more than it sends
        elif kind == "empty-page":
            total = len(self.state.oneroster[collection])
            self.send(200, {collection: []}, {"X-Total-Count": str(total)})
        elif kind == "huge":
            self.send(200, b"[" + b" " * value + b"]")
        return True

    def oneroster(self, parts):
        root = OR11_ROOT if parts.path.startswith(OR11_ROOT) else OR12_ROOT
        collection = parts.path[len(root) + 1 :]
        if not self.authorised_oneroster(root):
            return self.send(401, {"imsx_codeMajor": "failure", "imsx_description": "unauthorised"})
        if collection not in self.state.oneroster:
            return self.send(404, {"error": "unknown collection"})
        query = dict(parse_qsl(parts.query))
        limit = int(query.get("limit", 100))
        if self.state.page_size:
            limit = min(limit, self.state.page_size)
        offset = int(query.get("offset", 0))
        page = offset // limit + 1 if limit else 1
        if self.fault(collection, page):
            return
        records = self.state.oneroster[collection]
        chunk = records[offset : offset + limit]
        headers = {}
        if self.state.paging == "total":
            headers["X-Total-Count"] = str(len(records))
        elif self.state.paging == "link" and offset + limit < len(records):
            headers["Link"] = f'<{parts.path}?limit={limit}&offset={offset + limit}>; rel="next"'
        self.send(200, {collection: chunk}, headers)

    def wonde(self, parts):
        if self.headers.get("Authorization") != f"Bearer {WONDE_TOKEN}":
            return self.send(401, {"error": "invalid_token"})
        rest = parts.path[len("/v1.0/schools/") :].strip("/").split("/")
        if rest[0] != self.state.wonde_school.get("id"):
            return self.send(404, {"error": "school not found"})
        if len(rest) == 1:
            return self.send(200, {"data": self.state.wonde_school})
        collection = rest[1]
        if collection not in self.state.wonde:
            return self.send(404, {"error": "unknown collection"})
        query = dict(parse_qsl(parts.query))
        per_page = min(int(query.get("per_page", 50)), self.state.page_size or 10**9)
        page = int(query.get("page", 1))
        if self.fault(collection, page):
            return
        records = self.state.wonde[collection]
        chunk = records[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(records)
        host = self.headers["Host"]
        following = (
            f"http://{host}{parts.path}?per_page={per_page}&page={page + 1}"
            + (f"&include={quote(query['include'])}" if query.get("include") else "")
            if more
            else None
        )
        meta = {
            "pagination": {
                "next": following,
                "previous": None,
                "more": more,
                "per_page": per_page,
                "current_page": page,
            }
        }
        self.send(200, {"data": chunk, "meta": meta})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (a timeout test) is expected, not news

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = State()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def start() -> Server:
    server = Server()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


# -- OneRoster CSV bundle -> REST records (the binding's JSON shapes)


def _csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [
            {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def bundle_records(folder: Path, *, version: str) -> dict[str, list[dict]]:
    """A CSV bundle as the REST binding would serve it."""
    roles: dict[str, list[dict]] = {}
    for row in _csv(folder / "roles.csv"):
        if row.get("status", "").lower() == "tobedeleted":
            continue  # a REST service lists only the roles a user has
        roles.setdefault(row["userSourcedId"], []).append(
            {
                "roleType": row.get("roleType", ""),
                "role": row.get("role", ""),
                "org": {"sourcedId": row.get("orgSourcedId", "")},
            }
        )
    users = []
    for row in _csv(folder / "users.csv"):
        lower = {k.lower(): v for k, v in row.items()}
        user = {
            "sourcedId": lower.get("sourcedid", ""),
            "status": lower.get("status", "") or "active",
            "username": lower.get("username", ""),
            "givenName": lower.get("givenname", ""),
            "familyName": lower.get("familyname", ""),
            "identifier": lower.get("identifier", ""),
            "email": lower.get("email", ""),
            "sms": lower.get("sms", ""),
            "phone": lower.get("phone", ""),
            "agents": [
                {"sourcedId": a, "type": "user"}
                for a in _split(lower.get("agentsourcedids", "") or lower.get("agents", ""))
            ],
            "grades": _split(lower.get("grades", "") or lower.get("grade", "")),
        }
        if version == "1.1":
            user["role"] = lower.get("role", "")
        else:
            user["preferredFirstName"] = lower.get("preferredgivenname", "") or lower.get(
                "prefferedgivenname", ""
            )
            user["preferredLastName"] = lower.get("preferredfamilyname", "") or lower.get(
                "prefferedfamilyname", ""
            )
            user["roles"] = roles.get(user["sourcedId"]) or (
                [{"roleType": "primary", "role": lower["role"]}] if lower.get("role") else []
            )
        users.append(user)
    classes = [
        {
            "sourcedId": row.get("sourcedId", ""),
            "status": row.get("status", "") or "active",
            "title": row.get("title", ""),
            "classType": row.get("classType", ""),
            "subjects": _split(row.get("subjects", "")),
            "grades": _split(row.get("grades", "") or row.get("grade", "")),
        }
        for row in _csv(folder / "classes.csv")
    ]
    enrollments = [
        {
            "sourcedId": row.get("sourcedId", ""),
            "status": row.get("status", "") or "active",
            "role": row.get("role", ""),
            "class": {"sourcedId": row.get("classSourcedId", ""), "type": "class"},
            "user": {"sourcedId": row.get("userSourcedId", ""), "type": "user"},
        }
        for row in _csv(folder / "enrollments.csv")
    ]
    orgs = [
        {"sourcedId": r.get("sourcedId", ""), "name": r.get("name", ""), "type": r.get("type", "")}
        for r in _csv(folder / "orgs.csv")
    ]
    return {"users": users, "classes": classes, "enrollments": enrollments, "orgs": orgs}
