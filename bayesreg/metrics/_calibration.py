"""Calibration and sharpness: PIT values, calibration curves and errors."""

from __future__ import annotations

import numpy as np

from .._resolve import as_distribution
from ..utils._checks import check_levels, check_sample_weight, check_y_true
from ..utils._docstrings import fill_doc
from ._common import (
    GNEITING_BALABDAOUI_RAFTERY_2007,
    KULESHOV_FENNER_ERMON_2018,
    _weighted_mean,
)


@fill_doc(gneiting_2007=GNEITING_BALABDAOUI_RAFTERY_2007)
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

    %(gneiting_2007)s

    Examples
    --------
    >>> from bayesreg.metrics import pit
    >>> pit([0.0, 1.0], [0.0, 0.0], [1.0, 1.0]).round(4)
    array([0.5   , 0.8413])
    """
    dist = as_distribution(y_pred, y_std)
    y = check_y_true(y_true, dist.n)
    return dist.cdf(y)


_CALIBRATION_KINDS = ("interval", "quantile")


@fill_doc(kuleshov_2018=KULESHOV_FENNER_ERMON_2018)
def calibration_curve(
    y_true,
    y_pred,
    y_std=None,
    *,
    levels=None,
    kind: str = "interval",
    sample_weight=None,
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
    sample_weight : array-like of shape (n,), default=None
        Weights of the points: each observed value is the weighted fraction.

    Returns
    -------
    nominal : ndarray of shape (k,)
    observed : ndarray of shape (k,)

    %(kuleshov_2018)s

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
    w = check_sample_weight(sample_weight, u.shape[0])
    if kind == "quantile":
        hits = u[:, None] <= levels[None, :]
    else:
        hits = np.abs(u[:, None] - 0.5) <= 0.5 * levels[None, :]
    observed = hits.mean(axis=0) if w is None else np.average(hits, 0, weights=w)
    return levels, observed


_NORMS = ("l1", "l2", "max")


@fill_doc(kuleshov_2018=KULESHOV_FENNER_ERMON_2018)
def calibration_error(
    y_true,
    y_pred,
    y_std=None,
    *,
    levels=None,
    kind: str = "interval",
    norm: str = "l1",
    sample_weight=None,
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
    sample_weight : array-like of shape (n,), default=None
        Weights of the points in the observed coverage at each level.

    Returns
    -------
    float

    %(kuleshov_2018)s

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
        y_true, y_pred, y_std, levels=levels, kind=kind, sample_weight=sample_weight
    )
    gap = np.abs(observed - nominal)
    if norm == "l1":
        return float(gap.mean())
    if norm == "l2":
        return float(np.sqrt(np.mean(gap**2)))
    return float(gap.max())


@fill_doc(gneiting_2007=GNEITING_BALABDAOUI_RAFTERY_2007)
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

    %(gneiting_2007)s

    Examples
    --------
    >>> from bayesreg.metrics import sharpness
    >>> sharpness([0.0, 0.0], [1.0, 7.0])
    5.0
    """
    dist = as_distribution(y_pred, y_std)
    return float(np.sqrt(_weighted_mean(dist.std**2, sample_weight)))
