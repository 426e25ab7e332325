"""scratchrnn.checkpoint: round trips, atomic writes, and a clear error for every bad file."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratchrnn.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from scratchrnn.module import Module
from scratchrnn.optim import SGD, Adam, ReduceLROnPlateau


# -- a small model and helpers ----------------------------------------------------------
class Head(Module):
    def __init__(self, rng: np.random.Generator, dtype: type) -> None:
        super().__init__()
        self.add_param("weight", rng.standard_normal((2, 3)).astype(dtype))
        self.add_param("bias", rng.standard_normal(2).astype(dtype))


class Tiny(Module):
    """Parameters ``embedding``, ``scale`` (0-d) and a child ``fc`` (``fc.weight``, ``fc.bias``)."""

    def __init__(self, seed: int = 0, dtype: type = np.float64, hidden: int = 3) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.add_param("embedding", rng.standard_normal((4, hidden)).astype(dtype))
        self.add_param("scale", np.asarray(rng.standard_normal(), dtype=dtype))
        self.add_module("fc", Head(rng, dtype))


def fake_gradients(model: Module, t: int) -> None:
    """Deterministic gradients that depend on the parameters and the step."""
    for name, p, g in model.named_parameters():
        g[...] = np.sin(p * (t + 1)) + 0.01 * len(name)


def adam_after_steps(steps: int = 3, dtype: type = np.float64) -> tuple[Tiny, Adam]:
    model = Tiny(seed=1, dtype=dtype)
    opt = Adam(model, lr=0.05, betas=(0.8, 0.95), weight_decay=0.01, amsgrad=True)
    for t in range(steps):
        model.zero_grad()
        fake_gradients(model, t)
        opt.step()
    return model, opt


def save_simple(path: Path, **overrides: Any) -> Path:
    kwargs: dict[str, Any] = {
        "kind": "classifier",
        "hyperparameters": {"hidden": 3, "cell": "elman"},
        "epoch": 1,
    }
    kwargs.update(overrides)
    return save_checkpoint(path, Tiny().state_dict(), **kwargs)


def rewrite(
    path: Path,
    meta_fn: Callable[[dict[str, Any]], None] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, np.ndarray] | None = None,
    allow_pickle: bool = False,
) -> None:
    """Tamper with a saved checkpoint: edit its meta.json, drop or add entries."""
    with np.load(path, allow_pickle=False) as z:
        entries = {k: z[k] for k in z.files if k not in drop}
    if meta_fn is not None:
        meta = json.loads(entries["meta.json"].tobytes().decode("utf-8"))
        meta_fn(meta)
        entries["meta.json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    entries.update(add or {})
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **entries)


def raises_for(path: Path, *fragments: str) -> Any:
    """Context manager: a one-line CheckpointError naming ``path`` and containing fragments."""

    class _Check:
        def __enter__(self) -> None:
            self._ctx = pytest.raises(CheckpointError)
            self.info = self._ctx.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            suppressed = self._ctx.__exit__(*exc)
            message = str(self.info.value)
            assert isinstance(self.info.value, ValueError)
            assert str(path) in message, message
            assert "\n" not in message, message
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message!r}"
            return suppressed

    return _Check()


def assert_identical(a: Any, b: Any, where: str = "value") -> None:
    """Exact equality of nested dicts/lists of JSON scalars and arrays (bytes, dtype, shape)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape}"
        assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} vs {list(b)}"
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


