"""Argument checks shared by the distributions, metrics, plots and estimators.

A leaf: NumPy only, nothing else from the package. Each check returns the
value in its canonical type or raises ``ValueError`` naming the argument.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np


def check_coverage(coverage) -> float:
    """``coverage`` as a float strictly between 0 and 1."""
    if not isinstance(coverage, Real) or not (0.0 < float(coverage) < 1.0):
        raise ValueError(
            f"coverage must be a number strictly between 0 and 1, got {coverage!r}."
        )
    return float(coverage)


def check_n_samples(n_samples) -> int:
    """``n_samples`` as a positive int."""
    if not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    return int(n_samples)


def check_quantile_levels(q) -> np.ndarray:
    """Quantile levels ``q`` as a float array, each strictly inside (0, 1)."""
    q = np.asarray(q, dtype=float)
    if not np.all((q > 0.0) & (q < 1.0)):
        raise ValueError("quantile levels q must lie strictly between 0 and 1.")
    return q


def check_levels(levels) -> np.ndarray:
    """Nominal levels of a calibration curve; ``None`` means 0.05, 0.10, ..., 0.95."""
    if levels is None:
        return np.linspace(0.05, 0.95, 19)
    levels = np.atleast_1d(np.asarray(levels, dtype=float))
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError("levels must be a non-empty one-dimensional array.")
    if not np.all((levels > 0) & (levels < 1)):
        raise ValueError("levels must lie strictly between 0 and 1.")
    return levels


def check_y_true(y_true, n: int | None = None) -> np.ndarray:
    """Observed targets as a finite, non-empty vector (of length ``n`` if given)."""
    y = np.asarray(y_true, dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError("y_true is empty.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y_true contains NaN or infinite values.")
    if n is not None and y.shape[0] != n:
        raise ValueError(
            f"y_true has {y.shape[0]} values but the prediction describes {n} points."
        )
    return y


def check_array_1d(name: str, value, n: int) -> np.ndarray:
    """``value`` as a finite vector of length ``n``; a scalar is broadcast."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def check_std(y_std, n: int, *, strict: bool = False) -> np.ndarray:
    """Predictive stds: non-negative, or with ``strict`` positive."""
    std = check_array_1d("y_std", y_std, n)
    if np.any(std < 0):
        raise ValueError("y_std must be non-negative.")
    if strict and np.any(std == 0):
        raise ValueError("y_std must be strictly positive for a density.")
    return std


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Scoring weights: ``None``, or non-negative and not all zero."""
    if sample_weight is None:
        return None
    w = check_array_1d("sample_weight", sample_weight, n)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("sample_weight must be non-negative and not all zero.")
    return w
