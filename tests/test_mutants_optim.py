"""Values of scratchrnn.optim that mutants of ``make mutate`` (docs/mutation.md) changed and no
other test read: the scheduler's boundaries (an improvement of exactly the threshold is none, a
reduction of exactly eps is skipped), its defaults and JSON round trip, what a loaded optimizer
state becomes, the flat buffers after a load, and the text of each refusal.
"""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.module import Module
from scratchrnn.optim import SGD, Adam, ReduceLROnPlateau, clip_grad_norm
from scratchrnn.optim.optimizers import Optimizer
from tests.test_optim import tiny_model


class _Lr:
    """The smallest thing a scheduler drives: a read/write ``lr``."""

    def __init__(self, lr: float) -> None:
        self.lr = lr


# -- ReduceLROnPlateau --------------------------------------------------------------------
def test_scheduler_defaults_are_torchs():
    s = ReduceLROnPlateau(_Lr(1.0))
    assert (s.mode, s.factor, s.patience, s.threshold, s.threshold_mode, s.cooldown,
            s.min_lr, s.eps) == ("min", 0.1, 10, 1e-4, "rel", 0, 0.0, 1e-8)


@pytest.mark.parametrize("mode, threshold_mode, best, edge", [
    ("min", "rel", 2.0, 1.0),   # best · (1 − 0.5)
    ("min", "abs", 2.0, 1.5),   # best − 0.5
    ("max", "rel", 2.0, 3.0),   # best · (1 + 0.5)
    ("max", "abs", 2.0, 2.5),   # best + 0.5
])
def test_an_improvement_of_exactly_the_threshold_is_none(mode, threshold_mode, best, edge):
    s = ReduceLROnPlateau(_Lr(1.0), mode=mode, threshold=0.5, threshold_mode=threshold_mode)
    assert not s.is_better(edge, best)
    beyond = edge - 0.25 if mode == "min" else edge + 0.25
    assert s.is_better(beyond, best)


def test_a_reduction_of_exactly_eps_is_skipped_and_one_above_is_made():
    opt = _Lr(1.0)
    s = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.5)
    s.step(1.0)
    assert s.step(1.0) == 1.0 and opt.lr == 1.0  # 1 − 0.5 = eps: skipped
    opt2 = _Lr(1.0)
    s2 = ReduceLROnPlateau(opt2, factor=0.5, patience=0, eps=0.25)
    s2.step(1.0)
    assert s2.step(1.0) == 0.5 and opt2.lr == 0.5


@given(st.sampled_from(["min", "max"]), st.lists(st.floats(-10, 10), max_size=6))
def test_scheduler_state_survives_strict_json(mode, metrics):
    opt = _Lr(1.0)
    s = ReduceLROnPlateau(opt, mode=mode, patience=1, factor=0.5)
    for m in metrics:
        s.step(m)
    text = json.dumps(s.state_dict(), allow_nan=False)
    t = ReduceLROnPlateau(_Lr(7.0), mode="min" if mode == "max" else "max", patience=4)
    t.load_state_dict(json.loads(text))
    for key in ("mode", "patience", "factor", "num_bad_epochs", "cooldown_counter",
                "last_epoch", "best", "last_lr"):
        assert getattr(t, key) == getattr(s, key), key
    assert t.get_last_lr() == [opt.lr]


def test_a_zero_d_array_metric_is_a_number():
    s = ReduceLROnPlateau(_Lr(1.0))
    s.step(np.array(3.0))
    assert s.best == 3.0
    with pytest.raises(ValueError, match=r"^metric must be a real number, got array\(\[3\.\]\)$"):
        s.step(np.array([3.0]))


def _sched_sd(**change):
    sd = ReduceLROnPlateau(_Lr(1.0)).state_dict()
    sd.update(change)
    return sd


