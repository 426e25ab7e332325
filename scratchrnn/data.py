"""The surname labs' data pipeline: CSV, vocabularies, vectorizer, dataset, batches.

A NumPy port of the pipeline in *Natural Language Processing with PyTorch*
(Rao & McMahan), chapters 6 (classification) and 7 (generation)::

    surnames_with_splits.csv ──load_surnames──> [SurnameRecord, ...]
        ──SurnameVectorizer.from_records(train)──> char + nationality vocabularies
        ──SurnameDataset──> int64 arrays per split ──batches()──> dicts of arrays

Character indices follow the book's ``SequenceVocabulary``: ``<MASK>`` = 0,
``<UNK>`` = 1, ``<BEGIN>`` = 2, ``<END>`` = 3, then the characters in order of
first appearance.

Choices, and where they differ from the book:

* Vocabularies are built from the **train** split, in order of first appearance
  (chapter 6 does this; chapter 7's notebooks build them from all splits: pass
  ``vocab_splits=SPLITS`` to :meth:`SurnameDataset.from_records` for that).
  Characters seen only in val/test become ``<UNK>``.
* ``max_length`` is, as in the book's ``SurnameDataset``, the longest surname of
  the *whole* file + 2 (``<BEGIN>`` and ``<END>``); :meth:`SurnameVectorizer.from_records`
  on its own uses the longest of the records it is given. A surname too long for
  ``max_length`` (a saved vectorizer applied to another file) is never truncated:
  the default vector grows to fit, and a dataset pads all its rows to its own
  longest row.
* Generation vectors have length ``max_length - 1`` (the tight size: ``<BEGIN>`` +
  chars, chars + ``<END>``). The book pads them to ``max_length``, one extra column
  that is always ``<MASK>`` and ignored by the loss.
* Evaluation batches (:meth:`SurnameDataset.eval_batches`) are neither shuffled
  nor dropped; the book evaluates with ``shuffle=True, drop_last=True``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._random import as_generator

__all__ = [
    "DATA_FILE_NAME",
    "DEFAULT_DATA_DIR",
    "SPLITS",
    "DataError",
    "UnknownTokenError",
    "SurnameRecord",
    "find_data_file",
    "load_surnames",
    "split_records",
    "Vocabulary",
    "SequenceVocabulary",
    "SurnameVectorizer",
    "BATCH_KEYS",
    "SplitArrays",
    "SurnameDataset",
]

DATA_FILE_NAME = "surnames_with_splits.csv"
DEFAULT_DATA_DIR = Path("data/surnames")
"""Where the project looks for the data: ``data/surnames`` relative to the working directory."""

SPLITS: tuple[str, ...] = ("train", "val", "test")
REQUIRED_COLUMNS: tuple[str, ...] = ("nationality", "split", "surname")

_HELP = (
    "see data/README.md: put surnames_with_splits.csv in data/surnames/ "
    "(`make data` copies it from ../shared/data/surnames/) or pass --data PATH"
)


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file (and line)."""


