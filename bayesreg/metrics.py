"""Scoring rules for predictive distributions, and scikit-learn scorers.

GridSearchCV scores with ``predict``, so out of the box nobody tunes for good
uncertainty. This module closes that gap in two layers:

* plain functions on arrays: ``y_true`` against a predictive distribution given
  either as a :mod:`bayesreg.distributions` object or as a Gaussian ``mean``
  plus ``y_std`` (NLPD, CRPS, interval coverage, width and score, PIT values,
  calibration error, sharpness);
* :class:`PredictiveScorer` objects with sklearn's ``(estimator, X, y)``
  signature, greater-is-better, which plug into stock ``GridSearchCV``,
  ``RandomizedSearchCV``, ``cross_validate`` and ``permutation_importance``
  (alone or in a dict for multi-metric scoring).

Both layers reach the predictive distribution through :func:`predict_dist`,
which looks through ``Pipeline``, fitted search objects and
``TransformedTargetRegressor`` (pushing the predictive forward through any
strictly monotone target transform, a log or a ``PowerTransformer``), and
wraps any sklearn regressor whose ``predict`` accepts ``return_std``
(BayesianRidge, ARDRegression, GaussianProcessRegressor) as a Normal.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np
from scipy import special, stats
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import ARDRegression, BayesianRidge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from .distributions import (
    _KNOWN_MAPS,
    _TANH_SINH,
    Normal,
    NormalMixture,
    PredictiveDistribution,
    StudentT,
    TransformedDistribution,
    _Affine,
    _row_chunks,
    _row_subset,
)
from .utils._checks import (
    check_array_1d,
    check_coverage,
    check_levels,
    check_sample_weight,
    check_std,
    check_y_true,
)

__all__ = [
    "PredictiveScorer",
    "calibration_curve",
    "calibration_error",
    "crps",
    "crps_normal",
    "crps_normal_mixture",
    "crps_student_t",
    "get_scorer",
    "get_scorer_names",
    "interval_coverage",
    "interval_score",
    "log_predictive_density",
    "mean_crps",
    "mean_interval_width",
    "mean_nlpd",
    "neg_calibration_error_scorer",
    "neg_coverage_error_scorer",
    "neg_crps_scorer",
    "neg_interval_score_scorer",
    "neg_mean_interval_width_scorer",
    "neg_nlpd_scorer",
    "pit",
    "predict_dist",
    "sharpness",
]

_SQRT_PI = np.sqrt(np.pi)
# Largest number of (row, component, component) triples evaluated at once by
# the mixture CRPS; bounds its memory to a few tens of MB.
_MIXTURE_CHUNK = 2**21


# --------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------
def _as_dist(y_pred, y_std=None, *, strict: bool = False) -> PredictiveDistribution:
    """A distribution object, or a Normal built from ``mean`` and ``y_std``."""
    if isinstance(y_pred, PredictiveDistribution):
        if y_std is not None:
            raise ValueError(
                "y_std must be None when y_pred is a predictive distribution."
            )
        return y_pred
    if y_std is None:
        raise ValueError(
            "y_pred is an array of means: pass its standard deviations as y_std, "
            "or pass a bayesreg.distributions object instead."
        )
    mean = np.asarray(y_pred, dtype=float)
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if mean.ndim != 1:
        raise ValueError(f"y_pred must be one-dimensional, got shape {mean.shape}.")
    mean = check_array_1d("y_pred", mean, mean.shape[0])
    return Normal(mean, check_std(y_std, mean.shape[0], strict=strict))


def _intervals(y_pred, y_std, coverage: float) -> np.ndarray:
    """Central intervals (n, 2); ``y_pred`` may already be an (n, 2) array."""
    if not isinstance(y_pred, PredictiveDistribution) and y_std is None:
        bounds = np.asarray(y_pred, dtype=float)
        if bounds.ndim == 2 and bounds.shape[1] == 2:
            if not np.all(np.isfinite(bounds)):
                raise ValueError("interval bounds contain NaN or infinite values.")
            if np.any(bounds[:, 0] > bounds[:, 1]):
                raise ValueError("interval lower bounds must not exceed upper bounds.")
            return bounds
    return _as_dist(y_pred, y_std).interval(coverage)


def _weighted_mean(values: np.ndarray, sample_weight) -> float:
    w = check_sample_weight(sample_weight, values.shape[0])
    return float(np.average(values, weights=w))


# --------------------------------------------------------------------------
# log predictive density
# --------------------------------------------------------------------------
def mean_nlpd(y_true, y_pred, y_std=None, *, sample_weight=None) -> float:
    """Mean negative log predictive density (lower is better).

    The logarithmic score of Good (1952): the average of ``-log p(y_i)`` under
    each point's predictive distribution. Strictly proper; it punishes
    over-confident predictions without bound.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed targets.
    y_pred : PredictiveDistribution or array-like of shape (n,)
        The predictive distributions, or their means when ``y_std`` is given
        (the predictive is then taken to be Gaussian).
    y_std : array-like of shape (n,), default=None
        Predictive standard deviations (strictly positive) of a Gaussian
        predictive; only with an array ``y_pred``.
    sample_weight : array-like of shape (n,), default=None
        Weights of the points in the average.

    Returns
    -------
    float

    See Also
    --------
    log_predictive_density : pointwise log densities from an estimator.

    References
    ----------
    .. [1] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", JASA 102 (477), 2007.

    Examples
    --------
    >>> from bayesreg.metrics import mean_nlpd
    >>> round(mean_nlpd([0.0, 1.0], [0.0, 0.0], y_std=[1.0, 1.0]), 4)
    1.1689
    """
    dist = _as_dist(y_pred, y_std, strict=True)
    y = check_y_true(y_true, dist.n)
    logp = dist.logpdf(y)
    return -_weighted_mean(_check_log_density(logp), sample_weight)


def _check_log_density(logp) -> np.ndarray:
    logp = np.asarray(logp, dtype=float)
    if np.any(np.isnan(logp)):
        raise ValueError("the log predictive density is NaN; is a predictive std zero?")
    return logp


# --------------------------------------------------------------------------
# CRPS
# --------------------------------------------------------------------------
def _abs_normal_moment(m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """E|Z| for Z ~ Normal(m, s^2), s > 0 (the folded-Normal mean)."""
    z = m / s
    return m * (2.0 * special.ndtr(z) - 1.0) + 2.0 * s * np.exp(-0.5 * z**2) / np.sqrt(
        2.0 * np.pi
    )


def crps_normal(y, loc, scale) -> np.ndarray:
    """CRPS of Normal(loc, scale^2) forecasts, in closed form.

    ``CRPS = scale * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with
    ``z = (y - loc) / scale``; a zero scale gives the absolute error.

    Parameters
    ----------
    y, loc, scale : array-like, broadcastable
        Observations, means and standard deviations (non-negative).

    Returns
    -------
    ndarray
        Pointwise CRPS, in the units of ``y``.

    References
    ----------
    .. [1] T. Gneiting, A. E. Raftery, A. H. Westveld and T. Goldman,
       "Calibrated probabilistic forecasting using ensemble model output
       statistics and minimum CRPS estimation", Monthly Weather Review 133,
       2005, eq. (5).

    Examples
    --------
    >>> from bayesreg.metrics import crps_normal
    >>> crps_normal(0.0, 0.0, [1.0, 0.0]).round(4)  # (sqrt(2) - 1) / sqrt(pi), then MAE
    array([0.2337, 0.    ])
    """
    y, loc, scale = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (y, loc, scale))
    )
    if np.any(scale < 0):
        raise ValueError("scale must be non-negative.")
    pos = scale > 0
    s = np.where(pos, scale, 1.0)
    z = (y - loc) / s
    out = s * (
        z * (2.0 * special.ndtr(z) - 1.0) + 2.0 * stats.norm.pdf(z) - 1 / _SQRT_PI
    )
    return np.where(pos, out, np.abs(y - loc))


def crps_student_t(y, df, loc, scale) -> np.ndarray:
    """CRPS of location-scale Student-t forecasts, in closed form.

    With ``z = (y - loc) / scale`` and ``F_nu``, ``f_nu`` the standard t CDF and
    density::

        CRPS = scale * (z (2 F(z) - 1) + 2 f(z) (nu + z^2) / (nu - 1)
                        - 2 sqrt(nu) B(1/2, nu - 1/2) / ((nu - 1) B(1/2, nu/2)^2))

    The formula needs a finite mean, ``df > 1``. As ``df`` grows it tends to
    :func:`crps_normal`; the Beta-function constant is evaluated in log space
    so large ``df`` stays accurate.

    Parameters
    ----------
    y, df, loc, scale : array-like, broadcastable
        Observations, degrees of freedom (> 1), locations and scales
        (non-negative).

    Returns
    -------
    ndarray
        Pointwise CRPS.

    References
    ----------
    .. [1] A. Jordan, F. Krüger and S. Lerch, "Evaluating probabilistic
       forecasts with scoringRules", Journal of Statistical Software 90 (12),
       2019, section on the t distribution.

    Examples
    --------
    >>> from bayesreg.metrics import crps_normal, crps_student_t
    >>> crps_student_t([0.5], 3.0, 0.0, 1.0).round(4)
    array([0.3651])
    >>> t, n = crps_student_t(0.5, 1e6, 0.0, 1.0), crps_normal(0.5, 0.0, 1.0)
    >>> bool(abs(t - n) < 1e-6)
    True
    """
    arrays = (np.asarray(a, dtype=float) for a in (y, df, loc, scale))
    y, df, loc, scale = np.broadcast_arrays(*arrays)
    if np.any(scale < 0):
        raise ValueError("scale must be non-negative.")
    if np.any(~(df > 1)):
        raise ValueError("the closed-form Student-t CRPS needs df > 1 (a finite mean).")
    pos = scale > 0
    s = np.where(pos, scale, 1.0)
    z = (y - loc) / s
    const = (
        2.0
        * np.sqrt(df)
        / (df - 1.0)
        * np.exp(special.betaln(0.5, df - 0.5) - 2.0 * special.betaln(0.5, 0.5 * df))
    )
    out = s * (
        z * (2.0 * stats.t.cdf(z, df) - 1.0)
        + 2.0 * stats.t.pdf(z, df) * (df + z**2) / (df - 1.0)
        - const
    )
    return np.where(pos, out, np.abs(y - loc))


def crps_normal_mixture(y, locs, scales) -> np.ndarray:
    """Exact CRPS of equally weighted Normal mixtures.

    Uses the kernel form ``CRPS = E|X - y| - E|X - X'| / 2`` with the absolute
    moment of a Normal, ``E|N(m, s^2)| = m (2 Phi(m/s) - 1) + 2 s phi(m/s)``
    (Grimit et al., 2006). For n points with S components each this costs
    O(n S^2) evaluations, done in vectorised chunks of rows to bound memory.

    Parameters
    ----------
    y : array-like of shape (n,)
        Observations.
    locs : array-like of shape (n, S)
        Component means (for example posterior draws of the regression
        function).
    scales : array-like of shape (S,) or (n, S)
        Component standard deviations (positive).

    Returns
    -------
    ndarray of shape (n,)

    References
    ----------
    .. [1] E. P. Grimit, T. Gneiting, V. J. Berrocal and N. A. Johnson, "The
       continuous ranked probability score for circular variables and its
       application to mesoscale forecast ensemble verification", QJRMS 132,
       2006, eq. (A1).
    .. [2] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", JASA 102 (477), 2007, eq. (21).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.metrics import crps_normal, crps_normal_mixture
    >>> # A "mixture" of identical components is a single Normal.
    >>> crps_normal_mixture([0.3], [[1.0, 1.0]], [2.0, 2.0]).round(6)
    array([0.564145])
    >>> crps_normal([0.3], 1.0, 2.0).round(6)
    array([0.564145])
    """
    locs = np.asarray(locs, dtype=float)
    if locs.ndim != 2:
        raise ValueError(f"locs must have shape (n, S), got {locs.shape}.")
    n, n_comp = locs.shape
    y = check_y_true(y, n)
    scales = np.asarray(scales, dtype=float)
    if scales.ndim == 1:
        scales = scales[None, :]
    try:
        scales = np.broadcast_to(scales, locs.shape)
    except ValueError:
        raise ValueError(
            f"scales must have shape ({n_comp},) or ({n}, {n_comp}), "
            f"got {np.shape(scales)}."
        ) from None
    if not (np.all(np.isfinite(locs)) and np.all(np.isfinite(scales))):
        raise ValueError("locs and scales must be finite.")
    if np.any(scales <= 0):
        raise ValueError("scales must be positive.")
    # E|X - y|: O(n S).
    term1 = _abs_normal_moment(y[:, None] - locs, scales).mean(axis=1)
    # E|X - X'|: O(n S^2), in row chunks.
    term2 = np.empty(n)
    step = max(1, _MIXTURE_CHUNK // (n_comp * n_comp))
    var = scales**2
    for start in range(0, n, step):
        sl = slice(start, start + step)
        diff = locs[sl, :, None] - locs[sl, None, :]
        sd = np.sqrt(var[sl, :, None] + var[sl, None, :])
        term2[sl] = _abs_normal_moment(diff, sd).mean(axis=(1, 2))
    return term1 - 0.5 * term2


def crps(y_true, y_pred, y_std=None) -> np.ndarray:
    """Pointwise continuous ranked probability score (lower is better).

    ``CRPS(F, y) = integral (F(x) - 1{x >= y})^2 dx``: a strictly proper score
    in the units of ``y`` that reduces to the absolute error for a point
    forecast. Computed in closed form for :class:`~bayesreg.distributions.Normal`
    (or ``mean`` and ``y_std``), :class:`~bayesreg.distributions.StudentT`
    (df > 1) and :class:`~bayesreg.distributions.NormalMixture`, and for a
    :class:`~bayesreg.distributions.TransformedDistribution` from its
    quantile function, ``CRPS = 2 integral_0^1 rho_u(y - Q(u)) du`` with the
    pinball loss ``rho_u``, by tanh-sinh quadrature on either side of
    ``u = F(y)`` (about 1e-10 relative; infinite where the mean is).

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : PredictiveDistribution or array-like of shape (n,)
        Distributions, or Gaussian means when ``y_std`` is given.
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    TypeError
        For any other distribution type.

    See Also
    --------
    crps_normal, crps_student_t, crps_normal_mixture, mean_crps

    References
    ----------
    .. [1] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", JASA 102 (477), 2007, section 4.2.

    Examples
    --------
    >>> from bayesreg.distributions import StudentT
    >>> from bayesreg.metrics import crps
    >>> crps([0.0, 2.0], StudentT(4.0, [0.0, 0.0], [1.0, 1.0])).round(3)
    array([0.264, 1.385])
    """
    dist = _as_dist(y_pred, y_std)
    y = check_y_true(y_true, dist.n)
    if isinstance(dist, Normal):
        return crps_normal(y, dist.loc, dist.scale)
    if isinstance(dist, StudentT):
        return crps_student_t(y, dist.df, dist.loc, dist.scale)
    if isinstance(dist, NormalMixture):
        return crps_normal_mixture(y, dist.locs, dist.scales)
    if isinstance(dist, TransformedDistribution):
        return _crps_by_quantiles(y, dist)
    raise TypeError(f"no closed-form CRPS for {type(dist).__name__}.")


def _crps_by_quantiles(y: np.ndarray, dist: TransformedDistribution) -> np.ndarray:
    """CRPS from the quantile function, by quadrature.

    ``CRPS = 2 integral_0^1 rho_u(y - Q(u)) du`` with the pinball loss
    ``rho_u``, split at the kink ``u* = F(y)``::

        CRPS / 2 = integral_0^u* u (y - Q(u)) du
                 + integral_u*^1 (1 - u) (Q(u) - y) du,

    each piece by the tanh-sinh rule (smooth inside, so about 1e-10
    relative). Infinite where the predictive mean is (the CRPS needs a
    finite mean).
    """
    finite = np.isfinite(dist.mean)
    if not np.any(finite):
        return np.full(dist.n, np.inf)
    p, c, w = _TANH_SINH
    tiny = np.finfo(float).tiny
    u = np.clip(dist.cdf(y), 0.0, 1.0)
    v = 1.0 - u
    out = np.empty(dist.n)
    root = dist._root
    for rows in _row_chunks(dist.n, 2 * len(w), root):
        sub = _row_subset(root, rows)
        sub = root if sub is None else sub
        ur, vr, yr = u[rows, None], v[rows, None], y[rows, None]
        lo_p, lo_c = np.maximum(ur * p, tiny), vr + ur * c
        hi_p, hi_c = ur + vr * p, np.maximum(vr * c, tiny)
        with np.errstate(invalid="ignore"):
            below = ((lo_p * (yr - dist._quantile(lo_p, lo_c, rows, sub))) @ w) * u[
                rows
            ]
            above = ((hi_c * (dist._quantile(hi_p, hi_c, rows, sub) - yr)) @ w) * v[
                rows
            ]
        out[rows] = 2.0 * (
            np.where(u[rows] > 0, below, 0.0) + np.where(v[rows] > 0, above, 0.0)
        )
    return np.where(finite, out, np.inf)


def mean_crps(y_true, y_pred, y_std=None, *, sample_weight=None) -> float:
    """Mean continuous ranked probability score (lower is better).

    The (weighted) average of :func:`crps`.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed targets.
    y_pred : PredictiveDistribution or array-like of shape (n,)
        Distributions, or Gaussian means when ``y_std`` is given.
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.
    sample_weight : array-like of shape (n,), default=None
        Weights of the points in the average.

    Returns
    -------
    float

    References
    ----------
    .. [1] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", JASA 102 (477), 2007.

    Examples
    --------
    >>> from bayesreg.metrics import mean_crps
    >>> round(mean_crps([0.0, 1.0], [0.0, 0.0], y_std=[1.0, 1.0]), 4)
    0.4181
    """
    return _weighted_mean(crps(y_true, y_pred, y_std), sample_weight)


# --------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------
def interval_coverage(
    y_true, y_pred, y_std=None, *, coverage: float = 0.95, sample_weight=None
) -> float:
    """Fraction of observations inside their central predictive interval.

    A calibrated predictive gives about ``coverage``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : PredictiveDistribution, array-like of shape (n,) or (n, 2)
        Distributions, Gaussian means (with ``y_std``), or the interval
        bounds themselves (lower, upper columns).
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.
    coverage : float, default=0.95
        Nominal probability of the central interval, in (0, 1). Ignored when
        ``y_pred`` holds the bounds.
    sample_weight : array-like of shape (n,), default=None

    Returns
    -------
    float

    Examples
    --------
    >>> from bayesreg.metrics import interval_coverage
    >>> interval_coverage([0.0, 1.5, 3.0], [[-1, 1], [-1, 1], [2, 4]])
    0.6666666666666666
    """
    coverage = check_coverage(coverage)
    bounds = _intervals(y_pred, y_std, coverage)
    y = check_y_true(y_true, bounds.shape[0])
    inside = (y >= bounds[:, 0]) & (y <= bounds[:, 1])
    return _weighted_mean(inside.astype(float), sample_weight)


def mean_interval_width(
    y_pred, y_std=None, *, coverage: float = 0.95, sample_weight=None
) -> float:
    """Mean width of the central predictive intervals (smaller is sharper).

    Parameters
    ----------
    y_pred : PredictiveDistribution, array-like of shape (n,) or (n, 2)
        Distributions, Gaussian means (with ``y_std``), or the interval
        bounds themselves (lower, upper columns).
    y_std : array-like of shape (n,), default=None
        Gaussian predictive standard deviations.
    coverage : float, default=0.95
        Nominal probability of the central interval, in (0, 1). Ignored when
        ``y_pred`` holds the bounds.
    sample_weight : array-like of shape (n,), default=None
        Weights of the points in the average.

    Returns
    -------
    float

    Examples
    --------
    >>> from bayesreg.metrics import mean_interval_width
    >>> round(mean_interval_width([0.0, 0.0], [1.0, 2.0], coverage=0.95), 3)
    5.88
    """
    coverage = check_coverage(coverage)
    bounds = _intervals(y_pred, y_std, coverage)
    return _weighted_mean(bounds[:, 1] - bounds[:, 0], sample_weight)


def interval_score(
    y_true, y_pred, y_std=None, *, coverage: float = 0.95, sample_weight=None
) -> float:
    """Mean interval score of central prediction intervals (lower is better).

    For the central interval ``[l, u]`` at level ``1 - alpha``::

        S = (u - l) + (2 / alpha) (l - y) 1{y < l} + (2 / alpha) (y - u) 1{y > u}

    a proper score that rewards narrow intervals and charges for every miss
    in proportion to its distance.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : PredictiveDistribution, array-like of shape (n,) or (n, 2)
        Distributions, Gaussian means (with ``y_std``) or interval bounds.
    y_std : array-like of shape (n,), default=None
    coverage : float, default=0.95
        ``1 - alpha``, in (0, 1); with explicit bounds it still sets the
        penalty ``2 / alpha``.
    sample_weight : array-like of shape (n,), default=None

    Returns
    -------
    float

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
    y = check_y_true(y_true, bounds.shape[0])
    lower, upper = bounds[:, 0], bounds[:, 1]
    score = (
        (upper - lower)
        + (2.0 / alpha) * np.clip(lower - y, 0.0, None)
        + (2.0 / alpha) * np.clip(y - upper, 0.0, None)
    )
    return _weighted_mean(score, sample_weight)


