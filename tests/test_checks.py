"""scratchrnn.checks.all_finite: the one-pass finiteness test equals np.isfinite(x).all()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scratchrnn.checks import all_finite, check_array


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
