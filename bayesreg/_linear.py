"""What the two closed-form linear estimators share.

:class:`~bayesreg.ConjugateLinearRegression` and :class:`~bayesreg.RidgeMAP`
model ``y = x^T w + b + noise`` (for each of k targets) and are fitted from
the sufficient statistics of the data (primal form) or from the n x n
kernel matrix of its rows (dual form, when p > n): the same intake
(:mod:`bayesreg._dask` chooses the NumPy, SciPy sparse or dask path), the
same unpenalised intercept (by centring), the same mean, the same output
shapes and dtypes, and the same sampling methods, which differ only in where
the draws of ``(w, b, noise std)`` come from
(:meth:`LinearGaussianRegressor._draws`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from . import _dask, _gaussian
from ._base import BayesianRegressorMixin
from ._dask import validated_gram_stats, validated_X
from ._intake import FitData
from .distributions import Normal, StudentT
from .utils._checks import check_n_samples, is_float32
from .utils._random import check_generator
from .utils._state import restore_on_error


class LinearGaussianRegressor(BayesianRegressorMixin):
    """Base of the linear Gaussian estimators: intake, intercept, sampling.

    Subclasses have the parameters ``fit_intercept`` and ``solver`` and the
    fitted attributes ``coef_`` and ``intercept_``, and define
    ``_fit_data(data)`` (the fit from a :class:`~bayesreg._intake.FitData`),
    ``_draw_source(X)`` (validate ``X``, which may be None, and return what
    ``_draws`` draws from: the posterior, or the prior of an unfitted
    estimator) and ``_draws(source, n_samples, rng)`` (a
    :class:`~bayesreg._gaussian.Draws`, with a target axis).

    Shapes: a 1-D y gives 1-D outputs (``coef_`` (p,), predictions (n,));
    y of shape (n, k), k >= 1, gives a trailing target axis (``coef_``
    (k, p), predictions (n, k)), as :class:`sklearn.linear_model.Ridge`.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> LinearGaussianRegressor:
        """Fit the model to (X, y), forgetting any earlier data.

        One pass over the data gathers its sufficient statistics (or, in
        the dual form, the kernel matrix of its rows), from which the
        estimator computes its fit (the posterior, or the MAP). A fit that
        fails leaves the estimator as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix} or dask array of shape \
                (n_samples, n_features)
            Sparse X (CSR, CSC, COO) is never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            A dask y must be 1-D.
        sample_weight : array-like or dask array of shape (n_samples,), \
                default=None
            Non-negative weights; a weight of k counts a row k times.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with restore_on_error(self):
            self._fit_data(self._validated(X, y, sample_weight, reset=True))
        return self

    def _fit_data(self, data: FitData) -> None:
        raise NotImplementedError  # pragma: no cover

    def _validated(self, X, y, sample_weight, *, reset: bool, solver=None) -> FitData:
        """Validated data and, in the primal form, its statistics, centred to
        fit an intercept."""
        return validated_gram_stats(
            self, X, y, sample_weight, center=self.fit_intercept, reset=reset,
            solver=self.solver if solver is None else solver,
        )  # fmt: skip

    def _set_target_shape(self, y) -> None:
        self._n_targets = None if y.ndim == 1 else int(y.shape[1])

    def _shaped(self, a):
        """(n, k) numerics -> (n,) for a 1-D training y; lazy arrays too."""
        return a[:, 0] if self._n_targets is None else a

    def _shaped_params(self, a):
        """(k, ...) per-target parameters -> drop k for a 1-D training y."""
        return a[0] if self._n_targets is None else a

    def _predict_mean(self, X):
        check_is_fitted(self)
        X = validated_X(self, X)
        # A dask X stays lazy: the product maps over its row blocks.
        coef = np.reshape(self.coef_, (-1, X.shape[1]))
        mean = X @ coef.T + np.reshape(self.intercept_, (1, -1))
        return self._shaped(
            np.asarray(mean) if not _dask.is_dask_collection(mean) else mean
        )

    def predict(self, X, return_std: bool = False):
        """Predictive mean, and optionally the predictive std.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the total predictive standard deviation.

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
            float32 when X is float32 (computed in float64).
        std : ndarray of the same shape
            Only when ``return_std=True``.
        """
        out = super().predict(X, return_std=return_std)
        if return_std:
            return tuple(_as_input_dtype(a, X) for a in out)
        return _as_input_dtype(out, X)

    def predict_std(self, X, kind: str = "total"):
        """Predictive standard deviation, shape (n_samples,) or
        (n_samples, n_targets); float32 when X is float32.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        kind : {"total", "epistemic", "aleatoric"}, default="total"
            ``"total"``: a new observation; ``"epistemic"``: the regression
            function alone; ``"aleatoric"``: the observation noise alone.
            ``total**2 == epistemic**2 + aleatoric**2``.
        """
        return _as_input_dtype(super().predict_std(X, kind=kind), X)

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
            and ``"noise_std"`` of shape (n_samples,), on the scale of y;
            with several targets ``"coef"`` is (n_samples, n_targets,
            n_features) and the others (n_samples, n_targets).
        """
        n_samples = check_n_samples(n_samples)
        source, _ = self._draw_source(None)
        draws = self._draws(source, n_samples, check_generator(random_state))
        one = getattr(self, "_n_targets", None) is None
        pick = (lambda a: a[:, 0]) if one else (lambda a: a)
        return {
            "coef": pick(draws.coef),
            "intercept": pick(draws.intercept),
            "noise_std": pick(np.sqrt(draws.noise_var)),
        }

    def sample_functions(self, X, n_samples: int = 1, random_state=None):
        """Regression functions drawn from the posterior, evaluated at X.

        Each draw is one function ``f(x) = x^T w + b`` with ``(w, b)``
        drawn by :meth:`sample_parameters`: the regression function alone,
        without the observation noise.

        Parameters
        ----------
        X : {array-like, sparse matrix} or dask array of shape \
                (n_samples_X, n_features)
        n_samples : int, default=1
            Number of functions drawn.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible.

        Returns
        -------
        f : ndarray of shape (n_samples_X, n_samples)
            (n_samples_X, n_targets, n_samples) with several targets. A
            dask array (computed by blocks of rows) for a dask ``X``; the
            draws are the same as for the NumPy ``X``.
        """
        source, X = self._draw_source(X)
        draws = self._draws(source, check_n_samples(n_samples), random_state)
        return self._functions(X, draws)

    def _functions(self, X, draws):
        """f (n, k, S) (or (n, S) for one 1-D target) of each draw at X."""
        if getattr(self, "_n_targets", None) is None:
            return X @ draws.coef[:, 0].T + draws.intercept[:, 0]  # lazy for dask
        f = np.stack([X @ draws.coef[:, j].T for j in range(draws.coef.shape[1])], 1)
        return f + draws.intercept.T[None, :, :]

    def _draw_source(self, X):  # pragma: no cover
        raise NotImplementedError

    def _draws(self, source, n_samples: int, random_state):
        raise NotImplementedError  # pragma: no cover


