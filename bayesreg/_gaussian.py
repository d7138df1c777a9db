"""Gaussian linear posteriors in one eigenbasis: the primal and the dual form.

Pure NumPy/SciPy, arrays in and out. The tests hold it to the textbook
Cholesky forms (tests/_cholesky_reference.py) and to dense references.

Whitened coordinates u = D^-1 (w - m0) (D = diag(prior std)) make the Gram
matrix of the centred, weighted rows A = W^1/2 Xc D

    G = A^T A = Q diag(ev) Q^T,    z = Q^T A^T W^1/2 (yc - Xc m0),

and everything below (the evidence as a function of the prior scale, the
posterior mean, predictive variances and draws) is written once in terms of
``(ev, Q, z)``. The two forms differ only in how the spectrum is obtained:

- primal (``n >= p``): ``eigh`` of the p x p matrix D xtx D from the
  sufficient statistics; Q is p x p, complete.
- dual (``p > n``, the kernel form): ``eigh`` of the n x n matrix
  K = A A^T = U diag(ev) U^T, which has the same non-zero spectrum; then
  Q = A^T U diag(ev)^-1/2 (p x r, r <= n, never formed: products with Q
  are products with the training rows) and z = ev^1/2 U^T W^1/2 (yc - Xc m0).
  K is centred algebraically, K - 1 q^T - q 1^T + (m^T D^2 m) 1 1^T with
  q = X D^2 m, so X is never centred nor densified.

The bases and their products with new rows are in :mod:`bayesreg._bases`.

For each of k targets the posterior of u is Gaussian with covariance
kappa [I - Q diag(lam / (1 + lam)) Q^T], lam = rho ev, and mean
Q diag(rho / (1 + lam)) z: rho = t / s^2 (prior variance over noise
variance) and kappa = t (known noise) or t b_N / a_N (unknown noise, a
Student-t marginal). On the complement of Q the posterior is the prior.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg, sparse
from scipy.special import gammaln

from . import _gram
from ._bases import DualBasis, PrimalBasis, row_blocks

#: the search range of log t, t = c^2 the prior variance factor
_LOG_T_RANGE = (-30.0, 30.0)


def _nig_normaliser(shape: float, scale: float) -> float:
    """log of b0^a0 / Gamma(a0), the normaliser of InvGamma(a0, b0).

    An improper prior (``a0 = 0`` or ``b0 = 0``, e.g. Jeffreys' p(s^2) ~ 1/s^2)
    has none: its evidence is defined up to a constant that is the same for
    every model of the same ``y``, and the kernel is used as it is.
    """
    if shape > 0 and scale > 0:
        return float(shape * np.log(scale) - gammaln(shape))
    return 0.0


# ---------------------------------------------------------------------------
# The spectrum
# ---------------------------------------------------------------------------


class Spectrum(NamedTuple):
    """The whitened problem in its eigenbasis, for k targets.

    ``ev`` (r,) eigenvalues of G (zero for its null space in the primal);
    ``basis`` a :class:`PrimalBasis` or :class:`DualBasis`; ``z`` (r, k);
    ``rss0`` (k,) residual sum of squares of the prior mean and
    ``rss_perp`` (k,) its part outside the range of A (what no coefficients
    can fit: exact in the dual, by subtraction from the statistics in the
    primal); ``floor`` (k,) the smallest b_N kept (1e-10 var(y) / 2); ``n``,
    ``n_eff`` (n - 1 with an intercept); ``x_mean`` (p,), ``y_mean`` (k,),
    ``centered``; the prior mean m0 and std D (p,).
    """

    ev: np.ndarray
    basis: PrimalBasis | DualBasis
    z: np.ndarray
    rss0: np.ndarray
    rss_perp: np.ndarray
    floor: np.ndarray
    n: float
    n_eff: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    centered: bool
    prior_mean: np.ndarray
    prior_std: np.ndarray

    @property
    def form(self) -> str:
        return "primal" if self.basis.complete else "dual"

    @property
    def zz(self) -> np.ndarray:
        """z_i^2 / ev_i (0 where ev_i = 0): the squared residual of the prior
        mean along each eigenvector, so that the residual at any shrinkage
        is a sum of positive terms (no cancellation near interpolation)."""
        ev = self.ev[:, None]
        return np.where(ev > 0, self.z**2 / np.where(ev > 0, ev, 1.0), 0.0)


def primal_spectrum(
    stats: _gram.GramStats, prior_mean: np.ndarray, prior_std: np.ndarray
) -> Spectrum:
    """The spectrum of D xtx D from the sufficient statistics (O(p^3)).

    Eigenvalues within rounding of the largest (p eps ev_max) are set to zero
    and so are their entries of z: the right-hand side lies in the range of
    G, the rest is rounding.
    """
    xty = stats.xty.reshape(stats.xty.shape[0], -1)
    yty = np.atleast_1d(np.asarray(stats.yty, dtype=float))
    xtx_m0 = stats.xtx @ prior_mean
    gram = prior_std[:, None] * stats.xtx * prior_std[None, :]
    rhs = prior_std[:, None] * (xty - xtx_m0[:, None])
    rss0 = yty - 2.0 * prior_mean @ xty + prior_mean @ xtx_m0
    # Speed only: the statistics are finite (checked at intake).
    ev, Q = linalg.eigh(gram, check_finite=False)  # pragma: no mutate
    null = ev <= ev.shape[0] * np.finfo(float).eps * max(ev.max(initial=0.0), 0.0)
    ev[null] = 0.0
    z = Q.T @ rhs
    z[null] = 0.0
    y_mean = np.atleast_1d(np.asarray(stats.y_mean, dtype=float))
    rss0 = np.maximum(rss0, 0.0)
    zz = np.where(ev[:, None] > 0, z**2 / np.where(ev > 0, ev, 1.0)[:, None], 0.0)
    rss_perp = np.maximum(rss0 - zz.sum(axis=0), 0.0)
    return Spectrum(
        ev, PrimalBasis(Q), z, rss0, rss_perp, _gram.scale_floor(yty, stats.n, y_mean),
        stats.n, stats.n - 1.0 if stats.centered else stats.n, stats.x_mean,
        y_mean, stats.centered, prior_mean, prior_std,
    )  # fmt: skip


def dual_spectrum(
    X,
    Y: np.ndarray,
    sample_weight: np.ndarray | None,
    prior_mean: np.ndarray,
    prior_std: np.ndarray,
    *,
    center: bool,
    moments: tuple | None = None,
) -> Spectrum:
    """The spectrum from the n x n kernel matrix (O(n^2 p + n^3)).

    ``X`` (n, p) dense or sparse (kept by reference in the basis: the
    fitted model stores O(n p), or O(nnz)); ``Y`` (n, k). ``moments`` is
    :func:`bayesreg._gram.column_moments` of X when already computed.
    Eigenvalues of K below n eps times the largest are dropped (r <= n).
    """
    # Speed only: CSR rows for the products below (any format, same values).
    if sparse.issparse(X):  # pragma: no mutate
        X = X.tocsr()
    w = sample_weight
    if moments is None:  # the means alone: the sums of squares go unused here
        n = float(X.shape[0]) if w is None else float(w.sum())
        x_mean = _gram._column_sums(X, w) / n if center else np.zeros(X.shape[1])
    else:
        n, x_mean, _ = moments
    if w is None:
        y_mean = Y.sum(axis=0) / n if center else np.zeros(Y.shape[1])
    else:
        y_mean = w @ Y / n if center else np.zeros(Y.shape[1])
    sqrt_w = None if w is None else np.sqrt(w)
    d2 = prior_std**2
    d2m = d2 * x_mean
    # The residual of the prior mean, yc - Xc m0, weighted.
    if np.any(prior_mean):
        prior_fit = np.asarray(X @ prior_mean).ravel() - x_mean @ prior_mean
    else:
        prior_fit = np.zeros(X.shape[0])
    resid = Y - y_mean - prior_fit[:, None]
    if sqrt_w is not None:
        resid = resid * sqrt_w[:, None]
    # K = (X D)(X D)^T: a product of an array with its own transpose, which
    # NumPy computes by SYRK (half the flops of a general product).
    if sparse.issparse(X):
        XD = X @ sparse.diags(prior_std)
    elif np.all(prior_std == 1.0):  # RidgeMAP: a copy, not a product
        XD = X.copy(order="K")
    else:
        XD = X * prior_std
    K = XD @ XD.T
    K = K.toarray() if sparse.issparse(K) else np.asarray(K)
    q = None
    if center:  # (without, m = 0: nothing to centre)
        q = np.asarray(X @ d2m).ravel()
        K -= q[:, None] + q[None, :] - float(x_mean @ d2m)
    if sqrt_w is not None:
        K *= np.outer(sqrt_w, sqrt_w)
    # Speed and memory only: K is a finite local temporary.
    ev, U = linalg.eigh(K, overwrite_a=True, check_finite=False)  # pragma: no mutate
    keep = ev > ev.shape[0] * np.finfo(float).eps * max(ev.max(initial=0.0), 0.0)
    ev, U = ev[keep], np.ascontiguousarray(U[:, keep])
    s = np.sqrt(ev)
    proj = U.T @ resid
    z = s[:, None] * proj
    perp = resid - U @ proj
    Yc = Y - y_mean
    yty = np.sum(Yc * Yc if w is None else w[:, None] * Yc * Yc, axis=0)
    return Spectrum(
        ev, DualBasis(XD, sqrt_w, U, s, x_mean, prior_std, q), z,
        np.sum(resid * resid, axis=0), np.sum(perp * perp, axis=0),
        _gram.scale_floor(yty, n, y_mean), n,
        n - 1.0 if center else n, x_mean, y_mean, center, prior_mean, prior_std,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Evidence searches, one target at a time: O(r) per evaluation
# ---------------------------------------------------------------------------


class ScaleChoice(NamedTuple):
    """t = c^2 (the prior variance factor) for each target, with the log
    evidence there, the evaluations used and whether it lies at a bound."""

    t: np.ndarray
    log_evidence: np.ndarray
    n_iter: int
    at_bound: np.ndarray


def _evidence_parts(ev, z2, zz, rss_perp, n_eff, floor, noise_var, a0, b0):
    """f(log t) and f'(log t) of the Cholesky reference's ``evidence_prior_scale``
    (up to terms free of t), vectorised over log t. The residual
    R(t) = rss0 - sum t z^2 / (1 + t l) is summed as
    rss_perp + sum (z^2 / l) / (1 + t l), without cancellation.
    ``parts(log_t, slope_only=True)`` returns (None, f'): what the root
    search evaluates, dozens of times a fit."""
    a_n = a0 + 0.5 * n_eff
    if noise_var is not None:
        ev = ev / noise_var
        z2 = z2 / noise_var

    def parts(log_t, slope_only=False):
        t = np.exp(np.asarray(log_t, dtype=float))[..., None]
        q = 1.0 + t * ev
        tq = t / q
        if noise_var is None or not slope_only:
            rss = rss_perp + (zz / q).sum(axis=-1)
        if noise_var is None:
            b = np.maximum(b0 + 0.5 * rss, floor)
            k = a_n / b
        else:
            k = 1.0 / noise_var
        g = -0.5 * (tq * ev).sum(axis=-1) + 0.5 * k * (z2 * tq / q).sum(axis=-1)
        if slope_only:
            return None, g
        fit = -a_n * np.log(b) if noise_var is None else -0.5 * rss / noise_var
        return -0.5 * np.log(q).sum(axis=-1) + fit, g

    return parts


def _maximise_one(parts) -> tuple[float, int, bool]:
    """Grid scan of f over log t, then Brent's method on f' (see
    the Cholesky reference's ``evidence_prior_scale``)."""
    from scipy.optimize import brentq

    grid = np.linspace(*_LOG_T_RANGE, 121)
    f, g = parts(grid)
    best = int(np.argmax(f))
    n_iter = grid.size
    if best in (0, grid.size - 1):
        return float(grid[best]), n_iter, True
    lo, hi = grid[best - 1], grid[best + 1]
    if g[best] < 0:
        hi = grid[best]
    else:
        lo = grid[best]
    if np.sign(parts(lo, True)[1]) == np.sign(parts(hi, True)[1]):
        return float(grid[best]), n_iter, False
    log_t, info = brentq(
        lambda s: float(parts(s, True)[1]), lo, hi, xtol=1e-14,
        rtol=4 * np.finfo(float).eps, full_output=True,
    )  # fmt: skip
    return float(log_t), n_iter + info.function_calls, False


def evidence_scale(
    spec: Spectrum,
    *,
    noise_var: np.ndarray | None = None,
    shape: float = 0.0,
    scale: np.ndarray | float = 0.0,
) -> ScaleChoice:
    """For each target, the t = c^2 maximising the evidence of the prior
    w ~ N(m0, t D^2) (times s^2 for unknown noise, s^2 ~ InvGamma(``shape``,
    ``scale``)); ``noise_var`` (k,) for known noise. Equal, target by
    target, to the Cholesky reference's ``evidence_prior_scale``."""
    k = spec.z.shape[1]
    scale = np.broadcast_to(np.asarray(scale, dtype=float), (k,))
    t, f, bound, n_iter = np.ones(k), np.zeros(k), np.zeros(k, bool), 0
    zz = spec.zz
    for j in range(k):
        nv = None if noise_var is None else float(noise_var[j])
        parts = _evidence_parts(
            spec.ev, spec.z[:, j] ** 2, zz[:, j], spec.rss_perp[j], spec.n_eff,
            spec.floor[j], nv, shape, scale[j],
        )  # fmt: skip
        if not np.any(spec.ev > 0):
            log_t, it, at = 0.0, 0, False
        else:
            log_t, it, at = _maximise_one(parts)
        t[j], f[j], bound[j] = np.exp(log_t), parts(log_t)[0], at
        n_iter = max(n_iter, it)
    return ScaleChoice(t, f, n_iter, bound)


class FixedPoint(NamedTuple):
    """MacKay's fixed point for each target: t = 1 / alpha (prior variance
    factor of D^2), noise_var = 1 / beta."""

    t: np.ndarray
    noise_var: np.ndarray
    n_iter: int
    converged: bool


def maximize_evidence(
    spec: Spectrum,
    *,
    noise_var_init: float | None = None,
    alpha_init: np.ndarray | None = None,
    max_iter: int = 300,
    tol: float = 1e-10,
) -> FixedPoint:
    """MacKay's fixed point (the Cholesky reference's ``maximize_evidence``),
    target by target, on the spectrum (O(r) per iteration in either form),
    starting at prior precision ``alpha_init`` (k,) (default 1)."""
    ev = spec.ev
    k = spec.z.shape[1]
    t, s2 = np.ones(k), np.ones(k)
    n_iter, converged = 0, True
    n_eff = max(spec.n_eff, 1.0)
    tiny = np.finfo(float).tiny
    zz_all = spec.zz
    for j in range(k):
        z, rss0, zz = spec.z[:, j], spec.rss0[j], zz_all[:, j]
        y_var = rss0 / n_eff
        beta_max = 1e10 / (y_var if y_var > 0 else 1.0)
        init = noise_var_init if noise_var_init is not None else y_var
        alpha = 1.0 if alpha_init is None else float(alpha_init[j])
        beta = 1.0 / (init if init > 0 else 1.0)
        done = False
        for it in range(1, max_iter + 1):
            n_iter = max(n_iter, it)
            denom = alpha + beta * ev
            v = beta * z / denom
            gamma = float(np.sum(beta * ev / denom))
            v2 = float(v @ v)
            # |y - A v|^2 = rss_perp + sum (z^2 / l) (alpha / (alpha + beta l))^2
            shrink = alpha / denom
            rss = max(float(spec.rss_perp[j] + np.sum(zz * shrink * shrink)), tiny)
            alpha_max = 1e10 * max(beta * ev.max(initial=0.0), 1.0)
            alpha_new = min(max(gamma, tiny) / max(v2, tiny), alpha_max)
            dof_left = max(n_eff - gamma, tiny)
            beta_new = beta_max if dof_left >= beta_max * rss else dof_left / rss
            change = max(abs(alpha_new - alpha) / alpha, abs(beta_new - beta) / beta)
            alpha, beta = alpha_new, beta_new
            if change < tol:
                done = True
                break
        converged &= done
        t[j], s2[j] = 1.0 / alpha, 1.0 / beta
    return FixedPoint(t, s2, n_iter, converged)


# ---------------------------------------------------------------------------
# The posterior
# ---------------------------------------------------------------------------


class SpectralPosterior(NamedTuple):
    """Posterior of k independent conjugate linear models sharing one X.

    ``spec`` the :class:`Spectrum`; per target (k,): ``rho`` (lam = rho ev),
    ``kappa`` (covariance scale of u), ``noise_var`` (s^2, or b_N / a_N),
    ``df`` (inf for known noise, 2 a_N), ``log_evidence``; ``coef`` (k, p).
    With an intercept, given w and s^2 it is y_mean - x_mean.w +
    N(0, s^2 / n).
    """

    spec: Spectrum
    rho: np.ndarray
    kappa: np.ndarray
    noise_var: np.ndarray
    df: np.ndarray
    log_evidence: np.ndarray
    coef: np.ndarray

    @property
    def intercept(self) -> np.ndarray:
        spec = self.spec
        if not spec.centered:
            return np.zeros(self.coef.shape[0])
        return spec.y_mean - self.coef @ spec.x_mean

    form = property(lambda self: self.spec.form)


def _coef(spec: Spectrum, rho: np.ndarray) -> np.ndarray:
    """m0 + D Q diag(rho / (1 + rho ev)) z for each target, (k, p)."""
    C = spec.z * (rho[None, :] / (1.0 + rho[None, :] * spec.ev[:, None]))
    return (spec.prior_mean[:, None] + spec.prior_std[:, None] * spec.basis.q(C)).T


def posterior(
    spec: Spectrum,
    t: np.ndarray,
    *,
    noise_var: np.ndarray | None = None,
    shape: float = 0.0,
    scale: np.ndarray | float = 0.0,
) -> SpectralPosterior:
    """Exact posterior and log evidence of each target at prior variance
    factor ``t`` (k,): known noise ``noise_var`` (k,) (Bishop 2006, eqs.
    3.50-3.51 and 3.86) or, with ``noise_var=None``, the Normal-Inverse-Gamma
    model with s^2 ~ InvGamma(``shape``, ``scale``) (Murphy 2012, eqs.
    7.70-7.73); the same formulas as the textbook ``gaussian_posterior``
    and ``nig_posterior`` (tests/_cholesky_reference.py) written in the eigenbasis:
    log|B| = sum log(1 + lam), r.u_N = sum rho z^2 / (1 + lam)."""
    k = spec.z.shape[1]
    t = np.asarray(t, dtype=float)
    scale = np.broadcast_to(np.asarray(scale, dtype=float), (k,))
    rho = t if noise_var is None else t / noise_var
    lam = rho[None, :] * spec.ev[:, None]
    logdet = np.sum(np.log1p(lam), axis=0)
    # rss0 - r.u_N = rss_perp + sum (z^2 / l) / (1 + lam): positive terms.
    rss = spec.rss_perp + np.sum(spec.zz / (1.0 + lam), axis=0)
    intercept_term = 0.5 * np.log(spec.n) if spec.centered else 0.0
    if noise_var is not None:
        s2 = np.asarray(noise_var, dtype=float)
        log_ev = (
            -0.5 * spec.n_eff * np.log(2.0 * np.pi * s2) - 0.5 * logdet
            - 0.5 * rss / s2 - intercept_term
        )  # fmt: skip
        kappa, df = t.copy(), np.full(k, np.inf)
    else:
        a_n = shape + 0.5 * spec.n_eff
        b_n = np.maximum(scale + 0.5 * rss, spec.floor)
        norm = np.array([_nig_normaliser(shape, b) for b in scale])
        log_ev = (
            -0.5 * spec.n_eff * np.log(2.0 * np.pi) - 0.5 * logdet + norm
            - a_n * np.log(b_n) + gammaln(a_n) - intercept_term
        )  # fmt: skip
        s2 = b_n / a_n
        kappa, df = t * s2, np.full(k, 2.0 * a_n)
    return SpectralPosterior(spec, rho, kappa, s2, df, log_ev, _coef(spec, rho))


def prior_posterior(
    prior_mean: np.ndarray, prior_std: np.ndarray, noise_var: float
) -> SpectralPosterior:
    """The prior N(m0, D^2) with known noise as a posterior without data
    (intercept zero), for prior draws: an empty primal spectrum."""
    p = prior_mean.shape[0]
    spec = Spectrum(
        np.zeros(p), PrimalBasis(np.eye(p)), np.zeros((p, 1)), np.zeros(1),
        np.zeros(1), np.ones(1), 0.0, 0.0, np.zeros(p), np.zeros(1), False,
        prior_mean.astype(float), prior_std.astype(float),
    )  # fmt: skip
    one = np.ones(1)
    return SpectralPosterior(
        spec, one, one, np.full(1, float(noise_var)), np.full(1, np.inf),
        np.full(1, np.nan), prior_mean.astype(float)[None, :],
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Predictive, covariance, draws
# ---------------------------------------------------------------------------


def predictive_moments(post: SpectralPosterior, X) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and variance of the regression function, (n, k) each.

    var_f(x) = kappa [|v_perp|^2 + sum_i (Q^T v)_i^2 / (1 + lam_i)]
    + [intercept] s^2 / n, with v = D (x - x_mean); |v_perp|^2 = |v|^2 -
    |Q^T v|^2 only in the dual (the primal basis is complete). ``X`` dense
    or sparse, in blocks of rows, each read from memory once for the mean
    and the projection (:mod:`bayesreg._bases`): extra memory
    O(block x (r + n_train)).
    """
    spec = post.spec
    n_samples = X.shape[0]
    k = post.coef.shape[0]
    if sparse.issparse(X):
        X = X.tocsr()
    mean = np.empty((n_samples, k))
    var = np.empty((n_samples, k))
    inv = 1.0 / (1.0 + post.rho[None, :] * spec.ev[:, None])  # (r, k)
    project = spec.basis.projector(spec.x_mean, spec.prior_std, post.coef.T, inv)
    for rows in row_blocks(n_samples, spec.basis.block_rows(X.shape[1])):
        mean[rows], var[rows] = project(X[rows])
    mean += post.intercept[None, :]
    var *= post.kappa[None, :]
    if spec.centered:
        var += (post.noise_var / spec.n)[None, :]
    return mean, var


def coef_covariance(post: SpectralPosterior, j: int = 0) -> np.ndarray:
    """Posterior covariance of target j's coefficients, (p, p): kappa D
    [I - Q diag(lam / (1 + lam)) Q^T] D, times df / (df - 2) for the
    Student-t marginal of unknown noise (infinite when df <= 2). In the
    dual Q is formed here (p x r), and the result is p x p."""
    spec = post.spec
    lam = post.rho[j] * spec.ev
    if spec.basis.complete:
        Q = spec.basis.Q
        inner = (Q / (1.0 + lam)[None, :]) @ Q.T
    else:
        Q = spec.basis.q(np.eye(lam.shape[0]))
        inner = np.eye(Q.shape[0]) - (Q * (lam / (1.0 + lam))[None, :]) @ Q.T
    D = spec.prior_std
    factor = post.kappa[j]
    df = post.df[j]
    if np.isfinite(df):
        factor *= df / (df - 2.0) if df > 2 else np.inf
    cov = D[:, None] * inner * D[None, :]
    return 0.5 * (cov + cov.T) * factor


class Draws(NamedTuple):
    """Joint draws: coefficients (S, k, p), intercepts and noise variances
    (S, k)."""

    coef: np.ndarray
    intercept: np.ndarray
    noise_var: np.ndarray


def sample_posterior(
    post: SpectralPosterior, n_samples: int, rng: np.random.Generator
) -> Draws:
    """Draw (w, b, s^2) jointly for each target (independent targets).

    u = u_N + sqrt(kappa rho_s) [Q diag((1 + lam)^-1/2) e1 + (I - Q Q^T) e2]
    with e1, e2 standard normal (e2 only in the dual, whose basis is not
    complete) and rho_s = s^2 / (b/a) for unknown noise.
    """
    spec = post.spec
    k, p = post.coef.shape
    r = spec.ev.shape[0]
    coef = np.empty((n_samples, k, p))
    intercept = np.zeros((n_samples, k))
    noise_var = np.empty((n_samples, k))
    for j in range(k):
        if np.isfinite(post.df[j]):
            a = 0.5 * post.df[j]
            ratio = a / rng.gamma(a, size=n_samples)
        else:
            ratio = np.ones(n_samples)
        e1 = rng.standard_normal((r, n_samples))
        lam = post.rho[j] * spec.ev
        dev = spec.basis.q(e1 / np.sqrt(1.0 + lam)[:, None])
        if not spec.basis.complete:
            e2 = rng.standard_normal((p, n_samples))
            dev += e2 - spec.basis.q(spec.basis.qt(e2))
        dev *= spec.prior_std[:, None] * np.sqrt(post.kappa[j] * ratio)[None, :]
        coef[:, j] = post.coef[j] + dev.T
        noise_var[:, j] = post.noise_var[j] * ratio
        if spec.centered:
            zb = rng.standard_normal(n_samples)
            intercept[:, j] = (
                spec.y_mean[j] - coef[:, j] @ spec.x_mean
                + np.sqrt(noise_var[:, j] / spec.n) * zb
            )  # fmt: skip
    return Draws(coef, intercept, noise_var)


# ---------------------------------------------------------------------------
# Ridge (the posterior mode) on the same spectrum
# ---------------------------------------------------------------------------


class RidgeFit(NamedTuple):
    """Ridge coefficients (k, p), their RSS (k,) from the spectrum and the
    trace of the hat matrix (without the intercept)."""

    coef: np.ndarray
    rss: np.ndarray
    dof: float


def ridge(spec: Spectrum, *alphas: float) -> list[RidgeFit]:
    """min |W^1/2 (yc - Xc w)|^2 + alpha |w|^2 on a spectrum with D = 1,
    m0 = 0, for each of ``alphas``: w = Q diag(1 / (ev + alpha)) z,
    minimum-norm for alpha = 0 (directions with ev + alpha below rounding of
    the largest dropped); RSS = rss_perp + sum (z^2 / ev) (alpha / (ev +
    alpha))^2 and dof = sum ev / (ev + alpha). In the dual the coefficients
    of every alpha come from one pass over the training rows."""
    ev = spec.ev
    k = spec.z.shape[1]
    Cs, parts = [], []
    for alpha in alphas:
        denom = ev + alpha
        keep = denom > (
            max(denom.max(initial=0.0), 1e-300) * max(ev.size, 1) * np.finfo(float).eps
        )
        inv = np.zeros_like(denom)
        inv[keep] = 1.0 / denom[keep]
        Cs.append(spec.z * inv[:, None])
        # |y - A u|^2 = rss_perp + sum (z^2 / l) (alpha / (l + alpha))^2 over
        # the directions kept (a dropped one keeps its whole residual).
        shrink = np.where(keep, alpha * inv, 1.0)[:, None]
        rss = spec.rss_perp + np.sum(spec.zz * shrink * shrink, axis=0)
        parts.append((rss, float(np.sum(ev * inv))))
    if spec.basis.complete:  # Q is at hand: one small product per alpha
        coefs = [spec.basis.q(C).T for C in Cs]
    else:  # one pass over the training rows for every alpha
        coef = spec.basis.q(np.concatenate(Cs, axis=1)).T
        coefs = [coef[i * k : (i + 1) * k] for i in range(len(Cs))]
    return [RidgeFit(c, rss, dof) for c, (rss, dof) in zip(coefs, parts, strict=True)]