class UnknownTokenError(KeyError, ValueError):
    """A token is not in a vocabulary that has no ``<UNK>``; the message lists valid tokens."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------- CSV


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
    spaces). Blank lines are skipped. Surnames are kept verbatim; nationality and
    split are stripped of surrounding spaces.

    Raises :class:`DataError`, naming the file and the line, for: an empty file or
    one with a header but no rows, missing columns, bytes that are not UTF-8, a row
    with the wrong number of fields, a blank surname or nationality, a split other
    than ``train``, ``val``, ``test``.
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
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
                continue  # blank line
            if len(row) != len(header):
                raise DataError(
                    f"{file}: line {line}: {len(row)} field(s), the header has "
                    f"{len(header)}: {row!r}"
                )
            surname = row[col["surname"]]
            nationality = row[col["nationality"]].strip()
            split = row[col["split"]].strip()
            if not surname.strip():
                raise DataError(f"{file}: line {line}: blank surname")
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
    return records


def split_records(records: Iterable[SurnameRecord]) -> dict[str, list[SurnameRecord]]:
    """Records grouped by split, in file order: always the keys ``train``, ``val``, ``test``."""
    out: dict[str, list[SurnameRecord]] = {split: [] for split in SPLITS}
    for record in records:
        if record.split not in out:
            raise ValueError(f"record at line {record.line} has unknown split {record.split!r}")
        out[record.split].append(record)
    return out


# ------------------------------------------------------------------ vocabularies


class Vocabulary:
    """A bijection token <-> index; indices are 0, 1, ... in order of addition.

    Looking up an unknown token raises :class:`UnknownTokenError` (a ``KeyError``
    and a ``ValueError``) listing the valid tokens.
    """

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._token_to_idx: dict[str, int] = {}
        self._idx_to_token: list[str] = []
        for token in tokens:
            self.add(token)

    def add(self, token: str) -> int:
        """Add ``token`` if new; return its index either way."""
        if not isinstance(token, str):
            raise ValueError(f"tokens must be str, got {type(token).__name__}")
        index = self._token_to_idx.get(token)
        if index is None:
            index = len(self._idx_to_token)
            self._token_to_idx[token] = index
            self._idx_to_token.append(token)
        return index

    def lookup_token(self, token: str) -> int:
        """The index of ``token``."""
        try:
            return self._token_to_idx[token]
        except KeyError:
            raise UnknownTokenError(
                f"{token!r} is not in the vocabulary; valid: {self._list_tokens()}"
            ) from None

    def lookup_index(self, index: int) -> str:
        """The token at ``index``."""
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"index must be an integer, got {index!r}")
        if not 0 <= index < len(self._idx_to_token):
            raise UnknownTokenError(
                f"index {int(index)} is not in the vocabulary (size {len(self)})"
            )
        return self._idx_to_token[int(index)]

    @property
    def tokens(self) -> list[str]:
        """All tokens in index order (a copy)."""
        return list(self._idx_to_token)

    def __len__(self) -> int:
        return len(self._idx_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self._token_to_idx

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._idx_to_token))

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._idx_to_token == other._idx_to_token  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={len(self)})"

    def to_json(self) -> dict[str, Any]:
        """A plain JSON-ready dict, the book's form: ``{"token_to_idx": {token: index}}``."""
        return {"token_to_idx": dict(self._token_to_idx)}

    @classmethod
    def from_json(cls, contents: dict[str, Any]) -> Vocabulary:
        """Inverse of :meth:`to_json`; checks that the indices are 0..n-1."""
        return cls(_tokens_from_json(contents, cls.__name__))

    def _list_tokens(self, limit: int = 40) -> str:
        shown = ", ".join(self._idx_to_token[:limit])
        if len(self) > limit:
            shown += f", ... ({len(self)} in all)"
        return shown or "(empty vocabulary)"


def _tokens_from_json(contents: object, what: str) -> list[str]:
    if not isinstance(contents, dict) or not isinstance(contents.get("token_to_idx"), dict):
        raise ValueError(f"{what}.from_json expects a dict with a 'token_to_idx' dict")
    mapping = contents["token_to_idx"]
    for token, index in mapping.items():
        if not isinstance(token, str) or isinstance(index, bool) or not isinstance(index, int):
            raise ValueError(f"{what}.from_json: bad entry {token!r}: {index!r}")
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise ValueError(f"{what}.from_json: indices must be 0..{len(mapping) - 1}, each once")
    return sorted(mapping, key=mapping.__getitem__)


