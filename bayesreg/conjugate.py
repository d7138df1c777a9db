"""ConjugateLinearRegression: exact Bayesian linear regression."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _ard, _dask, _evidence, _gaussian, _gram
from ._dask import validated_X
from ._intake import FitData, check_gram_memory, check_mergeable, prior_arrays
from ._linear import LinearGaussianRegressor, predictive_distribution
from .distributions import PredictiveDistribution
from .utils._checks import check_n_samples
from .utils._docstrings import FEATURES_SEEN, fill_doc
from .utils._params import store_params
from .utils._random import check_generator
from .utils._state import restore_on_error

__all__ = ["ConjugateLinearRegression"]


@fill_doc(features_seen=FEATURES_SEEN)
class ConjugateLinearRegression(LinearGaussianRegressor, BaseEstimator):
    """Bayesian linear regression with a conjugate prior, solved exactly.

    A Gaussian prior on the coefficients and a Gaussian likelihood give a
    Gaussian posterior and a closed-form posterior predictive. With its
    defaults the model is unit-free: the noise level is unknown and
    integrated out under the scale-free (Jeffreys) prior, each coefficient's
    prior std is measured per standardised column and in units of the noise,
    and its overall scale is chosen by the evidence (see Notes). Refitting
    on ``(c X, a y + b)`` then maps every prediction exactly: means to
    ``a mean + b``, stds to ``a std``. The modes:

    - unknown noise (``noise_std=None``, the default): a Normal-Inverse-Gamma
      prior, Student-t predictive;
    - known noise (``noise_std`` a number): Normal predictive; with
      ``prior_std`` a number too this is the textbook model;
    - empirical Bayes (``fit_hyperparameters=True``): the prior scale and the
      noise std maximise the log marginal likelihood (MacKay's fixed point,
      as :class:`sklearn.linear_model.BayesianRidge`), Normal predictive.

    Everything is computed from the sufficient statistics of the data (one
    pass over ``X``), so :meth:`partial_fit` updates the posterior online,
    any split of the data into chunks gives the batch posterior, and
    :meth:`merge` combines estimators fitted on disjoint shards of the data.
    ``X`` may be a dask array larger than memory, or a SciPy sparse matrix
    (never densified); with more columns than rows the fit takes the exact
    kernel (dual) form; ``y`` may hold several targets, each with its own
    noise and prior scale (see Notes).

    Parameters
    ----------
    prior_std : "auto", float or array-like of shape (n_features,), \
            default="auto"
        Prior standard deviation of each coefficient (positive).
        ``"auto"``: ``c * noise / sd(x_j)``, per standardised column ``j``
        (``sd`` is the column's std, or its root mean square without an
        intercept, over all data seen) in units of the noise std, with the
        unit-free factor ``c`` chosen by maximising the evidence (stored in
        ``prior_scale_``). A number or array: fixed, in units of the
        coefficients with known noise and in units of the noise std with
        ``noise_std=None``. With ``fit_hyperparameters=True`` it gives the
        relative shape and the starting point (``"auto"``:
        ``sd(y) / sd(x_j)``, in units of the coefficients); one common
        factor is fitted.
        ``"ard"``: ``r_j noise / sd(x_j)`` per feature and target, the
        unit-free scales ``r_j >= 0`` chosen by the evidence and prior odds
        1 : p; ``r_j = 0`` prunes j (coefficient the prior mean, no
        variance; ``relevance_`` reports them). See Notes; not with
        ``fit_hyperparameters=True``.
    prior_mean : float or array-like of shape (n_features,), default=0.0
        Prior mean of the coefficients.
    noise_std : float or None, default=None
        Standard deviation of the observation noise, in units of ``y``.
        ``None``: unknown, integrated out under the inverse-gamma prior of
        ``noise_prior_shape`` and ``noise_prior_scale`` (by default Jeffreys'
        p(s^2) ~ 1/s^2). With ``fit_hyperparameters=True`` it is only the
        starting value (``None``: start from the variance of ``y``).
    noise_prior_shape : float, default=0.0
        Shape a0 >= 0 of the inverse-gamma prior on the noise variance (only
        with ``noise_std=None``): its weight, worth ``2 a0`` observations.
    noise_prior_scale : float, default=0.0
        Scale b0 >= 0 of that prior *as a fraction of the variance of y*
        (about its mean with an intercept, its mean square without, over all
        data seen): the prior is ``s^2 ~ InvGamma(a0, b0 var(y))``, so it
        means the same whatever the units of ``y``, and ``b0 / (a0 - 1)`` is
        the prior guess of the noise variance as a fraction of var(y).
        ``a0 = b0 = 0`` is Jeffreys' scale-free prior; either at zero makes
        the prior improper (the evidence is then defined up to a constant
        shared by every model of the same ``y``).
    fit_intercept : bool, default=True
        Fit an intercept with a flat (improper) prior, by centring. Its
        uncertainty enters the predictive, so the predictive std is smallest
        near the training data. With ``False`` every column, a bias column
        included, gets the prior.
    fit_hyperparameters : bool, default=False
        Choose the prior scale and the noise std by maximising the log
        marginal likelihood (type-II maximum likelihood), with a plug-in
        Normal predictive.
    max_iter : int, default=300
        Most fixed-point iterations (``fit_hyperparameters``), or steps of
        the ``"ard"`` search (a few per feature kept); stopping there warns
        with a ConvergenceWarning.
    tol : float, default=1e-10
        Relative change of the precisions at which the fixed point stops.
    solver : {"auto", "primal", "dual"}, default="auto"
        How the posterior is computed (both give the same posterior,
        evidence and predictive, to rounding): ``"primal"`` from the
        p x p sufficient statistics (O(n p^2 + p^3), stores O(p^2));
        ``"dual"`` (the kernel form) from the n x n matrix of the rows
        (O(n^2 p + n^3), stores the training X: O(n p), or O(nnz) for a
        sparse X). ``"auto"``: the dual when p > n. :meth:`partial_fit`,
        :meth:`merge` and dask arrays always use the primal.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Posterior mean of the coefficients (one row per target for a 2-D y).
    intercept_ : float or ndarray of shape (n_targets,)
        Posterior mean of the intercept (0.0 when ``fit_intercept=False``).
    coef_cov_ : ndarray of shape (n_features, n_features)
        Posterior covariance of the coefficients, (n_targets, n_features,
        n_features) for a 2-D y. For unknown noise, the covariance of their
        multivariate-t marginal (infinite when ``noise_shape_ <= 1``).
        Computed on request from the eigenbasis (O(p^3), p x p memory per
        target; the dual form stores no p x p matrix).
    prior_std_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Prior std of each coefficient used by the fit (chosen by the
        evidence for ``prior_std="auto"`` or ``fit_hyperparameters=True``,
        per target); in units of the noise std when the noise is unknown.
    relevance_ : ndarray of shape (n_features,) or (n_targets, n_features)
        With ``prior_std="ard"``: ``1 - kappa_j`` in [0, 1), with ``kappa_j
        = 1 / (1 + n r_j^2)`` the shrinkage factor of a standardised column
        (``prior_std_ = r_j noise / sd(x_j)``, n the sum of the weights):
        0 for a pruned feature, near 1 for one the data keep; the quantity
        ``PyroBayesianLinear``'s sparse priors report under this name.
    prior_scale_ : float or ndarray of shape (n_targets,)
        The factor chosen by the evidence: ``c`` for ``prior_std="auto"``
        (``prior_std_ = c / sd(x_j)``, noise units), the common factor of
        the shape for ``fit_hyperparameters=True`` (with ``"auto"``,
        ``prior_std_ = prior_scale_ * sd(y) / sd(x_j)``); 1.0 for a fixed
        ``prior_std`` and for ``"ard"``.
    noise_std_ : float or ndarray of shape (n_targets,)
        Noise std: the given one, the fitted one, or for unknown noise the
        square root of the posterior mean of the noise variance,
        ``sqrt(noise_scale_ / (noise_shape_ - 1))`` (infinite if
        ``noise_shape_ <= 1``).
    noise_shape_ : float or ndarray of shape (n_targets,)
        Posterior inverse-gamma shape a_N (only with unknown noise).
    noise_scale_ : float or ndarray of shape (n_targets,)
        Posterior inverse-gamma scale b_N (only with unknown noise).
    log_marginal_likelihood_ : float or ndarray of shape (n_targets,)
        Exact log evidence of the training targets, log p(y | X), one per
        target (independent given X: their sum is the evidence of all); see
        Notes for its meaning with ``fit_intercept=True``.
    n_iter_ : int
        Fixed-point iterations run with ``fit_hyperparameters``; evaluations
        of the evidence with ``prior_std="auto"``; steps (features added,
        re-estimated or deleted) with ``"ard"``; 1 otherwise (the
        closed-form update). With several targets, the largest.
    solver_ : {"primal", "dual"}
        The form the fit used.
    sufficient_stats_ : GramStats
        The data seen, as ``(n, x_mean, y_mean, xtx, xty, yty, centered)``:
        the sum of the weights, the weighted means of X and y (zero when
        ``fit_intercept=False``), and the weighted ``X^T W X``, ``X^T W y``,
        ``y^T W y`` of the data centred on those means (``xty`` (n_features,
        n_targets), ``y_mean`` and ``yty`` (n_targets,) for a 2-D y). The
        posterior depends on the data only through them; :meth:`partial_fit`
        and :meth:`merge` combine them exactly. The dual form computes them
        from its rows on request (O(n p^2) time; refused beyond 2 GiB).
    %(features_seen)s

    See Also
    --------
    RidgeMAP : the posterior mode alone, with a plug-in predictive.
    sklearn.linear_model.BayesianRidge : empirical Bayes with gamma
        hyperpriors; its predictive std ignores the intercept's uncertainty.
    bayesreg.model_selection.EvidenceSearch : choose among models by
        ``log_marginal_likelihood_``.

    Notes
    -----
    The default model, for centred columns x_j with spread sd_j (over all
    data seen) and weights W (a weight k counts a row k times)::

        p(b) = 1,    p(s^2) ~ 1 / s^2                  (flat, scale-free)
        w_j | s^2 ~ N(m0_j, s^2 c^2 / sd_j^2)          (per standardised column)
        y_i | x_i, w, b, s^2 ~ N(b + x_i^T w, s^2)
        c = argmax_c p(y | X, c)                       (evidence, closed form)

    Every prior quantity is measured in the units of the data (s in units
    of y, w_j in units of y per unit of x_j) or is unit-free (c), so the
    posterior maps exactly under ``(c X, a y + b)``. With no features the
    predictive is the classical Student-t with n - 1 degrees of freedom,
    whose intervals have exact frequentist coverage. The textbook
    known-noise model below is ``prior_std=tau, noise_std=sigma``.

    Known noise: with w ~ N(m0, S0), S0 = diag(prior_std^2), noise variance
    s^2 and weights W,

        Sigma_N = (S0^-1 + X^T W X / s^2)^-1,
        w_N = Sigma_N (S0^-1 m0 + X^T W y / s^2),
        p(y* | x*) = N(x*^T w_N + b, s^2 + x*^T Sigma_N x*).

    Unknown noise: s^2 ~ InvGamma(a0, b0), w | s^2 ~ N(m0, s^2 S0); then
    V_N = (S0^-1 + X^T W X)^-1, a_N = a0 + n_eff/2,
    b_N = b0 + (y^T W y + m0^T S0^-1 m0 - w_N^T V_N^-1 w_N) / 2 and the
    predictive is Student-t with 2 a_N degrees of freedom, location
    x*^T w_N + b and squared scale (b_N / a_N)(1 + x*^T V_N x*). b_N is
    kept above 1e-10 var(y) / 2 (data that can be interpolated would
    otherwise leave a noise variance at rounding level).

    ``prior_std="auto"``: with D = diag(1/sd_j) (times s for known noise),
    the eigenvalues l_i of D X^T W X D and z = Q^T D X^T W y in their basis,
    the log evidence as a function of t = c^2 is
    -1/2 sum log(1 + t l_i) + h(R(t)) with the residual
    R(t) = y^T W y - sum t z_i^2 / (1 + t l_i) and h(R) = -a_N log(b0 + R/2)
    (unknown noise) or -R / (2 s^2) (known noise). It is scanned on a grid
    of log t and its stationary point refined by Brent's method to machine
    precision; O(d^3) once, O(d) per evaluation.

    Intercept: with ``fit_intercept=True`` the model is y = b + X w + noise
    and b has a flat prior, p(b) = 1. Integrating b out centres X and y on
    their weighted means and costs one observation (n_eff = n - 1 replaces
    n in the evidence, the noise posterior and the fixed point; n_eff = n
    without an intercept). Given w and s^2, b ~ N(y_mean - x_mean^T w,
    s^2 / n), so the regression function at x* has variance
    (x* - x_mean)^T Sigma_N (x* - x_mean) + s^2 / n: smallest at the data
    mean, not at the origin.

    ``log_marginal_likelihood_`` is log p(y | X), the log of the integral of
    the likelihood against the prior (Bishop 2006, eq. 3.86). With
    ``fit_intercept=True`` the prior density of b is 1, i.e. it is the
    limit as tau -> oo of the evidence under b ~ N(0, tau^2) plus
    log(tau sqrt(2 pi)); an improper noise prior likewise has density
    1 / s^2 without a normaliser. Evidences are therefore comparable between
    models fitted to the same ``y`` with the same ``fit_intercept`` and
    noise prior.

    ``prior_std="ard"`` (Tipping 2001): the default model with a relevance
    r_j per standardised column, w_j | s^2 ~ N(m0_j, s^2 r_j^2 / sd_j^2),
    each feature in (r_j > 0) with prior odds 1 : p, the r_j maximising the
    evidence (s^2 integrated out, or known) minus log(p) per feature kept
    (the risk inflation criterion as a selection prior: George & Foster
    2000), per target, by Tipping & Faul's (2003) fast marginal likelihood
    (:mod:`bayesreg._ard` extends it to the integrated noise and defines s,
    q, B): along one alpha_j = 1 / r_j^2 the optimum is closed form,
    ``alpha_j = s (2 B s - q^2) / (2 (a_N q^2 - B s))`` if a_N q^2 > B s,
    else inf (pruned). Each step adds, re-estimates or deletes the feature
    that raises the objective most (exact pruning, O(p M + M^3) per step
    with M features in; 3 additions tried past each maximum), then the
    exact NIG posterior at D = r / sd (:meth:`partial_fit`, :meth:`merge`:
    a new search on the merged statistics). The evidence alone overfits at
    p >= n (issue 23: 90% coverage 0.48); if the features kept interpolate
    y exactly (repeated rows) it is unbounded as s^2 -> 0 (noise too low).

    Empirical Bayes maximises the evidence over one scale factor of
    ``prior_std`` and the noise std by MacKay's (1992) fixed point on one
    eigendecomposition (O(d) per iteration), then takes the posterior.

    Out-of-core data: ``X``, ``y`` and ``sample_weight`` may be dask arrays
    (:mod:`dask.array`): the statistics of each block of rows are computed
    where it lives and merged up a tree, one ``compute`` (on the active
    scheduler) brings back O(d^2) numbers, and the fit equals the NumPy fit;
    NaN and inf are found by the same reduction. Predictions on a dask array
    stay lazy (dask arrays, or a distribution with dask parameters).

    Numerics (:mod:`bayesreg._gaussian`, whose docstring has the equations):
    with D = diag(prior std) and the centred, weighted rows A = W^1/2 Xc D,
    everything is written once in the eigenbasis of G = A^T A, so the
    evidence search and the fixed point cost O(r) per step; the primal form
    takes ``eigh`` of the p x p matrix D X^T W X D (O(n p^2 + p^3)), the
    dual (p > n) that of the n x n kernel A A^T, centred algebraically
    (O(n^2 p + n^3), storing X, not p x p matrices).

    Sparse X (CSR, CSC, COO) is never densified: the statistics come from
    sparse products with the centring done on them (X^T W X - n m m^T),
    and the dual's kernel and the predictions are sparse products too.
    Several targets (y of shape (n, k)) share the statistics and (but for
    "ard") the eigendecomposition, each with its own noise posterior and
    prior scale (O(r) each): one fit plus O(k p^2), equal to k separate
    fits. All is computed in float64 (the statistics, the spectra and the
    evidence need it); a float32 X gives float32 predictions and stds.

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
    ch. 3. D. J. C. MacKay, "Bayesian interpolation", *Neural Computation*
    4(3), 1992. M. E. Tipping, "Sparse Bayesian learning and the relevance
    vector machine", *JMLR* 1, 2001. M. E. Tipping and A. C. Faul, "Fast
    marginal likelihood maximisation for sparse Bayesian models", *AISTATS*
    2003. K. P. Murphy, *Machine Learning: a
    Probabilistic Perspective*, MIT Press, 2012, sec. 7.6.

    Examples
    --------
    A classic worked example: prior N(0, 5^2 I) on (b, w), unit
    noise, then the points (x=2, y=0) and (x=-2, y=-2), one at a time.

    >>> import numpy as np
    >>> from bayesreg import ConjugateLinearRegression
    >>> reg = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0,
    ...                                 fit_intercept=False)
    >>> reg = reg.partial_fit([[1.0, 2.0]], [0.0])
    >>> reg = reg.partial_fit([[1.0, -2.0]], [-2.0])
    >>> reg.coef_.round(4)
    array([-0.9804,  0.4975])
    >>> reg.coef_cov_.round(4)
    array([[0.4902, 0.    ],
           [0.    , 0.1244]])
    >>> mean, std = reg.predict([[1.0, 0.0]], return_std=True)
    >>> mean.round(4), std.round(4)
    (array([-0.9804]), array([1.2207]))

    ARD: a relevance per feature (0: pruned, coefficient exactly 0):

    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = 3.0 * X[:, 0] - 2.0 * X[:, 2] + rng.normal(size=200)
    >>> ard = ConjugateLinearRegression(prior_std="ard").fit(X, y)
    >>> ard.relevance_.round(4)
    array([0.9994, 0.    , 0.9987, 0.    , 0.    ])
    """

    _parameter_constraints: dict = {
        "prior_std": [
            StrOptions({"auto", "ard"}),
            Interval(Real, 0, None, closed="neither"),
            "array-like",
        ],
        "prior_mean": [Real, "array-like"],
        "noise_std": [Interval(Real, 0, None, closed="neither"), None],
        "noise_prior_shape": [Interval(Real, 0, None, closed="left")],
        "noise_prior_scale": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "fit_hyperparameters": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "primal", "dual"})],
    }

    def __init__(
        self,
        *,
        prior_std: str | float | np.ndarray = "auto",
        prior_mean: float | np.ndarray = 0.0,
        noise_std: float | None = None,
        noise_prior_shape: float = 0.0,
        noise_prior_scale: float = 0.0,
        fit_intercept: bool = True,
        fit_hyperparameters: bool = False,
        max_iter: int = 300,
        tol: float = 1e-10,
        solver: str = "auto",
    ):
        store_params(self, locals())

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None) -> ConjugateLinearRegression:
        """Update the posterior with a chunk of data: it becomes the prior.

        The sufficient statistics of all chunks are merged exactly (Chan,
        Golub & LeVeque's pairwise update for the centred ones), so any
        chunking of the data gives the batch posterior.

        Online updates keep the p x p statistics (the primal form, whatever
        ``solver`` says, which may not be ``"dual"``): beyond 2 GiB of them
        (about 16,000 features) this refuses, naming the memory; fit the
        whole data with :meth:`fit` instead, whose dual form stores O(n p).
        After a fit in the dual form the statistics of its rows are computed
        first (O(n p^2)), under the same limit.

        Parameters
        ----------
        X : {array-like, sparse matrix} or dask array of shape \
                (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The same number of targets in every chunk.
        sample_weight : array-like or dask array of shape (n_samples,), \
                default=None

        Returns
        -------
        self : ConjugateLinearRegression
        """
        first = not hasattr(self, "_posterior")
        if self.solver == "dual":
            raise ValueError(
                "partial_fit keeps the p x p statistics (the primal form); "
                "it cannot use solver='dual'."
            )
        check_gram_memory(np.shape(X)[-1] if np.ndim(X) == 2 else 0, "partial_fit")
        with restore_on_error(self):
            data = self._validated(X, y, sample_weight, reset=first, solver="primal")
            stats = data.stats
            if not first:
                old = self.sufficient_stats_
                if np.shape(old.yty) != np.shape(stats.yty):
                    raise ValueError(
                        "y has another number of targets than the data seen so "
                        f"far ({_n_targets_text(stats)} against "
                        f"{_n_targets_text(old)})."
                    )
                stats = _gram.merge_stats(old, stats)
            self._fit_data(data._replace(stats=stats))
        return self

    def merge(self, *others: ConjugateLinearRegression) -> ConjugateLinearRegression:
        """The posterior given the data of this estimator and of ``others``.

        Returns a new fitted estimator equal (to rounding) to one fitted on
        the union of the data sets that ``self`` and ``others`` were fitted
        on: fit shards of a data set anywhere (other processes, machines,
        days), then merge them. Neither ``self`` nor ``others`` changes.

        Parameters
        ----------
        *others : ConjugateLinearRegression
            Fitted estimators with the same parameters as ``self`` (compared
            with ``get_params``) and the same features. None: a fitted copy.

        Returns
        -------
        merged : ConjugateLinearRegression
            A new estimator (``clone(self)``) with the merged
            ``sufficient_stats_`` and the posterior they give. With
            ``fit_hyperparameters=True`` the evidence is maximised afresh on
            the merged statistics, as a fit on the union would.

        Raises
        ------
        NotFittedError
            If an estimator is not fitted.
        TypeError
            If one of ``others`` is not a ConjugateLinearRegression.
        ValueError
            If the parameters, the number of features or the feature names
            differ.

        See Also
        --------
        partial_fit : add a chunk of data to one estimator.

        Notes
        -----
        The posterior and the evidence depend on the data only through
        ``sufficient_stats_``. Uncentred ones add; centred ones merge by Chan,
        Golub & LeVeque's (1979) exact pairwise update (see
        :func:`bayesreg._gram.merge_stats`): with n = n_a + n_b,
        M = M_a + M_b + (n_a n_b / n) (m_b - m_a)(m_b - m_a)^T for the centred
        X^T W X (likewise X^T W y, y^T W y), which loses no digits when the
        means are large. With fixed hyperparameters this is the Bayesian
        combination p(w | D_a, D_b) ~ p(w | D_a) p(w | D_b) / p(w).

        Examples
        --------
        Four shards fitted separately give the posterior of one fit:

        >>> import numpy as np
        >>> from bayesreg import ConjugateLinearRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 3))
        >>> y = X @ [1.0, -2.0, 0.5] + 3.0 + 0.3 * rng.normal(size=100)
        >>> shards = [ConjugateLinearRegression().fit(X[i::4], y[i::4])
        ...           for i in range(4)]
        >>> merged = shards[0].merge(*shards[1:])
        >>> whole = ConjugateLinearRegression().fit(X, y)
        >>> np.allclose(merged.coef_, whole.coef_, rtol=1e-10)
        True
        >>> np.allclose(merged.coef_cov_, whole.coef_cov_, rtol=1e-10)
        True
        >>> merged.sufficient_stats_.n
        100.0
        """
        check_is_fitted(self)
        stats = self.sufficient_stats_
        for other in others:
            check_mergeable(self, other)
            stats = _gram.merge_stats(stats, other.sufficient_stats_)
        merged = clone(self)
        merged.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            merged.feature_names_in_ = self.feature_names_in_
        merged._fit_data(FitData(None, None, None, stats, "primal"))
        return merged

    def _fit_data(self, data: FitData) -> None:
        """Posterior from the statistics (primal) or the rows (dual); store
        the attributes."""
        d = data.stats.xtx.shape[0] if data.stats is not None else data.X.shape[1]
        prior_mean, prior_std = self._prior_arrays(d)
        ard = isinstance(self.prior_std, str) and self.prior_std == "ard"
        fit = _evidence.fit_conjugate(
            data, prior_mean,
            "ard" if ard else None if _is_auto(self.prior_std) else prior_std,
            center=self.fit_intercept, noise_std=self.noise_std,
            noise_prior_shape=self.noise_prior_shape,
            noise_prior_scale=self.noise_prior_scale,
            fit_hyperparameters=self.fit_hyperparameters, max_iter=self.max_iter,
            tol=self.tol,
        )  # fmt: skip
        _evidence.warn_unconverged(fit, type(self).__name__, self.max_iter, self.tol)
        post, t, stats = fit.post, fit.t, data.stats
        self._n_targets = None if fit.one_d else int(t.shape[0])
        self.n_iter_ = fit.n_iter
        self._stats = stats
        # The dual form keeps the rows (X by reference): its statistics are
        # computed from them on request (merge, partial_fit).
        # ARD's basis holds X D, D zero where pruned, so X is kept.
        rows = (data.X if ard else None, data.y, data.sample_weight)
        self._rows = None if stats is not None else rows
        self._posterior = post
        self.solver_ = post.form
        shaped = self._shaped_params
        self.coef_ = shaped(post.coef)
        self.intercept_ = shaped(post.intercept)
        self.prior_std_ = shaped(np.sqrt(t)[:, None] * np.atleast_2d(fit.prior_std))
        vars(self).pop("relevance_", None)
        if fit.relevance is not None:
            self.relevance_ = shaped(fit.relevance)
        self.prior_scale_ = shaped(np.sqrt(t) / fit.scale_unit)
        self.log_marginal_likelihood_ = shaped(post.log_evidence)
        for name in ("noise_shape_", "noise_scale_"):
            vars(self).pop(name, None)
        if np.all(np.isfinite(post.df)):
            a_n = 0.5 * post.df
            self.noise_shape_ = shaped(a_n)
            self.noise_scale_ = shaped(a_n * post.noise_var)
            with np.errstate(divide="ignore", invalid="ignore"):
                noise = np.where(
                    a_n > 1, np.sqrt(a_n * post.noise_var / (a_n - 1.0)), np.inf
                )
            self.noise_std_ = shaped(noise)
        else:
            self.noise_std_ = shaped(np.sqrt(post.noise_var))
        for name in ("coef_", "intercept_", "prior_scale_", "log_marginal_likelihood_",
                     "noise_shape_", "noise_scale_", "noise_std_"):  # fmt: skip
            value = getattr(self, name, None)
            if isinstance(value, np.floating):
                setattr(self, name, float(value))

    @property
    def sufficient_stats_(self) -> _gram.GramStats:
        """The statistics of the data seen (see the class docstring)."""
        check_is_fitted(self, "_posterior")
        if self._stats is not None:
            return self._stats
        X, y, w = self._rows
        if X is None:
            X = self._posterior.spec.basis.X
        check_gram_memory(X.shape[1], "The dual form's sufficient_stats_")
        return _gram.gram_stats(X, y, w, center=self.fit_intercept)

    @property
    def coef_cov_(self) -> np.ndarray:
        """Posterior covariance of the coefficients (see the class docstring)."""
        check_is_fitted(self, "_posterior")
        post = self._posterior
        covs = [_ard.coef_covariance(post, j) for j in range(post.coef.shape[0])]
        return covs[0] if self._n_targets is None else np.stack(covs)

    def _prior_arrays(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """Validate ``prior_mean`` and ``prior_std`` against ``n_features``.

        For ``prior_std="auto"`` the returned std is a placeholder of ones
        (the fit chooses it).
        """
        std = 1.0 if isinstance(self.prior_std, str) else self.prior_std
        return prior_arrays(self.prior_mean, std, n_features)

    # ------------------------------------------------------------ predict
    def predict_dist(self, X) -> PredictiveDistribution:
        """Posterior predictive distribution of a new observation at each row.

        Normal with known or fitted noise, Student-t with unknown noise. Its
        ``epistemic_std`` is the std of the regression function (the
        coefficients and the intercept), the rest is noise. Computed in
        blocks of rows: O(n d^2) time, O(block x d) extra memory.

        Parameters
        ----------
        X : {array-like, sparse matrix} or dask array of shape \
                (n_samples, n_features)
            For a dask array nothing is computed: the distribution's
            parameters are dask arrays, one task per block of rows.

        Returns
        -------
        dist : Normal or StudentT of length n_samples
            With batch shape (n_samples, n_targets) for a 2-D training y.
        """
        check_is_fitted(self)
        X = validated_X(self, X)
        post = self._posterior
        if not isinstance(post, _ard.StackedPosterior):
            return predictive_distribution(post, X, self._shaped)
        # ARD, several targets: one posterior each (a_N, so df, is shared).
        dists = [predictive_distribution(part, X, lambda a: a) for part in post.parts]
        cat = [a[0] if np.ndim(a[0]) == 0 else np.concatenate(a, axis=1)
               for a in zip(*(d._params() for d in dists), strict=True)]  # fmt: skip
        return type(dists[0])(*cat)

    # --------------------------------------------------------------- draws
    def _draw_source(self, X) -> tuple[_gaussian.SpectralPosterior, np.ndarray]:
        """The posterior if fitted, else the prior (GaussianProcessRegressor's
        convention), with validated X (None if X is None)."""
        if hasattr(self, "_posterior"):
            return self._posterior, None if X is None else validated_X(self, X)
        self._validate_params()
        if X is not None:
            X = validated_X(self, X, reset=None)
        if isinstance(self.prior_std, str) or self.noise_std is None:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted, and draws from the "
                "prior need a prior fixed before seeing data: give prior_std "
                "and noise_std as numbers (the defaults, prior_std='auto' and "
                "noise_std=None, are set by the data), or fit the estimator "
                "first."
            )
        if X is not None:
            n_features = X.shape[1]
        else:
            n_features = max(
                (np.size(v) for v in (self.prior_std, self.prior_mean) if np.ndim(v)),
                default=None,
            )
            if n_features is None:
                raise NotFittedError(
                    f"This {type(self).__name__} is not fitted and its prior "
                    "does not say how many features there are: give prior_std "
                    "or prior_mean one value per feature, or fit the estimator "
                    "first."
                )
        prior_mean, prior_std = self._prior_arrays(n_features)
        self._n_targets = None
        post = _gaussian.prior_posterior(
            prior_mean, prior_std, float(self.noise_std) ** 2
        )
        return post, X

    def sample_y(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws from the posterior predictive, or the prior predictive if unfitted.

        As in :meth:`sklearn.gaussian_process.GaussianProcessRegressor.sample_y`,
        each column is one joint draw: one function (and one noise variance)
        from the posterior, evaluated at every row of ``X``, plus independent
        noise. Each entry is marginally distributed as :meth:`predict_dist`.

        On an unfitted estimator the draws come from the prior predictive.
        The flat intercept prior of ``fit_intercept=True`` is improper and
        has no draws: prior draws use intercept 0 (center ``y``, or give a
        bias column with ``fit_intercept=False``, to draw around another
        level).

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        n_samples : int, default=1
        random_state : None, int, RandomState or Generator, default=None

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, n_samples)
            (n_samples_X, n_targets, n_samples) for a 2-D training y.
            A dask array for a dask ``X``: the functions are those of the
            NumPy draws, the noise is drawn block by block from seeds taken
            from ``random_state`` (reproducible for the same chunking).
        """
        post, X = self._draw_source(X)
        rng = check_generator(random_state)
        draws = self._draws(post, n_samples, rng)
        f = self._functions(X, draws)
        if self._n_targets is None:
            return _dask.add_noise(f, np.sqrt(draws.noise_var[:, 0]), rng)
        return f + np.sqrt(draws.noise_var.T)[None] * rng.standard_normal(f.shape)

    @staticmethod
    def _draws(post, n_samples, random_state) -> _gaussian.Draws:
        rng = check_generator(random_state)
        return _ard.sample_posterior(post, check_n_samples(n_samples), rng)


def _is_auto(value) -> bool:
    return isinstance(value, str) and value == "auto"


def _n_targets_text(stats: _gram.GramStats) -> str:
    return "a 1-D y" if np.ndim(stats.yty) == 0 else f"{np.size(stats.yty)} targets"
