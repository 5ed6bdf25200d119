"""Check the import graph of src/schoolgate: no cycles, no private imports.

Every module is parsed with `ast`, imports inside functions included (they hide a
cycle, they do not remove it). Two rules (docs/architecture.md):

- no import cycle among schoolgate modules; importing `a.b.c` also runs the package
  `a.b`'s `__init__`, so a package whose `__init__` imports is a node like any other;
- no module imports an underscore name from another module, by `from m import _x`
  or by `m._x` on an imported module.

Run `python scripts/check_imports.py` (exit status 1 and a list when a rule is
broken); tests/test_imports.py runs it in the suite. Migrations are generated code
and are left out."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TOP = "schoolgate"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / TOP).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found[module_name(path)] = path
    return found


def _resolve(name: str, current: str, is_package: bool, level: int) -> str:
    if not level:
        return name
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _ancestors(name: str, known: dict[str, Path]) -> list[str]:
    """The packages whose __init__ runs before `name`, when their __init__ imports."""
    parts = name.split(".")
    out = []
    for i in range(2, len(parts)):
        package = ".".join(parts[:i])
        if package in known and _imports_anything(known[package]):
            out.append(package)
    return out


_INIT_IMPORTS: dict[Path, bool] = {}


def _imports_anything(path: Path) -> bool:
    if path not in _INIT_IMPORTS:
        tree = ast.parse(path.read_text())
        _INIT_IMPORTS[path] = any(
            isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)
        )
    return _INIT_IMPORTS[path]


def scan(known: dict[str, Path]):
    """Returns ({module: {imported schoolgate modules}}, [private-import findings])."""
    edges: dict[str, set[str]] = {m: set() for m in known}
    private = []
    for current, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_package = path.name == "__init__.py"
        aliases: dict[str, str] = {}  # local name -> schoolgate module it stands for

        def add(target: str, current=current) -> None:
            if target in known and target != current:
                edges[current].add(target)
                for package in _ancestors(target, known):
                    if package != current and not current.startswith(package + "."):
                        edges[current].add(package)

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == TOP:
                        add(alias.name)
                        if alias.asname:
                            aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(node.module or "", current, is_package, node.level)
                if source.split(".")[0] != TOP:
                    continue
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    if full in known:
                        add(full)
                        aliases[alias.asname or alias.name] = full
                    else:
                        add(source)
                        if _is_private(alias.name) and source != current:
                            private.append(f"{current}: from {source} import {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _is_private(node.attr)
                and aliases[node.value.id] != current
            ):
                private.append(f"{current}: {node.value.id}._{node.attr.lstrip('_')}")
    return edges, sorted(set(private))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


# The apps from the lowest layer up (docs/architecture.md): an app imports only
# apps below it. scheduler is infrastructure beside core.
LAYERS = ["core", "scheduler", "mis", "accounts", "outbox", "addons", "evenings", "portal", "ops"]


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """'module -> module' for every import of an app above the importing one."""
    rank = {app: i for i, app in enumerate(LAYERS)}
    found = []
    for source, targets in edges.items():
        for target in targets:
            a, b = _app(source), _app(target)
            if a in rank and b in rank and rank[b] > rank[a]:
                found.append(f"{source} -> {target}")
    return sorted(found)


def _app(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def problems() -> tuple[list[list[str]], list[str], list[str]]:
    edges, private = scan(modules())
    return cycles(edges), private, upward_imports(edges)


def main() -> int:
    found_cycles, private, upward = problems()
    for component in found_cycles:
        print("import cycle among: " + ", ".join(component))
    for line in private:
        print("private import: " + line)
    for line in upward:
        print("upward import between apps (reported, not yet refused): " + line)
    if found_cycles or private:
        return 1
    print("No import cycles and no private imports among schoolgate modules.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
