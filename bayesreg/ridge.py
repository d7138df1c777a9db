"""RidgeMAP: the maximum a posteriori estimate of Bayesian linear regression."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _dask, _gaussian
from ._dask import validated_X
from ._intake import FitData
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
    or far from it. ``residual_std_`` estimates the error of the MAP's
    predictions at new rows by generalised cross-validation, so it stays
    calibrated as the number of features grows towards (and beyond) the
    number of rows. Its aleatoric part is the noise, ``noise_std_``,
    estimated from the unpenalised fit; the rest is the MAP's own error
    (the penalty's bias and the coefficients' estimation error) and is
    reported as epistemic. Use
    :class:`~bayesreg.ConjugateLinearRegression` for the full posterior, whose
    uncertainty grows away from the data.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty strength, ``noise_variance / prior_variance``. ``alpha=0`` is
        least squares (minimum-norm where the problem is rank deficient).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept by centring X and y.
    solver : {"auto", "primal", "dual"}, default="auto"
        ``"primal"``: the eigendecomposition of the p x p Gram matrix of the
        sufficient statistics; ``"dual"`` (kernel form): that of the n x n
        matrix of the rows, storing the training X (O(n p), O(nnz) sparse)
        instead of p x p matrices; ``"auto"``: the dual when p > n (dask
        arrays: always the primal). The same solution to rounding.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        MAP coefficients (one row per target for a 2-D y, as sklearn's Ridge).
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    residual_std_ : float or ndarray of shape (n_targets,)
        The predictive std: the generalised cross-validation estimate of the
        prediction error at new rows (Golub, Heath & Wahba 1979),
        ``sqrt(RSS / n) / (1 - dof / n)``, where ``RSS`` is the weighted
        residual sum of squares, ``dof`` the effective number of parameters
        and ``n`` the sum of sample weights (``n - dof`` is kept >= 1).
    noise_std_ : float or ndarray of shape (n_targets,)
        Noise standard deviation, from the residuals of the least-squares
        fit, ``sqrt(RSS_ls / (n - rank))`` (rank plus one with an
        intercept), at most ``residual_std_``; ``residual_std_`` when the
        data can be interpolated or ``alpha=0``.
    dof_ : float
        The effective number of parameters, the trace of the hat matrix
        ``sum_i l_i / (l_i + alpha)`` over the eigenvalues l_i of the
        centred Gram matrix, plus one for the intercept.
    solver_ : {"primal", "dual"}
        The form the fit used.
    %(features_seen)s

    See Also
    --------
    ConjugateLinearRegression : the full Gaussian posterior and its predictive.
    sklearn.linear_model.Ridge : the same point estimate.

    Notes
    -----
    The solution is ``w = (Xc^T W Xc + alpha I)^-1 Xc^T W yc`` for centred
    ``Xc, yc`` and weights ``W``, computed in the eigenbasis of the Gram
    matrix (:mod:`bayesreg._gaussian`): with Xc^T W Xc = Q diag(l) Q^T and
    z = Q^T Xc^T W yc, ``w = Q diag(1 / (l + alpha)) z`` (minimum-norm for
    ``alpha=0`` and collinear columns), RSS = rss_perp + sum (z^2 / l)
    (alpha / (l + alpha))^2 and dof = sum l / (l + alpha). In the primal
    form Q comes from the p x p statistics (one pass over X); in the dual
    (p > n) from the n x n kernel W^1/2 Xc Xc^T W^1/2 = U diag(l) U^T, with
    Q = Xc^T W^1/2 U diag(l)^-1/2 applied through the stored rows. Sparse X
    is never densified; y of shape (n, k) shares one eigendecomposition.

    Why GCV: the training residuals shrink as p grows (RSS / (n - dof)
    covered 0.52 at p = 150 and 0.10 at p = 400 for n = 200), while the
    GCV form tracks the error at new rows (0.89-0.90 there). The exact
    leave-one-out residuals e_i / (1 - H_ii) were measured too and cover the
    same (within 0.01 on those designs and on PolynomialFeatures(3)
    diabetes), but need the rows; GCV needs only the spectrum, so it holds
    for dask, sparse and dual fits alike. It is equivariant in the units of
    y, as is the floor at 1e-12 times y's spread that keeps an exact
    interpolation's predictive proper.

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
    array([0.1, 0.1])
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "primal", "dual"})],
    }

    def __init__(
        self, *, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "auto"
    ):
        store_params(self, locals())

    def _fit_data(self, data: FitData) -> None:
        stats = data.stats
        if stats is not None:
            self._n_targets = None if np.ndim(stats.yty) == 0 else stats.yty.shape[0]
            d = stats.xtx.shape[0]
            spec = _gaussian.primal_spectrum(stats, np.zeros(d), np.ones(d))
        else:
            self._set_target_shape(data.y)
            d = data.X.shape[1]
            spec = _gaussian.dual_spectrum(
                data.X, data.Y, data.sample_weight, np.zeros(d), np.ones(d),
                center=self.fit_intercept,
            )  # fmt: skip
        alpha = float(self.alpha)
        # The MAP and, for the noise below, the least-squares fit: both
        # coefficient vectors from one product with the basis.
        if alpha > 0:
            fit, ls = _gaussian.ridge(spec, alpha, 0.0)
        else:
            (fit,), ls = _gaussian.ridge(spec, alpha), None
        coef = fit.coef
        intercept = self._intercepts(spec, coef)
        n, extra = spec.n, float(self.fit_intercept)
        dof = fit.dof + extra
        rss = self._rss(spec, fit.rss, coef, intercept, data)
        # A perfect interpolation leaves zero residual; keep the predictive
        # a proper distribution with a noise floor at rounding level of y's
        # spread (not its magnitude: y -> a y + b must map it exactly).
        spread = np.sqrt(np.atleast_1d(stats.yty if stats else _yty(spec, data)) / n)
        size = np.where(spread > 0, spread, np.abs(spec.y_mean))
        floor = np.where(size > 0, 1e-12 * size, np.finfo(float).tiny)
        # The prediction error at new rows, by generalised cross-validation
        # (Golub, Heath & Wahba 1979): RSS / n / (1 - dof / n)^2, the
        # leave-one-out error with every leverage replaced by their mean
        # dof / n. The training residuals alone (RSS / (n - dof)) shrink as
        # p grows and left the plug-in predictive over-confident.
        residual_std = np.maximum(np.sqrt(rss * n) / max(n - dof, 1.0), floor)
        # The noise itself, from the residuals of the unpenalised fit: the
        # MAP's prediction error also holds the penalty's bias and the
        # coefficients' own error.
        noise_std = residual_std
        if ls is not None:
            dof_ls = ls.dof + extra
            if n - dof_ls >= 1.0:
                b_ls = self._intercepts(spec, ls.coef)
                rss_ls = self._rss(spec, ls.rss, ls.coef, b_ls, data)
                noise_std = np.minimum(
                    np.maximum(np.sqrt(rss_ls / (n - dof_ls)), floor), residual_std
                )
        shaped = self._shaped_params
        self.coef_ = shaped(coef)
        self.intercept_ = _scalar(shaped(intercept))
        self.dof_ = float(dof)
        self.residual_std_ = _scalar(shaped(residual_std))
        self.noise_std_ = _scalar(shaped(noise_std))
        self.solver_ = spec.form

    def _intercepts(self, spec, coef: np.ndarray) -> np.ndarray:
        if not self.fit_intercept:
            return np.zeros(coef.shape[0])
        return spec.y_mean - coef @ spec.x_mean

    @staticmethod
    def _rss(spec, rss, coef, intercept, data) -> np.ndarray:
        """RSS per target from the spectrum; from the data when the spectral
        formula cancels (a nearly exact fit): one more pass over X (a lazy
        reduction for dask arrays)."""
        yty = spec.rss0
        if data is None or data.X is None or not np.any(rss <= 1e-8 * yty):
            return rss
        X, y = data.X, data.y
        fitted = X @ (coef[0] if y.ndim == 1 else coef.T)
        resid = y - fitted - (intercept[0] if y.ndim == 1 else intercept)
        w = 1.0 if data.sample_weight is None else data.sample_weight
        if y.ndim == 1:
            return np.atleast_1d(float(np.sum(w * resid**2)))
        if data.sample_weight is not None:
            w = w[:, None]
        return np.asarray(np.sum(w * resid**2, axis=0), dtype=float)

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
        epistemic = np.sqrt(
            np.maximum(np.square(self.residual_std_) - np.square(self.noise_std_), 0.0)
        )
        # zeros_like + ...: a dask mean gives a lazy dask std, and several
        # targets broadcast along the last axis.
        zero = np.zeros_like(mean)
        return _dask.distribution(
            Normal, mean, zero + self.residual_std_, epistemic_std=zero + epistemic
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

    def _draws(self, source, n_samples: int, random_state) -> _gaussian.Draws:
        # A point estimate: every draw is the MAP, with the noise std_.
        coef = np.reshape(self.coef_, (1, -1, self.n_features_in_))
        k = coef.shape[1]
        return _gaussian.Draws(
            np.repeat(coef, n_samples, axis=0),
            np.tile(np.reshape(self.intercept_, (1, k)), (n_samples, 1)),
            np.tile(np.reshape(self.noise_std_, (1, k)) ** 2, (n_samples, 1)),
        )


def _yty(spec, data) -> np.ndarray:
    """Centred (or raw, without an intercept) weighted sum of squares of y."""
    Y = data.Y - spec.y_mean
    w = data.sample_weight
    return np.sum(Y * Y if w is None else w[:, None] * Y * Y, axis=0)


def _scalar(a):
    """A 0-d result as a Python float (the 1-D y attributes)."""
    return float(a) if np.ndim(a) == 0 else a
