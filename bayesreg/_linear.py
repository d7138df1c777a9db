"""What the two closed-form linear estimators share.

:class:`~bayesreg.ConjugateLinearRegression` and :class:`~bayesreg.RidgeMAP`
model ``y = x^T w + b + noise`` and are fitted from the sufficient statistics
of the data: the same intake (:mod:`bayesreg._dask` chooses the NumPy or the
dask path), the same unpenalised intercept (by centring), the same mean, and
the same sampling methods, which differ only in where the draws of
``(w, b, noise std)`` come from (:meth:`LinearGaussianRegressor._draws`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from . import _dask, _gaussian, _gram
from ._base import BayesianRegressorMixin
from ._dask import validated_gram_stats, validated_X
from ._gaussian import PosteriorDraws
from .distributions import Normal, PredictiveDistribution, StudentT
from .utils._checks import check_n_samples
from .utils._random import check_generator
from .utils._state import restore_on_error


class LinearGaussianRegressor(BayesianRegressorMixin):
    """Base of the linear Gaussian estimators: intake, intercept, sampling.

    Subclasses have the parameter ``fit_intercept`` and the fitted
    attributes ``coef_`` and ``intercept_``, and define
    ``_fit_stats(stats, X, y, sample_weight)`` (the fit from the validated
    data's statistics), ``_draw_source(X)`` (validate ``X``, which may be
    None, and return what ``_draws`` draws from: the posterior, or the prior
    of an unfitted estimator) and ``_draws(source, n_samples, rng)`` (a
    :class:`~bayesreg._gaussian.PosteriorDraws`).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> LinearGaussianRegressor:
        """Fit the model to (X, y), forgetting any earlier data.

        One pass over the data gathers its sufficient statistics, from
        which the estimator computes its fit (the posterior, or the MAP).
        A fit that fails leaves the estimator as it was.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
        sample_weight : array-like or dask array of shape (n_samples,), \
                default=None
            Non-negative weights; a weight of k counts a row k times.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restore_on_error(self):
            stats, data = self._gram_stats(X, y, sample_weight, reset=True)
            self._fit_stats(stats, *data)
        return self

    def _fit_stats(self, stats: _gram.GramStats, X, y, sample_weight) -> None:
        raise NotImplementedError  # pragma: no cover

    def _gram_stats(self, X, y, sample_weight, *, reset: bool):
        """Validated data and its statistics, centred to fit an intercept."""
        return validated_gram_stats(
            self, X, y, sample_weight, center=self.fit_intercept, reset=reset
        )

    def _intercept(self, stats: _gram.GramStats, coef: np.ndarray) -> float:
        """The unpenalised intercept that goes with ``coef``: y_mean - x_mean^T w."""
        if not self.fit_intercept:
            return 0.0
        return float(stats.y_mean - stats.x_mean @ coef)

    def _predict_mean(self, X) -> np.ndarray:
        check_is_fitted(self)
        # A dask X stays lazy: the product maps over its row blocks.
        return validated_X(self, X) @ self.coef_ + self.intercept_

    def sample_parameters(
        self, n_samples: int = 1, random_state=None
    ) -> dict[str, np.ndarray]:
        """Draws of the model's parameters from the posterior.

        On an unfitted estimator whose prior is proper the draws come from
        the prior; otherwise that raises ``NotFittedError`` saying why.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible.

        Returns
        -------
        parameters : dict of str to ndarray
            ``"coef"`` of shape (n_samples, n_features), ``"intercept"``
            and ``"noise_std"`` of shape (n_samples,), on the scale of y.
        """
        n_samples = check_n_samples(n_samples)
        source, _ = self._draw_source(None)
        draws = self._draws(source, n_samples, check_generator(random_state))
        return {
            "coef": draws.coef,
            "intercept": draws.intercept,
            "noise_std": np.sqrt(draws.noise_var),
        }

    def sample_functions(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Regression functions drawn from the posterior, evaluated at X.

        Each column is one function ``f(x) = x^T w + b`` with ``(w, b)``
        drawn by :meth:`sample_parameters`: the regression function alone,
        without the observation noise.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples_X, n_features)
        n_samples : int, default=1
            Number of functions drawn.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible.

        Returns
        -------
        f : ndarray of shape (n_samples_X, n_samples)
            A dask array (computed by blocks of rows) for a dask ``X``; the
            draws are the same as for the NumPy ``X``.
        """
        source, X = self._draw_source(X)
        draws = self._draws(source, check_n_samples(n_samples), random_state)
        return X @ draws.coef.T + draws.intercept  # lazy for a dask X

    def _draw_source(self, X):  # pragma: no cover
        raise NotImplementedError

    def _draws(self, source, n_samples: int, random_state) -> PosteriorDraws:
        raise NotImplementedError  # pragma: no cover


def predictive_distribution(
    post: _gaussian.LinearPosterior, X
) -> PredictiveDistribution:
    """Posterior predictive of a new observation at each row of ``X``.

    Normal for known (or plugged-in) noise, Student-t when the noise is
    integrated out; ``epistemic_std`` is the std of the regression function.
    Lazy for a dask ``X``.
    """
    mean, var_f = _dask.predictive_moments(post, X)
    if not np.isfinite(post.df):
        # N(mean, s^2 + var_f): var_f is the epistemic part.
        std = np.sqrt(var_f + post.noise_var)
        return _dask.distribution(Normal, mean, std, epistemic_std=np.sqrt(var_f))
    # t_{2a}(mean, (b/a)(1 + q)) with var_f = (b/a) q; its variance is
    # b/(a-1) (1 + q), of which b/(a-1) q is epistemic (a > 1).
    a = 0.5 * post.df
    scale = np.sqrt(var_f + post.noise_var)
    # With a <= 1 the variance is infinite; report the scale of the
    # function's t-distribution as the epistemic part (noise takes the rest).
    factor = a / (a - 1.0) if a > 1 else 1.0
    epistemic = np.sqrt(var_f * factor)
    return _dask.distribution(StudentT, post.df, mean, scale, epistemic_std=epistemic)
