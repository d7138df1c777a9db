"""PyroBayesianLinear's models without a closed form (issue 23).

Sparsity priors (``"laplace"``, ``"horseshoe"``, ``"ard"``) and robust or
heteroscedastic likelihoods (``"studentt"``, ``"heteroscedastic"``), all in
standardised units: X's columns and y divided by their (weighted) spreads,
both centred with an intercept, so that every prior is unit-free and the
fit is equivariant in the units of X and y.

Every model is written once, as a log joint density of its latent sites in
their constrained values (:func:`log_joint`); the Pyro model (for the
autoguide), the engine's SVI step (``log_density``, unconstrained, with the
Jacobians) and the NUTS potential over one packed vector all evaluate that
function. With the Normal likelihood and a sparsity prior NUTS samples
:class:`CollapsedTarget` instead: the coefficients and the intercept
integrated out in closed form, and drawn exactly from their Gaussian
conditional.

Coefficients are non-centred: ``w_j = k_j z_j`` with ``z_j ~ N(0, 1)`` and
``k_j`` the prior scale of coefficient j (:func:`coef_scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from scipy import sparse

__all__ = ["LIKELIHOODS", "PRIORS", "CollapsedTarget", "GLMModel", "PackedTarget"]

PRIORS = ("normal", "laplace", "horseshoe", "ard")
LIKELIHOODS = ("normal", "studentt", "heteroscedastic")

#: regularised horseshoe's slab: c^2 ~ InvGamma(SLAB_DF / 2, SLAB_DF / 2
#: SLAB_SCALE^2), in standardised coefficient units (sd of y per sd of x)
SLAB_SCALE = 2.0
SLAB_DF = 4.0
#: Student-t degrees of freedom: Gamma(2, 0.1) (Juarez and Steel 2010),
#: truncated to df > DF_MIN so that the predictive variance is finite
DF_SHAPE, DF_RATE, DF_MIN = 2.0, 0.1, 2.0
#: prior std of the log noise's slopes (per sd of each standardised column)
NOISE_COEF_STD = 1.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2_OVER_PI = math.log(2.0 / math.pi)


@dataclass
class Spec:
    """What fixes the model: the options and the constants of the data."""

    prior: str
    likelihood: str
    fit_intercept: bool
    d: int
    n: float  # sum of the weights
    noise_fixed: float | None  # standardised units
    a0: float
    b0: float  # standardised units
    #: prior="normal": the prior std of each standardised coefficient,
    #: the conjugate model's (in noise units) times its noise estimate
    prior_std: np.ndarray
    tau0: float  # horseshoe: global scale / noise

    def sites(self) -> list[tuple[str, int, str]]:
        """(name, size, support) of the latent sites, in packing order;
        supports: "real", "positive" or "df" (greater than DF_MIN)."""
        out = []
        if self.likelihood == "heteroscedastic":
            out += [("noise_intercept", 1, "real"), ("noise_coef", self.d, "real")]
        elif self.noise_fixed is None:
            out.append(("noise_std", 1, "positive"))
        if self.likelihood == "studentt":
            out.append(("df", 1, "df"))
        if self.prior in ("laplace", "horseshoe"):
            out.append(("global_scale", 1, "positive"))
        if self.prior != "normal":
            out.append(("local_scale", self.d, "positive"))
        if self.prior == "horseshoe":
            out.append(("slab_scale", 1, "positive"))
        out.append(("z", self.d, "real"))
        if self.fit_intercept:
            out.append(("intercept", 1, "real"))
        return out


#: the sites with one value per feature: vectors even when there is one
#: feature (a size-1 site of another name is a scalar)
VECTOR_SITES = frozenset({"noise_coef", "local_scale", "z"})


def _support(kind: str):
    if kind == "positive":
        return constraints.positive
    if kind == "df":
        return constraints.greater_than(DF_MIN)
    return constraints.real


def _t(a, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=float), dtype=torch.float64).to(device)


class Rows:
    """Standardised rows for the per-row likelihoods: ``eta(w) = Xs w``
    with Xs = (X - x_mean) / x_scale, never formed for a sparse X (the
    centring is applied to ``w`` instead)."""

    def __init__(self, X, y, weights, x_mean, x_scale, y_mean, y_scale, device):
        inv = 1.0 / x_scale
        if sparse.issparse(X):
            coo = sparse.coo_array(X @ sparse.diags_array(inv))
            index = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
            self.X = torch.sparse_coo_tensor(
                index, _t(coo.data, "cpu"), coo.shape, check_invariants=True
            ).to(device)
            self.offset = _t(x_mean * inv, device)
        else:
            self.X = _t((X - x_mean) * inv, device)
            self.offset = None
        self.y = _t((y - y_mean) / y_scale, device)
        self.w = _t(weights, device)

    def eta(self, coef: torch.Tensor) -> torch.Tensor:
        """Xs @ coef for coef of shape (*B, d): shape (*B, n)."""
        flat = coef.reshape(-1, coef.shape[-1])
        if self.offset is None:
            out = flat @ self.X.T
        else:
            out = torch.sparse.mm(self.X, flat.T).T - (flat @ self.offset)[:, None]
        return out.reshape(*coef.shape[:-1], out.shape[-1])


def coef_scale(spec: Spec, v: dict, s_ref: torch.Tensor) -> torch.Tensor:
    """Prior scale k_j of each standardised coefficient, shape (*B, d)."""
    s = s_ref.unsqueeze(-1)
    if spec.prior == "normal":  # fixed: see Spec.prior_std
        k = torch.as_tensor(spec.prior_std, dtype=s.dtype, device=s.device)
        return k.expand(s.shape[:-1] + k.shape)
    lam = v["local_scale"]
    if spec.prior == "ard":
        return s * lam
    tau = s * v["global_scale"].unsqueeze(-1)
    if spec.prior == "laplace":
        return tau * lam
    # Regularised horseshoe (Piironen and Vehtari 2017, eq. 2.8):
    # lt^2 = c^2 l^2 / (c^2 + tau^2 l^2), tau = tau0 s tau_u.
    tau = spec.tau0 * tau
    c2 = (v["slab_scale"] ** 2).unsqueeze(-1)
    tl2 = (tau * lam) ** 2
    return torch.sqrt(c2 * tl2 / (c2 + tl2))


def noise_ref(spec: Spec, v: dict) -> torch.Tensor:
    """The noise std the coefficients' priors are measured in (*B,)."""
    if spec.likelihood == "heteroscedastic":
        return torch.exp(v["noise_intercept"])
    if spec.noise_fixed is None:
        return v["noise_std"]
    like = next(v[k] for k in ("z", "coef_s", "local_scale") if k in v)
    return torch.full_like(like[..., 0], spec.noise_fixed)


