"""scratchrnn.data: CSV loading and its errors, vocabularies, vectorizer, dataset, batches.

Every CSV here is synthetic, written to tmp_path; only ``test_real_data`` reads
the third-party surnames file, and skips when it is not in data/surnames/.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.data import (
    BATCH_KEYS,
    DATA_FILE_NAME,
    DEFAULT_DATA_DIR,
    SPLITS,
    DataError,
    SequenceVocabulary,
    SurnameDataset,
    SurnameRecord,
    SurnameVectorizer,
    UnknownTokenError,
    Vocabulary,
    encode_surname,
    find_data_file,
    load_surnames,
    split_records,
)

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO / "data" / "surnames" / DATA_FILE_NAME

# (nationality, split, surname): accented characters, 3 nationalities, all splits.
ROWS = [
    ("Czech", "train", "Dvořák"),
    ("German", "train", "Müller"),
    ("Polish", "train", "Łukasz"),
    ("German", "train", "Schröder"),
    ("Czech", "train", "Novák"),
    ("German", "train", "Weiß"),
    ("Polish", "train", "Żak"),
    ("German", "train", "Bauer"),
    ("Czech", "val", "Černý"),
    ("German", "val", "Koch"),
    ("Polish", "test", "Nowakowski-Zieliński"),  # longer than any train surname
    ("German", "test", "Qxz"),  # Q and x are not in the train characters
]


def write_csv(tmp_path: Path, text: str, name: str = DATA_FILE_NAME, encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(rows=ROWS, header="nationality,split,surname", newline="\n") -> str:
    lines = [header] + [",".join(row) for row in rows]
    return newline.join(lines) + newline


@pytest.fixture
def records(tmp_path) -> list[SurnameRecord]:
    return load_surnames(write_csv(tmp_path, csv_text()))


@pytest.fixture
def dataset(records) -> SurnameDataset:
    return SurnameDataset.from_records(records)


# ------------------------------------------------------------------ finding files


def test_find_data_file_accepts_file_or_directory(tmp_path):
    path = write_csv(tmp_path, csv_text())
    assert find_data_file(path) == path
    assert find_data_file(tmp_path) == path
    assert find_data_file(str(tmp_path)) == path


def test_find_data_file_default_is_cwd_data_surnames(tmp_path, monkeypatch):
    assert DEFAULT_DATA_DIR == Path("data/surnames")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as err:
        find_data_file()
    msg = str(err.value)
    assert str(Path("data/surnames") / DATA_FILE_NAME) in msg
    assert str(tmp_path) in msg  # the absolute path tried
    assert "data/README.md" in msg and "make data" in msg and "../shared/data/surnames" in msg
    (tmp_path / "data" / "surnames").mkdir(parents=True)
    write_csv(tmp_path / "data" / "surnames", csv_text())
    assert find_data_file() == Path("data/surnames") / DATA_FILE_NAME
    assert len(load_surnames()) == len(ROWS)


@pytest.mark.parametrize("sub", ["missing.csv", "empty_dir"])
def test_missing_file_names_path_and_readme(tmp_path, sub):
    target = tmp_path / sub
    if sub == "empty_dir":
        target.mkdir()
    with pytest.raises(DataError, match="data/README.md") as err:
        load_surnames(target)
    assert str(target) in str(err.value)
    assert isinstance(err.value, ValueError)


# ------------------------------------------------------------------ CSV loading


def test_load_records_fields_and_line_numbers(records):
    assert [(r.nationality, r.split, r.surname) for r in records] == ROWS
    assert [r.line for r in records] == list(range(2, len(ROWS) + 2))
    assert records[0] == SurnameRecord("Dvořák", "Czech", "train", 2)


def test_bom_and_crlf_accepted(tmp_path):
    plain = load_surnames(write_csv(tmp_path, csv_text(), "plain.csv"))
    bom_crlf = load_surnames(write_csv(tmp_path, csv_text(newline="\r\n"), "b.csv", "utf-8-sig"))
    assert bom_crlf == plain
    assert all("\r" not in r.surname for r in bom_crlf)


def test_header_any_order_extra_columns_and_blank_lines(tmp_path):
    text = "id,Surname , split,nationality\n1,Novák,train,Czech\n\n2,Weiß,val,German\n"
    records = load_surnames(write_csv(tmp_path, text))
    assert [(r.surname, r.split, r.nationality, r.line) for r in records] == [
        ("Novák", "train", "Czech", 2),
        ("Weiß", "val", "German", 4),
    ]


def test_quoted_fields(tmp_path):
    records = load_surnames(
        write_csv(tmp_path, 'nationality,split,surname\nIrish,train,"O\'Neil, Jr"\n')
    )
    assert records[0].surname == "O'Neil, Jr"


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("", ["empty file"]),
        ("\n\n", ["empty file"]),
        ("nationality,split,surname\n", ["no data rows"]),
        ("nationality,surname\nCzech,Novák\n", ["line 1", "split"]),
        ("Czech,train,Novák\n", ["line 1", "nationality", "split", "surname"]),
        ("nationality,split,surname\nCzech,train,Novák\nGerman,train\n", ["line 3", "2 field"]),
        ("nationality,split,surname\nCzech,train,Novák,x\n", ["line 2", "4 field"]),
        (
            "nationality,split,surname\nCzech,train,Novák\nGerman,train,  \n",
            ["line 3", "blank surname"],
        ),
        ("nationality,split,surname\n,train,Novák\n", ["line 2", "blank nationality"]),
        (
            "nationality,split,surname\nCzech,train,Novák\n\nCzech,dev,Dvořák\n",
            ["line 4", "'dev'", "train, val, test"],
        ),
    ],
)
def test_malformed_csv_errors_name_file_and_line(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    with pytest.raises(DataError) as err:
        load_surnames(path)
    msg = str(err.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg


def test_wrong_encoding_names_file_and_line(tmp_path):
    text = "nationality,split,surname\nCzech,train,Novak\nGerman,train,Müller\n"
    path = write_csv(tmp_path, text, encoding="latin-1")
    with pytest.raises(DataError) as err:
        load_surnames(path)
    msg = str(err.value)
    assert str(path) in msg and "line 3" in msg and "UTF-8" in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_split_records(records):
    groups = split_records(records)
    assert list(groups) == list(SPLITS)
    assert [len(groups[s]) for s in SPLITS] == [8, 2, 2]
    assert [r for s in SPLITS for r in groups[s]] == sorted(
        records, key=lambda r: (SPLITS.index(r.split), r.line)
    )
    assert split_records([]) == {"train": [], "val": [], "test": []}


# ------------------------------------------------------------------ vocabularies


def test_vocabulary_basics_and_unknown_token():
    vocab = Vocabulary()
    assert vocab.add("German") == 0 and vocab.add("Czech") == 1 and vocab.add("German") == 0
    assert len(vocab) == 2 and "Czech" in vocab and vocab.tokens == ["German", "Czech"]
    assert vocab.lookup_token("Czech") == 1 and vocab.lookup_index(0) == "German"
    with pytest.raises(UnknownTokenError, match="German, Czech") as err:
        vocab.lookup_token("Klingon")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
    assert "'Klingon' is not in the vocabulary" in str(err.value)
    with pytest.raises(KeyError, match="index 2"):
        vocab.lookup_index(2)
    with pytest.raises(KeyError):
        vocab.lookup_index(-1)


def test_sequence_vocabulary_specials_and_unk():
    vocab = SequenceVocabulary("ab")
    assert vocab.tokens[:4] == ["<MASK>", "<UNK>", "<BEGIN>", "<END>"]
    assert (vocab.mask_index, vocab.unk_index, vocab.begin_seq_index, vocab.end_seq_index) == (
        0,
        1,
        2,
        3,
    )
    assert vocab.lookup_token("a") == 4 and vocab.lookup_token("b") == 5
    assert vocab.lookup_token("é") == vocab.unk_index
    assert vocab.encode("bza") == [5, 1, 4]
    assert vocab.decode([2, 4, 1, 5, 3, 4]) == "a<UNK>b"
    assert vocab.decode([2, 5, 0, 4]) == "b"


@pytest.mark.parametrize(
    "cls, tokens",
    [(Vocabulary, ["Čech", "Deutsch", "Ελληνικά"]), (SequenceVocabulary, list("ßäøŻ'-/ "))],
)
def test_vocabulary_json_round_trip(cls, tokens):
    vocab = cls(tokens)
    contents = json.loads(json.dumps(vocab.to_json()))
    again = cls.from_json(contents)
    assert again == vocab and again.tokens == vocab.tokens and type(again) is cls


def test_vocabulary_from_json_rejects_bad_contents():
    with pytest.raises(ValueError, match="token_to_idx"):
        Vocabulary.from_json({"tokens": []})
    with pytest.raises(ValueError, match="indices must be 0..1"):
        Vocabulary.from_json({"token_to_idx": {"a": 0, "b": 2}})
    with pytest.raises(ValueError, match="0..3"):
        SequenceVocabulary.from_json(
            {"token_to_idx": {"<UNK>": 0, "<MASK>": 1, "<BEGIN>": 2, "<END>": 3}}
        )
    contents = SequenceVocabulary("a").to_json()
    contents["unk_token"] = "@"
    with pytest.raises(ValueError, match="unk_token"):
        SequenceVocabulary.from_json(contents)


# ------------------------------------------------------------------ vectorizer


def test_vectorizer_from_train_records_in_first_appearance_order(records):
    train = split_records(records)["train"]
    vec = SurnameVectorizer.from_records(train)
    seen: list[str] = []
    for r in train:
        seen.extend(c for c in r.surname if c not in seen)
    assert vec.char_vocab.tokens == ["<MASK>", "<UNK>", "<BEGIN>", "<END>", *seen]
    assert vec.nationalities == ["Czech", "German", "Polish"]
    assert vec.max_length == max(len(r.surname) for r in train) + 2 == 10
    assert "Č" not in vec.char_vocab  # val-only character


def test_vectorize_classification_example(records):
    vec = SurnameVectorizer.from_records(split_records(records)["train"])
    x, n = vec.vectorize_classification("Bauer")
    assert x.dtype == np.int64 and x.shape == (vec.max_length,) and n == 7
    b = vec.char_vocab.lookup_token
    assert x.tolist() == [2, b("B"), b("a"), b("u"), b("e"), b("r"), 3, 0, 0, 0]
    assert vec.decode(x) == "Bauer"
    x, n = vec.vectorize_classification("Qa")
    assert x[1] == vec.char_vocab.unk_index and n == 4


def test_vectorize_longer_than_max_length_grows_never_truncates(records):
    vec = SurnameVectorizer.from_records(split_records(records)["train"])
    long = "Novák" * 4
    x, n = vec.vectorize_classification(long)
    assert n == len(long) + 2 and x.shape == (n,) and vec.decode(x) == long
    f, t = vec.vectorize_generation(long)
    assert f.shape == t.shape == (n - 1,)
    x, n = vec.vectorize_classification("Novák", length=30)
    assert x.shape == (30,) and n == 7
    with pytest.raises(ValueError, match="length=5"):
        vec.vectorize_classification("Novák", length=5)
    with pytest.raises(ValueError, match="str"):
        vec.vectorize_classification(3)


def _vec_for(alphabet: str, max_length: int = 12) -> SurnameVectorizer:
    return SurnameVectorizer(SequenceVocabulary(alphabet), Vocabulary(["A"]), max_length)


ALPHABET = "abcdeéßŁżñ'- "
WHITESPACE = " \t\n\r\u00a0\u2003"


def surnames(alphabet: str = ALPHABET, max_size: int = 15) -> st.SearchStrategy[str]:
    """Non-empty surnames without surrounding whitespace (spaces inside are fine)."""
    return st.text(alphabet=alphabet, min_size=1, max_size=max_size).filter(
        lambda s: s == s.strip() and s != ""
    )


@given(surnames())
def test_encode_surname_round_trip(surname):
    vec = _vec_for(ALPHABET)
    for vocab in (vec, vec.char_vocab):  # a vectorizer or its character vocabulary
        seq = encode_surname(vocab, surname)
        assert seq.dtype == np.int64 and seq.shape == (len(surname) + 2,)
        assert seq[0] == vec.char_vocab.begin_seq_index
        assert seq[-1] == vec.char_vocab.end_seq_index
        assert vec.char_vocab.decode(seq) == surname


@given(surnames(ALPHABET + "XYZ€"))
def test_encode_surname_unknown_characters_become_unk(surname):
    vec = _vec_for(ALPHABET)
    inner = encode_surname(vec, surname)[1:-1]
    unknown = np.array([c not in ALPHABET for c in surname])
    assert ((inner == vec.char_vocab.unk_index) == unknown).all()
    assert (inner[~unknown] >= 4).all()  # a known character is never a special token


@given(st.text(alphabet=WHITESPACE, max_size=6))
def test_encode_surname_rejects_empty_and_blank(blank):
    with pytest.raises(ValueError, match="empty or only whitespace"):
        encode_surname(_vec_for(ALPHABET), blank)


PADDING = st.text(alphabet=WHITESPACE, max_size=3)


@given(surnames(), PADDING, PADDING)
def test_encode_surname_strips_surrounding_whitespace(surname, before, after):
    vec = _vec_for(ALPHABET)
    np.testing.assert_array_equal(
        encode_surname(vec, before + surname + after), encode_surname(vec, surname)
    )


def test_encode_surname_rejects_what_is_not_a_surname_or_vocabulary():
    with pytest.raises(ValueError, match="surname must be a str"):
        encode_surname(_vec_for(ALPHABET), 3)
    with pytest.raises(ValueError, match="SurnameVectorizer or a SequenceVocabulary"):
        encode_surname(Vocabulary(["a"]), "a")


@given(st.lists(surnames(ALPHABET + "XYZ"), min_size=1, max_size=6))
def test_every_vectorizer_path_uses_encode_surname(names):
    vec = _vec_for(ALPHABET)
    batch = vec.vectorize_batch(names)
    width = max(len(s) for s in names) + 2
    assert batch["x"].shape == (len(names), width)
    for i, name in enumerate(names):
        seq = encode_surname(vec, name)
        k = len(seq)
        x, n = vec.vectorize_classification(name)
        f, t = vec.vectorize_generation(name)
        assert n == k == batch["lengths"][i]
        np.testing.assert_array_equal(x[:k], seq)
        np.testing.assert_array_equal(batch["x"][i, :k], seq)
        np.testing.assert_array_equal(f[: k - 1], seq[:-1])
        np.testing.assert_array_equal(t[: k - 1], seq[1:])
        np.testing.assert_array_equal(batch["x_gen"][i, : k - 1], seq[:-1])
        np.testing.assert_array_equal(batch["y_gen"][i, : k - 1], seq[1:])
        assert (batch["x"][i, k:] == 0).all() and (batch["y_gen"][i, k - 1 :] == 0).all()
    with pytest.raises(ValueError, match="more than width"):
        vec.vectorize_batch(names, width=width - 1)


@given(surnames(), st.integers(2, 20))
def test_vectorize_classification_properties(surname, max_length):
    vec = _vec_for(ALPHABET, max_length)
    x, n = vec.vectorize_classification(surname)
    assert n == len(surname) + 2
    assert x.dtype == np.int64 and x.shape == (max(max_length, n),)
    assert x[0] == vec.char_vocab.begin_seq_index
    assert x[n - 1] == vec.char_vocab.end_seq_index
    assert (x[n:] == vec.char_vocab.mask_index).all()
    assert (x[1 : n - 1] >= 4).all()  # only real characters inside
    assert vec.decode(x) == surname


@given(surnames(ALPHABET + "XYZ"), st.integers(2, 20))
def test_vectorize_generation_properties(surname, max_length):
    vec = _vec_for(ALPHABET, max_length)
    x, n = vec.vectorize_classification(surname)
    f, t = vec.vectorize_generation(surname)
    assert f.dtype == t.dtype == np.int64
    assert f.shape == t.shape == (max(max_length - 1, n - 1),)
    assert (f[: n - 1] == x[: n - 1]).all()  # <BEGIN> + chars
    assert (t[: n - 1] == x[1:n]).all()  # chars + <END>: shifted by one
    assert (f[1 : n - 1] == t[: n - 2]).all()
    assert (f[n - 1 :] == 0).all() and (t[n - 1 :] == 0).all()
    unk = [c not in ALPHABET for c in surname]
    assert ((t[: n - 2] == vec.char_vocab.unk_index) == np.array(unk, dtype=bool)).all()


def test_lookup_nationality_is_case_insensitive(records):
    vec = SurnameVectorizer.from_records(records)
    assert vec.lookup_nationality("German") == 1
    assert vec.lookup_nationality("  gErMaN ") == 1
    with pytest.raises(UnknownTokenError, match="valid: Czech, German, Polish"):
        vec.lookup_nationality("Martian")
    with pytest.raises(UnknownTokenError, match="Czech, German, Polish"):
        vec.nationality_vocab.lookup_token("german")


def test_vectorizer_json_round_trip(records):
    vec = SurnameVectorizer.from_records(records)
    again = SurnameVectorizer.from_json(json.loads(json.dumps(vec.to_json())))
    assert again.char_vocab == vec.char_vocab
    assert again.nationality_vocab == vec.nationality_vocab
    assert again.max_length == vec.max_length
    for r in records:
        assert (
            again.vectorize_classification(r.surname)[0]
            == vec.vectorize_classification(r.surname)[0]
        ).all()
    with pytest.raises(ValueError, match="max_length"):
        SurnameVectorizer.from_json(
            {
                "char_vocab": vec.char_vocab.to_json(),
                "nationality_vocab": vec.nationality_vocab.to_json(),
            }
        )


# ------------------------------------------------------------------ dataset


def test_dataset_arrays(dataset, records):
    vec = dataset.vectorizer
    longest = max(len(r.surname) for r in records)
    assert dataset.max_length == vec.max_length == longest + 2  # the whole file, as the book
    assert dataset.sizes == {"train": 8, "val": 2, "test": 2}
    for name, rows in split_records(records).items():
        arrays = dataset.split(name)
        L = dataset.max_length
        assert arrays.x.shape == (len(rows), L) and arrays.x_gen.shape == (len(rows), L - 1)
        assert arrays.y_gen.shape == (len(rows), L - 1) and arrays.lengths.shape == (len(rows),)
        for i, r in enumerate(rows):
            x, n = vec.vectorize_classification(r.surname, L)
            f, t = vec.vectorize_generation(r.surname, L - 1)
            assert (arrays.x[i] == x).all() and arrays.lengths[i] == n
            assert (arrays.x_gen[i] == f).all() and (arrays.y_gen[i] == t).all()
            assert arrays.y_nationality[i] == vec.lookup_nationality(r.nationality)
        assert arrays.surnames == tuple(r.surname for r in rows)
        for a in (arrays.x, arrays.lengths, arrays.y_nationality, arrays.x_gen, arrays.y_gen):
            assert a.dtype == np.int64 and not a.flags.writeable
    test = dataset.split("test")
    assert vec.decode(test.x[1]) == "<UNK><UNK>z"
    with pytest.raises(ValueError, match="train, val, test"):
        dataset.split("dev")


def test_dataset_vocab_splits_all_is_chapter_7(records):
    ds = SurnameDataset.from_records(records, vocab_splits=SPLITS)
    assert "Č" in ds.vectorizer.char_vocab and "Q" in ds.vectorizer.char_vocab
    with pytest.raises(ValueError, match="vocab_splits"):
        SurnameDataset.from_records(records, vocab_splits=("dev",))


def test_saved_vectorizer_on_longer_or_unknown_rows(dataset, records):
    vec = SurnameVectorizer.from_json(dataset.vectorizer.to_json())
    extra = SurnameRecord("Abcdefghijklmnopqrstuvwxyz", "Czech", "test", 99)
    ds = SurnameDataset([*records, extra], vec)
    assert ds.max_length == len(extra.surname) + 2 > vec.max_length
    assert ds.split("test").x.shape[1] == ds.max_length
    alien = SurnameRecord("Zorg", "Martian", "val", 42)
    with pytest.raises(DataError, match="line 42.*Martian"):
        SurnameDataset([*records, alien], vec)


def test_class_weights(dataset):
    weights = dataset.class_weights()
    assert weights.dtype == np.float64
    # train: Czech 2, German 4, Polish 2
    np.testing.assert_array_equal(weights, [1 / 2, 1 / 4, 1 / 2])


def test_class_weights_missing_train_class(records):
    ds = SurnameDataset.from_records(
        [*records, SurnameRecord("Rossi", "Italian", "val", 50)], vocab_splits=SPLITS
    )
    with pytest.raises(DataError, match="Italian"):
        ds.class_weights()


# ------------------------------------------------------------------ batches


def _big_dataset(n: int = 23) -> SurnameDataset:
    rng = np.random.default_rng(0)
    letters = list("abcdefghijé")
    records = [
        SurnameRecord(
            "".join(rng.choice(letters, size=int(rng.integers(1, 9)))),
            ["A", "B", "C"][i % 3],
            "train",
            i + 2,
        )
        for i in range(n)
    ]
    return SurnameDataset.from_records(records)


def test_batches_drop_last_sizes_and_keys():
    ds = _big_dataset(23)
    sizes = [len(b["x"]) for b in ds.batches("train", 5, rng=0)]
    assert sizes == [5, 5, 5, 5] and ds.num_batches("train", 5) == 4
    sizes = [len(b["x"]) for b in ds.batches("train", 5, rng=0, drop_last=False)]
    assert sizes == [5, 5, 5, 5, 3] and ds.num_batches("train", 5, drop_last=False) == 5
    batch = next(ds.batches("train", 5, rng=0))
    assert set(BATCH_KEYS) <= set(batch) and "index" in batch
    L = ds.max_length
    assert batch["x"].shape == (5, L) and batch["x_gen"].shape == batch["y_gen"].shape == (5, L - 1)
    for key in ("lengths", "y_nationality", "index"):
        assert batch[key].shape == (5,)
    assert all(a.dtype == np.int64 and a.flags.writeable for a in batch.values())


def test_every_row_once_per_epoch_and_rows_match():
    ds = _big_dataset(23)
    train = ds.split("train")
    seen = []
    for batch in ds.batches("train", 4, rng=np.random.default_rng(3), drop_last=False):
        idx = batch["index"]
        seen.extend(idx.tolist())
        assert (batch["x"] == train.x[idx]).all() and (batch["y_gen"] == train.y_gen[idx]).all()
        assert (batch["lengths"] == train.lengths[idx]).all()
        assert (batch["y_nationality"] == train.y_nationality[idx]).all()
    assert sorted(seen) == list(range(23)) and seen != list(range(23))


def test_shuffle_reproducible_with_seed_and_differs_across_epochs():
    ds = _big_dataset(23)

    def order(rng):
        return [i for b in ds.batches("train", 4, rng=rng) for i in b["index"].tolist()]

    assert order(7) == order(7)
    assert order(np.random.default_rng(7)) == order(7)
    gen = np.random.default_rng(7)
    first, second = order(gen), order(gen)
    assert first != second
    unshuffled = [i for b in ds.batches("train", 4, shuffle=False) for i in b["index"].tolist()]
    assert unshuffled == list(range(20))


def test_batches_argument_errors(dataset):
    with pytest.raises(ValueError, match="rng"):
        next(dataset.batches("train", 2))
    with pytest.raises(ValueError, match="batch_size"):
        next(dataset.batches("train", 0, rng=0))
    with pytest.raises(ValueError, match="fewer than batch_size"):
        next(dataset.batches("train", 9, rng=0))


def test_empty_split_raises(records):
    ds = SurnameDataset.from_records([r for r in records if r.split != "test"])
    assert ds.size("test") == 0
    with pytest.raises(DataError, match="'test' has no rows"):
        next(ds.eval_batches("test"))


def test_eval_batches_in_order_nothing_dropped(dataset):
    (whole,) = list(dataset.eval_batches("train"))
    assert whole["index"].tolist() == list(range(8))
    assert (whole["x"] == dataset.split("train").x).all()
    parts = list(dataset.eval_batches("train", 3))
    assert [len(b["x"]) for b in parts] == [3, 3, 2]
    assert np.concatenate([b["index"] for b in parts]).tolist() == list(range(8))


def test_trim_cuts_common_padding_only():
    ds = _big_dataset(23)
    full = list(ds.batches("train", 6, rng=1, drop_last=False))
    trimmed = list(ds.batches("train", 6, rng=1, drop_last=False, trim=True))
    for a, b in zip(full, trimmed, strict=True):
        width = int(a["lengths"].max())
        assert b["x"].shape[1] == width and b["x_gen"].shape[1] == width - 1
        assert (b["x"] == a["x"][:, :width]).all() and (a["x"][:, width:] == 0).all()
        assert (b["y_gen"] == a["y_gen"][:, : width - 1]).all()
        assert (a["y_gen"][:, width - 1 :] == 0).all()


# ------------------------------------------------------------------ the real file


@pytest.mark.skipif(not REAL_DATA.is_file(), reason=f"{REAL_DATA} missing (run `make data`)")
def test_real_data():
    records = load_surnames(REAL_DATA)
    assert len(records) == 10_980
    assert {s: len(v) for s, v in split_records(records).items()} == {
        "train": 7680,
        "val": 1640,
        "test": 1660,
    }
    ds = SurnameDataset.from_records(records)
    vec = ds.vectorizer
    assert len(vec.nationality_vocab) == 18
    assert vec.nationalities[0] == "Arabic" and "Vietnamese" in vec.nationalities
    assert ds.max_length == 17 + 2 == vec.max_length
    assert len(vec.char_vocab) == 80  # 76 train characters + 4 special tokens
    counts = np.bincount(ds.split("train").y_nationality, minlength=18)
    np.testing.assert_allclose(ds.class_weights(), 1.0 / counts)
    assert counts.sum() == 7680
