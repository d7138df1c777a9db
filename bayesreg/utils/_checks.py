"""Argument checks shared by the distributions, metrics, plots and estimators.

A leaf: NumPy only, nothing else from the package. Each check returns the
value in its canonical type or raises ``ValueError`` naming the argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array


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


def check_real(value, name: str) -> np.ndarray:
    """``value`` as a float array, refusing complex numbers, strings and
    objects that are not real numbers with a ``ValueError`` naming ``name``
    (``np.asarray(..., dtype=float)`` would drop an imaginary part silently
    and parse numeric strings)."""
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "O":
        flat = arr.ravel()
        if any(isinstance(v, (str, bytes)) for v in flat):
            kind = "U"
        elif any(np.iscomplexobj(v) for v in flat):
            kind = "c"
    if kind == "c":
        raise ValueError(
            f"{name} must be real numbers; got complex values (the imaginary "
            "part would be lost)."
        )
    if kind in "USV":
        raise ValueError(f"{name} must be numeric; got strings or bytes ({arr.dtype}).")
    if kind in "mM":
        raise ValueError(f"{name} must be numeric; got dates or times ({arr.dtype}).")
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be numeric; got objects that are not numbers ({arr.dtype})."
        ) from None


def check_y_true(y_true, n: int | None = None, shape=None) -> np.ndarray:
    """Observed targets as finite, non-empty real numbers.

    Without ``shape`` (or with a one-dimensional ``shape``) a vector of
    length ``n`` if given, a single column being taken as the vector. With
    ``shape == (n, k)`` (a prediction of k targets) an array of that shape;
    ``(n, 1)`` also takes a vector of length n.
    """
    y = check_real(y_true, "y_true")
    if shape is not None and len(shape) > 1:
        shape = tuple(int(d) for d in shape)
        if shape[1:] == (1,) and y.shape == shape[:1]:
            y = y.reshape(shape)
        if y.shape != shape:
            raise ValueError(
                f"y_true must have shape {shape} to match the prediction, got "
                f"{y.shape}."
            )
        if y.size == 0:
            raise ValueError("y_true is empty.")
        if not np.all(np.isfinite(y)):
            raise ValueError("y_true contains NaN or infinite values.")
        return y
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


_MULTIOUTPUT = ("raw_values", "uniform_average")


def check_multioutput(multioutput, *, allow_raw: bool = True):
    """``"raw_values"``, ``"uniform_average"`` or non-negative weights (a
    float vector) of the outputs, as scikit-learn's regression metrics."""
    if isinstance(multioutput, str):
        allowed = _MULTIOUTPUT if allow_raw else _MULTIOUTPUT[1:]
        if multioutput not in allowed:
            raise ValueError(
                f"multioutput must be one of {allowed} or an array of weights of "
                f"the outputs, got {multioutput!r}."
            )
        return multioutput
    w = check_real(multioutput, "multioutput")
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError("multioutput weights must be a non-empty finite vector.")
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("multioutput weights must be non-negative and not all zero.")
    return w


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


_NAMED = re.compile(r"\b(X|y|sample_weight)\b|inconsistent numbers of samples")


@contextmanager
def naming_the_argument(X, *, accept_sparse=False) -> Iterator[None]:
    """Re-raise a ValueError of sklearn's validation of ``X`` (and ``y``)
    with the argument it is about named.

    sklearn's own messages for a 3-D array ("Found array with dim 3"),
    complex values ("Complex data not supported") or strings ("could not
    convert string to float") do not say which argument they are about.
    On such an error (only then: a valid call costs nothing) ``X`` alone is
    checked again: if it fails the message is prefixed with ``X``,
    otherwise with ``y``. Messages that already name the argument, or the
    samples, are left as they are.
    """
    try:
        yield
    except ValueError as exc:
        message = str(exc)
        if _NAMED.search(message):
            raise
        try:
            check_array(
                X, accept_sparse=accept_sparse, dtype=np.float64,
                ensure_all_finite=False, ensure_min_samples=0, ensure_min_features=0,
            )  # fmt: skip
        except (ValueError, TypeError):
            name = "X"
        else:
            name = "y"
        raise ValueError(f"{name}: {message}") from exc


def is_float32(X) -> bool:
    """Whether ``X`` holds float32: an array (dense or sparse) of that
    dtype, or a DataFrame all of whose columns are float32 (as sklearn's
    ``Ridge`` keeps float32 for both)."""
    dtype = getattr(X, "dtype", None)
    if dtype is None and hasattr(X, "dtypes"):
        dtypes = [str(d) for d in X.dtypes]
        return bool(dtypes) and all(d == "float32" for d in dtypes)
    return dtype == np.float32
