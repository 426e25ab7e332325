"""scratchrnn.optim: parity with torch.optim, state dicts, clipping, the plateau scheduler."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.module import Module
from scratchrnn.optim import SGD, Adam, AdamW, ReduceLROnPlateau, clip_grad_norm
from tests.conftest import PARITY_TOL, seeds

TOL32 = 1e-4


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# -- strategies -----------------------------------------------------------------------
shape_st = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
shapes_st = st.lists(shape_st, min_size=1, max_size=3)
grad_scale_st = st.sampled_from([1e-3, 1.0, 1e3])


@st.composite
def sgd_options(draw):
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 0.99))
    nesterov = momentum > 0 and draw(st.booleans())
    return {
        "lr": draw(st.floats(0.0, 1.0)),
        "momentum": momentum,
        "dampening": 0.0 if nesterov else draw(st.sampled_from([0.0, 0.5]) | st.floats(0, 1)),
        "weight_decay": draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
        "nesterov": nesterov,
        "maximize": draw(st.booleans()),
    }


@st.composite
def adam_options(draw):
    return {
        "lr": draw(st.floats(0.0, 0.5)),
        "betas": (draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
        "eps": draw(st.sampled_from([1e-8, 1e-3]) | st.floats(1e-10, 1e-2)),
        "weight_decay": draw(st.sampled_from([0.0, 0.01]) | st.floats(0.0, 0.5)),
        "amsgrad": draw(st.booleans()),
        "maximize": draw(st.booleans()),
    }


@st.composite
def optimizer_case(draw):
    name = draw(st.sampled_from(["SGD", "Adam", "AdamW"]))
    options = draw(sgd_options() if name == "SGD" else adam_options())
    return name, options


OPTIMIZERS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}


def make_triples(shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (f"p{i}", rng.standard_normal(s).astype(dtype), np.zeros(s, dtype=dtype))
        for i, s in enumerate(shapes)
    ]


def tiny_model(dtype=np.float64, seed=0) -> Module:
    rng = np.random.default_rng(seed)
    model = Module()
    model.add_param("weight", rng.standard_normal((3, 2)).astype(dtype))
    child = model.add_module("fc", Module())
    child.add_param("bias", rng.standard_normal(3).astype(dtype))
    return model


# -- parity with torch ------------------------------------------------------------------
@given(
    case=optimizer_case(),
    shapes=shapes_st,
    steps=st.integers(1, 5),
    seed=seeds,
    grad_scale=grad_scale_st,
    scheduled=st.booleans(),
)
def test_optimizer_parity_float64(torch, case, shapes, steps, seed, grad_scale, scheduled):
    from parity.optim import compare_optimizer

    name, options = case
    lrs = [0.1 * 0.5**t for t in range(steps)] if scheduled else None
    row = compare_optimizer(
        name, options, shapes, steps, "float64", seed, lrs=lrs, grad_scale=grad_scale
    )
    assert row["max_rel_diff_output"] <= PARITY_TOL, row
    assert row["max_rel_diff_grad"] <= PARITY_TOL, row


@given(case=optimizer_case(), shapes=shapes_st, steps=st.integers(1, 4), seed=seeds)
def test_optimizer_parity_float32(torch, case, shapes, steps, seed):
    from parity.optim import compare_optimizer

    name, options = case
    row = compare_optimizer(name, options, shapes, steps, "float32", seed)
    assert row["max_rel_diff_output"] <= TOL32, row
    assert row["max_rel_diff_grad"] <= TOL32, row


def test_optim_rows_cover_every_option_within_tolerance(torch):
    from parity.optim import optim_rows

    rows = optim_rows(seed=3)
    cells = {(r["cell"], r["dtype"]) for r in rows}
    for cell in ["SGD(momentum,nesterov)", "Adam(amsgrad)", "AdamW", "clip_grad_norm(p=inf)"]:
        assert (cell, "float64") in cells and (cell, "float32") in cells
    assert ("ReduceLROnPlateau(cooldown)", "float64") in cells
    for r in rows:
        tol = PARITY_TOL if r["dtype"] == "float64" else TOL32
        assert set(r) == {
            "group",
            "cell",
            "config",
            "dtype",
            "max_rel_diff_output",
            "max_rel_diff_grad",
        }
        assert r["group"] == "optim"
        assert r["max_rel_diff_output"] <= tol, r
        assert r["max_rel_diff_grad"] <= tol, r


# -- torch-free checks of the update equations ---------------------------------------------
def test_sgd_momentum_first_buffer_is_the_undampened_gradient():
    ((name, p, g),) = make_triples([(3,)])
    p0 = p.copy()
    opt = SGD([(name, p, g)], lr=0.5, momentum=0.9, dampening=0.5)
    g1 = np.array([1.0, -2.0, 3.0])
    g[...] = g1
    opt.step()
    np.testing.assert_array_equal(opt.state[name]["momentum_buffer"], g1)
    np.testing.assert_allclose(p, p0 - 0.5 * g1, rtol=0, atol=1e-15)
    g2 = np.array([0.5, 0.5, -1.0])
    g[...] = g2
    opt.step()
    buf = 0.9 * g1 + 0.5 * g2
    np.testing.assert_allclose(opt.state[name]["momentum_buffer"], buf, rtol=0, atol=1e-15)
    np.testing.assert_allclose(p, p0 - 0.5 * g1 - 0.5 * buf, rtol=0, atol=1e-14)


@given(seed=seeds, lr=st.floats(1e-4, 1.0), eps=st.floats(1e-10, 1e-2))
def test_adam_first_step_is_lr_times_normalised_gradient(seed, lr, eps):
    # m̂_1 = g and sqrt(v̂_1) = |g|, so θ_1 = θ_0 - lr g / (|g| + eps).
    ((name, p, g),) = make_triples([(2, 3)], seed=seed)
    p0 = p.copy()
    g[...] = np.random.default_rng(seed + 1).standard_normal(g.shape)
    Adam([(name, p, g)], lr=lr, eps=eps).step()
    np.testing.assert_allclose(p, p0 - lr * g / (np.abs(g) + eps), rtol=1e-12, atol=1e-15)


def test_weight_decay_defaults_are_torchs_and_positional_order_is_torchs():
    triples = make_triples([(3,)])
    assert Adam(triples).weight_decay == 0.0
    assert AdamW(triples).weight_decay == 1e-2
    assert AdamW(triples, weight_decay=0.0).weight_decay == 0.0
    # torch's positional order: params, lr, betas, eps, weight_decay, amsgrad
    opt = AdamW(triples, 0.5, (0.8, 0.9), 1e-6, 0.25, True)
    assert opt.hyperparameters() == {
        "lr": 0.5, "betas": [0.8, 0.9], "eps": 1e-6, "weight_decay": 0.25,
        "amsgrad": True, "maximize": False,
    }


@given(seed=seeds, wd=st.floats(0.01, 1.0))
def test_adamw_is_weight_decay_then_the_plain_adam_update(seed, wd):
    # Adam's update does not depend on θ, so AdamW = θ (1 - lr λ) + (Adam's shift).
    # Adam's L2 weight decay instead enters the normalised gradient: a different step.
    ((name, p0, g),) = make_triples([(5,)], seed=seed)
    g[...] = np.random.default_rng(seed + 1).standard_normal(g.shape)
    pw, pa, pl = p0.copy(), p0.copy(), p0.copy()
    AdamW([(name, pw, g)], lr=0.1, weight_decay=wd).step()
    Adam([(name, pa, g)], lr=0.1).step()
    Adam([(name, pl, g)], lr=0.1, weight_decay=wd).step()
    np.testing.assert_allclose(pw, p0 * (1 - 0.1 * wd) + (pa - p0), rtol=1e-12, atol=1e-15)
    assert not np.allclose(pw, pl, rtol=1e-6, atol=0)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_float32_stays_float32(cls):
    triples = make_triples([(3, 2), (2,)], dtype=np.float32)
    opt = (
        cls(triples, lr=0.1, weight_decay=0.1)
        if cls is not SGD
        else cls(triples, lr=0.1, momentum=0.9, weight_decay=0.1)
    )
    before = [p.copy() for _, p, _ in triples]
    for _, _, g in triples:
        g[...] = 1.5
    opt.step()
    opt.step()
    for (name, p, _), p0 in zip(triples, before, strict=True):
        assert (p != p0).all()  # updated in place
        assert set(opt.state[name]) and all(b.dtype == np.float32 for b in opt.state[name].values())


def test_optimizer_from_module_updates_its_parameters_in_place_and_zero_grad():
    model = tiny_model()
    names = [n for n, _, _ in model.named_parameters()]
    opt = SGD(model, lr=0.1)
    assert opt.names == names == ["weight", "fc.bias"]
    before = {n: p.copy() for n, p, _ in model.named_parameters()}
    for _, _, g in model.named_parameters():
        g[...] = 1.0
    opt.step()
    for n, p, _ in model.named_parameters():
        np.testing.assert_allclose(p, before[n] - 0.1)
    opt.zero_grad()
    for _, _, g in model.named_parameters():
        assert not g.any()


def test_changing_lr_between_steps_takes_effect():
    ((name, p, g),) = make_triples([(2,)])
    p0 = p.copy()
    opt = SGD([(name, p, g)], lr=1.0)
    g[...] = 1.0
    opt.lr = 0.25
    opt.step()
    np.testing.assert_allclose(p, p0 - 0.25)
    opt.lr = 0.0
    opt.step()
    np.testing.assert_allclose(p, p0 - 0.25)


# -- state dicts ----------------------------------------------------------------------------
def _through_checkpoint(sd):
    """What a checkpoint writer does: arrays to .npz, the rest to strict JSON."""
    buf = io.BytesIO()
    np.savez(buf, **sd["buffers"])
    buf.seek(0)
    meta = json.loads(json.dumps({k: v for k, v in sd.items() if k != "buffers"}, allow_nan=False))
    with np.load(buf) as z:
        return {**meta, "buffers": {k: z[k] for k in z.files}}


@given(
    case=optimizer_case(),
    shapes=shapes_st,
    k=st.integers(0, 4),
    n=st.integers(1, 4),
    seed=seeds,
)
def test_state_dict_round_trip_continues_identically(case, shapes, k, n, seed):
    name, options = case
    cls = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    triples = make_triples(shapes, seed=seed)
    a = cls(triples, **options)
    for _ in range(k):
        for _, _, g in triples:
            g[...] = rng.standard_normal(g.shape)
        a.step()
    sd = a.state_dict()
    params_at_k = [p.copy() for _, p, _ in triples]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(n)]
    for step_grads in grads:  # a keeps going; sd must be a snapshot, not a view
        for (_, _, g), new in zip(triples, step_grads, strict=True):
            g[...] = new
        a.step()

    b_triples = [
        (nm, p.copy(), np.zeros_like(p)) for (nm, _, _), p in zip(triples, params_at_k, strict=True)
    ]
    b = cls(b_triples, lr=0.123)  # other hyperparameters: load must restore them
    b.load_state_dict(_through_checkpoint(sd))
    assert b.lr == options["lr"] and b.step_count == k
    for step_grads in grads:
        for (_, _, g), new in zip(b_triples, step_grads, strict=True):
            g[...] = new
        b.step()
    for (nm, pa, _), (_, pb, _) in zip(triples, b_triples, strict=True):
        np.testing.assert_array_equal(pa, pb)
        assert set(a.state[nm]) == set(b.state[nm])
        for kind in a.state[nm]:
            np.testing.assert_array_equal(a.state[nm][kind], b.state[nm][kind])


def test_state_dict_format_keys_buffers_by_parameter_name():
    model = tiny_model()
    opt = Adam(model, lr=0.01, amsgrad=True)
    opt.step()
    sd = opt.state_dict()
    assert sd["type"] == "Adam" and sd["step"] == 1
    assert sd["hyper"] == {
        "lr": 0.01,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": True,
        "maximize": False,
    }
    assert sorted(sd["buffers"]) == sorted(
        f"{kind}/{n}"
        for kind in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        for n in ("weight", "fc.bias")
    )
    json.dumps({k: v for k, v in sd.items() if k != "buffers"}, allow_nan=False)


def _adam_sd():
    model = tiny_model()
    opt = Adam(model, lr=0.01)
    opt.step()
    return model, opt.state_dict()


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda sd: sd.update(type="SGD"),
        lambda sd: sd.update(param_names=["weight", "other"]),
        lambda sd: sd["buffers"].update({"exp_avg/weight": np.zeros((2, 3))}),
        lambda sd: sd["buffers"].update({"momentum/weight": np.zeros((3, 2))}),
        lambda sd: sd["buffers"].pop("exp_avg_sq/fc.bias"),
        lambda sd: sd["buffers"]["exp_avg_sq/weight"].__setitem__((0, 0), -1e-3),
        lambda sd: sd["buffers"]["exp_avg_sq/fc.bias"].__setitem__(0, np.nan),
        lambda sd: sd["hyper"].update(lr=-1.0),
        lambda sd: sd["hyper"].update(betas=[1.0, 0.9]),
        lambda sd: sd["hyper"].pop("eps"),
        lambda sd: sd.update(step=-1),
        lambda sd: sd.pop("step"),
    ],
)
def test_load_state_dict_rejects_bad_state_and_changes_nothing(corrupt):
    model, sd = _adam_sd()
    corrupt(sd)
    opt = Adam(model, lr=0.5, betas=(0.8, 0.9))
    with pytest.raises(ValueError):
        opt.load_state_dict(sd)
    assert opt.lr == 0.5 and opt.betas == (0.8, 0.9) and opt.step_count == 0
    assert all(not s for s in opt.state.values())


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda t: SGD(t, lr=-0.1),
        lambda t: SGD(t, lr=float("nan")),
        lambda t: SGD(t, lr="0.1"),
        lambda t: SGD(t, lr=0.1, momentum=-0.5),
        lambda t: SGD(t, lr=0.1, weight_decay=-1.0),
        lambda t: SGD(t, lr=0.1, nesterov=True),
        lambda t: SGD(t, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda t: Adam(t, lr=-1e-3),
        lambda t: Adam(t, betas=(1.0, 0.999)),
        lambda t: Adam(t, betas=(0.9, -0.1)),
        lambda t: Adam(t, betas=(0.9,)),
        lambda t: Adam(t, eps=-1e-8),
        lambda t: Adam(t, weight_decay=-0.1),
        lambda t: AdamW(t, amsgrad=1),
    ],
)
def test_bad_hyperparameters_raise(make):
    with pytest.raises(ValueError):
        make(make_triples([(2,)]))


@pytest.mark.parametrize(
    "params",
    [
        [],
        [("a", np.zeros(2), np.zeros(3))],
        [("a", np.zeros(2), np.zeros(2, dtype=np.float32))],
        [("a", np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64))],
        [("a", np.zeros(2), np.zeros(2)), ("a", np.zeros(1), np.zeros(1))],
        [("a", [0.0, 1.0], np.zeros(2))],
        [("a", np.zeros(2))],
        np.zeros(3),
    ],
)
def test_bad_params_raise(params):
    with pytest.raises(ValueError):
        Adam(params)


def test_read_only_parameter_raises():
    p = np.zeros(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD([("a", p, np.zeros(2))], lr=0.1)


def test_bad_hyperparameters_set_later_raise():
    opt = SGD(make_triples([(2,)]), lr=0.1)
    with pytest.raises(ValueError):
        opt.lr = -1.0
    opt.momentum = -0.1
    with pytest.raises(ValueError, match="momentum"):
        opt.step()


# -- clip_grad_norm ---------------------------------------------------------------------------
@given(
    shapes=shapes_st,
    max_norm=st.floats(1e-3, 10.0),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, 0.5, math.inf]),
    seed=seeds,
    grad_scale=grad_scale_st,
)
def test_clip_grad_norm_parity(torch, shapes, max_norm, norm_type, seed, grad_scale):
    from parity.optim import compare_clip_grad_norm

    for dtype, tol in (("float64", PARITY_TOL), ("float32", TOL32)):
        row = compare_clip_grad_norm(max_norm, norm_type, shapes, dtype, seed, grad_scale)
        assert row["max_rel_diff_output"] <= tol, row
        assert row["max_rel_diff_grad"] <= tol, row


@given(shapes=shapes_st, seed=seeds, norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clip_grad_norm_under_max_changes_nothing(shapes, seed, norm_type):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s) for s in shapes]
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.linalg.norm(flat, ord=norm_type)
    before = [g.copy() for g in grads]
    total = clip_grad_norm(grads, max_norm=expected * 1.01 + 1e-5, norm_type=norm_type)
    assert total == pytest.approx(expected, rel=1e-12)
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_array_equal(g, b)


@given(
    shapes=shapes_st,
    seed=seeds,
    max_norm=st.floats(1e-3, 0.9),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_clip_grad_norm_over_max_scales_to_max_norm(shapes, seed, max_norm, norm_type):
    rng = np.random.default_rng(seed)
    # every entry >= 1, so every p-norm >= 1 > max_norm
    grads = [np.asarray(np.abs(rng.standard_normal(s)) + 1.0) for s in shapes]
    before = [g.copy() for g in grads]
    total = clip_grad_norm(grads, max_norm, norm_type)
    assert total > max_norm
    after = np.linalg.norm(np.concatenate([g.ravel() for g in grads]), ord=norm_type)
    assert max_norm - 1e-6 <= after <= max_norm * (1 + 1e-12)
    scale = after / total
    for g, b in zip(grads, before, strict=True):
        np.testing.assert_allclose(g, b * scale, rtol=1e-12)


def test_clip_grad_norm_accepts_module_and_optimizer():
    model = tiny_model()
    for _, _, g in model.named_parameters():
        g[...] = 3.0
    total = clip_grad_norm(model, 1.0)
    assert total == pytest.approx(3.0 * math.sqrt(9))
    assert np.linalg.norm(np.concatenate([g.ravel() for g in model.gradients()])) == pytest.approx(
        1.0, abs=1e-6
    )
    opt = SGD(model, lr=0.1)
    assert clip_grad_norm(opt, 0.1, norm_type="inf") == pytest.approx(1.0 / 3.0)
    assert max(np.abs(g).max() for g in model.gradients()) == pytest.approx(0.1, abs=1e-6)


def test_clip_grad_norm_empty_and_nonfinite():
    assert clip_grad_norm([], 1.0) == 0.0
    grads = [np.array([1.0, np.nan]), np.array([2.0])]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm(grads, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(grads[1], [2.0])  # nothing scaled when raising
    assert math.isnan(clip_grad_norm(grads, 1.0))
    assert all(np.isnan(g).all() for g in grads)  # torch multiplies by the NaN coefficient


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_norm": -1.0},
        {"max_norm": float("nan")},
        {"max_norm": 1.0, "norm_type": 0.0},
        {"max_norm": 1.0, "norm_type": -2.0},
        {"max_norm": 1.0, "norm_type": "two"},
    ],
)
def test_clip_grad_norm_bad_input(kwargs):
    with pytest.raises(ValueError):
        clip_grad_norm([np.ones(3)], **kwargs)
    with pytest.raises(ValueError):
        clip_grad_norm([[1.0, 2.0]], 1.0)


# -- ReduceLROnPlateau -----------------------------------------------------------------------
@st.composite
def scheduler_options(draw):
    return {
        "mode": draw(st.sampled_from(["min", "max"])),
        "factor": draw(st.sampled_from([0.1, 0.5]) | st.floats(0.0, 0.99)),
        "patience": draw(st.integers(0, 3)),
        "threshold": draw(st.sampled_from([0.0, 1e-4, 0.1]) | st.floats(0.0, 0.5)),
        "threshold_mode": draw(st.sampled_from(["rel", "abs"])),
        "cooldown": draw(st.integers(0, 3)),
        "min_lr": draw(st.sampled_from([0.0, 1e-3]) | st.floats(0.0, 0.05)),
        "eps": draw(st.sampled_from([1e-8, 0.0, 1e-3])),
    }


metrics_st = st.lists(
    st.integers(-3, 3).map(float) | st.floats(-5.0, 5.0) | st.just(float("nan")),
    min_size=1,
    max_size=30,
)


@given(options=scheduler_options(), metrics=metrics_st, lr=st.floats(1e-6, 1.0))
def test_scheduler_parity(torch, options, metrics, lr):
    from parity.optim import compare_reduce_lr_on_plateau

    row = compare_reduce_lr_on_plateau(metrics, options, lr=lr)
    assert row["max_rel_diff_output"] == 0.0, row


def _scheduler(lr=0.1, **options):
    opt = SGD(make_triples([(1,)]), lr=lr)
    return opt, ReduceLROnPlateau(opt, **options)


@given(options=scheduler_options(), metrics=metrics_st, lr=st.floats(0.05, 1.0))
def test_scheduler_lr_only_decreases_by_factor_down_to_min_lr(options, metrics, lr):
    opt, sched = _scheduler(lr, **options)
    prev = lr
    for m in metrics:
        new = sched.step(m)
        assert new == opt.lr == sched.get_last_lr()[0]
        assert new in (prev, max(prev * options["factor"], options["min_lr"]))
        assert new >= options["min_lr"]
        prev = new


@given(patience=st.integers(0, 4), cooldown=st.integers(0, 3), metric=st.floats(0, 10))
def test_scheduler_constant_metric_reduces_on_schedule(patience, cooldown, metric):
    # (a metric >= 0: in rel mode torch counts a constant *negative* loss as improving,
    # since best (1 - threshold) > best there; the parity test covers that case)
    opt, sched = _scheduler(1.0, patience=patience, cooldown=cooldown, factor=0.5, eps=0.0)
    reductions = []
    for epoch in range(1, 30):
        before = opt.lr
        sched.step(metric)
        if opt.lr < before:
            reductions.append(epoch)
    # epoch 1 sets best; patience + 1 bad epochs later the lr drops; then each drop
    # waits out the cooldown plus patience + 1 further bad epochs.
    expected = list(range(patience + 2, 30, cooldown + patience + 1))
    assert reductions == expected


@given(options=scheduler_options(), metrics=st.lists(st.floats(-5, 5), min_size=1, max_size=25))
def test_scheduler_max_mode_is_min_mode_on_negated_metric(options, metrics):
    options = {**options, "threshold_mode": "abs"}
    opt_min, s_min = _scheduler(0.5, **{**options, "mode": "min"})
    opt_max, s_max = _scheduler(0.5, **{**options, "mode": "max"})
    for m in metrics:
        assert s_min.step(m) == s_max.step(-m)


def test_scheduler_eps_rule_skips_tiny_reductions():
    opt, sched = _scheduler(1e-6, patience=0, eps=1e-8)
    lrs = [sched.step(1.0) for _ in range(8)]
    # 1e-6 -> 1e-7 -> 1e-8, then 1e-8 - 1e-9 < eps: no further change
    assert lrs[1] == pytest.approx(1e-7) and lrs[2] == pytest.approx(1e-8)
    assert lrs[3:] == [lrs[2]] * 5


@given(options=scheduler_options(), metrics=metrics_st, split=st.integers(0, 30))
def test_scheduler_state_dict_json_round_trip(options, metrics, split):
    split = min(split, len(metrics))
    opt_a, a = _scheduler(0.3, **options)
    for m in metrics[:split]:
        a.step(m)
    sd = json.loads(json.dumps(a.state_dict(), allow_nan=False))
    opt_b, b = _scheduler(opt_a.lr)  # default options: load must restore them
    b.load_state_dict(sd)
    for m in metrics[split:]:
        assert a.step(m) == b.step(m)
        assert (a.num_bad_epochs, a.cooldown_counter, a.last_epoch) == (
            b.num_bad_epochs,
            b.cooldown_counter,
            b.last_epoch,
        )
    assert a.best == b.best or (math.isnan(a.best) and math.isnan(b.best))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"factor": 1.0},
        {"factor": -0.1},
        {"mode": "avg"},
        {"threshold_mode": "relative"},
        {"patience": -1},
        {"patience": 1.5},
        {"cooldown": -1},
        {"min_lr": -0.1},
        {"threshold": -1e-4},
        {"eps": -1.0},
    ],
)
def test_scheduler_bad_input(kwargs):
    opt = SGD(make_triples([(1,)]), lr=0.1)
    with pytest.raises(ValueError):
        ReduceLROnPlateau(opt, **kwargs)


def test_scheduler_bad_optimizer_metric_and_state():
    with pytest.raises(ValueError):
        ReduceLROnPlateau(object())
    _, sched = _scheduler()
    for bad in ("0.5", None, [1.0]):
        with pytest.raises(ValueError):
            sched.step(bad)
    sd = sched.state_dict()
    with pytest.raises(ValueError):
        sched.load_state_dict({**sd, "factor": 2.0})
    with pytest.raises(ValueError):
        sched.load_state_dict({k: v for k, v in sd.items() if k != "best"})
    assert sched.factor == 0.1