class SequenceVocabulary(Vocabulary):
    """A character vocabulary with the book's special tokens at fixed indices.

    ``<MASK>`` = 0 (padding), ``<UNK>`` = 1, ``<BEGIN>`` = 2, ``<END>`` = 3; then
    the characters. :meth:`lookup_token` maps an unknown token to ``unk_index``.
    """

    MASK = "<MASK>"
    UNK = "<UNK>"
    BEGIN = "<BEGIN>"
    END = "<END>"
    mask_index = 0
    unk_index = 1
    begin_seq_index = 2
    end_seq_index = 3

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        super().__init__((self.MASK, self.UNK, self.BEGIN, self.END))
        for token in tokens:
            self.add(token)

    def lookup_token(self, token: str) -> int:
        """The index of ``token``, or ``unk_index`` when it is not in the vocabulary."""
        return self._token_to_idx.get(token, self.unk_index)

    def encode(self, text: str) -> list[int]:
        """The index of each character of ``text`` (unknown ones as ``unk_index``); no BEGIN/END."""
        get = self._token_to_idx.get
        return [get(char, self.unk_index) for char in text]

    def decode(self, indices: Iterable[int]) -> str:
        """Characters of ``indices``: ``<BEGIN>`` skipped, stop at ``<END>`` or ``<MASK>``.

        ``<UNK>`` is rendered as the string ``"<UNK>"``. (The book's
        ``decode_samples`` does the same except that it keeps going past ``<MASK>``.)
        """
        out = []
        for index in indices:
            index = int(index)
            if index == self.begin_seq_index:
                continue
            if index in (self.end_seq_index, self.mask_index):
                break
            out.append(self.lookup_index(index))
        return "".join(out)

    def to_json(self) -> dict[str, Any]:
        """The book's form: ``token_to_idx`` plus the four special tokens."""
        contents = super().to_json()
        contents.update(
            unk_token=self.UNK,
            mask_token=self.MASK,
            begin_seq_token=self.BEGIN,
            end_seq_token=self.END,
        )
        return contents

    @classmethod
    def from_json(cls, contents: dict[str, Any]) -> SequenceVocabulary:
        """Inverse of :meth:`to_json`; the special tokens must be the book's, at 0..3."""
        tokens = _tokens_from_json(contents, cls.__name__)
        specials = [cls.MASK, cls.UNK, cls.BEGIN, cls.END]
        named = {
            "mask_token": cls.MASK,
            "unk_token": cls.UNK,
            "begin_seq_token": cls.BEGIN,
            "end_seq_token": cls.END,
        }
        for key, want in named.items():
            if key in contents and contents[key] != want:
                raise ValueError(
                    f"SequenceVocabulary.from_json: {key} must be {want!r}, got {contents[key]!r}"
                )
        if tokens[:4] != specials:
            raise ValueError(
                f"SequenceVocabulary.from_json: indices 0..3 must be {specials}, got {tokens[:4]}"
            )
        return cls(tokens[4:])


# -------------------------------------------------------------------- vectorizer


