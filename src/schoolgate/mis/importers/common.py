"""Small helpers shared by the importers: trimming, located value parsing, CSV by header.

Parsers never raise on bad values: they append a located `Problem` to the caller's
list and return a safe value, so one pass over a file reports every problem in it."""

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

from django.utils.translation import gettext as _

from schoolgate.mis.snapshot import InvalidSource, Problem

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
# Year groups before Year 1: Reception and the two nursery years.
# N2 is the nursery year just before Reception, N1 the one before that.
YEAR_CODES = {"R": 0, "N2": -1, "N1": -2}
YEAR_NONE = frozenset({"", "X"})  # X: not following the National Curriculum
YEAR_RANGE = (-2, 14)


class Where(NamedTuple):
    """Where a value came from, in the user's terms: file, line and/or element path.

    A named tuple because importers make one per row or element: it is the cheapest
    immutable record to build."""

    file: str
    line: int | None = None
    element: str = ""

    def problem(self, message: str, *, field: str = "") -> Problem:
        return Problem(
            file=self.file, line=self.line, element=self.element, field=field, message=message
        )


def clean(value: str | None) -> str:
    """Trim a text value; None (a missing element or column) becomes ''."""
    return value.strip() if value else ""


def raise_if_any(problems: list[Problem]) -> None:
    if problems:
        raise InvalidSource(problems)


def parse_bool(
    value: str | None,
    *,
    where: Where,
    field: str,
    problems: list[Problem],
    default: bool = False,
) -> bool:
    """true/false, yes/no, y/n, 1/0 in any case; empty gives `default`."""
    if value == "true":  # the usual case, first and cheap
        return True
    if value == "false":
        return False
    text = clean(value).lower()
    if not text:
        return default
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    problems.append(
        where.problem(_("'%(value)s' is not true or false") % {"value": clean(value)}, field=field)
    )
    return default


