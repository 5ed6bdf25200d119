"""How the connectors prove who they are: OAuth 1.0a (RFC 5849, HMAC-SHA1) for OneRoster
1.1, OAuth 2 client credentials (RFC 6749 section 4.4) for OneRoster 1.2, a bearer token
for Wonde."""

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from django.utils.translation import gettext as _

from schoolgate.mis.connectors.http import FetchError, HttpClient, status_error


def percent_encode(value: str) -> str:
    """RFC 5849 section 3.6: UTF-8, then every byte but ALPHA, DIGIT, '-', '.', '_', '~'."""
    return quote(value.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 section 3.4.1.2: lower-case scheme and host, default port left out, no query."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def signature_base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 section 3.4.1: method, base URI and the normalised parameters."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalised = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(
        (
            percent_encode(method.upper()),
            percent_encode(base_string_uri(url)),
            percent_encode(normalised),
        )
    )


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str = "") -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def oauth1_header(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str = "",
    token_secret: str = "",
    timestamp: str | None = None,
    nonce: str | None = None,
    body_params: list[tuple[str, str]] = (),
    oauth_version: bool = True,
) -> str:
    """The `Authorization: OAuth ...` value for one request (RFC 5849 section 3.5.1)."""
    oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", timestamp or str(int(time.time()))),
    ]
    if oauth_version:  # optional in RFC 5849; the RFC's own examples leave it out
        oauth.append(("oauth_version", "1.0"))
    if token:
        oauth.append(("oauth_token", token))
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    base = signature_base_string(method, url, [*query, *body_params, *oauth])
    oauth.append(("oauth_signature", hmac_sha1_signature(base, consumer_secret, token_secret)))
    return "OAuth " + ", ".join(f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in oauth)


class OAuth1Signer:
    """Signs each request afresh (new nonce and timestamp), as HttpClient asks."""

    def __init__(self, client_id: str, client_secret: str):
        self.client_id, self.client_secret = client_id, client_secret

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {
            "Authorization": oauth1_header(
                method, url, consumer_key=self.client_id, consumer_secret=self.client_secret
            )
        }

    def refresh(self) -> bool:
        return False  # a refused signature stays refused


class ClientCredentials:
    """OAuth 2 client credentials: fetch a bearer token, fetch again when it expires.

    The client authenticates with HTTP Basic (RFC 6749 section 2.3.1). A token is
    renewed a minute before `expires_in` runs out, and once more if the service
    refuses it early (`refresh`)."""

    MARGIN = 60

    def __init__(
        self,
        client: HttpClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
    ):
        self.client = client
        self.token_url = token_url
        self.client_id, self.client_secret, self.scope = client_id, client_secret, scope
        self.token = ""
        self.expires_at = 0.0
        self.tokens_fetched = 0

    def headers(self, method: str, url: str) -> dict[str, str]:
        if not self.token or time.monotonic() >= self.expires_at:
            self.fetch()
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self) -> bool:
        self.token = ""
        return True

    def fetch(self) -> None:
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        response = self.client.request(
            "POST",
            self.token_url,
            headers={
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=urlencode(form).encode(),
        )
        if response.status in (400, 401):
            raise FetchError(
                _("%(url)s refused the client id and secret (HTTP %(status)s)")
                % {"url": self.token_url, "status": response.status},
                url=self.token_url,
                status=response.status,
            )
        if response.status != 200:
            raise status_error(response)
        data = response.json()
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise FetchError(
                _("%(url)s answered without an access token") % {"url": self.token_url},
                url=self.token_url,
                status=response.status,
            )
        try:
            lifetime = float(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self.token = token
        self.expires_at = time.monotonic() + max(lifetime - self.MARGIN, lifetime / 2)
        self.tokens_fetched += 1


class Bearer:
    def __init__(self, token: str):
        self.token = token

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self) -> bool:
        return False
