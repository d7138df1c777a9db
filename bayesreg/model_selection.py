"""Model selection by the evidence (log marginal likelihood), without CV."""

from __future__ import annotations

import time
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._base import BayesianRegressorMixin
from ._resolve import final_estimator, resolve_dist, unwrap
from .distributions import PredictiveDistribution
from .utils._docstrings import FEATURES_SEEN, fill_doc
from .utils._params import store_params
from .utils._state import restore_on_error

__all__ = ["EvidenceSearch"]


def _fit_candidate(estimator, params, X, y, fit_params):
    estimator.set_params(**params)
    start = time.perf_counter()
    estimator.fit(X, y, **fit_params)
    fit_time = time.perf_counter() - start
    final, _, targets = unwrap(estimator)
    if targets:
        raise TypeError(
            f"{type(estimator).__name__} transforms the target: the evidence of "
            "transformed targets is not the evidence of y, so candidates with "
            "different target transforms could not be compared. Put the "
            "TransformedTargetRegressor around the EvidenceSearch instead."
        )
    if not hasattr(final, "log_marginal_likelihood_"):
        raise TypeError(
            f"{type(final).__name__} has no log_marginal_likelihood_: EvidenceSearch "
            "needs an estimator (or a Pipeline ending in one) that computes its "
            "evidence, such as ConjugateLinearRegression."
        )
    # Several targets give one log evidence each; they are independent given
    # X, so the evidence of the candidate is their product (sum of logs).
    return estimator, float(np.sum(final.log_marginal_likelihood_)), fit_time


