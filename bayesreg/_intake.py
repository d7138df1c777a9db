"""The intake of the linear Gaussian estimators: in-memory arrays to statistics.

``fit`` validates (X, y, sample_weight) with sklearn's helpers and reduces
them to their sufficient statistics in one pass; ``predict`` validates X.
Dask arrays take the lazy intake of :mod:`bayesreg._dask` instead, with the
same checks and errors (:func:`bayesreg._dask.validated_gram_stats` and
:func:`bayesreg._dask.validated_X` choose).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from sklearn.utils import check_array
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_sample_weight,
    validate_data,
)

from . import _gram
from .utils._checks import naming_the_argument
from .utils._state import MAX_ABS_INPUT, check_magnitude

OVERFLOW_MESSAGE = (
    "X or y has values so large that their squares overflow float64; rescale them."
)

#: the sparse formats X may come in (COO is converted to CSR, which slices rows)
SPARSE_FORMATS = ("csr", "csc", "coo")

#: largest p x p statistics (bytes) that partial_fit keeps without being asked
MAX_GRAM_BYTES = 2 * 2**30


class FitData(NamedTuple):
    """Validated fitting data: ``X`` (NumPy, SciPy sparse or dask), ``y`` as
    given ((n,) or (n, k)), the checked ``sample_weight`` (or None), the
    sufficient statistics (None in the dual form, which works on X itself)
    and the form, ``"primal"`` or ``"dual"``."""

    X: Any
    y: Any
    sample_weight: Any
    stats: _gram.GramStats | None
    form: str

    @property
    def Y(self) -> np.ndarray:
        """y as a (n, k) array."""
        return self.y.reshape(self.y.shape[0], -1)


def choose_form(solver: str, n_samples: int, n_features: int) -> str:
    """The primal (p x p) when n >= p, the dual (n x n) when p > n, unless
    ``solver`` forces one."""
    if solver != "auto":
        return solver
    return "dual" if n_features > n_samples else "primal"


def check_gram_memory(n_features: int, what: str) -> None:
    """Refuse p x p statistics beyond :data:`MAX_GRAM_BYTES`, naming the memory."""
    size = 8.0 * n_features**2
    if size > MAX_GRAM_BYTES:
        raise ValueError(
            f"{what} keeps the p x p sufficient statistics, {size / 2**30:.1f} GiB "
            f"for {n_features} features (more than {MAX_GRAM_BYTES / 2**30:g} "
            "GiB); fit the whole data at once with fit (the dual form stores "
            "O(n p)), or reduce the number of features."
        )


def check_target_dtype(y) -> None:
    """A clear error, naming y, for a string, object or complex target."""
    if y is None or sparse.issparse(y) or hasattr(y, "dask"):
        return
    dtype = getattr(y, "dtype", None)
    if dtype is None or not isinstance(dtype, np.dtype):
        try:
            dtype = np.asarray(y).dtype
        except (TypeError, ValueError):
            return
    if dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: y has a complex dtype ({dtype}); the "
            "regressors need a real-valued target (split the real and imaginary "
            "parts into two targets)."
        )
    if dtype.kind in "OUSV":
        try:
            np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"y must be numeric, got dtype {dtype} with values that are not "
                f"numbers ({err}); encode a categorical target before fitting a "
                "regressor."
            ) from None


#: below this, squares (variances, sums of squares) underflow float64
MIN_ABS_INPUT = 1e-150


def check_not_tiny(a: np.ndarray, name: str) -> None:
    """Refuse values that are all non-zero-but-tiny: their squares underflow,
    and every variance computed from them would be wrong (issue 21, defect
    11: y * 1e-300 gave stds 1e146 times too large)."""
    if a.size == 0:
        return
    largest = float(np.max(np.abs(a)))
    if 0 < largest < MIN_ABS_INPUT:
        raise ValueError(
            f"{name} has no entry of magnitude above {largest:.3g}, below "
            f"{MIN_ABS_INPUT:.0e}: its squares and variances underflow float64. "
            f"Rescale {name} (for example multiply it by a power of ten) before "
            "fitting."
        )


def check_finite_X(X, estimator_name: str | None = None) -> None:
    """sklearn's NaN/inf message for X (its non-zeros only when sparse)."""
    _assert_all_finite(
        X.data if sparse.issparse(X) else X, input_name="X",
        estimator_name=estimator_name,
    )  # fmt: skip