def parse_int(
    value: str | None,
    *,
    where: Where,
    field: str,
    problems: list[Problem],
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number, optionally within bounds; empty gives None."""
    text = clean(value)
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        problems.append(
            where.problem(_("'%(value)s' is not a whole number") % {"value": text}, field=field)
        )
        return None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        problems.append(
            where.problem(
                _("%(value)s is outside the range %(min)s to %(max)s")
                % {"value": number, "min": minimum, "max": maximum},
                field=field,
            )
        )
        return None
    return number


def parse_date(
    value: str | None,
    *,
    where: Where,
    field: str,
    problems: list[Problem],
    formats: tuple[str, ...] = ("%Y-%m-%d",),
) -> date | None:
    """A date in one of `formats` (ISO YYYY-MM-DD by default); empty gives None."""
    text = clean(value)
    if not text:
        return None
    if formats == ("%Y-%m-%d",) and len(text) == 10 and text[4] == "-" and text[7] == "-":
        # Fast path for the usual case; fromisoformat alone would also take '20080101'.
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    else:
        for fmt in formats:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    expected = " or ".join(
        f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD") for f in formats
    )
    problems.append(
        where.problem(
            _("'%(value)s' is not a date (expected %(expected)s)")
            % {"value": text, "expected": expected},
            field=field,
        )
    )
    return None


def parse_year_group(
    value: str | None, *, where: Where, field: str, problems: list[Problem]
) -> int | None:
    """National Curriculum year: '7' or '07' -> 7, R -> 0, N1 -> -1, N2 -> -2, X or '' -> None."""
    text = clean(value).upper()
    if text in YEAR_NONE:
        return None
    if text in YEAR_CODES:
        return YEAR_CODES[text]
    if text.isdigit() and YEAR_RANGE[0] <= int(text) <= YEAR_RANGE[1]:
        return int(text)
    problems.append(
        where.problem(
            _("'%(value)s' is not a year group (expected 1 to 14, R, N1, N2 or X)")
            % {"value": clean(value)},
            field=field,
        )
    )
    return None


def parse_choice(
    value: str | None,
    *,
    choices: Iterable[str],
    where: Where,
    field: str,
    problems: list[Problem],
    allow_empty: bool = False,
) -> str:
    """One of `choices` (lower-case), compared case-insensitively; '' when bad or empty."""
    text = clean(value).lower()
    choices = tuple(choices)
    if text in choices or (allow_empty and not text):
        return text
    problems.append(
        where.problem(
            _("'%(value)s' is not one of: %(choices)s")
            % {"value": clean(value), "choices": ", ".join(choices)}
            if text
            else _("a value is needed (one of: %(choices)s)") % {"choices": ", ".join(choices)},
            field=field,
        )
    )
    return ""


def limit_length(
    value: str, *, limit: int, where: Where, field: str, problems: list[Problem]
) -> str:
    """The value if it fits a mirror column of `limit` characters; else a located Problem."""
    if len(value) <= limit:
        return value
    problems.append(
        where.problem(
            _("the value is %(length)s characters long; at most %(limit)s fit")
            % {"length": len(value), "limit": limit},
            field=field,
        )
    )
    return value[:limit]


def compact_phone(value: str | None) -> str:
    """A phone number without the spaces MIS exports put inside it."""
    return "".join(clean(value).split())


def stable_id(prefix: str, *parts: str, length: int = 16) -> str:
    """A short deterministic id from identifying values (for records with no MIS id)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"{prefix}{digest[:length]}"


# ---------------------------------------------------------------------------
# Bounded reading. Every importer reads its bytes through a `CappedReader`, so a file
# (or zip member) is refused while it is read, as soon as it passes a cap: the sizes a
# zip declares are never trusted and nothing is read whole into memory. The caps, and
# the peak memory they give, are in docs/sync.md ("Limits").

MB = 1024 * 1024
CHUNK = 64 * 1024
LINE_MAX_BYTES = 1 * MB  # one CSV line; a real row is well under 1 KB
PROBLEMS_MAX = 1000  # a file this wrong is the wrong file: stop listing


class LimitExceeded(InvalidSource):
    """A cap was passed: the whole read stops here (it is not one problem among many)."""


@dataclass
class Budget:
    """What one sync may still read: bytes of each file, bytes and rows of all files."""

    file_bytes: int
    total_bytes: int
    rows: int
    bytes_read: int = 0
    rows_read: int = 0

    @classmethod
    def from_settings(cls) -> "Budget":
        from django.conf import settings

        limits = settings.SCHOOLGATE
        return cls(
            file_bytes=limits.get("MIS_FILE_MAX_MB", 50) * MB,
            total_bytes=limits.get("MIS_IMPORT_MAX_MB", 100) * MB,
            rows=limits.get("MIS_IMPORT_MAX_ROWS", 80_000),
        )

    @classmethod
    def unlimited(cls) -> "Budget":
        return cls(file_bytes=2**62, total_bytes=2**62, rows=2**62)

    def file_too_big(self, name: str) -> InvalidSource:
        return LimitExceeded(
            [
                Where(name).problem(
                    _(
                        "the file is larger than %(limit)s MB once unpacked, the most one "
                        "file may hold (MIS_FILE_MAX_MB); it was not read"
                    )
                    % {"limit": self.file_bytes // MB}
                )
            ]
        )

    def count_bytes(self, count: int, *, name: str) -> None:
        self.bytes_read += count
        if self.bytes_read > self.total_bytes:
            raise LimitExceeded(
                [
                    Where(name).problem(
                        _(
                            "the files are larger than %(limit)s MB in all once unpacked, the "
                            "most one sync may read (MIS_IMPORT_MAX_MB); reading stopped here"
                        )
                        % {"limit": self.total_bytes // MB}
                    )
                ]
            )

    def count_row(self, *, name: str, line: int | None = None, element: str = "") -> None:
        self.rows_read += 1
        if self.rows_read > self.rows:
            raise LimitExceeded(
                [
                    Where(name, line=line, element=element).problem(
                        _(
                            "the files hold more than %(limit)s rows and records, the most one "
                            "sync may read (MIS_IMPORT_MAX_ROWS); reading stopped here"
                        )
                        % {"limit": f"{self.rows:,}"}
                    )
                ]
            )


class CappedReader:
    """A binary stream that counts what it gives against the file's and the sync's caps,
    and raises InvalidSource (naming the file or member) the moment either is passed."""

    def __init__(self, raw, *, name: str, budget: Budget):
        self.raw, self.name, self.budget = raw, name, budget
        self.count = 0

    def read(self, size: int = CHUNK) -> bytes:
        # Never read without a bound, whatever the caller asks for.
        data = self.raw.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.count += len(data)
        if self.count > self.budget.file_bytes:
            raise self.budget.file_too_big(self.name)
        self.budget.count_bytes(len(data), name=self.name)
        return data


def check_problems(problems: list[Problem]) -> None:
    """Stop reading a file with more problems than anyone will read (and than fit in memory)."""
    if len(problems) >= PROBLEMS_MAX:
        kept = problems[:PROBLEMS_MAX]
        kept.append(
            Problem(
                file=kept[-1].file,
                message=_("there are more than %(count)s problems; reading stopped here")
                % {"count": PROBLEMS_MAX},
            )
        )
        raise LimitExceeded(kept)


def _utf8_problem(data: bytes, start: int, *, name: str, line: int) -> InvalidSource:
    return InvalidSource(
        [
            Where(name, line=line).problem(
                _("the file is not UTF-8 (byte %(byte)s cannot be read): save it as 'CSV UTF-8'")
                % {"byte": f"0x{data[start]:02X}"}
            )
        ]
    )


def iter_lines(stream: CappedReader, *, name: str, encoding: str = "utf-8", on_error=None):
    """The stream's text, line by line (split as `open(newline='')` splits), decoded a
    block of whole lines at a time; a line longer than LINE_MAX_BYTES is refused.

    `on_error(data, start, line)` makes the InvalidSource for bytes that do not decode."""
    on_error = on_error or (
        lambda data, start, line: _utf8_problem(data, start, name=name, line=line)
    )
    pending = b""
    line = 1
    first = True
    while True:
        chunk = stream.read(CHUNK)
        if first:
            if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise InvalidSource(
                    [
                        Where(name, line=1).problem(
                            _("the file is not UTF-8 (it is UTF-16): save it as 'CSV UTF-8'")
                        )
                    ]
                )
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
            first = False
        data = pending + chunk if pending else chunk
        if not chunk:
            if data:
                yield from _decode_block(data, line=line, encoding=encoding, on_error=on_error)
            return
        # Cut after the last line end; a '\r' ending the data may be half of a '\r\n'.
        end = data.rfind(b"\n")
        if end < 0:
            end = data.rfind(b"\r", 0, len(data) - 1)
        if end < 0:
            if len(data) > LINE_MAX_BYTES:
                raise LimitExceeded(
                    [
                        Where(name, line=line).problem(
                            _("the line is longer than %(limit)s MB: this is not a data file")
                            % {"limit": LINE_MAX_BYTES // MB}
                        )
                    ]
                )
            pending = data
            continue
        block, pending = data[: end + 1], data[end + 1 :]
        yield from _decode_block(block, line=line, encoding=encoding, on_error=on_error)
        line += block.count(b"\n")


def _decode_block(block: bytes, *, line: int, encoding: str, on_error):
    try:
        text = block.decode(encoding)
    except UnicodeDecodeError as error:
        raise on_error(block, error.start, line + block.count(b"\n", 0, error.start)) from None
    return io.StringIO(text, newline="")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: values by normalised column name, and the line it starts on."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        """The trimmed value, '' when the column is absent or empty."""
        return self.values.get(column, "")


class CsvStream:
    """A CSV read by header name from a stream, one row at a time.

    The header is read (and checked) on creation: `columns` are the names found
    (trimmed, lower-cased). Iterating gives each data row as a `CsvRow`, counted
    against the sync's row budget; a row with extra values is a problem appended to
    `problems` (the caller's list, so every problem of a file is reported together)
    and skipped. Blank rows and blank-named columns are ignored; absent `optional`
    columns read as ''."""

    def __init__(
        self,
        stream: CappedReader,
        *,
        name: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        problems: list[Problem],
        budget: Budget,
        encoding: str = "utf-8",
        on_error=None,
    ):
        self.name, self.problems, self.budget = name, problems, budget
        self.reader = csv.reader(
            iter_lines(stream, name=name, encoding=encoding, on_error=on_error), strict=False
        )
        try:
            header = next(self.reader)
        except StopIteration:
            raise InvalidSource([Where(name, line=1).problem(_("the file is empty"))]) from None
        except csv.Error as error:
            raise InvalidSource([Where(name, line=1).problem(str(error))]) from None
        self.column_list = [column.strip().lower() for column in header]
        header_problems: list[Problem] = []
        seen: set[str] = set()
        for column in self.column_list:
            if column and column in seen:
                header_problems.append(
                    Where(name, line=1).problem(_("the column appears twice"), field=column)
                )
            seen.add(column)
        for column in required:
            if column not in seen:
                header_problems.append(
                    Where(name, line=1).problem(_("the required column is missing"), field=column)
                )
        raise_if_any(header_problems)
        self.columns = {c for c in seen if c}
        self.absent = {c: "" for c in optional if c not in seen}

    def __iter__(self):
        reader, name, problems, budget = self.reader, self.name, self.problems, self.budget
        wanted = [(i, c) for i, c in enumerate(self.column_list) if c]
        width = len(self.column_list)
        absent = self.absent
        line = reader.line_num + 1
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    budget.count_row(name=name, line=line)
                    if len(problems) >= PROBLEMS_MAX:  # the caller's problems count too
                        check_problems(problems)
                    if len(record) > width and any(cell.strip() for cell in record[width:]):
                        message = _(
                            "the row has %(count)s values but the header has %(width)s columns"
                        )
                        problems.append(
                            Where(name, line=line).problem(
                                message % {"count": len(record), "width": width}
                            )
                        )
                        check_problems(problems)
                    else:
                        values = {
                            c: record[i].strip() if i < len(record) else "" for i, c in wanted
                        }
                        if absent:
                            values.update(absent)
                        yield CsvRow(line=line, values=values)
                line = reader.line_num + 1
        except csv.Error as error:
            problems.append(Where(name, line=reader.line_num).problem(str(error)))


def open_capped(path: Path, *, name: str, budget: Budget):
    """The file opened for a capped read; refused at once when it is bigger than a file
    may be, or cannot be read."""
    try:
        if path.stat().st_size > budget.file_bytes:
            raise budget.file_too_big(name)
        return CappedReader(path.open("rb"), name=name, budget=budget)
    except OSError as error:
        raise InvalidSource(
            [Where(name).problem(_("the file cannot be read: %(error)s") % {"error": error})]
        ) from None


def read_csv(
    path: Path,
    *,
    name: str,
    required: Iterable[str],
    optional: Iterable[str] = (),
    budget: Budget | None = None,
) -> list[CsvRow]:
    """Every row of a CSV file (for small files); raises InvalidSource on any problem."""
    budget = budget or Budget.unlimited()
    stream = open_capped(path, name=name, budget=budget)
    try:
        problems: list[Problem] = []
        rows = list(
            CsvStream(
                stream,
                name=name,
                required=required,
                optional=optional,
                problems=problems,
                budget=budget,
            )
        )
    finally:
        stream.raw.close()
    raise_if_any(problems)
    return rows


def parse_csv(
    data: bytes, *, name: str, required: Iterable[str], optional: Iterable[str] = ()
) -> list[CsvRow]:
    """Every row of a CSV held in memory; raises InvalidSource on any problem."""
    budget = Budget.unlimited()
    problems: list[Problem] = []
    stream = CappedReader(io.BytesIO(data), name=name, budget=budget)
    rows = list(
        CsvStream(
            stream,
            name=name,
            required=required,
            optional=optional,
            problems=problems,
            budget=budget,
        )
    )
    raise_if_any(problems)
    return rows
