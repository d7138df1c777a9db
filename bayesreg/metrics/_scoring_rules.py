"""Proper scoring rules: the log score (NLPD) and the CRPS.

Both are strictly proper (Gneiting and Raftery, 2007): in expectation they are
best for the true predictive distribution, so tuning on them rewards honest
uncertainty, not just a good mean.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .._resolve import as_distribution
from ..distributions import (
    _TANH_SINH,
    Normal,
    NormalMixture,
    StudentT,
    TransformedDistribution,
    _row_chunks,
    _row_subset,
)
from ..utils._checks import check_y_true
from ._common import _average, _check_log_density, _targets

_SQRT_PI = np.sqrt(np.pi)
# Largest number of (row, component, component) triples evaluated at once by
# the mixture CRPS; bounds its memory to a few tens of MB.
_MIXTURE_CHUNK = 2**21


def mean_nlpd(
    y_true, y_pred, y_std=None, *, sample_weight=None, multioutput="uniform_average"
):
    """Mean negative log predictive density (lower is better).

    The logarithmic score of Good (1952): the average of ``-log p(y_i)`` under
    each point's predictive distribution. Strictly proper; it punishes
    over-confident predictions without bound.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        Observed targets, of the batch shape of the prediction.
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
        The predictive distributions, or their means when ``y_std`` is given
        (the predictive is then taken to be Gaussian).
    y_std : array-like of the shape of ``y_pred``, default=None
        Predictive standard deviations (strictly positive) of a Gaussian
        predictive; only with an array ``y_pred``.
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
    dist = as_distribution(y_pred, y_std, strict=True)
    y = _targets(y_true, dist)
    logp = dist.logpdf(y)
    return -_average(_check_log_density(logp), sample_weight, multioutput)


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
    # z^2 overflows (for |z| > 1.3e154) to a density of exactly 0, which is
    # right; |y - loc| beyond the largest float is an infinite score.
    with np.errstate(over="ignore"):
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
        Observations, degrees of freedom (finite, > 1), locations and scales
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
    if not np.all((df > 1) & (df < np.inf)):
        raise ValueError(
            "the closed-form Student-t CRPS needs a finite df > 1 (a finite mean; "
            "df = inf is the Normal: use crps_normal)."
        )
    pos = scale > 0
    s = np.where(pos, scale, 1.0)
    with np.errstate(over="ignore"):
        z = (y - loc) / s
    const = (
        2.0
        * np.sqrt(df)
        / (df - 1.0)
        * np.exp(special.betaln(0.5, df - 0.5) - 2.0 * special.betaln(0.5, 0.5 * df))
    )
    # |y - loc| / scale beyond the largest float (z = +-inf) gives an infinite
    # CRPS, as it should (the CRPS is about |y - loc|); a NaN y gives NaN.
    out = s * (z * (2.0 * stats.t.cdf(z, df) - 1.0) + _t_density_term(z, df) - const)
    with np.errstate(over="ignore"):
        return np.where(pos, out, np.abs(y - loc))


