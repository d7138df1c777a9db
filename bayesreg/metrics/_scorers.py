"""scikit-learn scorers that grade the whole predictive distribution."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..utils._checks import check_coverage, check_levels, check_multioutput
from ._calibration import _CALIBRATION_KINDS, _NORMS, calibration_error, sharpness
from ._common import _average, _combine
from ._intervals import interval_coverage, interval_score, mean_interval_width
from ._predict import log_predictive_density, predict_dist
from ._scoring_rules import mean_crps

_MO = "uniform_average"


def _score_nlpd(estimator, X, y, sample_weight, multioutput=_MO):
    logp = log_predictive_density(estimator, X, y)
    return -_average(logp, sample_weight, multioutput)


def _score_crps(estimator, X, y, sample_weight, multioutput=_MO):
    return mean_crps(
        y,
        predict_dist(estimator, X),
        sample_weight=sample_weight,
        multioutput=multioutput,
    )


def _score_interval(metric):
    def score(estimator, X, y, sample_weight, coverage=0.95, multioutput=_MO):
        return metric(
            y,
            predict_dist(estimator, X),
            coverage=coverage,
            sample_weight=sample_weight,
            multioutput=multioutput,
        )

    return score


def _score_width(estimator, X, y, sample_weight, coverage=0.95, multioutput=_MO):
    return mean_interval_width(
        predict_dist(estimator, X),
        coverage=coverage,
        sample_weight=sample_weight,
        multioutput=multioutput,
    )


def _score_coverage_error(
    estimator, X, y, sample_weight, coverage=0.95, multioutput=_MO
):
    # Each target's own error, then combined: over- and under-coverage of
    # two targets do not cancel.
    observed = interval_coverage(
        y,
        predict_dist(estimator, X),
        coverage=coverage,
        sample_weight=sample_weight,
        multioutput="raw_values",
    )
    return _combine(np.abs(observed - coverage), multioutput)


def _score_calibration(
    estimator,
    X,
    y,
    sample_weight,
    levels=None,
    kind="interval",
    norm="l1",
    multioutput=_MO,
):
    return calibration_error(
        y,
        predict_dist(estimator, X),
        levels=levels,
        kind=kind,
        norm=norm,
        sample_weight=sample_weight,
        multioutput=multioutput,
    )


def _score_sharpness(estimator, X, y, sample_weight, multioutput=_MO):
    return sharpness(
        predict_dist(estimator, X),
        sample_weight=sample_weight,
        multioutput=multioutput,
    )


# name -> (function(estimator, X, y, sample_weight, **kwargs), sign, keywords)
_REGISTRY: dict[str, tuple[Callable, float, tuple[str, ...]]] = {
    "neg_nlpd": (_score_nlpd, -1.0, ("multioutput",)),
    "neg_crps": (_score_crps, -1.0, ("multioutput",)),
    "neg_interval_score": (
        _score_interval(interval_score),
        -1.0,
        ("coverage", "multioutput"),
    ),
    "interval_coverage": (
        _score_interval(interval_coverage),
        1.0,
        ("coverage", "multioutput"),
    ),
    "neg_coverage_error": (_score_coverage_error, -1.0, ("coverage", "multioutput")),
    "neg_mean_interval_width": (_score_width, -1.0, ("coverage", "multioutput")),
    "neg_calibration_error": (
        _score_calibration,
        -1.0,
        ("levels", "kind", "norm", "multioutput"),
    ),
    "neg_sharpness": (_score_sharpness, -1.0, ("multioutput",)),
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
        ``levels``, ``kind`` and ``norm`` for the calibration error; and for
        every metric ``multioutput``, how the scores of several targets
        (y of shape (n, k)) combine: ``"uniform_average"`` (the default,
        their mean) or an array of k weights (a scorer returns one number,
        so ``"raw_values"`` is refused).

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
        if "multioutput" in kwargs:
            kwargs["multioutput"] = check_multioutput(
                kwargs["multioutput"], allow_raw=False
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
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
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