# --------------------------------------------------------------------------
# calibration and sharpness
# --------------------------------------------------------------------------
def pit(y_true, y_pred, y_std=None) -> np.ndarray:
    """Probability integral transform values ``F_i(y_i)``, shape (n,).

    For a calibrated predictive they are uniform on [0, 1]: a U-shaped
    histogram means over-confidence, a hump means under-confidence, a slope
    means bias.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : PredictiveDistribution or array-like of shape (n,)
    y_std : array-like of shape (n,), default=None

    Returns
    -------
    ndarray of shape (n,)

    References
    ----------
    .. [1] T. Gneiting, F. Balabdaoui and A. E. Raftery, "Probabilistic
       forecasts, calibration and sharpness", JRSS B 69 (2), 2007.

    Examples
    --------
    >>> from bayesreg.metrics import pit
    >>> pit([0.0, 1.0], [0.0, 0.0], [1.0, 1.0]).round(4)
    array([0.5   , 0.8413])
    """
    dist = _as_dist(y_pred, y_std)
    y = check_y_true(y_true, dist.n)
    return dist.cdf(y)


_CALIBRATION_KINDS = ("interval", "quantile")


def calibration_curve(
    y_true, y_pred, y_std=None, *, levels=None, kind: str = "interval"
) -> tuple[np.ndarray, np.ndarray]:
    """Observed against nominal probability, for a reliability diagram.

    With ``kind="interval"`` each level ``c`` is the nominal coverage of the
    central interval and the observed value is the fraction of ``y_true``
    inside it; with ``kind="quantile"`` each level ``q`` is a quantile level
    and the observed value is the fraction of ``y_true`` at or below the
    ``q``-quantile. Both are read off the PIT values, so no quantile function
    is evaluated. A calibrated predictive lies on the diagonal.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : PredictiveDistribution or array-like of shape (n,)
    y_std : array-like of shape (n,), default=None
    levels : array-like of shape (k,), default=None
        Nominal levels in (0, 1); default ``0.05, 0.10, ..., 0.95``.
    kind : {"interval", "quantile"}, default="interval"

    Returns
    -------
    nominal : ndarray of shape (k,)
    observed : ndarray of shape (k,)

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate uncertainties for
       deep learning using calibrated regression", ICML 2018.

    Examples
    --------
    >>> from bayesreg.metrics import calibration_curve
    >>> nominal, observed = calibration_curve(
    ...     [0.0, 0.5, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], levels=[0.5, 0.99]
    ... )
    >>> observed.round(3)
    array([0.667, 0.667])
    """
    if kind not in _CALIBRATION_KINDS:
        raise ValueError(f"kind must be one of {_CALIBRATION_KINDS}, got {kind!r}.")
    levels = check_levels(levels)
    u = pit(y_true, y_pred, y_std)
    if kind == "quantile":
        observed = (u[:, None] <= levels[None, :]).mean(axis=0)
    else:
        observed = (np.abs(u[:, None] - 0.5) <= 0.5 * levels[None, :]).mean(axis=0)
    return levels, observed


