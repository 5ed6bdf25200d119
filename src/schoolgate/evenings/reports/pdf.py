"""HTML templates to PDF with WeasyPrint: the same templates as the pages, in a print
layout (docs/architecture.md: one template, two outputs).

WeasyPrint fetches what a document links to (stylesheets, images) through
`LocalOnlyFetcher`, which reads our own static files from disk and decodes `data:`
addresses, and refuses everything else: a PDF never makes a network request, so a
link in a parent's message or a teacher's video address cannot make the server
fetch anything."""

import base64
import mimetypes
import posixpath
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative addresses in the HTML (/static/...) resolve against this; nothing is ever
# fetched from it (.invalid is reserved and never resolves).
BASE_URL = "https://schoolgate.invalid/"


class NotFetched(ValueError):
    """An address the PDF may not load (WeasyPrint leaves the resource out)."""


def static_path(url: str) -> str | None:
    """The file on disk behind one of our static addresses, or None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}/" != BASE_URL:
        return None
    prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
    if not parts.path.startswith(prefix):
        return None
    name = unquote(parts.path[len(prefix) :])
    normal = posixpath.normpath(name)
    if name != normal or normal.startswith(("/", "..")) or "\\" in name or "\0" in name:
        return None
    if staticfiles_storage.exists(normal):  # collected (production)
        return staticfiles_storage.path(normal)
    found = finders.find(normal)  # in the source tree (development, tests)
    return found if isinstance(found, str) else None


def _data_url(url: str) -> tuple[bytes, str]:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise NotFetched("a data: address without data")
    kind, *params = header.split(";")
    if "base64" in params:
        body = base64.b64decode(payload, validate=False)
    else:
        body = unquote_to_bytes(payload)
    return body, kind or "text/plain"


class LocalOnlyFetcher(URLFetcher):
    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            body, kind = _data_url(url)
            return URLFetcherResponse(url, body, {"Content-Type": kind})
        path = static_path(url)
        if path is None:
            raise NotFetched(f"not one of our static files: {url[:100]}")
        with open(path, "rb") as f:
            body = f.read()
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": kind})


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """The template rendered (with the request's context processors) as a PDF."""
    html = render_to_string(template_name, context, request=request)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LocalOnlyFetcher()).write_pdf()


def pdf_response(data: bytes, *, filename: str) -> HttpResponse:
    """A download: the browser saves it under `filename`."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