def _t_density_term(z: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``2 f(z) (df + z^2) / (df - 1)`` for the standard t density ``f``.

    With ``f(z) = (1 + r^2)^(-(df + 1) / 2) / (sqrt(df) B(df/2, 1/2))`` and
    ``r = |z| / sqrt(df)``, the product is
    ``2 sqrt(df) (1 + r^2)^(-(df - 1) / 2) / ((df - 1) B(df/2, 1/2))``,
    evaluated in log space with ``log(1 + r^2) = logaddexp(0, 2 log r)``, so
    that ``r^2`` never overflows (the direct form is ``inf * 0 = NaN`` once
    ``z^2`` overflows, at ``|z| > 1.3e154``). Nothing cancels: written with
    ``log Gamma((df + 1) / 2) - log Gamma(df / 2)`` and ``(df + 1) / 2 log(df)``,
    terms of order ``df log(df)`` cancelled and lost every digit by
    ``df = 1e15``.
    """
    # log r = -inf at z = 0, where logaddexp gives log(1) = 0; the product
    # (df - 1) / 2 * log(1 + r^2) overflows to inf (a term of exactly 0) for
    # df and |z| both near the largest float; a NaN z (a NaN y) stays NaN, as
    # in crps_normal, without a warning.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log1p_r2 = np.logaddexp(0.0, 2.0 * np.log(np.abs(z) / np.sqrt(df)))
        log_term = (
            0.5 * np.log(df)
            - special.betaln(0.5 * df, 0.5)
            - 0.5 * (df - 1.0) * log1p_r2
        )
    return 2.0 * np.exp(log_term) / (df - 1.0)


def crps_normal_mixture(y, locs, scales) -> np.ndarray:
    """Exact CRPS of equally weighted Normal mixtures.

    Uses the kernel form ``CRPS = E|X - y| - E|X - X'| / 2`` with the absolute
    moment of a Normal, ``E|N(m, s^2)| = m (2 Phi(m/s) - 1) + 2 s phi(m/s)``
    (Grimit et al., 2006). For n points with S components each this costs
    O(n S^2) evaluations, done in vectorised chunks of rows to bound memory.

    Parameters
    ----------
    y : array-like of shape (n,) or (n, k)
        Observations.
    locs : array-like of shape (n, S) or (n, k, S)
        Component means (for example posterior draws of the regression
        function), the components on the last axis (the convention of
        :class:`~bayesreg.distributions.NormalMixture`).
    scales : array-like broadcasting to the shape of ``locs``
        Component standard deviations (positive): (S,), (n, S), (k, S) or
        (n, k, S).

    Returns
    -------
    ndarray of shape (n,) or (n, k)

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
    if locs.ndim not in (2, 3):
        raise ValueError(f"locs must have shape (n, S) or (n, k, S), got {locs.shape}.")
    n_comp = locs.shape[-1]
    y = check_y_true(y, locs.shape[0], locs.shape[:-1])
    scales = np.asarray(scales, dtype=float)
    try:
        scales = np.broadcast_to(scales, locs.shape)
    except ValueError:
        raise ValueError(
            f"scales must broadcast to the shape of locs, {locs.shape} (for "
            f"example ({n_comp},)), got {np.shape(scales)}."
        ) from None
    if not (np.all(np.isfinite(locs)) and np.all(np.isfinite(scales))):
        raise ValueError("locs and scales must be finite.")
    if np.any(scales <= 0):
        raise ValueError("scales must be positive.")
    return _crps_mixture(y, locs, scales)


def _crps_mixture(y: np.ndarray, locs: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The mixture CRPS for ``y`` of the batch shape ``locs.shape[:-1]``."""
    batch, n_comp = locs.shape[:-1], locs.shape[-1]
    y = y.reshape(-1)
    locs, scales = locs.reshape(-1, n_comp), scales.reshape(-1, n_comp)
    n = y.shape[0]
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
    return (term1 - 0.5 * term2).reshape(batch)


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
    y_true : array-like of shape (n,) or (n, k)
        Observations, of the batch shape of the prediction.
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
        Distributions, or Gaussian means when ``y_std`` is given.
    y_std : array-like of the shape of ``y_pred``, default=None
        Gaussian predictive standard deviations.

    Returns
    -------
    ndarray of shape (n,) or (n, k)

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
    dist = as_distribution(y_pred, y_std)
    y = _targets(y_true, dist)
    if isinstance(dist, Normal):
        return crps_normal(y, dist.loc, dist.scale)
    if isinstance(dist, StudentT):
        return crps_student_t(y, dist.df, dist.loc, dist.scale)
    if isinstance(dist, NormalMixture):
        return _crps_mixture(y, dist.locs, dist.scales)
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
    finite mean). A batch (n, k) is scored through its flattening.
    """
    if dist._flat is not None:
        return _crps_by_quantiles(y.reshape(-1), dist._flat).reshape(y.shape)
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


def mean_crps(
    y_true, y_pred, y_std=None, *, sample_weight=None, multioutput="uniform_average"
):
    """Mean continuous ranked probability score (lower is better).

    The (weighted) average of :func:`crps`.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
        Observed targets.
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
        Distributions, or Gaussian means when ``y_std`` is given.
    y_std : array-like of the shape of ``y_pred``, default=None
        Gaussian predictive standard deviations.
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

    See Also
    --------
    crps : the pointwise scores (and the reference for them).

    Examples
    --------
    >>> from bayesreg.metrics import mean_crps
    >>> round(mean_crps([0.0, 1.0], [0.0, 0.0], y_std=[1.0, 1.0]), 4)
    0.4181
    """
    return _average(crps(y_true, y_pred, y_std), sample_weight, multioutput)
