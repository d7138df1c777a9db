"""The intake of the linear Gaussian estimators: in-memory arrays to statistics.

``fit`` validates (X, y, sample_weight) with sklearn's helpers and reduces
them to their sufficient statistics in one pass; ``predict`` validates X.
Dask arrays take the lazy intake of :mod:`bayesreg._dask` instead, with the
same checks and errors (:func:`bayesreg._dask.validated_gram_stats` and
:func:`bayesreg._dask.validated_X` choose).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_sample_weight,
    validate_data,
)

from . import _gram
from .utils._state import check_magnitude

OVERFLOW_MESSAGE = (
    "X or y has values so large that their squares overflow float64; rescale them."
)


def in_memory_gram_stats(
    X: np.ndarray, y: np.ndarray, sample_weight, *, center: bool
) -> tuple[_gram.GramStats, np.ndarray | None]:
    """Sufficient statistics of validated NumPy (X, y), checking X for NaN and inf.

    ``X`` comes from ``validate_data(..., ensure_all_finite=False)``: a NaN or
    inf in X makes the diagonal of X^T X non-finite, so the finiteness check
    costs nothing instead of a pass over X, and sklearn's own check then names
    the problem. ``sample_weight`` must be non-negative and not all zero.

    Returns
    -------
    stats : GramStats
    sample_weight : ndarray of shape (n_samples,) or None
        The checked weights.
    """
    _assert_all_finite(y, input_name="y")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    with np.errstate(all="ignore"):  # non-finite X is reported below
        stats = _gram.gram_stats(X, y, sample_weight, center=center)
    if not (np.all(np.isfinite(np.diag(stats.xtx))) and np.isfinite(stats.yty)):
        _assert_all_finite(X, input_name="X")
        raise ValueError(OVERFLOW_MESSAGE)
    return stats, sample_weight


def validated_fit_data(
    estimator, X, y, sample_weight, *, center: bool, reset: bool
) -> tuple[_gram.GramStats, tuple]:
    """Validate in-memory fitting data and reduce it to its statistics.

    Returns
    -------
    stats : GramStats
    data : tuple (X, y, sample_weight)
        The validated NumPy arrays.
    """
    X, y = validate_data(
        estimator, X, y, dtype=np.float64, y_numeric=True, reset=reset,
        ensure_all_finite=False,
    )  # fmt: skip
    check_magnitude(X, "X")
    check_magnitude(y, "y")
    stats, sample_weight = in_memory_gram_stats(X, y, sample_weight, center=center)
    return stats, (X, y, sample_weight)


def validated_predict_X(estimator, X, *, reset: bool | None = False) -> np.ndarray:
    """``validate_data(estimator, X, dtype=np.float64, reset=False)``; with
    ``reset=None`` (an unfitted estimator drawing from its prior) only
    ``check_array``."""
    if reset is None:
        return check_array(X, dtype=np.float64)
    return validate_data(estimator, X, dtype=np.float64, reset=reset)


def check_noise_posterior_proper(
    stats: _gram.GramStats, noise_prior_shape: float, fit_intercept: bool
) -> None:
    """Refuse data from which an inverse-gamma noise posterior is improper.

    a_N = a0 + n_eff / 2 must be positive: with Jeffreys' prior (a0 = 0) and
    a flat intercept, one row (n_eff = 0) says nothing about the noise.
    """
    n_eff = stats.n - 1.0 if stats.centered else stats.n
    if noise_prior_shape + 0.5 * n_eff <= 0:
        raise ValueError(
            "The noise posterior is improper: with noise_std=None, "
            f"noise_prior_shape={noise_prior_shape} and "
            f"fit_intercept={fit_intercept}, at least "
            f"{2 if stats.centered else 1} samples are needed "
            f"(n_samples={stats.n:g}, weighted). Fit more samples, or "
            "give noise_std or a proper noise prior."
        )
