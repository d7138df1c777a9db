"""PyroBayesianLinear: Bayesian linear regression fitted by Pyro (SVI or NUTS)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._base import BayesianRegressorMixin
from ..distributions import NormalMixture, _check_n_samples
from ..utils._random import check_generator
from ._engine import (
    GUIDES,
    fit_svi,
    resolve_device,
    run_nuts,
    seed_from,
    standard_scale,
    unfitted_on_error,
)

__all__ = ["PyroBayesianLinear"]


class _LinearModel:
    """The model on the scaled data (a callable for the engine).

    ``coef ~ N(0, diag(coef_scale^2))``, a flat intercept, and either a fixed
    noise scale or ``noise_std ~ HalfNormal(noise_prior_scale)``.
    """

    def __init__(self, coef_scale, fit_intercept, noise_std, noise_prior_scale):
        self.coef_scale = coef_scale
        self.fit_intercept = fit_intercept
        self.noise_std = noise_std
        self.noise_prior_scale = noise_prior_scale

    def _latents(self, like: torch.Tensor):
        """Sample the coefficients, the intercept and the noise scale."""
        coef = pyro.sample(
            "coef",
            dist.Normal(torch.zeros_like(self.coef_scale), self.coef_scale).to_event(1),
        )
        mean_shift = 0.0
        if self.fit_intercept:
            # A flat (improper) prior: a Normal whose log density is masked out.
            mean_shift = pyro.sample(
                "intercept", dist.Normal(like.new_zeros(()), 1.0).mask(False)
            )
        if self.noise_std is None:
            sigma = pyro.sample(
                "noise_std", dist.HalfNormal(like.new_tensor(self.noise_prior_scale))
            )
        else:
            sigma = like.new_tensor(self.noise_std)
        return coef, mean_shift, sigma

    def __call__(self, X, y, idx):
        coef, mean_shift, sigma = self._latents(X)
        with pyro.plate("data", X.shape[0], subsample=idx):
            # Vectorised ELBO particles give coef the shape (P, 1, d) and the
            # scalars (P, 1); (X * coef).sum(-1) then has the shape (P, batch).
            mean = (X[idx] * coef).sum(-1) + mean_shift
            pyro.sample("obs", dist.Normal(mean, sigma), obs=y[idx])


class _LinearModelStats(_LinearModel):
    """The same model, its Gaussian likelihood written through sufficient statistics.

    ``sum_i (y_i - x_i.w - b)^2 = yty - 2 w.Xty - 2 b sum(y) + w' XtX w
    + 2 b w.sum(x) + n b^2``, so the log likelihood and its gradient cost
    O(d^2) whatever n is. Used for full-batch NUTS, where it gives the same
    posterior as the per-observation model at a fraction of the cost.
    Called as ``model(xtx, xty, moments, idx)`` with ``moments = [n, sum(y),
    yty, *sum(x)]``; ``idx`` (the engine's row index) is not needed.
    """

    def __call__(self, xtx, xty, moments, idx):
        coef, b, sigma = self._latents(xtx)
        n, y_sum, yty, x_sum = moments[0], moments[1], moments[2], moments[3:]
        rss = (
            yty
            - 2.0 * coef @ xty
            - 2.0 * b * y_sum
            + coef @ xtx @ coef
            + 2.0 * b * (coef @ x_sum)
            + n * b * b
        )
        loglik = -n * torch.log(sigma) - 0.5 * n * math.log(2 * math.pi)
        pyro.factor("obs", loglik - 0.5 * rss / sigma**2)


class PyroBayesianLinear(BayesianRegressorMixin, BaseEstimator):
    """Bayesian linear regression fitted with Pyro, by SVI or by NUTS.

    The posterior over the coefficients, the intercept and (optionally) the
    noise scale is approximated by an autoguide fitted with stochastic
    variational inference (``inference="svi"``) or sampled with the No-U-Turn
    sampler (``inference="nuts"``). Predictions are the posterior predictive:
    a mixture over ``n_posterior_samples`` posterior draws.

    Each fit has its own Pyro parameter store and its own seeded random
    stream, so estimators never interfere with each other or with the global
    torch / NumPy random state (see :mod:`bayesreg.pyro._engine`).

    Parameters
    ----------
    inference : {"svi", "nuts"}, default="svi"
        Variational inference with ``guide`` or Hamiltonian Monte Carlo.
    prior_std : float, default=1.0
        Standard deviation of the Gaussian prior on each coefficient, on the
        original scale of X and y.
    noise_std : float or None, default=None
        Known observation noise standard deviation (original scale of y).
        ``None`` learns it with the prior ``HalfNormal(std(y))``.
    fit_intercept : bool, default=True
        Fit an intercept, with a flat (improper) prior, as
        :class:`~bayesreg.ConjugateLinearRegression` does.
    standardize : bool, default=True
        Fit on standardised X and y. The prior is transformed with the data,
        so this changes the numerics only, never the model.
    guide : {"diagonal", "multivariate", "lowrank"}, default="multivariate"
        Autoguide for SVI: ``AutoDiagonalNormal``,
        ``AutoMultivariateNormal`` or ``AutoLowRankMultivariateNormal``.
    learning_rate_init : float, default=0.05
        Adam's initial step size.
    learning_rate : {"adaptive", "constant"}, default="adaptive"
        ``"adaptive"``: each time the smoothed ELBO stops improving the step
        size is divided by 5 (three times), and the parameters of the last
        phase are averaged (Polyak averaging) before the fit stops; this
        removes the optimiser's jitter from the posterior. ``"constant"``:
        stop at the first plateau.
    max_iter : int, default=2000
        Maximum number of SVI epochs.
    batch_size : int or None, default=None
        Minibatch size for SVI; ``None`` uses all rows each step.
    tol : float, default=1e-4
        Required decrease of the smoothed per-row negative ELBO.
    n_iter_no_change : int, default=20
        Epochs without a ``tol`` improvement that make a plateau.
    num_particles : int, default=32
        ELBO samples per step (vectorised); more particles give the guide's
        scale a much less noisy gradient.
    num_warmup : int, default=500
        NUTS warm-up (adaptation) steps per chain.
    num_samples : int, default=500
        NUTS draws kept per chain.
    num_chains : int, default=2
        NUTS chains, run one after the other.
    n_posterior_samples : int, default=200
        Posterior draws behind every prediction (NUTS draws are thinned
        evenly to this number).
    jit : bool or "auto", default="auto"
        Compile the model with the PyTorch JIT (``JitTrace_ELBO``, NUTS
        ``jit_compile``); ``"auto"`` compiles for NUTS only.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit. Fitted state is kept as NumPy arrays, so a model fitted
        on CUDA predicts and unpickles anywhere.
    random_state : int, RandomState instance or None, default=None
        Seeds the private random stream of the fit and of the posterior
        draws. Pass an int for reproducible results.
    verbose : int, default=0
        ``1`` shows a progress bar with the ELBO (or the NUTS progress).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the coefficients.
    intercept_ : float
        Posterior mean of the intercept (0.0 when ``fit_intercept=False``).
    coef_cov_ : ndarray of shape (n_features, n_features)
        Posterior covariance of the coefficients.
    noise_std_ : float
        Posterior mean of the noise standard deviation (``noise_std`` when
        it is fixed).
    posterior_samples_ : dict of str to ndarray
        The draws behind the predictions: ``"coef"`` (S, n_features),
        ``"intercept"`` (S,) and ``"noise_std"`` (S,), S =
        ``n_posterior_samples``.
    loss_curve_ : list of float
        Per-epoch mean negative ELBO per training row (SVI only).
    n_iter_ : int
        Number of SVI epochs run (SVI only).
    diagnostics_ : dict
        NUTS only: ``"r_hat"`` and ``"ess"`` per site (split R-hat and
        effective sample size), ``"max_r_hat"``, ``"min_ess"``,
        ``"num_divergences"``, ``"acceptance_rate"`` per chain.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    bayesreg.ConjugateLinearRegression : The exact posterior of the same
        model when the noise is known.

    Notes
    -----
    The model, on the original scale::

        w_j ~ Normal(0, prior_std^2)          j = 1..d
        b ~ flat                              (if fit_intercept)
        sigma ~ HalfNormal(std(y))            (unless noise_std is given)
        y_i | x_i ~ Normal(b + x_i^T w, sigma^2)

    With ``standardize=True`` the fit runs on ``(X - mean) / sd_X`` and
    ``(y - mean) / sd_y`` (no centring without an intercept), with the prior
    scales mapped exactly: ``w_std_j ~ Normal(0, (prior_std sd_X_j / sd_y)^2)``
    and ``sigma_std ~ HalfNormal(std(y) / sd_y)``. The flat intercept prior is
    invariant. With known noise this is the model of
    ``ConjugateLinearRegression(prior_std, noise_std)``, whose posterior is
    exact.

    The predictive distribution of a new y at x is the mixture over posterior
    draws s of ``Normal(b_s + x^T w_s, sigma_s^2)``.

    References
    ----------
    .. [1] Bingham et al., "Pyro: Deep Universal Probabilistic Programming",
       JMLR 20(28), 2019.
    .. [2] Hoffman and Gelman, "The No-U-Turn Sampler", JMLR 15, 2014.
    .. [3] Vehtari et al., "Rank-normalization, folding, and localization: an
       improved R-hat for assessing convergence of MCMC", Bayesian Analysis
       16(2), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg import PyroBayesianLinear
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=50)
    >>> reg = PyroBayesianLinear(max_iter=300, random_state=0).fit(X, y)
    >>> reg.coef_.round(1)
    array([ 1., -2.])
    >>> reg.predict_interval(X[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        "inference": [StrOptions({"svi", "nuts"})],
        "prior_std": [Interval(Real, 0, None, closed="neither")],
        "noise_std": [Interval(Real, 0, None, closed="neither"), None],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "guide": [StrOptions(set(GUIDES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"adaptive", "constant"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "num_particles": [Interval(Integral, 1, None, closed="left")],
        "num_warmup": [Interval(Integral, 1, None, closed="left")],
        "num_samples": [Interval(Integral, 1, None, closed="left")],
        "num_chains": [Interval(Integral, 1, None, closed="left")],
        "n_posterior_samples": [Interval(Integral, 1, None, closed="left")],
        "jit": ["boolean", StrOptions({"auto"})],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        inference: str = "svi",
        prior_std: float = 1.0,
        noise_std: float | None = None,
        fit_intercept: bool = True,
        standardize: bool = True,
        guide: str = "multivariate",
        learning_rate_init: float = 0.05,
        learning_rate: str = "adaptive",
        max_iter: int = 2000,
        batch_size: int | None = None,
        tol: float = 1e-4,
        n_iter_no_change: int = 20,
        num_particles: int = 32,
        num_warmup: int = 500,
        num_samples: int = 500,
        num_chains: int = 2,
        n_posterior_samples: int = 200,
        jit: bool | str = "auto",
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
    ):
        self.inference = inference
        self.prior_std = prior_std
        self.noise_std = noise_std
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.guide = guide
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.num_particles = num_particles
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.n_posterior_samples = n_posterior_samples
        self.jit = jit
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the posterior by SVI or NUTS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : PyroBayesianLinear

        Raises
        ------
        FloatingPointError
            If the SVI loss diverges (the message names
            ``learning_rate_init``); the estimator is then left unfitted.
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        with unfitted_on_error(self):
            self._fit(X, y)
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        n, d = X.shape
        rng = check_generator(self.random_state)
        seed = seed_from(rng)
        device = resolve_device(self.device)

        # Scaled coordinates: Xs = (X - x_mean) / x_scale, ys = (y - y_mean) / y_scale.
        x_mean_data, x_sd = standard_scale(X)
        y_mean_data, y_sd = (float(a[0]) for a in standard_scale(y))
        center = self.standardize and self.fit_intercept
        x_mean = x_mean_data if center else np.zeros(d)
        y_mean = y_mean_data if center else 0.0
        x_scale = x_sd if self.standardize else np.ones(d)
        y_scale = y_sd if self.standardize else 1.0
        Xs = (X - x_mean) / x_scale
        ys = (y - y_mean) / y_scale
        noise_prior = y_sd
        scaling = (x_mean, x_scale, y_mean, y_scale)

        model = _LinearModel(
            coef_scale=torch.as_tensor(
                self.prior_std * x_scale / y_scale, dtype=torch.float64, device=device
            ),
            fit_intercept=self.fit_intercept,
            noise_std=None if self.noise_std is None else self.noise_std / y_scale,
            noise_prior_scale=noise_prior / y_scale,
        )
        S = self.n_posterior_samples
        if self.inference == "svi":
            adaptive = self.learning_rate == "adaptive"
            result = fit_svi(
                model,
                (Xs, ys),
                seed=seed,
                guide=self.guide,
                learning_rate_init=self.learning_rate_init,
                max_iter=self.max_iter,
                batch_size=self.batch_size,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                n_lr_decays=3 if adaptive else 0,
                lr_decay_factor=0.2,
                polyak=adaptive,
                num_particles=self.num_particles,
                jit=self.jit is True,
                init_scale=min(0.1, 1.0 / math.sqrt(n)),
                device=device,
                dtype=torch.float64,
                num_threads=1,
                verbose=self.verbose,
                desc=type(self).__name__,
            )
            self._posterior = result.posterior
            self.loss_curve_ = result.loss_curve
            self.n_iter_ = result.n_iter
            scaled = result.posterior.sample(S, rng)
            mean, cov = self._gaussian_moments(result.posterior, scaling)
        else:
            stats_model = _LinearModelStats(
                model.coef_scale,
                model.fit_intercept,
                model.noise_std,
                model.noise_prior_scale,
            )
            moments = np.concatenate([[n, ys.sum(), ys @ ys], Xs.sum(axis=0)])
            result = run_nuts(
                stats_model,
                (Xs.T @ Xs, Xs.T @ ys, moments),
                seed=seed,
                num_warmup=self.num_warmup,
                num_samples=self.num_samples,
                num_chains=self.num_chains,
                jit=self.jit is not False,
                full_mass=True,
                device=device,
                dtype=torch.float64,
                num_threads=1,
                verbose=self.verbose,
            )
            self.diagnostics_ = result.diagnostics
            pooled = result.pooled()
            total = next(iter(pooled.values())).shape[0]
            self._mcmc_draws = self._to_original(pooled, scaling)
            keep = np.unique(
                np.linspace(0, total - 1, min(S, total)).round().astype(int)
            )
            scaled = {k: v[keep] for k, v in pooled.items()}
            mean, cov = None, None

        self._scaling = scaling
        self.posterior_samples_ = self._to_original(scaled, scaling)
        draws = self.posterior_samples_
        if mean is None:
            mc = self._mcmc_draws
            self.coef_ = mc["coef"].mean(axis=0)
            self.coef_cov_ = np.atleast_2d(np.cov(mc["coef"], rowvar=False))
            self.intercept_ = float(mc["intercept"].mean())
            self.noise_std_ = float(mc["noise_std"].mean())
        else:
            # SVI: exact moments of the Gaussian guide (the coefficients are
            # linear in the latents; sigma is log-normal).
            self.coef_ = mean["coef"]
            self.coef_cov_ = cov
            self.intercept_ = mean["intercept"]
            self.noise_std_ = mean["noise_std"]
        self._draw_mean = (draws["coef"].mean(axis=0), float(draws["intercept"].mean()))

    # ------------------------------------------------------------ helpers
    def _to_original(self, scaled: dict, scaling: tuple) -> dict[str, np.ndarray]:
        """Map draws in scaled coordinates to the original scale of X and y."""
        x_mean, x_scale, y_mean, y_scale = scaling
        n_draws = len(scaled["coef"])
        coef = scaled["coef"] * (y_scale / x_scale)
        b = scaled.get("intercept", np.zeros(n_draws))
        intercept = (
            (y_mean + y_scale * b - coef @ x_mean)
            if self.fit_intercept
            else (np.zeros(n_draws))
        )
        if self.noise_std is None:
            noise = scaled["noise_std"] * y_scale
        else:
            noise = np.full(n_draws, float(self.noise_std))
        return {"coef": coef, "intercept": intercept, "noise_std": noise}

    def _gaussian_moments(self, posterior, scaling: tuple):
        """Exact posterior moments (original scale) of the SVI guide."""
        x_mean, x_scale, y_mean, y_scale = scaling
        loc = posterior.mean_unconstrained()
        cov = posterior.covariance()
        names = posterior.site_names
        pos = {}
        start = 0
        for site in posterior.sites:
            pos[site.name] = slice(start, start + site.size)
            start += site.size
        a = y_scale / x_scale
        coef = loc["coef"] * a
        coef_cov = cov[pos["coef"], pos["coef"]] * np.outer(a, a)
        intercept = 0.0
        if self.fit_intercept:
            intercept = float(y_mean + y_scale * loc["intercept"] - coef @ x_mean)
        if "noise_std" in names:
            var = cov[pos["noise_std"], pos["noise_std"]][0, 0]
            noise = float(y_scale * np.exp(loc["noise_std"] + 0.5 * var))
        else:
            noise = float(self.noise_std)
        return {"coef": coef, "intercept": intercept, "noise_std": noise}, coef_cov

    # ----------------------------------------------------------- predict
    def predict_dist(self, X) -> NormalMixture:
        """Posterior predictive: a mixture over the posterior draws.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        NormalMixture
            ``n_samples`` mixtures of ``n_posterior_samples`` Normals.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        draws = self.posterior_samples_
        locs = X @ draws["coef"].T + draws["intercept"]
        return NormalMixture(locs, draws["noise_std"])

    def _predict_mean(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        coef, intercept = self._draw_mean
        return X @ coef + intercept

    def sample_posterior(self, n_samples: int = 1, random_state=None) -> dict:
        """Fresh draws from the posterior, on the original scale.

        SVI draws from the fitted guide; NUTS resamples (with replacement)
        the stored draws of all chains.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None
            Only this generator is used (never torch's global state).

        Returns
        -------
        dict
            ``"coef"`` (n_samples, n_features), ``"intercept"`` and
            ``"noise_std"`` (n_samples,).
        """
        check_is_fitted(self)
        n_samples = _check_n_samples(n_samples)
        rng = check_generator(random_state)
        if self.inference == "nuts":
            mc = self._mcmc_draws
            pick = rng.integers(0, len(mc["coef"]), size=n_samples)
            return {k: v[pick] for k, v in mc.items()}
        draws = self._posterior.sample(n_samples, rng)
        return self._to_original(draws, self._scaling)
