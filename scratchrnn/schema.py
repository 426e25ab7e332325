"""What a lab checkpoint's metadata must say, checked before anything is built from it.

:func:`scratchrnn.checkpoint.load_checkpoint` guarantees a well-formed archive
whose arrays match its own manifest. A checkpoint can still lie: a missing or
mistyped hyperparameter, a hidden size of 10¹², a vocabulary whose
``max_length`` is 10¹², a negative prior, a tampered training state. Everything
here raises :class:`~scratchrnn.checkpoint.CheckpointError` (one line, naming the
file and the key) *before* a model is built or a state restored:

* :func:`check_lab_checkpoint` — the hyperparameters (types, the ranges of
  :mod:`scratchrnn.limits`, required keys), the vocabularies, their consistency
  with each other (``num_embeddings`` = the character vocabulary's size, ...) and
  with the arrays (every parameter's shape follows from the hyperparameters, so
  building the model costs no more memory than the file holds);
* :func:`check_train_state` — what ``--resume`` restores from ``extra``: the
  early-stopping state, the shuffling and dropout RNG states, the run record.

Hyperparameters are read under either name a checkpoint may use for them (the
config's field names, ``hidden``, under ``hyperparameters["config"]``; or the flat
layout before the configs, ``hidden_size``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .checkpoint import Checkpoint, CheckpointError
from .config import flat_hyperparameters
from .limits import MAX_SURNAME_LENGTH, MAX_VOCABULARY, RANGES, Range

__all__ = [
    "CELLS",
    "GATES",
    "hyperparameter",
    "check_lab_checkpoint",
    "check_train_state",
    "expected_parameter_shapes",
]

CELLS = ("elman", "lstm", "gru")
#: gate blocks per cell: rows of weight_ih / weight_hh are GATES × hidden
GATES = {"elman": 1, "lstm": 4, "gru": 3}
#: names a hyperparameter may have in a checkpoint (config field first)
ALIASES = {
    "hidden": ("hidden", "hidden_size"),
    "embedding": ("embedding", "embedding_size"),
    "layers": ("layers", "num_layers"),
}
_MISSING = object()


class _Problem(Exception):
    """One thing wrong; turned into a CheckpointError naming the file."""


def hyperparameter(hp: Mapping[str, Any], name: str, default: Any = _MISSING) -> Any:
    """``hp[name]`` under any of its :data:`ALIASES`; ``default`` (or an error) if absent."""
    nested = hp.get("config")
    for where in (hp, nested) if isinstance(nested, Mapping) else (hp,):
        for key in ALIASES.get(name, (name,)):
            if key in where:
                return where[key]
    if default is not _MISSING:
        return default
    names = " or ".join(repr(k) for k in ALIASES.get(name, (name,)))
    if isinstance(nested, Mapping) or "config" in hp:
        raise _Problem(f"hyperparameters (or their config) lack {names}")
    raise _Problem(f"hyperparameters lack {names}")


def _in_range(where: str, value: object, rng: Range) -> Any:
    if not rng.contains(value):
        raise _Problem(f"{where} must be {rng.describe()}, got {_show(value)}")
    return value


def _int(where: str, value: object, low: int, high: int) -> int:
    return _in_range(where, value, Range(low, high))


def _bool(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _Problem(f"{where} must be true or false, got {_show(value)}")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mapping(where: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Problem(f"{where} must be an object, got {type(value).__name__}")
    return value


# -- vocabularies ---------------------------------------------------------------------
def _vocab_size(where: str, vocab: object, minimum: int) -> int:
    table = _mapping(f"{where}.token_to_idx", _mapping(where, vocab).get("token_to_idx"))
    n = len(table)
    if not minimum <= n <= MAX_VOCABULARY:
        raise _Problem(f"{where} has {n} tokens; expected {minimum} to {MAX_VOCABULARY:,}")
    for token, index in table.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise _Problem(f"{where}: token {_show(token)} has the index {_show(index)}")
    return n


def _check_vocabularies(vocabs: Mapping[str, Any]) -> tuple[int, int]:
    """(character vocabulary size, number of nationalities)."""
    chars = _vocab_size("vocabularies.char_vocab", vocabs.get("char_vocab"), 4)
    nations = _vocab_size("vocabularies.nationality_vocab", vocabs.get("nationality_vocab"), 1)
    _int("vocabularies.max_length", vocabs.get("max_length"), 2, MAX_SURNAME_LENGTH + 2)
    return chars, nations


# -- hyperparameters --------------------------------------------------------------------
def _check_common(hp: Mapping[str, Any]) -> dict[str, Any]:
    cell = hyperparameter(hp, "cell")
    if cell not in CELLS:
        raise _Problem(f"hyperparameters.cell must be one of {', '.join(CELLS)}, got {_show(cell)}")
    out = {"cell": cell}
    for name in ("hidden", "embedding", "layers"):
        out[name] = _in_range(f"hyperparameters.{name}", hyperparameter(hp, name), RANGES[name])
    out["dropout"] = _in_range("hyperparameters.dropout", hyperparameter(hp, "dropout"),
                               RANGES["dropout"])
    _in_range("hyperparameters.seed", hyperparameter(hp, "seed"), RANGES["seed"])
    return out


def _check_classifier(hp: Mapping[str, Any], chars: int, nations: int) -> dict[str, Any]:
    out = _check_common(hp)
    out["bidirectional"] = _bool("hyperparameters.bidirectional",
                                 hyperparameter(hp, "bidirectional"))
    forget = hyperparameter(hp, "forget_bias", 0.0)
    if forget is not None:
        _in_range("hyperparameters.forget_bias", forget, RANGES["forget_bias"])
    out["num_embeddings"] = _int("hyperparameters.num_embeddings",
                                 hyperparameter(hp, "num_embeddings"), chars, chars)
    out["num_classes"] = _int("hyperparameters.num_classes",
                              hyperparameter(hp, "num_classes"), nations, nations)
    return out


def _check_generator(hp: Mapping[str, Any], chars: int, nations: int) -> dict[str, Any]:
    out = _check_common(hp)
    out["bidirectional"] = False
    out["conditioned"] = _bool("hyperparameters.conditioned", hyperparameter(hp, "conditioned"))
    out["num_embeddings"] = _int("hyperparameters.num_embeddings",
                                 hyperparameter(hp, "num_embeddings"), chars, chars)
    out["num_nationalities"] = _int("hyperparameters.num_nationalities",
                                    hyperparameter(hp, "num_nationalities"), nations, nations)
    prior = hyperparameter(hp, "prior")
    if (not isinstance(prior, list) or len(prior) != nations
            or not all(isinstance(p, (int, float)) and not isinstance(p, bool)
                       and math.isfinite(p) and 0.0 <= p <= 1.0 for p in prior)):
        raise _Problem(f"hyperparameters.prior must be {nations} probabilities (one per "
                       f"nationality, each in [0, 1]), got {_show(prior)}")
    if not math.isclose(sum(prior), 1.0, abs_tol=1e-6) or not any(prior):
        raise _Problem(f"hyperparameters.prior must sum to 1, sums to {sum(prior):g}")
    return out


def expected_parameter_shapes(kind: str, hp: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every parameter's name and shape, as the lab model built from ``hp`` has them.

    ``hp`` holds checked values (:func:`check_lab_checkpoint`'s view): ``cell``,
    ``hidden``, ``embedding``, ``layers``, ``bidirectional``, ``num_embeddings`` and
    ``num_classes`` (classifier) or ``conditioned``, ``num_nationalities`` (generator).
    Computed, not built: nothing is allocated.
    """
    G, H, E, L = GATES[hp["cell"]], hp["hidden"], hp["embedding"], hp["layers"]
    D = 2 if hp["bidirectional"] else 1
    V = hp["num_embeddings"]
    shapes: dict[str, tuple[int, ...]] = {}
    emb = "emb.weight" if kind == "classifier" else "char_emb.weight"
    shapes[emb] = (V, E)
    if kind == "generator" and hp["conditioned"]:
        shapes["nation_emb.weight"] = (hp["num_nationalities"], H)
    for layer in range(L):
        for suffix in ("", "_reverse")[:D]:
            inputs = E if layer == 0 else D * H
            shapes[f"rnn.weight_ih_l{layer}{suffix}"] = (G * H, inputs)
            shapes[f"rnn.weight_hh_l{layer}{suffix}"] = (G * H, H)
            shapes[f"rnn.bias_ih_l{layer}{suffix}"] = (G * H,)
            shapes[f"rnn.bias_hh_l{layer}{suffix}"] = (G * H,)
    if kind == "classifier":
        shapes.update({"fc1.weight": (H, D * H), "fc1.bias": (H,),
                       "fc2.weight": (hp["num_classes"], H), "fc2.bias": (hp["num_classes"],)})
    else:
        shapes.update({"fc.weight": (V, H), "fc.bias": (V,)})
    return shapes


