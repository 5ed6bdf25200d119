"""Importers: each reads one kind of MIS export into a `Snapshot`.

`read_sources` picks the importer for each path (or obeys `source_format`) and
merges what they read, so a CTF and a timetable CSV can be loaded together."""

import csv
import io
from pathlib import Path

from schoolgate.mis.importers.common import Budget, LimitExceeded
from schoolgate.mis.snapshot import InvalidSource, Problem, Snapshot

FORMATS = ("ctf", "oneroster", "csv", "timetable")


def read_sources(
    paths: list[Path],
    *,
    source_format: str | None = None,
    display_names: dict[str, str] | None = None,
) -> Snapshot:
    from schoolgate.mis.importers import csvtemplate, ctf, oneroster, timetable

    readers = {
        "ctf": ctf.read,
        "oneroster": oneroster.read,
        "csv": csvtemplate.read,
        "timetable": timetable.read,
    }
    if not paths:
        raise InvalidSource([Problem(file="(none)", message="no files were given")])
    # One budget for the whole sync: each file, and all files together, are capped.
    budget = Budget.from_settings()
    snapshot = Snapshot()
    problems: list[Problem] = []
    for path in paths:
        name = (display_names or {}).get(str(path), path.name)
        fmt = source_format if source_format and source_format != "csv" else None
        fmt = fmt or detect_format(path, name=name, hint=source_format)
        try:
            snapshot.merge(readers[fmt](path, name=name, budget=budget))
        except LimitExceeded:
            raise  # a cap was passed: no point reading on
        except InvalidSource as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidSource(problems)
    return snapshot


def detect_format(path: Path, *, name: str, hint: str | None = None) -> str:
    """Tell the format from the file itself: XML is CTF, a folder or zip is OneRoster,
    a CSV is our pupils template or a timetable by its header."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "oneroster"
    if not path.exists():
        raise InvalidSource([Problem(file=name, message="the file does not exist")])
    with path.open("rb") as handle:
        head = handle.read(4096)
    if path.suffix.lower() == ".xml" or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "ctf"
    try:
        first_line = next(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="replace"))))
    except StopIteration:
        raise InvalidSource([Problem(file=name, line=1, message="the file is empty")]) from None
    header = {column.strip().lower() for column in first_line}
    if "group_id" in header:
        return "timetable"
    if "pupil_id" in header:
        return "csv"
    raise InvalidSource(
        [
            Problem(
                file=name,
                line=1,
                message="not a file Schoolgate can read: expected CTF XML, a OneRoster "
                "bundle, or a Schoolgate CSV template (pupils-contacts or timetable)",
            )
        ]
    )
