"""PyroBayesianLinear: Bayesian linear regression fitted by Pyro (SVI or NUTS)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions

from .. import _gram
from .._dask import is_dask_collection, validated_gram_stats
from ..distributions import NormalMixture
from ..utils._checks import is_float32
from ..utils._docstrings import FEATURES_SEEN, POSTERIOR_MEANS, fill_doc
from ..utils._params import store_params
from ._base import PyroRegressor
from ._data import check_extremes
from ._glm import LIKELIHOODS, PRIORS
from ._glm_fit import (
    conjugate_model,
    fit_glm,
    glm_arviz_layout,
    glm_predict_dist,
    is_glm,
)
from ._linear_fit import fit_conjugate, prior_scales
from ._linear_model import target_posterior
from ._linear_predictive import predictive_maps, svi_predict_dist

__all__ = ["PyroBayesianLinear"]

#: fitted state of one model family; a refit drops the other's
_MODEL_STATE = (
    "_glm", "relevance_", "df_", "noise_coef_", "noise_intercept_",
    "prior_scale_", "_designs", "_design", "_predictive_maps",
)  # fmt: skip


@fill_doc(features_seen=FEATURES_SEEN, posterior_means=POSTERIOR_MEANS)
class PyroBayesianLinear(PyroRegressor):
    """Bayesian linear regression fitted with Pyro, by SVI or by NUTS.

    With the defaults (``prior="normal"``, ``likelihood="normal"``) the
    model and its parameters are those of
    :class:`~bayesreg.ConjugateLinearRegression`, in the same units, so the
    two differ only by inference error: with the defaults the noise is
    unknown under the scale-free prior, each coefficient's prior std is
    measured per standardised column in units of the noise, and its scale
    is chosen by the evidence. The posterior over the coefficients, the
    intercept and the noise is approximated by an autoguide fitted with
    stochastic variational inference (``inference="svi"``) or sampled with
    the No-U-Turn sampler (``inference="nuts"``). The other priors (sparse:
    Laplace, the regularised horseshoe, ARD) and likelihoods (Student-t,
    heteroscedastic) have no closed form; see Notes for each model.

    Each fit has its own Pyro parameter store and its own seeded random
    stream, so estimators never interfere with each other or with the global
    torch / NumPy random state (see :mod:`bayesreg.pyro._engine`).

    Parameters
    ----------
    inference : {"svi", "nuts"}, default="svi"
        Variational inference with ``guide`` or Hamiltonian Monte Carlo.
    prior : {"normal", "laplace", "horseshoe", "ard"}, default="normal"
        Prior of the coefficients, each set on its standardised column in
        units of the noise (see Notes): ``"normal"`` is the conjugate
        model's (``prior_std``); ``"laplace"`` the Bayesian lasso;
        ``"horseshoe"`` the regularised horseshoe (Piironen and Vehtari
        2017), its global scale set by ``n_relevant_features``; ``"ard"`` a
        half-Cauchy scale per feature.
    likelihood : {"normal", "studentt", "heteroscedastic"}, default="normal"
        ``"studentt"``: Student-t noise with learned degrees of freedom,
        robust to outliers; ``"heteroscedastic"``: Normal noise whose log
        std is linear in the same features, with its own prior.
    n_relevant_features : float or None, default=None
        The horseshoe's prior guess p0 of how many features matter, which
        sets its global scale; ``None`` is max(1, n_features / 10). Used
        by ``prior="horseshoe"`` only.
    prior_std : "auto", float or array-like of shape (n_features,), \
            default="auto"
        Prior std of each coefficient, as in ConjugateLinearRegression:
        ``"auto"`` is ``c * noise / sd(x_j)`` with the unit-free ``c``
        maximising the closed-form evidence of the Normal linear model
        (also under the other likelihoods); used by ``prior="normal"`` only; a number
        is in units of the noise std with ``noise_std=None`` and in units of
        the coefficients with a known ``noise_std``.
    noise_std : float or None, default=None
        Known noise std (units of y). ``None`` learns it under the
        inverse-gamma prior on the noise variance set by the next two
        parameters, ``s^2 ~ InvGamma(noise_prior_shape, noise_prior_scale
        var(y))``; with their defaults (0, 0) that is Jeffreys' scale-free
        prior p(s^2) ~ 1/s^2, ConjugateLinearRegression's. With
        ``likelihood="studentt"`` it is the t's scale; with
        ``"heteroscedastic"`` it must be None (the prior applies to the
        noise std at the mean of X).
    noise_prior_shape : float, default=0.0
        Shape a0 of the inverse-gamma prior on the noise variance.
    noise_prior_scale : float, default=0.0
        Its scale b0 as a fraction of the variance of y: ``s^2 ~
        InvGamma(a0, b0 var(y))``; ``a0 = b0 = 0`` is Jeffreys' p(s^2) ~
        1/s^2.
    fit_intercept : bool, default=True
        Fit an intercept with a flat (improper) prior.
    guide : {"diagonal", "multivariate", "lowrank"}, default="diagonal"
        Autoguide for SVI: ``AutoDiagonalNormal``,
        ``AutoMultivariateNormal`` or ``AutoLowRankMultivariateNormal``.
        In the model's decorrelated coordinates (see Notes) the posterior
        given the noise is diagonal, so the diagonal guide is exact there
        and, with the fewest parameters, the least noisy to fit.
    rank : int, default=None
        Rank of the ``"lowrank"`` guide; ``None`` means sqrt(number of
        latents).
    learning_rate_init : float, default=0.05
        Adam's initial step size.
    learning_rate : {"adaptive", "constant"}, default="adaptive"
        ``"adaptive"``: each time the smoothed ELBO stops improving the step
        size is divided by 5 (three times), and the parameters of the last
        phase are averaged (Polyak averaging) before the fit stops; this
        removes the optimiser's jitter from the posterior. ``"constant"``:
        stop at the first plateau.
    max_iter : int, default=2000
        Maximum number of SVI steps; stopping there warns with a
        ConvergenceWarning that names this parameter.
    tol : float, default=1e-4
        Required decrease of the smoothed per-row negative ELBO.
    n_iter_no_change : int, default=20
        Steps without a ``tol`` improvement that make a plateau.
    n_particles : int, default=128
        ELBO samples per step (vectorised; the likelihood costs O(d) per
        sample). Fewer particles leave a noisier posterior mean.
    n_warmup : int, default=500
        NUTS warm-up (adaptation) steps per chain.
    n_draws : int, default=1000
        NUTS draws kept per chain.
    n_chains : int, default=2
        NUTS chains, run one after the other.
    n_posterior_samples : int, default=200
        Posterior draws kept for prediction, in ``posterior_samples_``:
        drawn from the guide under SVI, evenly thinned from the chains under
        NUTS (where they are the draws behind every prediction).
    jit : bool or "auto", default="auto"
        The fast SVI step; ``"auto"`` is ``True``. With the diagonal guide
        the engine computes the ELBO itself: the model's log density and the
        guide's reparametrised draws written out in torch, with the draws and
        the value of Pyro's ``Trace_ELBO``; the full and low-rank guides get
        the same eager step. ``False`` runs Pyro's ``Trace_ELBO`` at every
        step. Nothing is compiled with ``torch.jit`` (a traced function would
        stay in the process after the fit); NUTS samples a potential written
        in torch.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit. Fitted state is kept as NumPy arrays, so a model fitted
        on CUDA predicts and unpickles anywhere.
    n_threads : int or None, default=1
        torch intra-op threads while fitting (restored afterwards); ``None``
        keeps torch's setting. A step costs O(n_features), so one thread is
        fastest.
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the private random stream of the fit and of the posterior
        draws. Pass an int for reproducible results.
    verbose : int, default=0
        ``1`` shows a progress bar with the ELBO (or the NUTS progress).
    warm_start : bool, default=False
        ``True``: a ``fit`` on the same data (the same sufficient statistics)
        and the same model continues SVI where the last fit stopped, from its
        guide, Adam's state, step-size schedule and early-stopping counters,
        so raising ``max_iter`` never restarts; ``n_iter_`` and
        ``loss_curve_`` then accumulate. On other data the guide's
        coordinates differ (see Notes) and SVI starts afresh from the
        closed-form mode, as with ``False``. No effect with
        ``inference="nuts"``. See :meth:`partial_fit`.

    Attributes
    ----------
    %(posterior_means)s
    coef_cov_ : ndarray of shape (n_features, n_features)
        Posterior covariance of the coefficients. With y of shape (n, k)
        every fitted attribute gains a leading target axis: ``coef_`` (k,
        n_features), ``intercept_``, ``noise_std_``, ``prior_scale_`` (k,),
        ``coef_cov_`` (k, n_features, n_features), ``prior_std_`` (k,
        n_features), each target a model of its own (fitted in one run).
    noise_std_ : float
        Posterior mean of the noise std (``noise_std`` when it is fixed);
        the t's scale with ``likelihood="studentt"``, the noise std at the
        mean of the training X with ``"heteroscedastic"``.
    prior_std_ : ndarray of shape (n_features,)
        Prior std of each coefficient (units as ``prior_std``); for the
        sparse priors the posterior mean of each coefficient's prior std
        ``k_j`` (see Notes), in the units of ``coef_``.
    prior_scale_ : float
        The evidence's factor ``c`` for ``prior_std="auto"``; 1.0 otherwise
        (``prior="normal"`` only).
    relevance_ : ndarray of shape (n_features,)
        Sparse priors only: the posterior mean of each feature's relevance
        ``1 - kappa_j``, with ``kappa_j = 1 / (1 + n k_j^2 / s^2)`` the
        shrinkage factor of a standardised column [5]_: near 0 for a
        feature shrunk to zero, near 1 for one the data keep.
    df_ : float
        ``likelihood="studentt"``: the posterior mean of the degrees of
        freedom.
    noise_coef_ : ndarray of shape (n_features,)
        ``likelihood="heteroscedastic"``: posterior mean of the slopes of the
        log noise std, ``log s(x) = noise_intercept_ + x noise_coef_``.
    noise_intercept_ : float
        ``likelihood="heteroscedastic"``: its intercept (log units of y).
    posterior_samples_ : dict of str to ndarray
        The posterior draws kept for prediction, with the keys of
        :meth:`sample_parameters`: ``"coef"`` (S, n_features),
        ``"intercept"`` (S,) and ``"noise_std"`` (S,), S =
        ``n_posterior_samples``; the other models add ``"df"``,
        ``"noise_coef"`` and ``"noise_intercept"`` (replacing
        ``"noise_std"``), and for sparse priors ``"relevance"``,
        ``"prior_std"`` and the prior's scales (``"global_scale"``,
        ``"local_scale"``, ``"slab_scale"``, unit-free).
    loss_curve_ : list of float
        Per-step mean negative ELBO per training row (SVI only), over every
        continued fit of the optimisation that produced the guide.
    n_iter_ : int
        SVI: number of steps run, counted likewise; NUTS: ``n_warmup +
        n_draws`` (transitions per chain).
    diagnostics_ : dict
        NUTS only: ``"r_hat"`` and ``"ess"`` per site (split R-hat and
        effective sample size), ``"max_r_hat"``, ``"min_ess"``,
        ``"num_divergences"``, ``"acceptance_rate"`` per chain.
    %(features_seen)s

    See Also
    --------
    bayesreg.ConjugateLinearRegression : the exact posterior of the same
        model.
    bayesreg.PyroBNNRegressor : the same engine for a neural network.

    Notes
    -----
    The model (ConjugateLinearRegression's), with sd_j the spread of column
    j and var(y) that of y over the training data::

        p(b) = 1,    s^2 ~ InvGamma(a0, b0 var(y))   (a0 = b0 = 0: p ~ 1/s^2)
        w_j | s^2 ~ N(0, s^2 c^2 / sd_j^2)           (prior_std="auto")
        y_i | x_i ~ N(b + x_i^T w, s^2)

    Parametrisation: X and y are standardised (weighted means and spreads),
    and with P the prior stds of the standardised coefficients in noise
    units and P X'X P = V diag(l) V' (the SVD of the standardised design,
    whitened by the prior, as the QR reparametrisation of the Stan manual),
    the coefficients are w_s = P V diag(1 / sqrt(1 + l)) xi. Given the
    noise, prior and likelihood are then both diagonal in xi and every xi_i
    has posterior std s: correlated designs (polynomials, interactions)
    give SVI and NUTS an isotropic target. The likelihood is written on the
    sufficient statistics (O(d) per step whatever n); ``sample_weight``
    weights them (a weight k counts a row k times).

    Predictions with SVI are exact for the Gaussian guide: the regression
    function is linear in the latents, so its mean and variance are closed
    form; with known noise the predictive is that Normal. With learned
    noise the function and the log noise scale l are jointly Gaussian, so
    y = f + exp(l) eps is a continuous scale mixture in which a row enters
    through three numbers (the mean, the function's variance and its
    covariance with l), all from one product of X: its mean and std are
    closed form, its density, CDF and quantiles a quadrature over l
    (Gauss-Hermite, or a trapezoidal rule where l is uncertain; 1e-9
    relative). With NUTS the predictive is the mixture over
    ``n_posterior_samples`` draws of Normal(b_s + x^T w_s, s_s^2).

    NUTS samples a potential written directly in torch: given the noise s
    the posterior of xi is N(h, s^2 I), so with xi = h + s zeta (and the
    intercept s eta) zeta and eta are standard normal and the noise has a
    one-dimensional marginal, written in its Laplace coordinate. The target
    is then of unit scale in every coordinate, so the identity mass matrix
    is kept and the step size is tuned for an acceptance of 0.65, optimal
    for HMC on such targets [4]_; the draws are mapped back to the model's
    sites (``diagnostics_``, ``to_inference_data``).

    The other priors and likelihoods have no closed form. On standardised
    data (columns and y divided by their weighted spreads, centred with an
    intercept, which is flat), with s the noise std there, coefficient j
    is non-centred, w_j = k_j z_j with z_j ~ N(0, 1)::

        "normal":    k_j = s c_j             (c_j: prior_std's, noise units)
        "laplace":   k_j = s t l_j,  t ~ C+(0, 1),  l_j ~ Rayleigh(1)
                     (w_j | s, t ~ Laplace(0, s t): the Bayesian lasso [8]_)
        "ard":       k_j = s l_j,  l_j ~ C+(0, 1)
        "horseshoe": k_j^2 = c^2 T^2 l_j^2 / (c^2 + T^2 l_j^2),  l_j ~ C+(0, 1),
                     T = tau0 s t,  t ~ C+(0, 1),  tau0 = p0 / (p - p0) / sqrt(n),
                     c^2 ~ InvGamma(2, 8)  (a Student-t_4 slab of scale 2)

    with C+ the half-Cauchy and p0 = ``n_relevant_features`` [5]_, [6]_.
    The likelihoods (a weight multiplies its row's log density)::

        "normal":           y_i ~ N(b + x_i w, s^2)
        "studentt":         y_i ~ b + x_i w + s t(df),
                            df ~ Gamma(2, 0.1) truncated to df > 2 [7]_
        "heteroscedastic":  y_i ~ N(b + x_i w, exp(g0 + x_i g)^2),
                            g_j ~ N(0, 1),  s = exp(g0) in the priors

    with the noise prior of ``noise_prior_shape`` and ``noise_prior_scale``
    on s (on exp(g0)); the truncation keeps the predictive variance finite.
    SVI fits the guide on the unconstrained sites; NUTS samples them with
    an adapted diagonal mass matrix, except under the Normal likelihood,
    where the coefficients and the intercept are integrated out (y | scales
    ~ N(0, s^2 I + X K X'), K = diag(k^2)): NUTS samples the noise and the
    scales only, without the funnel between a scale and its coefficient,
    and each draw's coefficients come exactly from their Gaussian
    conditional. The predictive is the mixture over the kept draws of
    Normal(b + x w, s^2), of Student-t's (each draw's df and scale), or of
    Normals with each row's std s(x). ``partial_fit`` and several targets
    are for the default model only (the others refuse them by name);
    ``warm_start`` continues SVI on the same data.

    References
    ----------
    .. [1] Bingham et al., "Pyro: Deep Universal Probabilistic Programming",
       JMLR 20(28), 2019.
    .. [2] Hoffman and Gelman, "The No-U-Turn Sampler", JMLR 15, 2014.
    .. [3] Stan Development Team, *Stan User's Guide*, "The QR
       reparameterization" (linear regression chapter).
    .. [4] Beskos, Pillai, Roberts, Sanz-Serna and Stuart, "Optimal tuning of
       the hybrid Monte Carlo algorithm", Bernoulli 19(5A), 2013.
    .. [5] Piironen and Vehtari, "Sparsity information and regularization in
       the horseshoe and other shrinkage priors", Electronic Journal of
       Statistics 11(2), 2017.
    .. [6] Carvalho, Polson and Scott, "The horseshoe estimator for sparse
       signals", Biometrika 97(2), 2010.
    .. [7] Juarez and Steel, "Model-based clustering of non-Gaussian panel
       data based on skew-t distributions", Journal of Business and
       Economic Statistics 28(1), 2010.
    .. [8] Park and Casella, "The Bayesian Lasso", JASA 103(482), 2008.

    Examples
    --------
    A line, y = 3 x - 1, observed with noise:

    >>> import numpy as np
    >>> from bayesreg import PyroBayesianLinear
    >>> rng = np.random.default_rng(1)
    >>> x = rng.uniform(-2, 2, size=(40, 1))
    >>> y = 3.0 * x[:, 0] - 1.0 + 0.2 * rng.normal(size=40)
    >>> reg = PyroBayesianLinear(random_state=0).fit(x, y)
    >>> reg.coef_.round(1), round(reg.intercept_, 1)
    (array([3.]), -1.0)
    >>> reg.predict_interval(x[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        **PyroRegressor._parameter_constraints,
        "prior_std": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
            "array-like",
        ],
        "noise_std": [Interval(Real, 0, None, closed="neither"), None],
        "noise_prior_shape": [Interval(Real, 0, None, closed="left")],
        "noise_prior_scale": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "prior": [StrOptions(set(PRIORS))],
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "n_relevant_features": [Interval(Real, 0, None, closed="neither"), None],
        "learning_rate": [StrOptions({"adaptive", "constant"})],
        "n_particles": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        inference: str = "svi",
        prior: str = "normal",
        likelihood: str = "normal",
        n_relevant_features: float | None = None,
        prior_std="auto",
        noise_std: float | None = None,
        noise_prior_shape: float = 0.0,
        noise_prior_scale: float = 0.0,
        fit_intercept: bool = True,
        guide: str = "diagonal",
        rank: int | None = None,
        learning_rate_init: float = 0.05,
        learning_rate: str = "adaptive",
        max_iter: int = 2000,
        tol: float = 1e-4,
        n_iter_no_change: int = 20,
        n_particles: int = 128,
        n_warmup: int = 500,
        n_draws: int = 1000,
        n_chains: int = 2,
        n_posterior_samples: int = 200,
        jit: bool | str = "auto",
        device: str = "cpu",
        n_threads: int | None = 1,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
    ):
        store_params(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Fit the posterior by SVI or NUTS.

        With ``warm_start=True``, SVI on the data of the last fit continues
        where that fit stopped (see ``warm_start``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A scipy.sparse X gives its statistics by sparse products.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' likelihood terms; a weight of
            k counts a row k times.

        Returns
        -------
        self : PyroBayesianLinear

        Raises
        ------
        ValueError
            For invalid input, entries of X or y beyond 1e150 in magnitude
            (or columns all below 1e-150, whose squares underflow), or data
            too few for the noise posterior; the estimator is then left as
            it was.
        FloatingPointError
            If the SVI loss diverges (the message names
            ``learning_rate_init``); the estimator is then left as it was.
        """
        return super().fit(X, y, sample_weight)

    @available_if(conjugate_model)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of data: the posterior given all the data seen so far.

        The weighted sufficient statistics of every chunk (and of the data of
        a preceding :meth:`fit`) are merged exactly, as in
        :meth:`ConjugateLinearRegression.partial_fit
        <bayesreg.ConjugateLinearRegression.partial_fit>`, and the posterior
        is fitted on the merged statistics by SVI (to convergence, not one
        epoch: a step costs O(n_features) whatever the number of rows) or
        by NUTS. Any chunking of the data therefore gives the fit on all of
        it; with the same ``random_state``, equal to ``fit`` on the
        concatenated data up to the rounding of the merge.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' likelihood terms; a weight of
            k counts a row k times.

        Returns
        -------
        self : PyroBayesianLinear

        Raises
        ------
        ValueError
            For invalid input as in :meth:`fit`, a number of features or of
            targets other than that of the data seen, or ``fit_intercept``
            changed since;
            the estimator is then left as it was.
        FloatingPointError
            If the SVI loss diverges; the estimator is then left as it was.

        Notes
        -----
        SVI starts afresh from the closed-form conditional mode of the
        merged data rather than from the previous guide: the guide lives in
        coordinates computed from the statistics (see the class Notes), so a
        new chunk moves every coordinate; in the new ones that mode is exact
        for the coefficients given the noise, a better start than the old
        guide mapped across, and Adam's state and step size would not carry
        over. ``loss_curve_`` and ``n_iter_`` are then those of the new run.
        When the statistics do not change, SVI continues as with
        ``warm_start=True``.
        """
        return super().partial_fit(X, y, sample_weight)

    def _fit_chunk(self, X, y, sample_weight, incremental: bool) -> None:
        glm = is_glm(self)
        if incremental and getattr(self, "_glm", None) is not None:
            raise ValueError(
                "partial_fit cannot continue a fit of another model "
                "(prior or likelihood not 'normal'); call fit to start afresh."
            )
        for name in _MODEL_STATE:
            vars(self).pop(name, None)
        if glm:
            fit_glm(self, X, y, sample_weight)
            self._observed_y = np.array(y, dtype=np.float64)
            self._float32 = is_float32(X)
            return
        first = not (incremental and hasattr(self, "_stats"))
        if not first and self._stats.centered != bool(self.fit_intercept):
            raise ValueError(
                "fit_intercept changed since the data seen so far were "
                "added; call fit to start afresh."
            )
        float32 = is_float32(X)
        stats, y = self._validated_stats(X, y, sample_weight, reset=first)
        y = np.array(y, dtype=np.float64)
        if not first:
            if np.ndim(self._stats.yty) != np.ndim(stats.yty) or np.shape(
                self._stats.yty
            ) != np.shape(stats.yty):
                raise ValueError(
                    "y has another number of targets than the data seen so far; "
                    "call fit to start afresh."
                )
            stats = _gram.merge_stats(self._stats, stats)
            # The posterior is given every chunk: so are ArviZ's observations.
            seen = getattr(self, "_observed_y", None)
            y = y if seen is None else np.concatenate([seen, y])
        self._fit(stats, incremental=incremental)
        self._observed_y = y
        self._float32 = float32

    def _validated_stats(self, X, y, sample_weight, reset: bool):
        """Validate a chunk; return its weighted sufficient statistics and y
        (the intake of the closed-form estimators; a sparse X gives its
        statistics from sparse products, never densified)."""
        data = validated_gram_stats(
            self, X, y, sample_weight, center=self.fit_intercept, reset=reset
        )
        if len(data) == 2:  # (stats, (X, y, sample_weight))
            stats, (X, y, _) = data
        else:  # FitData
            stats, X, y = data.stats, data.X, data.y
        if not is_dask_collection(X):
            check_extremes(X, "X")
            check_extremes(y, "y")
        if not stats.n > 0:
            raise ValueError("sample_weight must not be all zero.")
        return stats, y

    # --------------------------------------------------------------- fit
    def _prior(self, stats) -> tuple[np.ndarray, float, np.ndarray]:
        """Prior std of the standardised coefficients in noise units, c, and
        the prior std in the units of ``prior_std`` (one target's stats)."""
        return prior_scales(self, stats)

    def _fit(self, stats, incremental: bool = False) -> None:
        fit_conjugate(self, stats, incremental)

    def _target_posteriors(self) -> list:
        """The fitted guide of each target (one for a 1-D y)."""
        k = len(self._designs)
        if not self._multi_target:
            return [self._posterior]
        return [target_posterior(self._posterior, j, k) for j in range(k)]

    # ------------------------------------------------- draws and mapping
    def _from_guide(self, sites: dict) -> dict:
        if getattr(self, "_glm", None) is not None:
            return self._glm.to_original(sites)
        if not self._multi_target:
            return self._design.to_original(sites, self._noise_fixed)
        parts = [
            d.to_original({k: v[:, j] for k, v in sites.items()}, self._noise_fixed)
            for j, d in enumerate(self._designs)
        ]
        return {key: np.stack([p[key] for p in parts], 1) for key in parts[0]}

    def _parameters(self, draws: dict) -> dict:
        return {k: np.array(v) for k, v in draws.items()}

    def _functions(self, X, draws: dict) -> np.ndarray:
        coef, b = draws["coef"], draws["intercept"]
        if coef.ndim == 3:  # (S, k, d): (n, k, S)
            return np.stack(
                [X @ coef[:, j].T + b[:, j] for j in range(coef.shape[1])], 1
            )
        return X @ coef.T + b

    def _kept_draws(self) -> dict:
        return self.posterior_samples_

    def _arviz_layout(self, params: dict):
        if getattr(self, "_glm", None) is not None:
            return glm_arviz_layout(self, params)
        # The latent sites of the fitted model: a fixed intercept or noise
        # is not a posterior variable.
        names = ["coef"]
        if self._stats.centered:
            names.append("intercept")
        if self._noise_fixed is None:
            names.append("noise_std")
        constant = {} if self._noise_fixed is None else {"noise_std": self.noise_std_}
        if self._multi_target:
            dims = {"coef": ["target", "feature"], "intercept": ["target"]}
            dims["noise_std"] = ["target"]
            return names, {k: v for k, v in dims.items() if k in names}, constant
        return names, {"coef": ["feature"]}, constant

    # ----------------------------------------------------------- predict
    def predict_dist(self, X):
        """Posterior predictive distribution at each row of X.

        SVI: exact for the Gaussian guide (a Normal with known noise, a
        ``NoiseScaleMixture`` over the noise otherwise); NUTS: the mixture over
        ``n_posterior_samples`` posterior draws. With several targets the
        distribution has batch shape (n_samples, n_targets).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Normal or NormalMixture
        """
        X = self._validated_X(X)
        if getattr(self, "_glm", None) is not None:
            return glm_predict_dist(self, X)
        multi = self._multi_target
        if not hasattr(self, "_posterior"):
            locs = self._functions(X, self.posterior_samples_)
            noise = self.posterior_samples_["noise_std"]
            return NormalMixture(locs, noise.T[None] if multi else noise)
        maps = getattr(self, "_predictive_maps", None)
        if maps is None:  # a fit pickled before the maps were kept
            maps = predictive_maps(self._target_posteriors(), self._designs)
        return svi_predict_dist(maps, X, self._noise_fixed, multi)

    def _predict_mean(self, X) -> np.ndarray:
        X = self._validated_X(X)
        if hasattr(self, "_posterior") and getattr(self, "_glm", None) is None:
            return X @ self.coef_.T + self.intercept_
        draws = self.posterior_samples_
        coef = draws["coef"].mean(axis=0)
        return X @ coef.T + draws["intercept"].mean(axis=0)

    def to_inference_data(self):
        """The posterior draws as an ArviZ ``InferenceData``.

        ``posterior`` holds the draws on the original scale, with dimensions
        ``(chain, draw, ...)``: ``coef`` (with a ``feature`` dimension, labelled
        by ``feature_names_in_`` when X had column names), ``intercept`` when it
        is fitted and ``noise_std`` when it is learned (a known ``noise_std``
        goes to ``constant_data`` instead). ``observed_data`` holds the training
        ``y`` of every chunk the posterior is given. Under NUTS the posterior
        holds every kept draw of every chain (``n_chains`` by ``n_draws``), with
        the sampler's per-draw statistics (``diverging``, ``tree_depth``,
        ``n_steps``, ``step_size``, ``acceptance_rate``, ``lp``) in
        ``sample_stats``; under SVI the ``n_posterior_samples`` draws from the
        guide as one chain, without ``sample_stats`` (their R-hat and effective
        sample size say nothing about the approximation).

        Returns
        -------
        arviz.InferenceData
            A new object: changing it does not change the estimator.

        See Also
        --------
        sample_parameters : Fresh posterior draws as a dict of arrays.

        Examples
        --------
        >>> import arviz as az
        >>> import numpy as np
        >>> from bayesreg import PyroBayesianLinear
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=50)
        >>> reg = PyroBayesianLinear(inference="nuts", n_warmup=200,
        ...                          n_draws=200, random_state=0).fit(X, y)
        >>> idata = reg.to_inference_data()
        >>> idata.posterior["coef"].dims
        ('chain', 'draw', 'feature')
        >>> idata.posterior["coef"].shape
        (2, 200, 2)
        >>> int(idata.sample_stats["diverging"].sum())
        0
        >>> az.summary(idata, var_names=["coef"])["mean"].round(1).tolist()
        [1.0, -2.0]
        """
        return super().to_inference_data()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = not is_glm(self)
        return tags
