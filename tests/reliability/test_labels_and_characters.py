"""Labels and characters a user's data or input may spell differently (issue 25, items 3-4).

- Nationality labels differing only in case ("English", "english ", "ENGLISH") are
  refused with one line naming each spelling and its row count (surrounding spaces were
  always stripped); they never become separate classes silently.
- Surnames with surrounding spaces are stripped, with one warning counting them.
- The same surname under two nationalities is kept, and a training run says how many.
- Unicode: the data and every surname typed at predict/score time are read in NFC, so a
  decomposed "Dvořák" is the composed one; characters the vocabulary lacks (outside the
  basic plane, a combining mark with no composed form) are read as <UNK> with one warning
  line naming them; "ß" is its own character, not "ss".
"""

from __future__ import annotations

import unicodedata
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.data import (
    DataError,
    DataWarning,
    SequenceVocabulary,
    ambiguous_surnames,
    encode_surname,
    load_surnames,
    unknown_characters,
)

from .kit import TINY, assert_user_error, run, synthetic_rows, write_csv


def test_labels_differing_only_in_case_are_refused_naming_each_spelling(tmp_path):
    rows = [("English" if n == "German" else n, s, name) for n, s, name in synthetic_rows()]
    rows += [("english ", "train", "Smyth"), ("ENGLISH", "val", "Jones"),
             ("english", "train", "Brown")]
    csv = write_csv(tmp_path / "s.csv", rows)
    n_english = sum(n == "English" for n, _, _ in rows)
    with pytest.raises(DataError) as err:
        load_surnames(csv)
    msg = str(err.value)
    assert "differ only in case" in msg and "\n" not in msg
    assert f"'English' ({n_english} rows)" in msg
    assert "'english' (2 rows)" in msg and "'ENGLISH' (1 rows)" in msg
    rc, _, err_text = run(["classify", "train", "--data", str(csv), "--out",
                           str(tmp_path / "run"), "--epochs", "1", *TINY])
    assert_user_error(rc, err_text, "differ only in case", "'ENGLISH' (1 rows)")
    assert not (tmp_path / "run" / "model.npz").exists()


def test_surnames_with_surrounding_spaces_are_stripped_with_one_warning(tmp_path):
    rows = synthetic_rows()
    rows[3] = (rows[3][0], rows[3][1], "  " + rows[3][2] + " ")
    rows[5] = (rows[5][0], rows[5][1], rows[5][2] + "\t")
    csv = write_csv(tmp_path / "s.csv", rows)
    with pytest.warns(DataWarning, match=r"stripped the spaces around 2 surname\(s\) "
                                         r"\(first at line 5\)"):
        records = load_surnames(csv)
    assert all(r.surname == r.surname.strip() for r in records)
    assert records[3].surname == rows[3][2].strip()


def test_a_surname_under_two_labels_is_kept_and_counted(tmp_path):
    rows = synthetic_rows()
    rows.append(("Japanese" if rows[0][0] != "Japanese" else "Korean", "train", rows[0][2]))
    csv = write_csv(tmp_path / "s.csv", rows)
    records = load_surnames(csv)
    assert len(records) == len(rows)
    assert ambiguous_surnames(records) == 1
    rc, _, err = run(["classify", "train", "--data", str(csv), "--out", str(tmp_path / "r"),
                      "--epochs", "1", *TINY])
    assert rc == 0, err
    assert [ln for ln in err.splitlines() if ln.startswith("data:")] == [
        "data: 1 surnames appear under more than one nationality (kept, as in the book's data)"]


def test_the_data_is_read_in_nfc(tmp_path):
    rows = synthetic_rows()
    rows[2] = (rows[2][0], rows[2][1], unicodedata.normalize("NFD", "Dvořák"))
    records = load_surnames(write_csv(tmp_path / "s.csv", rows))
    assert records[2].surname == "Dvořák" and len(records[2].surname) == 6


VOCAB = SequenceVocabulary(list("abcdefghijklmnopqrstuvwxyzDSßřáéöüł"))


@given(st.text(alphabet="DSvoraksßtřáéöüł", min_size=1, max_size=12))
def test_composed_and_decomposed_spellings_encode_alike(name):
    nfd = unicodedata.normalize("NFD", name)
    np.testing.assert_array_equal(encode_surname(VOCAB, nfd), encode_surname(VOCAB, name))
    assert unknown_characters(VOCAB, [nfd]) == unknown_characters(VOCAB, [name]) == ""


def test_unknown_characters_are_named_visibly():
    assert unknown_characters(VOCAB, ["Dvořák"]) == ""
    assert unknown_characters(VOCAB, ["Stra🙂ße"]) == "'🙂'"  # outside the basic plane
    # q + combining tilde has no composed form: the mark stays, named by code point
    assert unknown_characters(VOCAB, ["q\u0303uinn"]) == "U+0303 (COMBINING TILDE)"
    # ß is a character of its own: "Straße" and "Strasse" are different inputs
    assert not np.array_equal(encode_surname(VOCAB, "Straße"), encode_surname(VOCAB, "Strasse"))


def test_predict_and_score_warn_in_one_line_and_agree_across_forms(tmp_path):
    rows = synthetic_rows()
    csv = write_csv(tmp_path / "s.csv", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lab, extra in (("classify", []), ("generate", ["--conditioned"])):
            rc, _, err = run([lab, "train", "--data", str(csv), "--out", str(tmp_path / lab),
                              "--epochs", "1", *TINY, *extra])
            assert rc == 0, err
    composed, decomposed = "Dvořák", unicodedata.normalize("NFD", "Dvořák")
    for argv in (["classify", "predict", "--model", str(tmp_path / "classify")],
                 ["generate", "score", "--model", str(tmp_path / "generate")]):
        rc1, out1, err1 = run([*argv, composed])
        rc2, out2, err2 = run([*argv, decomposed])
        assert rc1 == rc2 == 0, err1 + err2
        assert out1 == out2  # the same answer, printed in NFC
        for err in (err1, err2):  # 'D' and 'ř' are not in the synthetic vocabulary
            assert err.count("\n") == 1 and err.startswith("warning: characters not in "
                                                           "the vocabulary"), err
            assert "'ř'" in err and "Traceback" not in err
        rc, out, err = run([*argv, "Stra🙂ße"])
        assert rc == 0 and "'🙂'" in err and err.count("\n") == 1
        # a mistake among the surnames is the only line: no warning about the others first
        rc, out, err = run([*argv, "Stra🙂ße", "  "])
        assert rc == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith("error: a surname must not be empty"), err
