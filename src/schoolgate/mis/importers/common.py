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


def decode_utf8(data: bytes, *, name: str) -> str:
    """Text of a UTF-8 file (a BOM is dropped); any other encoding is a located Problem."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidSource(
            [
                Where(name, line=1).problem(
                    _("the file is not UTF-8 (it is UTF-16): save it as 'CSV UTF-8'")
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InvalidSource(
            [
                Where(name, line=line).problem(
                    _(
                        "the file is not UTF-8 (byte %(byte)s cannot be read): "
                        "save it as 'CSV UTF-8'"
                    )
                    % {"byte": f"0x{data[error.start]:02X}"}
                )
            ]
        ) from None


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: values by normalised column name, and the line it starts on."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        """The trimmed value, '' when the column is absent or empty."""
        return self.values.get(column, "")


def read_csv(
    path: Path, *, name: str, required: Iterable[str], optional: Iterable[str] = ()
) -> list[CsvRow]:
    """Read a CSV file by header name; see `parse_csv`."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidSource(
            [Where(name).problem(_("the file cannot be read: %(error)s") % {"error": error})]
        ) from None
    return parse_csv(data, name=name, required=required, optional=optional)


def parse_csv(
    data: bytes, *, name: str, required: Iterable[str], optional: Iterable[str] = ()
) -> list[CsvRow]:
    """Rows of a UTF-8 CSV keyed by header name (trimmed, lower-cased).

    Accepts a BOM and CRLF; ignores unknown and blank-named columns and blank rows.
    A missing required column, a repeated column or a row with extra values raises
    InvalidSource naming the line. Values are trimmed; `optional` columns that are
    absent read as ''."""
    text = decode_utf8(data, name=name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidSource([Where(name, line=1).problem(_("the file is empty"))]) from None
    except csv.Error as error:
        raise InvalidSource([Where(name, line=1).problem(str(error))]) from None
    columns = [column.strip().lower() for column in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            problems.append(
                Where(name, line=1).problem(_("the column appears twice"), field=column)
            )
        seen.add(column)
    for column in required:
        if column not in seen:
            problems.append(
                Where(name, line=1).problem(_("the required column is missing"), field=column)
            )
    raise_if_any(problems)

    wanted = [(i, c) for i, c in enumerate(columns) if c]
    width = len(columns)
    absent = {c: "" for c in optional if c not in seen}
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    problems.append(
                        Where(name, line=line).problem(
                            _("the row has %(count)s values but the header has %(width)s columns")
                            % {"count": len(record), "width": width}
                        )
                    )
                else:
                    values = {c: record[i].strip() if i < len(record) else "" for i, c in wanted}
                    values.update(absent)
                    rows.append(CsvRow(line=line, values=values))
            line = reader.line_num + 1
    except csv.Error as error:
        problems.append(Where(name, line=reader.line_num).problem(str(error)))
    raise_if_any(problems)
    return rows