def extremes(values: np.ndarray) -> np.ndarray | None:
    """None when one dot product shows every value finite, of magnitude at
    most :data:`~bayesreg.utils._state.MAX_ABS_INPUT` and not all below
    :data:`MIN_ABS_INPUT`; otherwise ``[min, max]`` of ``values`` (NaN and
    +-inf propagate to them; zeros when empty), for the checks to name the
    problem.

    s = sum x^2 bounds the largest |x|: max x^2 <= s <= size max x^2. So
    s <= MAX^2 / 2 (the half covers rounding) clears the magnitude, a
    finite s clears NaN and inf, and s >= 2 size MIN^2 clears the tiny
    values; one fast pass (a BLAS dot) instead of a minimum and a maximum.
    """
    if values.size == 0:
        return np.zeros(2)
    if values.flags.c_contiguous or values.flags.f_contiguous:
        flat = values.ravel(order="K")  # a view: the array is contiguous
        with np.errstate(all="ignore"):
            s = float(flat @ flat)
        if 2.0 * values.size * MIN_ABS_INPUT**2 <= s <= 0.5 * MAX_ABS_INPUT**2:
            return None
    with np.errstate(invalid="ignore"):
        return np.array([values.min(), values.max()], dtype=np.float64)


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
    sample_weight = _checked_weights(sample_weight, X)
    with np.errstate(all="ignore"):  # non-finite X is reported below
        stats = _gram.gram_stats(X, y, sample_weight, center=center)
    if not (np.all(np.isfinite(np.diag(stats.xtx))) and np.all(np.isfinite(stats.yty))):
        check_finite_X(X)
        raise ValueError(OVERFLOW_MESSAGE)
    return stats, sample_weight


def _checked_weights(sample_weight, X):
    if sample_weight is None:
        return None
    return _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )


def validated_fit_data(
    estimator, X, y, sample_weight, *, center: bool, reset: bool, solver: str = "primal"
) -> FitData:
    """Validate in-memory fitting data; in the primal form reduce it to its
    statistics.

    X may be dense or sparse (CSR, CSC, COO; COO becomes CSR), y (n,) or
    (n, k). Everything is float64 from here on: the statistics and the
    spectra need its accuracy, whatever the input dtype.
    """
    check_target_dtype(y)
    with naming_the_argument(X, accept_sparse=SPARSE_FORMATS):
        X, y = validate_data(
            estimator, X, y, dtype=np.float64, y_numeric=True, reset=reset,
            ensure_all_finite=False, accept_sparse=SPARSE_FORMATS, multi_output=True,
        )  # fmt: skip
    if sparse.issparse(X) and X.format == "coo":
        X = X.tocsr()
    form = choose_form(solver, *X.shape)
    # X's two extremes (NaN and inf propagate to them), or one dot product
    # showing that they are in range, serve every check on its values: the
    # magnitude, the dual's finiteness, and the refusal of an X of nothing
    # but tiny entries, whose squares underflow (its columns would look
    # constant, the fit the mean of y).
    X_range = extremes(X.data if sparse.issparse(X) else X)
    if form == "primal" and X_range is not None:
        check_magnitude(X_range, "X")
    check_magnitude(y, "y")
    check_not_tiny(y, "y")
    if X_range is not None and np.all(np.isfinite(X_range)):
        check_not_tiny(X_range, "X")
    if form == "primal":
        if sparse.issparse(X):
            # A sparse X is small; its p x p statistics are dense (and the
            # n x n kernel no smaller when n >= p): refuse, naming the memory.
            check_gram_memory(X.shape[1], "A sparse fit in the primal form")
        stats, sample_weight = in_memory_gram_stats(X, y, sample_weight, center=center)
        return FitData(X, y, sample_weight, stats, form)
    _assert_all_finite(y, input_name="y")
    # The dual reads X directly: its extremes say whether it is finite and
    # not too large.
    if X_range is not None:
        if not np.all(np.isfinite(X_range)):
            check_finite_X(X)
        check_magnitude(X_range, "X")
    return FitData(X, y, _checked_weights(sample_weight, X), None, form)