_NORMS = ("l1", "l2", "max")


def calibration_error(
    y_true,
    y_pred,
    y_std=None,
    *,
    levels=None,
    kind: str = "interval",
    norm: str = "l1",
) -> float:
    """Distance of the calibration curve from the diagonal (lower is better).

    ``norm="l1"`` is the mean absolute gap between observed and nominal over
    the levels (the mean absolute calibration error), ``"l2"`` the root mean
    squared gap and ``"max"`` the largest gap.

    Parameters
    ----------
    y_true, y_pred, y_std, levels, kind
        As for :func:`calibration_curve`.
    norm : {"l1", "l2", "max"}, default="l1"

    Returns
    -------
    float

    References
    ----------
    .. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate uncertainties for
       deep learning using calibrated regression", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.metrics import calibration_error
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=2000)
    >>> calibration_error(y, np.zeros(2000), np.ones(2000)) < 0.03
    True
    >>> calibration_error(y, np.zeros(2000), np.full(2000, 0.2)) > 0.3
    True
    """
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}.")
    nominal, observed = calibration_curve(
        y_true, y_pred, y_std, levels=levels, kind=kind
    )
    gap = np.abs(observed - nominal)
    if norm == "l1":
        return float(gap.mean())
    if norm == "l2":
        return float(np.sqrt(np.mean(gap**2)))
    return float(gap.max())