def log_prior_scales(spec: Spec, v: dict) -> torch.Tensor:
    """Log density of the noise, df and scale sites (constrained values)."""
    lp = 0.0
    if spec.likelihood == "heteroscedastic":
        g0 = v["noise_intercept"]
        # s0 = exp(g0) ~ the noise prior, times the Jacobian s0
        lp = lp - 2.0 * spec.a0 * g0 - spec.b0 * torch.exp(-2.0 * g0)
        g = v["noise_coef"] / NOISE_COEF_STD
        lp = lp - 0.5 * (g * g).sum(-1)
    elif spec.noise_fixed is None:
        s = v["noise_std"]
        lp = lp - (2.0 * spec.a0 + 1.0) * torch.log(s) - spec.b0 / s**2
    if spec.likelihood == "studentt":
        df = v["df"]
        lp = lp + (DF_SHAPE - 1.0) * torch.log(df) - DF_RATE * df
    if spec.prior in ("laplace", "horseshoe"):
        lp = lp - torch.log1p(v["global_scale"] ** 2)  # half-Cauchy(0, 1)
    if spec.prior in ("horseshoe", "ard"):
        lp = lp - torch.log1p(v["local_scale"] ** 2).sum(-1)
    elif spec.prior == "laplace":
        # Laplace(0, b) = N(0, b^2 l^2), l ~ Rayleigh(1) (l^2 ~ Exp(1/2))
        lam = v["local_scale"]
        lp = lp + (torch.log(lam) - 0.5 * lam * lam).sum(-1)
    if spec.prior == "horseshoe":
        c = v["slab_scale"]
        beta = 0.5 * SLAB_DF * SLAB_SCALE**2
        lp = lp - (SLAB_DF + 1.0) * torch.log(c) - beta / c**2
    return lp