@pytest.mark.parametrize("make, message", [
    (lambda: ReduceLROnPlateau(object()),
     r"^optimizer must have a numeric 'lr' attribute \(a scratchrnn Optimizer\), got object$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0), factor=-1), r"^factor must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0), patience=-1), r"^patience must be "),
    (lambda: ReduceLROnPlateau(_Lr(1.0), threshold=-1), r"^threshold must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0), cooldown=-1), r"^cooldown must be "),
    (lambda: ReduceLROnPlateau(_Lr(1.0), min_lr=-1), r"^min_lr must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0), eps=-1), r"^eps must be >= 0, got -1$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict([1]),
     r"^state must be a mapping, got list$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict(_sched_sd(type="StepLR")),
     r"^state_dict is for 'StepLR', not 'ReduceLROnPlateau'$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict(_sched_sd(last_epoch=-1)),
     r"^last_epoch must be "),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict(_sched_sd(best="big")),
     r"^best must be a number or 'inf'/'-inf'/'nan', got 'big'$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict(_sched_sd(best=True)),
     r"^best must be a number or 'inf'/'-inf'/'nan', got True$"),
    (lambda: ReduceLROnPlateau(_Lr(1.0)).load_state_dict(_sched_sd(last_lr=-1.0)),
     r"^last_lr must be >= 0, got -1.0$"),
])
def test_a_scheduler_refusal_names_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("text", ["inf", "-inf", "nan"])
def test_best_decodes_each_non_finite_spelling(text):
    s = ReduceLROnPlateau(_Lr(1.0))
    s.load_state_dict(_sched_sd(best=text))
    assert str(s.best) == text


# -- optimizers' load_state_dict ----------------------------------------------------------
def _adam_sd(amsgrad=False):
    model = tiny_model()
    opt = Adam(model, lr=0.01, amsgrad=amsgrad)
    opt.step()
    return model, opt.state_dict()


def test_loaded_betas_are_a_tuple_and_buffers_copies_in_the_params_dtype():
    model, sd = _adam_sd()
    sd = json.loads(json.dumps({k: v for k, v in sd.items() if k != "buffers"})) | {
        "buffers": {k: v.astype(np.float32) for k, v in sd["buffers"].items()}}
    sd["hyper"]["betas"] = [0.8, 0.95]
    opt = Adam(model, lr=0.5)
    opt.load_state_dict(sd)
    assert opt.betas == (0.8, 0.95) and isinstance(opt.betas, tuple)
    for name in ("weight", "fc.bias"):
        for kind in ("exp_avg", "exp_avg_sq"):
            assert opt.state[name][kind].dtype == np.float64
            assert opt.state[name][kind] is not sd["buffers"][f"{kind}/{name}"]


def test_a_zero_second_moment_is_a_valid_buffer():
    model, sd = _adam_sd()
    sd["buffers"]["exp_avg_sq/weight"][...] = 0.0
    opt = Adam(model, lr=0.5)
    opt.load_state_dict(sd)
    assert np.all(opt.state["weight"]["exp_avg_sq"] == 0)


def _sgd_sd():
    model = tiny_model()
    opt = SGD(model, lr=0.1, momentum=0.9)
    opt.step()
    return model, opt.state_dict()


@pytest.mark.parametrize("corrupt, message", [
    (lambda sd: sd.pop("step"), r"^optimizer state_dict must have keys \['buffers', "
                                r"'hyper', 'param_names', 'step', 'type'\], got \['buffers', "
                                r"'hyper', 'param_names', 'type'\]$"),
    (lambda sd: sd.update(type="SGD"), r"^state_dict is for a 'SGD' optimizer, not 'Adam'$"),
    (lambda sd: sd["hyper"].pop("eps"), r"^state_dict\['hyper'\] must have keys \['amsgrad', "
                                        r"'betas', 'eps', 'lr', 'maximize', 'weight_decay'\], "
                                        r"got \['amsgrad', 'betas', 'lr', 'maximize', "
                                        r"'weight_decay'\]$"),
    (lambda sd: sd.update(hyper=[1]), r"^state_dict\['hyper'\] must have keys .*, got \[1\]$"),
    (lambda sd: sd.update(step=-1), r"^state_dict\['step'\] must be "),
    (lambda sd: sd.update(param_names=["weight"]),
     r"^state_dict parameter names \['weight'\] do not match the optimizer's "
     r"\['weight', 'fc.bias'\]$"),
    (lambda sd: sd.update(buffers=[]), r"^state_dict\['buffers'\] must be a mapping$"),
    (lambda sd: sd["buffers"].update({"momentum/weight": np.zeros((3, 2))}),
     r"^unexpected buffer 'momentum/weight': expected '<kind>/<param name>' with kind in "
     r"\['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'\] and a known parameter name$"),
    (lambda sd: sd["buffers"].update({"exp_avg/weight": np.zeros((2, 3))}),
     r"^buffer 'exp_avg/weight' has shape \(2, 3\), expected \(3, 2\)$"),
    (lambda sd: sd["buffers"].pop("exp_avg_sq/fc.bias"),
     r"^buffers \['exp_avg_sq'\] missing for parameter 'fc.bias'$"),
    (lambda sd: sd["buffers"]["exp_avg_sq/weight"].__setitem__((0, 0), -1e-3),
     r"^buffer 'exp_avg_sq/weight' has negative or NaN entries \(a second-moment estimate "
     r"is ≥ 0\)$"),
    (lambda sd: sd.update(step=0), r"^state_dict has buffers but step is 0$"),
])
def test_an_adam_refusal_says_what_is_wrong(corrupt, message):
    model, sd = _adam_sd()
    corrupt(sd)
    with pytest.raises(ValueError, match=message):
        Adam(model, lr=0.5).load_state_dict(sd)


