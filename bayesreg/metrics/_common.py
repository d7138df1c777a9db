"""Helpers shared by the metric functions."""

from __future__ import annotations

import numpy as np

from .._resolve import as_distribution
from ..distributions import PredictiveDistribution
from ..utils._checks import check_sample_weight

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
    return as_distribution(y_pred, y_std).interval(coverage)


def _weighted_mean(values: np.ndarray, sample_weight) -> float:
    w = check_sample_weight(sample_weight, values.shape[0])
    return float(np.average(values, weights=w))


def _check_log_density(logp) -> np.ndarray:
    logp = np.asarray(logp, dtype=float)
    if np.any(np.isnan(logp)):
        raise ValueError("the log predictive density is NaN; is a predictive std zero?")
    return logp