def sharpness(y_pred, y_std=None, *, sample_weight=None) -> float:
    """Root mean predictive variance ``sqrt(mean(std_i^2))`` (smaller is sharper).

    Sharpness says nothing about calibration on its own; report it next to
    :func:`calibration_error` or use a proper score such as :func:`mean_crps`.

    Parameters
    ----------
    y_pred : PredictiveDistribution or array-like of shape (n,)
    y_std : array-like of shape (n,), default=None
    sample_weight : array-like of shape (n,), default=None

    Returns
    -------
    float

    References
    ----------
    .. [1] T. Gneiting, F. Balabdaoui and A. E. Raftery, "Probabilistic
       forecasts, calibration and sharpness", JRSS B 69 (2), 2007.

    Examples
    --------
    >>> from bayesreg.metrics import sharpness
    >>> sharpness([0.0, 0.0], [1.0, 7.0])
    5.0
    """
    dist = _as_dist(y_pred, y_std)
    return float(np.sqrt(_weighted_mean(dist.std**2, sample_weight)))


# --------------------------------------------------------------------------
# estimators -> predictive distributions
# --------------------------------------------------------------------------
def _affine_of(transformer) -> tuple[float, float] | None:
    """(a, s) with ``inverse_transform(z) == a + s z``, or None if not affine."""
    z = np.array([[0.0], [1.0], [2.0], [-3.5]])
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = np.asarray(transformer.inverse_transform(z), dtype=float).reshape(-1)
    except ValueError:
        return None
    if v.shape != (4,) or not np.all(np.isfinite(v)):
        return None
    a, s = float(v[0]), float(v[1] - v[0])
    if s == 0 or not np.allclose(v, a + s * z[:, 0], rtol=1e-9, atol=0):
        return None
    return a, s