class SurnameVectorizer:
    """Turns surnames into index vectors and nationalities into class indices.

    ``max_length`` is the classification vector length: the longest expected
    surname + 2 (for ``<BEGIN>`` and ``<END>``). Generation vectors are one shorter.
    """

    def __init__(
        self,
        char_vocab: SequenceVocabulary,
        nationality_vocab: Vocabulary,
        max_length: int,
    ) -> None:
        if not isinstance(char_vocab, SequenceVocabulary):
            raise ValueError("char_vocab must be a SequenceVocabulary")
        if not isinstance(nationality_vocab, Vocabulary) or isinstance(
            nationality_vocab, SequenceVocabulary
        ):
            raise ValueError("nationality_vocab must be a plain Vocabulary (no <UNK>)")
        if (
            isinstance(max_length, bool)
            or not isinstance(max_length, (int, np.integer))
            or max_length < 2
        ):
            raise ValueError(f"max_length must be an integer >= 2, got {max_length!r}")
        self.char_vocab = char_vocab
        self.nationality_vocab = nationality_vocab
        self.max_length = int(max_length)

    @classmethod
    def from_records(
        cls, records: Iterable[SurnameRecord], max_length: int | None = None
    ) -> SurnameVectorizer:
        """Vocabularies from ``records`` (pass the train split, as chapter 6 does).

        Characters and nationalities get indices in order of first appearance, as
        the book's ``for index, row in surname_df.iterrows()`` does. ``max_length``
        defaults to the longest surname among ``records`` + 2.
        """
        records = list(records)
        if not records:
            raise ValueError("SurnameVectorizer.from_records needs at least one record")
        char_vocab = SequenceVocabulary()
        nationality_vocab = Vocabulary()
        for record in records:
            for char in record.surname:
                char_vocab.add(char)
            nationality_vocab.add(record.nationality)
        if max_length is None:
            max_length = max(len(r.surname) for r in records) + 2
        return cls(char_vocab, nationality_vocab, max_length)

    # -- surnames

    def _indices(self, surname: str) -> list[int]:
        if not isinstance(surname, str):
            raise ValueError(f"surname must be a str, got {type(surname).__name__}")
        vocab = self.char_vocab
        return [vocab.begin_seq_index, *vocab.encode(surname), vocab.end_seq_index]

    def _padded(self, indices: Sequence[int], length: int | None, default: int) -> np.ndarray:
        if length is None:
            length = max(default, len(indices))  # never truncate: grow to fit
        elif len(indices) > length:
            raise ValueError(f"surname needs {len(indices)} positions, more than length={length}")
        out = np.full(length, self.char_vocab.mask_index, dtype=np.int64)
        out[: len(indices)] = indices
        return out

    def vectorize_classification(
        self, surname: str, length: int | None = None
    ) -> tuple[np.ndarray, int]:
        """``<BEGIN>`` + characters + ``<END>``, padded with ``<MASK>``.

        Returns ``(indices, n)``: int64 indices of shape ``(length,)`` (default
        ``max_length``, grown to fit a longer surname) and ``n = len(surname) + 2``,
        the count of non-padding positions (BEGIN and END included), so the last
        real step is ``n - 1``. An explicit ``length`` that is too short raises.
        Unknown characters become ``<UNK>``.
        """
        indices = self._indices(surname)
        return self._padded(indices, length, self.max_length), len(indices)

    def vectorize_generation(
        self, surname: str, length: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The book's ``(from_vector, to_vector)`` for language modelling.

        ``from = <BEGIN> + chars`` and ``to = chars + <END>``, so ``to[t]`` is the
        character that follows ``from[t]``; both are padded with ``<MASK>`` to
        ``length`` (default ``max_length - 1``, grown to fit a longer surname).
        """
        indices = self._indices(surname)
        return (
            self._padded(indices[:-1], length, self.max_length - 1),
            self._padded(indices[1:], length, self.max_length - 1),
        )

    def decode(self, indices: Iterable[int]) -> str:
        """Surname from character indices (see :meth:`SequenceVocabulary.decode`)."""
        return self.char_vocab.decode(indices)

    # -- nationalities

    def lookup_nationality(self, name: str) -> int:
        """Class index of a nationality, ignoring case and surrounding spaces.

        Raises :class:`UnknownTokenError` listing the valid names.
        """
        vocab = self.nationality_vocab
        if name in vocab:
            return vocab.lookup_token(name)
        wanted = str(name).strip().casefold()
        for token in vocab:
            if token.casefold() == wanted:
                return vocab.lookup_token(token)
        raise UnknownTokenError(f"unknown nationality {name!r}; valid: {', '.join(vocab.tokens)}")

    @property
    def nationalities(self) -> list[str]:
        """Nationality names in class-index order."""
        return self.nationality_vocab.tokens

    # -- serialisation

    def to_json(self) -> dict[str, Any]:
        """Plain dict: both vocabularies and ``max_length``."""
        return {
            "char_vocab": self.char_vocab.to_json(),
            "nationality_vocab": self.nationality_vocab.to_json(),
            "max_length": self.max_length,
        }

    @classmethod
    def from_json(cls, contents: dict[str, Any]) -> SurnameVectorizer:
        """Inverse of :meth:`to_json`."""
        if not isinstance(contents, dict):
            raise ValueError("SurnameVectorizer.from_json expects a dict")
        for key in ("char_vocab", "nationality_vocab", "max_length"):
            if key not in contents:
                raise ValueError(f"SurnameVectorizer.from_json: missing key {key!r}")
        return cls(
            SequenceVocabulary.from_json(contents["char_vocab"]),
            Vocabulary.from_json(contents["nationality_vocab"]),
            contents["max_length"],
        )

    def __repr__(self) -> str:
        return (
            f"SurnameVectorizer(chars={len(self.char_vocab)}, "
            f"nationalities={len(self.nationality_vocab)}, max_length={self.max_length})"
        )


# ----------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class SplitArrays:
    """One split, vectorized. ``N`` rows, ``L`` = classification length.

    Attributes:
        surnames: the N surnames, in file order.
        x: (N, L) int64, ``<BEGIN>`` + chars + ``<END>`` + ``<MASK>`` padding.
        lengths: (N,) int64, non-padding positions of ``x`` (surname length + 2).
        y_nationality: (N,) int64 class indices.
        x_gen: (N, L-1) int64 generation inputs (``<BEGIN>`` + chars).
        y_gen: (N, L-1) int64 generation targets (chars + ``<END>``), ``<MASK>`` = 0 padding.
    """

    surnames: tuple[str, ...]
    x: np.ndarray
    lengths: np.ndarray
    y_nationality: np.ndarray
    x_gen: np.ndarray
    y_gen: np.ndarray

    def __len__(self) -> int:
        return len(self.surnames)


BATCH_KEYS = ("x", "lengths", "y_nationality", "x_gen", "y_gen")


class SurnameDataset:
    """All three splits as arrays, plus the vectorizer that made them.

    Build with :meth:`load` (from a CSV path) or :meth:`from_records`; or pass a
    saved vectorizer to the constructor to vectorize new records the same way.
    All splits share one width ``L = max(vectorizer.max_length, longest surname + 2)``.
    """

    def __init__(self, records: Sequence[SurnameRecord], vectorizer: SurnameVectorizer) -> None:
        records = list(records)
        if not records:
            raise DataError("no records")
        self.vectorizer = vectorizer
        self.records = split_records(records)
        self.max_length = max(vectorizer.max_length, max(len(r.surname) for r in records) + 2)
        self._splits = {name: self._vectorize(rows) for name, rows in self.records.items()}

    @classmethod
    def from_records(
        cls, records: Sequence[SurnameRecord], vocab_splits: Sequence[str] = ("train",)
    ) -> SurnameDataset:
        """Vectorizer from the ``vocab_splits`` rows (default train, as chapter 6), then arrays.

        ``max_length`` is the longest surname of all records + 2, as the book's
        ``SurnameDataset`` computes it. ``vocab_splits=SPLITS`` reproduces chapter 7,
        whose notebooks build the vocabularies from the whole file.
        """
        records = list(records)
        unknown = [s for s in vocab_splits if s not in SPLITS]
        if unknown or not vocab_splits:
            raise ValueError(
                f"vocab_splits must be a non-empty subset of {SPLITS}, got {tuple(vocab_splits)!r}"
            )
        source = [r for r in records if r.split in vocab_splits]
        if not source:
            raise DataError(
                f"no rows in split(s) {', '.join(vocab_splits)} to build the vocabularies from"
            )
        max_length = max(len(r.surname) for r in records) + 2
        return cls(records, SurnameVectorizer.from_records(source, max_length=max_length))

    @classmethod
    def load(
        cls, path: str | Path | None = None, vocab_splits: Sequence[str] = ("train",)
    ) -> SurnameDataset:
        """:func:`load_surnames` then :meth:`from_records`."""
        return cls.from_records(load_surnames(path), vocab_splits=vocab_splits)

    def _vectorize(self, rows: list[SurnameRecord]) -> SplitArrays:
        n, width = len(rows), self.max_length
        vocab = self.vectorizer.char_vocab
        x = np.full((n, width), vocab.mask_index, dtype=np.int64)
        x_gen = np.full((n, width - 1), vocab.mask_index, dtype=np.int64)
        y_gen = np.full((n, width - 1), vocab.mask_index, dtype=np.int64)
        lengths = np.empty(n, dtype=np.int64)
        y_nat = np.empty(n, dtype=np.int64)
        nat_vocab = self.vectorizer.nationality_vocab
        for i, record in enumerate(rows):
            seq = [vocab.begin_seq_index, *vocab.encode(record.surname), vocab.end_seq_index]
            k = len(seq)
            x[i, :k] = seq
            x_gen[i, : k - 1] = seq[:-1]
            y_gen[i, : k - 1] = seq[1:]
            lengths[i] = k
            if record.nationality not in nat_vocab:
                raise DataError(
                    f"line {record.line}: nationality {record.nationality!r} is not in the "
                    f"vectorizer's vocabulary ({', '.join(nat_vocab.tokens)})"
                )
            y_nat[i] = nat_vocab.lookup_token(record.nationality)
        for arr in (x, lengths, y_nat, x_gen, y_gen):
            arr.flags.writeable = False
        return SplitArrays(tuple(r.surname for r in rows), x, lengths, y_nat, x_gen, y_gen)

    # -- access

    def split(self, name: str) -> SplitArrays:
        """The arrays of split ``name`` (``train``, ``val`` or ``test``); read-only."""
        if name not in self._splits:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
        return self._splits[name]

    def size(self, name: str) -> int:
        """Number of rows in split ``name``."""
        return len(self.split(name))

    @property
    def sizes(self) -> dict[str, int]:
        """Rows per split."""
        return {name: len(arrays) for name, arrays in self._splits.items()}

    def class_weights(self) -> np.ndarray:
        """``1 / count`` of each nationality in the train split, float64, in class-index order.

        As the book's ``SurnameDataset.class_weights`` (which is float32). Raises
        :class:`DataError` when a nationality of the vocabulary has no train rows.
        """
        nat_vocab = self.vectorizer.nationality_vocab
        counts = np.bincount(self.split("train").y_nationality, minlength=len(nat_vocab))
        if (counts == 0).any():
            absent = [nat_vocab.lookup_index(i) for i in np.flatnonzero(counts == 0)]
            raise DataError(
                f"no train rows for nationality {', '.join(absent)}: class weight 1/count undefined"
            )
        return 1.0 / counts.astype(np.float64)

    # -- batches

    def num_batches(self, name: str, batch_size: int, drop_last: bool = True) -> int:
        """How many batches :meth:`batches` yields for this split."""
        n, batch_size = self.size(name), _check_batch_size(batch_size)
        return n // batch_size if drop_last else -(-n // batch_size)

    def batches(
        self,
        name: str,
        batch_size: int,
        shuffle: bool = True,
        rng: int | np.random.Generator | None = None,
        drop_last: bool = True,
        trim: bool = False,
    ) -> Iterator[dict[str, np.ndarray]]:
        """Minibatches of split ``name``, like the book's ``generate_batches``.

        Each batch is a dict of fresh arrays: ``x`` (B, L), ``lengths`` (B,),
        ``y_nationality`` (B,), ``x_gen`` and ``y_gen`` (B, L-1), and ``index`` (B,),
        the rows' positions within the split. With ``shuffle`` the order is a
        permutation drawn from ``rng`` (a seed or ``numpy.random.Generator``, required)
        once per call, i.e. per epoch. ``drop_last`` drops the final short batch, as
        the book does when training. ``trim`` cuts the padding columns that every
        row of the batch has (``L`` becomes ``max(lengths)``), which changes no result
        of a length-aware model and saves time.
        """
        arrays = self.split(name)
        batch_size = _check_batch_size(batch_size)
        n = len(arrays)
        if n == 0:
            raise DataError(f"split {name!r} has no rows")
        if drop_last and n < batch_size:
            raise ValueError(
                f"split {name!r} has {n} rows, fewer than batch_size={batch_size}: "
                "with drop_last=True there would be no batch"
            )
        if shuffle:
            if rng is None:
                raise ValueError("shuffle=True needs rng (an int seed or numpy.random.Generator)")
            order = as_generator(rng).permutation(n)
        else:
            order = np.arange(n)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield _take(arrays, order[start : start + batch_size], trim)

    def eval_batches(
        self, name: str, batch_size: int | None = None, trim: bool = False
    ) -> Iterator[dict[str, np.ndarray]]:
        """Split ``name`` in file order, nothing dropped: one batch, or ``batch_size`` rows each."""
        size = max(self.size(name), 1) if batch_size is None else batch_size
        return self.batches(name, size, shuffle=False, drop_last=False, trim=trim)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return f"SurnameDataset({sizes}, max_length={self.max_length}, {self.vectorizer!r})"


def _check_batch_size(batch_size: object) -> int:
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    return int(batch_size)


def _take(arrays: SplitArrays, rows: np.ndarray, trim: bool) -> dict[str, np.ndarray]:
    lengths = arrays.lengths[rows]
    width = int(lengths.max()) if trim else arrays.x.shape[1]
    return {
        "x": arrays.x[rows, :width],
        "lengths": lengths,
        "y_nationality": arrays.y_nationality[rows],
        "x_gen": arrays.x_gen[rows, : width - 1],
        "y_gen": arrays.y_gen[rows, : width - 1],
        "index": rows.astype(np.int64, copy=True),
    }
