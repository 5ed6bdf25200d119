"""A person at a browser: visit pages, check each with axe-core at desktop and phone
sizes, and save a screenshot of each (test-results/screenshots/<name>-<size>.png)."""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
# BROWSER_RESULTS=/some/folder keeps one run's screenshots and axe log apart from
# another run's in the same checkout (each run clears its folder first).
RESULTS = Path(os.environ.get("BROWSER_RESULTS") or ROOT / "test-results")
SCREENSHOTS = RESULTS / "screenshots"
AXE_LOG = RESULTS / "axe-pages.tsv"
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.2 AA, as the product promises (axe has no wcag22a tag: its 2.2 A rules are few
# and carry wcag2a/wcag21a too).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 1,
    },
}
TIMEOUT_MS = 15_000
TRANSPARENT = "rgba(0, 0, 0, 0)"

_AXE_SOURCE: list[str] = []
_CLEANED: list[bool] = []

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }));
}"""


def _fresh_results_folder() -> None:
    """Screenshots and the axe log of this run only."""
    if not _CLEANED:
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)
        AXE_LOG.unlink(missing_ok=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        _CLEANED.append(True)


def axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_JS.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


def run_axe(page) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now.

    axe is evaluated through the DevTools protocol, which the page's Content Security
    Policy (script-src 'self') does not govern: the page runs under its real CSP."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(RUN_AXE, AXE_TAGS)


def describe_violations(violations: list[dict], *, where: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node["summary"] or "").replace("\n", "\n      ")
            lines.append(f"      {summary}")
    return "\n".join(lines)


class Tab:
    """One page in one browser context, noting what went wrong that a person would not see:
    scripts failing, the Content Security Policy blocking something, a sub-resource
    missing."""

    def __init__(self, context, size: str):
        self.context = context
        self.size = size
        self.page = context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        # A failed load is reported by _response, with its URL; anything else is real.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response) -> None:
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            self.problems.append(f"{response.status} for {request.resource_type} {response.url}")

    def take_problems(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


class Visit:
    """What a person does at a desktop browser, plus a phone beside it for the checks.

    `check(name)` runs axe on the desktop page as it is, saves its screenshot, then
    opens the same address on a phone signed in as the same person (same cookies),
    and does the same there. Every page checked is logged to test-results/axe-pages.tsv."""

    def __init__(self, browser, *, base_url: str, size: str = "desktop"):
        _fresh_results_folder()
        self.browser = browser
        self.base_url = base_url
        self.size = size
        self.desktop = self._tab(size)  # the browser the person uses, whatever its size
        self._phone: Tab | None = None
        self._others: list[Visit] = []
        self.checked: list[tuple[str, str]] = []

    def another_person(self) -> "Visit":
        """Someone else, at their own browser (their own cookies), on the same site."""
        other = Visit(self.browser, base_url=self.base_url, size=self.size)
        self._others.append(other)
        return other

    def _tab(self, size: str) -> Tab:
        context = self.browser.new_context(
            base_url=self.base_url, locale="en-GB", timezone_id="Europe/London", **SIZES[size]
        )
        context.set_default_timeout(TIMEOUT_MS)
        return Tab(context, size)

    @property
    def page(self):
        return self.desktop.page

    @property
    def phone(self) -> Tab:
        if self._phone is None:
            self._phone = self._tab("phone")
        return self._phone

    def sign_in_as(self, user) -> None:
        """Start signed in as `user` (a session made the way the test client makes one),
        for tests about pages rather than about signing in."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.desktop.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": self.base_url}]
        )

    def goto(self, path: str, *, status: int = 200):
        """Open an address (path on the site, or a full URL) as typed in the address bar."""
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            f"{path}: expected {status}, got {response and response.status}"
        )
        return self.page

    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def check(self, name: str, *, phone: bool = True, status: int = 200) -> None:
        """Zero axe violations, CSS in place and a screenshot, on desktop and phone.

        `phone=False` for a page a GET cannot bring back (the answer to a form): the
        test then does the same at phone size itself (Visit(size="phone"))."""
        assert re.fullmatch(r"[a-z0-9-]+", name), name
        self._check_tab(self.desktop, name)
        if phone and self.size == "desktop":
            tab = self.phone
            tab.context.clear_cookies()
            tab.context.add_cookies(self.desktop.context.cookies())
            response = tab.page.goto(self.page.url)
            assert response is not None and response.status == status, (
                f"phone {self.page.url}: expected {status}, got {response and response.status}"
            )
            self._check_tab(tab, name)
        self.checked.append((name, self.path()))

    def _check_tab(self, tab: Tab, name: str) -> None:
        page = tab.page
        # A click that navigates returns once the new page starts loading: let it finish.
        page.wait_for_load_state("load")
        where = f"{name} ({tab.size}, {page.url})"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # another run may have just cleared it
        page.screenshot(path=SCREENSHOTS / f"{name}-{tab.size}.png", full_page=True)
        # The header is coloured by GOV.UK Frontend's stylesheet: it was served.
        background = page.evaluate(
            "() => { const h = document.querySelector('header');"
            " return h ? getComputedStyle(h).backgroundColor : null; }"
        )
        assert background not in (None, TRANSPARENT), f"{where}: the stylesheet did not load"
        violations = run_axe(page)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        with AXE_LOG.open("a", encoding="utf-8") as log:
            log.write(f"{name}\t{tab.size}\t{urlsplit(page.url).path}\t{len(violations)}\n")
        assert not violations, describe_violations(violations, where=where)
        problems = tab.take_problems()
        assert not problems, f"{where}: " + "; ".join(problems)
        # Wide content scrolls inside its own box (sg-table-scroll), never the whole page.
        assert overflow <= 0, f"{where}: the page is {overflow}px wider than the screen"

    def close(self) -> None:
        for other in self._others:
            other.close()
        for tab in (self.desktop, self._phone):
            if tab is not None:
                tab.context.close()
