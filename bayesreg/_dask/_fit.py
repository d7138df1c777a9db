"""Fitting on dask arrays: lazy validation and one tree reduction.

Validation cannot look at the values without computing them, so it is split:
the shape, dtype, chunking and feature count are checked at once (they are
metadata), and the values (NaN, inf, negative weights) are checked by the
fit's single reduction, or, at prediction time, by the blocks themselves when
they are computed.
"""

from __future__ import annotations

import warnings
from numbers import Real
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_array
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    column_or_1d,
)

from .. import _gram
from .._intake import OVERFLOW_MESSAGE
from ..utils._warnings import find_stack_level
from ._core import as_dask_array, is_dask_collection

if TYPE_CHECKING:
    import dask.array as da

#: Statistics of this many blocks are merged by one task of the reduction tree.
SPLIT_EVERY = 8


def _check_numeric(arr: da.Array, name: str) -> None:
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}.")
    if kind not in "biuf":
        raise ValueError(
            f"{name} has dtype {arr.dtype}; a dask array must have a numeric "
            "(bool, integer or float) dtype to be validated without computing it."
        )


def _checked_finite_block(block: np.ndarray, input_name: str) -> np.ndarray:
    _assert_all_finite(block, input_name=input_name)
    return block


def validate_X(estimator, X: Any, *, reset: bool | None) -> da.Array:
    """Lazy counterpart of ``validate_data(estimator, X, dtype=np.float64)``.

    Checks dimension, dtype, emptiness and (``reset`` True: records,
    False: compares; None: skips) the number of features; casts to float64
    and puts all columns in one chunk. Nothing is computed.
    """
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data "
            "either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    _check_numeric(X, "X")
    name = type(estimator).__name__
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a "
                f"minimum of 1 is required by {name}."
            )
    if reset is not None:
        _check_feature_names(estimator, X, reset=reset)
        _check_n_features(estimator, X, reset=reset)
    X = X.astype(np.float64)
    if X.numblocks[1] > 1:
        # One block of rows must hold whole rows for X^T X and x^T w.
        X = X.rechunk({1: -1})
    return X


def validate_predict_X(estimator, X: Any, *, reset: bool | None = False) -> da.Array:
    """:func:`validate_X`, plus a NaN/inf check that runs as each block is
    computed (sklearn's message, raised from the compute)."""
    X = validate_X(estimator, X, reset=reset)
    return X.map_blocks(_checked_finite_block, input_name="X", dtype=np.float64)


def validate_Xy(
    estimator, X: Any, y: Any, sample_weight: Any, *, reset: bool
) -> tuple[da.Array, da.Array, da.Array | None]:
    """Lazy counterpart of ``validate_data(estimator, X, y)`` for fitting.

    At least one of the arguments is a dask array; the others are converted
    (NumPy input is validated by sklearn as usual). Returns float64 dask
    arrays with the row chunks of X: y and the weights are rechunked to them.
    Values are checked by :func:`tree_gram_stats`.
    """
    import dask.array as da

    if not is_dask_collection(X):
        X = check_array(X, dtype=np.float64, ensure_all_finite=False)
        X = da.from_array(X, chunks=("auto", -1))
    X = validate_X(estimator, X, reset=reset)
    n_samples = X.shape[0]
    rows = (X.chunks[0],)
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the "
            "target y is None."
        )
    if is_dask_collection(y):
        y = as_dask_array(y, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. "
                "Please change the shape of y to (n_samples, ), for example "
                "using ravel().",
                DataConversionWarning,
                stacklevel=find_stack_level(),
            )
            y = y[:, 0]
        elif y.ndim != 1:
            raise ValueError(
                "y should be a 1d array for a fit on dask arrays (several "
                f"targets need in-memory data), got an array of shape {y.shape}."
            )
        _check_numeric(y, "y")
        y = y.astype(np.float64)
    else:
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite=False,
            input_name="y",
        )  # fmt: skip
        y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    y = y.rechunk(rows) if isinstance(y, da.Array) else da.from_array(y, chunks=rows)
    if sample_weight is None:
        return X, y, None
    if is_dask_collection(sample_weight):
        w = as_dask_array(sample_weight, "sample_weight")
        if w.ndim != 1 or w.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight.shape == {w.shape}, expected ({n_samples},)!"
            )
        _check_numeric(w, "sample_weight")
        w = w.astype(np.float64).rechunk(rows)
    elif isinstance(sample_weight, Real):
        # A constant weight: no n-vector on the client. Its sign and
        # zero-ness are checked with the others after the reduction.
        w = da.full((n_samples,), float(sample_weight), chunks=rows)
    else:
        w = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        w = da.from_array(w, chunks=rows)
    return X, y, w


# ---------------------------------------------------------------------------
# Fitting: one tree reduction to the sufficient statistics
# ---------------------------------------------------------------------------

# Problems found in a block, reported after the reduction (in sklearn's order:
# y first, then the weights, then X).
_NAN_Y, _INF_Y, _NAN_W, _INF_W, _NEG_W, _NAN_X, _INF_X = (1 << i for i in range(7))


