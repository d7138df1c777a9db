"""The shipped predictive-contract check must be able to fail.

A small correct regressor passes it; each broken variant below violates one
promise and must be caught with an ``AssertionError`` naming the problem.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from bayesreg._base import BayesianRegressorMixin
from bayesreg.distributions import Normal
from bayesreg.utils.estimator_checks import check_predictive_contract


class _LeastSquares(BayesianRegressorMixin, BaseEstimator):
    """Plug-in Normal predictive around least squares: the contract, minimally."""

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        A = np.column_stack([X, np.ones(len(y))])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        self.coef_, self.intercept_ = coef[:-1], coef[-1]
        self.noise_std_ = float(np.std(y - A @ coef)) or 1.0
        return self

    def predict_dist(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        mean = X @ self.coef_ + self.intercept_
        return Normal(mean, np.full(len(mean), self.noise_std_))


class _NotADistribution(_LeastSquares):
    def predict_dist(self, X):
        dist = super().predict_dist(X)
        return SimpleNamespace(mean=dist.mean, std=dist.std)


class _InconsistentStd(_LeastSquares):
    def predict(self, X, return_std=False):
        mean, std = super().predict(X, return_std=True)
        return (mean, 2 * std) if return_std else mean


class _GlobalRandomness(_LeastSquares):
    def sample_y(self, X, n_samples=1, random_state=None):
        dist = self.predict_dist(X)
        # The defect on purpose: the global NumPy random state.
        noise = np.random.standard_normal((len(dist.mean), n_samples))  # noqa: NPY002
        return dist.mean[:, None] + dist.std[:, None] * noise


class _NoInputCheck(_LeastSquares):
    def predict_dist(self, X):
        X = np.asarray(X, dtype=float)
        mean = X @ self.coef_ + self.intercept_
        return Normal(np.nan_to_num(mean), np.full(len(mean), self.noise_std_))


class _NoEpistemicSplit(_LeastSquares):
    def predict_std(self, X, kind="total"):
        std = super().predict_std(X, kind="total")
        return std if kind in ("total", "aleatoric") else 0.5 * std


def test_a_correct_regressor_passes():
    check_predictive_contract(_LeastSquares())


@pytest.mark.parametrize(
    "broken, match",
    [
        (_NotADistribution, "lacks"),
        (_InconsistentStd, "return_std"),
        (_GlobalRandomness, "random state"),
        (_NoInputCheck, "NaN"),
        (_NoEpistemicSplit, "epistemic"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_broken_regressor_is_caught(broken, match):
    with pytest.raises(AssertionError, match=match):
        check_predictive_contract(broken())


class _BayesLeastSquares(BayesianRegressorMixin, BaseEstimator):
    """Gaussian-prior least squares with a plug-in noise per target: the
    contract for y of shape (n,) and (n, k), with an epistemic part."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        A = np.column_stack([X, np.ones(len(X))])
        self.precision_ = A.T @ A + np.eye(A.shape[1])
        self.coef_ = np.linalg.solve(self.precision_, A.T @ y)
        self.noise_std_ = np.std(y - A @ self.coef_, axis=0)
        return self

    def predict_dist(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        A = np.column_stack([X, np.ones(len(X))])
        mean = A @ self.coef_
        var_f = np.einsum("ij,ij->i", A, np.linalg.solve(self.precision_, A.T).T)
        if mean.ndim == 2:
            var_f = var_f[:, None]
        epistemic = self.noise_std_ * np.sqrt(var_f)
        return Normal(mean, np.sqrt(self.noise_std_**2 + epistemic**2), epistemic)


class _IntervalsFlattened(_BayesLeastSquares):
    def predict_interval(self, X, coverage=0.95):
        bounds = super().predict_interval(X, coverage)
        return bounds.reshape(len(bounds), -1) if bounds.ndim == 3 else bounds


class _DrawsTargetsLast(_BayesLeastSquares):
    def sample_y(self, X, n_samples=1, random_state=None):
        draws = super().sample_y(X, n_samples, random_state)
        return (
            np.swapaxes(draws, 1, 2).reshape(draws.shape) if draws.ndim == 3 else draws
        )


class _SqueezesOneColumn(_BayesLeastSquares):
    def predict(self, X, return_std=False):
        out = super().predict(X, return_std)
        if not return_std and out.ndim == 2 and out.shape[1] == 1:
            return out[:, 0]
        return out


class _SharedEpistemicOnly(_BayesLeastSquares):
    def predict_std(self, X, kind="total"):
        std = super().predict_std(X, kind)
        if kind == "epistemic" and std.ndim == 2:
            return std[:, :1] * np.ones_like(std)  # target 0's, for every target
        return std


def test_a_correct_multi_output_regressor_passes():
    check_predictive_contract(_BayesLeastSquares())


@pytest.mark.parametrize(
    "broken, match",
    [
        (_IntervalsFlattened, r"predict_interval has shape \(25, 6\)"),
        (_DrawsTargetsLast, "Monte Carlo"),
        (_SqueezesOneColumn, r"shape \(n, 1\), predict"),
        (_SharedEpistemicOnly, "epistemic"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_broken_multi_output_regressor_is_caught(broken, match):
    # Each passes the one-target contract; only the several-targets part fails.
    with pytest.raises(AssertionError, match=match):
        check_predictive_contract(broken())


def test_multi_output_part_runs_only_when_the_tags_say_so():
    class _NotTagged(_SqueezesOneColumn):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.target_tags.multi_output = False
            return tags

    check_predictive_contract(_NotTagged())