def log_likelihood(spec: Spec, data, v: dict, coef, b) -> torch.Tensor:
    """Log likelihood of the standardised data (weighted rows, or the
    sufficient statistics for the Normal likelihood)."""
    if spec.likelihood == "normal":
        n, yty, xty, xtx = data
        s = noise_ref(spec, v)
        rss = yty - 2.0 * (coef * xty).sum(-1) + (coef * (coef @ xtx)).sum(-1)
        if b is not None:
            rss = rss + n * b * b  # centred statistics: the intercept decouples
        return -n * (torch.log(s) + _HALF_LOG_2PI) - 0.5 * rss / s**2
    rows = data
    mean = rows.eta(coef)
    if b is not None:
        mean = mean + b.unsqueeze(-1)
    r = rows.y - mean
    if spec.likelihood == "heteroscedastic":
        log_sd = v["noise_intercept"].unsqueeze(-1) + rows.eta(v["noise_coef"])
        ll = -log_sd - _HALF_LOG_2PI - 0.5 * (r * torch.exp(-log_sd)) ** 2
    else:  # Student-t
        s, df = noise_ref(spec, v).unsqueeze(-1), v["df"].unsqueeze(-1)
        ll = (
            torch.lgamma(0.5 * (df + 1.0))
            - torch.lgamma(0.5 * df)
            - 0.5 * torch.log(df * math.pi)
            - torch.log(s)
            - 0.5 * (df + 1.0) * torch.log1p((r / s) ** 2 / df)
        )
    return (ll * rows.w).sum(-1)


def log_joint(spec: Spec, data, v: dict) -> torch.Tensor:
    """Log joint density at constrained site values ``v`` (any batch shape)."""
    z = v["z"]
    coef = coef_scale(spec, v, noise_ref(spec, v)) * z
    lp = log_prior_scales(spec, v) - 0.5 * (z * z).sum(-1)
    return lp + log_likelihood(spec, data, v, coef, v.get("intercept"))


def constrain(spec: Spec, u: dict, layout=None) -> tuple[dict, torch.Tensor]:
    """Constrained values of unconstrained ``u`` and the log-Jacobian (of
    the sites of ``layout``, by default all of the model's)."""
    v, log_jac = {}, 0.0
    for name, _, kind in spec.sites() if layout is None else layout:
        x = u[name]
        if kind == "real":
            v[name] = x
            continue
        v[name] = torch.exp(x) + (DF_MIN if kind == "df" else 0.0)
        log_jac = log_jac + (x.sum(-1) if name in VECTOR_SITES else x)
    return v, log_jac


class GLMModel:
    """The Pyro model (for the autoguide and ``Trace_ELBO``) and its torch
    log density (for the engine's step), both from :func:`log_joint`.

    Called as ``model(*data, idx)``; every site is flat in the model and
    its prior enters through one factor, so the two agree by construction.
    """

    def __init__(self, spec: Spec, data):
        self.spec, self.data = spec, data

    def __call__(self, *args):
        ref = self.data.y if isinstance(self.data, Rows) else self.data[1]
        v = {}
        for name, size, kind in self.spec.sites():
            shape = (size,) if name in VECTOR_SITES else ()
            base = dist.ImproperUniform(_support(kind), (), shape)
            v[name] = pyro.sample(name, base)
        v = {k: x.to(ref.dtype) for k, x in v.items()}
        pyro.factor("joint", log_joint(self.spec, self.data, v))

    def log_density(self, *args):
        def log_p(latent: dict, idx) -> torch.Tensor:
            v, log_jac = constrain(self.spec, latent)
            return log_joint(self.spec, self.data, v) + log_jac

        return log_p


class PackedTarget:
    """NUTS on the model's own coordinates: one packed unconstrained vector,
    the potential ``-log_joint - log-Jacobian`` differentiated by autograd,
    with the mass matrix adapted (the scales differ by coordinate)."""

    def __init__(self, spec: Spec, data, device, target_accept: float):
        self.spec, self.data, self.device = spec, data, device
        self.layout = spec.sites()
        self.options = {
            "full_mass": False,
            "dtype": torch.float64,
            "adapt_mass_matrix": True,
            "target_accept_prob": target_accept,
        }

    def unpack(self, theta: torch.Tensor) -> dict:
        out, pos = {}, 0
        for name, size, _ in self.layout:
            part = theta[..., pos : pos + size]
            out[name] = part if name in VECTOR_SITES else part[..., 0]
            pos += size
        return out

    def potential(self, params: dict) -> torch.Tensor:
        v, log_jac = constrain(self.spec, self.unpack(params["theta"]), self.layout)
        return -(log_joint(self.spec, self.data, v) + log_jac)

    def initial_params(self) -> dict:
        size = sum(s for _, s, _ in self.layout)
        u = torch.rand(size, dtype=torch.float64, device=self.device)
        return {"theta": 4.0 * u - 2.0}

    def to_model_sites(self, draws: dict) -> dict:
        return constrain(self.spec, self.unpack(draws["theta"]), self.layout)[0]


