"""Validation on the way from user arrays to the Gaussian numerics."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import _assert_all_finite, _check_sample_weight

from .. import _gaussian


def checked_gram_stats(
    X: np.ndarray, y: np.ndarray, sample_weight, *, center: bool
) -> tuple[_gaussian.GramStats, np.ndarray | None]:
    """Sufficient statistics of validated (X, y), checking X for NaN and inf.

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
        stats = _gaussian.gram_stats(X, y, sample_weight, center=center)
    if not (np.all(np.isfinite(np.diag(stats.xtx))) and np.isfinite(stats.yty)):
        _assert_all_finite(X, input_name="X")
        raise ValueError(
            "X or y has values so large that their squares overflow float64; "
            "rescale them."
        )
    return stats, sample_weight
