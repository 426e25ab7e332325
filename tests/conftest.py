"""Hypothesis profiles: a quick default for development, a fuller one for CI.

Select with HYPOTHESIS_PROFILE=ci (``.ci/run`` does).
"""

import os

from hypothesis import HealthCheck, settings

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
