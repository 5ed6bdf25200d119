"""docs/permissions.md, written from the views' own declarations (core.access) and the
built-in roles' defaults (accounts.roles), so the page can never say what the code does not.
`schoolgate permissions-doc` writes it; tests/core/test_url_matrix.py checks it is current."""

from dataclasses import dataclass
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from schoolgate.accounts.roles import (
    ADMINISTRATORS,
    ORGANISER_CAPABILITIES,
    ORGANISERS,
    TEACHER_CAPABILITIES,
    TEACHERS,
)
from schoolgate.core.access import CAPABILITIES, Rule

DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"

# The built-in roles and the capabilities each has on a new install.
ROLE_CAPABILITIES = {
    ADMINISTRATORS: tuple(CAPABILITIES),
    ORGANISERS: ORGANISER_CAPABILITIES,
    TEACHERS: TEACHER_CAPABILITIES,
}
AUDIENCES = ("Anonymous", "Parent", *ROLE_CAPABILITIES)


@dataclass(frozen=True)
class Route:
    path: str
    name: str
    rule: Rule | None


def routes() -> list[Route]:
    """Every URL pattern the resolver knows, with the rule its view declares (or None)."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else ""
                rule = getattr(pattern.callback, "access_rule", None)
                yield Route("/" + prefix + str(pattern.pattern), name, rule)

    return list(walk(get_resolver().url_patterns))


def allowed(rule: Rule, audience: str) -> bool:
    """Whether a person of `audience` (a column of the table) passes `rule`."""
    if rule.kind == "public":
        return True
    if audience == "Anonymous":
        return False
    if rule.kind == "signed_in":
        return True
    if rule.kind == "parent":
        return audience == "Parent"
    if audience == "Parent":
        return False
    return any(capability in ROLE_CAPABILITIES[audience] for capability in rule.capabilities)


def render() -> str:
    lines = [
        "# Permissions",
        "",
        "<!-- Written by `schoolgate permissions-doc` from the views' declarations; a test",
        "fails when this page is out of date. Do not edit by hand. -->",
        "",
        "Being staff grants nothing by itself: every staff page needs one capability, a",
        "Django permission that a school gives to roles on the User Manager's Roles page.",
        "Each view declares what it needs in one place (`schoolgate.core.access`), and",
        "`tests/core/test_url_matrix.py` requests every URL below as each kind of person",
        "and checks the answer, so a new page with no declaration fails the build.",
        "A person may hold several roles: they may do what any of them allows.",
        "",
        "## Capabilities",
        "",
        "| capability | what it allows | " + " | ".join(ROLE_CAPABILITIES) + " |",
        "| --- | --- | " + " | ".join("---" for _ in ROLE_CAPABILITIES) + " |",
    ]
    for capability, description in CAPABILITIES.items():
        marks = ["yes" if capability in caps else "–" for caps in ROLE_CAPABILITIES.values()]
        lines.append(f"| `{capability}` | {description} | " + " | ".join(marks) + " |")
    lines += [
        "",
        "The parents' role (chosen on the Add-ons page) must hold no capability at all.",
        "",
        "## Every page",
        "",
        "*Needs* is what the view declares: a capability (any one of those listed),",
        "`parent` (signed in and linked to a child now), `signed_in` or `public`. The other",
        "columns say who gets the page with the built-in roles as a new install has them.",
        "",
        "| URL | name | needs | " + " | ".join(AUDIENCES) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in AUDIENCES) + " |",
    ]
    for route in routes():
        if route.rule is None:
            needs, marks = "**nothing declared**", ["?"] * len(AUDIENCES)
        else:
            needs = " or ".join(f"`{c}`" for c in route.rule.capabilities) or route.rule.kind
            marks = ["yes" if allowed(route.rule, who) else "–" for who in AUDIENCES]
        path = route.path.replace("|", "\\|")
        lines.append(f"| `{path}` | {route.name} | {needs} | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