# -- round trips --------------------------------------------------------------------------
def test_round_trip_params_and_metadata(tmp_path):
    model = Tiny(dtype=np.float32)
    vocab = {"surname": {"token_to_idx": {"<MASK>": 0, "a": 1, "ü": 2}}, "nationality": ["A"]}
    extra = {"early_stopping": {"best": 1.25, "bad_epochs": 2, "stop": False}, "note": None}
    path = save_checkpoint(
        tmp_path / "deep" / "dir" / "model.ckpt",
        model.state_dict(),
        kind="classifier",
        hyperparameters={"hidden": 3, "layers": [1, 2], "dropout": 0.5, "cell": "lstm"},
        vocabularies=vocab,
        epoch=7,
        extra=extra,
        extra_arrays={
            "class_weights": np.arange(5, dtype=np.float32),
            "seed": np.asarray(3, dtype=np.int64),
        },
    )
    assert path == tmp_path / "deep" / "dir" / "model.ckpt"
    assert sorted(os.listdir(path.parent)) == ["model.ckpt"]
    ckpt = load_checkpoint(path, kind="classifier")
    assert isinstance(ckpt, Checkpoint)
    assert_identical(ckpt.model_state, model.state_dict())
    assert ckpt.kind == "classifier"
    assert ckpt.hyperparameters == {"hidden": 3, "layers": [1, 2], "dropout": 0.5, "cell": "lstm"}
    assert ckpt.vocabularies == vocab
    assert ckpt.extra == extra
    assert ckpt.epoch == 7
    assert ckpt.format_version == FORMAT_VERSION
    assert ckpt.optimizer_state is None and ckpt.scheduler_state is None
    assert ckpt.path == path
    assert_identical(
        ckpt.extra_arrays,
        {"class_weights": np.arange(5, dtype=np.float32), "seed": np.asarray(3, dtype=np.int64)},
    )


def test_file_layout_is_plain_npz_with_json_meta(tmp_path):
    path = save_simple(tmp_path / "c.npz", extra_arrays={"w": np.ones(2)})
    names = zipfile.ZipFile(path).namelist()
    assert sorted(names) == sorted(
        [
            "meta.json.npy",
            "param/embedding.npy",
            "param/scale.npy",
            "param/fc.weight.npy",
            "param/fc.bias.npy",
            "extra/w.npy",
        ]
    )
    with np.load(path, allow_pickle=False) as z:
        raw = z["meta.json"]
        assert raw.dtype == np.uint8 and raw.ndim == 1
        meta = json.loads(raw.tobytes().decode("utf-8"))
    assert meta["format"] == FORMAT and meta["format_version"] == 1
    assert meta["params"]["fc.weight"] == {"shape": [2, 3], "dtype": "float64"}
    assert meta["params"]["scale"] == {"shape": [], "dtype": "float64"}


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_state_round_trip_gives_an_identical_next_step(tmp_path, amsgrad):
    model, opt = adam_after_steps(3)
    opt.amsgrad = amsgrad
    sched = ReduceLROnPlateau(opt, patience=1)
    for metric in (1.0, 0.9, 0.95):
        sched.step(metric)
    path = save_checkpoint(
        tmp_path / "run.npz",
        model.state_dict(),
        kind="generator",
        hyperparameters={"hidden": 3},
        optimizer_state=opt.state_dict(),
        scheduler_state=sched.state_dict(),
        epoch=3,
    )
    ckpt = load_checkpoint(path, kind="generator")
    assert_identical(ckpt.optimizer_state, opt.state_dict())
    assert ckpt.scheduler_state == sched.state_dict()

    model2 = Tiny(seed=99)
    opt2 = Adam(model2, lr=1.0)
    sched2 = ReduceLROnPlateau(opt2)
    model2.load_state_dict(ckpt.model_state)
    opt2.load_state_dict(ckpt.optimizer_state)
    sched2.load_state_dict(ckpt.scheduler_state)
    for t in (3, 4):
        for m, o in ((model, opt), (model2, opt2)):
            m.zero_grad()
            fake_gradients(m, t)
            o.step()
        assert_identical(model2.state_dict(), model.state_dict(), f"params after step {t + 1}")
        assert_identical(opt2.state_dict(), opt.state_dict(), f"optimizer after step {t + 1}")
    assert sched2.step(0.97) == sched.step(0.97)


