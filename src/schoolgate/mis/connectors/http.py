"""The careful HTTP client every MIS connector uses (docs/import-oneroster-api.md).

Plain `http.client`, so each limit is ours and visible: connect and read timeouts, a
deadline per request, retries with backoff on 5xx and 429 (honouring Retry-After), a
cap on the bytes one pull may read (checked while reading, not trusted from headers),
HTTPS verified (optionally against a private CA bundle), and plain http refused except
to this machine. Every failure is a `FetchError` whose message says, in words, what
went wrong and where."""

import email.utils
import http.client
import ipaddress
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A request that could not be completed; `str()` says why and where, in words."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None):
        self.message, self.url, self.status = message, url, status
        super().__init__(message)


@dataclass
class Limits:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    request_deadline: float = 300.0  # a whole response, however slowly it trickles in
    max_bytes: int = 500 * 1024 * 1024  # for one pull, all pages together
    retries: int = 4
    backoff: float = 1.0  # seconds; doubled for each retry
    max_retry_after: float = 300.0
    ca_bundle: str = ""

    @classmethod
    def from_settings(cls, **overrides) -> "Limits":
        configured = settings.SCHOOLGATE.get("MIS_HTTP", {})
        return cls(**{**configured, **overrides})


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise FetchError(
                _(
                    "the response from %(url)s is not valid JSON (it may have been cut off): "
                    "%(error)s"
                )
                % {"url": self.url, "error": error},
                url=self.url,
                status=self.status,
            ) from None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> None:
    """Refuse what we will never fetch: not http(s), or plain http to another machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(_("'%(url)s' is not an http(s) address") % {"url": url}, url=url)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise FetchError(
            _("%(url)s uses plain http; only https is allowed (plain http only to this machine)")
            % {"url": url},
            url=url,
        )


@dataclass
class HttpClient:
    """One pull's connection to one service: keeps the byte budget across its requests."""

    limits: Limits = field(default_factory=Limits.from_settings)
    sleep: Callable[[float], None] = time.sleep
    bytes_read: int = 0
    requests_made: int = 0

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Callable[[str, str], dict[str, str]] | dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """The response, after retrying 429 and 5xx; other statuses are the caller's.

        `headers` may be a function of (method, url), called for every attempt, so a
        signed request (OAuth 1.0a) gets a fresh nonce and timestamp each time."""
        check_url(url)
        attempt = 0
        while True:
            sent = headers(method, url) if callable(headers) else dict(headers or {})
            try:
                response = self._once(method, url, sent, body)
            except FetchError as error:
                if error.status is not None or attempt >= self.limits.retries:
                    raise
                wait = self._backoff(attempt)
                logger.warning("MIS pull: %s; trying again in %.1f s", error, wait)
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                if attempt >= self.limits.retries:
                    raise FetchError(
                        _status_message(response, tries=attempt + 1),
                        url=url,
                        status=response.status,
                    )
                wait = self._retry_after(response, attempt)
                logger.warning(
                    "MIS pull: HTTP %s from %s; trying again in %.1f s", response.status, url, wait
                )
            self.sleep(wait)
            attempt += 1

    def get_json(self, url: str, *, headers=None):
        response = self.request("GET", url, headers=headers)
        if response.status != 200:
            raise FetchError(_status_message(response), url=url, status=response.status)
        return response.json(), response

    def _backoff(self, attempt: int) -> float:
        return self.limits.backoff * (2**attempt)

    def _retry_after(self, response: Response, attempt: int) -> float:
        value = response.headers.get("retry-after", "").strip()
        wait = None
        if value.isdigit():
            wait = float(value)
        elif value:
            when = email.utils.parsedate_to_datetime(value) if _is_date(value) else None
            if when is not None:
                wait = max(0.0, when.timestamp() - time.time())
        if wait is None:
            return self._backoff(attempt)
        if wait > self.limits.max_retry_after:
            raise FetchError(
                _(
                    "%(url)s asked us to wait %(seconds)s seconds before trying again "
                    "(HTTP %(status)s); that is longer than we wait"
                )
                % {"url": response.url, "seconds": int(wait), "status": response.status},
                url=response.url,
                status=response.status,
            )
        return wait

    def _once(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        limits = self.limits
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=limits.ca_bundle or None)
            connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=limits.connect_timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=limits.connect_timeout
            )
        self.requests_made += 1
        try:
            try:
                connection.connect()
            except TimeoutError:
                raise FetchError(
                    _("%(url)s: no connection within %(seconds)s seconds")
                    % {"url": url, "seconds": limits.connect_timeout},
                    url=url,
                ) from None
            except ssl.SSLError as error:
                # A certificate problem does not go away by trying again.
                raise FetchError(
                    _("%(url)s: the secure connection failed (%(error)s)")
                    % {"url": url, "error": error},
                    url=url,
                    status=0,
                ) from None
            connection.sock.settimeout(limits.read_timeout)
            deadline = time.monotonic() + limits.request_deadline
            headers = {"Accept": "application/json", "User-Agent": "Schoolgate", **headers}
            connection.request(method, target, body=body, headers=headers)
            raw = connection.getresponse()
            response_headers = {k.lower(): v for k, v in raw.getheaders()}
            declared = response_headers.get("content-length", "")
            if declared.isdigit() and self.bytes_read + int(declared) > limits.max_bytes:
                raise self._too_much(url)
            chunks = []
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(
                        _("%(url)s: the response took longer than %(seconds)s seconds")
                        % {"url": url, "seconds": limits.request_deadline},
                        url=url,
                    )
                chunk = raw.read1(CHUNK) if hasattr(raw, "read1") else raw.read(CHUNK)
                if not chunk:
                    break
                self.bytes_read += len(chunk)
                if self.bytes_read > limits.max_bytes:
                    raise self._too_much(url)
                chunks.append(chunk)
            if raw.length:  # Content-Length promised more than arrived
                raise http.client.IncompleteRead(b"".join(chunks), raw.length)
            return Response(
                url=url, status=raw.status, headers=response_headers, body=b"".join(chunks)
            )
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(
                _("%(url)s: no answer within %(seconds)s seconds (read timeout)")
                % {"url": url, "seconds": limits.read_timeout},
                url=url,
            ) from None
        except http.client.IncompleteRead:
            raise FetchError(
                _("%(url)s: the connection closed before the whole response arrived")
                % {"url": url},
                url=url,
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(
                _("%(url)s: the connection failed (%(error)s)")
                % {"url": url, "error": error or type(error).__name__},
                url=url,
            ) from None
        finally:
            connection.close()

    def _too_much(self, url: str) -> FetchError:
        return FetchError(
            _(
                "%(url)s: the data source sent more than %(mb)s MB in this pull, the most "
                "we read; the pull was stopped"
            )
            % {
                "url": url,
                "mb": self.limits.max_bytes // (1024 * 1024)
                or self.limits.max_bytes / (1024 * 1024),
            },
            url=url,
            status=0,
        )


def _is_date(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False


def _status_message(response: Response, *, tries: int = 1) -> str:
    words = {
        401: _("the data source refused the credentials"),
        403: _("the data source refused access (the credentials lack permission)"),
        404: _("the address was not found"),
        429: _("the data source said too many requests"),
    }
    what = words.get(response.status) or (
        _("the data source had an error") if response.status >= 500 else _("unexpected answer")
    )
    message = _("%(url)s: %(what)s (HTTP %(status)s)") % {
        "url": response.url,
        "what": what,
        "status": response.status,
    }
    if tries > 1:
        message += " " + _("after %(tries)s tries") % {"tries": tries}
    return message


def status_error(response: Response) -> FetchError:
    return FetchError(_status_message(response), url=response.url, status=response.status)
