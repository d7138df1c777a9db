"""The textbook Cholesky forms of the Gaussian linear model: the tests' reference.

The package computes these in one eigenbasis (bayesreg/_gaussian.py); this
module, which was the package's first implementation, is kept as the
independent reference the tests compare it with.

Functions here take and return arrays (or small NamedTuples of arrays); they
never validate user input and never touch estimator state. Estimators validate,
call these, and store the results.

Everything is expressed through the sufficient statistics of the data
(:mod:`bayesreg._gram`, whose names are also importable from here), so the
cost of a fit is one pass over X (O(n d^2)) followed by O(d^3) work that does
not depend on n.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

from bayesreg import _gram
from bayesreg._gram import (  # noqa: F401  (re-exported: the statistics posteriors take)
    GramStats,
    column_scale,
    gram_stats,
    merge_stats,
)

# ---------------------------------------------------------------------------
# Conjugate posteriors
#
# The coefficients w (d,) have the prior w = m0 + D u with D = diag(prior_std)
# and u ~ N(0, I) (known noise) or u | s^2 ~ N(0, s^2 I) (Normal-Inverse-Gamma,
# unknown noise s^2 ~ InvGamma(a0, b0)). Working with u ("whitened"
# coordinates) makes the posterior precision B = I + G / tau, with
# G = D X^T W X D, at least the identity: its Cholesky factor exists in exact
# arithmetic and every diagonal entry of it is >= 1, which gives a cheap test
# of the computed factor (see `_whitened_cholesky`).
# ---------------------------------------------------------------------------


class WhitenedStats(NamedTuple):
    """Data statistics in the prior's whitened coordinates u = D^-1 (w - m0).

    ``gram = D xtx D``, ``rhs = D (xty - xtx m0)`` and ``rss0`` the residual sum
    of squares of the prior mean, ``yty - 2 m0.xty + m0.xtx.m0``. ``n_eff`` is
    the number of observations left once a flat-prior intercept is integrated
    out (``n - 1`` with an intercept, ``n`` without).
    """

    gram: np.ndarray
    rhs: np.ndarray
    rss0: float
    n: float
    n_eff: float


def whiten_stats(
    stats: GramStats, prior_mean: np.ndarray, prior_std: np.ndarray
) -> WhitenedStats:
    """Residual statistics of ``stats`` relative to the prior N(m0, D^2)."""
    xtx_m0 = stats.xtx @ prior_mean
    gram = prior_std[:, None] * stats.xtx * prior_std[None, :]
    rhs = prior_std * (stats.xty - xtx_m0)
    rss0 = stats.yty - 2.0 * prior_mean @ stats.xty + prior_mean @ xtx_m0
    n_eff = stats.n - 1.0 if stats.centered else stats.n
    return WhitenedStats(gram, rhs, float(max(rss0, 0.0)), stats.n, n_eff)


def _eigh_cholesky(ev: np.ndarray, Q: np.ndarray, beta: float) -> np.ndarray:
    """Cholesky factor of I + beta Q diag(ev) Q^T from the eigendecomposition.

    B = Q diag(1 + beta ev) Q^T = R^T R with R the triangular factor of a QR
    decomposition of diag(sqrt(1 + beta ev)) Q^T; exact for ev >= 0.
    """
    root = np.sqrt(1.0 + beta * np.clip(ev, 0.0, None))
    R = linalg.qr(root[:, None] * Q.T, mode="r", check_finite=False)[0]
    R *= np.sign(np.diag(R))[:, None]  # a Cholesky factor has a positive diagonal
    return np.ascontiguousarray(R.T)


def _whitened_cholesky(gram: np.ndarray, beta: float) -> np.ndarray:
    """Lower Cholesky factor L of B = I + beta * gram, for gram PSD.

    Every Schur complement of a matrix >= I is >= 1, so an exact factor has
    diag(L) >= 1. A computed diagonal entry below 1/2 (or a failed Cholesky)
    means rounding in ``gram`` swamped the identity (nearly collinear columns
    of enormous scale); then the factor is rebuilt from the eigendecomposition
    with the eigenvalues of ``gram`` clipped at zero, B = Q diag(1 + beta ev)
    Q^T = R^T R with R the triangular factor of a QR of diag(sqrt(1 + beta
    ev)) Q^T. That factor is exact for a PSD matrix within rounding of
    ``gram``, so the posterior stays proper (covariance <= prior).
    """
    d = gram.shape[0]
    B = beta * gram
    B[np.diag_indices(d)] += 1.0
    try:
        L = linalg.cholesky(B, lower=True, check_finite=False)
        if d == 0 or np.diag(L).min() >= 0.5:
            return L
    except linalg.LinAlgError:
        pass
    ev, Q = linalg.eigh(gram, check_finite=False)
    return _eigh_cholesky(ev, Q, beta)


class LinearPosterior(NamedTuple):
    """Posterior of a conjugate Gaussian linear model (and its predictive).

    The coefficient posterior is ``w = coef + sqrt(cov_scale * rho) * D L^-T z``
    with ``z ~ N(0, I)``: ``rho = 1`` for known noise, ``rho = s^2 / (b/a)``
    with ``s^2 ~ InvGamma(a, b)`` for unknown noise (``a = df / 2``,
    ``b = a * noise_var``), which makes the marginal a multivariate t.
    With ``intercept``, the intercept given w and s^2 is
    ``y_mean - x_mean.w + Normal(0, s^2 / n)``. A new observation adds noise of
    variance ``noise_var * rho``.

    Fields: ``coef`` (d,) posterior mean; ``prior_std`` D (d,); ``chol`` L
    (d, d), the lower Cholesky factor of the whitened precision; ``cov_scale``
    (1, or b/a for unknown noise); ``noise_var`` (s^2, or b/a); ``df``
    (``inf`` for known noise, ``2 a`` otherwise); ``x_mean`` (d,), ``y_mean``
    and ``n`` (weighted) of the centred statistics; ``intercept``;
    ``log_evidence``.
    """

    coef: np.ndarray
    prior_std: np.ndarray
    chol: np.ndarray
    cov_scale: float
    noise_var: float
    df: float
    x_mean: np.ndarray
    y_mean: float
    n: float
    intercept: bool
    log_evidence: float

    @property
    def intercept_mean(self) -> float:
        return float(self.y_mean - self.x_mean @ self.coef) if self.intercept else 0.0


def _eigh_solve_whitened(
    eigh: tuple[np.ndarray, np.ndarray], rhs: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """(L, B^-1 rhs) for B = I + beta Q diag(ev) Q^T, from its eigenbasis.

    The null space of the Gram matrix (ev == 0) gets exactly zero weight: r
    lies in the range of G, and the rest is rounding that a Cholesky factor
    of an ill-conditioned B (beta ev ~ 1e10) would amplify.
    """
    ev, Q = eigh
    z = Q.T @ rhs
    z[ev == 0] = 0.0
    return _eigh_cholesky(ev, Q, beta), Q @ (z / (1.0 + beta * ev))


def _logdet_chol(L: np.ndarray) -> float:
    return float(2.0 * np.sum(np.log(np.diag(L))))


def gaussian_posterior(
    stats: GramStats,
    prior_mean: np.ndarray,
    prior_std: np.ndarray,
    noise_var: float,
    eigh: tuple[np.ndarray, np.ndarray] | None = None,
) -> LinearPosterior:
    """Exact posterior and log evidence with known noise variance s^2.

    Bishop (2006), eqs. 3.50-3.51 in whitened coordinates: with beta = 1/s^2,
    B = I + beta G, u_N = beta B^-1 r and w_N = m0 + D u_N, Sigma_N = D B^-1 D.
    The log evidence (Bishop eq. 3.86, here for any prior mean and weights
    meaning repetition) is

        -n_eff/2 log(2 pi s^2) - 1/2 log|B| - 1/2 (beta RSS(u_N) + |u_N|^2)
        - [intercept] 1/2 log n,

    where beta RSS + |u|^2 = beta (rss0 - r.u_N). With a centred ``stats``
    the flat intercept prior (p(b) = 1) is integrated out, which leaves the
    factor sqrt(2 pi s^2 / n): hence n_eff = n - 1 and the -1/2 log n.

    ``eigh``, the eigendecomposition (ev, Q) of the whitened Gram matrix
    D xtx D when it is already known (evidence maximisation), gives the
    factor of B without another factorisation, with the same treatment of
    rounding-level eigenvalues as the optimisation.
    """
    ws = whiten_stats(stats, prior_mean, prior_std)
    beta = 1.0 / noise_var
    if eigh is None:
        L = _whitened_cholesky(ws.gram, beta)
        u = beta * linalg.cho_solve((L, True), ws.rhs, check_finite=False)
    else:
        L, u = _eigh_solve_whitened(eigh, ws.rhs, beta)
        u *= beta
    fit_term = max(beta * (ws.rss0 - ws.rhs @ u), 0.0)
    log_ev = (
        -0.5 * ws.n_eff * np.log(2.0 * np.pi * noise_var)
        - 0.5 * _logdet_chol(L)
        - 0.5 * fit_term
        - (0.5 * np.log(ws.n) if stats.centered else 0.0)
    )
    return LinearPosterior(
        prior_mean + prior_std * u,
        prior_std,
        L,
        1.0,
        float(noise_var),
        np.inf,
        stats.x_mean,
        stats.y_mean,
        stats.n,
        stats.centered,
        float(log_ev),
    )


def _nig_normaliser(shape: float, scale: float) -> float:
    """log of b0^a0 / Gamma(a0), the normaliser of InvGamma(a0, b0).

    An improper prior (``a0 = 0`` or ``b0 = 0``, e.g. Jeffreys' p(s^2) ~ 1/s^2)
    has none: its evidence is defined up to a constant that is the same for
    every model of the same ``y``, and the kernel is used as it is.
    """
    from scipy.special import gammaln

    if shape > 0 and scale > 0:
        return float(shape * np.log(scale) - gammaln(shape))
    return 0.0


def _scale_floor(stats: GramStats) -> float:
    """Smallest posterior scale b_N kept: a noise variance of 1e-10 var(y).

    When the data can be interpolated (n <= rank, or a constant y) the
    residual, and with it b_N, falls to rounding level and the noise
    posterior degenerates; an evidence-chosen prior scale would then follow
    rounding noise. As in :func:`maximize_evidence`, the noise variance is
    bounded below at 1e-10 times y's own spread (a fit exact to plotting
    accuracy), which keeps the posterior proper and the fit a smooth,
    unit-equivariant function of the data.
    """
    return float(_gram.scale_floor(stats.yty, stats.n, stats.y_mean))


def nig_posterior(
    stats: GramStats,
    prior_mean: np.ndarray,
    prior_std: np.ndarray,
    shape: float,
    scale: float,
    eigh: tuple[np.ndarray, np.ndarray] | None = None,
) -> LinearPosterior:
    """Exact Normal-Inverse-Gamma posterior (unknown noise) and log evidence.

    Prior: s^2 ~ InvGamma(a0, b0), w | s^2 ~ N(m0, s^2 D^2) (so ``prior_std``
    is in units of the noise std); ``a0 = b0 = 0`` is Jeffreys' scale-free
    p(s^2) ~ 1/s^2. Posterior (Murphy 2012, eqs. 7.70-7.73, in whitened
    coordinates): B = I + G, u_N = B^-1 r, a_N = a0 + n_eff / 2,
    b_N = b0 + (rss0 - r.u_N) / 2, and

        log Z = -n_eff/2 log(2 pi) - 1/2 log|B| + a0 log b0 - lgamma(a0)
                - a_N log b_N + lgamma(a_N) - [intercept] 1/2 log n.

    With a centred ``stats`` the intercept b has a flat prior, p(b) = 1 (a
    location parameter: with Jeffreys' noise prior this is the reference
    prior p(b, s) ~ 1/s). Integrating it out leaves sqrt(2 pi s^2 / n): one
    observation's worth of the noise posterior (n_eff = n - 1) and the
    -1/2 log n. With no features this gives the classical t_{n-1}
    predictive, whose intervals have exact frequentist coverage.
    For an improper noise prior the normaliser a0 log b0 - lgamma(a0) is
    left out (see :func:`_nig_normaliser`). Requires a_N > 0.

    ``eigh`` as in :func:`gaussian_posterior`: the eigendecomposition of the
    whitened Gram matrix D xtx D, with its null space exactly zero.
    """
    from scipy.special import gammaln

    ws = whiten_stats(stats, prior_mean, prior_std)
    if eigh is None:
        L = _whitened_cholesky(ws.gram, 1.0)
        u = linalg.cho_solve((L, True), ws.rhs, check_finite=False)
    else:
        L, u = _eigh_solve_whitened(eigh, ws.rhs, 1.0)
    a_n = shape + 0.5 * ws.n_eff
    b_n = max(scale + 0.5 * max(ws.rss0 - ws.rhs @ u, 0.0), _scale_floor(stats))
    log_ev = (
        -0.5 * ws.n_eff * np.log(2.0 * np.pi)
        - 0.5 * _logdet_chol(L)
        + _nig_normaliser(shape, scale)
        - a_n * np.log(b_n)
        + gammaln(a_n)
        - (0.5 * np.log(ws.n) if stats.centered else 0.0)
    )
    s2 = b_n / a_n
    return LinearPosterior(
        prior_mean + prior_std * u,
        prior_std,
        L,
        float(s2),
        float(s2),
        float(2.0 * a_n),
        stats.x_mean,
        stats.y_mean,
        stats.n,
        stats.centered,
        float(log_ev),
    )


class PriorScale(NamedTuple):
    """The evidence-maximising scale c of the coefficient prior D c.

    ``log_evidence`` at the optimum; ``n_iter`` evaluations of the
    evidence's derivative by the root finder; ``at_bound`` when the maximum
    lies at the edge of the search range (no interior optimum: the data
    carry no signal, c -> 0, or want no shrinkage, c large). ``eigh`` is the
    eigendecomposition (ev, Q) of the whitened Gram matrix c^2 D xtx D at the
    optimum, ready for :func:`gaussian_posterior` / :func:`nig_posterior`.
    """

    scale: float
    log_evidence: float
    n_iter: int
    at_bound: bool
    eigh: tuple[np.ndarray, np.ndarray]


def _whitened_spectrum(stats: GramStats, prior_mean: np.ndarray, prior_std: np.ndarray):
    """``(ws, ev, Q, z)``: the whitened statistics, ``G = Q diag(ev) Q^T``
    for G = ``ws.gram``, and ``z = Q^T ws.rhs``, the evidence searches'
    coordinates (d = len(ev)).

    Eigenvalues within rounding of the largest (d eps ev_max) are set to
    zero (rank deficiency), and so are their entries of z: the right-hand
    side lies in the range of G, the rest is rounding.
    """
    ws = whiten_stats(stats, prior_mean, prior_std)
    ev, Q = linalg.eigh(ws.gram, check_finite=False)
    null = ev <= ev.shape[0] * np.finfo(float).eps * max(ev.max(initial=0.0), 0.0)
    ev[null] = 0.0
    z = Q.T @ ws.rhs
    z[null] = 0.0
    return ws, ev, Q, z


#: search range of log c^2 for :func:`evidence_prior_scale` (natural log);
#: c multiplies a prior std measured per standardised column, so c^2 spans
#: 1e-13 (the prior alone) to 1e13 (no shrinkage at any n a computer holds).
_LOG_T_RANGE = (-30.0, 30.0)


def evidence_prior_scale(
    stats: GramStats,
    prior_mean: np.ndarray,
    prior_shape: np.ndarray,
    *,
    noise_var: float | None = None,
    shape: float = 0.0,
    scale: float = 0.0,
) -> PriorScale:
    """Scale c of the prior w ~ N(m0, s^2 c^2 D^2) that maximises the evidence.

    ``prior_shape`` is D (per-coefficient std in units of the noise std,
    before scaling by c). With ``noise_var`` given the noise is known;
    otherwise s^2 ~ InvGamma(a0 = ``shape``, b0 = ``scale``) is integrated
    out (Normal-Inverse-Gamma, :func:`nig_posterior`).

    With t = c^2, the eigenvalues l_i of G = D xtx D (divided by s^2 for
    known noise) and z = Q^T D (xty - xtx m0), the log evidence is, up to
    terms free of t,

        f(t) = -1/2 sum_i log(1 + t l_i) + h(R(t)),
        R(t) = rss0 - sum_i t z_i^2 / (1 + t l_i),

    with h(R) = -R / (2 s^2) for known noise and -a_N log(b0 + R / 2) for
    unknown noise, and its derivative in log t is

        f'(log t) = -1/2 sum_i t l_i / (1 + t l_i) + k/2 sum_i t z_i^2 / (1 + t l_i)^2

    with k = 1 / s^2, or a_N / b_N(t): MacKay's condition gamma = k |u|^2.
    One eigendecomposition (O(d^3)), then O(d) per evaluation: f is scanned
    on a grid of log t, and the best interior point is refined by Brent's
    method on f' to machine precision (so c is a smooth function of the
    data, and the fit equivariant to rounding).
    """
    from scipy.optimize import brentq

    ws, ev, Q, z = _whitened_spectrum(stats, prior_mean, prior_shape)
    d = ev.shape[0]
    z2 = z**2
    ev_raw = ev.copy()
    if noise_var is not None:
        ev = ev / noise_var
        z2 = z2 / noise_var
    a_n = shape + 0.5 * ws.n_eff
    floor = _scale_floor(stats)

    def parts(log_t):
        t = np.exp(np.asarray(log_t, dtype=float))[..., None]
        q = 1.0 + t * ev
        # t / q <= 1 / l_i stays bounded where t z_i^2 would overflow (z_i^2
        # carries y's units squared, up to 1e300).
        tq = t / q
        rss = np.maximum(ws.rss0 - np.sum(z2 * tq, axis=-1), 0.0)
        if noise_var is None:
            b = np.maximum(scale + 0.5 * rss, floor)
            k = a_n / b
            fit = -a_n * np.log(b)
        else:
            k = 1.0 / noise_var
            fit = -0.5 * rss / noise_var
        f = -0.5 * np.sum(np.log(q), axis=-1) + fit
        g = -0.5 * np.sum(tq * ev, axis=-1) + 0.5 * k * np.sum(z2 * tq / q, axis=-1)
        return f, g

    if d == 0 or not np.any(ev > 0):
        return PriorScale(1.0, float(parts(0.0)[0]), 0, False, (ev_raw, Q))
    grid = np.linspace(*_LOG_T_RANGE, 121)
    f, g = parts(grid)
    best = int(np.argmax(f))
    n_iter = grid.size
    if best in (0, grid.size - 1):
        log_t, at_bound = grid[best], True
    else:
        # f rises into grid[best] and falls after it: f' changes sign within.
        lo, hi = grid[best - 1], grid[best + 1]
        if g[best] < 0:
            hi = grid[best]
        else:
            lo = grid[best]
        if np.sign(parts(lo)[1]) == np.sign(parts(hi)[1]):
            log_t = grid[best]
        else:
            log_t, info = brentq(
                lambda s: float(parts(s)[1]),
                lo,
                hi,
                xtol=1e-14,
                rtol=4 * np.finfo(float).eps,
                full_output=True,
            )
            n_iter += info.function_calls
        at_bound = False
    return PriorScale(
        float(np.exp(0.5 * log_t)),
        float(parts(log_t)[0]),
        n_iter,
        at_bound,
        (ev_raw * np.exp(log_t), Q),
    )


def prior_as_posterior(
    prior_mean: np.ndarray,
    prior_std: np.ndarray,
    noise_var: float | None = None,
    shape: float = 1.0,
    scale: float = 1.0,
) -> LinearPosterior:
    """The prior in the form of a posterior (no data), for prior draws.

    Without data there is no intercept to centre on: prior draws have
    intercept zero. ``noise_var=None`` gives the Normal-Inverse-Gamma prior.
    """
    d = prior_mean.shape[0]
    if noise_var is None:
        s2, df = scale / shape, 2.0 * shape
    else:
        s2, df = float(noise_var), np.inf
    cov_scale = s2 if noise_var is None else 1.0
    return LinearPosterior(
        prior_mean.astype(float),
        prior_std.astype(float),
        np.eye(d),
        cov_scale,
        s2,
        df,
        np.zeros(d),
        0.0,
        0.0,
        False,
        np.nan,
    )


class EvidenceOptimum(NamedTuple):
    """Result of evidence maximisation: prior scale c (prior_std * c), s^2.

    ``eigh`` is the eigendecomposition (ev, Q) of the whitened Gram matrix
    at the optimum, c^2 D xtx D, ready for :func:`gaussian_posterior`.
    """

    prior_scale: float
    noise_var: float
    n_iter: int
    converged: bool
    eigh: tuple[np.ndarray, np.ndarray]


def maximize_evidence(
    stats: GramStats,
    prior_mean: np.ndarray,
    prior_std: np.ndarray,
    *,
    noise_var_init: float | None = None,
    max_iter: int = 300,
    tol: float = 1e-10,
) -> EvidenceOptimum:
    """MacKay's fixed point for the prior scale and noise variance.

    The prior is w ~ N(m0, D^2 / alpha) with D = ``prior_std`` fixed in shape
    and alpha (one prior precision) and beta = 1/s^2 are re-estimated
    (MacKay 1992; Bishop 2006, eqs. 3.91-3.95; sklearn's BayesianRidge):

        gamma = sum_i beta ev_i / (alpha + beta ev_i)
        alpha <- gamma / |v_N|^2,     beta <- (n_eff - gamma) / RSS(v_N)

    with v = D^-1 (w - m0). One eigendecomposition G = Q diag(ev) Q^T of the
    whitened Gram matrix is computed; in its basis the posterior mean is
    v_i = beta z_i / (alpha + beta ev_i) with z = Q^T r, so every iteration
    costs O(d). Stops when alpha and beta change by less than ``tol``
    (relative).
    """
    ws, ev, Q, z = _whitened_spectrum(stats, prior_mean, prior_std)
    n_eff = max(ws.n_eff, 1.0)
    y_var = ws.rss0 / n_eff
    # When the data can be interpolated (n <= rank) the evidence keeps rising
    # as s^2 -> 0: bound s^2 below by 1e-10 var(y), a noise level at which
    # the fit is exact to plotting accuracy, so the fixed point (in alpha,
    # at the bound for beta) stays well defined. |v|^2 > 0 likewise.
    tiny = np.finfo(float).tiny
    beta_max = 1e10 / (y_var if y_var > 0 else 1.0)
    if noise_var_init is None:
        noise_var_init = y_var if y_var > 0 else 1.0
    alpha, beta = 1.0, 1.0 / noise_var_init
    converged = False
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        denom = alpha + beta * ev
        v = beta * z / denom
        gamma = float(np.sum(beta * ev / denom))
        v2 = float(v @ v)
        rss = ws.rss0 - 2.0 * v @ z + np.sum(ev * v * v)
        rss = max(float(rss), tiny)
        # A prior 1e10 times more precise than the data in every direction is
        # the prior alone: bound alpha there (the evidence rises towards
        # alpha -> inf when X carries no signal about y).
        alpha_max = 1e10 * max(beta * ev.max(initial=0.0), 1.0)
        alpha_new = min(max(gamma, tiny) / max(v2, tiny), alpha_max)
        dof_left = max(n_eff - gamma, tiny)
        beta_new = beta_max if dof_left >= beta_max * rss else dof_left / rss
        change = max(abs(alpha_new - alpha) / alpha, abs(beta_new - beta) / beta)
        alpha, beta = alpha_new, beta_new
        if change < tol:
            converged = True
            break
    return EvidenceOptimum(
        float(1.0 / np.sqrt(alpha)), float(1.0 / beta), n_iter, converged,
        (ev / alpha, Q),
    )  # fmt: skip


def evidence_prior_std(
    stats: GramStats,
    prior_mean: np.ndarray,
    noise_std: float | None = None,
    *,
    shape: float = 0.0,
    scale: float = 0.0,
) -> tuple[np.ndarray, PriorScale]:
    """The unit-free default prior std, ``c * u_j`` with c by the evidence.

    ``u_j = 1 / sd_j`` (in units of the noise std) when the noise is
    unknown, with s^2 ~ InvGamma(``shape``, ``scale``); ``u_j = noise_std /
    sd_j`` (in units of the coefficients) when it is known; ``sd_j`` is
    :func:`column_scale`. Returns the prior std and the
    :func:`evidence_prior_scale` result (c, its evidence and eigenbasis).
    """
    unit = (1.0 if noise_std is None else noise_std) / column_scale(stats)
    noise_var = None if noise_std is None else noise_std**2
    opt = evidence_prior_scale(
        stats, prior_mean, unit, noise_var=noise_var, shape=shape, scale=scale
    )
    return opt.scale * unit, opt


# ---------------------------------------------------------------------------
# Predictive and draws
# ---------------------------------------------------------------------------


def predictive_moments(
    post: LinearPosterior, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and variance of the regression function, in row blocks.

    ``var_f(x) = cov_scale |L^-1 D (x - x_mean)|^2 + [intercept] noise_var / n``
    (the second term is the intercept's own variance under its flat prior).
    Each block of rows costs one triangular solve, O(block d^2); extra
    memory is O(block x d): no n x n matrix, no inverse of the precision.
    """
    n_samples, d = X.shape
    mean = X @ post.coef
    mean += post.intercept_mean
    var = np.empty(n_samples)
    step = _gram._block_rows(d)
    for start in range(0, n_samples, step):
        rows = slice(start, start + step)
        Z = X[rows] - post.x_mean if post.intercept else X[rows].copy()
        Z *= post.prior_std
        # V = L^-1 Z^T: Z.T is Fortran ordered, so trsm works in place.
        V = linalg.solve_triangular(
            post.chol, Z.T, lower=True, overwrite_b=True, check_finite=False
        )
        var[rows] = np.einsum("ij,ij->j", V, V)
    var *= post.cov_scale
    if post.intercept:
        var += post.noise_var / post.n
    return mean, var


def coef_covariance(post: LinearPosterior) -> np.ndarray:
    """Posterior covariance of the coefficients, D B^-1 D times its scale.

    For unknown noise this is the covariance of the multivariate t marginal,
    cov_scale * df / (df - 2) * D B^-1 D (infinite when df <= 2).
    """
    d = post.coef.shape[0]
    inner = linalg.cho_solve((post.chol, True), np.eye(d), check_finite=False)
    cov = post.prior_std[:, None] * inner * post.prior_std[None, :]
    factor = post.cov_scale
    if np.isfinite(post.df):
        factor *= post.df / (post.df - 2.0) if post.df > 2 else np.inf
    cov = 0.5 * (cov + cov.T) * factor
    return cov


class PosteriorDraws(NamedTuple):
    """Joint draws from a LinearPosterior: coefficients (S, d), intercepts
    (S,) and the noise variance of each draw (S,)."""

    coef: np.ndarray
    intercept: np.ndarray
    noise_var: np.ndarray


def sample_posterior(
    post: LinearPosterior, n_samples: int, rng: np.random.Generator
) -> PosteriorDraws:
    """Draw (w, b, s^2) jointly from the posterior (or the prior)."""
    d = post.coef.shape[0]
    if np.isfinite(post.df):
        a = 0.5 * post.df
        rho = a / rng.gamma(a, size=n_samples)  # s^2 / (b/a), s^2 ~ InvGamma(a, b)
    else:
        rho = np.ones(n_samples)
    z = rng.standard_normal((d, n_samples))
    # D L^-T z has covariance D (L L^T)^-1 D = D B^-1 D.
    dev = linalg.solve_triangular(
        post.chol, z, lower=True, trans="T", check_finite=False
    )
    coef = post.coef + (post.prior_std[:, None] * dev * np.sqrt(post.cov_scale * rho)).T
    noise_var = post.noise_var * rho
    if post.intercept:
        zb = rng.standard_normal(n_samples)
        intercept = post.y_mean - coef @ post.x_mean + np.sqrt(noise_var / post.n) * zb
    else:
        intercept = np.zeros(n_samples)
    return PosteriorDraws(coef, intercept, noise_var)