def test_sgd_state_and_fresh_scheduler_with_infinite_best(tmp_path):
    model = Tiny()
    opt = SGD(model, lr=0.1, momentum=0.9, nesterov=True)
    model.zero_grad()
    fake_gradients(model, 0)
    opt.step()
    sched = ReduceLROnPlateau(opt, mode="max")  # best = -inf, stored as the string '-inf'
    path = save_simple(
        tmp_path / "sgd.npz", optimizer_state=opt.state_dict(), scheduler_state=sched.state_dict()
    )
    ckpt = load_checkpoint(path)
    assert_identical(ckpt.optimizer_state, opt.state_dict())
    assert ckpt.scheduler_state["best"] == "-inf"
    fresh = ReduceLROnPlateau(SGD(Tiny(), lr=1.0))
    fresh.load_state_dict(ckpt.scheduler_state)
    assert fresh.best == -np.inf and fresh.mode == "max"


def test_optimizer_state_before_any_step_has_no_arrays(tmp_path):
    opt = Adam(Tiny())
    path = save_simple(tmp_path / "c.npz", optimizer_state=opt.state_dict())
    ckpt = load_checkpoint(path)
    assert_identical(ckpt.optimizer_state, opt.state_dict())
    Adam(Tiny()).load_state_dict(ckpt.optimizer_state)


def test_rng_state_in_extra_resumes_the_stream(tmp_path):
    rng = np.random.default_rng(12345)
    rng.standard_normal(17)
    path = save_simple(tmp_path / "c.npz", extra={"rng": rng.bit_generator.state})
    state = load_checkpoint(path).extra["rng"]
    resumed = np.random.default_rng()
    resumed.bit_generator.state = state
    np.testing.assert_array_equal(resumed.standard_normal(50), rng.standard_normal(50))


def test_tuples_and_numpy_scalars_become_json(tmp_path):
    path = save_simple(
        tmp_path / "c.npz",
        hyperparameters={"betas": (0.9, 0.99), "n": np.int64(4), "p": np.float32(0.5)},
        extra={"flag": np.bool_(True)},
        epoch=np.int64(2),
    )
    ckpt = load_checkpoint(path)
    assert_identical(ckpt.hyperparameters, {"betas": [0.9, 0.99], "n": 4, "p": 0.5})
    assert ckpt.extra == {"flag": True} and type(ckpt.extra["flag"]) is bool
    assert ckpt.epoch == 2 and type(ckpt.epoch) is int


def test_overwrite_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = save_simple(tmp_path / "c.npz", epoch=1)
    os.chmod(path, 0o640)
    save_simple(path, epoch=2)
    assert load_checkpoint(path).epoch == 2
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["c.npz"]


def test_new_file_is_not_private(tmp_path):
    path = save_simple(tmp_path / "c.npz")
    assert os.stat(path).st_mode & 0o044  # readable beyond the owner, unlike a raw temp file


# -- atomic writes -----------------------------------------------------------------------
def _partial_savez(file: Any, *args: Any, **kwargs: Any) -> None:
    file.write(b"PK\x03\x04 half of an archive")
    raise OSError("disk full")


def _fail_replace(src: Any, dst: Any) -> None:
    raise OSError("rename failed")


def _interrupt_savez(file: Any, *args: Any, **kwargs: Any) -> None:
    file.write(b"PK\x03\x04")
    raise KeyboardInterrupt


def _fail_fsync(fd: int) -> None:
    raise OSError("fsync failed")


