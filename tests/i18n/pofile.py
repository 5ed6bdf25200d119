"""Just enough of a gettext .po reader for the catalogue tests (no polib needed)."""

import ast
import dataclasses
from pathlib import Path


@dataclasses.dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = dataclasses.field(default_factory=dict)
    flags: set[str] = dataclasses.field(default_factory=set)
    locations: list[str] = dataclasses.field(default_factory=list)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and "fuzzy" not in self.flags


def read_po(path: Path | str) -> list[Entry]:
    """Every entry, the header (msgid "") first, in file order."""
    entries: list[Entry] = []
    entry = Entry()
    field: tuple[str, int | None] | None = None
    started = False

    def finish():
        nonlocal entry, started, field
        if started:
            entries.append(entry)
        entry, started, field = Entry(), False, None

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            if started:
                finish()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#:"):
            if started:
                finish()
            entry.locations += line[2:].split()
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            _append(entry, field, ast.literal_eval(line))
            continue
        keyword, _, value = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and started and field != ("msgctxt", None):
            finish()  # entries not separated by a blank line
        started = True
        if keyword.startswith("msgstr["):
            field = ("msgstr", int(keyword[7:-1]))
        elif keyword == "msgstr":
            field = ("msgstr", 0)
        else:
            field = (keyword, None)
        _append(entry, field, ast.literal_eval(value), start=True)
    finish()
    return [entry for entry in entries if not entry.obsolete]


def _append(entry: Entry, field, text: str, start: bool = False) -> None:
    name, index = field
    if name == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text
    else:
        setattr(entry, name, ("" if start else getattr(entry, name) or "") + text)
