"""PyroBayesianLinear's model: rotated coordinates, NUTS target, guide moments.

Pure functions of the sufficient statistics; the estimator in
:mod:`bayesreg.pyro.linear` builds them and hands them to the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from scipy import linalg

from .. import _gram


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
        beta = None
        if self.fit_intercept:
            beta = pyro.sample(
                "intercept", dist.Normal(h.new_zeros(()), 1.0).mask(False)
            )
        rss = _rss(yty, h, q, xi, beta)
        loglik = -n * log_s - 0.5 * n * math.log(2 * math.pi) - 0.5 * rss / s**2
        pyro.factor("obs", loglik)

    def log_density(self, moments, h, q):
        """This model's log joint density in the guide's coordinates, in torch.

        Returns ``log_p(latent, idx)`` (``idx`` is unused: the likelihood is
        on sufficient statistics). ``latent`` maps ``"xi"``, and
        ``"noise_std"`` and ``"intercept"`` where they are latent, to their
        unconstrained values (log s for the noise) with any leading batch
        shape; ``log_p`` is the sum of the factors and sites of
        :meth:`__call__` (the masked ones contribute nothing) plus the
        log-Jacobian ``log s`` of ``s = exp(log s)``: what the engine's own
        SVI step needs (see :mod:`~bayesreg.pyro._svi`).
        """
        n, yty = moments[0], moments[1]
        d = h.shape[-1]
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        xi_const = -(torch.log(self.xi_scale).sum() + d * half_log_2pi)
        fixed_log_s = None if self.noise_std is None else math.log(self.noise_std)

        def log_p(latent: dict, idx) -> torch.Tensor:
            xi = latent["xi"]
            if fixed_log_s is None:
                log_s = latent["noise_std"]
                inv_var = torch.exp(-2.0 * log_s)
                # the noise prior's factor, plus the Jacobian
                lp = -(2.0 * self.a0 + 1.0) * log_s - self.b0 * inv_var + log_s
            else:
                log_s = h.new_tensor(fixed_log_s)
                inv_var = torch.exp(-2.0 * log_s)
                lp = 0.0
            # xi | s ~ N(0, s^2 xi_scale^2)
            lp = lp - 0.5 * inv_var * ((xi / self.xi_scale) ** 2).sum(-1)
            lp = lp - d * log_s + xi_const
            rss = _rss(yty, h, q, xi, latent.get("intercept"))
            return lp - n * (log_s + half_log_2pi) - 0.5 * rss * inv_var

        return log_p


def _rss(yty, h, q, xi, beta=None):
    """The residual sum of squares of :class:`_RotatedLinearModel` (standardised
    units) at ``xi`` and the intercept ``beta``."""
    rss = yty - 2.0 * (xi * h).sum(-1) + (q * xi * xi).sum(-1)
    return rss if beta is None else rss + beta * beta


class _Design:
    """Everything that maps the model's latents back to the data's units.

    A constant y (no spread) is scaled by its magnitude, and, as in the
    closed form (``_gram.scale_floor``), the residual the noise sees is
    bounded below at 1e-10 of y's own spread (its spread about zero when it
    has none about its mean): a fit exact to rounding keeps a proper noise
    posterior, and the constant is predicted.
    """

    def __init__(self, stats, prior_std_s):
        # Standardised statistics: columns and y divided by their spread.
        self.n = float(_snap(stats.n, stats.n))
        self.x_mean = stats.x_mean
        self.y_mean = float(stats.y_mean)
        self.x_scale = _gram.column_scale(stats)
        y_sd = math.sqrt(stats.yty / stats.n) if stats.n > 0 else 0.0
        self.y_scale = y_sd if y_sd > 0 else (abs(self.y_mean) or 1.0)
        self.centered = bool(stats.centered)
        xtx = stats.xtx / np.outer(self.x_scale, self.x_scale)
        xty = stats.xty / (self.x_scale * self.y_scale)
        self.yty = float(stats.yty / self.y_scale**2)
        spread = self.yty or stats.n * (self.y_mean / self.y_scale) ** 2
        rss_floor = 1e-10 * (spread if spread > 0 else stats.n)
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
        h = self.M.T @ xty
        resid = self.yty - float(h @ h)
        #: whether the data are fitted exactly (the residual is the floor's)
        self.floored = resid < rss_floor
        if self.floored:
            self.yty += rss_floor - resid
        self.yty = _snap(self.yty, self.yty)
        self.lam = _snap(lam, max(1.0, float(lam.max(initial=0.0))))
        self.h = _snap(h, math.sqrt(max(self.yty, 1e-300)))
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

    #: run_nuts options. The target is of unit scale in every coordinate,
    #: and close to a standard normal, for which HMC's optimal acceptance is
    #: 0.65 (Beskos et al. 2013); 0.8 costs steps and, through resonant
    #: trajectory lengths, effective samples.
    options = {
        "full_mass": False,
        "dtype": torch.float64,
        "adapt_mass_matrix": False,
        "target_accept_prob": 0.65,
    }

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


# ------------------------------------------------------------ several targets
class _StackedLinearModel:
    """k independent :class:`_RotatedLinearModel` s in one model (y of shape (n, k)).

    Every latent gains a leading target axis: ``noise_std`` (k,), ``xi``
    (k, d), ``intercept`` (k,); each target has its own rotation, prior
    scale and noise prior, and the log joint is the sum of the k models'.
    Called as ``model(moments, h, q, idx)`` with ``moments = [n, yty]`` of
    shape (2, k) and ``h``, ``q`` of shape (k, d).
    """

    def __init__(self, xi_scale, fit_intercept, noise_std, a0, b0):
        self.xi_scale = xi_scale  # (k, d) tensor
        self.fit_intercept = fit_intercept
        self.noise_std = noise_std  # (k,) array or None
        self.a0 = a0
        self.b0 = b0  # (k,) array

    def __call__(self, moments, h, q, idx):
        n, yty = moments[0], moments[1]
        k = h.shape[0]
        b0 = h.new_tensor(self.b0)
        if self.noise_std is None:
            s = pyro.sample(
                "noise_std",
                dist.LogNormal(h.new_zeros(k), 1.0).mask(False).to_event(1),
            )
            log_s = torch.log(s)
            pyro.factor(
                "noise_prior", (-(2.0 * self.a0 + 1.0) * log_s - b0 / s**2).sum(-1)
            )
        else:
            s = h.new_tensor(self.noise_std)
            log_s = torch.log(s)
        scale = s.unsqueeze(-1) * self.xi_scale
        xi = pyro.sample(
            "xi", dist.Normal(torch.zeros_like(self.xi_scale), scale).to_event(2)
        )
        beta = None
        if self.fit_intercept:
            beta = pyro.sample(
                "intercept", dist.Normal(h.new_zeros(k), 1.0).mask(False).to_event(1)
            )
        rss = _rss(yty, h, q, xi, beta)
        loglik = -n * log_s - 0.5 * n * math.log(2 * math.pi) - 0.5 * rss / s**2
        pyro.factor("obs", loglik.sum(-1))

    def log_density(self, moments, h, q):
        """:meth:`_RotatedLinearModel.log_density`, summed over the targets."""
        n, yty = moments[0], moments[1]
        d = h.shape[-1]
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        xi_const = -(torch.log(self.xi_scale).sum(-1) + d * half_log_2pi)
        b0 = h.new_tensor(self.b0)
        fixed = None if self.noise_std is None else h.new_tensor(self.noise_std)

        def log_p(latent: dict, idx) -> torch.Tensor:
            xi = latent["xi"]
            if fixed is None:
                log_s = latent["noise_std"]
                inv_var = torch.exp(-2.0 * log_s)
                lp = -(2.0 * self.a0 + 1.0) * log_s - b0 * inv_var + log_s
            else:
                log_s = torch.log(fixed)
                inv_var = torch.exp(-2.0 * log_s)
                lp = 0.0
            lp = lp - 0.5 * inv_var * ((xi / self.xi_scale) ** 2).sum(-1)
            lp = lp - d * log_s + xi_const
            rss = _rss(yty, h, q, xi, latent.get("intercept"))
            return (lp - n * (log_s + half_log_2pi) - 0.5 * rss * inv_var).sum(-1)

        return log_p


class _StackedTarget:
    """The NUTS target of k independent models: the sum of their
    :class:`_NonCentredTarget` potentials, over one packed vector."""

    options = _NonCentredTarget.options

    def __init__(self, targets: list[_NonCentredTarget]):
        self.targets = targets
        self.sizes = [
            t.d + int(t.fit_intercept) + int(t.noise is None) for t in targets
        ]
        self.device = targets[0].device

    def _split(self, theta: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(theta, self.sizes, dim=-1))

    def potential(self, params: dict) -> torch.Tensor:
        parts = self._split(params["theta"])
        return sum(
            _Potential.apply(p, t) for p, t in zip(parts, self.targets, strict=True)
        )

    def initial_params(self) -> dict:
        u = torch.rand(sum(self.sizes), dtype=torch.float64, device=self.device)
        return {"theta": 4.0 * u - 2.0}

    def to_model_sites(self, draws: dict) -> dict:
        parts = self._split(draws["theta"])
        sites = [
            t.to_model_sites({"theta": p})
            for p, t in zip(parts, self.targets, strict=True)
        ]
        return {key: torch.stack([s[key] for s in sites], 1) for key in sites[0]}


def target_posterior(post, j: int, k: int):
    """The Gaussian guide of target ``j`` of a :class:`_StackedLinearModel`:
    the marginal over its own latents, laid out as a one-target guide."""
    from ._posterior import GaussianPosterior, _Site

    index, pos, sites = [], 0, []
    for site in post.sites:
        per = site.size // k
        index.append(np.arange(pos + j * per, pos + (j + 1) * per))
        sites.append(
            _Site(site.name, site.shape[1:], site.unconstrained_shape[1:], site.support)
        )
        pos += site.size
    index = np.concatenate(index)
    if post.scale is not None:  # the diagonal guide: independent already
        return GaussianPosterior(tuple(sites), post.loc[index], scale=post.scale[index])
    cov = post.covariance()[np.ix_(index, index)]
    return GaussianPosterior(
        tuple(sites), post.loc[index], scale_tril=np.linalg.cholesky(cov)
    )


def guide_moments(post, design: _Design, noise_fixed) -> tuple:
    """Exact posterior moments (original scale) of a one-target Gaussian guide:
    ``(coef, coef_cov, intercept, noise_std)``."""
    loc = post.mean_unconstrained()
    cov = post.covariance()
    pos, start = {}, 0
    for site in post.sites:
        pos[site.name] = slice(start, start + site.size)
        start += site.size
    T = design.coef_map()
    coef = T @ loc["xi"]
    coef_cov = T @ cov[pos["xi"], pos["xi"]] @ T.T
    if design.centered:
        intercept = float(
            design.y_mean
            + design.y_scale * float(loc["intercept"]) / math.sqrt(design.n)
            - coef @ design.x_mean
        )
    else:
        intercept = 0.0
    if noise_fixed is None:
        var = cov[pos["noise_std"], pos["noise_std"]][0, 0]
        noise = float(design.y_scale * np.exp(float(loc["noise_std"]) + 0.5 * var))
    else:
        noise = float(noise_fixed)
    return coef, coef_cov, intercept, noise


def build_model(designs, fit_intercept, noise_s, a0, b0, multi, device) -> tuple:
    """``(model, data, init)`` of one target's designs, or of k targets' as a
    :class:`_StackedLinearModel`: the SVI model, its data and the guide's
    starting values (:func:`_mode_values`)."""

    def t(v):
        return torch.as_tensor(v, dtype=torch.float64, device=device)

    if multi:
        model = _StackedLinearModel(
            xi_scale=t(np.stack([np.sqrt(1.0 + d.lam) for d in designs])),
            fit_intercept=fit_intercept,
            noise_std=None if noise_s[0] is None else np.array(noise_s),
            a0=a0,
            b0=np.array(b0),
        )
        data = (
            np.array([[d.n for d in designs], [d.yty for d in designs]]),
            np.stack([d.h for d in designs]),
            np.stack([d.q for d in designs]),
        )
        modes = [_mode_values(d, fit_intercept, device) for d in designs]
        init = {key: torch.stack([m[key] for m in modes]) for key in modes[0]}
        return model, data, init
    design = designs[0]
    model = _RotatedLinearModel(
        xi_scale=t(np.sqrt(1.0 + design.lam)),
        fit_intercept=fit_intercept,
        noise_std=noise_s[0],
        a0=a0,
        b0=b0[0],
    )
    data = (np.array([design.n, design.yty]), design.h, design.q)
    return model, data, _mode_values(design, fit_intercept, device)


def _split_targets(stats) -> list:
    """One GramStats per target of statistics of a 2-D y (a list of one for
    a 1-D y)."""
    if np.ndim(stats.yty) == 0:
        return [stats]
    return [
        stats._replace(y_mean=float(stats.y_mean[j]), xty=stats.xty[:, j],
                       yty=float(stats.yty[j]))
        for j in range(len(stats.yty))
    ]  # fmt: skip


def _per_target_models(model, noise_s) -> list:
    """What each target's NUTS target reads of the model: its fixed noise,
    ``a0`` and ``b0``."""
    if isinstance(model, _RotatedLinearModel):
        return [model]
    return [
        _RotatedLinearModel(None, model.fit_intercept, s, model.a0, float(b))
        for s, b in zip(noise_s, model.b0, strict=True)
    ]


def _per_target(draws: np.ndarray, multi: bool) -> list:
    """Draws (S, k, ...) as k arrays (S, ...); one array for one target."""
    return [draws[:, j] for j in range(draws.shape[1])] if multi else [draws]


def _init_scale(designs, init: dict, learned_noise: bool) -> float:
    """The guide's initial scale: 1/sqrt(n), at most 0.1, in the model's
    standardised units; on data fitted exactly (a constant y), where the
    posterior is as narrow as the floored noise, that noise."""
    scale = min(0.1, 1.0 / math.sqrt(max(designs[0].n, 1.0)))
    if learned_noise and any(d.floored for d in designs):
        scale = min(scale, float(init["noise_std"].min()))
    return scale


def check_noise_proper(n: float, a0: float, fit_intercept: bool) -> None:
    """Refuse data from which the noise posterior is improper: a_N = a0 +
    n_eff / 2 must be positive (with Jeffreys' prior and a flat intercept,
    one row says nothing about the noise)."""
    a0 = float(a0)
    if a0 + 0.5 * (n - 1.0 if fit_intercept else n) <= 0:
        raise ValueError(
            "The noise posterior is improper: with noise_std=None, "
            f"noise_prior_shape={a0} and fit_intercept={fit_intercept}, "
            f"at least {2 if fit_intercept else 1} samples are needed "
            f"(n_samples={n:g}, weighted). Fit more samples, or give "
            "noise_std or a proper noise prior."
        )