@pytest.mark.parametrize(
    ("target", "replacement", "error"),
    [
        (np, ("savez", _partial_savez), OSError),
        (np, ("savez", _interrupt_savez), KeyboardInterrupt),
        (os, ("replace", _fail_replace), OSError),
        (os, ("fsync", _fail_fsync), OSError),
    ],
    ids=["savez-raises", "savez-interrupted", "replace-raises", "fsync-raises"],
)
def test_failed_write_keeps_the_old_checkpoint_and_leaves_no_temp_file(
    tmp_path, monkeypatch, target, replacement, error
):
    path = save_simple(tmp_path / "ckpt.npz", epoch=1)
    good = path.read_bytes()
    monkeypatch.setattr(target, *replacement)
    with pytest.raises(error):
        save_simple(path, epoch=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    assert path.read_bytes() == good
    assert load_checkpoint(path).epoch == 1


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _partial_savez)
    with pytest.raises(OSError, match="disk full"):
        save_simple(tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"kind": ""}, "kind must be a non-empty string"),
        ({"epoch": -1}, "epoch must be an integer >= 0"),
        ({"epoch": True}, "epoch must be an integer >= 0"),
        ({"hyperparameters": {"lr": float("nan")}}, "hyperparameters['lr'] is nan"),
        ({"extra": {"best": float("inf")}}, "extra['best'] is inf"),
        ({"vocabularies": {"idx_to_token": {0: "a"}}}, "the key 0 of type int"),
        ({"extra": {"w": np.zeros(2)}}, "extra['w'] is a numpy array"),
        ({"extra": {"f": print}}, "not JSON-serialisable"),
        ({"extra_arrays": {"o": np.array([None], dtype=object)}}, "dtype object"),
        ({"extra_arrays": {"": np.zeros(1)}}, "must be non-empty strings"),
        ({"optimizer_state": {"__ndarray__": "x"}}, "reserved key"),
        ({"optimizer_state": {"a/b": np.zeros(1), "a": {"b": np.ones(1)}}}, "map to"),
        ({"optimizer_state": [1]}, "optimizer_state must be a dict"),
        ({"scheduler_state": {"best": float("-inf")}}, "scheduler_state['best'] is -inf"),
    ],
)
def test_invalid_inputs_are_rejected_before_writing(tmp_path, overrides, fragment):
    path = tmp_path / "c.npz"
    with raises_for(path, fragment):
        save_simple(path, **overrides)
    assert os.listdir(tmp_path) == []


def test_object_parameter_is_rejected_on_save(tmp_path):
    path = tmp_path / "c.npz"
    with raises_for(path, "model_state['w']", "dtype object"):
        save_checkpoint(path, {"w": np.array([{}], dtype=object)}, kind="x", hyperparameters={})
    with raises_for(path, "model_state['w'] must be a numpy.ndarray, got list"):
        save_checkpoint(path, {"w": [1.0]}, kind="x", hyperparameters={})


# -- files that are not (good) checkpoints ---------------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with raises_for(path, "no such file"):
        load_checkpoint(path)


def test_directory(tmp_path):
    with raises_for(tmp_path, "is a directory"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)), "not a zip"),
        (b"PK\x03\x04" + bytes(200), "truncated or corrupted"),
        (pickle.dumps({"w": [1.0, 2.0]}, protocol=2), "looks like a pickle"),
    ],
    ids=["empty", "random-bytes", "zip-magic-then-garbage", "pickle"],
)
def test_not_an_archive(tmp_path, content, fragment):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with raises_for(path, fragment):
        load_checkpoint(path)


def test_single_npy_file(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    with raises_for(path, "single .npy array"):
        load_checkpoint(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, fraction):
    good = save_simple(tmp_path / "good.npz").read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(good[: int(len(good) * fraction)])
    with raises_for(path, "truncated or corrupted"):
        load_checkpoint(path)


def test_flipped_bit_in_an_array_is_detected(tmp_path):
    path = save_simple(tmp_path / "c.npz")
    data = bytearray(path.read_bytes())
    offset = data.index(Tiny().params["embedding"].tobytes())
    data[offset + 3] ^= 0x10
    path.write_bytes(bytes(data))
    with raises_for(path, "corrupted", "param/embedding"):
        load_checkpoint(path)


def test_zip_without_meta(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.zeros(3))
    with raises_for(path, "not a scratchrnn checkpoint", "no meta.json"):
        load_checkpoint(path)


def test_fake_torch_zip(tmp_path):
    path = tmp_path / "model.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/data/0", bytes(16))
    with raises_for(path, "not a scratchrnn checkpoint", "looks like a torch checkpoint"):
        load_checkpoint(path)


