"""The predictive contract, written once.

A bayesreg regressor implements ``fit`` and ``predict_dist(X)``; this mixin
derives every other predictive method from that one answer, so they agree
with each other by construction. When ``predict_dist`` is lazy (a dask ``X``,
see :mod:`bayesreg._dask`) so is every method derived here: each returns
dask arrays and computes nothing.

Shapes follow the batch shape of ``predict_dist`` (sklearn's
``GaussianProcessRegressor`` convention): an estimator fitted to a 1-D y
gives (n,) means and stds, (n, 2) intervals, (n, n_samples) draws; fitted to
y of shape (n, k) (k >= 1, so (n, 1) too, as ``Ridge`` does) it gives (n, k)
means, stds and log densities, (n, k, 2) intervals and (n, k, n_samples)
draws.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from .distributions import PredictiveDistribution
from .utils._checks import check_coverage, check_n_samples

_STD_KINDS = ("total", "epistemic", "aleatoric")


class BayesianRegressorMixin(RegressorMixin):
    """Derive the predictive contract from ``predict_dist``.

    Subclasses define ``predict_dist(X) -> PredictiveDistribution`` (which
    checks fitting and validates ``X``). They may override ``_predict_mean``
    where the mean is much cheaper than the full distribution.
    """

    def predict_dist(self, X) -> PredictiveDistribution:  # pragma: no cover
        raise NotImplementedError

    def _predict_mean(self, X) -> np.ndarray:
        return self.predict_dist(X).mean

    def predict(self, X, return_std: bool = False):
        """Predictive mean, and optionally the predictive std.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the total predictive standard deviation.

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
        std : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Only when ``return_std=True``.
        """
        if not return_std:
            return self._predict_mean(X)
        dist = self.predict_dist(X)
        return dist.mean, dist.std

    def predict_std(self, X, kind: str = "total") -> np.ndarray:
        """Predictive standard deviation, shape (n_samples,) or (n_samples, n_targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        kind : {"total", "epistemic", "aleatoric"}, default="total"
            ``"total"``: a new observation; ``"epistemic"``: the regression
            function alone; ``"aleatoric"``: the observation noise alone.
            ``total**2 == epistemic**2 + aleatoric**2``.

        Returns
        -------
        std : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        if kind not in _STD_KINDS:
            raise ValueError(f"kind must be one of {_STD_KINDS}, got {kind!r}.")
        dist = self.predict_dist(X)
        if kind == "total":
            return dist.std
        return dist.epistemic_std if kind == "epistemic" else dist.aleatoric_std

    def predict_interval(self, X, coverage: float = 0.95) -> np.ndarray:
        """Central predictive interval, (n_samples, 2) or (n_samples, n_targets, 2).

        ``[..., 0]`` is the lower bound, ``[..., 1]`` the upper bound; a new
        observation falls inside with probability ``coverage``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float in (0, 1), default=0.95
            Probability mass between the bounds; each tail holds
            ``(1 - coverage) / 2``.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2) or (n_samples, n_targets, 2)
        """
        coverage = check_coverage(coverage)
        return self.predict_dist(X).interval(coverage)

    def log_predictive_density(self, X, y) -> np.ndarray:
        """Pointwise log p(y_i | x_i, training data), of the shape of y.

        Exact where the predictive is closed form (Normal, Student-t), a
        log-mean-exp over posterior draws for the Pyro estimators.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Observed targets, on the scale of the training y and of its
            shape (a model fitted to y of shape (n, 1) also takes (n,)).

        Returns
        -------
        log_density : ndarray of shape (n_samples,) or (n_samples, n_targets)
            One value per observation and target (the targets are
            independent given x: sum over the last axis for the joint).
        """
        dist = self.predict_dist(X)
        return dist.logpdf(dist._check_targets(y))

    def sample_y(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws from the posterior predictive, shape (n_samples_X, n_samples).

        Each column (``[..., s]``) is one draw of independent new observations
        at the rows of ``X``; with several targets the shape is
        (n_samples_X, n_targets, n_samples), as ``GaussianProcessRegressor``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        n_samples : int, default=1
            Number of draws per row of ``X``.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible; NumPy's global state is never used
            when it is set.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, [n_targets,] n_samples)
        """
        n_samples = check_n_samples(n_samples)
        return self.predict_dist(X).sample(n_samples, random_state)