class CollapsedTarget(PackedTarget):
    """NUTS for the Normal likelihood: the coefficients and the intercept
    integrated out.

    Given the scales, with K = diag(k^2) (:func:`coef_scale`) and the
    standardised, centred statistics (n, y'y, X'y, X'X),

        y | K, s ~ N(0, s^2 I + X K X'),   B = I + K^1/2 X'X K^1/2 / s^2,
        log p(y | K, s) = -n log s - log|B| / 2 - (y'y / s^2 - |r|^2) / 2,
        r = L^-1 K^1/2 X'y / s^2  (L L' = B),

    plus ``log s`` for the flat intercept (its posterior is N(0, s^2 / n)).
    The sampler sees only the noise and the scales: the same posterior,
    without the funnel between each scale and its coefficient. Each draw
    then gets its coefficients from their exact conditional,
    ``w = K^1/2 B^-1 (K^1/2 X'y / s^2 + L^-T e)``, e ~ N(0, I), drawn from
    the fit's isolated generator.
    """

    def __init__(self, spec: Spec, data, device, target_accept: float):
        super().__init__(spec, data, device, target_accept)
        self.layout = [s for s in spec.sites() if s[0] not in ("z", "intercept")]
        self.eye = torch.eye(spec.d, dtype=torch.float64, device=device)
        n, yty, g, G = data
        self._np = (
            float(n),
            float(yty),
            g.detach().cpu().numpy().astype(float),
            np.ascontiguousarray(G.detach().cpu().numpy(), dtype=float),
        )
        self._G_t = torch.from_numpy(self._np[3])
        self._buf_t = torch.empty_like(self._G_t)
        self._diag_G = np.diag(self._np[3]).copy()
        self._eye_cpu = torch.eye(spec.d, dtype=torch.float64)
        #: the NumPy sampler of run_nuts (:mod:`._hmc`): U and its gradient
        #: from :meth:`value_and_grad`, with no torch graph per step
        self.options = dict(self.options, value_and_grad=self.value_and_grad)

    def _factor(self, v: dict):
        _, _, xty, xtx = self.data
        s = noise_ref(self.spec, v)
        k = coef_scale(self.spec, v, s)  # (*B, d)
        inv_var = 1.0 / (s * s)
        kk = k.unsqueeze(-1) * k.unsqueeze(-2) * inv_var[..., None, None]
        B = self.eye + kk * xtx
        L = torch.linalg.cholesky(B)
        rhs = (k * xty * inv_var.unsqueeze(-1)).unsqueeze(-1)
        r = torch.linalg.solve_triangular(L, rhs, upper=False)
        return s, k, L, r

    def potential(self, params: dict) -> torch.Tensor:
        return _FusedPotential.apply(params["theta"], self)

    def reference_potential(self, params: dict) -> torch.Tensor:
        """The potential by autograd over :func:`log_prior_scales`, the
        Jacobians and :meth:`log_marginal`: what :meth:`fused` computes
        in one pass (the tests hold the two together)."""
        v, log_jac = constrain(self.spec, self.unpack(params["theta"]), self.layout)
        s = noise_ref(self.spec, v)
        rho = coef_scale(self.spec, v, s) / s
        lm = _MarginalLikelihood.apply(rho, s, self)
        return -(log_prior_scales(self.spec, v) + lm + log_jac)

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """:meth:`fused`, where a failure (an overflow, B not positive
        definite at a huge step) is an infinite potential with a zero
        gradient: NUTS rejects the step (a divergence), as Pyro does for a
        singular Cholesky in its own potentials."""
        try:
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                U, grad = self.fused(theta)
        except (np.linalg.LinAlgError, OverflowError, ZeroDivisionError, ValueError):
            return math.inf, np.zeros_like(theta)
        if not (math.isfinite(U) and np.all(np.isfinite(grad))):
            return math.inf, np.zeros_like(theta)
        return U, grad

    def fused(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """U(theta) and its gradient in NumPy and LAPACK, one pass.

        With a_j = T l_j (T = tau0 s t for the horseshoe, t for Laplace, 1
        for ARD) and rho = k / s, the chain rule runs through
        d k_j / d log a_j = a_j c^3 / (c^2 + a_j^2)^(3/2) (horseshoe; k_j
        itself otherwise) and d k_j / d log c = c a_j^3 / (c^2 + a_j^2)^(3/2);
        each prior's log density in its log coordinate has the derivative
        written beside it.
        """
        spec, (n, yty, g, G) = self.spec, self._np
        pos, grad = 0, np.zeros_like(theta)
        learned = spec.noise_fixed is None
        log_s = theta[0] if learned else math.log(spec.noise_fixed)
        s = float(np.exp(log_s))
        pos = int(learned)
        U = 0.0
        if learned:  # noise prior + Jacobian: -(2 a0 + 1) log s - b0 / s^2 + log s
            U -= -2.0 * spec.a0 * log_s - spec.b0 / s**2
            grad[0] -= -2.0 * spec.a0 + 2.0 * spec.b0 / s**2
        t = 1.0
        if spec.prior in ("laplace", "horseshoe"):
            log_t = theta[pos]
            t = float(np.exp(log_t))
            U -= log_t - math.log1p(t * t)  # half-Cauchy + Jacobian
            grad[pos] -= 1.0 - 2.0 * t * t / (1.0 + t * t)
            i_t, pos = pos, pos + 1
        d = spec.d
        i_l = slice(pos, pos + d)
        log_l = theta[i_l]
        lam = np.exp(log_l)
        pos += d
        if spec.prior == "laplace":  # Rayleigh + Jacobian: 2 log l - l^2 / 2
            U -= float(np.sum(2.0 * log_l - 0.5 * lam * lam))
            grad[i_l] -= 2.0 - lam * lam
        else:  # half-Cauchy + Jacobian
            U -= float(np.sum(log_l - np.log1p(lam * lam)))
            grad[i_l] -= 1.0 - 2.0 * lam * lam / (1.0 + lam * lam)
        if spec.prior == "horseshoe":
            log_c = theta[pos]
            c = float(np.exp(log_c))
            beta = 0.5 * SLAB_DF * SLAB_SCALE**2
            U -= -SLAB_DF * log_c - beta / c**2
            grad[pos] -= -SLAB_DF + 2.0 * beta / c**2
            a = spec.tau0 * s * t * lam
            den = (c * c + a * a) ** 1.5
            k = c * a / np.sqrt(c * c + a * a)
            dk_dloga = a * c**3 / den
            dk_dlogc = c * a**3 / den
        else:
            k = s * t * lam
            dk_dloga = k
            dk_dlogc = None
        rho = k / s
        lm, d_rho, d_s = self.log_marginal_np(rho, s, n, yty, g, G)
        U -= lm
        # rho_j = k_j / s: d rho / d log a = dk/dloga / s
        d_loga = -d_rho * dk_dloga / s
        grad[i_l] += d_loga
        if spec.prior in ("laplace", "horseshoe"):
            grad[i_t] += d_loga.sum()
        if spec.prior == "horseshoe":
            grad[pos] += float(-d_rho @ dk_dlogc) / s
        if learned:
            # s enters through rho (k / s, with a prop. to s for the
            # horseshoe; rho free of s otherwise) and directly.
            d_rho_dlogs = dk_dloga / s - rho if spec.prior == "horseshoe" else 0.0
            grad[0] -= float(np.sum(d_rho * d_rho_dlogs)) + d_s * s
        return U, grad

    def log_marginal_np(self, rho, s, n, yty, g, G):
        """:meth:`log_marginal` in NumPy, B and its two p^3 steps (the
        Cholesky factor L of B and L^-1) in torch (MKL: 1.7x the speed of
        SciPy's OpenBLAS dpotrf and dtrtri on these 150 x 150 factors),
        the arrays shared without copies."""
        r = torch.from_numpy(rho)
        B = torch.mul(self._G_t, r[:, None], out=self._buf_t)
        B.mul_(r).diagonal().add_(1.0)  # B = I + R G R
        L, info = torch.linalg.cholesky_ex(B)
        if info:
            raise np.linalg.LinAlgError("B is not positive definite")
        # L^-1 by a triangular solve against I (MKL's trsm beats dtrtri)
        Li = torch.linalg.solve_triangular(L, self._eye_cpu, upper=False).numpy()
        log_det = 2.0 * float(np.sum(np.log(L.numpy().diagonal())))
        u = rho * g
        m = Li.T @ (Li @ u)
        q = float(u @ m)
        n_eff = n - 1.0 if self.spec.fit_intercept else n
        lm = -n_eff * math.log(s) - 0.5 * log_det - 0.5 * (yty - q) / s**2
        # (M R G)_jj = (1 - M_jj) / rho_j, as R G R = B - I; diag M from
        # L^-1 (no inverse of B), and without cancellation in the gradient
        # with respect to log rho (an error of eps, not eps / rho).
        diag_m = np.einsum("ij,ij->j", Li, Li)
        if np.all(rho > 0):
            half_dlogdet = (1.0 - diag_m) / rho
        else:
            safe = np.where(rho > 0, rho, 1.0)
            half_dlogdet = np.where(rho > 0, (1.0 - diag_m) / safe, rho * self._diag_G)
        d_rho = m * (g - G @ (rho * m)) / s**2 - half_dlogdet
        d_s = -n_eff / s + (yty - q) / s**3
        return lm, d_rho, d_s

    def log_marginal(self, rho: torch.Tensor, s: torch.Tensor):
        """log p(y | rho, s) with rho = k / s, and its gradient (both
        arguments), in closed form (see the class docstring):

            d/d rho_j = -(M R G)_jj + m_j (g_j - (G R m)_j) / s^2,
            d/d s     = -n_eff / s + (y'y - q) / s^3,

        with G = X'X, g = X'y, R = diag(rho), M = B^-1, m = M R g and
        q = (R g)' m (the derivatives of log|B| and of the quadratic form).
        """
        n, yty, g, G = self.data
        B = self.eye + rho[:, None] * G * rho[None, :]
        L = torch.linalg.cholesky(B)
        u = (rho * g)[:, None]
        m = torch.cholesky_solve(u, L)[:, 0]
        M = torch.cholesky_inverse(L)
        q = torch.dot(rho * g, m)
        n_eff = n - 1.0 if self.spec.fit_intercept else n
        log_s = torch.log(s)
        lm = (
            -n_eff * log_s - torch.log(torch.diagonal(L)).sum() - 0.5 * (yty - q) / s**2
        )
        d_rho = -(M * G * rho[None, :]).sum(1) + m * (g - G @ (rho * m)) / s**2
        d_s = -n_eff / s + (yty - q) / s**3
        return lm, d_rho, d_s

    def to_model_sites(self, draws: dict) -> dict:
        v = constrain(self.spec, self.unpack(draws["theta"]), self.layout)[0]
        parts = []
        S = draws["theta"].shape[0]
        for chunk in torch.split(torch.arange(S, device=self.device), 128):
            vc = {k: x[chunk] for k, x in v.items()}
            s, k, L, r = self._factor(vc)
            e = torch.randn_like(r)
            a = r + e
            x = torch.linalg.solve_triangular(L.transpose(-2, -1), a, upper=True)
            coef = k * x[..., 0]
            out = {"coef_s": coef}
            if self.spec.fit_intercept:
                nb = torch.randn_like(s)
                out["intercept"] = s * nb / math.sqrt(self.data[0])
            parts.append(out)
        for key in parts[0]:
            v[key] = torch.cat([p[key] for p in parts])
        return v


class _MarginalLikelihood(torch.autograd.Function):
    """:meth:`CollapsedTarget.log_marginal` as one autograd node: its
    gradient in closed form (one Cholesky and one inverse), where autograd
    would walk the Cholesky's backward graph at every leapfrog step."""

    @staticmethod
    def forward(ctx, rho, s, target):
        lm, d_rho, d_s = target.log_marginal(rho, s)
        ctx.save_for_backward(d_rho, d_s)
        return lm

    @staticmethod
    def backward(ctx, grad_output):
        d_rho, d_s = ctx.saved_tensors
        return grad_output * d_rho, grad_output * d_s, None


class _FusedPotential(torch.autograd.Function):
    """U(theta) of :class:`CollapsedTarget` and its gradient, one node:
    NumPy and LAPACK on the CPU (a few dozen small array operations per
    leapfrog step, where torch would add a dispatch and a graph node each)."""

    @staticmethod
    def forward(ctx, theta, target):
        U, grad = target.value_and_grad(theta.detach().cpu().numpy().astype(float))
        ctx.save_for_backward(torch.as_tensor(grad).to(theta))
        return theta.new_tensor(U)

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output * grad, None
