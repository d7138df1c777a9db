"""PyroBayesianLinear: Bayesian linear regression fitted by Pyro (SVI or NUTS)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from pyro.infer.autoguide.initialization import init_to_value
from sklearn.utils._param_validation import Interval, StrOptions

from .. import _gaussian
from .._dask import is_dask_collection, validated_gram_stats
from ..distributions import Normal, NormalMixture
from ..utils._checks import is_float32
from ..utils._docstrings import FEATURES_SEEN, POSTERIOR_MEANS, fill_doc
from ..utils._params import store_params
from ..utils._random import check_generator
from ._base import PyroRegressor
from ._data import check_extremes
from ._engine import Schedule, resolve_device
from ._linear_model import (
    _Design,
    _init_scale,
    _NonCentredTarget,
    _per_target,
    _per_target_models,
    _same_problem,
    _ScaleMixture,
    _split_targets,
    _StackedTarget,
    build_model,
    check_noise_proper,
    guide_moments,
    svi_predictive,
    target_posterior,
)

__all__ = ["PyroBayesianLinear"]


@fill_doc(features_seen=FEATURES_SEEN, posterior_means=POSTERIOR_MEANS)
class PyroBayesianLinear(PyroRegressor):
    """Bayesian linear regression fitted with Pyro, by SVI or by NUTS.

    The model and its parameters are those of
    :class:`~bayesreg.ConjugateLinearRegression`, in the same units, so the
    two differ only by inference error: with the defaults the noise is
    unknown under the scale-free prior, each coefficient's prior std is
    measured per standardised column in units of the noise, and its scale
    is chosen by the evidence. The posterior over the coefficients, the
    intercept and the noise is approximated by an autoguide fitted with
    stochastic variational inference (``inference="svi"``) or sampled with
    the No-U-Turn sampler (``inference="nuts"``).

    Each fit has its own Pyro parameter store and its own seeded random
    stream, so estimators never interfere with each other or with the global
    torch / NumPy random state (see :mod:`bayesreg.pyro._engine`).

    Parameters
    ----------
    inference : {"svi", "nuts"}, default="svi"
        Variational inference with ``guide`` or Hamiltonian Monte Carlo.
    prior_std : "auto", float or array-like of shape (n_features,), \
            default="auto"
        Prior std of each coefficient, as in ConjugateLinearRegression:
        ``"auto"`` is ``c * noise / sd(x_j)`` with the unit-free ``c``
        maximising the closed-form evidence of this linear model; a number
        is in units of the noise std with ``noise_std=None`` and in units of
        the coefficients with a known ``noise_std``.
    noise_std : float or None, default=None
        Known noise std (units of y). ``None`` learns it under the
        inverse-gamma prior on the noise variance set by the next two
        parameters, ``s^2 ~ InvGamma(noise_prior_shape, noise_prior_scale
        var(y))``; with their defaults (0, 0) that is Jeffreys' scale-free
        prior p(s^2) ~ 1/s^2, ConjugateLinearRegression's.
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
        Posterior mean of the noise std (``noise_std`` when it is fixed).
    prior_std_ : ndarray of shape (n_features,)
        Prior std of each coefficient (units as ``prior_std``).
    prior_scale_ : float
        The evidence's factor ``c`` for ``prior_std="auto"``; 1.0 otherwise.
    posterior_samples_ : dict of str to ndarray
        The posterior draws kept for prediction, with the keys of
        :meth:`sample_parameters`: ``"coef"`` (S, n_features),
        ``"intercept"`` (S,) and ``"noise_std"`` (S,), S =
        ``n_posterior_samples``.
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
    form; with known noise the predictive is that Normal, with learned
    noise a 64-node quadrature over the guide's log noise scale (the
    function conditioned on each node). With NUTS the predictive is the
    mixture over ``n_posterior_samples`` draws of Normal(b_s + x^T w_s,
    s_s^2).

    NUTS samples a potential written directly in torch: given the noise s
    the posterior of xi is N(h, s^2 I), so with xi = h + s zeta (and the
    intercept s eta) zeta and eta are standard normal and the noise has a
    one-dimensional marginal, written in its Laplace coordinate. The target
    is then of unit scale in every coordinate, so the identity mass matrix
    is kept and the step size is tuned for an acceptance of 0.65, optimal
    for HMC on such targets [4]_; the draws are mapped back to the model's
    sites (``diagnostics_``, ``to_inference_data``).

    References
    ----------
    .. [1] Bingham et al., "Pyro: Deep Universal Probabilistic Programming",
       JMLR 20(28), 2019.
    .. [2] Hoffman and Gelman, "The No-U-Turn Sampler", JMLR 15, 2014.
    .. [3] Stan Development Team, *Stan User's Guide*, "The QR
       reparameterization" (linear regression chapter).
    .. [4] Beskos, Pillai, Roberts, Sanz-Serna and Stuart, "Optimal tuning of
       the hybrid Monte Carlo algorithm", Bernoulli 19(5A), 2013.

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
        "learning_rate": [StrOptions({"adaptive", "constant"})],
        "n_particles": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        inference: str = "svi",
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
            stats = _gaussian.merge_stats(self._stats, stats)
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

    # ------------------------------------------------------------- prior
    def _prior(self, stats) -> tuple[np.ndarray, float, np.ndarray]:
        """Prior std of the standardised coefficients in noise units, c, and
        the prior std in the units of ``prior_std`` (one target's stats)."""
        d = stats.xtx.shape[0]
        x_sd = _gaussian.column_scale(stats)
        y_var = float(stats.yty / stats.n)
        zeros = np.zeros(d)
        if isinstance(self.prior_std, str):  # "auto"
            prior_std, opt = _gaussian.evidence_prior_std(
                stats,
                zeros,
                None if self.noise_std is None else float(self.noise_std),
                shape=float(self.noise_prior_shape),
                scale=float(self.noise_prior_scale) * y_var,
            )
            return np.full(d, opt.scale), opt.scale, prior_std
        p = np.asarray(self.prior_std, dtype=float)
        p = np.full(d, float(p)) if p.ndim == 0 else p
        if p.shape != (d,) or not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise ValueError(
                "prior_std must be 'auto', a positive number or one positive "
                f"value per feature ({d}), got {self.prior_std!r}."
            )
        if self.noise_std is None:  # noise units already
            return p * x_sd, 1.0, p
        return p * x_sd / float(self.noise_std), 1.0, p

    # --------------------------------------------------------------- fit
    def _fit(self, stats, incremental: bool = False) -> None:
        rng = check_generator(self.random_state)
        device = resolve_device(self.device)
        if self.noise_std is None:
            check_noise_proper(stats.n, self.noise_prior_shape, self.fit_intercept)
        targets = _split_targets(stats)
        designs, scales, priors = [], [], []
        for st in targets:
            P, c, prior_std = self._prior(st)
            designs.append(_Design(st, P))
            scales.append(c)
            priors.append(prior_std)
        multi = np.ndim(stats.yty) == 1
        self.prior_std_ = np.stack(priors) if multi else priors[0]
        self.prior_scale_ = np.array(scales) if multi else scales[0]
        noise_s = [
            None if self.noise_std is None else self.noise_std / d.y_scale
            for d in designs
        ]
        a0 = float(self.noise_prior_shape)
        b0 = [float(self.noise_prior_scale) * (d.yty / d.n) for d in designs]
        model, data, init = build_model(
            designs, self.fit_intercept, noise_s, a0, b0, multi, device
        )
        # What the SVI problem is: a guide continues only on the same one.
        problem = (
            (self.guide, self.rank, self.fit_intercept, self.noise_std is None),
            np.concatenate(
                [
                    np.ravel(
                        [[noise_s[i] or 0.0, model.a0, b0[i]] for i in range(len(b0))]
                    ),
                    np.ravel(data[0]),
                    *(np.concatenate([d.h, d.lam]) for d in designs),
                ]
            ),
        )
        state = None
        if (
            self.inference == "svi"
            and (self.warm_start or incremental)
            and _same_problem(getattr(self, "_warm_key", None), problem)
        ):
            state = self._svi_state
        else:
            vars(self).pop("loss_curve_", None)
            vars(self).pop("n_iter_", None)
        # The fit maps the draws back through these designs and fixed noise.
        self._designs, self._noise_fixed = designs, self.noise_std
        self._design, self._multi_target = designs[0], multi
        adaptive = self.learning_rate == "adaptive"

        def nuts(device):
            models = _per_target_models(model, noise_s)
            one = [
                _NonCentredTarget(d, self.fit_intercept, m, device)
                for d, m in zip(designs, models, strict=True)
            ]
            return _StackedTarget(one) if multi else one[0]

        fitted = self._infer(
            model,
            data,
            rng,
            state=state,
            svi=dict(
                max_iter=self.max_iter,
                schedule=Schedule(
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    n_lr_decays=3 if adaptive else 0,
                    lr_decay_factor=0.2,
                    polyak=adaptive,
                ),
                n_particles=int(self.n_particles),
                init_loc_fn=init_to_value(values=init),
                init_scale=_init_scale(designs, init, self.noise_std is None),
                dtype=torch.float64,
                n_rows=designs[0].n,
            ),
            nuts=nuts,
        )
        draws = fitted.pop("draws")
        vars(self).update(fitted)
        if self.inference == "svi":
            self._warm_key = problem
            moments = [
                guide_moments(post, d, self.noise_std)
                for post, d in zip(self._target_posteriors(), designs, strict=True)
            ]
            coef, cov, intercept, noise = zip(*moments, strict=True)
        else:
            mc = self._mcmc_draws
            coef = [c.mean(axis=0) for c in _per_target(mc["coef"], multi)]
            cov = [
                np.atleast_2d(np.cov(c, rowvar=False))
                for c in _per_target(mc["coef"], multi)
            ]
            intercept = [float(b.mean()) for b in _per_target(mc["intercept"], multi)]
            noise = [float(s.mean()) for s in _per_target(mc["noise_std"], multi)]
        if multi:
            self.coef_, self.coef_cov_ = np.stack(coef), np.stack(cov)
            self.intercept_, self.noise_std_ = np.array(intercept), np.array(noise)
        else:
            self.coef_, self.coef_cov_ = coef[0], cov[0]
            self.intercept_, self.noise_std_ = intercept[0], noise[0]
        self._stats = stats
        self.posterior_samples_ = draws

    def _target_posteriors(self) -> list:
        """The fitted guide of each target (one for a 1-D y)."""
        k = len(self._designs)
        if not self._multi_target:
            return [self._posterior]
        return [target_posterior(self._posterior, j, k) for j in range(k)]

    # ------------------------------------------------- draws and mapping
    def _from_guide(self, sites: dict) -> dict:
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
        quadrature over the noise otherwise); NUTS: the mixture over
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
        multi = self._multi_target
        if not hasattr(self, "_posterior"):
            locs = self._functions(X, self.posterior_samples_)
            noise = self.posterior_samples_["noise_std"]
            return NormalMixture(locs, noise.T[None] if multi else noise)
        parts = [
            svi_predictive(post, d, self._noise_fixed, X)
            for post, d in zip(self._target_posteriors(), self._designs, strict=True)
        ]
        if not multi:
            parts = parts[0]
        else:
            parts = [parts[0][0]] + [
                np.stack([p[i] for p in parts], 1) for i in range(1, len(parts[0]))
            ]
        if parts[0] == "normal":
            _, mean, var_f = parts
            noise = float(self._noise_fixed)
            return Normal(mean, np.sqrt(var_f + noise**2), epistemic_std=np.sqrt(var_f))
        return _ScaleMixture(*parts[1:])

    def _predict_mean(self, X) -> np.ndarray:
        X = self._validated_X(X)
        if hasattr(self, "_posterior"):
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
