"""Vocabularies: token <-> index bijections, and the character vocabulary of the labs.

:class:`Vocabulary` (nationalities: an unknown token is an error) and
:class:`SequenceVocabulary` (characters: ``<MASK>`` = 0, ``<UNK>`` = 1, ``<BEGIN>`` = 2,
``<END>`` = 3, unknown characters map to ``<UNK>``), as the book's classes of the same
names, with its JSON form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = ["UnknownTokenError", "Vocabulary", "SequenceVocabulary"]


class UnknownTokenError(KeyError, ValueError):
    """A token is not in a vocabulary that has no ``<UNK>``; the message lists valid tokens."""

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


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
