"""Family 2: every numeric flag has a documented range, checked before any work starts;
devices are checked against what torch reports, in one line naming what is available.
"""

from __future__ import annotations

import importlib.util
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchrnn.limits import RANGES

from .kit import TINY, assert_user_error, run, run_process, synthetic_csv

PROBE = settings(suppress_health_check=list(HealthCheck), deadline=None)
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="torch is not installed")

# (argv before the flag, flag, range name): every numeric flag of every command
TRAIN = ["classify", "train", "--data", "DATA", "--out", "OUT"]
GTRAIN = ["generate", "train", "--data", "DATA", "--out", "OUT"]
SAMPLE = ["generate", "sample", "--model", "OUT"]
FLAGS = [
    *[(TRAIN, f, n) for f, n in [("--hidden", "hidden"), ("--embedding", "embedding"),
                                 ("--layers", "layers"), ("--epochs", "epochs"),
                                 ("--batch-size", "batch_size"), ("--lr", "lr"),
                                 ("--dropout", "dropout"), ("--clip", "clip"),
                                 ("--early-stopping", "early_stopping"), ("--seed", "seed"),
                                 ("--forget-bias", "forget_bias")]],
    *[(GTRAIN, f, n) for f, n in [("--hidden", "hidden"), ("--embedding", "embedding"),
                                  ("--lr", "lr")]],
    (["classify", "predict", "--model", "OUT", "abc"], "--topk", "topk"),
    *[(SAMPLE, f, n) for f, n in [("-n", "n"), ("--temperature", "temperature"),
                                  ("--top-k", "top_k"), ("--max-length", "max_length"),
                                  ("--seed", "seed")]],
    *[(["study", "jacobian", "--out", "OUT"], f, n) for f, n in
      [("--steps", "steps"), ("--hidden", "hidden"), ("--seeds", "seeds")]],
    *[(["study", "adding", "--out", "OUT"], f, n) for f, n in
      [("--updates", "updates"), ("--lr", "lr"), ("--hidden", "hidden"),
       ("--workers", "workers"), ("--lengths", "lengths")]],
    *[(["study", "gradflow", "--out", "OUT"], f, n) for f, n in
      [("--epochs", "epochs"), ("--hidden", "hidden"), ("--batch-size", "batch_size")]],
]


def outside(name: str):
    """Values just outside, far outside, and not numbers at all."""
    r = RANGES[name]
    ints = st.integers(-(10**20), math.ceil(r.low) - 1)
    if r.high < 1e20:
        ints |= st.integers(int(r.high) + 1, 10**20)
    bad = ints | st.sampled_from(["nan", "inf", "-inf", "", "1e999", "x", "1,5"])
    if r.integer:
        return bad | st.sampled_from(["1.5", "1e3"])
    floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not r.contains(v))
    tiny = st.sampled_from(["1e-310", "5e-324"]) if r.low > 0 else st.nothing()
    return bad | floats.map(repr) | tiny


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("flags")
    csv = synthetic_csv(root)
    return {"DATA": str(csv), "OUT": str(root / "nothing-here")}


@PROBE
@given(case=st.sampled_from(FLAGS), data=st.data())
def test_out_of_range_flag_is_one_line_before_any_work(paths, case, data):
    prefix, flag, name = case
    value = data.draw(outside(name).map(str), label="value")
    argv = [paths.get(a, a) for a in prefix] + [flag, value]
    start = time.perf_counter()
    rc, _, err = run(argv)
    assert_user_error(rc, err, flag)
    assert time.perf_counter() - start < 5  # refused by the parser, nothing was started


def test_issue_examples(paths, tmp_path):
    for argv, flag in [
        (TRAIN + ["--hidden", "10000000000"], "--hidden"),
        (TRAIN + ["--embedding", "10000000000"], "--embedding"),
        (SAMPLE + ["-n", "10000000000"], "-n"),
        (SAMPLE + ["--max-length", "10000000000"], "--max-length"),
        (SAMPLE + ["--temperature", "1e-310"], "--temperature"),
    ]:
        rc, _, err = run([paths.get(a, a) for a in argv])
        assert_user_error(rc, err, flag)


def test_range_edges_are_accepted(paths, tmp_path):
    out = tmp_path / "g"
    rc, _, err = run(["generate", "train", "--data", paths["DATA"], "--out", str(out),
                      "--epochs", "1", "--dropout", "0", "--seed", "0", *TINY])
    assert rc == 0, err
    letters = set("".join(row.split(",")[2] for row in
                          open(paths["DATA"], encoding="utf-8").read().splitlines()[1:]))
    letters |= {c.lower() for c in letters} | {c.upper() for c in letters}
    lo, hi = RANGES["temperature"].low, RANGES["temperature"].high
    for temperature in (lo, hi):
        for seed in range(3):
            rc, names, err = run(["generate", "sample", "--model", str(out), "-n", "5",
                                  "--temperature", str(temperature), "--seed", str(seed),
                                  "--max-length", str(int(RANGES["max_length"].high))])
            assert rc == 0, err
            # five names of the vocabulary's letters: no <MASK>, <UNK> or <BEGIN> drawn (an
            # empty name, <END> drawn first, is a legitimate draw at temperature 100)
            assert len(names.splitlines()) == 5, names
            assert set(names) - {"\n"} <= letters, names


@pytest.mark.parametrize("device", ["bogus", "cuda", "meta", "mps", "cuda:7"])
def test_numpy_backend_refuses_other_devices(paths, tmp_path, device):
    rc, _, err = run(["classify", "train", "--data", paths["DATA"], "--out", str(tmp_path / "o"),
                      "--device", device, "--epochs", "1", *TINY])
    assert_user_error(rc, err, "numpy backend", "cpu")
    assert not (tmp_path / "o").exists()


@needs_torch
@pytest.mark.parametrize("device", ["bogus", "meta", "mps", "cuda", "cuda:99", ""])
@pytest.mark.parametrize("where", ["classify", "generate", "adding"])
def test_torch_devices_are_checked_against_what_torch_has(paths, tmp_path, device, where):
    from parity._torch import available_devices

    if device in available_devices():
        pytest.skip(f"{device} is available here")
    if where == "adding":
        argv = ["study", "adding", "--backend", "torch", "--device", device, "--cells", "lstm",
                "--lengths", "5", "--updates", "1", "--out", str(tmp_path / "o")]
    else:
        argv = [where, "train", "--backend", "torch", "--device", device, "--data",
                paths["DATA"], "--out", str(tmp_path / "o"), "--epochs", "1", *TINY]
    rc, _, err = run(argv)
    assert_user_error(rc, err, "available: cpu")


@needs_torch
@pytest.mark.parametrize("device", ["bogus", "meta"])
def test_parity_device_is_checked(device):
    proc = run_process(["--device", device, "--quick", "--core-only"], module="parity",
                       timeout=120)
    assert_user_error(proc.returncode, proc.stderr, "available: cpu")