def _as_input_dtype(a, X):
    """float32 out for a float32 X (sklearn's Ridge); float64 otherwise."""
    if is_float32(X) and a.dtype != np.float32:
        return a.astype(np.float32)
    return a


def predictive_distribution(post: _gaussian.SpectralPosterior, X, shaped):
    """Posterior predictive of a new observation at each row of ``X``.

    Normal for known (or plugged-in) noise, Student-t when the noise is
    integrated out; ``epistemic_std`` is the std of the regression function.
    ``shaped`` maps the (n, k) parameters to the estimator's output shape.
    Lazy for a dask ``X``.
    """
    mean, var_f = _dask.predictive_moments(post, X)
    mean, var_f = shaped(mean), shaped(var_f)
    noise_var = shaped(post.noise_var[None, :])
    if not np.all(np.isfinite(post.df)):
        # N(mean, s^2 + var_f): var_f is the epistemic part.
        std = np.sqrt(var_f + noise_var)
        return _dask.distribution(Normal, mean, std, epistemic_std=np.sqrt(var_f))
    # t_{2a}(mean, (b/a)(1 + q)) with var_f = (b/a) q; its variance is
    # b/(a-1) (1 + q), of which b/(a-1) q is epistemic (a > 1).
    a = 0.5 * post.df
    scale = np.sqrt(var_f + noise_var)
    # With a <= 1 the variance is infinite; report the scale of the
    # function's t-distribution as the epistemic part (noise takes the rest).
    factor = shaped(np.where(a > 1, a / np.where(a > 1, a - 1.0, 1.0), 1.0)[None, :])
    epistemic = np.sqrt(var_f * factor)
    df = shaped(post.df[None, :])
    if np.ndim(df) and np.size(df) == 1:
        df = float(np.ravel(df)[0])
    return _dask.distribution(StudentT, df, mean, scale, epistemic_std=epistemic)
