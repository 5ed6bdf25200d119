"""MIS connectors: pull a school's data from a service over HTTPS into a `Snapshot`.

Each connector reads every page first and builds the same `Snapshot` the file
importers build; the sync engine then applies it exactly as it applies files. So a
pull that fails halfway (timeout, error after retries, bad JSON, a missing page)
applies nothing. See docs/import-oneroster-api.md and docs/import-wonde.md."""

from schoolgate.mis.connectors.http import FetchError, HttpClient, Response, status_error


def authorised_get(client: HttpClient, auth, url: str) -> tuple[object, Response]:
    """GET a JSON document; a 401 gets one fresh token (when the scheme has tokens)."""
    response = client.request("GET", url, headers=auth.headers)
    if response.status == 401 and auth.refresh():
        response = client.request("GET", url, headers=auth.headers)
    if response.status != 200:
        raise status_error(response)
    return response.json(), response


__all__ = ["FetchError", "HttpClient", "authorised_get"]