@fill_doc(features_seen=FEATURES_SEEN)
class EvidenceSearch(BayesianRegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Choose among candidate models by their log evidence, fitting each once.

    Every combination in ``param_grid`` is fitted once on all the data; the
    one whose final estimator has the highest ``log_marginal_likelihood_``
    (the probability of the training targets under the model, its prior
    integrated out) is kept. The evidence trades fit against complexity by
    itself (the "Occam factor"), so no data are held out and no
    cross-validation is run: one fit per candidate instead of one per fold.

    Parameters
    ----------
    estimator : estimator object
        An estimator with ``log_marginal_likelihood_`` after ``fit`` (e.g.
        :class:`~bayesreg.ConjugateLinearRegression`), or a Pipeline ending
        in one, e.g. ``make_pipeline(BasisExpansion(), ConjugateLinearRegression())``.
    param_grid : dict or list of dict
        Parameter names (``"step__param"`` for Pipelines) mapped to lists of
        values, as in :class:`sklearn.model_selection.GridSearchCV`.
    n_jobs : int, default=None
        Candidates fitted in parallel with joblib; ``None`` means 1.
    verbose : int, default=0
        Verbosity of joblib.

    Attributes
    ----------
    best_estimator_ : estimator
        The candidate with the highest evidence, fitted on all the data.
    best_params_ : dict
        Its parameters.
    best_score_ : float
        Its log evidence (summed over the targets when ``y`` has several
        columns).
    best_index_ : int
        Its index in ``cv_results_``.
    cv_results_ : dict of ndarrays
        One entry per candidate, like ``GridSearchCV.cv_results_``:
        ``"params"``, ``"param_<name>"`` (masked arrays),
        ``"log_marginal_likelihood"`` (summed over the targets),
        ``"fit_time"`` (seconds) and
        ``"rank_log_marginal_likelihood"`` (1 is best). Loads into
        ``pandas.DataFrame``.
    %(features_seen)s

    See Also
    --------
    sklearn.model_selection.GridSearchCV : the same grid scored by
        cross-validation.
    ConjugateLinearRegression : an estimator with an exact evidence.

    Notes
    -----
    With model M_k and its parameters theta, the evidence is
    p(y | X, M_k) = integral of p(y | X, theta) p(theta | M_k) d theta. With
    a flat prior on p(M_k), the candidate of highest evidence is also the
    one of highest posterior probability (MacKay 1992; Bishop 2006, sec.
    3.4). Candidates are comparable only if they explain the same ``y``:
    an evidence of transformed targets, or one where an improper flat
    intercept prior fixes the additive constant differently, is not. Hence
    ``fit`` refuses candidates whose final steps disagree on
    ``fit_intercept``, and candidates inside a ``TransformedTargetRegressor``
    (wrap the search in one instead: every candidate then explains the same
    transformed target).

    With several targets (``y`` of shape (n_samples, n_targets)) a final
    estimator's ``log_marginal_likelihood_`` holds one log evidence per
    target; the targets are independent given ``X`` under the model, so the
    evidence of the candidate is their product, and the search compares,
    ranks and reports the summed log evidence. One candidate serves all the
    targets: to choose per target, search each column separately.

    References
    ----------
    D. J. C. MacKay, "Bayesian interpolation", *Neural Computation* 4(3),
    1992. C. M. Bishop, *Pattern Recognition and Machine Learning*,
    Springer, 2006, sec. 3.4-3.5.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from bayesreg import BasisExpansion, ConjugateLinearRegression, EvidenceSearch
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (80, 1))
    >>> y = 1 - 2 * X[:, 0] ** 2 + 0.1 * rng.normal(size=80)
    >>> model = make_pipeline(BasisExpansion(),
    ...                       ConjugateLinearRegression(fit_hyperparameters=True))
    >>> search = EvidenceSearch(model, {"basisexpansion__degree": range(1, 8)})
    >>> search.fit(X, y).best_params_
    {'basisexpansion__degree': 2}
    >>> search.predict_interval([[0.0]], coverage=0.9).round(1)
    array([[0.8, 1.2]])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "param_grid": [dict, list],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator, param_grid, *, n_jobs=None, verbose=0):
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=False)
    def __sklearn_tags__(self):
        # What X and y the search takes is what its estimator takes (sparse
        # X, several targets), as for sklearn's own searches.
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.target_tags.multi_output = inner.target_tags.multi_output
        return tags

    def fit(self, X, y, **fit_params) -> EvidenceSearch:
        """Fit every candidate once on (X, y) and keep the best by evidence.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            With several targets the candidates are compared by the sum of
            their targets' log evidences.
        **fit_params : dict
            Passed to each candidate's ``fit`` (e.g. ``sample_weight``, or
            ``conjugatelinearregression__sample_weight`` for a Pipeline).

        Returns
        -------
        self : EvidenceSearch
        """
        with restore_on_error(self):
            candidates = list(ParameterGrid(self.param_grid))
            if not candidates:
                raise ValueError("param_grid gives no candidate to fit.")
            out = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
                delayed(_fit_candidate)(clone(self.estimator), params, X, y, fit_params)
                for params in candidates
            )
            intercepts = {
                getattr(final_estimator(est), "fit_intercept", None)
                for est, _, _ in out
            }
            if len(intercepts) > 1:
                raise ValueError(
                    "candidates differ in fit_intercept: the evidence with a flat "
                    "intercept prior is defined up to a constant, so it cannot be "
                    "compared with the evidence of a model without one."
                )
            evidence = np.array([ev for _, ev, _ in out])
            ranked = np.where(np.isnan(evidence), -np.inf, evidence)
            self.best_index_ = int(np.argmax(ranked))
            self.best_estimator_ = out[self.best_index_][0]
            self.best_params_ = candidates[self.best_index_]
            self.best_score_ = float(evidence[self.best_index_])
            self.cv_results_ = self._results(candidates, evidence, out)
            # What the best candidate saw, and nothing left from an earlier fit
            # (a refit on a plain array has no feature names).
            for name in ("n_features_in_", "feature_names_in_"):
                vars(self).pop(name, None)
                if hasattr(self.best_estimator_, name):
                    setattr(self, name, getattr(self.best_estimator_, name))
        return self

    @staticmethod
    def _results(candidates, evidence, out) -> dict:
        results: dict = {"params": candidates}
        names = sorted({name for params in candidates for name in params})
        for name in names:
            column = np.ma.MaskedArray(
                np.empty(len(candidates), dtype=object), mask=True
            )
            for i, params in enumerate(candidates):
                if name in params:
                    column[i] = params[name]
            results[f"param_{name}"] = column
        results["log_marginal_likelihood"] = evidence
        results["fit_time"] = np.array([t for _, _, t in out])
        # rank 1 is the highest evidence; ties share the lowest rank
        order = -np.where(np.isnan(evidence), -np.inf, evidence)
        results["rank_log_marginal_likelihood"] = (
            np.searchsorted(np.sort(order), order, side="left") + 1
        )
        return results

    # ---------------------------------------------------------- delegation
    def _predict_mean(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def predict_dist(self, X) -> PredictiveDistribution:
        """Predictive distribution of the best candidate.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        dist : PredictiveDistribution
        """
        check_is_fitted(self)
        return resolve_dist(self.best_estimator_, X)

    def _best_final(self, X):
        """The best candidate's final step and ``X`` as that step sees it."""
        check_is_fitted(self)
        final, Xt, _ = unwrap(self.best_estimator_, X)
        return final, Xt

    def sample_y(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws from the best candidate's posterior predictive.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Input points.
        n_samples : int, default=1
            Number of draws.
        random_state : None, int, RandomState or Generator, default=None
            Seeds the draws; an int gives reproducible draws.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples)
        """
        final, Xt = self._best_final(X)
        return final.sample_y(Xt, n_samples=n_samples, random_state=random_state)

    def sample_functions(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Regression functions drawn from the best candidate's posterior.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Input points.
        n_samples : int, default=1
            Number of draws.
        random_state : None, int, RandomState or Generator, default=None
            Seeds the draws; an int gives reproducible draws.

        Returns
        -------
        f : ndarray of shape (n_samples_X, n_samples)
        """
        final, Xt = self._best_final(X)
        return final.sample_functions(
            Xt, n_samples=n_samples, random_state=random_state
        )

    def sample_parameters(self, n_samples: int = 1, random_state=None) -> dict:
        """Posterior draws of the best candidate's parameters.

        Delegates to ``sample_parameters`` of the best candidate's final
        step: for a Pipeline, the parameters act on the features as the
        final step sees them (after every transformer before it).

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : None, int, RandomState or Generator, default=None
            Seeds the draws; an int gives reproducible draws.

        Returns
        -------
        params : dict of str to ndarray
            Each value has leading axis ``n_samples``; for the linear
            estimators ``"coef"`` (n_samples, n_features), ``"intercept"``
            and ``"noise_std"`` (n_samples,).

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg import ConjugateLinearRegression, EvidenceSearch
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=50)
        >>> search = EvidenceSearch(
        ...     ConjugateLinearRegression(), {"prior_std": [0.1, 10.0]}
        ... ).fit(X, y)
        >>> search.sample_parameters(3, random_state=0)["coef"].shape
        (3, 2)
        """
        check_is_fitted(self)
        final = final_estimator(self.best_estimator_)
        return final.sample_parameters(n_samples=n_samples, random_state=random_state)