def test_amsgrad_needs_its_max_buffer_and_checks_it():
    model, sd = _adam_sd(amsgrad=True)
    sd["buffers"]["max_exp_avg_sq/weight"][0, 0] = -1.0
    with pytest.raises(ValueError, match=r"^buffer 'max_exp_avg_sq/weight' has negative"):
        Adam(model, lr=0.5, amsgrad=True).load_state_dict(sd)
    model, sd = _adam_sd(amsgrad=False)
    sd["hyper"]["amsgrad"] = True  # the loaded hyperparameters decide
    with pytest.raises(ValueError, match=r"^buffers \['max_exp_avg_sq'\] missing for "
                                         r"parameter 'weight'$"):
        Adam(model, lr=0.5, amsgrad=True).load_state_dict(sd)


def test_sgd_names_exactly_the_parameters_without_momentum():
    model, sd = _sgd_sd()
    sd["buffers"].pop("momentum_buffer/fc.bias")
    with pytest.raises(ValueError, match=r"^momentum_buffer missing for parameters "
                                         r"\['fc.bias'\]$"):
        SGD(model, lr=0.1, momentum=0.9).load_state_dict(sd)
    model, sd = _sgd_sd()
    opt = SGD(model, lr=0.1, momentum=0.9)
    opt.load_state_dict(sd)  # all present: accepted
    assert sorted(k for s in opt.state.values() for k in s) == ["momentum_buffer"] * 2


# -- flat buffers after a load --------------------------------------------------------------
def _flat_model(seed=0) -> Module:
    model = tiny_model(seed=seed)
    for _, _, g in model.named_parameters():
        g[...] = np.random.default_rng(seed).standard_normal(g.shape)
    assert model.flatten_parameters()
    return model


def test_a_fresh_flat_optimizer_loads_into_flat_buffers_and_steps_as_unflat():
    _, sd = _adam_sd()
    flat_model, plain_model = _flat_model(), tiny_model()
    for (_, _, g), (_, _, g2) in zip(flat_model.named_parameters(),
                                     plain_model.named_parameters(), strict=True):
        g2[...] = g
    flat, plain = Adam(flat_model, lr=0.01), Adam(plain_model, lr=0.01)
    flat.load_state_dict(sd)
    plain.load_state_dict(sd)
    P, _ = flat.flat_parameters()
    for name in ("weight", "fc.bias"):
        for kind in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(flat.state[name][kind], sd["buffers"][f"{kind}/{name}"])
    flat.step()
    plain.step()
    for (_, p, _), (_, p2, _) in zip(flat_model.named_parameters(),
                                     plain_model.named_parameters(), strict=True):
        np.testing.assert_array_equal(p, p2)
    assert flat.flat_parameters() is not None and flat.flat_parameters()[0] is P


