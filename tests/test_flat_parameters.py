"""Flat parameter buffers: Module.flatten_parameters, and the optimizers, clipping and the
NumPy backend on them giving bit for bit what they give parameter by parameter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.backend import LossSpec, NumpyBackend, _gradient_norm, spec_loss_and_grad
from scratchrnn.models import SurnameClassifier
from scratchrnn.module import Module
from scratchrnn.optim import SGD, Adam, AdamW, clip_grad_norm
from tests.conftest import seeds
from tests.test_optim import adam_options, sgd_options

OPTIMIZERS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}
dtypes = st.sampled_from([np.float32, np.float64])
# (owner, shape): owner 0 is the root, 1 its child "a", 2 the grandchild "a.b"; () is 0-d
param_specs = st.lists(
    st.tuples(st.integers(0, 2), st.lists(st.integers(0, 4), max_size=3).map(tuple)),
    min_size=1, max_size=6)


def tree(specs, dtype, seed: int) -> Module:
    """A root, its child ``a`` and grandchild ``a.b``, with random parameters and gradients."""
    rng = np.random.default_rng(seed)
    root = Module()
    a = root.add_module("a", Module())
    b = a.add_module("b", Module())
    owners = (root, a, b)
    for i, (owner, shape) in enumerate(specs):
        owners[owner].add_param(f"w{i}", rng.standard_normal(shape).astype(dtype))
        owners[owner].grads[f"w{i}"][...] = rng.standard_normal(shape)
    return root


def same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


def params_of(model: Module) -> dict[str, np.ndarray]:
    return {name: p for name, p, _ in model.named_parameters()}


# -- Module.flatten_parameters ----------------------------------------------------------
@given(specs=param_specs, dtype=dtypes, seed=seeds)
def test_flatten_keeps_everything_and_makes_views(specs, dtype, seed):
    model = tree(specs, dtype, seed)
    before = [(name, p.copy(), g.copy()) for name, p, g in model.named_parameters()]
    assert model.flat_parameters() is None
    assert model.flatten_parameters() is True
    P, G = model.flat_parameters()
    assert P.ndim == G.ndim == 1 and P.dtype == G.dtype == np.dtype(dtype)
    assert P.size == sum(p.size for _, p, _ in before)
    after = list(model.named_parameters())
    assert [name for name, _, _ in after] == [name for name, _, _ in before]
    for (_, p0, g0), (_, p, g) in zip(before, after, strict=True):
        assert same_bits(p, p0) and same_bits(g, g0)
        assert p.flags.c_contiguous and g.flags.c_contiguous
        assert p.base is P and g.base is G
    assert same_bits(P, np.concatenate([p.ravel() for _, p, _ in before]))
    assert same_bits(G, np.concatenate([g.ravel() for _, _, g in before]))
    # the arrays in the dicts are views: writing through them writes P and G
    for _, p, g in after:
        p[...] = 7
        g[...] = -7
    assert (P == 7).all() and (G == -7).all()
    model.zero_grad()
    assert (G == 0).all()
    # idempotent: the same buffers, the same views
    assert model.flatten_parameters() is True
    P2, G2 = model.flat_parameters()
    assert P2 is P and G2 is G
    assert all(p is q for (_, p, _), (_, q, _) in zip(after, model.named_parameters(),
                                                       strict=True))


def test_flatten_refuses_mixed_dtypes_and_no_parameters():
    model = tree([(0, (2, 3)), (1, (3,))], np.float64, 0)
    model.children["a"].params["w1"] = model.children["a"].params["w1"].astype(np.float32)
    model.children["a"].grads["w1"] = model.children["a"].grads["w1"].astype(np.float32)
    before = [(p, g) for _, p, g in model.named_parameters()]
    assert model.flatten_parameters() is False
    assert model.flat_parameters() is None
    assert all(p is p0 and g is g0 for (p0, g0), (_, p, g) in
               zip(before, model.named_parameters(), strict=True))
    assert Module().flatten_parameters() is False


@pytest.mark.parametrize("change", ["param", "grad", "add", "remove", "copy"])
def test_flat_parameters_none_once_an_entry_is_replaced(change):
    import copy

    model = tree([(0, (2, 3)), (2, (3,)), (1, ())], np.float64, 1)
    assert model.flatten_parameters()
    a = model.children["a"]
    if change == "param":
        a.params["w2"] = a.params["w2"].copy()
    elif change == "grad":
        a.grads["w2"] = a.grads["w2"].copy()
    elif change == "add":
        a.add_param("extra", np.zeros(2))
    elif change == "remove":
        del a.params["w2"], a.grads["w2"]
    else:
        model = copy.deepcopy(model)  # the copies are arrays of their own, not views
    assert model.flat_parameters() is None
    assert model.flatten_parameters() is True  # flattening again makes it flat
    assert model.flat_parameters() is not None


# -- optimizers and clipping: flat bit for bit as per parameter ----------------------
@st.composite
def optimizer_runs(draw):
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    options = draw(sgd_options() if name == "SGD" else adam_options())
    steps = draw(st.lists(st.tuples(st.booleans(), st.sampled_from([None, 0.5, 10.0])),
                          min_size=1, max_size=5))  # (zero the grads first?, clip to)
    return name, options, steps


def twins(specs, dtype, seed):
    """Two identical models, the first flattened."""
    flat, plain = tree(specs, dtype, seed), tree(specs, dtype, seed)
    assert flat.flatten_parameters()
    return flat, plain


def feed(models, rng, zero: bool) -> None:
    """Add the same random gradient into every model (after zeroing, if ``zero``)."""
    new = [rng.standard_normal(g.shape) for g in models[0].gradients()]
    for model in models:
        if zero:
            model.zero_grad()
        for g, d in zip(model.gradients(), new, strict=True):
            g += d.astype(g.dtype)


def assert_same(flat_model, plain_model, flat_opt, plain_opt):
    for (name, p, g), (_, q, h) in zip(flat_model.named_parameters(),
                                       plain_model.named_parameters(), strict=True):
        assert same_bits(p, q), name
        assert same_bits(g, h), name
    a, b = flat_opt.state_dict(), plain_opt.state_dict()
    assert {k: v for k, v in a.items() if k != "buffers"} == \
        {k: v for k, v in b.items() if k != "buffers"}
    assert list(a["buffers"]) == list(b["buffers"])
    for key in a["buffers"]:
        assert same_bits(a["buffers"][key], b["buffers"][key]), key


@given(run=optimizer_runs(), specs=param_specs, dtype=dtypes, seed=seeds)
def test_flat_updates_equal_per_parameter_bit_for_bit(run, specs, dtype, seed):
    name, options, steps = run
    flat, plain = twins(specs, dtype, seed)
    opt_flat, opt_plain = OPTIMIZERS[name](flat, **options), OPTIMIZERS[name](plain, **options)
    assert opt_flat.flat_parameters() is not None and opt_plain.flat_parameters() is None
    rng = np.random.default_rng(seed)
    for zero, clip in steps:
        feed((flat, plain), rng, zero)
        if clip is not None:
            norms = clip_grad_norm(flat, clip), clip_grad_norm(plain, clip)
            assert norms[0] == norms[1] or np.isnan(norms).all()
        with np.errstate(all="ignore"):
            opt_flat.step()
            opt_plain.step()
        assert_same(flat, plain, opt_flat, opt_plain)
    P = flat.flat_parameters()[0]
    # each state entry is a view into one flat buffer per kind
    for kind in opt_flat.state[opt_flat.names[0]]:
        bases = {id(opt_flat.state[n][kind].base) for n in opt_flat.names}
        assert len(bases) == 1 and opt_flat.state[opt_flat.names[0]][kind].base.size == P.size
    opt_flat.zero_grad()
    assert (flat.flat_parameters()[1] == 0).all()


@given(run=optimizer_runs(), specs=param_specs, dtype=dtypes, seed=seeds,
       flat_first=st.booleans())
def test_state_dict_moves_between_flat_and_per_parameter(run, specs, dtype, seed,
                                                         flat_first):
    """A state dict saved by one path loads into the other (and into a fresh optimizer of
    its own path); all continue bit for bit alike."""
    name, options, steps = run
    flat, plain = twins(specs, dtype, seed)
    make = OPTIMIZERS[name]
    source_model = flat if flat_first else plain
    source = make(source_model, **options)
    rng = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for zero, _ in steps:
            feed((source_model,), rng, zero)
            source.step()
    saved = source.state_dict()
    (flat if not flat_first else plain).load_state_dict(source_model.state_dict())
    opt_flat, opt_plain = make(flat, **options), make(plain, **options)
    with np.errstate(all="ignore"):  # the fresh flat optimizer's own buffers, loaded over
        feed((flat,), np.random.default_rng(1), True)
        opt_flat.step()
    flat.load_state_dict(plain.state_dict())
    flat.zero_grad()
    plain.zero_grad()
    views = {n: dict(opt_flat.state[n]) for n in opt_flat.names}
    opt_flat.load_state_dict(saved)
    opt_plain.load_state_dict(saved)
    assert opt_flat.flat_parameters() is not None
    for n in opt_flat.names:  # copied into the views that were there, not replaced
        for kind, view in views[n].items():
            if kind in opt_flat.state[n]:
                assert opt_flat.state[n][kind] is view
    assert_same(flat, plain, opt_flat, opt_plain)
    with np.errstate(all="ignore"):
        for zero, _ in steps:
            feed((flat, plain), rng, zero)
            opt_flat.step()
            opt_plain.step()
    assert_same(flat, plain, opt_flat, opt_plain)


def test_flat_optimizer_falls_back_when_state_is_not_flat():
    """A replaced state entry, or loaded buffers only some parameters have, send the
    optimizer back to per-parameter updates, still alike."""
    specs = [(0, (3, 2)), (1, (4,)), (2, ())]
    rng = np.random.default_rng(0)
    for change in ("replace", "partial"):
        flat, plain = twins(specs, np.float64, 3)
        opt_flat, opt_plain = Adam(flat, lr=0.1), Adam(plain, lr=0.1)
        for _ in range(2):
            feed((flat, plain), rng, True)
            opt_flat.step()
            opt_plain.step()
        if change == "replace":
            for opt in (opt_flat, opt_plain):
                opt.state["w0"]["exp_avg"] = opt.state["w0"]["exp_avg"] * 0.5
        else:
            sd = opt_plain.state_dict()
            sd["buffers"]["max_exp_avg_sq/a.w1"] = np.full(4, 3.0)
            opt_flat.load_state_dict(sd)
            opt_plain.load_state_dict(sd)
        for _ in range(2):
            feed((flat, plain), rng, True)
            opt_flat.step()
            opt_plain.step()
        assert opt_flat.flat_parameters() is None
        assert_same(flat, plain, opt_flat, opt_plain)


def test_optimizer_on_non_consecutive_views_updates_per_parameter():
    P, G = np.arange(10.0), np.zeros(10)
    triples = [("a", P[5:].reshape(5, 1), G[5:].reshape(5, 1)), ("b", P[:5], G[:5])]
    assert SGD(triples, lr=0.1).flat_parameters() is None  # out of order
    assert SGD(triples[1:], lr=0.1).flat_parameters() is None  # not covering P
    assert SGD(triples[::-1], lr=0.1).flat_parameters() is not None


# -- where the optimizer's (P, G) come from: the Module, or the triples' memory ----------
def replace_entry(model: Module, k: int, how: str) -> None:
    """Rebind the k-th parameter of ``model`` (in ``named_parameters()`` order) to a copy,
    or to a fresh view of the same place of P: either way the Module no longer holds the
    views it made; only a copy moves the values out of P."""
    P = model.flat_parameters()[0]
    o = sum(p.size for p in model.parameters()[:k])  # θ_k's offset in P
    owner, name = [(m, n) for _, m in model.named_modules() for n in m.params][k]
    p = owner.params[name]
    owner.params[name] = p.copy() if how == "copy" else P[o:o + p.size].reshape(p.shape)


@pytest.mark.parametrize("source", ["module", "triples"])
@pytest.mark.parametrize("change", [None, "copy", "view"])
@given(run=optimizer_runs(), specs=param_specs, dtype=dtypes, seed=seeds, data=st.data())
def test_optimizer_finds_flat_buffers_from_its_source(run, specs, dtype, seed, source,
                                                      change, data):
    """Built from a Module, the optimizer runs flat exactly when the Module says it is
    flat (``Module.flat_parameters``), on the Module's own (P, G); built from triples, when
    their arrays are the consecutive views of one buffer (a copy breaks that, another view
    of the same place does not). Flat or not, it steps bit for bit as the per-parameter
    optimizer of an unflattened twin."""
    name, options, steps = run
    flat, plain = twins(specs, dtype, seed)
    P, G = flat.flat_parameters()
    if change is not None:
        replace_entry(flat, data.draw(st.integers(0, len(specs) - 1), label="k"), change)
        assert flat.flat_parameters() is None
    opt = OPTIMIZERS[name](flat if source == "module" else list(flat.named_parameters()),
                           **options)
    opt_plain = OPTIMIZERS[name](plain, **options)
    runs_flat = change is None if source == "module" else change != "copy"
    assert (opt.flat_parameters() is not None) == runs_flat
    if runs_flat:
        P_opt, G_opt = opt.flat_parameters()
        assert P_opt is P and G_opt is G
    rng = np.random.default_rng(seed)
    for zero, clip in steps:
        feed((flat, plain), rng, zero)
        if clip is not None:
            clip_grad_norm(opt, clip)
            clip_grad_norm(opt_plain, clip)
        with np.errstate(all="ignore"):
            opt.step()
            opt_plain.step()
        assert_same(flat, plain, opt, opt_plain)
    assert (opt.flat_parameters() is not None) == runs_flat
    # flat: each kind's state entries are views of one (N,) buffer; else arrays of their own
    for kind in opt.state[opt.names[0]]:
        bases = [opt.state[n][kind].base for n in opt.names]
        if runs_flat:
            assert all(b is bases[0] for b in bases) and bases[0].shape == P.shape
        else:
            assert all(b is None for b in bases)
    opt.zero_grad()
    assert all((g == 0).all() for g in opt.grads)


# -- the NumPy backend: a lab model's training steps ----------------------------------
class _Task:
    """Lab 1's inputs and loss on a random batch."""

    loss = LossSpec(weight=np.array([1.0, 2.0, 0.5]))

    def inputs(self, batch):
        return batch["x"], batch["lengths"]

    def targets(self, batch):
        return batch["y"]

    def loss_and_grad(self, logits, y):
        return spec_loss_and_grad(self.loss, logits, y)


