"""The surname labs' data pipeline: CSV, vocabularies, vectorizer, dataset, batches.

    surnames_csv.py  find_data_file, load_surnames, split_records, DataError
    vocabulary.py    Vocabulary, SequenceVocabulary, UnknownTokenError
    vectorizer.py    SurnameVectorizer, encode_surname
    dataset.py       SurnameDataset (arrays per split), batches

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

from .dataset import BATCH_KEYS, SplitArrays, SurnameDataset
from .surnames_csv import (
    DATA_FILE_NAME,
    DEFAULT_DATA_DIR,
    SPLITS,
    DataError,
    DataWarning,
    SurnameRecord,
    ambiguous_surnames,
    find_data_file,
    load_surnames,
    split_records,
)
from .vectorizer import SurnameVectorizer, encode_surname, typed_surnames, unknown_characters
from .vocabulary import SequenceVocabulary, UnknownTokenError, Vocabulary

__all__ = [
    "DATA_FILE_NAME",
    "DEFAULT_DATA_DIR",
    "SPLITS",
    "DataError",
    "DataWarning",
    "UnknownTokenError",
    "ambiguous_surnames",
    "typed_surnames",
    "unknown_characters",
    "SurnameRecord",
    "find_data_file",
    "load_surnames",
    "split_records",
    "Vocabulary",
    "SequenceVocabulary",
    "SurnameVectorizer",
    "encode_surname",
    "BATCH_KEYS",
    "SplitArrays",
    "SurnameDataset",
]