def test_a_kind_held_for_some_parameters_only_leaves_the_flat_buffers():
    """Adam accepts an extra max_exp_avg_sq on one parameter; no flat buffer can hold that,
    so the optimizer goes on per parameter (flat_parameters() is None) and frees them."""
    _, sd = _adam_sd()
    sd["buffers"]["max_exp_avg_sq/weight"] = np.ones((3, 2))
    model = _flat_model()
    opt = Adam(model, lr=0.01)
    opt.step()  # makes the flat state buffers
    buf = weakref.ref(opt._flat.buffers["exp_avg"])
    opt.load_state_dict(sd)
    assert opt.flat_parameters() is None
    gc.collect()
    assert buf() is None, "release must drop the flat buffers and their views"
    np.testing.assert_array_equal(opt.state["weight"]["max_exp_avg_sq"], np.ones((3, 2)))


def test_reprs_show_the_configuration():
    s = ReduceLROnPlateau(_Lr(1.0), mode="max", patience=3)
    assert repr(s) == ("ReduceLROnPlateau(mode='max', factor=0.1, patience=3, threshold=0.0001, "
                       "threshold_mode='rel', cooldown=0, min_lr=0.0, eps=1e-08)")
    opt = SGD(tiny_model(), lr=0.5, momentum=0.9)
    assert repr(opt) == ("SGD(2 parameters, lr=0.5, momentum=0.9, dampening=0.0, "
                         "weight_decay=0.0, nesterov=False, maximize=False)")


# -- clip_grad_norm -------------------------------------------------------------------------
@given(st.sampled_from([np.float32, np.float64]), st.sampled_from([1.0, 2.0, 3.0, np.inf]),
       st.integers(0, 2**16))
def test_clipping_one_array_and_an_empty_gradient(dtype, p, seed):
    """One ndarray is a list of one; an empty gradient adds nothing to the norm."""
    g = np.random.default_rng(seed).standard_normal(5).astype(dtype)
    expected = np.linalg.norm(g.astype(np.float64), ord=p)
    one = g.copy()
    total = clip_grad_norm(one, max_norm=expected / 2, norm_type=p)
    np.testing.assert_allclose(total, expected, rtol=1e-5)
    np.testing.assert_allclose(one, g * (expected / 2) / (total + 1e-6), rtol=1e-5)
    with_empty = [g.copy(), np.zeros(0, dtype)]
    assert clip_grad_norm(with_empty, max_norm=1e9, norm_type=p) == pytest.approx(total,
                                                                                  rel=1e-6)
    assert clip_grad_norm([np.zeros(0, dtype)], max_norm=1.0, norm_type=p) == 0.0


def test_max_norm_0_zeroes_the_gradients():
    g = np.array([3.0, 4.0])
    assert clip_grad_norm([g], max_norm=0) == 5.0
    assert np.all(g == 0)


@pytest.mark.parametrize("call, message", [
    (lambda: clip_grad_norm({"a": np.ones(2)}, 1.0),
     r"^grads must be a Module, an Optimizer, an ndarray or an iterable of ndarrays, got dict$"),
    (lambda: clip_grad_norm("ab", 1.0), r"^grads must be a Module, .* got str$"),
    (lambda: clip_grad_norm([np.ones(2), [1.0]], 1.0),
     r"^grads\[1\] must be a floating-point numpy.ndarray, got \[1.0\]$"),
    (lambda: clip_grad_norm([np.ones(2, int)], 1.0),
     r"^grads\[0\] must be a floating-point numpy.ndarray, got array\(\[1, 1\]\)$"),
    (lambda: clip_grad_norm([np.ones(2)], "1"), r"^max_norm must be a number >= 0, got '1'$"),
    (lambda: clip_grad_norm([np.ones(2)], -1.0), r"^max_norm must be a number >= 0, got -1.0$"),
    (lambda: clip_grad_norm([np.ones(2)], 1.0, norm_type="two"),
     r"^norm_type must be a number > 0 or inf, got 'two'$"),
    (lambda: clip_grad_norm([np.ones(2)], 1.0, norm_type=0),
     r"^norm_type must be a number > 0 or inf, got 0$"),
])
def test_a_clipping_refusal_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_read_only_gradient_is_refused_and_a_non_finite_norm_explained():
    g = np.ones(2)
    g.flags.writeable = False
    with pytest.raises(ValueError, match=r"^grads\[0\] is read-only; clip_grad_norm scales it "
                                         r"in place$"):
        clip_grad_norm([g], 1.0)
    with pytest.raises(RuntimeError, match=r"^The total norm of order 2.0 for gradients is "
                                           r"non-finite, so it cannot be clipped. To disable "
                                           r"this error and scale the gradients by the "
                                           r"non-finite norm anyway, set "
                                           r"error_if_nonfinite=False$"):
        clip_grad_norm([np.array([np.inf])], 1.0, error_if_nonfinite=True)