def check_lab_checkpoint(ckpt: Checkpoint, kind: str) -> None:
    """Refuse a lab checkpoint whose metadata is incomplete, out of range or inconsistent.

    Raises :class:`CheckpointError` naming the file and the first problem found.
    """
    where = ckpt.path if ckpt.path is not None else "<checkpoint>"
    try:
        if ckpt.kind != kind:
            raise _Problem(f"this is a {ckpt.kind} checkpoint, expected {kind}")
        chars, nations = _check_vocabularies(_mapping("vocabularies", ckpt.vocabularies))
        hp = _mapping("hyperparameters", ckpt.hyperparameters)
        if "config" in hp:  # today's layout: the config's fields beside the data's sizes
            hp = flat_hyperparameters({**hp, "config": _mapping("hyperparameters.config",
                                                                hp["config"])})
        checked = (_check_classifier if kind == "classifier" else _check_generator)(
            hp, chars, nations)
        expected = expected_parameter_shapes(kind, checked)
        actual = {name: tuple(a.shape) for name, a in ckpt.model_state.items()}
        missing = [n for n in expected if n not in actual]
        stray = [n for n in actual if n not in expected]
        if missing or stray:
            raise _Problem(f"parameters do not match the hyperparameters: missing {missing[:4]}, "
                           f"not expected {stray[:4]}")
        for name, shape in expected.items():
            if actual[name] != shape:
                raise _Problem(f"parameter {name!r} has shape {actual[name]}, the "
                               f"hyperparameters say {shape}")
        kinds = {a.dtype.kind for a in ckpt.model_state.values()}
        if kinds - {"f"} or len({a.dtype for a in ckpt.model_state.values()}) > 1:
            raise _Problem("parameters must all have one float dtype")
        if next(iter(ckpt.model_state.values())).dtype.itemsize not in (4, 8):
            raise _Problem("parameters must be float32 or float64")
    except _Problem as e:
        raise CheckpointError(f"{where}: {e}") from None


