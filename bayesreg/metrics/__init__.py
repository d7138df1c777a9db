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

Several targets: a prediction of batch shape (n, k) (an estimator fitted to
y of shape (n, k)) is scored against y of shape (n, k); pointwise scores
(:func:`crps`, :func:`pit`, :func:`log_predictive_density`) keep that shape,
and every averaged metric and scorer takes ``multioutput``:
``"uniform_average"`` (the default, the mean over the targets),
``"raw_values"`` (one score per target; not for a scorer, which returns one
number) or an array of weights, as scikit-learn's regression metrics.

The modules, by concern: ``_scoring_rules`` (NLPD, CRPS), ``_intervals``,
``_calibration`` (PIT, calibration curve and error, sharpness), ``_predict``
(:func:`predict_dist`, :func:`log_predictive_density`) and ``_scorers``.
"""

from __future__ import annotations

from ._calibration import (
    calibration_curve,
    calibration_error,
    pit,
    sharpness,
)
from ._intervals import interval_coverage, interval_score, mean_interval_width
from ._predict import log_predictive_density, predict_dist
from ._scorers import (
    PredictiveScorer,
    get_scorer,
    get_scorer_names,
    neg_calibration_error_scorer,
    neg_coverage_error_scorer,
    neg_crps_scorer,
    neg_interval_score_scorer,
    neg_mean_interval_width_scorer,
    neg_nlpd_scorer,
)
from ._scoring_rules import (
    crps,
    crps_normal,
    crps_normal_mixture,
    crps_student_t,
    mean_crps,
    mean_nlpd,
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
