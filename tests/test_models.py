"""The labs' models: gradient checks, torch parity (one step and 50 training steps),
the Module container, and dropout randomness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.runtime.models import load_numpy_from_torch, to_torch_model
from parity.trajectory import CLASSES, NATIONS, VOCAB, run_trajectory
from scratchrnn.gradcheck import assert_gradients_close, max_relative_error
from scratchrnn.layers import Dropout
from scratchrnn.losses import (
    cross_entropy,
    cross_entropy_backward,
    sequence_cross_entropy,
    sequence_cross_entropy_backward,
)
from scratchrnn.models import SurnameClassifier, SurnameGenerator
from tests.conftest import PARITY_TOL, needs_torch

CELLS = ("elman", "lstm", "gru")
# tiny sizes: vocabulary, embedding, hidden, classes, nationalities, batch, steps
V, E, H, C, N, B, T = 6, 3, 3, 4, 3, 2, 4


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _batch(rng, batch=B, steps=T, vocab=V, lengths=None):
    """x (B, T) with indices 1..V-1 up to each length and the padding index 0 after it."""
    if lengths is None:
        lengths = rng.integers(1, steps + 1, size=batch)
        lengths[0] = steps  # the longest sequence fills the batch, as after trimming
    lengths = np.asarray(lengths, dtype=np.int64)
    pad = np.arange(steps)[None, :] >= lengths[:, None]
    x = rng.integers(1, vocab, size=(batch, steps))
    x[pad] = 0
    return x, lengths, pad


def _classifier(cell, layers=1, bidirectional=False, seed=0, dtype=np.float64, **kw):
    return SurnameClassifier(E, V, C, H, cell=cell, num_layers=layers,
                             bidirectional=bidirectional, dtype=dtype, rng=seed, **kw)


def _generator(cell, conditioned=True, layers=1, seed=0, dtype=np.float64, **kw):
    return SurnameGenerator(E, V, H, cell=cell, num_nationalities=N if conditioned else None,
                            num_layers=layers, dtype=dtype, rng=seed, **kw)


def _grads(model):
    return {name: g.copy() for name, _, g in model.named_parameters()}


def _params(model):
    return {name: p for name, p, _ in model.named_parameters()}


# ---------------------------------------------------------------------------
# finite-difference gradient checks (float64, eval mode)
# ---------------------------------------------------------------------------
CLASSIFIER_CONFIGS = [(cell, layers, bi) for cell in CELLS
                      for layers, bi in ((1, False), (2, True))]


@pytest.mark.parametrize(("cell", "layers", "bidirectional"), CLASSIFIER_CONFIGS)
def test_classifier_gradcheck(cell, layers, bidirectional):
    rng = np.random.default_rng(1)
    model = _classifier(cell, layers, bidirectional).eval()
    x, lengths, _ = _batch(rng)
    y = rng.integers(0, C, size=B)
    w = rng.uniform(0.5, 2.0, size=C)  # the lab's weighted cross-entropy

    model.zero_grad()
    logits, cache = model.forward(x, lengths)
    _, lc = cross_entropy(logits, y, weight=w)
    model.backward(cross_entropy_backward(1.0, lc), cache)

    def loss():
        return float(cross_entropy(model.forward(x, lengths)[0], y, weight=w)[0])

    errors = assert_gradients_close(loss, _params(model), _grads(model))
    assert set(errors) == {name for name, _, _ in model.named_parameters()}
    # the padding row of the embedding never gets a gradient
    assert not model.emb.grads["weight"][0].any()


GENERATOR_CONFIGS = [(cell, cond, 1) for cell in ("gru", "lstm", "elman") for cond in (True, False)]
GENERATOR_CONFIGS += [("lstm", True, 2), ("gru", True, 2)]


@pytest.mark.parametrize(("cell", "conditioned", "layers"), GENERATOR_CONFIGS)
def test_generator_gradcheck(cell, conditioned, layers):
    rng = np.random.default_rng(2)
    model = _generator(cell, conditioned, layers).eval()
    x, _, pad = _batch(rng)
    targets = rng.integers(1, V, size=(B, T))
    targets[pad] = 0  # the mask index: those positions take no part in the loss
    nat = rng.integers(0, N, size=B) if conditioned else None

    model.zero_grad()
    logits, cache = model.forward(x, nat)
    _, lc = sequence_cross_entropy(logits, targets, mask_index=0)
    model.backward(sequence_cross_entropy_backward(1.0, lc), cache)

    def loss():
        return float(sequence_cross_entropy(model.forward(x, nat)[0], targets, 0)[0])

    names = {name for name, _, _ in model.named_parameters()}
    errors = assert_gradients_close(loss, _params(model), _grads(model))
    assert set(errors) == names
    if conditioned:
        assert "nation_emb.weight" in names
        assert np.abs(model.nation_emb.grads["weight"]).max() > 0  # h0 is trained
    else:
        assert not any(n.startswith("nation_emb") for n in names)


# ---------------------------------------------------------------------------
# the reference path (cells.py's step functions) and the fast path agree
# ---------------------------------------------------------------------------
PATH_MODELS = [("classifier", cell, layers, bi) for cell in CELLS
               for layers, bi in ((1, False), (2, True))]
PATH_MODELS += [("generator", cell, layers, cond) for cell in CELLS
                for layers, cond in ((1, False), (2, True))]


@pytest.mark.parametrize(("kind", "cell", "layers", "option"), PATH_MODELS)
def test_reference_and_fast_paths_give_the_same_model(kind, cell, layers, option):
    """The same weights on both paths: logits and every gradient equal to float64 rounding;
    ``reference`` is a constructor argument, not state (state_dicts load across paths)."""
    rng = np.random.default_rng(3)
    x, lengths, _ = _batch(rng)
    if kind == "classifier":
        models = [_classifier(cell, layers, option, reference=r) for r in (False, True)]
        args = (x, lengths)
    else:
        models = [_generator(cell, option, layers, reference=r) for r in (False, True)]
        args = (x, rng.integers(0, N, size=B) if option else None)
    fast, ref = (m.eval() for m in models)
    ref.load_state_dict({k: v + 0.1 for k, v in fast.state_dict().items()})
    fast.load_state_dict(ref.state_dict())
    assert fast.state_dict().keys() == ref.state_dict().keys()
    assert (fast.rnn.reference, ref.rnn.reference) == (False, True)
    results = []
    for m in (fast, ref):
        logits, cache = m.forward(*args)
        steps = cache.rnn.layers[0][0].steps
        assert isinstance(steps, list) is m.rnn.reference  # the step functions' caches
        m.zero_grad()
        m.backward(np.cos(logits), cache)
        results.append((logits, _grads(m)))
    (l_fast, g_fast), (l_ref, g_ref) = results
    assert max_relative_error(l_fast, l_ref) <= 1e-12
    for name in g_ref:
        assert max_relative_error(g_fast[name], g_ref[name]) <= 1e-12, name


# ---------------------------------------------------------------------------
# parity with the torch twins (hypothesis over the options)
# ---------------------------------------------------------------------------
@st.composite
def model_cases(draw):
    kind = draw(st.sampled_from(["classifier", "generator"]))
    cell = draw(st.sampled_from(CELLS))
    layers = draw(st.integers(1, 2))
    batch = draw(st.integers(1, 3))
    steps = draw(st.integers(1, 5))
    hidden = draw(st.integers(1, 4))
    emb = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    case = dict(kind=kind, cell=cell, layers=layers, batch=batch, steps=steps, hidden=hidden,
                emb=emb, lengths=lengths, seed=draw(st.integers(0, 2**31 - 1)),
                reference=draw(st.booleans()))
    if kind == "classifier":
        case["bidirectional"] = draw(st.booleans())
    else:
        case["conditioned"] = draw(st.booleans())
    return case


@needs_torch
@given(model_cases())
def test_models_match_torch_twins(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(case["seed"])
    x, lengths, _ = _batch(rng, case["batch"], case["steps"], lengths=case["lengths"])
    if case["kind"] == "classifier":
        model = SurnameClassifier(case["emb"], V, C, case["hidden"], cell=case["cell"],
                                  num_layers=case["layers"],
                                  bidirectional=case["bidirectional"], dtype=np.float64,
                                  rng=rng, reference=case["reference"]).eval()
        args = (x, lengths)
    else:
        model = SurnameGenerator(case["emb"], V, case["hidden"], cell=case["cell"],
                                 num_nationalities=N if case["conditioned"] else None,
                                 num_layers=case["layers"], dtype=np.float64, rng=rng,
                                 reference=case["reference"]).eval()
        args = (x, rng.integers(0, N, size=case["batch"]) if case["conditioned"] else None)
    assert model.rnn.reference is case["reference"]
    twin = to_torch_model(model)
    assert not twin.training

    logits, cache = model.forward(*args)
    dout = rng.standard_normal(logits.shape)
    model.zero_grad()
    model.backward(dout, cache)

    t_logits = twin(*[None if a is None else torch.as_tensor(a) for a in args])
    (t_logits * torch.as_tensor(dout)).sum().backward()
    assert t_logits.dtype == torch.float64
    assert max_relative_error(logits, t_logits.detach().numpy()) <= PARITY_TOL
    t_grads = {n: p.grad for n, p in twin.named_parameters()}
    assert set(t_grads) == {n for n, _, _ in model.named_parameters()}
    for name, _, g in model.named_parameters():
        tg = t_grads[name]
        tg = np.zeros_like(g) if tg is None else tg.numpy()
        assert max_relative_error(g, tg) <= PARITY_TOL, name


@needs_torch
def test_classifier_weighted_loss_matches_torch():
    """The lab's loss end to end: weighted cross-entropy through the model, in float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    model = _classifier("gru", 2, True, seed=3).eval()
    x, lengths, _ = _batch(rng, batch=5, steps=6)
    y = rng.integers(0, C, size=5)
    w = rng.uniform(0.2, 2.0, size=C)
    logits, cache = model.forward(x, lengths)
    loss, lc = cross_entropy(logits, y, weight=w)
    model.zero_grad()
    model.backward(cross_entropy_backward(1.0, lc), cache)
    twin = to_torch_model(model)
    t_loss = torch.nn.functional.cross_entropy(
        twin(torch.as_tensor(x), torch.as_tensor(lengths)), torch.as_tensor(y),
        weight=torch.as_tensor(w))
    t_loss.backward()
    assert max_relative_error(np.array(loss), t_loss.detach().numpy()) <= PARITY_TOL
    for name, p in twin.named_parameters():
        assert max_relative_error(_grads(model)[name], p.grad.numpy()) <= PARITY_TOL, name


