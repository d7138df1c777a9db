"""Calibration and sharpness: PIT values, calibration curves and errors."""

from __future__ import annotations

import numpy as np

from .._resolve import as_distribution
from ..utils._checks import check_levels, check_sample_weight
from ..utils._docstrings import fill_doc
from ._common import (
    GNEITING_BALABDAOUI_RAFTERY_2007,
    KULESHOV_FENNER_ERMON_2018,
    _average,
    _combine,
    _targets,
)


@fill_doc(gneiting_2007=GNEITING_BALABDAOUI_RAFTERY_2007)
def pit(y_true, y_pred, y_std=None) -> np.ndarray:
    """Probability integral transform values ``F_i(y_i)``, of the shape of y.

    For a calibrated predictive they are uniform on [0, 1]: a U-shaped
    histogram means over-confidence, a hump means under-confidence, a slope
    means bias.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, k)
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
    y_std : array-like of the shape of ``y_pred``, default=None

    Returns
    -------
    ndarray of shape (n,) or (n, k)

    %(gneiting_2007)s

    Examples
    --------
    >>> from bayesreg.metrics import pit
    >>> pit([0.0, 1.0], [0.0, 0.0], [1.0, 1.0]).round(4)
    array([0.5   , 0.8413])
    """
    dist = as_distribution(y_pred, y_std)
    return dist.cdf(_targets(y_true, dist))


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
    multioutput="uniform_average",
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
    y_true : array-like of shape (n,) or (n, k)
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
    y_std : array-like of the shape of ``y_pred``, default=None
    levels : array-like of shape (n_levels,), default=None
        Nominal levels in (0, 1); default ``0.05, 0.10, ..., 0.95``.
    kind : {"interval", "quantile"}, default="interval"
    sample_weight : array-like of shape (n,), default=None
        Weights of the points: each observed value is the weighted fraction.
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        With k targets: ``"raw_values"`` gives one curve per target
        (``observed`` of shape (n_levels, k)); ``"uniform_average"`` (the
        default) their mean; an array of weights their weighted mean.

    Returns
    -------
    nominal : ndarray of shape (n_levels,)
    observed : ndarray of shape (n_levels,), or (n_levels, k) with
        ``multioutput="raw_values"``

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
    observed = _per_output_curves(u, levels, kind, sample_weight)
    return levels, _combine_curves(observed, multioutput)


def _per_output_curves(u, levels, kind, sample_weight) -> np.ndarray:
    """Observed fractions of PIT values ``u`` (n,) or (n, k) at each level,
    shape (n_levels, k) (k = 1 for one target)."""
    u = u.reshape(u.shape[0], -1)
    w = check_sample_weight(sample_weight, u.shape[0])
    if kind == "quantile":
        hits = u[:, None, :] <= levels[None, :, None]
    else:
        hits = np.abs(u[:, None, :] - 0.5) <= 0.5 * levels[None, :, None]
    return hits.mean(axis=0) if w is None else np.average(hits, 0, weights=w)


def _combine_curves(observed: np.ndarray, multioutput) -> np.ndarray:
    """Curves (n_levels, k) combined over the targets as ``multioutput``
    says: (n_levels,), or (n_levels, k) for ``"raw_values"``."""
    if isinstance(multioutput, str) and multioutput == "raw_values":
        return observed
    if observed.shape[1] == 1 and isinstance(multioutput, str):
        _combine(observed[0], multioutput)  # validates the option
        return observed[:, 0]
    return np.array([_combine(row, multioutput) for row in observed])


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
    multioutput="uniform_average",
):
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
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        How the errors of k targets (each from its own curve) combine,
        as in scikit-learn's regression metrics: ``"raw_values"``
        gives one error per target, shape (k,) (shape (1,) for one target);
        ``"uniform_average"`` (the default) their mean; an array of weights
        their weighted mean.

    Returns
    -------
    float, or ndarray of shape (k,) with ``multioutput="raw_values"``

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
        y_true,
        y_pred,
        y_std,
        levels=levels,
        kind=kind,
        sample_weight=sample_weight,
        multioutput="raw_values",
    )
    gap = np.abs(observed - nominal[:, None])  # (n_levels, k)
    if norm == "l1":
        per_output = gap.mean(axis=0)
    elif norm == "l2":
        per_output = np.sqrt(np.mean(gap**2, axis=0))
    else:
        per_output = gap.max(axis=0)
    return _combine(per_output, multioutput)


@fill_doc(gneiting_2007=GNEITING_BALABDAOUI_RAFTERY_2007)
def sharpness(y_pred, y_std=None, *, sample_weight=None, multioutput="uniform_average"):
    """Root mean predictive variance ``sqrt(mean(std_i^2))`` (smaller is sharper).

    Sharpness says nothing about calibration on its own; report it next to
    :func:`calibration_error` or use a proper score such as :func:`mean_crps`.

    Parameters
    ----------
    y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
    y_std : array-like of the shape of ``y_pred``, default=None
    sample_weight : array-like of shape (n,), default=None
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (k,)
        How the sharpness of k targets (each its own) combine,
        as in scikit-learn's regression metrics: ``"raw_values"``
        gives one value per target, shape (k,) (shape (1,) for one target);
        ``"uniform_average"`` (the default) their mean; an array of weights
        their weighted mean.

    Returns
    -------
    float, or ndarray of shape (k,) with ``multioutput="raw_values"``

    %(gneiting_2007)s

    Examples
    --------
    >>> from bayesreg.metrics import sharpness
    >>> sharpness([0.0, 0.0], [1.0, 7.0])
    5.0
    """
    dist = as_distribution(y_pred, y_std)
    per_output = np.sqrt(_average(dist.std**2, sample_weight, "raw_values"))
    return _combine(per_output, multioutput)
