"""Reading the surnames CSV: find the file, parse and validate it, group rows by split.

``surnames_with_splits.csv`` has (at least) the columns ``nationality``, ``split``
and ``surname``; every problem is a :class:`DataError` naming the file and line.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..limits import MAX_SURNAME_LENGTH

__all__ = [
    "DATA_FILE_NAME",
    "DEFAULT_DATA_DIR",
    "SPLITS",
    "REQUIRED_COLUMNS",
    "DataError",
    "DataWarning",
    "SurnameRecord",
    "ambiguous_surnames",
    "find_data_file",
    "load_surnames",
    "split_records",
]

DATA_FILE_NAME = "surnames_with_splits.csv"
DEFAULT_DATA_DIR = Path("data/surnames")
"""Where the project looks for the data: ``data/surnames`` relative to the working directory."""

SPLITS: tuple[str, ...] = ("train", "val", "test")
REQUIRED_COLUMNS: tuple[str, ...] = ("nationality", "split", "surname")

_HELP = (
    "see data/README.md: `python -m scratchrnn data fetch` downloads and checks it into "
    "data/surnames/ (`make data` copies it from ../shared/data/surnames/ or fetches it), "
    "or pass --data PATH"
)


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file (and line)."""



@dataclass(frozen=True)
class SurnameRecord:
    """One row of the CSV. ``line`` is its 1-based line number in the file."""

    surname: str
    nationality: str
    split: str
    line: int


def find_data_file(path: str | Path | None = None) -> Path:
    """The surnames CSV: ``path`` itself, ``path/surnames_with_splits.csv``, or the default.

    With ``path=None`` the file is ``DEFAULT_DATA_DIR / DATA_FILE_NAME``, i.e.
    ``data/surnames/surnames_with_splits.csv`` under the working directory.
    Raises :class:`DataError` naming the path tried when there is no such file.
    """
    given = DEFAULT_DATA_DIR if path is None else Path(path)
    candidate = given / DATA_FILE_NAME if given.is_dir() or path is None else given
    if not candidate.is_file():
        shown = str(candidate)
        if not candidate.is_absolute():
            shown += f" (= {candidate.absolute()})"
        raise DataError(f"surnames data not found: no file at {shown}; {_HELP}")
    return candidate