@given(cell=st.sampled_from(["elman", "lstm", "gru"]), clip=st.sampled_from([None, 0.1]),
       bidirectional=st.booleans(), seed=seeds)
def test_backend_training_is_the_same_flat_or_not(cell, clip, bidirectional, seed):
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(3):
        lengths = rng.integers(1, 6, size=4)
        x = rng.integers(1, 7, size=(4, 5))
        x[np.arange(5)[None, :] >= lengths[:, None]] = 0
        batches.append({"x": x, "lengths": lengths, "y": rng.integers(0, 3, size=4)})

    def train(flatten: bool):
        model = SurnameClassifier(4, 7, 3, 5, cell=cell, bidirectional=bidirectional,
                                  rng=seed)
        if not flatten:
            model.flatten_parameters = lambda: False  # as if it could not
        backend = NumpyBackend(model, _Task(), lr=0.05, clip=clip)
        assert (model.flat_parameters() is not None) == flatten
        assert (backend.optimizer.flat_parameters() is not None) == flatten
        backend.train()
        losses = [backend.train_step(b)[0] for b in batches]
        assert backend.parameters_finite()
        return backend, losses

    (flat, losses_flat), (plain, losses_plain) = train(True), train(False)
    assert losses_flat == losses_plain
    for (name, p, _), (_, q, _) in zip(flat.model.named_parameters(),
                                       plain.model.named_parameters(), strict=True):
        assert same_bits(p, q), name
    flat.model.flat_parameters()[0][-1] = np.inf
    assert flat.parameters_finite() is False


def test_gradient_norm_overflowing_float32_falls_back_to_float64():
    model = tree([(0, (2,)), (1, (2,))], np.float32, 0)
    assert model.flatten_parameters()
    G = model.flat_parameters()[1]
    G[...] = [1.5e19, 0.0, 1.5e19, 0.0]  # each square fits float32, their sum does not
    assert np.isfinite(_gradient_norm(model, None))
    assert _gradient_norm(model, model.flat_parameters()) == _gradient_norm(model, None)
    G[1] = np.nan
    assert np.isnan(_gradient_norm(model, model.flat_parameters()))
