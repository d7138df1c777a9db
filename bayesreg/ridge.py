"""RidgeMAP: the maximum a posteriori estimate of Bayesian linear regression."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _dask, _gram
from ._dask import validated_X
from ._gaussian import PosteriorDraws
from ._linear import LinearGaussianRegressor
from .distributions import Normal
from .utils._docstrings import FEATURES_SEEN, fill_doc
from .utils._params import store_params

__all__ = ["RidgeMAP"]


@fill_doc(features_seen=FEATURES_SEEN)
class RidgeMAP(LinearGaussianRegressor, BaseEstimator):
    """Ridge regression as the MAP estimate of a Gaussian linear model.

    With a Gaussian likelihood of noise variance sigma^2 and a zero-mean
    Gaussian prior of variance sigma^2 / alpha on each coefficient, the
    posterior mode solves ``min ||y - X w - b||^2 + alpha ||w||^2``: ridge
    regression. The intercept ``b`` is not penalised (a flat prior, handled by
    centring).

    A point estimate carries no uncertainty about the regression function:
    ``predict_dist`` is the *plug-in* predictive
    ``Normal(x^T w + b, residual_std_)``, the same at every x, near the data
    or far from it. Its aleatoric part is the noise, ``noise_std_``,
    estimated from the unpenalised fit; the rest is the MAP's systematic
    error (the penalty's bias, visible at a high signal-to-noise ratio) and
    is reported as epistemic, zero for ``alpha=0``. Use
    :class:`~bayesreg.ConjugateLinearRegression` for the full posterior, whose
    uncertainty grows away from the data.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, ``noise_variance / prior_variance``. ``alpha=0`` is
        least squares (minimum-norm where the problem is rank deficient).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept by centring X and y.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        MAP coefficients.
    intercept_ : float
        Intercept (0.0 when ``fit_intercept=False``).
    residual_std_ : float
        Residual standard deviation of the MAP fit, ``sqrt(RSS / (n - dof))``
        where ``dof`` is the effective number of parameters, ``trace`` of the
        hat matrix (plus one for the intercept); ``n`` is the sum of sample
        weights. The predictive std.
    noise_std_ : float
        Noise standard deviation, from the residuals of the least-squares
        fit, ``sqrt(RSS_ls / (n - rank))`` (rank plus one with an
        intercept), at most ``residual_std_``; ``residual_std_`` when the
        data can be interpolated or ``alpha=0``.
    dof_ : float
        That effective number of parameters.
    %(features_seen)s

    See Also
    --------
    ConjugateLinearRegression : the full Gaussian posterior and its predictive.
    sklearn.linear_model.Ridge : the same point estimate.

    Notes
    -----
    The solution is ``w = (Xc^T W Xc + alpha I)^-1 Xc^T W yc`` for centred
    ``Xc, yc`` and weights ``W``, computed by a Cholesky factorisation of the
    d x d regularised Gram matrix (one pass over X); when that matrix is
    singular or ill conditioned (collinear columns, n < d with a tiny alpha)
    the eigendecomposition gives the minimum-norm solution instead. No
    inverse is ever formed.

    Sampling: the MAP is a point estimate, so :meth:`sample_parameters`
    repeats it (``coef_``, ``intercept_`` and ``noise_std_`` in every draw)
    and :meth:`sample_functions` repeats the MAP function; :meth:`sample_y`
    draws from the plug-in predictive. There is no draw from the prior: the
    penalty is a prior relative to the unknown noise, on a flat intercept.

    ``X``, ``y`` and ``sample_weight`` may be dask arrays: the statistics are
    then reduced block by block on the dask scheduler and only they reach
    the client (a second pass computes the residuals when the fit is
    nearly exact); predictions on a dask array are lazy dask arrays. See
    :class:`~bayesreg.ConjugateLinearRegression`.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg import RidgeMAP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=50)
    >>> reg = RidgeMAP(alpha=1e-3).fit(X, y)
    >>> reg.coef_.round(2), round(reg.intercept_, 2)
    (array([ 1.02, -2.  ]), 0.5)
    >>> reg.predict_std(X[:2]).round(3)  # the same everywhere
    array([0.097, 0.097])
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, *, alpha: float = 1.0, fit_intercept: bool = True):
        store_params(self, locals())

    def _fit_stats(self, stats, X, y, sample_weight) -> None:
        sol = _gram.solve_ridge(stats.xtx, stats.xty, float(self.alpha))
        coef = sol.coef
        intercept = self._intercept(stats, coef)
        dof = sol.dof + float(self.fit_intercept)
        rss = self._rss(stats, coef, intercept, X, y, sample_weight)
        # A perfect interpolation leaves zero residual; keep the predictive
        # a proper distribution with a noise floor at rounding level of y's
        # own size (relative, so the fit stays equivariant in y's units).
        size = np.sqrt((stats.yty + stats.n * stats.y_mean**2) / max(stats.n, 1.0))
        floor = 1e-12 * size if size > 0 else np.finfo(float).tiny
        residual_std = float(max(np.sqrt(rss / max(stats.n - dof, 1.0)), floor))
        # The noise itself, from the residuals of the unpenalised fit: the
        # MAP residuals also hold the penalty's bias, which at a high
        # signal-to-noise ratio can exceed the noise.
        noise_std = residual_std
        if self.alpha > 0:
            ls = _gram.solve_ridge(stats.xtx, stats.xty, 0.0)
            dof_ls = ls.dof + float(self.fit_intercept)
            if stats.n - dof_ls >= 1.0:
                b_ls = self._intercept(stats, ls.coef)
                rss_ls = self._rss(stats, ls.coef, b_ls, X, y, sample_weight)
                noise_std = float(
                    min(max(np.sqrt(rss_ls / (stats.n - dof_ls)), floor), residual_std)
                )
        self.coef_ = coef
        self.intercept_ = intercept
        self.dof_ = dof
        self.residual_std_ = residual_std
        self.noise_std_ = noise_std

    @staticmethod
    def _rss(stats, coef, intercept, X, y, sample_weight) -> float:
        rss = _gram.residual_sum_of_squares(stats, coef)
        if rss <= 1e-8 * stats.yty:
            # The statistics formula cancels when the fit is nearly exact:
            # one more pass over X (a lazy reduction for dask arrays).
            resid = y - X @ coef - intercept
            w = 1.0 if sample_weight is None else sample_weight
            rss = float(np.sum(w * resid**2))
        return rss

    def predict_dist(self, X) -> Normal:
        """Plug-in predictive ``Normal(x^T coef_ + intercept_, residual_std_)``.

        Its aleatoric std is ``noise_std_``; the rest of ``residual_std_`` is
        the MAP's own error (the penalty's bias), reported as epistemic. The
        MAP estimate ignores the posterior uncertainty of the coefficients,
        so both are the same at every x.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input points.

        Returns
        -------
        dist : Normal of length n_samples
        """
        mean = self._predict_mean(X)
        # full_like: a dask mean gives a lazy dask std.
        epistemic = np.sqrt(max(self.residual_std_**2 - self.noise_std_**2, 0.0))
        return _dask.distribution(
            Normal,
            mean,
            np.full_like(mean, self.residual_std_),
            epistemic_std=np.full_like(mean, epistemic),
        )

    def _draw_source(self, X):
        check_is_fitted(
            self,
            msg=(
                "This %(name)s instance is not fitted yet, and its prior is "
                "improper (a penalty alpha is a prior relative to the unknown "
                "noise, on a flat intercept): fit it before drawing."
            ),
        )
        return None, None if X is None else validated_X(self, X)

    def _draws(self, source, n_samples: int, random_state) -> PosteriorDraws:
        # A point estimate: every draw is the MAP, with the noise std_.
        return PosteriorDraws(
            np.tile(self.coef_, (n_samples, 1)),
            np.full(n_samples, self.intercept_),
            np.full(n_samples, self.noise_std_**2),
        )