# ---------------------------------------------------------------------------
# trajectory parity: 50 Adam steps with clipping, NumPy vs torch, float64
# ---------------------------------------------------------------------------
# (the 2-layer bidirectional classifier's trajectory is a row of `python -m parity`)
TRAJECTORY_CASES = [("classifier", cell, 1, False) for cell in CELLS]
TRAJECTORY_CASES += [("generator", "gru", 1, False), ("generator", "lstm", 1, False)]


@needs_torch
@pytest.mark.parametrize(("kind", "cell", "layers", "bidirectional"), TRAJECTORY_CASES)
def test_trajectory_parity(kind, cell, layers, bidirectional):
    pytest.importorskip("torch")
    if kind == "classifier":
        model = SurnameClassifier(8, VOCAB, CLASSES, 10, cell=cell, num_layers=layers,
                                  bidirectional=bidirectional, dtype=np.float64, rng=0)
    else:  # conditioned: the nationality embedding is h0 and trains too
        model = SurnameGenerator(8, VOCAB, 10, cell=cell, num_nationalities=NATIONS,
                                 dtype=np.float64, rng=0)
    weight = None
    if kind == "classifier":
        weight = np.random.default_rng(7).uniform(0.2, 2.0, size=CLASSES)
    before = model.state_dict()
    result = run_trajectory(model, steps=50, weight=weight)
    assert len(result["losses"]) == 50
    assert result["max_rel_diff_loss"] <= PARITY_TOL
    assert result["max_rel_diff_params"] <= PARITY_TOL
    # the model really trained (parity of a model that never moved would prove little)
    assert max(np.abs(model.state_dict()[k] - before[k]).max() for k in before) > 1e-3
    assert result["losses"][-1] != result["losses"][0]


