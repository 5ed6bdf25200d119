"""The import graph of src/schoolgate (scripts/check_imports.py, docs/architecture.md):
no cycles, no underscore names imported from another module, and the apps' one-way
dependencies (those still broken are listed here, so the list can only shrink)."""

import importlib.util
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "check_imports.py"


@pytest.fixture(scope="module")
def checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def found(checker):
    return checker.problems()


# Upward imports between apps not yet removed (accounts, outbox and core read the
# add-on settings; accounts queues email; the demo generator makes users; the dev
# command runs the supervisor). Remove a line when its import goes.
KNOWN_UPWARD = {
    "schoolgate.accounts.access -> schoolgate.addons.selectors",
    "schoolgate.accounts.generation -> schoolgate.addons.models",
    "schoolgate.accounts.generation -> schoolgate.addons.selectors",
    "schoolgate.accounts.invitations -> schoolgate.outbox.services",
    "schoolgate.accounts.orphans -> schoolgate.addons.selectors",
    "schoolgate.accounts.signals -> schoolgate.addons.selectors",
    "schoolgate.accounts.users -> schoolgate.outbox.models",
    "schoolgate.accounts.users -> schoolgate.outbox.services",
    "schoolgate.core.context_processors -> schoolgate.addons.selectors",
    "schoolgate.core.management.commands.dev -> schoolgate.ops.supervisor",
    "schoolgate.mis.demo -> schoolgate.accounts.models",
    "schoolgate.mis.demo -> schoolgate.accounts.roles",
    "schoolgate.outbox.sending -> schoolgate.addons.sender",
    "schoolgate.outbox.testing -> schoolgate.addons.selectors",
}


def test_no_import_cycles_among_schoolgate_modules(found):
    cycles, _private, _upward = found
    assert cycles == []


def test_no_module_imports_an_underscore_name_from_another(found):
    _cycles, private, _upward = found
    assert private == []


def test_no_new_upward_import_between_apps(found):
    _cycles, _private, upward = found
    assert set(upward) - KNOWN_UPWARD == set()
    assert KNOWN_UPWARD - set(upward) == set(), "fixed: remove these from KNOWN_UPWARD"


def test_the_checker_finds_a_cycle_a_private_import_and_an_upward_import(checker, tmp_path):
    """The checker itself, on a made-up tree: imports inside functions count."""
    package = tmp_path / "schoolgate"
    for path, text in {
        "__init__.py": "",
        "mis/__init__.py": "",
        "mis/a.py": "def f():\n    from schoolgate.mis import b\n",
        "mis/b.py": "from schoolgate.mis.a import f\nfrom schoolgate.mis.c import _hidden\n",
        "mis/c.py": "def _hidden():\n    from schoolgate.evenings import x\n",
        "evenings/__init__.py": "",
        "evenings/x.py": "",
    }.items():
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(textwrap.dedent(text))
    old = checker.SRC
    checker.SRC = tmp_path
    try:
        known = {checker.module_name(p): p for p in package.rglob("*.py")}
        edges, private = checker.scan(known)
    finally:
        checker.SRC = old
    assert checker.cycles(edges) == [["schoolgate.mis.a", "schoolgate.mis.b"]]
    assert private == ["schoolgate.mis.b: from schoolgate.mis.c import _hidden"]
    assert checker.upward_imports(edges) == ["schoolgate.mis.c -> schoolgate.evenings.x"]