def test_a_buffer_put_into_state_by_hand_is_used_flat_or_not():
    """A state entry the flat buffers do not hold (here every momentum buffer, set before the
    first step) makes a flat optimizer go per parameter: the same update as an unflat one."""
    flat_model, plain_model = _flat_model(), _flat_model()
    plain_model = tiny_model()
    for (_, p, g), (_, p2, g2) in zip(flat_model.named_parameters(),
                                      plain_model.named_parameters(), strict=True):
        p2[...], g2[...] = p, g
    opts = [SGD(m, lr=0.1, momentum=0.9) for m in (flat_model, plain_model)]
    for opt in opts:
        for name, p, _ in zip(opt.names, opt.params, opt.params, strict=True):
            opt.state[name]["momentum_buffer"] = np.full(p.shape, 2.0)
        opt.step()
    assert opts[0].flat_parameters() is None
    for (_, p, _), (_, p2, _) in zip(flat_model.named_parameters(),
                                     plain_model.named_parameters(), strict=True):
        np.testing.assert_array_equal(p, p2)
    assert not np.array_equal(opts[1].state["weight"]["momentum_buffer"],
                              plain_model.grads["weight"])  # the hand-set buffer took part


def test_more_refusal_texts_and_defaults():
    with pytest.raises(ValueError, match=r"^state must be a mapping, got list$"):
        Adam(tiny_model(), lr=0.1).load_state_dict([1])
    _, sd = _adam_sd()
    sd["hyper"] = (2, 1)
    with pytest.raises(ValueError, match=r"must have keys .*, got \(2, 1\)$"):
        Adam(tiny_model(), lr=0.1).load_state_dict(sd)
    for kw, message in [({"mode": "mid"}, r"^mode must be 'min' or 'max', got 'mid'$"),
                        ({"threshold_mode": "x"},
                         r"^threshold_mode must be 'rel' or 'abs', got 'x'$"),
                        ({"factor": 1.0}, r"^factor must be < 1.0, got 1.0$")]:
        with pytest.raises(ValueError, match=message):
            ReduceLROnPlateau(_Lr(1.0), **kw)
    sd = _sched_sd()
    sd.pop("eps")
    with pytest.raises(ValueError, match=r"^scheduler state_dict must have keys \[.*'eps'.*\], "
                                         r"got \['best', 'cooldown'"):
        ReduceLROnPlateau(_Lr(1.0)).load_state_dict(sd)


def test_adam_defaults_and_refusal_texts():
    a = Adam(tiny_model(), lr=1e-3)
    assert Adam(tiny_model()).lr == 1e-3 == a.lr
    model = tiny_model()
    for kw, message in [
        ({"betas": ("a", 0.9)}, r"^betas\[0\] must be a real number, got 'a'$"),
        ({"betas": (0.9, "b")}, r"^betas\[1\] must be a real number, got 'b'$"),
        ({"betas": (0.9, 1.0)}, r"^betas\[1\] must be in \[0, 1\), got 1.0$"),
        ({"eps": -1.0}, r"^eps must be >= 0, got -1.0$"),
        ({"weight_decay": -1.0}, r"^weight_decay must be >= 0, got -1.0$"),
        ({"amsgrad": 1}, r"^amsgrad must be "),
        ({"maximize": 1}, r"^maximize must be "),
    ]:
        with pytest.raises(ValueError, match=message):
            Adam(model, lr=0.1, **kw)


