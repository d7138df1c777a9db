"""Fixtures shared by the test modules."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings


def _linear_data(
    seed=0,
    n=12,
    d=3,
    *,
    noise=0.5,
    offset=0.0,
    intercept=1.5,
    scale=1.0,
    coef=None,
    weights=False,
):
    """A linear regression problem y = X coef + intercept + noise.

    X is standard normal times ``scale`` plus ``offset`` (scalars or one value
    per column); ``coef`` defaults to a standard normal draw. With ``weights``
    the tuple also holds uniform(0, 3) sample weights.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * scale + offset
    coef = rng.normal(size=d) if coef is None else np.asarray(coef, dtype=float)
    y = X @ coef + intercept + noise * rng.normal(size=n)
    if weights:
        return X, y, rng.uniform(0.0, 3.0, size=n)
    return X, y


@pytest.fixture
def linear_data():
    """``linear_data(seed, n, d, noise=, offset=, ...)`` -> ``(X, y)``, see
    :func:`_linear_data`."""
    return _linear_data


# Property tests give the same verdict on every run: hypothesis draws its
# examples from a fixed seed and keeps no example database between runs (a
# counter-example a random search once found is kept as an explicit
# ``@example`` instead). ``HYPOTHESIS_PROFILE=explore`` searches afresh.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
