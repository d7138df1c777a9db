"""The one dask seam: dask arrays in and out of the Gaussian linear models.

Every place where a dask array takes another path than a NumPy array is in
this package; the functions below take either and choose. The rest of
bayesreg (the estimators, :mod:`bayesreg.distributions`, the predictive
contract) is NumPy code.

A dask array is never converted to NumPy on the client. Fitting reduces it
to its sufficient statistics (:mod:`._fit`): every row block yields its own
:class:`~bayesreg._gram.GramStats` (the NumPy ``gram_stats``, run where
the block lives), and the blocks' statistics are combined up a tree by the
exact ``merge_stats`` (Chan, Golub & LeVeque 1979). The client receives
O(d^2) numbers whatever the number of rows. Predictions stay lazy
(:mod:`._predict`): dask arrays computed by ``map_blocks`` over the row
blocks of X, and distributions whose parameters are such arrays (the lazy
forms of ``Normal`` and ``StudentT``, built by :func:`distribution`).

dask is imported inside the functions and nowhere else in bayesreg: a dask
path is taken only when :func:`is_dask_collection` says that an argument
already is a dask object, which means dask was imported by the user.
``import bayesreg`` and NumPy fits never import it.
"""

from __future__ import annotations

import numpy as np

from .. import _gaussian, _intake
from . import _predict
from ._core import is_dask_collection
from ._fit import SPLIT_EVERY, tree_gram_stats, validate_predict_X, validate_Xy
from ._predict import distribution

__all__ = [
    "SPLIT_EVERY",
    "add_noise",
    "distribution",
    "is_dask_collection",
    "predictive_moments",
    "tree_gram_stats",
    "validated_X",
    "validated_gram_stats",
]


def validated_gram_stats(
    estimator, X, y, sample_weight, *, center: bool, reset: bool, solver="primal"
) -> _intake.FitData:
    """Validate fitting data and reduce it to its sufficient statistics.

    NumPy or SciPy sparse input goes through
    :func:`bayesreg._intake.validated_fit_data` (which may choose the dual
    form, with no statistics); if any of ``X``, ``y``, ``sample_weight`` is
    a dask array, the lazy validation and the tree reduction take over, with
    the same checks and errors. Dask data always take the primal form (its
    statistics are what the tree reduction merges): ``solver="dual"``, a
    2-D y and sparse blocks are refused.

    Returns
    -------
    data : FitData
        The validated arrays (NumPy, SciPy sparse, or float64 dask arrays
        with common row chunks), the statistics and the form.
    """
    if any(is_dask_collection(a) for a in (X, y, sample_weight)):
        if solver == "dual":
            raise ValueError(
                "solver='dual' needs X in memory (it works on the n x n kernel "
                "matrix of the rows); a dask X is reduced to its p x p "
                "statistics: use solver='auto' or 'primal'."
            )
        X, y, sample_weight = validate_Xy(estimator, X, y, sample_weight, reset=reset)
        stats = tree_gram_stats(X, y, sample_weight, center=center)
        return _intake.FitData(X, y, sample_weight, stats, "primal")
    return _intake.validated_fit_data(
        estimator, X, y, sample_weight, center=center, reset=reset, solver=solver
    )


def validated_X(estimator, X, *, reset: bool | None = False):
    """``validate_data(estimator, X, dtype=np.float64, reset=False)``, lazily
    for a dask array (whose NaN/inf check then runs as its blocks compute).

    ``reset=None`` skips the feature checks (an unfitted estimator drawing
    from its prior).
    """
    if is_dask_collection(X):
        return validate_predict_X(estimator, X, reset=reset)
    return _intake.validated_predict_X(estimator, X, reset=reset)


def predictive_moments(post: _gaussian.SpectralPosterior, X):
    """:func:`bayesreg._gaussian.predictive_moments` ((n, k) mean and
    variance of the regression function), by row blocks for a dask ``X``
    (one target: dask fits refuse a 2-D y)."""
    if is_dask_collection(X):
        return _predict.predictive_moments(post, X)
    return _gaussian.predictive_moments(post, X)


def add_noise(f, noise_std: np.ndarray, rng: np.random.Generator):
    """``f + noise_std * N(0, 1)`` for f of shape (n, S), one noise std per
    column; a NumPy ``f`` is updated in place, a dask ``f`` draws each row
    block from its own seed."""
    if is_dask_collection(f):
        return _predict.add_noise(f, noise_std, rng)
    f += noise_std * rng.standard_normal(f.shape)
    return f