def load_surnames(path: str | Path | None = None) -> list[SurnameRecord]:
    """Read and validate the surnames CSV (see :func:`find_data_file` for ``path``).

    The file is UTF-8 (a BOM is accepted), with LF or CRLF line ends. Its header
    must name the columns ``nationality``, ``split`` and ``surname``, in any order
    (extra columns are ignored; names are matched ignoring case and surrounding
    spaces). Blank lines are skipped. Surnames and nationalities are read in Unicode
    NFC (a decomposed "Dvořák" is the composed one); nationality and split are stripped of
    surrounding spaces, and so are surnames, with one :class:`DataWarning` counting them.
    The same surname under several nationalities is kept (:func:`ambiguous_surnames`).

    Raises :class:`DataError`, naming the file and the line, for: an empty file or
    one with a header but no rows, missing columns, bytes that are not UTF-8, a row
    with the wrong number of fields, a blank surname or nationality, a split other
    than ``train``, ``val``, ``test``, a field holding a line break (what an unmatched
    quote makes of the following lines), a surname longer than
    :data:`scratchrnn.limits.MAX_SURNAME_LENGTH` (64) characters, when the rows read do
    not account for every line of the file, and for nationality labels that differ only
    in case ("English" and "english"), naming each spelling and its row count.
    """
    file = find_data_file(path)
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{file}: line {line}: not UTF-8 ({err.reason} at byte {err.start}); "
            "save the file as UTF-8"
        ) from None
    if not text.strip():
        raise DataError(
            f"{file}: empty file; expected a header line naming the columns "
            f"{', '.join(REQUIRED_COLUMNS)}"
        )

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        while not header:  # leading blank lines
            header = next(reader)
        header_line = reader.line_num
        names = [name.strip().lower() for name in header]
        missing = [col for col in REQUIRED_COLUMNS if col not in names]
        if missing:
            raise DataError(
                f"{file}: line {header_line}: header {header!r} lacks column(s) "
                f"{', '.join(missing)}; expected a header with the columns "
                f"{', '.join(REQUIRED_COLUMNS)} (any order)"
            )
        col = {name: names.index(name) for name in REQUIRED_COLUMNS}

        records: list[SurnameRecord] = []
        padded: list[int] = []  # lines whose surname had surrounding whitespace
        previous = reader.line_num
        for row in reader:
            line, start = reader.line_num, previous + 1
            previous = line
            if line != start or any("\n" in f or "\r" in f for f in row):
                raise DataError(
                    f"{file}: line {start}: a field holds a line break (an unmatched quote "
                    f"reads on to line {line}); double a quote inside a quoted field, or "
                    "leave the field unquoted"
                )
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                continue  # blank line
            if len(row) != len(header):
                raise DataError(
                    f"{file}: line {line}: {len(row)} field(s), the header has "
                    f"{len(header)}: {row!r}"
                )
            # NFC: "Dvořák" typed as D-v-o-r-◌̌-a-◌́-k is the same surname as the composed one
            surname = unicodedata.normalize("NFC", row[col["surname"]])
            nationality = unicodedata.normalize("NFC", row[col["nationality"]].strip())
            split = row[col["split"]].strip()
            if not surname.strip():
                raise DataError(f"{file}: line {line}: blank surname")
            if surname != surname.strip():
                padded.append(line)
                surname = surname.strip()
            if len(surname) > MAX_SURNAME_LENGTH:
                raise DataError(
                    f"{file}: line {line}: a surname of {len(surname)} characters; at most "
                    f"{MAX_SURNAME_LENGTH} are allowed"
                )
            if not nationality:
                raise DataError(f"{file}: line {line}: blank nationality")
            if split not in SPLITS:
                raise DataError(
                    f"{file}: line {line}: unknown split {split!r}; allowed: {', '.join(SPLITS)}"
                )
            records.append(SurnameRecord(surname, nationality, split, line))
    except csv.Error as err:
        raise DataError(f"{file}: line {reader.line_num}: malformed CSV: {err}") from None
    if not records:
        raise DataError(f"{file}: no data rows after the header")
    lines = len(io.StringIO(text, newline="").readlines())
    if reader.line_num != lines:  # every line is a record, a blank line or the header
        raise DataError(
            f"{file}: line {reader.line_num}: read {reader.line_num} of the file's {lines} "
            "lines; the rest was not read as rows"
        )
    _refuse_label_variants(file, records)
    if padded:
        warnings.warn(f"{file}: stripped the spaces around {len(padded)} surname(s) "
                      f"(first at line {padded[0]})", DataWarning, stacklevel=2)
    return records


class DataWarning(UserWarning):
    """The data was read, with a change worth knowing (e.g. surnames stripped)."""


def _refuse_label_variants(file: Path, records: list[SurnameRecord]) -> None:
    """Labels that differ only in case ("English", "english", "ENGLISH") would become
    separate classes: refused, naming each spelling with its row count."""
    spellings: dict[str, Counter] = {}
    for r in records:
        spellings.setdefault(r.nationality.casefold(), Counter())[r.nationality] += 1
    clashes = [c for c in spellings.values() if len(c) > 1]
    if clashes:
        shown = "; ".join(", ".join(f"{name!r} ({n} rows)" for name, n in c.most_common())
                          for c in clashes)
        raise DataError(f"{file}: nationality labels that differ only in case: {shown}; "
                        "write each nationality one way")


def ambiguous_surnames(records: Iterable[SurnameRecord]) -> int:
    """How many distinct surnames appear under more than one nationality (the book's
    data has 296, e.g. Said: Arabic and English). They are kept: a surname can be both."""
    labels: dict[str, set[str]] = {}
    for r in records:
        labels.setdefault(r.surname, set()).add(r.nationality)
    return sum(len(v) > 1 for v in labels.values())


def split_records(records: Iterable[SurnameRecord]) -> dict[str, list[SurnameRecord]]:
    """Records grouped by split, in file order: always the keys ``train``, ``val``, ``test``."""
    out: dict[str, list[SurnameRecord]] = {split: [] for split in SPLITS}
    for record in records:
        if record.split not in out:
            raise ValueError(f"record at line {record.line} has unknown split {record.split!r}")
        out[record.split].append(record)
    return out
