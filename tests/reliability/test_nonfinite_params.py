"""Non-finite parameters are refused where weights come in: a checkpoint and
``load_state_dict``. One line naming the parameter, exit 2 from the CLI; a model never
trains, predicts or samples from NaN or ±inf weights (issue 25, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scratchrnn.checkpoint import CheckpointError, load_checkpoint
from scratchrnn.recurrent import LSTM

from .kit import (
    assert_user_error,
    copy_run,
    npy_bytes,
    read_members,
    run,
    write_members,
)


def _poison(npz: Path, bad: float, member_part: str = "weight_hh") -> str:
    """Write ``bad`` into one entry of the first parameter whose name holds
    ``member_part``; returns the parameter's archive member name."""
    members = read_members(npz)
    name = next(m for m in members if member_part in m and m.startswith("param"))
    arr = np.load(__import__("io").BytesIO(members[name]), allow_pickle=False).copy()
    arr.flat[arr.size // 2] = bad
    members[name] = npy_bytes(arr)
    write_members(npz, members)
    return name


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_checkpoint_with_a_non_finite_weight_is_refused(runs, tmp_path, bad):
    run_dir = copy_run(runs["clf"], tmp_path / "clf")
    _poison(run_dir / "model.npz", bad)
    with pytest.raises(CheckpointError, match=r"model\.npz: parameter .*weight_hh_l0.* NaN or inf"):
        load_checkpoint(run_dir / "model.npz")


@pytest.mark.parametrize("argv", [
    ["classify", "predict", "--model", "{clf}", "Nakamura"],
    ["generate", "sample", "--model", "{gen}", "-n", "2", "--seed", "1"],
    ["generate", "score", "--model", "{gen}", "Nakamura"],
])
def test_the_cli_refuses_with_one_line_naming_the_parameter(runs, tmp_path, argv):
    clf = copy_run(runs["clf"], tmp_path / "clf")
    gen = copy_run(runs["gen"], tmp_path / "gen")
    for d in (clf, gen):
        _poison(d / "model.npz", np.nan)
    args = [a.format(clf=clf, gen=gen) for a in argv]
    rc, out, err = run(args)
    assert_user_error(rc, err, "weight_hh_l0", "NaN or inf")
    assert out == ""


def test_resume_from_a_poisoned_last_checkpoint_is_refused(runs, tmp_path):
    clf = copy_run(runs["clf"], tmp_path / "clf")
    _poison(clf / "last.npz", np.inf, "weight_ih")
    before = (clf / "last.npz").read_bytes()
    rc, _, err = run(["classify", "train", "--data", str(runs["csv"]), "--out", str(clf),
                      "--hidden", "4", "--embedding", "4", "--batch-size", "8",
                      "--epochs", "2", "--resume", "--no-progress"])
    assert_user_error(rc, err, "weight_ih", "NaN or inf")
    assert (clf / "last.npz").read_bytes() == before  # nothing overwritten


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_load_state_dict_refuses_non_finite_values_and_keeps_the_old_weights(bad):
    lstm = LSTM(3, 4, dtype=np.float64, rng=0)
    before = {k: v.copy() for k, v in lstm.params.items()}
    state = {k: v.copy() for k, v in lstm.params.items()}
    state["bias_hh_l0"][2] = bad
    with pytest.raises(ValueError, match=r"bias_hh_l0.*NaN or inf"):
        lstm.load_state_dict(state)
    for k, v in lstm.params.items():
        np.testing.assert_array_equal(v, before[k])  # all or nothing
