"""scratchrnn.checks.all_finite: the one-pass finiteness test equals np.isfinite(x).all();
check_choice: a variant is accepted exactly when it is one of the choices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.checks import all_finite, check_array, check_choice


@given(dtype=st.sampled_from([np.float32, np.float64]),
       size=st.sampled_from([1, 100, 4096, 5000]),
       scale=st.sampled_from([0.0, 1e-30, 1.0, 1e19, 1e30, 1e200]),
       bad=st.sampled_from([None, np.nan, np.inf, -np.inf]),
       seed=st.integers(0, 2**16), layout=st.sampled_from(["c", "transposed"]))
def test_all_finite_equals_elementwise_test(dtype, size, scale, bad, seed, layout):
    """Squares that overflow (|x| ≥ 1.9e19 in float32) fall back to the elementwise test,
    and a single bad element anywhere is found, in every layout and both dtypes."""
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        x = (scale * rng.standard_normal(size)).astype(dtype)
    if bad is not None:
        x[rng.integers(size)] = bad
    if layout == "transposed" and size % 100 == 0:
        x = x.reshape(100, -1).T
    assert all_finite(x) == bool(np.isfinite(x).all())


def test_check_array_names_a_non_finite_large_array_without_a_warning():
    x = np.ones((19, 64, 100), np.float32)
    x[18, 63, 99] = np.nan
    with np.errstate(all="raise"), pytest.raises(ValueError, match="input contains NaN"):
        check_array("input", x, (None, None, 100))
    x[18, 63, 99] = 3e38  # finite, its square is not: still accepted
    assert check_array("input", x, (None, None, 100)) is x


# -- library_arrays: the models' layers skip the finiteness pass, nothing else ---------
def test_library_arrays_skips_only_the_finiteness_pass_and_is_restored():
    from concurrent.futures import ThreadPoolExecutor

    from scratchrnn.checks import check_float_input, library_arrays

    bad = np.full((3, 4), np.nan, np.float32)
    with library_arrays():
        assert check_array("x", bad, (3, 4), np.float32) is bad
        assert check_float_input("x", bad) is bad
        with pytest.raises(ValueError, match=r"must have shape \(3, 5\)"):
            check_array("x", bad, (3, 5))
        with pytest.raises(ValueError, match="dtype float64"):
            check_float_input("x", bad, np.float64)
        # another thread is not inside this context
        with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="NaN"):
            pool.submit(check_float_input, "x", bad).result()
    with pytest.raises(ValueError, match="x contains NaN"):
        check_float_input("x", bad)
    with pytest.raises(RuntimeError), library_arrays():
        raise RuntimeError  # left by an exception: restored as well
    with pytest.raises(ValueError, match="x contains NaN"):
        check_array("x", bad, (3, 4))


@pytest.mark.parametrize("kind", ["classifier", "generator"])
def test_models_still_refuse_a_non_finite_gradient_at_their_entry(kind):
    """Inside a lab model the layers trust each other's arrays; what comes in from outside
    (d_logits) is still checked, with one clear error and no gradient added."""
    from scratchrnn.models import SurnameClassifier, SurnameGenerator

    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, (4, 6))
    if kind == "classifier":
        m = SurnameClassifier(8, 10, 5, 6, cell="lstm", rng=0)
        logits, cache = m.forward(x, np.array([6, 3, 2, 6]))
    else:
        m = SurnameGenerator(8, 10, 6, cell="gru", num_nationalities=3, rng=0)
        logits, cache = m.forward(x, np.array([0, 1, 2, 1]))
    d = np.ones_like(logits)
    d.flat[5] = np.inf
    with pytest.raises(ValueError, match="d_logits contains NaN or infinite"):
        m.backward(d, cache)
    assert all(not g.any() for g in m.gradients())


@given(choices=st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=4, unique=True),
       value=st.text(max_size=6))
def test_check_choice_accepts_exactly_the_choices_and_names_them(choices, value):
    """Every cell variant (nonlinearity, form, gating) is checked here: a choice comes back
    as is; anything else is one line naming the argument, every choice and the value."""
    choices = tuple(choices)
    if value in choices:
        assert check_choice("form", value, choices) is value
        return
    with pytest.raises(ValueError) as exc:
        check_choice("form", value, choices)
    message = str(exc.value)
    assert message.startswith("form must be ") and message.endswith(f"got {value!r}")
    assert all(repr(c) in message for c in choices)
    assert ("one of" in message) == (len(choices) > 2)