class _TargetFunction:
    """A fitted target transformer's ``transform`` or ``inverse_transform``
    as an elementwise function of arrays of any shape.

    ``TransformedTargetRegressor`` fits its transformer on y as one column,
    so values go in as (m, 1). Where the transformer refuses a value (a
    Box-Cox transform of y <= 0) or the value is not finite, the result is
    NaN, which the push-forward reads as "outside the range".
    """

    def __init__(self, transformer, method: str):
        self.transformer, self.method = transformer, method

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        flat = x.reshape(-1, 1)
        if isinstance(self.transformer, FunctionTransformer):
            # Its functions directly: FunctionTransformer(validate=True), as
            # TransformedTargetRegressor builds it, would refuse inf and NaN.
            t = self.transformer
            func, kwargs = (
                (t.func, t.kw_args)
                if self.method == "transform"
                else (t.inverse_func, t.inv_kw_args)
            )
            out = flat if func is None else func(flat, **(kwargs or {}))
            return np.asarray(out, dtype=float).reshape(x.shape)
        out = np.full(flat.shape[0], np.nan)
        ok = np.isfinite(flat[:, 0])
        if np.any(ok):
            out[ok] = self._apply(flat[ok])
        return out.reshape(x.shape)

    def _apply(self, values: np.ndarray) -> np.ndarray:
        method = getattr(self.transformer, self.method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return np.asarray(method(values), dtype=float).reshape(-1)
            except ValueError:
                # Some value is refused: find which, one at a time.
                out = np.full(values.shape[0], np.nan)
                for i in range(values.shape[0]):
                    try:
                        out[i] = np.asarray(method(values[i : i + 1]), float)[0, 0]
                    except ValueError:
                        pass
                return out

    def __repr__(self) -> str:
        return f"{type(self.transformer).__name__}.{self.method}"


def _target_map(transformer):
    """("affine", a, s) or ("monotone", forward, inverse) for a fitted
    target transformer of a TransformedTargetRegressor."""
    affine = _affine_of(transformer)
    if affine is not None:
        return ("affine", *affine)
    if (
        isinstance(transformer, FunctionTransformer)
        and not transformer.kw_args
        and not transformer.inv_kw_args
        and transformer.inverse_func in _KNOWN_MAPS
        and _KNOWN_MAPS[transformer.inverse_func][0] is transformer.func
    ):
        # np.log / np.exp and friends: the push-forward knows their Jacobian
        # and (for exp of a Normal) the log-normal moments.
        return ("monotone", transformer.inverse_func, transformer.func)
    return (
        "monotone",
        _TargetFunction(transformer, "inverse_transform"),
        _TargetFunction(transformer, "transform"),
    )


def _unwrap(estimator, X):
    """Look through wrappers: the final regressor, its input, and the fitted
    target transformers met on the way (outermost first)."""
    Xt = X
    targets = []
    while True:
        if isinstance(estimator, Pipeline):
            if len(estimator) > 1:
                Xt = estimator[:-1].transform(Xt)
            estimator = estimator[-1]
        elif isinstance(estimator, TransformedTargetRegressor):
            check_is_fitted(estimator)
            targets.append(estimator.transformer_)
            estimator = estimator.regressor_
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "cv_results_") or (
            hasattr(estimator, "refit") and hasattr(estimator, "estimator")
        ):
            # A search object that is unfitted, or was fitted with refit=False.
            check_is_fitted(estimator)
            raise ValueError(
                f"{type(estimator).__name__} has no best_estimator_: fit it with "
                "refit=True to predict with it."
            )
        else:
            return estimator, Xt, targets


