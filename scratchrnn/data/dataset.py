"""The dataset: all three splits as read-only int64 arrays, and minibatches of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import check_positive_int
from ..rng import as_generator
from .surnames_csv import SPLITS, DataError, SurnameRecord, load_surnames, split_records
from .vectorizer import SurnameVectorizer

__all__ = ["BATCH_KEYS", "SplitArrays", "SurnameDataset"]


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
        arrays = self.vectorizer.vectorize_batch([r.surname for r in rows], self.max_length)
        y_nat = np.empty(len(rows), dtype=np.int64)
        nat_vocab = self.vectorizer.nationality_vocab
        for i, record in enumerate(rows):
            if record.nationality not in nat_vocab:
                raise DataError(
                    f"line {record.line}: nationality {record.nationality!r} is not in the "
                    f"vectorizer's vocabulary ({', '.join(nat_vocab.tokens)})"
                )
            y_nat[i] = nat_vocab.lookup_token(record.nationality)
        for arr in (*arrays.values(), y_nat):
            arr.flags.writeable = False
        return SplitArrays(
            tuple(r.surname for r in rows),
            arrays["x"],
            arrays["lengths"],
            y_nat,
            arrays["x_gen"],
            arrays["y_gen"],
        )

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
        n, batch_size = self.size(name), check_positive_int("batch_size", batch_size)
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
        batch_size = check_positive_int("batch_size", batch_size)
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
