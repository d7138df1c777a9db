"""The data intake shared by the Pyro and network estimators.

Sparse X, several targets, float32 and the checks of extreme values, once for
:class:`~bayesreg.PyroBayesianLinear`, :class:`~bayesreg.PyroBNNRegressor`
and :class:`~bayesreg.DeepEnsembleRegressor`:

- a ``scipy.sparse`` X (CSR, CSC, COO; matrices or arrays) is validated as
  CSR and never densified as a whole: its column means and spreads come from
  its non-zeros (:func:`weighted_scale`), and the networks densify the rows
  of one minibatch or one prediction chunk at a time (:class:`Rows`);
- ``y`` of shape (n, k) is accepted (``multi_output=True``);
- entries beyond 1e150 in magnitude (whose squares overflow) and columns
  whose largest entry is below 1e-150 (whose squares underflow, so that
  their spread would read as zero) are refused with an error naming the
  argument;
- :class:`Float32Output` returns float32 predictions and stds for a model
  fitted on float32 X and asked about float32 X, as ``Ridge`` does (the
  numerics stay float64 inside).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._base import BayesianRegressorMixin
from ..utils._checks import is_float32, naming_the_argument
from ..utils._state import MAX_ABS_INPUT, check_magnitude

__all__ = [
    "FIT_LOOP_CONSTRAINTS",
    "MIN_ABS_INPUT",
    "SPARSE_FORMAT",
    "Float32Output",
    "Rows",
    "check_extremes",
    "dense",
    "weighted_scale",
]

#: The parameters every torch estimator's fitting loop shares, with one set of
#: constraints (the Pyro base and the network base both take them from here)
FIT_LOOP_CONSTRAINTS: dict = {
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "device": [StrOptions({"cpu", "cuda", "auto"})],
    "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state", np.random.Generator],
    "verbose": ["verbose"],
}

#: What a sparse X is converted to (rows are sliced; COO and CSC are copied
#: once into it, never densified).
SPARSE_FORMAT = "csr"

#: A column whose largest entry is below this in magnitude (and not zero) is
#: refused: its square, and so its variance, underflows float64 (1e-300 is
#: near the smallest normal number, 2.2e-308), the mirror of MAX_ABS_INPUT.
MIN_ABS_INPUT = 1.0 / MAX_ABS_INPUT

#: Rows densified at once when a sparse X is predicted on.
CHUNK_ROWS = 4096


def _column_extremes(a) -> np.ndarray:
    """Largest magnitude of each column of a 2-D array (or the array if 1-D),
    without a copy of a dense array."""
    if sp.issparse(a):
        hi = a.max(axis=0).toarray().ravel()
        lo = a.min(axis=0).toarray().ravel()
    else:
        a = np.asarray(a)
        if a.dtype == bool:  # sklearn fits a bool y as 0/1
            a = a.astype(np.float64)
        if a.size == 0:
            return np.zeros(0)
        hi, lo = a.max(axis=0), a.min(axis=0)
    return np.atleast_1d(np.maximum(hi, -lo))


def check_extremes(a, name: str, *, small: bool = True) -> None:
    """Refuse entries whose squares overflow, and (``small``) columns whose
    squares underflow, with a ValueError naming ``name``."""
    check_magnitude(a.data if sp.issparse(a) else a, name)
    if not small or a.shape[0] == 0:
        return
    top = _column_extremes(a)
    tiny = (top > 0) & (top < MIN_ABS_INPUT)
    if np.any(tiny):
        j = int(np.argmax(tiny))
        where = f" (column {j})" if np.ndim(a) == 2 and a.shape[1] > 1 else ""
        raise ValueError(
            f"{name} has values no larger than {top[j]:.3g} in magnitude{where}, "
            f"below {MIN_ABS_INPUT:.0e}: their squares and variances underflow "
            f"float64, so their spread cannot be measured. Rescale {name} (for "
            "example multiply it by a power of ten) before fitting."
        )


def validated_predict_X(estimator, X):
    """Validated float64 X at predict (CSR when sparse), named in sklearn's
    errors, its magnitude checked (the shared intake of the Pyro estimators
    and the ensemble)."""
    check_is_fitted(estimator)
    with naming_the_argument(X, accept_sparse=SPARSE_FORMAT):
        X = validate_data(
            estimator, X, reset=False, dtype=np.float64, accept_sparse=SPARSE_FORMAT
        )
    check_extremes(X, "X", small=False)
    return X


def dense(X) -> np.ndarray:
    """A dense float64 array of ``X`` (a sparse block of rows densified)."""
    return X.toarray() if sp.issparse(X) else X


def weighted_scale(X, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted column means and stds of a sparse CSR ``X`` from its non-zeros.

    ``p`` holds non-negative weights summing to 1. The variance is summed as
    ``sum_nz p_i (x_ij - m_j)^2 + m_j^2 sum_zero p_i`` (no cancellation, the
    same terms as the dense ``p @ (x - m)^2``). A column whose std is at the
    rounding level of its entries keeps scale 1, as in the dense rule.
    """
    X = sp.csr_array(X)
    d = X.shape[1]
    row = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    pw = p[row]
    mean = np.bincount(X.indices, weights=pw * X.data, minlength=d)
    nz_mass = np.bincount(X.indices, weights=pw, minlength=d)
    dev = X.data - mean[X.indices]
    var = np.bincount(X.indices, weights=pw * dev * dev, minlength=d)
    var += mean**2 * np.clip(1.0 - nz_mass, 0.0, None)
    std = np.sqrt(var)
    rounding = 64 * np.finfo(np.float64).eps * _column_extremes(X)
    return mean, np.where(std <= rounding, 1.0, std)