# ---------------------------------------------------------------------------
# the Module container
# ---------------------------------------------------------------------------
CONTAINER_MODELS = [
    pytest.param(lambda c=c: _classifier(c, 2, True), id=f"classifier-{c}-bi-L2") for c in CELLS
] + [
    pytest.param(lambda: _classifier("lstm"), id="classifier-lstm"),
    pytest.param(lambda: _generator("gru", True, 2), id="generator-gru-conditioned-L2"),
    pytest.param(lambda: _generator("lstm", False), id="generator-lstm-unconditioned"),
]


@needs_torch
@pytest.mark.parametrize("build", CONTAINER_MODELS)
def test_named_parameters_follow_torch_state_dict(build):
    model = build()
    twin = to_torch_model(model)
    names = [name for name, _, _ in model.named_parameters()]
    assert names == list(twin.state_dict().keys())
    assert list(model.state_dict().keys()) == names
    for (name, p, g), (tname, tp) in zip(model.named_parameters(), twin.state_dict().items(),
                                         strict=True):
        assert name == tname
        assert p.shape == tuple(tp.shape) and g.shape == p.shape and g.dtype == p.dtype


def test_named_parameters_names_and_order():
    model = _generator("lstm", True, 2)
    names = [n for n, _, _ in model.named_parameters()]
    assert names[:2] == ["char_emb.weight", "nation_emb.weight"]
    assert names[2:6] == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                          "rnn.bias_hh_l0"]
    assert names[-2:] == ["fc.weight", "fc.bias"]
    assert len(names) == len(set(names)) == len(model.parameters()) == len(model.gradients())
    clf = _classifier("gru", 1, True)
    clf_names = [n for n, _, _ in clf.named_parameters()]
    assert "rnn.weight_ih_l0_reverse" in clf_names
    assert [n.split(".")[0] for n in clf_names] == sorted(
        [n.split(".")[0] for n in clf_names], key=["emb", "rnn", "fc1", "fc2"].index)


