"""Helpers shared by the metric functions."""

from __future__ import annotations

import numpy as np

from .._resolve import as_distribution
from ..distributions import PredictiveDistribution
from ..utils._checks import check_multioutput, check_sample_weight, check_y_true

# References cited by more than one metric, for utils._docstrings.fill_doc.
GNEITING_BALABDAOUI_RAFTERY_2007 = """\
References
----------
.. [1] T. Gneiting, F. Balabdaoui and A. E. Raftery, "Probabilistic
   forecasts, calibration and sharpness", JRSS B 69 (2), 2007.
"""
KULESHOV_FENNER_ERMON_2018 = """\
References
----------
.. [1] V. Kuleshov, N. Fenner and S. Ermon, "Accurate uncertainties for
   deep learning using calibrated regression", ICML 2018.
"""


def _batch_shape(dist) -> tuple[int, ...]:
    return tuple(getattr(dist, "batch_shape", (dist.n,)))


def _targets(y_true, dist) -> np.ndarray:
    """``y_true`` checked against the batch shape of ``dist``."""
    return check_y_true(y_true, dist.n, _batch_shape(dist))


def _intervals(y_pred, y_std, coverage: float) -> np.ndarray:
    """Central intervals (n, 2) or (n, k, 2); ``y_pred`` may already be such
    an array of bounds."""
    if not isinstance(y_pred, PredictiveDistribution) and y_std is None:
        bounds = np.asarray(y_pred, dtype=float)
        if bounds.ndim in (2, 3) and bounds.shape[-1] == 2:
            if not np.all(np.isfinite(bounds)):
                raise ValueError("interval bounds contain NaN or infinite values.")
            if np.any(bounds[..., 0] > bounds[..., 1]):
                raise ValueError("interval lower bounds must not exceed upper bounds.")
            return bounds
    return as_distribution(y_pred, y_std).interval(coverage)


def _average(values: np.ndarray, sample_weight, multioutput="uniform_average"):
    """Weighted mean over the points (axis 0), then over the targets as
    ``multioutput`` says: a float, or with ``"raw_values"`` an array (k,)."""
    values = np.asarray(values, dtype=float)
    w = check_sample_weight(sample_weight, values.shape[0])
    per_output = np.atleast_1d(np.average(values, axis=0, weights=w))
    return _combine(per_output, multioutput)


def _combine(per_output: np.ndarray, multioutput):
    """Scores of the k targets, (k,), combined as ``multioutput`` says."""
    multioutput = check_multioutput(multioutput)
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        return float(np.mean(per_output))
    if multioutput.shape != per_output.shape:
        raise ValueError(
            f"multioutput has {multioutput.size} weights but there are "
            f"{per_output.size} targets."
        )
    return float(np.average(per_output, weights=multioutput))


def _check_log_density(logp) -> np.ndarray:
    logp = np.asarray(logp, dtype=float)
    if np.any(np.isnan(logp)):
        raise ValueError("the log predictive density is NaN; is a predictive std zero?")
    return logp