# -- the training state (--resume) ------------------------------------------------------
_U128 = Range(0, 2**128 - 1)


def _check_pcg64(where: str, state: object) -> None:
    st = _mapping(where, state)
    if st.get("bit_generator") != "PCG64" or set(st) != {
            "bit_generator", "state", "has_uint32", "uinteger"}:
        raise _Problem(f"{where} is not a PCG64 state")
    inner = _mapping(f"{where}.state", st["state"])
    if set(inner) != {"state", "inc"}:
        raise _Problem(f"{where}.state must hold 'state' and 'inc'")
    for key in ("state", "inc"):
        _in_range(f"{where}.state.{key}", inner[key], _U128)
    _int(f"{where}.has_uint32", st["has_uint32"], 0, 1)
    _int(f"{where}.uinteger", st["uinteger"], 0, 2**32 - 1)


def _check_model_rng(where: str, state: object) -> None:
    st = _mapping(where, state)
    if "bit_generator" in st:  # the NumPy backend: the dropout Generator's state
        _check_pcg64(where, st)
        return
    # the torch backend: torch's CPU (and CUDA) generator bytes and the dropout Generator
    for key in ("cpu", "cuda"):
        if key in st:
            value = st[key]
            if (not isinstance(value, list) or not 0 < len(value) <= 1 << 16
                    or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256
                               for b in value)):
                raise _Problem(f"{where}.{key} must be a list of bytes (0..255)")
    if "numpy" in st:
        _check_pcg64(f"{where}.numpy", st["numpy"])
    stray = set(st) - {"cpu", "cuda", "numpy"}
    if stray or "cpu" not in st:
        raise _Problem(f"{where} is neither a NumPy nor a torch RNG state")


def _check_history(where: str, history: object, epoch: int) -> None:
    if not isinstance(history, list) or len(history) != epoch:
        raise _Problem(f"{where} must be a list of {epoch} rows (one per epoch)")
    for i, row in enumerate(history):
        row = _mapping(f"{where}[{i}]", row)
        for key, value in row.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _Problem(f"{where}[{i}].{key} must be a number, got {_show(value)}")


def check_train_state(ckpt: Checkpoint) -> None:
    """Refuse to resume from ``extra`` that is missing, mistyped or inconsistent.

    Checks ``train_state`` (the fields of :class:`scratchrnn.train.TrainState`),
    ``shuffle_rng`` and ``model_rng``; raises :class:`CheckpointError`.
    """
    where = ckpt.path if ckpt.path is not None else "<checkpoint>"
    try:
        extra = _mapping("extra", ckpt.extra)
        for key in ("train_state", "shuffle_rng", "model_rng"):
            if key not in extra:
                raise _Problem(f"extra lacks {key!r}: not a checkpoint to resume from")
        ts = _mapping("extra.train_state", extra["train_state"])
        fields = {"epoch", "best_val_loss", "best_epoch", "bad_epochs", "history",
                  "stopped_early"}
        if set(ts) != fields:
            raise _Problem(f"extra.train_state must have the keys {sorted(fields)}, "
                           f"got {sorted(ts)}")
        epoch = _int("extra.train_state.epoch", ts["epoch"], 0, RANGES["epochs"].high)
        if epoch != ckpt.epoch:
            raise _Problem(f"extra.train_state.epoch is {epoch}, the checkpoint's epoch "
                           f"{ckpt.epoch}")
        best = ts["best_val_loss"]
        if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))
                                 or not math.isfinite(best)):
            raise _Problem(f"extra.train_state.best_val_loss must be a finite number or null, "
                           f"got {_show(best)}")
        _int("extra.train_state.best_epoch", ts["best_epoch"], -1, max(epoch, 0))
        _int("extra.train_state.bad_epochs", ts["bad_epochs"], 0, max(epoch, 0))
        _bool("extra.train_state.stopped_early", ts["stopped_early"])
        _check_history("extra.train_state.history", ts["history"], epoch)
        _check_pcg64("extra.shuffle_rng", extra["shuffle_rng"])
        _check_model_rng("extra.model_rng", extra["model_rng"])
    except _Problem as e:
        raise CheckpointError(f"{where}: {e}") from None