def test_real_torch_files(tmp_path):
    torch = pytest.importorskip("torch")
    zipped = tmp_path / "new.pth"
    torch.save({"w": torch.zeros(2)}, zipped)
    with raises_for(zipped, "looks like a torch checkpoint"):
        load_checkpoint(zipped)
    legacy = tmp_path / "legacy.pth"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    with raises_for(legacy, "looks like a pickle"):
        load_checkpoint(legacy)


EXECUTED: list[str] = []


def _record_execution(tag: str) -> str:
    EXECUTED.append(tag)
    return tag


class _Payload:
    """Unpickling this calls ``_record_execution``: proof of whether pickle ran."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_record_execution, ("unpickled",))


@pytest.mark.parametrize("entry", ["param/embedding", "extra/blob", "meta.json"])
def test_object_arrays_are_rejected_not_executed(tmp_path, entry):
    path = save_simple(tmp_path / "c.npz")
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload()
    rewrite(path, add={entry: evil}, allow_pickle=True)
    EXECUTED.clear()
    with raises_for(path, "object array"):
        load_checkpoint(path)
    assert EXECUTED == []


def test_wrong_kind(tmp_path):
    path = save_simple(tmp_path / "c.npz", kind="classifier")
    with raises_for(path, "this is a classifier checkpoint, expected generator"):
        load_checkpoint(path, kind="generator")


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        meta[key] = value

    return edit


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.pop(key)


def _set_param(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        meta["params"][name][key] = value

    return edit


@pytest.mark.parametrize(
    ("meta_fn", "fragments"),
    [
        (_set("format", "something-else"), ["unknown checkpoint format 'something-else'"]),
        (_delete("format"), ["unknown checkpoint format None"]),
        (_set("format_version", 2), ["format_version 2 is newer", "up to 1"]),
        (_set("format_version", 0), ["invalid format_version 0"]),
        (_set("format_version", "1"), ["invalid format_version '1'"]),
        (_delete("epoch"), ["missing keys ['epoch']"]),
        (_set("surprise", 1), ["unexpected keys ['surprise']"]),
        (_set("kind", 3), ["kind must be a string"]),
        (_set("hyperparameters", [1]), ["hyperparameters has type list"]),
        (_set("epoch", -2), ["epoch must be an integer >= 0"]),
        (
            _set_param("fc.weight", "shape", [3, 2]),
            ["parameter 'fc.weight' has shape (2, 3), meta.json says (3, 2)"],
        ),
        (
            _set_param("scale", "dtype", "float32"),
            ["parameter 'scale' has dtype float64, meta.json says float32"],
        ),
        (_set_param("scale", "shape", "()"), ["malformed entry for parameter 'scale'"]),
    ],
)
def test_tampered_meta(tmp_path, meta_fn, fragments):
    path = save_simple(tmp_path / "c.npz")
    rewrite(path, meta_fn)
    with raises_for(path, *fragments):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("drop", "add", "fragment"),
    [
        (("param/fc.bias",), {}, "parameter 'fc.bias' is listed in meta.json but missing"),
        ((), {"param/stowaway": np.zeros(2)}, "parameters not listed in meta.json: ['stowaway']"),
        ((), {"extra/stowaway": np.zeros(2)}, "extra arrays not listed in meta.json"),
        ((), {"junk": np.zeros(2)}, "unexpected archive entries ['junk']"),
        (("optim/buffers/exp_avg/fc.bias",), {}, "'optim/buffers/exp_avg/fc.bias'"),
        ((), {"optim/buffers/spare": np.zeros(2)}, "not referenced by meta.json"),
    ],
)
def test_arrays_disagreeing_with_meta(tmp_path, drop, add, fragment):
    _, opt = adam_after_steps(1)
    path = save_simple(tmp_path / "c.npz", optimizer_state=opt.state_dict())
    rewrite(path, drop=drop, add=add)
    with raises_for(path, fragment):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (np.frombuffer(b"{not json", dtype=np.uint8), "not valid UTF-8 JSON"),
        (np.frombuffer(b"\xff\xfe", dtype=np.uint8), "not valid UTF-8 JSON"),
        (np.frombuffer(b'{"x": NaN}', dtype=np.uint8), "not valid UTF-8 JSON"),
        (np.frombuffer(b"[1, 2]", dtype=np.uint8), "must hold a JSON object"),
        (np.zeros(3, dtype=np.float32), "must be a 1-d uint8 array"),
    ],
)
def test_unreadable_meta(tmp_path, payload, fragment):
    path = save_simple(tmp_path / "c.npz")
    rewrite(path, add={"meta.json": payload})
    with raises_for(path, "meta.json", fragment):
        load_checkpoint(path)


# -- properties ----------------------------------------------------------------------------
name_st = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
)
array_shapes = (hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
                | st.sampled_from([(), (1,), (1, 1)]))
array_st = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64]),
                      shape=array_shapes)
# model parameters must be finite (a checkpoint never holds NaN or inf weights)
finite_array_st = st.sampled_from([np.float32, np.float64, np.int64]).flatmap(
    lambda dt: hnp.arrays(dtype=dt, shape=array_shapes,
                          elements=None if dt == np.int64 else
                          hnp.from_dtype(np.dtype(dt), allow_nan=False, allow_infinity=False)))


@given(
    state=st.dictionaries(name_st, finite_array_st, max_size=5),
    extra=st.dictionaries(name_st, array_st, max_size=2),
)
def test_property_arrays_round_trip_exactly(state, extra):
    with tempfile.TemporaryDirectory() as tmp:
        path = save_checkpoint(
            Path(tmp) / "p.npz", state, kind="k", hyperparameters={}, extra_arrays=extra
        )
        ckpt = load_checkpoint(path)
        assert os.listdir(tmp) == ["p.npz"]
    assert_identical(ckpt.model_state, state)
    assert_identical(ckpt.extra_arrays, extra)


json_scalar_st = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
key_st = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
    min_size=1,
    max_size=6,
)


def _nested(leaves: st.SearchStrategy) -> st.SearchStrategy:
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(key_st, kids, max_size=3),
        max_leaves=8,
    )


@given(
    optimizer_state=st.dictionaries(key_st, _nested(json_scalar_st | array_st), max_size=4),
    extra=st.dictionaries(key_st, _nested(json_scalar_st), max_size=3),
)
def test_property_nested_state_and_json_round_trip_exactly(optimizer_state, extra):
    with tempfile.TemporaryDirectory() as tmp:
        path = save_simple(Path(tmp) / "p.npz", optimizer_state=optimizer_state, extra=extra)
        ckpt = load_checkpoint(path)
    assert_identical(ckpt.optimizer_state, optimizer_state)
    assert_identical(ckpt.extra, extra)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_parameters_are_neither_written_nor_read(tmp_path, bad):
    """A diverged model is not saved; extra arrays (not weights) may hold NaN."""
    w = np.ones((2, 3), np.float32)
    w[1, 2] = bad
    with pytest.raises(CheckpointError, match=r"parameter 'rnn\.w' holds NaN or inf in 1 of 6"):
        save_checkpoint(tmp_path / "m.npz", {"rnn.w": w}, kind="k", hyperparameters={})
    assert not (tmp_path / "m.npz").exists()
    save_checkpoint(tmp_path / "e.npz", {"rnn.w": np.ones(2)}, kind="k", hyperparameters={},
                    extra_arrays={"curve": np.array([1.0, bad])})
    assert not np.isfinite(load_checkpoint(tmp_path / "e.npz").extra_arrays["curve"][1])