class Rows:
    """The standardised rows of a sparse X, densified a block at a time.

    ``rows(idx)`` is ``(X[idx] - mean) / scale`` as a dense float64 array of
    shape ``idx.shape + (d,)``, then passed through ``post`` (the ensemble
    snaps it to its grid): the same numbers as the dense path computes for
    those rows, without X ever being dense as a whole.
    """

    def __init__(self, X, mean: np.ndarray, scale: np.ndarray, post=None):
        self.X = sp.csr_array(X)
        self.mean, self.scale, self.post = mean, scale, post
        self.shape = self.X.shape

    def __call__(self, idx) -> np.ndarray:
        idx = np.asarray(idx)
        out = (self.X[idx.ravel()].toarray() - self.mean) / self.scale
        if self.post is not None:
            out = self.post(out)
        return out.reshape(*idx.shape, self.shape[1])

    def chunks(self, size: int | None = None):
        """The rows in order, ``size`` (default :data:`CHUNK_ROWS`) at a time."""
        size = CHUNK_ROWS if size is None else size
        for start in range(0, self.shape[0], size):
            yield self(np.arange(start, min(start + size, self.shape[0])))


class Float32Output:
    """float32 predictions and stds for a float32 fit asked about float32 X.

    A mixin placed before :class:`~bayesreg._base.BayesianRegressorMixin`;
    the estimator sets ``_float32`` at fit (whether X was float32).
    """

    def _cast(self, X, out):
        if getattr(self, "_float32", False) and is_float32(X):
            if isinstance(out, tuple):
                return tuple(np.asarray(o, dtype=np.float32) for o in out)
            return np.asarray(out, dtype=np.float32)
        return out

    def predict(self, X, return_std: bool = False):
        return self._cast(X, super().predict(X, return_std=return_std))

    def predict_std(self, X, kind: str = "total"):
        return self._cast(X, super().predict_std(X, kind=kind))

    def predict_interval(self, X, coverage: float = 0.95):
        return self._cast(X, super().predict_interval(X, coverage=coverage))

    # the docstrings are the contract's
    predict.__doc__ = BayesianRegressorMixin.predict.__doc__
    predict_std.__doc__ = BayesianRegressorMixin.predict_std.__doc__
    predict_interval.__doc__ = BayesianRegressorMixin.predict_interval.__doc__
