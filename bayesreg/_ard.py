"""Automatic relevance determination: a prior std per feature from the evidence.

Pure NumPy/SciPy over arrays (no validation), for
``ConjugateLinearRegression(prior_std="ard")``. In standardised coordinates
(columns divided by their spread, targets in units of the noise) the model
of one target is

    y = Phi v + e,    e ~ N(0, s^2 I),    v_j | s^2 ~ N(0, s^2 / alpha_j),

with Phi = W^1/2 Xc diag(1 / sd_j). The noise is either known (then y and
Phi^T y are divided by s, and s = 1 below) or integrated out under
s^2 ~ InvGamma(a0, b0). With C = I + Phi A^-1 Phi^T (A = diag(alpha), the
pruned features alpha_j = inf left out) the log evidence is, up to
constants free of alpha,

    known noise:    L(alpha) = -1/2 log|C| - 1/2 y^T C^-1 y
    unknown noise:  L(alpha) = -1/2 log|C| - a_N log(b0 + y^T C^-1 y / 2)

with a_N = a0 + n_eff / 2 (the multivariate-t marginal of the
Normal-Inverse-Gamma model).

The maximisation is Tipping & Faul's (2003) fast marginal likelihood, here
extended to the unknown noise. As a function of one alpha_m, the others
held, C = C_-m + phi_m phi_m^T / alpha_m gives, with s_m = phi_m^T C_-m^-1
phi_m, q_m = phi_m^T C_-m^-1 y and B_m = b0 + y^T C_-m^-1 y / 2,

    l(x) = -1/2 log(1 + s/x) + q^2 / (2 (x + s))                   (known)
    l(x) = -1/2 log(1 + s/x) - a_N log(1 - q^2 / (2 B (x + s)))   (unknown)

(relative to the feature left out, x = inf), maximised in closed form:

    known:    x* = s^2 / (q^2 - s)                           if q^2 > s
    unknown:  x* = s (2 B s - q^2) / (2 (a_N q^2 - B s))     if a_N q^2 > B s

and x* = inf (prune) otherwise. (For large a_N the second is the first
with noise variance B / a_N.)

The evidence alone overfits when the features can nearly interpolate y
(p close to n or above): every spurious feature raises it a little and
lowers the noise estimate (n = 120, p = 150, 6 true features: 6 -> 75
features and 28 nats more after 3,000 steps, 90% intervals covering half
of new data). So each feature is relevant with prior probability
1 / (1 + p) (p the columns with spread), i.e. prior odds 1 : p against,
and the relevances maximise the evidence times that prior over the
inclusion pattern,

    F(alpha) = L(alpha) - M log p         (M features in the model)

(log p per coefficient, 2 log p on the deviance, is Foster & George's
(1994) risk inflation criterion, which George & Foster (2000) obtain as
the mode of a variable-selection posterior; it is about the largest gain
one of p irrelevant features brings by chance, the largest of p
chi-square(1) draws being about 2 log p). A feature enters only if
l(x*) > log p and leaves once l(x*) < log p; F is unit-free, so the fit
stays equivariant in the units of X and y. The same prior holds with the
noise known.

Each step takes the single action (add a feature, re-estimate one, delete
one) that raises F most, so F rises at every step, pruning is exact
(alpha = inf, not a large number), and the cost of a step is O(p M + M^3)
for M features in the model, from the columns of Phi^T Phi of those
features only (the statistics in the primal, products with X in the
dual). At a maximum every alpha_m maximises F along its own coordinate.
One feature at a time can miss a joint gain (a few true features, each
below log p alone while the others inflate the noise estimate, above it
together), so from each maximum up to ``LOOKAHEAD`` best additions are
made in turn: if F climbs above the maximum the ascent goes on from
there, else the maximum is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import linalg, sparse

from . import _gaussian

#: smallest gain of the objective for which a step is taken
_MIN_GAIN = 1e-12
#: additions tried past a local maximum before it is accepted
LOOKAHEAD = 3


class Relevances(NamedTuple):
    """``alpha`` (p,) the prior precision of each standardised coefficient in
    noise units (inf: pruned), the steps taken and whether they converged."""

    alpha: np.ndarray
    n_iter: int
    converged: bool


def _leave_one_out(cols, active, alpha, g_diag, h, yty):
    """S, Q (every feature, in the current C) turned into s, q (each
    feature's own C_-m), and y^T C^-1 y."""
    S, Q = g_diag.copy(), h.copy()
    if active.size == 0:
        return S, Q, float(yty)
    P = cols[active] + np.diag(alpha[active])
    L = linalg.cholesky(P, lower=True, check_finite=False)
    Li = linalg.solve_triangular(L, np.eye(active.size), lower=True)
    mu = Li.T @ (Li @ h[active])  # Sigma Phi_a^T y
    T = Li @ cols.T  # diag(Phi^T Phi_a Sigma Phi_a^T Phi) = column sums of T^2
    S -= np.einsum("ij,ij->j", T, T)
    Q -= cols @ mu
    y_cy = float(yty - h[active] @ mu)
    # For a feature in the model: s = 1 / Sigma_mm - alpha_m, q = mu_m /
    # Sigma_mm (no cancellation, unlike alpha S / (alpha - S)).
    sig = np.einsum("ij,ij->j", Li, Li)
    S[active] = 1.0 / sig - alpha[active]
    Q[active] = mu / sig
    return np.clip(S, 0.0, None), Q, y_cy


def _optimum(s, q, B, a_n):
    """x* per feature (inf where the feature should be out) and l(x*)."""
    q2 = q * q
    with np.errstate(divide="ignore", invalid="ignore"):
        if a_n is None:
            keep = q2 > s
            x = np.where(keep, s * s / np.where(keep, q2 - s, 1.0), np.inf)
        else:
            keep = a_n * q2 > B * s
            den = np.where(keep, 2.0 * (a_n * q2 - B * s), 1.0)
            x = np.where(keep, s * (2.0 * B * s - q2) / den, np.inf)
    keep &= (x > 0) & np.isfinite(x)
    x = np.where(keep, x, np.inf)
    return x, keep


def _gain(x, s, q, B, a_n):
    """l(x) relative to the feature left out (0 at x = inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(np.isfinite(x), s / x, 0.0)
        xs = np.where(np.isfinite(x), x + s, np.inf)
        out = -0.5 * np.log1p(r)
        if a_n is None:
            out += 0.5 * q * q / xs
        else:
            u = np.clip(q * q / (2.0 * B * xs), 0.0, 1.0 - 1e-16)
            out -= a_n * np.log1p(-u)
    return np.where(np.isfinite(x), out, 0.0)


def relevances(
    columns: Callable[[np.ndarray], np.ndarray],
    g_diag: np.ndarray,
    h: np.ndarray,
    yty: float,
    *,
    a_n: float | None,
    b0: float = 0.0,
    max_iter: int = 300,
    tol: float = 1e-10,
    log_odds: float | None = None,
    lookahead: int = LOOKAHEAD,
) -> Relevances:
    """Tipping & Faul's fast marginal likelihood for one target, each
    feature in the model costing ``log_odds``.

    ``columns(idx)`` returns the columns ``idx`` of G = Phi^T Phi (p, m);
    ``g_diag`` its diagonal, ``h`` = Phi^T y, ``yty`` = y^T y (in noise
    units for known noise). ``a_n`` the posterior shape a0 + n_eff / 2 and
    ``b0`` the prior scale of the unknown noise, or ``a_n=None`` for known
    (unit) noise. ``log_odds``: the prior log odds against a feature,
    by default log(p) for the p columns with spread (0: the evidence
    alone). The ascent stops when no feature is worth adding or deleting
    and no re-estimate changes a precision by more than ``tol`` (relative)
    while raising the objective by more than 1e-12 (its rounding: near the
    optimum it is flat, so precisions are resolved to about 1e-6 relative
    at worst). From that maximum up to ``lookahead`` best additions are
    tried in turn; once the objective exceeds the maximum the ascent
    resumes from there, else the maximum is returned.
    """
    p = h.shape[0]
    # A column with no spread (or none left outside the model) cannot enter.
    usable = g_diag > 0
    cost = np.log(max(int(usable.sum()), 1)) if log_odds is None else log_odds
    alpha = np.full(p, np.inf)
    active = np.zeros(0, dtype=int)
    cols = np.zeros((p, 0))
    # objective - its value with no feature; best: the last local maximum;
    # ahead: additions made past it (0: ascending)
    objective, best, ahead = 0.0, None, 0
    for it in range(1, max_iter + 1):
        s, q, y_cy = _leave_one_out(cols, active, alpha, g_diag, h, yty)
        in_model = np.isfinite(alpha)
        B = None
        if a_n is not None:
            y_loo = y_cy + np.where(
                in_model, q * q / np.where(in_model, alpha + s, 1.0), 0.0
            )
            B = np.maximum(b0 + 0.5 * y_loo, np.finfo(float).tiny)
        x, keep = _optimum(s, q, B, a_n)
        current = _gain(alpha, s, q, B, a_n)
        l_best = _gain(x, s, q, B, a_n)
        addable = ~in_model & keep & usable & (s > 1e-12 * g_diag)
        # The change of the objective: l(x*) - cost to add; cost - l(alpha)
        # to delete (a feature whose l(x*) no longer pays its cost too);
        # l(x*) - l(alpha) to re-estimate.
        add = np.where(addable, l_best - cost, -np.inf)
        must_go = in_model & ~keep
        delete = must_go | (in_model & (l_best < cost))
        with np.errstate(invalid="ignore"):
            change = np.where(in_model & keep, np.abs(x / alpha - 1.0), 0.0)
        gain = np.where(in_model & ~delete & (change > tol), l_best - current, -np.inf)
        gain = np.where(delete, cost - current, gain)
        gain = np.where(in_model, gain, add)
        if ahead and objective > best[0] + _MIN_GAIN:
            ahead = 0  # the additions paid: ascend from here
        if not ahead:
            gain = np.where((gain > _MIN_GAIN) | must_go, gain, -np.inf)
            if np.all(gain == -np.inf):  # a local maximum
                best = (objective, alpha.copy(), active, cols)
                ahead = 1
        if ahead:
            if ahead > lookahead or not addable.any():
                return Relevances(best[1], it - 1, True)
            gain, ahead = add, ahead + 1
        m = int(np.argmax(gain))
        objective += gain[m]
        if delete[m]:
            pos = int(np.flatnonzero(active == m)[0])
            active = np.delete(active, pos)
            cols = np.delete(cols, pos, axis=1)
            alpha[m] = np.inf
        else:
            if not in_model[m]:
                active = np.append(active, m)
                cols = np.column_stack([cols, columns(np.array([m]))])
            alpha[m] = x[m]
    # Stopped by max_iter: while looking ahead, at the maximum it left.
    return Relevances(best[1] if ahead else alpha, max_iter, False)


# ---------------------------------------------------------------------------
# The Gram columns of the standardised problem, primal or dual
# ---------------------------------------------------------------------------


class Problem(NamedTuple):
    """One target's standardised problem: ``columns``, ``g_diag``, ``h``,
    ``yty`` as :func:`relevances` takes them (noise units not applied)."""

    columns: Callable[[np.ndarray], np.ndarray]
    g_diag: np.ndarray
    h: np.ndarray
    yty: float


def primal_problems(stats, prior_mean: np.ndarray, scale: np.ndarray) -> list:
    """Per target, Phi = W^1/2 Xc diag(``scale``) from the statistics, y the
    residual of the prior mean."""
    xtx = stats.xtx
    xty = stats.xty.reshape(xtx.shape[0], -1)
    yty = np.atleast_1d(np.asarray(stats.yty, dtype=float))
    xtx_m0 = xtx @ prior_mean
    rss0 = yty - 2.0 * prior_mean @ xty + prior_mean @ xtx_m0
    g_diag = np.diag(xtx) * scale**2

    def columns(idx):
        return scale[:, None] * xtx[:, idx] * scale[idx][None, :]

    return [
        Problem(columns, g_diag, scale * (xty[:, j] - xtx_m0), float(rss0[j]))
        for j in range(xty.shape[1])
    ]


def dual_problems(
    X, Y, sample_weight, prior_mean, scale, *, center: bool, moments
) -> list:
    """:func:`primal_problems` from the rows (dense or sparse X, never
    densified): a column of Phi^T Phi is D (X^T W X_m - n x_mean x_mean_m) D_m."""
    n, x_mean, diag = moments
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    Xc = X.tocsc() if sparse.issparse(X) else X
    y_mean = (w @ Y) / n if center else np.zeros(Y.shape[1])
    fit0 = np.asarray(X @ prior_mean).ravel() - x_mean @ prior_mean
    R = (Y - y_mean[None, :]) - fit0[:, None]  # sum_i w_i R_i = 0 if centred
    XtR = np.asarray(X.T @ (w[:, None] * R))
    rss0 = np.einsum("i,ij,ij->j", w, R, R)
    g_diag = diag * scale**2

    def columns(idx):
        Xm = Xc[:, idx]
        Xm = Xm.toarray() if sparse.issparse(Xm) else np.asarray(Xm)
        G = np.asarray(X.T @ (w[:, None] * Xm)) - n * np.outer(x_mean, x_mean[idx])
        return scale[:, None] * G * scale[idx][None, :]

    return [
        Problem(columns, g_diag, scale * XtR[:, j], float(rss0[j]))
        for j in range(Y.shape[1])
    ]


# ---------------------------------------------------------------------------
# Several targets, each with its own prior: one posterior per target
# ---------------------------------------------------------------------------


class StackedPosterior(NamedTuple):
    """k one-target :class:`~bayesreg._gaussian.SpectralPosterior` s, each
    in its own eigenbasis (its own prior std), read as one posterior."""

    parts: tuple

    def _cat(self, name):
        return np.concatenate([getattr(p, name) for p in self.parts])

    coef = property(lambda self: self._cat("coef"))
    intercept = property(lambda self: self._cat("intercept"))
    noise_var = property(lambda self: self._cat("noise_var"))
    df = property(lambda self: self._cat("df"))
    log_evidence = property(lambda self: self._cat("log_evidence"))
    rho = property(lambda self: self._cat("rho"))
    form = property(lambda self: self.parts[0].form)


def predictive_moments(post: StackedPosterior, X) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bayesreg._gaussian.predictive_moments`, target by target."""
    moments = [_gaussian.predictive_moments(p, X) for p in post.parts]
    return tuple(np.concatenate(m, axis=1) for m in zip(*moments, strict=True))


def coef_covariance(post, j: int = 0) -> np.ndarray:
    """:func:`bayesreg._gaussian.coef_covariance` of target j."""
    if isinstance(post, StackedPosterior):
        return _gaussian.coef_covariance(post.parts[j], 0)
    return _gaussian.coef_covariance(post, j)


def sample_posterior(post, n_samples: int, rng) -> _gaussian.Draws:
    """:func:`bayesreg._gaussian.sample_posterior`, target by target."""
    if not isinstance(post, StackedPosterior):
        return _gaussian.sample_posterior(post, n_samples, rng)
    draws = [_gaussian.sample_posterior(p, n_samples, rng) for p in post.parts]
    return _gaussian.Draws(
        *(np.concatenate(d, axis=1) for d in zip(*draws, strict=True))
    )