def _resolve(estimator, X):
    """The final regressor, its input and the map y = a + s w of the target.

    For callers that need an affine target map (drawing regression
    functions); a non-affine target transform raises ValueError.
    """
    final, Xt, targets = _unwrap(estimator, X)
    a, s = 0.0, 1.0
    for transformer in targets:
        kind, *params = _target_map(transformer)
        if kind != "affine":
            raise ValueError(
                "this needs a TransformedTargetRegressor whose target transform "
                f"is affine (for example StandardScaler); {transformer!r} is "
                "not. (predict_dist itself handles any strictly monotone "
                "transform.)"
            )
        a, s = a + s * params[0], s * params[1]
    return final, Xt, (a, s)


def _accepts_return_std(estimator) -> bool:
    predict = getattr(estimator, "predict", None)
    if predict is None:
        return False
    try:
        return "return_std" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _final_predict_dist(estimator, X) -> PredictiveDistribution:
    if callable(getattr(estimator, "predict_dist", None)):
        return estimator.predict_dist(X)
    if not _accepts_return_std(estimator):
        raise TypeError(
            f"{type(estimator).__name__} gives no predictive distribution: it "
            "has no predict_dist method and its predict does not accept "
            "return_std."
        )
    mean, std = estimator.predict(X, return_std=True)
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if std.ndim == 2 and std.shape[1] == 1:
        std = std[:, 0]
    if mean.ndim != 1 or std.shape != mean.shape:
        raise ValueError(
            "predict_dist supports single-output regressors only; predict "
            f"returned means of shape {mean.shape} and stds of shape {std.shape}."
        )
    epistemic = None
    if isinstance(estimator, (BayesianRidge, ARDRegression)):
        # Their predictive variance is 1 / alpha_ (noise) + x^T sigma_ x.
        epistemic = np.sqrt(np.clip(std**2 - 1.0 / estimator.alpha_, 0.0, None))
    return Normal(mean, std, epistemic_std=epistemic)


def _affine_dist(dist: PredictiveDistribution, a: float, s: float):
    if a == 0.0 and s == 1.0:
        return dist
    scale = abs(s)
    if isinstance(dist, Normal):
        return Normal(a + s * dist.loc, scale * dist.scale, scale * dist.epistemic_std)
    if isinstance(dist, StudentT):
        return StudentT(
            dist.df, a + s * dist.loc, scale * dist.scale, scale * dist.epistemic_std
        )
    if isinstance(dist, NormalMixture):
        return NormalMixture(a + s * dist.locs, scale * dist.scales)
    # Anything else (a push-forward, a user's distribution): one more map,
    # whose moments the push-forward carries exactly.
    affine = _Affine(a, s)
    return TransformedDistribution(dist, affine, affine.inverse())


def _push_forward(dist: PredictiveDistribution, transformer):
    """The predictive of y from that of the transformed target."""
    kind, *params = _target_map(transformer)
    if kind == "affine":
        return _affine_dist(dist, *params)
    if getattr(dist, "lazy", False):
        raise ValueError(
            "predict_dist maps a lazy (dask) prediction only through an affine "
            f"target transform; {transformer!r} is not affine. Predict on a "
            "NumPy X instead."
        )
    forward, inverse = params
    try:
        return TransformedDistribution(dist, forward, inverse)
    except ValueError as exc:
        raise ValueError(
            f"the target transform {transformer!r} of a TransformedTargetRegressor "
            "is neither affine nor strictly monotone over the predictive "
            f"distribution: {exc}"
        ) from exc


def _dist_of(final, Xt, targets) -> PredictiveDistribution:
    dist = _final_predict_dist(final, Xt)
    for transformer in reversed(targets):  # innermost transform first
        dist = _push_forward(dist, transformer)
    return dist


