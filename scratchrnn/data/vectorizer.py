"""The vectorizer: a surname to index vectors, a nationality to a class index.

Every place that turns a surname into indices (the dataset, ``classify predict``,
``generate score``, the gate study) goes through :func:`encode_surname`.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..checks import check_positive_int
from .surnames_csv import SurnameRecord
from .vocabulary import SequenceVocabulary, UnknownTokenError, Vocabulary

__all__ = ["SurnameVectorizer", "encode_surname", "typed_surnames", "unknown_characters"]


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
        self.char_vocab = char_vocab
        self.nationality_vocab = nationality_vocab
        self.max_length = check_positive_int("max_length", max_length, minimum=2)

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
        Unknown characters become ``<UNK>`` (see :func:`encode_surname`).
        """
        indices = encode_surname(self, surname)
        return self._padded(indices, length, self.max_length), len(indices)

    def vectorize_generation(
        self, surname: str, length: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The book's ``(from_vector, to_vector)`` for language modelling.

        ``from = <BEGIN> + chars`` and ``to = chars + <END>``, so ``to[t]`` is the
        character that follows ``from[t]``; both are padded with ``<MASK>`` to
        ``length`` (default ``max_length - 1``, grown to fit a longer surname).
        """
        indices = encode_surname(self, surname)
        return (
            self._padded(indices[:-1], length, self.max_length - 1),
            self._padded(indices[1:], length, self.max_length - 1),
        )

    def vectorize_batch(
        self, surnames: Sequence[str], width: int | None = None
    ) -> dict[str, np.ndarray]:
        """Several surnames at once, each row as :meth:`vectorize_classification` and
        :meth:`vectorize_generation` would give it, ``<MASK>``-padded to one width.

        Returns int64 arrays ``x`` (N, W), ``lengths`` (N,) (surname length + 2),
        ``x_gen`` and ``y_gen`` (N, W - 1), with W = ``width`` (default: the tight
        width, longest surname + 2). A ``width`` too small for a surname raises.
        """
        seqs = [encode_surname(self, surname) for surname in surnames]
        longest = max((len(q) for q in seqs), default=2)
        if width is None:
            width = longest
        elif width < longest:
            raise ValueError(f"a surname needs {longest} positions, more than width={width}")
        n, mask = len(seqs), self.char_vocab.mask_index
        x = np.full((n, width), mask, dtype=np.int64)
        x_gen = np.full((n, width - 1), mask, dtype=np.int64)
        y_gen = np.full((n, width - 1), mask, dtype=np.int64)
        lengths = np.empty(n, dtype=np.int64)
        for i, seq in enumerate(seqs):
            k = len(seq)
            x[i, :k] = seq
            x_gen[i, : k - 1] = seq[:-1]
            y_gen[i, : k - 1] = seq[1:]
            lengths[i] = k
        return {"x": x, "lengths": lengths, "x_gen": x_gen, "y_gen": y_gen}

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


def _checked_surname(surname: object) -> str:
    """``surname`` in NFC without surrounding whitespace; ``ValueError`` for a non-string
    or a surname that is empty (or only whitespace)."""
    if not isinstance(surname, str):
        raise ValueError(f"surname must be a str, got {type(surname).__name__}")
    stripped = unicodedata.normalize("NFC", surname).strip()
    if not stripped:
        raise ValueError(f"a surname must not be empty or only whitespace, got {surname!r}")
    return stripped


def encode_surname(vocab: SurnameVectorizer | SequenceVocabulary, surname: str) -> np.ndarray:
    """The index sequence of one surname: ``[<BEGIN>, c_1, ..., c_n, <END>]``.

    The one encoding of a surname, used for training, ``classify predict``,
    ``generate score`` and the gate study. ``vocab`` is a :class:`SurnameVectorizer`
    (its character vocabulary is used) or a :class:`SequenceVocabulary`.
    The surname is read in Unicode NFC (as the data is: a decomposed "Dvořák" is the
    composed one) and surrounding whitespace is stripped; each character ``c_t`` becomes
    its index, an unknown one ``<UNK>`` (:func:`unknown_characters` lists them).

    Returns an int64 array of shape ``(n + 2,)``, n = ``len(surname.strip())``.
    Raises ``ValueError`` for a non-string or a surname that is empty (or only
    whitespace).
    """
    chars = vocab.char_vocab if isinstance(vocab, SurnameVectorizer) else vocab
    if not isinstance(chars, SequenceVocabulary):
        raise ValueError(
            f"vocab must be a SurnameVectorizer or a SequenceVocabulary, got {type(vocab).__name__}"
        )
    stripped = _checked_surname(surname)
    return np.array(
        [chars.begin_seq_index, *chars.encode(stripped), chars.end_seq_index], dtype=np.int64
    )


def unknown_characters(vocab: SurnameVectorizer | SequenceVocabulary,
                       surnames: Iterable[str]) -> str:
    """The characters of ``surnames`` (in NFC, as :func:`encode_surname` reads them) that
    the vocabulary lacks, each once, described for a one-line message: an invisible one
    (a combining mark, a space) by its code point, e.g. ``'🙂', U+0303 (COMBINING TILDE)``;
    "" when every character is known. ("ß" is its own character, not "ss".)"""
    chars = vocab.char_vocab if isinstance(vocab, SurnameVectorizer) else vocab
    unknown = sorted({ch for s in surnames for ch in unicodedata.normalize("NFC", s).strip()
                      if ch not in chars})
    return ", ".join(repr(ch) if ch.isprintable() and not unicodedata.combining(ch)
                     else f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')})"
                     for ch in unknown)


def typed_surnames(vocab: SurnameVectorizer | SequenceVocabulary, surnames: Iterable[str],
                   verb: str = "read") -> list[str]:
    """Surnames typed by a user (``classify predict``, ``generate score``) in NFC, as the
    data is read; one warning naming the characters the vocabulary lacks (``verb`` says
    what becomes of them: "read" / "scored" as <UNK>). An empty or non-string surname is a
    ``ValueError`` before any warning (a mistake is the only line a user sees)."""
    surnames = list(surnames)
    for s in surnames:  # every surname checked before anything is said or done
        _checked_surname(s)
    surnames = [unicodedata.normalize("NFC", s) for s in surnames]
    unknown = unknown_characters(vocab, surnames)
    if unknown:
        warnings.warn(f"characters not in the vocabulary, {verb} as <UNK>: {unknown}",
                      stacklevel=3)
    return surnames
