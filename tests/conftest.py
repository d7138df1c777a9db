"""Fixtures shared by the test modules."""

from __future__ import annotations

import numpy as np
import pytest


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