def test_state_dict_returns_copies():
    model = _classifier("gru")
    sd = model.state_dict()
    before = sd["fc1.weight"].copy()
    sd["fc1.weight"] += 1.0
    assert np.array_equal(model.fc1.params["weight"], before)
    for name, p, _ in model.named_parameters():
        assert not np.shares_memory(sd[name], p), name


def test_load_state_dict_round_trip_and_in_place():
    a, b = _classifier("lstm", seed=1), _classifier("lstm", seed=2)
    arrays = {name: p for name, p, _ in b.named_parameters()}
    b.load_state_dict(a.state_dict())
    for name, p, _ in b.named_parameters():
        assert p is arrays[name]  # in place: optimizers keep their references
        assert np.array_equal(p, a.state_dict()[name])
    x, lengths, _ = _batch(np.random.default_rng(0))
    a.eval(), b.eval()
    assert np.array_equal(a(x, lengths), b(x, lengths))


def test_load_state_dict_casts_to_parameter_dtype():
    model = _classifier("gru", dtype=np.float32)
    state = {k: v.astype(np.float64) for k, v in _classifier("gru", seed=5).state_dict().items()}
    model.load_state_dict(state)
    for name, p, _ in model.named_parameters():
        assert p.dtype == np.float32, name


def test_load_state_dict_strict_errors_name_the_key():
    model = _classifier("gru")
    state = model.state_dict()

    missing = dict(state)
    del missing["fc2.bias"]
    with pytest.raises(ValueError, match="fc2.bias"):
        model.load_state_dict(missing)

    unexpected = {**state, "fc3.weight": np.zeros((2, 2))}
    with pytest.raises(ValueError, match="fc3.weight"):
        model.load_state_dict(unexpected)

    wrong = {**state, "rnn.weight_hh_l0": np.zeros((2, 2))}
    with pytest.raises(ValueError, match=r"rnn\.weight_hh_l0"):
        model.load_state_dict(wrong)
    with pytest.raises(ValueError, match=r"rnn\.weight_hh_l0"):
        model.load_state_dict(wrong, strict=False)  # shapes are checked either way


def test_load_state_dict_non_strict_loads_what_is_there():
    a, b = _classifier("elman", seed=1), _classifier("elman", seed=2)
    partial = {k: v for k, v in a.state_dict().items() if k.startswith("fc")}
    old_emb = b.state_dict()["emb.weight"]
    b.load_state_dict({**partial, "extra.weight": np.ones(3)}, strict=False)
    assert np.array_equal(b.state_dict()["fc1.weight"], a.state_dict()["fc1.weight"])
    assert np.array_equal(b.state_dict()["emb.weight"], old_emb)


