"""Central prediction intervals: coverage, width and the interval score."""

from __future__ import annotations

import numpy as np

from ..utils._checks import check_coverage, check_y_true
from ._common import _average, _intervals


def interval_coverage(
    y_true,
    y_pred,
    y_std=None,
    *,
    coverage: float = 0.95,
    sample_weight=None,
    multioutput="uniform_average",
):
    """Fraction of observations inside their central predictive interval.

    A calibrated predictive gives about ``coverage``.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
    y_pred : PredictiveDistribution, array-like of shape (n,), (n, 2) or (n, k, 2)
        Distributions, Gaussian means (with ``y_std``), or the interval
        bounds themselves (lower, upper on the last axis).
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.
    coverage : float, default=0.95
        Nominal probability of the central interval, in (0, 1). Ignored when
        ``y_pred`` holds the bounds.
    sample_weight : array-like of shape (n,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        How the scores of k targets (a prediction of batch shape (n, k))
        combine, as in scikit-learn's regression metrics: ``"raw_values"``
        gives one score per target, shape (k,) (shape (1,) for one target);
        ``"uniform_average"`` (the default) their mean; an array of weights
        their weighted mean.

    Returns
    -------
    float, or ndarray of shape (k,) with ``multioutput="raw_values"``

    Examples
    --------
    >>> from bayesreg.metrics import interval_coverage
    >>> interval_coverage([0.0, 1.5, 3.0], [[-1, 1], [-1, 1], [2, 4]])
    0.6666666666666666
    """
    coverage = check_coverage(coverage)
    bounds = _intervals(y_pred, y_std, coverage)
    y = check_y_true(y_true, bounds.shape[0], bounds.shape[:-1])
    inside = (y >= bounds[..., 0]) & (y <= bounds[..., 1])
    return _average(inside.astype(float), sample_weight, multioutput)


def mean_interval_width(
    y_pred,
    y_std=None,
    *,
    coverage: float = 0.95,
    sample_weight=None,
    multioutput="uniform_average",
):
    """Mean width of the central predictive intervals (smaller is sharper).

    Parameters
    ----------
    y_pred : PredictiveDistribution, array-like of shape (n,), (n, 2) or (n, k, 2)
        Distributions, Gaussian means (with ``y_std``), or the interval
        bounds themselves (lower, upper on the last axis).
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.
    coverage : float, default=0.95
        Nominal probability of the central interval, in (0, 1). Ignored when
        ``y_pred`` holds the bounds.
    sample_weight : array-like of shape (n,), default=None
        Weights of the points in the average.
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        How the scores of k targets (a prediction of batch shape (n, k))
        combine, as in scikit-learn's regression metrics: ``"raw_values"``
        gives one score per target, shape (k,) (shape (1,) for one target);
        ``"uniform_average"`` (the default) their mean; an array of weights
        their weighted mean.

    Returns
    -------
    float, or ndarray of shape (k,) with ``multioutput="raw_values"``

    Examples
    --------
    >>> from bayesreg.metrics import mean_interval_width
    >>> round(mean_interval_width([0.0, 0.0], [1.0, 2.0], coverage=0.95), 3)
    5.88
    """
    coverage = check_coverage(coverage)
    bounds = _intervals(y_pred, y_std, coverage)
    return _average(bounds[..., 1] - bounds[..., 0], sample_weight, multioutput)


def interval_score(
    y_true,
    y_pred,
    y_std=None,
    *,
    coverage: float = 0.95,
    sample_weight=None,
    multioutput="uniform_average",
):
    """Mean interval score of central prediction intervals (lower is better).

    For the central interval ``[l, u]`` at level ``1 - alpha``::

        S = (u - l) + (2 / alpha) (l - y) 1{y < l} + (2 / alpha) (y - u) 1{y > u}

    a proper score that rewards narrow intervals and charges for every miss
    in proportion to its distance.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
    y_pred : PredictiveDistribution, array-like of shape (n,), (n, 2) or (n, k, 2)
        Distributions, Gaussian means (with ``y_std``) or interval bounds.
    y_std : array-like of shape (n,), default=None
    coverage : float, default=0.95
        ``1 - alpha``, in (0, 1); with explicit bounds it still sets the
        penalty ``2 / alpha``.
    sample_weight : array-like of shape (n,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        How the scores of k targets (a prediction of batch shape (n, k))
        combine, as in scikit-learn's regression metrics: ``"raw_values"``
        gives one score per target, shape (k,) (shape (1,) for one target);
        ``"uniform_average"`` (the default) their mean; an array of weights
        their weighted mean.

    Returns
    -------
    float, or ndarray of shape (k,) with ``multioutput="raw_values"``

    References
    ----------
    .. [1] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", JASA 102 (477), 2007, eq. (43).

    Examples
    --------
    >>> from bayesreg.metrics import interval_score
    >>> # widths 2 and 2; the second point misses by 0.5 at alpha = 0.1
    >>> round(interval_score([0.0, 1.5], [[-1, 1], [-1, 1]], coverage=0.9), 10)
    7.0
    """
    coverage = check_coverage(coverage)
    alpha = 1.0 - coverage
    bounds = _intervals(y_pred, y_std, coverage)
    y = check_y_true(y_true, bounds.shape[0], bounds.shape[:-1])
    lower, upper = bounds[..., 0], bounds[..., 1]
    score = (
        (upper - lower)
        + (2.0 / alpha) * np.clip(lower - y, 0.0, None)
        + (2.0 / alpha) * np.clip(y - upper, 0.0, None)
    )
    return _average(score, sample_weight, multioutput)
