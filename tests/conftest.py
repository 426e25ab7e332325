"""Shared test settings: hypothesis profiles (a quick default for development, a fuller
one for CI), the ``needs_torch`` marker, the float64 parity tolerance and the ``seeds`` strategy.

Select with HYPOTHESIS_PROFILE=ci (``.ci/run`` does).
"""

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: skip a test when torch is not installed (``from tests.conftest import needs_torch``)
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="torch is not installed"
)
#: float64 parity with torch: relative to max(1, |torch value|), as parity.report's TOLERANCE
PARITY_TOL = 1e-9
#: any seed numpy.random.default_rng accepts as a 32-bit value
seeds = st.integers(0, 2**32 - 1)

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Tiny tensors: one torch thread is fastest and does not fight the BLAS threads.
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is optional; its tests skip
    pass
