"""Family 4: a stray quote must not eat the CSV.

A field holding a newline (what an unmatched quote makes of the rest of the file),
a trailing unterminated quote, or a surname longer than
:data:`scratchrnn.limits.MAX_SURNAME_LENGTH` is a ``DataError`` naming the file and
the line; the rows read are counted against the lines of the file.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchrnn.data import DataError, load_surnames
from scratchrnn.limits import MAX_SURNAME_LENGTH

from .kit import TINY, assert_user_error, run, synthetic_rows, write_csv

PROBE = settings(suppress_health_check=list(HealthCheck), deadline=None)
ROWS = synthetic_rows()


def lines_of(rows) -> list[str]:
    return ["nationality,split,surname"] + [",".join(r) for r in rows]


@PROBE
@given(row=st.integers(0, len(ROWS) - 1), at=st.integers(0, 8), data=st.data())
def test_one_unmatched_quote_is_an_error_at_its_line(tmp_path_factory, row, at, data):
    lines = lines_of(ROWS)
    target = lines[row + 1]
    surname_start = target.rindex(",") + 1
    pos = surname_start + min(at, len(target) - surname_start)
    lines[row + 1] = target[:pos] + '"' + target[pos:]
    path = tmp_path_factory.mktemp("q") / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        records = load_surnames(path)
        # a quote that the CSV dialect reads as a literal character is fine, if it ate nothing
        assert len(records) == len(ROWS)
        raise DataError("accepted")
    message = str(info.value)
    if message == "accepted":
        return
    assert "\n" not in message and str(path) in message
    assert f"line {row + 2}" in message, message


def test_trailing_unterminated_quote(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines_of(ROWS)) + '\nCzech,train,"unterminated\n', "utf-8")
    with pytest.raises(DataError, match=rf"line {len(ROWS) + 2}\b"):
        load_surnames(path)


def test_the_issue_example_via_the_cli(tmp_path):
    rows = list(ROWS)
    rows[3] = (rows[3][0], rows[3][1], 'O"Brien')
    lines = lines_of(rows)
    lines[4] = lines[4].replace('O"Brien', '"O\'Brien')  # the quote opens a quoted field
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, _, err = run(["classify", "train", "--data", str(path), "--out", str(tmp_path / "o"),
                      "--epochs", "1", *TINY])
    assert_user_error(rc, err, str(path), "line 5")
    assert not (tmp_path / "o" / "model.npz").exists()


@PROBE
@given(extra=st.integers(1, 500), row=st.integers(0, len(ROWS) - 1))
def test_surname_longer_than_the_limit(tmp_path_factory, extra, row):
    rows = list(ROWS)
    rows[row] = (rows[row][0], rows[row][1], "a" * (MAX_SURNAME_LENGTH + extra))
    path = write_csv(tmp_path_factory.mktemp("l") / "s.csv", rows)
    with pytest.raises(DataError, match=rf"line {row + 2}: .*{MAX_SURNAME_LENGTH}"):
        load_surnames(path)


def test_surname_at_the_limit_is_fine(tmp_path):
    rows = list(ROWS)
    rows[0] = (rows[0][0], rows[0][1], "a" * MAX_SURNAME_LENGTH)
    assert len(load_surnames(write_csv(tmp_path / "s.csv", rows))) == len(ROWS)


@PROBE
@given(field=st.sampled_from(["surname", "nationality", "split"]),
       text=st.text(alphabet="ab\n\r\"", min_size=1, max_size=6).filter(
           lambda t: "\n" in t or "\r" in t))
def test_quoted_field_with_a_newline(tmp_path_factory, field, text):
    col = {"nationality": 0, "split": 1, "surname": 2}[field]
    lines = lines_of(ROWS)
    parts = lines[5].split(",")
    parts[col] = '"' + text.replace('"', '""') + '"'
    lines[5] = ",".join(parts)
    path = tmp_path_factory.mktemp("n") / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    with pytest.raises(DataError, match=r"line 6\b"):
        load_surnames(path)
