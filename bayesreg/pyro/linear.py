"""PyroBayesianLinear: Bayesian linear regression fitted by Pyro (SVI or NUTS)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide.initialization import init_to_value
from scipy import linalg, special
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)

from .. import _gaussian
from .._base import BayesianRegressorMixin
from ..distributions import Normal, NormalMixture
from ..utils._checks import check_n_samples
from ..utils._random import check_generator
from ..utils._state import restore_on_error
from ..utils._validation import check_noise_posterior_proper, validated_gram_stats
from ._arviz import to_inference_data
from ._engine import GUIDES, Schedule, fit_svi, resolve_device, run_nuts, seed_from

__all__ = ["PyroBayesianLinear"]

#: quadrature nodes over the guide's log noise scale in the SVI predictive
_NOISE_NODES = 64


class _RotatedLinearModel:
    """The model in decorrelated coordinates, likelihood on sufficient statistics.

    On standardised data the coefficients are ``w_s = M xi`` (see
    :class:`_Design`), in which the likelihood and the prior are
    both diagonal. Latents: the noise scale ``noise_std`` (unless fixed),
    ``xi`` and, with an intercept, ``intercept`` (the standardised intercept
    times sqrt(n)). With ``s`` the noise std of the standardised target::

        p(s) ~ s^-(2 a0 + 1) exp(-b0 / s^2)   (s^2 ~ InvGamma(a0, b0); a0=b0=0: 1/s)
        xi_i | s ~ N(0, s^2 (1 + l_i)),      p(intercept) = 1
        log p(y | ...) = -n log s - n/2 log(2 pi) - RSS / (2 s^2),
        RSS = yty - 2 xi.h + sum_i q_i xi_i^2 + intercept^2.

    Called as ``model(moments, h, q, idx)`` with ``moments = [n, yty]``.
    Every expression broadcasts over a leading particle dimension.
    """

    def __init__(self, xi_scale, fit_intercept, noise_std, a0, b0):
        self.xi_scale = xi_scale
        self.fit_intercept = fit_intercept
        self.noise_std = noise_std
        self.a0 = a0
        self.b0 = b0

    def __call__(self, moments, h, q, idx):
        n, yty = moments[0], moments[1]
        if self.noise_std is None:
            # A masked (flat) base on the positive half-line; the prior enters
            # as a factor, which also covers the improper Jeffreys prior.
            s = pyro.sample(
                "noise_std", dist.LogNormal(h.new_zeros(()), 1.0).mask(False)
            )
            log_s = torch.log(s)
            pyro.factor("noise_prior", -(2.0 * self.a0 + 1.0) * log_s - self.b0 / s**2)
            scale = s.unsqueeze(-1) * self.xi_scale
        else:
            s = h.new_tensor(self.noise_std)
            log_s = torch.log(s)
            scale = s * self.xi_scale
        xi = pyro.sample(
            "xi", dist.Normal(torch.zeros_like(self.xi_scale), scale).to_event(1)
        )
        rss = yty - 2.0 * (xi * h).sum(-1) + (q * xi * xi).sum(-1)
        if self.fit_intercept:
            beta = pyro.sample(
                "intercept", dist.Normal(h.new_zeros(()), 1.0).mask(False)
            )
            rss = rss + beta * beta
        loglik = -n * log_s - 0.5 * n * math.log(2 * math.pi) - 0.5 * rss / s**2
        pyro.factor("obs", loglik)


class _Design:
    """Everything that maps the model's latents back to the data's units."""

    def __init__(self, stats, prior_std_s):
        # Standardised statistics: columns and y divided by their spread.
        self.n = float(_snap(stats.n, stats.n))
        self.x_mean = stats.x_mean
        self.y_mean = float(stats.y_mean)
        self.x_scale = _gaussian.column_scale(stats)
        y_sd = math.sqrt(stats.yty / stats.n) if stats.n > 0 else 0.0
        self.y_scale = y_sd if y_sd > 0 else 1.0
        self.centered = bool(stats.centered)
        xtx = stats.xtx / np.outer(self.x_scale, self.x_scale)
        xty = stats.xty / (self.x_scale * self.y_scale)
        self.yty = float(stats.yty / self.y_scale**2)
        # Rotation (the SVD of the standardised design, whitened by the
        # prior): G = P X'X P = V diag(l) V', w_s = P V diag(1/sqrt(1 + l)) xi.
        G = prior_std_s[:, None] * xtx * prior_std_s[None, :]
        lam, V = linalg.eigh(0.5 * (G + G.T), check_finite=False)
        lam = np.clip(lam, 0.0, None)
        # eigh's signs are arbitrary: make each vector's largest entry positive.
        V = V * np.where(V[np.abs(V).argmax(axis=0), np.arange(V.shape[1])] < 0, -1, 1)
        self.M = prior_std_s[:, None] * V / np.sqrt(1.0 + lam)[None, :]
        # What the sampler sees is snapped to a grid 1e-9 of its own scale:
        # the same data in other units (or rows in another order) give
        # statistics equal to rounding, and a Markov chain would carry that
        # rounding into a different trajectory (NUTS' tree decisions are
        # discrete). On the grid they are bit-identical, so the fit maps
        # exactly (unless a value falls within rounding of a grid boundary,
        # about once in 1e5); 1e-9 is far below any statistical precision.
        self.yty = _snap(self.yty, self.yty)
        self.lam = _snap(lam, max(1.0, float(lam.max(initial=0.0))))
        self.h = _snap(self.M.T @ xty, math.sqrt(max(self.yty, 1e-300)))
        self.q = self.lam / (1.0 + self.lam)

    def coef_map(self) -> np.ndarray:
        """(d, d) matrix taking xi to the coefficients on the original scale."""
        return (self.y_scale / self.x_scale)[:, None] * self.M

    def to_original(self, draws: dict, noise_std) -> dict[str, np.ndarray]:
        """Map latent draws (S, ...) to coefficients, intercepts, noise stds."""
        coef = draws["xi"] @ self.coef_map().T
        S = coef.shape[0]
        if self.centered:
            intercept = (
                self.y_mean
                + self.y_scale * draws["intercept"] / math.sqrt(self.n)
                - coef @ self.x_mean
            )
        else:
            intercept = np.zeros(S)
        if noise_std is None:
            noise = draws["noise_std"] * self.y_scale
        else:
            noise = np.full(S, float(noise_std))
        return {"coef": coef, "intercept": intercept, "noise_std": noise}

    def function_rows(self, X: np.ndarray, sites) -> tuple[np.ndarray, float]:
        """(A, f0) with f(x) = f0 + A x_packed for the packed latents."""
        D = sum(s.size for s in sites)
        A = np.zeros((X.shape[0], D))
        pos = 0
        for site in sites:
            block = slice(pos, pos + site.size)
            if site.name == "xi":
                Xs = (X - self.x_mean) / self.x_scale
                A[:, block] = self.y_scale * (Xs @ self.M)
            elif site.name == "intercept":
                A[:, block] = self.y_scale / math.sqrt(self.n)
            pos += site.size
        return A, self.y_mean if self.centered else 0.0


def _mode_values(design: _Design, fit_intercept: bool, device) -> dict:
    """The model's conditional mode in closed form, where SVI's guide starts.

    Given the noise, the posterior of ``xi`` is N(h, s^2 I) and that of the
    intercept N(0, s^2); the noise starts at the residual std of that mode.
    SVI then has to learn the spread and the noise, which the ELBO resolves
    well; its early-stopping rule cannot see a mean a tenth of a posterior
    sd off (that costs 0.005 nats), so a fit started far away may stop there.
    """
    rss = design.yty - float(np.sum((2.0 - design.q) * design.h**2))
    n_eff = design.n - 1.0 if fit_intercept else design.n
    noise = math.sqrt(max(rss, 1e-10 * design.yty, 1e-300) / max(n_eff, 1.0))

    def t(v):
        return torch.as_tensor(v, dtype=torch.float64, device=device)

    return {"xi": t(design.h), "intercept": t(0.0), "noise_std": t(noise)}


def _same_problem(a, b) -> bool:
    """Whether two SVI problems (settings, numbers) agree, numbers to rounding.

    The same data in another row order give statistics equal to rounding
    (the snapped ones exactly, the eigenvalues to about 1e-13).
    """
    if a is None or a[0] != b[0] or a[1].shape != b[1].shape:
        return False
    return bool(np.allclose(a[1], b[1], rtol=1e-9, atol=0.0))


class _NonCentredTarget:
    """The NUTS target: the model's posterior, non-centred at its conditional mode.

    Given the noise s, the posterior of ``xi`` is N(h, s^2 I) and that of the
    intercept N(0, s^2) (see :class:`_RotatedLinearModel`); with
    ``xi = h + s zeta`` and ``intercept = s eta`` the potential is

        U = |zeta|^2 / 2 + eta^2 / 2 + A l + B exp(-2 l),   l = log s,
        A = 2 a0 + n_eff,   B = b0 + (yty - |h|^2) / 2,

    the last two terms only with learned noise (n_eff = n - 1 with an
    intercept): zeta and eta are standard normal and independent of s, and
    the noise has a one-dimensional marginal, here written in its Laplace
    coordinate u (l = l* + u / sqrt(2 A)). Every coordinate is then of unit
    scale from the first warm-up step; the potential is a few lines of torch,
    with no model tracing per gradient. ``to_model_sites`` maps draws back to
    the model's sites, so every later step sees the model's own latents.
    """

    def __init__(self, design: _Design, fit_intercept: bool, model, device):
        self.d = len(design.h)
        self.fit_intercept = fit_intercept
        self.device = device
        self.h = torch.as_tensor(design.h, dtype=torch.float64, device=device)
        self.noise = model.noise_std
        if self.noise is None:
            n_eff = design.n - 1.0 if fit_intercept else design.n
            resid = design.yty - float(design.h @ design.h)
            self.A = 2.0 * model.a0 + n_eff
            self.B = model.b0 + 0.5 * max(resid, 1e-10 * design.yty, 1e-300)
            self.l_mode = 0.5 * math.log(2.0 * self.B / self.A)
            self.l_scale = 1.0 / math.sqrt(2.0 * self.A)

    # One packed site, theta = (zeta, [eta], [u]), and one autograd node
    # with its gradient in closed form: Pyro's integrator loops over sites
    # and walks the graph in Python at every leapfrog step.
    def potential(self, params: dict) -> torch.Tensor:
        return _Potential.apply(params["theta"], self)

    def initial_params(self) -> dict:
        """A start drawn uniformly in (-2, 2) per coordinate (init_to_uniform)."""
        size = self.d + int(self.fit_intercept) + int(self.noise is None)
        u = torch.rand(size, dtype=torch.float64, device=self.device)
        return {"theta": 4.0 * u - 2.0}

    def to_model_sites(self, draws: dict) -> dict:
        theta = draws["theta"]
        d = self.d
        if self.noise is None:
            s = torch.exp(self.l_mode + self.l_scale * theta[:, -1])
        else:
            s = torch.full_like(theta[:, 0], self.noise)
        out = {"xi": self.h + s[:, None] * theta[:, :d]}
        if self.fit_intercept:
            out["intercept"] = s * theta[:, d]
        if self.noise is None:
            out["noise_std"] = s
        return out


class _Potential(torch.autograd.Function):
    """U(theta) of :class:`_NonCentredTarget` and its gradient, fused."""

    @staticmethod
    def forward(ctx, theta, target):
        d = target.d + int(target.fit_intercept)
        grad = theta.clone()
        U = 0.5 * torch.dot(theta[:d], theta[:d])
        if target.noise is None:
            c = target.l_scale
            log_s = target.l_mode + c * theta[d]
            e = torch.exp(-2.0 * log_s)
            U = U + target.A * log_s + target.B * e
            grad[d] = c * (target.A - 2.0 * target.B * e)
        ctx.save_for_backward(grad)
        return U

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output * grad, None


def _snap(x, scale: float):
    """``x`` rounded to a multiple of 1e-9 * scale."""
    quantum = 1e-9 * scale
    return np.round(np.asarray(x, dtype=float) / quantum) * quantum


class _ScaleMixture(NormalMixture):
    """The SVI predictive with learned noise: a quadrature over the noise.

    Components are equally weighted nodes of the guide's log noise scale;
    the regression function's variance is known exactly (``epistemic``), so
    the split of the variance does not depend on the quadrature.
    """

    def __init__(self, locs, scales, epistemic, aleatoric):
        super().__init__(locs, scales)
        self._epistemic = epistemic
        self._aleatoric = aleatoric

    @property
    def epistemic_std(self) -> np.ndarray:
        return self._epistemic

    @property
    def aleatoric_std(self) -> np.ndarray:
        return self._aleatoric


def _normal_nodes(k: int) -> np.ndarray:
    """k equally weighted N(0, 1) nodes (midpoint quantiles), with mean 0 and
    second moment rescaled to exactly 1."""
    z = special.ndtri((np.arange(k) + 0.5) / k)
    return z / np.sqrt(np.mean(z**2))


class PyroBayesianLinear(BayesianRegressorMixin, BaseEstimator):
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
        Known noise std (units of y); ``None`` learns it under the
        inverse-gamma prior below.
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
    num_particles : int, default=128
        ELBO samples per step (vectorised; the likelihood costs O(d) per
        sample). Fewer particles leave a noisier posterior mean.
    num_warmup : int, default=500
        NUTS warm-up (adaptation) steps per chain.
    num_samples : int, default=1000
        NUTS draws kept per chain.
    num_chains : int, default=2
        NUTS chains, run one after the other.
    n_posterior_samples : int, default=200
        Posterior draws kept in ``posterior_samples_``; with NUTS, the draws
        behind every prediction (thinned evenly to this number).
    jit : bool or "auto", default="auto"
        Compile the SVI objective with the PyTorch JIT (``JitTrace_ELBO``,
        whose graph the engine then runs directly); ``"auto"`` and ``True``
        compile, ``False`` runs Pyro's ``Trace_ELBO`` eagerly. NUTS samples a
        potential written in torch and needs no compilation.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit. Fitted state is kept as NumPy arrays, so a model fitted
        on CUDA predicts and unpickles anywhere.
    random_state : int, RandomState instance or None, default=None
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
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the coefficients.
    intercept_ : float
        Posterior mean of the intercept (0.0 when ``fit_intercept=False``).
    coef_cov_ : ndarray of shape (n_features, n_features)
        Posterior covariance of the coefficients.
    noise_std_ : float
        Posterior mean of the noise standard deviation (``noise_std`` when
        it is fixed).
    prior_std_ : ndarray of shape (n_features,)
        Prior std of each coefficient used by the fit (units as
        ``prior_std``).
    prior_scale_ : float
        The evidence's factor ``c`` for ``prior_std="auto"``; 1.0 otherwise.
    posterior_samples_ : dict of str to ndarray
        Posterior draws: ``"coef"`` (S, n_features), ``"intercept"`` (S,)
        and ``"noise_std"`` (S,), S = ``n_posterior_samples``.
    loss_curve_ : list of float
        Per-step mean negative ELBO per training row (SVI only), over every
        continued fit of the optimisation that produced the guide.
    n_iter_ : int
        Number of SVI steps run (SVI only), counted likewise.
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
    bayesreg.ConjugateLinearRegression : the exact posterior of the same
        model.

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
    >>> import numpy as np
    >>> from bayesreg import PyroBayesianLinear
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=50)
    >>> reg = PyroBayesianLinear(random_state=0).fit(X, y)
    >>> reg.coef_.round(1)
    array([ 1., -2.])
    >>> reg.predict_interval(X[:1]).shape
    (1, 2)
    """

    _parameter_constraints: dict = {
        "inference": [StrOptions({"svi", "nuts"})],
        "prior_std": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
            "array-like",
        ],
        "noise_std": [Interval(Real, 0, None, closed="neither"), None],
        "noise_prior_shape": [Interval(Real, 0, None, closed="left")],
        "noise_prior_scale": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "guide": [StrOptions(set(GUIDES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"adaptive", "constant"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
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
        "warm_start": ["boolean"],
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
        learning_rate_init: float = 0.05,
        learning_rate: str = "adaptive",
        max_iter: int = 2000,
        tol: float = 1e-4,
        n_iter_no_change: int = 20,
        num_particles: int = 128,
        num_warmup: int = 500,
        num_samples: int = 1000,
        num_chains: int = 2,
        n_posterior_samples: int = 200,
        jit: bool | str = "auto",
        device: str = "cpu",
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
    ):
        self.inference = inference
        self.prior_std = prior_std
        self.noise_std = noise_std
        self.noise_prior_shape = noise_prior_shape
        self.noise_prior_scale = noise_prior_scale
        self.fit_intercept = fit_intercept
        self.guide = guide
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.max_iter = max_iter
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
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the posterior by SVI or NUTS.

        With ``warm_start=True``, SVI on the data of the last fit continues
        where that fit stopped (see ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' likelihood terms; a weight of
            k counts a row k times.

        Returns
        -------
        self : PyroBayesianLinear

        Raises
        ------
        ValueError
            For invalid input, entries of X or y beyond 1e150 in magnitude,
            or data too few for the noise posterior; the estimator is then
            left as it was.
        FloatingPointError
            If the SVI loss diverges (the message names
            ``learning_rate_init``); the estimator is then left as it was.
        """
        with restore_on_error(self):
            stats, y = self._validated_stats(X, y, sample_weight, reset=True)
            self._fit(stats)
            self._observed_y = np.array(y, dtype=np.float64)  # for ArviZ
        return self

    @_fit_context(prefer_skip_nested_validation=True)
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
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows' likelihood terms; a weight of
            k counts a row k times.

        Returns
        -------
        self : PyroBayesianLinear

        Raises
        ------
        ValueError
            For invalid input as in :meth:`fit`, a number of features other
            than that of the data seen, or ``fit_intercept`` changed since;
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
        first = not hasattr(self, "_stats")
        with restore_on_error(self):
            if not first and self._stats.centered != bool(self.fit_intercept):
                raise ValueError(
                    "fit_intercept changed since the data seen so far were "
                    "added; call fit to start afresh."
                )
            stats, y = self._validated_stats(X, y, sample_weight, reset=first)
            seen = None if first else getattr(self, "_observed_y", None)
            if not first:
                stats = _gaussian.merge_stats(self._stats, stats)
            self._fit(stats, incremental=True)
            # The posterior is given every chunk: so are ArviZ's observations.
            y = np.array(y, dtype=np.float64)
            self._observed_y = y if seen is None else np.concatenate([seen, y])
        return self

    def _validated_stats(self, X, y, sample_weight, reset: bool):
        """Validate a chunk; return its weighted sufficient statistics and y
        (the intake of the closed-form estimators)."""
        stats, (_, y, _) = validated_gram_stats(
            self, X, y, sample_weight, center=self.fit_intercept, reset=reset
        )
        if not stats.n > 0:
            raise ValueError("sample_weight must not be all zero.")
        return stats, y

    # ------------------------------------------------------------- prior
    def _prior(self, stats) -> tuple[np.ndarray, float]:
        """Prior std of the standardised coefficients in noise units, and c."""
        d = stats.xtx.shape[0]
        x_sd = _gaussian.column_scale(stats)
        y_var = float(stats.yty / stats.n)
        zeros = np.zeros(d)
        if isinstance(self.prior_std, str):  # "auto"
            self.prior_std_, opt = _gaussian.evidence_prior_std(
                stats,
                zeros,
                None if self.noise_std is None else float(self.noise_std),
                shape=float(self.noise_prior_shape),
                scale=float(self.noise_prior_scale) * y_var,
            )
            return np.full(d, opt.scale), opt.scale
        p = np.asarray(self.prior_std, dtype=float)
        p = np.full(d, float(p)) if p.ndim == 0 else p
        if p.shape != (d,) or not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise ValueError(
                "prior_std must be 'auto', a positive number or one positive "
                f"value per feature ({d}), got {self.prior_std!r}."
            )
        self.prior_std_ = p
        if self.noise_std is None:  # noise units already
            return p * x_sd, 1.0
        return p * x_sd / float(self.noise_std), 1.0

    # --------------------------------------------------------------- fit
    def _fit(self, stats, incremental: bool = False) -> None:
        rng = check_generator(self.random_state)
        seed = seed_from(rng)
        device = resolve_device(self.device)
        if self.noise_std is None:
            check_noise_posterior_proper(
                stats, float(self.noise_prior_shape), self.fit_intercept
            )
        P, self.prior_scale_ = self._prior(stats)
        design = _Design(stats, P)
        noise_s = None if self.noise_std is None else self.noise_std / design.y_scale
        y_var_s = design.yty / design.n
        model = _RotatedLinearModel(
            xi_scale=torch.as_tensor(
                np.sqrt(1.0 + design.lam), dtype=torch.float64, device=device
            ),
            fit_intercept=self.fit_intercept,
            noise_std=noise_s,
            a0=float(self.noise_prior_shape),
            b0=float(self.noise_prior_scale) * y_var_s,
        )
        data = (np.array([design.n, design.yty]), design.h, design.q)
        S = self.n_posterior_samples
        # What the SVI problem is: a guide continues only on the same one.
        problem = (
            (self.guide, self.fit_intercept, noise_s is None),
            np.concatenate(
                [[noise_s or 0.0, model.a0, model.b0], data[0], design.h, design.lam]
            ),
        )
        state, curve, n_iter = None, [], 0
        if (
            self.inference == "svi"
            and (self.warm_start or incremental)
            and _same_problem(getattr(self, "_svi_problem", None), problem)
        ):
            state, curve, n_iter = self._svi_state, self.loss_curve_, self.n_iter_
        for name in (
            "_mcmc_draws",
            "_mcmc_stats",
            "_guide",
            "diagnostics_",
            "loss_curve_",
            "n_iter_",
            "_svi_state",
            "_svi_problem",
        ):
            vars(self).pop(name, None)
        if self.inference == "svi":
            adaptive = self.learning_rate == "adaptive"
            result = fit_svi(
                model,
                data,
                seed=seed,
                guide=self.guide,
                learning_rate_init=self.learning_rate_init,
                max_iter=self.max_iter,
                schedule=Schedule(
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    n_lr_decays=3 if adaptive else 0,
                    lr_decay_factor=0.2,
                    polyak=adaptive,
                ),
                n_particles=self.num_particles,
                jit=self.jit is not False,
                init_loc_fn=init_to_value(
                    values=_mode_values(design, self.fit_intercept, device)
                ),
                init_scale=min(0.1, 1.0 / math.sqrt(max(design.n, 1.0))),
                device=device,
                dtype=torch.float64,
                n_threads=1,
                verbose=self.verbose,
                desc=type(self).__name__,
                n_rows=design.n,
                init_state=state,
            )
            self._guide = result.posterior
            self.loss_curve_ = curve + result.loss_curve
            self.n_iter_ = n_iter + result.n_iter
            self._svi_state, self._svi_problem = result.state, problem
            draws = design.to_original(result.posterior.sample(S, rng), self.noise_std)
            self._set_guide_moments(design)
        else:
            target = _NonCentredTarget(design, self.fit_intercept, model, device)
            result = run_nuts(
                None,
                (np.zeros(1),),
                seed=seed,
                n_warmup=self.num_warmup,
                n_draws=self.num_samples,
                n_chains=self.num_chains,
                full_mass=False,
                device=device,
                dtype=torch.float64,
                n_threads=1,
                verbose=self.verbose,
                potential_fn=target.potential,
                initial_params=target.initial_params,
                transform=target.to_model_sites,
                # The target is of unit scale in every coordinate, and close
                # to a standard normal, for which HMC's optimal acceptance is
                # 0.65 (Beskos et al. 2013); 0.8 costs steps and, through
                # resonant trajectory lengths, effective samples.
                adapt_mass_matrix=False,
                target_accept_prob=0.65,
            )
            self.diagnostics_ = result.diagnostics
            self._mcmc_stats = result.sample_stats  # (chain, draw) each
            mc = design.to_original(result.pooled(), self.noise_std)
            self._mcmc_draws = mc
            total = mc["coef"].shape[0]
            keep = np.unique(
                np.linspace(0, total - 1, min(S, total)).round().astype(int)
            )
            draws = {k: v[keep] for k, v in mc.items()}
            self.coef_ = mc["coef"].mean(axis=0)
            self.coef_cov_ = np.atleast_2d(np.cov(mc["coef"], rowvar=False))
            self.intercept_ = float(mc["intercept"].mean())
            self.noise_std_ = float(mc["noise_std"].mean())
        self._design = design
        self._stats = stats
        self.posterior_samples_ = draws

    def _set_guide_moments(self, design: _Design) -> None:
        """Exact posterior moments (original scale) of the Gaussian guide."""
        post = self._guide
        loc = post.mean_unconstrained()
        cov = post.covariance()
        pos, start = {}, 0
        for site in post.sites:
            pos[site.name] = slice(start, start + site.size)
            start += site.size
        T = design.coef_map()
        self.coef_ = T @ loc["xi"]
        self.coef_cov_ = T @ cov[pos["xi"], pos["xi"]] @ T.T
        if self.fit_intercept:
            self.intercept_ = float(
                design.y_mean
                + design.y_scale * float(loc["intercept"]) / math.sqrt(design.n)
                - self.coef_ @ design.x_mean
            )
        else:
            self.intercept_ = 0.0
        if self.noise_std is None:
            var = cov[pos["noise_std"], pos["noise_std"]][0, 0]
            self.noise_std_ = float(
                design.y_scale * np.exp(float(loc["noise_std"]) + 0.5 * var)
            )
        else:
            self.noise_std_ = float(self.noise_std)

    # ----------------------------------------------------------- predict
    def _validated_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def predict_dist(self, X):
        """Posterior predictive distribution at each row of X.

        SVI: exact for the Gaussian guide (a Normal with known noise, a
        quadrature over the noise otherwise); NUTS: the mixture over
        ``n_posterior_samples`` posterior draws.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Normal or NormalMixture
        """
        X = self._validated_X(X)
        if not hasattr(self, "_guide"):
            draws = self.posterior_samples_
            locs = X @ draws["coef"].T + draws["intercept"]
            return NormalMixture(locs, draws["noise_std"])
        post, design = self._guide, self._design
        A, f0 = design.function_rows(X, post.sites)
        cov = post.covariance()
        mean = f0 + A @ post.loc
        var_f = np.maximum(np.einsum("ij,jk,ik->i", A, cov, A), 0.0)
        if self.noise_std is not None:
            noise = float(self.noise_std)
            return Normal(mean, np.sqrt(var_f + noise**2), epistemic_std=np.sqrt(var_f))
        # Learned noise: l = log s_std is jointly Gaussian with f; condition
        # f on equally weighted quantile nodes of l.
        j = [s.name for s in post.sites].index("noise_std")
        j = sum(s.size for s in post.sites[:j])
        sd_l = math.sqrt(cov[j, j])
        c = A @ cov[:, j]  # Cov(f, l)
        z = _normal_nodes(_NOISE_NODES)
        locs = mean[:, None] + (c / sd_l)[:, None] * z[None, :]
        var_cond = np.maximum(var_f - (c / sd_l) ** 2, 0.0)
        noise = design.y_scale * np.exp(post.loc[j] + sd_l * z)
        scales = np.sqrt(var_cond[:, None] + noise[None, :] ** 2)
        aleatoric = np.full(X.shape[0], math.sqrt(np.mean(noise**2)))
        return _ScaleMixture(locs, scales, np.sqrt(var_f), aleatoric)

    def _predict_mean(self, X) -> np.ndarray:
        X = self._validated_X(X)
        if hasattr(self, "_guide"):
            return X @ self.coef_ + self.intercept_
        draws = self.posterior_samples_
        return X @ draws["coef"].mean(axis=0) + float(draws["intercept"].mean())

    def sample_posterior(self, n_samples: int = 1, random_state=None) -> dict:
        """Fresh draws from the posterior, on the original scale.

        SVI draws from the fitted guide; NUTS resamples (with replacement)
        the stored draws of all chains. Which one follows the fit, not the
        current value of ``inference``.

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
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        if hasattr(self, "_mcmc_draws"):
            mc = self._mcmc_draws
            pick = rng.integers(0, len(mc["coef"]), size=n_samples)
            return {k: v[pick] for k, v in mc.items()}
        draws = self._guide.sample(n_samples, rng)
        return self._design.to_original(draws, self.noise_std)

    def to_inference_data(self):
        """The posterior draws as an ArviZ ``InferenceData``.

        ``posterior`` holds the draws on the original scale, with dimensions
        ``(chain, draw, ...)``: ``coef`` (with a ``feature`` dimension,
        labelled by ``feature_names_in_`` when X had column names),
        ``intercept`` when it is fitted and ``noise_std`` when it is learned
        (a known ``noise_std`` goes to ``constant_data`` instead).
        ``observed_data`` holds the training ``y``.

        With ``inference="nuts"`` these are every kept draw of every chain
        (``num_chains`` by ``num_samples``), and ``sample_stats`` has, per
        draw, ``diverging``, ``tree_depth`` and ``n_steps`` (Stan's
        ``treedepth__`` and ``n_leapfrog__``), ``step_size``,
        ``acceptance_rate`` (the mean Metropolis acceptance probability
        over the trajectory, Stan's ``accept_stat__``) and ``lp`` (the log
        density, up to a constant, in the sampler's coordinates).

        With ``inference="svi"`` the posterior is the ``n_posterior_samples``
        draws of ``posterior_samples_`` from the fitted guide, as one chain.
        They are independent draws from an approximation, not MCMC: their
        R-hat and effective sample size say nothing about the quality of the
        approximation, and there is no ``sample_stats``.

        Returns
        -------
        arviz.InferenceData
            A new object: changing it does not change the estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ImportError
            If ArviZ 0.x, an optional dependency, is not installed
            (``pip install "arviz>=0.17,<1"``): ArviZ 1.0 replaced
            ``InferenceData`` by ``xarray.DataTree``.

        See Also
        --------
        sample_posterior : Fresh posterior draws as a dict of arrays.

        Examples
        --------
        >>> import arviz as az
        >>> import numpy as np
        >>> from bayesreg import PyroBayesianLinear
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -2.0] + 0.1 * rng.normal(size=50)
        >>> reg = PyroBayesianLinear(inference="nuts", num_warmup=200,
        ...                          num_samples=200, random_state=0).fit(X, y)
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
        check_is_fitted(self)
        nuts = hasattr(self, "_mcmc_draws")
        draws = self._mcmc_draws if nuts else self.posterior_samples_
        # The latent sites of the fitted model: a fixed intercept or noise
        # is not a posterior variable.
        sampled = self.diagnostics_["r_hat"] if nuts else self._guide.site_names
        names = ["coef"] + [k for k in ("intercept", "noise_std") if k in sampled]
        return to_inference_data(
            self,
            {k: draws[k] for k in names},
            sample_stats=self._mcmc_stats if nuts else None,
            dims={"coef": ["feature"]},
            constant_data=(
                {} if "noise_std" in sampled else {"noise_std": self.noise_std_}
            ),
        )