class _Partial(NamedTuple):
    """Statistics of some blocks and the problems found in them."""

    stats: _gram.GramStats
    flags: int


def _empty_stats(d: int, center: bool) -> _gram.GramStats:
    return _gram.GramStats(
        0.0, np.zeros(d), 0.0, np.zeros((d, d)), np.zeros(d), 0.0, center
    )


def _nonfinite_flag(a: np.ndarray, nan: int, inf: int) -> int:
    if np.all(np.isfinite(a)):
        return 0
    return nan if np.any(np.isnan(a)) else inf


def _block_partial(
    Xb: np.ndarray, yb: np.ndarray, wb: np.ndarray | None, center: bool
) -> _Partial:
    """GramStats of one row block, or the problems that prevent them."""
    d = Xb.shape[1]
    flags = _nonfinite_flag(yb, _NAN_Y, _INF_Y)
    if wb is not None:
        flags |= _nonfinite_flag(wb, _NAN_W, _INF_W)
        if not flags and np.any(wb < 0):
            flags |= _NEG_W
    if flags:  # the fit fails; skip the O(rows d^2) work
        return _Partial(_empty_stats(d, center), flags)
    if Xb.shape[0] == 0 or (wb is not None and not wb.sum() > 0):
        # No weight to centre on. X is still checked: a NaN in a row of
        # weight zero fails the NumPy fit too.
        flags = _nonfinite_flag(Xb, _NAN_X, _INF_X)
        return _Partial(_empty_stats(d, center), flags)
    with np.errstate(all="ignore"):  # non-finite X is reported below
        stats = _gram.gram_stats(Xb, yb, wb, center=center)
    if not np.all(np.isfinite(np.diag(stats.xtx))):
        # NaN or inf in X reaches the diagonal of X^T X (a NaN/inf column's
        # square or its centring); tell them apart only in this rare case.
        flags = _nonfinite_flag(Xb, _NAN_X, _INF_X)
    return _Partial(stats, flags)


def _block_partial_array(Xb, yb, wb, center: bool) -> np.ndarray:
    """:func:`_block_partial` as a one-element object array (a dask block)."""
    out = np.empty(1, dtype=object)
    out[0] = _block_partial(Xb, yb, wb, center)
    return out


def _merge_partials(*parts) -> _Partial:
    """One node of the reduction tree: merge the children's statistics."""
    parts = [p[0] if isinstance(p, np.ndarray) else p for p in parts]
    stats, flags = parts[0]
    with np.errstate(all="ignore"):  # non-finite X is reported by the client
        for other in parts[1:]:
            stats = _gram.merge_stats(stats, other.stats)
            flags |= other.flags
    return _Partial(stats, flags)


def _raise_nonfinite(input_name: str, nan: bool) -> None:
    """sklearn's own message for a NaN (or an infinity) in ``input_name``."""
    _assert_all_finite(np.array([np.nan if nan else np.inf]), input_name=input_name)


def tree_gram_stats(
    X: da.Array,
    y: da.Array,
    sample_weight: da.Array | None,
    *,
    center: bool,
    split_every: int = SPLIT_EVERY,
) -> _gram.GramStats:
    """Sufficient statistics of validated dask (X, y) by a tree reduction.

    ``blockwise`` maps every row block to its GramStats; ``merge_stats``
    combines ``split_every`` of them per task, level by level, and only the
    root (O(d^2) numbers and a problem flag) comes back to the client: one
    ``compute`` that runs on the active scheduler (a ``distributed.Client``
    if there is one). NaN and inf in X are read off the diagonal of each
    block's X^T X, as in :func:`bayesreg._intake.in_memory_gram_stats`,
    and raise the same errors.
    """
    import dask
    import dask.array as da

    args: list = [X, "ij", y, "i"]
    args += [None, None] if sample_weight is None else [sample_weight, "i"]
    parts = da.blockwise(
        _block_partial_array, "i", *args, center=center,
        adjust_chunks={"i": 1}, concatenate=True, dtype=object,
        meta=np.empty(0, dtype=object),
    )  # fmt: skip
    level = list(parts.to_delayed())
    merge = dask.delayed(_merge_partials, pure=True)
    while len(level) > 1:
        level = [
            merge(*level[i : i + split_every])
            for i in range(0, len(level), split_every)
        ]
    (root,) = dask.compute(merge(level[0]))
    stats, flags = root
    for flag, name, nan in [
        (_NAN_Y, "y", True), (_INF_Y, "y", False),
        (_NAN_W, "sample_weight", True), (_INF_W, "sample_weight", False),
    ]:  # fmt: skip
        if flags & flag:
            _raise_nonfinite(name, nan)
    if flags & _NEG_W:
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if sample_weight is not None and not stats.n > 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    if flags & (_NAN_X | _INF_X):
        _raise_nonfinite("X", bool(flags & _NAN_X))
    if not (np.all(np.isfinite(np.diag(stats.xtx))) and np.isfinite(stats.yty)):
        raise ValueError(OVERFLOW_MESSAGE)
    return stats