def test_zero_grad_in_place():
    model = _generator("gru", True)
    rng = np.random.default_rng(0)
    x, _, _ = _batch(rng)
    logits, cache = model.forward(x, rng.integers(0, N, size=B))
    model.backward(rng.standard_normal(logits.shape), cache)
    grads = model.gradients()
    assert any(np.abs(g).max() > 0 for g in grads)
    model.zero_grad()
    after = model.gradients()
    assert all(g is h for g, h in zip(grads, after, strict=True))
    assert all(not g.any() for g in after)


def test_backward_accumulates_like_torch():
    model = _classifier("gru").eval()
    x, lengths, _ = _batch(np.random.default_rng(0))
    logits, cache = model.forward(x, lengths)
    d = np.random.default_rng(1).standard_normal(logits.shape)
    model.zero_grad()
    model.backward(d, cache)
    once = _grads(model)
    model.backward(d, cache)
    for name, g in _grads(model).items():
        np.testing.assert_allclose(g, 2 * once[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("build", CONTAINER_MODELS)
def test_train_eval_propagate_to_children(build):
    model = build()
    assert all(m.training for _, m in model.named_modules())
    assert model.eval() is model
    assert not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())
    model.train(False)
    assert not any(m.training for _, m in model.named_modules())


@needs_torch
@pytest.mark.parametrize("build", CONTAINER_MODELS)
def test_numpy_torch_numpy_round_trip(build):
    model = build().eval()
    twin = to_torch_model(model)  # one call
    other = build()
    for _, p, _ in other.named_parameters():
        p += 1.0  # make sure every value really is overwritten
    load_numpy_from_torch(other, twin)  # one call back
    for name, p, _ in model.named_parameters():
        q = other.state_dict()[name]
        assert q.dtype == p.dtype and np.array_equal(q, p), name
    other.eval()
    rng = np.random.default_rng(0)
    x, lengths, _ = _batch(rng)
    if isinstance(model, SurnameClassifier):
        args = (x, lengths)
    else:
        args = (x, rng.integers(0, N, size=B) if model.conditioned else None)
    assert np.array_equal(model(*args), other(*args))


@needs_torch
def test_to_torch_model_keeps_mode_and_dtype():
    torch = pytest.importorskip("torch")
    model = _classifier("gru", dtype=np.float32)
    twin = to_torch_model(model)
    assert twin.training
    assert all(p.dtype == torch.float32 for p in twin.parameters())
    assert not to_torch_model(model.eval()).training


# ---------------------------------------------------------------------------
# dropout randomness comes from the model's Generator
# ---------------------------------------------------------------------------
def _model_inputs(model, rng):
    x, lengths, _ = _batch(rng, batch=4, steps=5)
    if isinstance(model, SurnameClassifier):
        return x, lengths
    return x, (rng.integers(0, N, size=4) if model.conditioned else None)


DROPOUT_MODELS = [
    pytest.param(lambda seed: _classifier("gru", seed=seed, dropout_p=0.5), id="classifier"),
    pytest.param(lambda seed: _generator("lstm", True, seed=seed, dropout_p=0.5),
                 id="generator"),
]


@pytest.mark.parametrize("build", DROPOUT_MODELS)
def test_dropout_same_seed_same_outputs(build):
    a, b = build(11), build(11)
    args = _model_inputs(a, np.random.default_rng(0))
    outs_a = [a(*args) for _ in range(3)]
    outs_b = [b(*args) for _ in range(3)]
    for ya, yb in zip(outs_a, outs_b, strict=True):
        assert np.array_equal(ya, yb)
    # fresh masks on every forward: training outputs change from call to call
    assert not np.array_equal(outs_a[0], outs_a[1])


@pytest.mark.parametrize("build", DROPOUT_MODELS)
def test_dropout_draws_only_from_the_model_generator(build):
    model = build(3)
    gens = [m.rng for _, m in model.named_modules()
            if isinstance(getattr(m, "rng", None), np.random.Generator)]
    # one Generator for the whole model (dropouts and the RNN's inter-layer dropout), so
    # saving that one Generator's state (NumpyBackend.rng_state) captures all randomness
    assert len(gens) >= 2 and len({id(g) for g in gens}) == 1
    args = _model_inputs(model, np.random.default_rng(0))
    np.random.seed(0)
    global_before = np.random.get_state()[1].copy()
    y1 = model(*args)
    # re-seeding the model's Generator replays the masks; the global state is untouched
    drop = next(m for _, m in model.named_modules() if isinstance(m, Dropout))
    state = drop.rng.bit_generator.state
    y2 = model(*args)
    drop.rng.bit_generator.state = state
    y3 = model(*args)
    assert np.array_equal(y2, y3)
    assert not np.array_equal(y1, y2)
    assert np.array_equal(np.random.get_state()[1], global_before)


@pytest.mark.parametrize("build", DROPOUT_MODELS)
def test_eval_mode_has_no_randomness(build):
    a, b = build(1), build(1)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    args = _model_inputs(a, np.random.default_rng(0))
    drop = next(m for _, m in a.named_modules() if isinstance(m, Dropout))
    state = drop.rng.bit_generator.state
    y = a(*args)
    assert np.array_equal(y, a(*args))
    assert drop.rng.bit_generator.state == state  # nothing drawn
    assert np.array_equal(y, b(*args))
    # and eval equals training with p = 0
    c = build(1)
    for _, m in c.named_modules():
        if isinstance(m, Dropout):
            m.p = 0.0
    c.load_state_dict(a.state_dict())
    assert np.array_equal(y, c(*args))


@needs_torch
def test_trajectory_twin_trains_in_training_mode_without_dropout(monkeypatch):
    """cuDNN runs an RNN's backward only in training mode: the twin must be in it, with
    every dropout off so that it still computes what the NumPy model's eval mode does."""
    import parity.trajectory as traj

    seen = []
    convert = traj.to_torch_model
    monkeypatch.setattr(traj, "to_torch_model", lambda m, d: seen.append(convert(m, d)) or seen[-1])
    model = SurnameClassifier(8, VOCAB, CLASSES, 10, cell="lstm", num_layers=2, dropout_p=0.5,
                              dtype=np.float64, rng=0)
    result = traj.run_trajectory(model, steps=5)
    twin = seen[0]
    assert twin.training and all(m.training for m in twin.modules())
    assert twin.dropout_p == 0.0
    import torch

    rnns = [m for m in twin.modules() if isinstance(m, torch.nn.RNNBase)]
    assert rnns and all(m.dropout == 0.0 for m in rnns)
    assert result["max_rel_diff_loss"] <= PARITY_TOL


@given(cell=st.sampled_from(["elman", "lstm", "gru"]), layers=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**16))
def test_one_direction_classifier_runs_unmasked_with_the_same_numbers(cell, layers, seed):
    """Lab 1 runs a one-directional RNN over whole padded rows (as the book's model):
    the logits and every gradient equal, bit for bit, those of the masked
    (packed-sequence) run it replaces — the recurrence is causal and no loss sits on a
    padded step. A bidirectional classifier still passes the lengths."""
    rng = np.random.default_rng(seed)
    B, T = 5, 7
    lengths = rng.integers(1, T + 1, B)
    x = rng.integers(1, 12, (B, T))
    x[np.arange(T)[None, :] >= lengths[:, None]] = 0  # padding after each surname
    d_logits = rng.standard_normal((B, 4)).astype(np.float32)
    runs = []
    for masked in (False, True):
        m = SurnameClassifier(6, 12, 4, 5, cell=cell, num_layers=layers, rng=seed)
        seen = []
        forward = m.rnn.forward

        def rnn_forward(x_emb, hx=None, lengths_=None, *a, _f=forward, _seen=seen,
                        _masked=masked, **kw):
            lengths_ = kw.pop("lengths", lengths_)
            _seen.append(lengths_)
            return _f(x_emb, hx, lengths if _masked else lengths_, *a, **kw)

        m.rnn.forward = rnn_forward
        logits, cache = m.forward(x, lengths)
        m.backward(d_logits, cache)
        assert seen == [None]  # the model itself passes no lengths with one direction
        runs.append((logits, {n: g.copy() for n, _, g in m.named_parameters()}))
    (l1, g1), (l2, g2) = runs
    np.testing.assert_array_equal(l1, l2)
    for k in g2:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)