@pytest.mark.parametrize("params, message", [
    (np.ones(2), r"^params must be a scratchrnn Module or an iterable of \(name, param, grad\) "
                 r"triples, got ndarray$"),
    (5, r"^params must be a scratchrnn Module .* got int$"),
    ([], r"^optimizer got an empty parameter list$"),
    ([("w", np.ones(2))], r"^each entry of params must be a \(name, param, grad\) triple, "
                          r"got \('w', array\(\[1., 1.\]\)\)$"),
    ([["w", np.ones(2), np.ones(2)]], r"^each entry of params must be a \(name, param, grad\) "
                                      r"triple, got \['w'"),
    ([(1, np.ones(2), np.ones(2))], r"^parameter name must be a str, got 1$"),
    ([("a/b", np.ones(2), np.ones(2))], r"^parameter name 'a/b' must not contain '/'$"),
    ([("w", np.ones(2), np.ones(2))] * 2, r"^duplicate parameter name 'w'$"),
    ([("w", [1.0], np.ones(1))], r"^parameter 'w' must be a numpy.ndarray, got list$"),
    ([("w", np.ones(1), [1.0])], r"^gradient 'w' must be a numpy.ndarray, got list$"),
    ([("w", np.ones(1, np.float16), np.ones(1))],
     r"^parameter 'w' must be float32 or float64, got float16$"),
    ([("w", np.ones(1), np.ones(1, int))], r"^gradient 'w' must be float32 or float64, got int64$"),
    ([("w", np.ones(2), np.ones(3))], r"^gradient of 'w' has shape \(3,\) and dtype float64, "
                                      r"expected the parameter's \(2,\) and float64$"),
])
def test_an_optimizer_refuses_bad_params_naming_them(params, message):
    with pytest.raises(ValueError, match=message):
        SGD(params, lr=0.1)


def test_sgd_weight_decay_of_one_and_its_refusal_texts():
    """θ ← θ − γ (∇ + λ θ) with λ = 1 exactly (a boundary no other test takes)."""
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    SGD([("w", p, g)], lr=0.1, weight_decay=1.0).step()
    np.testing.assert_allclose(p, [1.0 - 0.1 * (0.5 + 1.0), -2.0 - 0.1 * (0.25 - 2.0)],
                               rtol=1e-15)
    model = tiny_model()
    for kw, message in [
        ({"momentum": -1.0}, r"^momentum must be >= 0, got -1.0$"),
        ({"dampening": "x"}, r"^dampening must be a real number, got 'x'$"),
        ({"weight_decay": -1.0}, r"^weight_decay must be >= 0, got -1.0$"),
        ({"nesterov": 1}, r"^nesterov must be "),
        ({"maximize": 1}, r"^maximize must be "),
        ({"nesterov": True}, r"^Nesterov momentum requires a momentum > 0 and zero dampening$"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1},
         r"^Nesterov momentum requires a momentum > 0 and zero dampening$"),
    ]:
        with pytest.raises(ValueError, match=message):
            SGD(model, lr=0.1, **kw)
    SGD(model, lr=0.1, nesterov=True, momentum=0.9)  # the allowed combination


def test_a_subclass_passing_an_unknown_hyperparameter_is_a_type_error():
    class Odd(SGD):
        def __init__(self, params):
            Optimizer.__init__(self, params, 0.1, momentum=0.0, dampening=0.0,
                               weight_decay=0.0, nesterov=False, maximize=False, beta=1)

    with pytest.raises(TypeError, match=r"^Odd has no hyperparameters \['beta'\]$"):
        Odd(tiny_model())


def test_flat_buffers_are_found_only_for_one_whole_writable_1d_buffer():
    from scratchrnn.optim.flat import flat_base, flat_buffers

    P, G = np.zeros(6), np.zeros(6)
    ps, gs = [P[:2], P[2:]], [G[:2], G[2:]]
    assert flat_base(ps) is P and flat_buffers(ps, gs) == (P, G)
    two_d = np.zeros((2, 3))
    assert flat_base([two_d[0], two_d[1]]) is None  # rows of a 2-D base
    strided = np.zeros(12)[::2]
    assert flat_base([strided[:3], strided[3:]]) is None
    ro = np.zeros(6)
    views = [ro[:2], ro[2:]]
    ro.flags.writeable = False
    assert flat_base(views) is None
    assert flat_buffers(ps, [np.zeros(2), np.zeros(4)]) is None  # grads not flat
    assert flat_buffers([np.zeros(2), np.zeros(4)], gs) is None  # params not flat
    assert flat_buffers(ps, ps) is None  # P and G overlap


def test_betas_must_be_a_pair():
    with pytest.raises(ValueError, match=r"^betas must be a pair \(beta1, beta2\), got 0.9$"):
        Adam(tiny_model(), lr=0.1, betas=0.9)