def validated_predict_X(estimator, X, *, reset: bool | None = False) -> np.ndarray:
    """``validate_data(estimator, X, dtype=np.float64, reset=False)``, dense or
    sparse (returned as CSR); with ``reset=None`` (an unfitted estimator
    drawing from its prior) only ``check_array``."""
    with naming_the_argument(X, accept_sparse=SPARSE_FORMATS):
        if reset is None:
            X = check_array(
                X, dtype=np.float64, accept_sparse=SPARSE_FORMATS,
                ensure_all_finite=False,
            )  # fmt: skip
        else:
            X = validate_data(
                estimator, X, dtype=np.float64, reset=reset,
                accept_sparse=SPARSE_FORMATS, ensure_all_finite=False,
            )  # fmt: skip
    # X's extremes (or one dot product) say whether it is finite (else sklearn's
    # check names the NaN or inf, as check_array would have) and whether
    # |X| > 1e150 would overflow the predictive variance (x^T Sigma x): say
    # so, naming X, instead of a non-finite scale (issue 21, defect 10).
    X_range = extremes(X.data if sparse.issparse(X) else X)
    if X_range is not None:
        if not np.all(np.isfinite(X_range)):
            check_finite_X(X, None if reset is None else type(estimator).__name__)
        check_magnitude(X_range, "X")
    return X.tocsr() if sparse.issparse(X) else X


def check_noise_posterior_proper(
    n: float, fit_intercept: bool, noise_prior_shape: float
) -> None:
    """Refuse data from which an inverse-gamma noise posterior is improper.

    a_N = a0 + n_eff / 2 must be positive: with Jeffreys' prior (a0 = 0) and
    a flat intercept, one row (n_eff = 0) says nothing about the noise.
    ``n`` is the (weighted) number of rows.
    """
    n_eff = n - 1.0 if fit_intercept else n
    if noise_prior_shape + 0.5 * n_eff <= 0:
        raise ValueError(
            "The noise posterior is improper: with noise_std=None, "
            f"noise_prior_shape={noise_prior_shape} and "
            f"fit_intercept={fit_intercept}, at least "
            f"{2 if fit_intercept else 1} samples are needed "
            f"(n_samples={n:g}, weighted). Fit more samples, or "
            "give noise_std or a proper noise prior."
        )


def prior_arrays(prior_mean, prior_std, n_features: int):
    """``prior_mean`` and ``prior_std`` as finite vectors of ``n_features``
    values (a scalar is repeated), the std positive."""
    out = []
    for name, value in (("prior_mean", prior_mean), ("prior_std", prior_std)):
        value = np.asarray(value, dtype=float)
        if value.ndim == 0:
            value = np.full(n_features, float(value))
        elif value.ndim != 1 or value.shape[0] != n_features:
            raise ValueError(
                f"{name} must be a scalar or have one value per feature "
                f"({n_features}), got shape {value.shape}."
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite, got {value}.")
        out.append(value)
    if np.any(out[1] <= 0):
        raise ValueError(f"prior_std must be positive, got {out[1]}.")
    return out[0], out[1]


def check_mergeable(estimator, other) -> None:
    """Refuse to merge ``other`` into ``estimator`` unless it is a fitted
    estimator of the same class, parameters, features and targets."""
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(other, type(estimator)):
        raise TypeError(
            f"can only merge {type(estimator).__name__} estimators, got "
            f"{type(other).__name__}."
        )
    check_is_fitted(other)
    params, other_params = (e.get_params(deep=False) for e in (estimator, other))
    for name, value in params.items():
        if not _same_param(value, other_params[name]):
            raise ValueError(
                f"cannot merge estimators with different {name} "
                f"({value!r} and {other_params[name]!r}); fit every "
                "shard with the same parameters."
            )
    if other.n_features_in_ != estimator.n_features_in_:
        raise ValueError(
            "cannot merge estimators fitted on different numbers of "
            f"features ({estimator.n_features_in_} and {other.n_features_in_})."
        )
    names = [getattr(e, "feature_names_in_", None) for e in (estimator, other)]
    if (names[0] is None) != (names[1] is None) or (
        names[0] is not None and not np.array_equal(*names)
    ):
        raise ValueError(
            "cannot merge estimators fitted on different feature names "
            f"({names[0]} and {names[1]})."
        )
    if np.shape(other.intercept_) != np.shape(estimator.intercept_):
        raise ValueError(
            "cannot merge estimators fitted on different numbers of targets."
        )


def _same_param(a, b) -> bool:
    """Whether two parameter values are equal (arrays elementwise)."""
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a is b or a == b
    try:
        return bool(
            np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        )
    except (TypeError, ValueError):
        return a == b
