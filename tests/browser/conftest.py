"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, with axe-core on every page (see docs/testing.md).

One browser per test module (Playwright's sync API keeps an asyncio loop running on
the main thread while it is started, which Django's ORM and other tests' asyncio.run
must not see after this package's tests); a fresh desktop context per test, and a
phone context beside it for the same pages."""

import os
from pathlib import Path

import pytest
from browser_helpers import Visit

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """Chromium for this module's tests; the ORM may be used beside it while it runs."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`), "
            "as .ci/run does. Playwright never downloads a browser here."
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    # The test's own ORM calls (and pytest-django's flush) run on the thread where
    # Playwright's event loop is marked running; no coroutine of ours is involved.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def visit_at(chromium, live_server, settings):
    """visit_at("desktop" | "phone"): a person at a browser of that size."""
    # Links in emails point at the live server, as they would at the real site.
    settings.SITE_URL = live_server.url
    opened: list[Visit] = []

    def open_browser(size: str) -> Visit:
        opened.append(Visit(chromium, base_url=live_server.url, size=size))
        return opened[-1]

    yield open_browser
    for browsing in opened:
        browsing.close()


@pytest.fixture
def visit(visit_at):
    """A person at a desktop browser (and, for each page checked, at a phone)."""
    return visit_at("desktop")
