"""Family 1: a checkpoint is trusted only once its metadata has been checked.

A well-formed ``.npz`` whose content lies (missing or mistyped hyperparameters, a
vocabulary or an array header claiming 10¹¹ entries, meta.json nested 100,000
deep, a negative prior, a tampered training state, a FIFO named model.npz) gives
one line on stderr and exit 2, never a traceback, a hang or a MemoryError.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchrnn.checkpoint import CheckpointError, load_checkpoint
from scratchrnn.fileio import (
    UnsafeFileError,
    check_npz_members,
    json_depth,
    loads_bounded,
    open_regular,
    read_regular_bytes,
)
from scratchrnn.schema import check_lab_checkpoint, check_train_state

from .kit import (
    TINY,
    assert_user_error,
    copy_run,
    npy_bytes,
    read_members,
    read_meta,
    run,
    run_process,
    write_members,
    write_meta,
    write_meta_text,
)

PROBE = settings(suppress_health_check=list(HealthCheck), deadline=None)


def commands(kind: str, model: Path, csv: Path) -> list[list[str]]:
    if kind == "clf":
        return [["classify", "predict", "--model", str(model), "abc"]]
    return [["generate", "score", "--model", str(model), "abc"],
            ["generate", "sample", "--model", str(model), "--nationality", "Czech", "-n", "2"]]


def assert_refused_or_fine(argv: list[str]) -> None:
    rc, _, err = run(argv)
    if rc != 0:
        assert_user_error(rc, err)


# -- hypothesis: tampered hyperparameters and vocabularies ---------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                               max_size=3),
    max_leaves=6,
)


@PROBE
@given(kind=st.sampled_from(["clf", "gen"]), data=st.data())
def test_tampered_hyperparameters_are_one_line(runs, tmp_path_factory, kind, data):
    model = copy_run(runs[kind], tmp_path_factory.mktemp("t") / "m")
    path = model / "model.npz"
    meta = read_meta(path)
    hp = meta["hyperparameters"]
    if data.draw(st.booleans(), label="inside config"):
        hp = hp["config"]  # the config's settings, or the sizes beside it
    key = data.draw(st.sampled_from(sorted(hp)), label="key")
    if data.draw(st.booleans(), label="delete"):
        del hp[key]
    else:
        hp[key] = data.draw(JSON_VALUES, label="value")
    write_meta(path, meta)
    for argv in commands(kind, model, runs["csv"]):
        assert_refused_or_fine(argv)


@PROBE
@given(kind=st.sampled_from(["clf", "gen"]),
       where=st.sampled_from(["max_length", "char_vocab", "nationality_vocab"]),
       value=JSON_VALUES | st.sampled_from([10**12, -1, 0, 1, 2**63])
       )
def test_tampered_vocabularies_are_one_line(runs, tmp_path_factory, kind, where, value):
    model = copy_run(runs[kind], tmp_path_factory.mktemp("t") / "m")
    path = model / "model.npz"
    meta = read_meta(path)
    meta["vocabularies"][where] = value
    write_meta(path, meta)
    for argv in commands(kind, model, runs["csv"]):
        assert_refused_or_fine(argv)


@pytest.mark.parametrize(("kind", "edit", "fragment"), [
    ("clf", lambda m: m["hyperparameters"]["config"].pop("cell"), "cell"),
    ("gen", lambda m: m["hyperparameters"]["config"].pop("cell"), "cell"),
    ("clf", lambda m: m["vocabularies"].__setitem__("max_length", 10**12), "max_length"),
    ("gen", lambda m: m["hyperparameters"].__setitem__(
        "prior", [-x for x in m["hyperparameters"]["prior"]]), "prior"),
    ("clf", lambda m: m["hyperparameters"]["config"].__setitem__("hidden", 10**10), "hidden"),
])
def test_examples_from_the_issue(runs, tmp_path, kind, edit, fragment):
    model = copy_run(runs[kind], tmp_path / "m")
    meta = read_meta(model / "model.npz")
    edit(meta)
    write_meta(model / "model.npz", meta)
    for argv in commands(kind, model, runs["csv"]):
        rc, _, err = run(argv)
        assert_user_error(rc, err, str(model / "model.npz"))
        assert fragment in err


def test_study_jacobian_model_with_tampered_meta(runs, tmp_path):
    model = copy_run(runs["clf"], tmp_path / "m")
    meta = read_meta(model / "model.npz")
    del meta["hyperparameters"]["config"]["cell"]
    write_meta(model / "model.npz", meta)
    rc, _, err = run(["study", "jacobian", "--cells", "elman", "--steps", "3", "--hidden", "2",
                      "--seeds", "1", "--no-radius", "--model", str(model),
                      "--out", str(tmp_path / "j")])
    assert_user_error(rc, err, "cell")


def test_meta_nested_100000_deep(runs, tmp_path):
    model = copy_run(runs["clf"], tmp_path / "m")
    write_meta_text(model / "model.npz", "[" * 100_000 + "]" * 100_000)
    rc, _, err = run(["classify", "predict", "--model", str(model), "abc"])
    assert_user_error(rc, err, "deep")


def test_array_header_claiming_1e11_floats(runs, tmp_path):
    model = copy_run(runs["clf"], tmp_path / "m")
    path = model / "model.npz"
    members = read_members(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**11,)})
    members["param/fc2.bias.npy"] = header.getvalue() + b"\0" * 16
    write_members(path, members)
    rc, _, err = run(["classify", "predict", "--model", str(model), "abc"])
    assert_user_error(rc, err, "fc2.bias")


def test_zip_declaring_more_than_the_file_holds(runs, tmp_path):
    model = copy_run(runs["clf"], tmp_path / "m")
    path = model / "model.npz"
    raw = bytearray(path.read_bytes())
    # the central directory entry's uncompressed size of the first member: 2**31
    at = raw.rfind(b"PK\x01\x02")
    first = raw.find(b"PK\x01\x02")
    assert first >= 0 and at >= 0
    raw[first + 24:first + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    rc, _, err = run(["classify", "predict", "--model", str(model), "abc"])
    assert_user_error(rc, err, str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_named_model_npz_is_refused_not_waited_on(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    os.mkfifo(model / "model.npz")
    proc = run_process(["classify", "predict", "--model", str(model), "abc"], timeout=60)
    assert_user_error(proc.returncode, proc.stderr, "FIFO")


# -- hypothesis: a tampered training state, on --resume -------------------------------------
@PROBE
@given(where=st.sampled_from(["train_state", "shuffle_rng", "model_rng", "train_config", "run"]),
       data=st.data())
def test_tampered_train_state_on_resume(runs, tmp_path_factory, where, data):
    out = copy_run(runs["clf"], tmp_path_factory.mktemp("t") / "m")
    path = out / "last.npz"
    meta = read_meta(path)
    target = meta["extra"][where]
    if isinstance(target, dict) and target and data.draw(st.booleans(), label="inner"):
        key = data.draw(st.sampled_from(sorted(target)), label="key")
        if data.draw(st.booleans(), label="delete"):
            del target[key]
        else:
            target[key] = data.draw(JSON_VALUES, label="value")
    else:
        meta["extra"][where] = data.draw(JSON_VALUES, label="value")
    write_meta(path, meta)
    rc, _, err = run(["classify", "train", "--data", str(runs["csv"]), "--out", str(out),
                      "--epochs", "1", "--resume", *TINY])
    if rc != 0:
        assert_user_error(rc, err)
    assert load_checkpoint(out / "model.npz", kind="classifier").model_state


# -- the units -----------------------------------------------------------------------------
def test_check_lab_checkpoint_accepts_what_training_wrote(runs):
    check_lab_checkpoint(load_checkpoint(runs["clf"] / "model.npz"), "classifier")
    check_lab_checkpoint(load_checkpoint(runs["gen"] / "model.npz"), "generator")
    check_train_state(load_checkpoint(runs["clf"] / "last.npz"))
    check_train_state(load_checkpoint(runs["gen"] / "last.npz"))


def test_check_lab_checkpoint_compares_shapes_with_hyperparameters(runs, tmp_path):
    ckpt = load_checkpoint(runs["clf"] / "model.npz")
    hp = ckpt.hyperparameters
    ckpt.hyperparameters = {**hp, "config": {**hp["config"], "hidden": 4096}}
    with pytest.raises(CheckpointError, match="hyperparameters say"):
        check_lab_checkpoint(ckpt, "classifier")


@given(depth=st.integers(1, 300))
def test_loads_bounded_depth(depth):
    text = "[" * depth + "]" * depth
    assert json_depth(text) == depth
    if depth > 64:
        with pytest.raises(UnsafeFileError, match="deep"):
            loads_bounded(text)
    else:
        loads_bounded(text)


def test_loads_bounded_rejects_size_nan_and_ignores_brackets_in_strings():
    with pytest.raises(UnsafeFileError, match="bytes"):
        loads_bounded(b"[]" + b" " * 100, max_bytes=10)
    with pytest.raises(UnsafeFileError, match="NaN"):
        loads_bounded("[NaN]")
    assert loads_bounded(json.dumps(["[" * 100, '\\"{'])) == ["[" * 100, '\\"{']


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_open_regular_refuses_fifo_and_directory(tmp_path):
    os.mkfifo(tmp_path / "f")
    with pytest.raises(UnsafeFileError, match="FIFO"):
        open_regular(tmp_path / "f")
    with pytest.raises(UnsafeFileError, match="directory"):
        open_regular(tmp_path)
    (tmp_path / "big").write_bytes(b"x" * 100)
    with pytest.raises(UnsafeFileError, match="100 bytes"):
        read_regular_bytes(tmp_path / "big", 10)


def test_check_npz_members_object_dtype_and_lies(tmp_path):
    good = tmp_path / "g.npz"
    np.savez(good, a=np.arange(5))
    with zipfile.ZipFile(good) as zf:
        check_npz_members(zf, good.stat().st_size)
    bad = tmp_path / "b.npz"
    write_members(bad, {"a.npy": npy_bytes(np.arange(5))[:-8]})
    with zipfile.ZipFile(bad) as zf, pytest.raises(UnsafeFileError, match="holds"):
        check_npz_members(zf, bad.stat().st_size)