def predict_dist(estimator, X) -> PredictiveDistribution:
    """The predictive distribution of a fitted estimator at ``X``.

    ``Pipeline`` exposes neither ``predict_dist`` nor ``predict_std``; this
    helper looks through it and through other wrappers to the regressor
    that does.

    * a bayesreg estimator (anything with ``predict_dist``): its own answer;
    * a ``Pipeline``: ``X`` is transformed by all steps but the last, then
      the last step is resolved;
    * a fitted ``GridSearchCV``, ``RandomizedSearchCV`` or any search object
      with ``best_estimator_`` (refit=True): the best estimator;
    * a ``TransformedTargetRegressor``: the inner distribution mapped back
      to the scale of y. An affine target transform (``StandardScaler``, a
      linear ``func``) keeps the family (a Normal stays Normal); any other
      strictly monotone transform (``func=np.log, inverse_func=np.exp``,
      ``PowerTransformer``, ``QuantileTransformer`` with normal output)
      gives a :class:`~bayesreg.distributions.TransformedDistribution`,
      the push-forward of the inner distribution through
      ``inverse_func`` (or ``transformer.inverse_transform``). Nested
      wrappers compose, innermost transform first;
    * any other regressor whose ``predict`` accepts ``return_std``
      (BayesianRidge, ARDRegression, GaussianProcessRegressor): a Normal
      with that mean and std.

    For that last group the split of the variance is known only for
    BayesianRidge and ARDRegression (noise variance ``1 / alpha_``). For other
    regressors, GaussianProcessRegressor included, the epistemic part is
    unknown and the returned Normal reports it as zero (its convention when
    no split is given); only the total std is meaningful there.

    Parameters
    ----------
    estimator : estimator instance
        A fitted regressor, Pipeline or search object.
    X : array-like of shape (n_samples, n_features)
        Inputs, as the outermost estimator expects them.

    Returns
    -------
    PredictiveDistribution
        n_samples independent predictive distributions.

    Raises
    ------
    TypeError
        If the final estimator gives no predictive distribution.
    ValueError
        If a target transform is not strictly monotone over the predictive
        distribution (``func=np.square`` on a target of both signs, a
        ``QuantileTransformer`` fitted to tied values), or is non-linear
        and the prediction lazy (dask).
    sklearn.exceptions.NotFittedError
        If a search object or wrapper is not fitted.

    Notes
    -----
    Through a non-linear target transform the predictive mean is
    ``E g(Z)``, not the ``TransformedTargetRegressor``'s ``predict``, which
    is ``g`` of the inner mean (for a symmetric inner predictive, the
    push-forward's median). A log target with a Student-t inner predictive
    (``ConjugateLinearRegression`` with unknown noise) has an infinite mean
    and standard deviation, and so an infinite CRPS; its quantiles,
    intervals and density are finite and exact.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from bayesreg import predict_dist
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(40, 1))
    >>> y = 2 * X[:, 0] + 0.1 * rng.normal(size=40)
    >>> pipe = make_pipeline(StandardScaler(), BayesianRidge()).fit(X, y)
    >>> dist = predict_dist(pipe, [[0.5]])
    >>> type(dist).__name__, dist.mean.round(1)
    ('Normal', array([1.]))

    A log target: the predictive of y is the push-forward of the inner one.

    >>> from sklearn.compose import TransformedTargetRegressor
    >>> positive = np.exp(y)
    >>> ttr = TransformedTargetRegressor(
    ...     BayesianRidge(), func=np.log, inverse_func=np.exp
    ... ).fit(X, positive)
    >>> dist = predict_dist(ttr, [[0.5]])
    >>> type(dist).__name__
    'TransformedDistribution'
    >>> bool(np.allclose(dist.median(), ttr.predict([[0.5]])))
    True
    """
    return _dist_of(*_unwrap(estimator, X))


def log_predictive_density(estimator, X, y) -> np.ndarray:
    """Pointwise log predictive density of a fitted estimator, shape (n,).

    Uses the final regressor's own ``log_predictive_density`` when it has
    one and no target transform lies between (every bayesreg estimator:
    exact for closed-form predictives, a log-mean-exp over posterior draws
    otherwise), and the log density of :func:`predict_dist` otherwise
    (Gaussian for sklearn regressors). Through a
    ``TransformedTargetRegressor`` that density carries the log-Jacobian of
    the target transform, ``log p(y) = log p_z(f(y)) + log |f'(y)|``, and is
    ``-inf`` outside the range of the inverse transform.

    Parameters
    ----------
    estimator : estimator instance
        Fitted regressor, Pipeline or search object; see :func:`predict_dist`.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from bayesreg.metrics import log_predictive_density
    >>> X = np.linspace(0, 1, 30)[:, None]
    >>> y = X[:, 0] + 0.1 * np.sin(40 * X[:, 0])
    >>> log_predictive_density(BayesianRidge().fit(X, y), X[:2], y[:2]).shape
    (2,)
    """
    final, Xt, targets = _unwrap(estimator, X)
    identity = all(_target_map(t) == ("affine", 0.0, 1.0) for t in targets)
    if identity and callable(getattr(final, "log_predictive_density", None)):
        logp = np.asarray(final.log_predictive_density(Xt, y), dtype=float)
    else:
        # Through a target transform: the density of the push-forward, with
        # the log-Jacobian of the transform.
        dist = _dist_of(final, Xt, targets)
        logp = dist.logpdf(check_y_true(y, dist.n))
    return _check_log_density(logp)


# --------------------------------------------------------------------------
# scorers
# --------------------------------------------------------------------------
def _score_nlpd(estimator, X, y, sample_weight):
    return -_weighted_mean(log_predictive_density(estimator, X, y), sample_weight)


def _score_crps(estimator, X, y, sample_weight):
    return mean_crps(y, predict_dist(estimator, X), sample_weight=sample_weight)


def _score_interval(metric):
    def score(estimator, X, y, sample_weight, coverage=0.95):
        return metric(
            y,
            predict_dist(estimator, X),
            coverage=coverage,
            sample_weight=sample_weight,
        )

    return score


def _score_width(estimator, X, y, sample_weight, coverage=0.95):
    return mean_interval_width(
        predict_dist(estimator, X), coverage=coverage, sample_weight=sample_weight
    )


def _score_coverage_error(estimator, X, y, sample_weight, coverage=0.95):
    observed = interval_coverage(
        y, predict_dist(estimator, X), coverage=coverage, sample_weight=sample_weight
    )
    return abs(observed - coverage)


def _score_calibration(
    estimator, X, y, sample_weight, levels=None, kind="interval", norm="l1"
):
    return calibration_error(
        y, predict_dist(estimator, X), levels=levels, kind=kind, norm=norm
    )


def _score_sharpness(estimator, X, y, sample_weight):
    return sharpness(predict_dist(estimator, X), sample_weight=sample_weight)


# name -> (function(estimator, X, y, sample_weight, **kwargs), sign, keywords)
_REGISTRY: dict[str, tuple[Callable, float, tuple[str, ...]]] = {
    "neg_nlpd": (_score_nlpd, -1.0, ()),
    "neg_crps": (_score_crps, -1.0, ()),
    "neg_interval_score": (_score_interval(interval_score), -1.0, ("coverage",)),
    "interval_coverage": (_score_interval(interval_coverage), 1.0, ("coverage",)),
    "neg_coverage_error": (_score_coverage_error, -1.0, ("coverage",)),
    "neg_mean_interval_width": (_score_width, -1.0, ("coverage",)),
    "neg_calibration_error": (
        _score_calibration,
        -1.0,
        ("levels", "kind", "norm"),
    ),
    "neg_sharpness": (_score_sharpness, -1.0, ()),
}


class PredictiveScorer:
    """A scikit-learn scorer that grades the whole predictive distribution.

    Call it as ``scorer(estimator, X, y)``: it finds the predictive
    distribution with :func:`predict_dist` (so Pipelines, search objects and
    sklearn regressors with ``return_std`` all work) and returns a float
    where greater is better, following sklearn's ``neg_*`` convention for
    losses. Pass it as ``scoring=`` to ``GridSearchCV``,
    ``RandomizedSearchCV``, ``cross_validate`` or ``permutation_importance``,
    alone or as a value in a dict of scorers. Instances pickle, so
    ``n_jobs > 1`` works.

    Parameters
    ----------
    metric : str
        One of :func:`get_scorer_names`:

        * ``"neg_nlpd"``: minus :func:`mean_nlpd`, by
          :func:`log_predictive_density` (the estimator's own when it has
          one, with the Jacobian of any target transform);
        * ``"neg_crps"``: minus :func:`mean_crps`;
        * ``"neg_interval_score"``: minus :func:`interval_score`;
        * ``"neg_coverage_error"``: minus ``|observed - nominal coverage|``;
        * ``"interval_coverage"``: the observed coverage itself (for
          reporting; greater is not better here, do not tune on it);
        * ``"neg_mean_interval_width"``: minus :func:`mean_interval_width`;
        * ``"neg_calibration_error"``: minus :func:`calibration_error`;
        * ``"neg_sharpness"``: minus :func:`sharpness`.
    **kwargs
        Options of the metric: ``coverage`` for the interval metrics;
        ``levels``, ``kind`` and ``norm`` for the calibration error.

    Notes
    -----
    In a dict of scorers each one computes the predictive distribution
    again; for expensive predictives (many posterior draws) keep the dict
    short.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.model_selection import cross_validate
    >>> from bayesreg.metrics import PredictiveScorer, neg_crps_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = X @ [1.0, 2.0] + 0.3 * rng.normal(size=60)
    >>> scoring = {
    ...     "crps": neg_crps_scorer,
    ...     "cover90": PredictiveScorer("interval_coverage", coverage=0.9),
    ... }
    >>> res = cross_validate(BayesianRidge(), X, y, cv=3, scoring=scoring)
    >>> bool(np.all(res["test_crps"] < 0))
    True
    """

    def __init__(self, metric: str, **kwargs):
        if metric not in _REGISTRY:
            raise ValueError(
                f"unknown metric {metric!r}; choose one of {get_scorer_names()}."
            )
        _, _, allowed = _REGISTRY[metric]
        unknown = set(kwargs) - set(allowed)
        if unknown:
            raise TypeError(
                f"metric {metric!r} takes no option(s) {sorted(unknown)}; "
                f"its options are {list(allowed)}."
            )
        # Validate eagerly so a bad option fails here, not inside a CV loop.
        if "coverage" in kwargs:
            kwargs["coverage"] = check_coverage(kwargs["coverage"])
        if kwargs.get("levels") is not None:
            kwargs["levels"] = check_levels(kwargs["levels"])
        if "kind" in kwargs and kwargs["kind"] not in _CALIBRATION_KINDS:
            raise ValueError(
                f"kind must be one of {_CALIBRATION_KINDS}, got {kwargs['kind']!r}."
            )
        if "norm" in kwargs and kwargs["norm"] not in _NORMS:
            raise ValueError(f"norm must be one of {_NORMS}, got {kwargs['norm']!r}.")
        self.metric = metric
        self.kwargs = kwargs

    def __call__(self, estimator, X, y, sample_weight=None) -> float:
        """Score ``estimator`` on ``(X, y)``; greater is better.

        Parameters
        ----------
        estimator : estimator object
            A fitted regressor, Pipeline or search object; see
            :func:`predict_dist`.
        X : array-like of shape (n_samples, n_features)
            Input points.
        y : array-like of shape (n_samples,)
            Observed targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the points in the average.

        Returns
        -------
        float
            The score, with the sign of sklearn's ``neg_*`` convention.
        """
        func, sign, _ = _REGISTRY[self.metric]
        return sign * float(func(estimator, X, y, sample_weight, **self.kwargs))

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"PredictiveScorer({self.metric!r}{options})"


def get_scorer_names() -> list[str]:
    """Names accepted by :func:`get_scorer` and :class:`PredictiveScorer`.

    Examples
    --------
    >>> from bayesreg.metrics import get_scorer_names
    >>> "neg_crps" in get_scorer_names()
    True
    """
    return sorted(_REGISTRY)


def get_scorer(name: str, **kwargs) -> PredictiveScorer:
    """A :class:`PredictiveScorer` by name, e.g. ``get_scorer("neg_nlpd")``.

    Parameters
    ----------
    name : str
        One of :func:`get_scorer_names`.
    **kwargs
        Options of the metric, e.g. ``coverage=0.9``.

    Returns
    -------
    PredictiveScorer

    Examples
    --------
    >>> from bayesreg.metrics import get_scorer
    >>> get_scorer("neg_interval_score", coverage=0.9)
    PredictiveScorer('neg_interval_score', coverage=0.9)
    """
    return PredictiveScorer(name, **kwargs)


#: minus the mean negative log predictive density
neg_nlpd_scorer = PredictiveScorer("neg_nlpd")
#: minus the mean CRPS
neg_crps_scorer = PredictiveScorer("neg_crps")
#: minus the mean interval score of the central 95% interval
neg_interval_score_scorer = PredictiveScorer("neg_interval_score", coverage=0.95)
#: minus ``|observed - nominal|`` coverage of the central 95% interval
neg_coverage_error_scorer = PredictiveScorer("neg_coverage_error", coverage=0.95)
#: minus the mean width of the central 95% interval
neg_mean_interval_width_scorer = PredictiveScorer(
    "neg_mean_interval_width", coverage=0.95
)
#: minus the mean absolute calibration error of central intervals
neg_calibration_error_scorer = PredictiveScorer("neg_calibration_error")
