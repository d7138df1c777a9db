"""PyroBayesianLinear's SVI predictive: the exact predictive of its Gaussian guide.

The regression function is linear in the latents, so under the Gaussian
guide the function value f at a row x and the log noise scale l (learned
noise) are jointly Gaussian. With ``z`` the standardised l::

    y = f + s eps,   s = exp(l) = S exp(sd z),   z, eps ~ N(0, 1),
    f | z ~ N(m + b z, v),   b = Cov(f, l) / sd,   v = Var f - b^2,

so the predictive is a continuous scale mixture of Normals in which a row
enters only through (m, b, v). Its moments are closed form::

    E y = m,   Var y = b^2 + v + S^2 exp(2 sd^2)   (E s^2 of the lognormal),

and (m, b, v) of every row come from one product of X with a (d, d + 3)
matrix (:func:`predictive_map`); no (n, K) array is formed for them. The
density, the CDF and the quantiles integrate over z by quadrature
(:func:`noise_nodes`): Gauss-Hermite while the posterior sd of l and the
correlation of f with l are small (a handful of nodes then reach 1e-10
relative), a trapezoidal rule on [-9, 9] otherwise (geometric convergence
for integrands analytic in a strip, which the lognormal scale is).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import sparse, special

from ..distributions import Normal, NormalMixture
from ..distributions._quantile import cornish_fisher_z
from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator

#: equally weighted nodes of the component rendering (``locs``, ``scales``)
_RENDER_NODES = 64
#: (value, node) pairs evaluated at once: 256 KiB per float64 temporary
_BLOCK = 2**15
#: the trapezoidal rule's range of z (phi(9) / phi(0) = 3e-18)
_Z_MAX = 9.0
# Quantiles: stop once |log F(x) - log p| is below this and take one more
# Halley step, which cubes the error (to about 1e-15 from a start within 1e-5).
_RTOL = 1e-4
_MAX_ITER = 60
_LOG_2PI = math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class PredictiveMap(NamedTuple):
    """What the predictive of one target needs from its guide.

    ``X @ weights + offsets`` gives, per row, the mean, then (learned noise)
    the slope b, then a square root of the conditional variance v (the sum
    of squares of the remaining columns).
    """

    weights: np.ndarray
    offsets: np.ndarray
    log_noise: float | None  # log S: the log noise std at z = 0 (y's units)
    log_noise_sd: float | None  # sd of l
    slope_bound: float  # b / sqrt(v) <= this on every row


def predictive_map(post, design) -> PredictiveMap:
    """The :class:`PredictiveMap` of a one-target Gaussian guide.

    With gamma = (intercept, coefficients) on the original scale, affine in
    the latents theta (``gamma = c + T theta``), f(x) = [1, x] gamma and
    l = theta_j. Let C be the covariance of gamma given l: with C = F F'
    and F's first row rotated (a Householder reflection) onto its first
    axis, v(x) = ||[1, x] F||^2 has a constant only in its first column.
    """
    cov, loc = post.covariance(), post.loc
    d = design.M.shape[0]
    T = np.zeros((1 + d, loc.size))
    c = np.zeros(1 + d)
    c[0] = design.y_mean if design.centered else 0.0
    pos, j = 0, None
    for site in post.sites:
        block = slice(pos, pos + site.size)
        if site.name == "xi":
            Ms = design.y_scale * design.M / design.x_scale[:, None]
            T[1:, block] = Ms
            T[0, block] = -design.x_mean @ Ms  # f = y_mean + (x - x_mean) Ms xi
        elif site.name == "intercept":
            T[0, block] = design.y_scale / math.sqrt(design.n)
        elif site.name == "noise_std":
            j = pos
        pos += site.size
    mean = c + T @ loc
    C = T @ cov @ T.T
    columns, offsets = [mean[1:, None]], [mean[0]]
    log_noise = log_sd = None
    bound = 0.0
    if j is not None:
        log_sd = math.sqrt(cov[j, j])
        log_noise = math.log(design.y_scale) + float(loc[j])
        cross = T @ cov[:, j]
        slope = cross / log_sd
        # The squared multiple correlation of l with gamma bounds b^2 / v.
        r2 = float(cross @ np.linalg.pinv(C, hermitian=True) @ cross) / cov[j, j]
        r2 = min(max(r2, 0.0), 1.0 - 1e-12)
        bound = math.sqrt(r2 / (1.0 - r2))
        C = C - np.outer(slope, slope)
        columns.append(slope[1:, None])
        offsets.append(slope[0])
    lam, V = np.linalg.eigh(0.5 * (C + C.T))
    F = V * np.sqrt(np.clip(lam, 0.0, None))
    norm = float(np.linalg.norm(F[0]))
    u = F[0].copy()
    u[0] -= norm
    if np.any(u != 0):
        F = F - np.outer(F @ u, u) * (2.0 / (u @ u))  # F[0] -> (norm, 0, ...)
    columns.append(F[1:])
    offsets += [norm] + [0.0] * (F.shape[1] - 1)  # row_parameters relies on 0
    return PredictiveMap(
        np.hstack(columns), np.array(offsets), log_noise, log_sd, bound
    )


def predictive_maps(posteriors, designs) -> list[PredictiveMap]:
    """The map of each target's guide: formed once per fit (its
    eigendecomposition of the (d + 1)-square covariance is most of a
    prediction's cost from a few hundred features on)."""
    return [
        predictive_map(post, d) for post, d in zip(posteriors, designs, strict=True)
    ]


def row_parameters(pmap: PredictiveMap, X) -> tuple[np.ndarray, ...]:
    """``(m, v)`` (known noise) or ``(m, b, v)`` (learned noise) at rows X:
    one product of X with the map's weights."""
    W = pmap.weights
    # (c, n), each row contiguous: W' X' is X W transposed (BLAS transposes
    # for free); a sparse X gives X W, dense.
    G = (X @ W).T if sparse.issparse(X) else W.T @ X.T
    off = pmap.offsets
    k = 1 if pmap.log_noise is None else 2
    first = [G[i] + off[i] for i in range(k)]
    var = G[k] + off[k]
    var *= var
    sq = np.empty_like(var)
    for row in G[k + 1 :]:  # the offsets of these columns are 0
        var += np.square(row, out=sq)
    return (*first, var)


def svi_predict_dist(maps: list, X, noise_fixed, multi: bool):
    """The predictive at rows X of one target's guide (``maps`` of one), or
    of k targets' (batch (n, k)): a Normal with known noise, else a
    :class:`NoiseScaleMixture`."""
    parts = [row_parameters(p, X) for p in maps]
    if multi:
        parts = [np.stack(a, axis=1) for a in zip(*parts, strict=True)]
    else:
        parts = parts[0]
    if noise_fixed is not None:
        mean, var_f = parts
        noise = float(noise_fixed)
        return Normal(mean, np.sqrt(var_f + noise**2), epistemic_std=np.sqrt(var_f))
    log_noise = np.array([p.log_noise for p in maps])
    log_sd = np.array([p.log_noise_sd for p in maps])
    bound = max(p.slope_bound for p in maps)
    if not multi:
        log_noise, log_sd = log_noise[0], log_sd[0]
    return NoiseScaleMixture(*parts, log_noise, log_sd, bound)


# ----------------------------------------------------------------- nodes
@lru_cache(maxsize=64)
def _rule(kind: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    if kind == "gh":  # probabilists' Gauss-Hermite: E g(z) = sum w g(z_i)
        z, w = special.roots_hermitenorm(k)
        w = w / math.sqrt(2.0 * math.pi)
    else:
        z = np.linspace(-_Z_MAX, _Z_MAX, k)
        w = np.exp(-0.5 * z * z)
    z.setflags(write=False)
    w = w / w.sum()
    w.setflags(write=False)
    return z, w


def noise_nodes(sd: float, bound: float, r: np.ndarray) -> np.ndarray:
    """The quadrature over z for values ``r`` predictive sds from the mean.

    Returns integer codes, one per value: ``k > 0`` for k Gauss-Hermite
    nodes, ``-k`` for a k-node trapezoidal rule (see :func:`_rule`). The
    counts reach 1e-10 relative in the density and the CDF (checked
    against adaptive quadrature in the tests): Gauss-Hermite needs 5 nodes
    near the centre while sd <= 0.06 and b / sqrt(v) <= 0.5, more in the
    tails; the trapezoidal rule's error falls as exp(-pi^2 / (2 sd h)) for
    a step h (the integrand is analytic in |Im z| < pi / (4 sd)), and its
    count grows with sd and the slope of the conditional mean.
    """
    tail = np.maximum(r - 3.0, 0.0)
    gh = 5 + np.ceil(tail * (1.0 + 20.0 * sd)) + math.ceil(max(16.0 * bound - 0.8, 0))
    trap = math.ceil(40.0 + 80.0 * sd + 12.0 * bound) + np.ceil(4.0 * tail)
    easy = (sd <= 0.06) & (bound <= 0.5) & (gh <= 24)
    return np.where(easy, gh, -trap).astype(np.int64)


def _nodes(code: int) -> tuple[np.ndarray, np.ndarray]:
    return _rule("gh", code) if code > 0 else _rule("trap", -code)


def _by_rule(codes: np.ndarray):
    """``(code, index)`` for each rule in use; index ``None`` when one rule
    serves every value (no gather)."""
    if codes.size and codes.min() == codes.max():
        yield int(codes.flat[0]), None
        return
    uniq = np.unique(codes)
    for code in uniq:
        yield int(code), np.flatnonzero(codes == code)


# ------------------------------------------------------------ distribution
class NoiseScaleMixture(NormalMixture):
    """The predictive of the Gaussian guide with learned noise.

    ``y = m + b z + sqrt(v) w + S exp(sd z) eps`` with z, w, eps standard
    Normal (see the module's docstring): a Normal mixture over z with
    locations ``m + b z`` and scales ``sqrt(v + S^2 exp(2 sd z))``.
    Moments are closed form; ``logpdf``, ``cdf`` and ``ppf`` integrate over
    z by quadrature (:func:`noise_nodes`), ``sample`` draws z exactly.

    ``locs`` and ``scales`` (what code that reads a mixture's components
    uses: CRPS, target transforms, plots) render it as 64 equally
    weighted midpoint-quantile nodes of z (``_RENDER_Z``), built when read.

    Parameters
    ----------
    loc, slope, var_cond : ndarray of shape (n,) or (n, k)
        m, b and v of each row (and target).
    log_noise, log_noise_sd : float or ndarray of shape (k,)
        log S and sd per target.
    slope_bound : float
        A bound on b / sqrt(v) over every row.
    """

    def __init__(self, loc, slope, var_cond, log_noise, log_noise_sd, slope_bound):
        self.loc = np.asarray(loc, dtype=float)
        self.slope = np.asarray(slope, dtype=float)
        self.var_cond = np.asarray(var_cond, dtype=float)
        self.log_noise = np.asarray(log_noise, dtype=float)
        self.log_noise_sd = np.asarray(log_noise_sd, dtype=float)
        self.slope_bound = float(slope_bound)
        self.n = self.loc.shape[0]
        self.n_components = _RENDER_NODES

    # ------------------------------------------------------- moments
    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.loc.shape)

    @property
    def mean(self) -> np.ndarray:
        return self.loc

    @property
    def epistemic_std(self) -> np.ndarray:
        return np.sqrt(self.slope**2 + self.var_cond)

    @property
    def aleatoric_std(self) -> np.ndarray:
        # sqrt(E s^2) of the lognormal s = S exp(sd z)
        rms = np.exp(self.log_noise + self.log_noise_sd**2)
        return np.broadcast_to(rms, self.batch_shape)

    @property
    def std(self) -> np.ndarray:
        # Var y = b^2 + v + E s^2, in one pass of its own
        mean_sq = np.exp(2.0 * (self.log_noise + self.log_noise_sd**2))
        var = self.slope * self.slope
        var += self.var_cond
        var += mean_sq
        return np.sqrt(var, out=var)

    # --------------------------------------------- component rendering
    @property
    def locs(self) -> np.ndarray:
        return self.loc[..., None] + self.slope[..., None] * _RENDER_Z

    @property
    def scales(self) -> np.ndarray:
        log_s = self.log_noise[..., None] + self.log_noise_sd[..., None] * _RENDER_Z
        return np.sqrt(self.var_cond[..., None] + np.exp(2.0 * log_s))

    # ------------------------------------------------ pointwise methods
    def _flat(self) -> tuple[np.ndarray, ...]:
        """m, b, v of every distribution, flattened (N,), and log S, sd:
        scalars for one target, else flattened too."""
        batch = self.batch_shape
        noise = (self.log_noise, self.log_noise_sd)
        if self.log_noise.ndim:
            noise = tuple(np.broadcast_to(a, batch).reshape(-1) for a in noise)
        return (
            self.loc.reshape(-1),
            self.slope.reshape(-1),
            self.var_cond.reshape(-1),
            *noise,
        )

    def _pairs(self, values: np.ndarray, func, codes) -> np.ndarray:
        """``func(params, values, z, w)`` over (distribution, value) pairs:
        ``values`` (N, m), the pairs grouped by quadrature rule and taken in
        blocks of about ``_BLOCK`` (pair, node) evaluations."""
        params = self._flat()
        N, m = values.shape
        flat = values.reshape(-1)
        out = np.empty(flat.shape)
        for code, index in _by_rule(codes.reshape(-1)):
            z, w = _nodes(code)
            size = N * m if index is None else index.size
            step = max(1, _BLOCK // len(z))
            for start in range(0, size, step):
                if index is None:
                    pick = slice(start, start + step)
                    rows = np.arange(pick.start, min(pick.stop, size)) // m
                    if m == 1:
                        rows = pick
                else:
                    pick = index[start : start + step]
                    rows = pick // m
                args = [p[rows] if p.ndim else p for p in params]
                out[pick] = func(args, flat[pick], z, w)
        return out.reshape(values.shape)

    def _codes(self, r: np.ndarray) -> np.ndarray:
        sd = float(np.max(self.log_noise_sd))
        # Values beyond 40 sds (or infinite) take the rule at 40.
        r = np.minimum(np.nan_to_num(r, nan=0.0, posinf=40.0), 40.0)
        return noise_nodes(sd, self.slope_bound, r)

    def _standardised(self, y2: np.ndarray) -> np.ndarray:
        return np.abs(y2 - self.loc.reshape(-1, 1)) / self.std.reshape(-1, 1)

    def _at(self, y, rule) -> np.ndarray:
        """``rule`` (the log density or the CDF) at y, in y's shape."""
        y2, was_1d = self._check_y(y)
        shape = y2.shape
        y2 = np.reshape(y2, (-1, shape[-1]))
        out = self._pairs(y2, rule, self._codes(self._standardised(y2)))
        out = out.reshape(shape)
        return out[..., 0] if was_1d else out

    def logpdf(self, y) -> np.ndarray:
        return self._at(y, _logpdf)

    def cdf(self, y) -> np.ndarray:
        return self._at(y, _cdf)

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        scalar = q.ndim == 0
        q2, was_1d = self._check_y(np.full(self.batch_shape, q) if scalar else q)
        shape = q2.shape
        out = self._tabulated(float(q)) if scalar else None
        if out is None:
            q2 = np.reshape(q2, (-1, shape[-1]))
            # The quantile lies about |ndtri(q)| predictive sds from the mean.
            codes = self._codes(np.abs(special.ndtri(q2)) + 0.5)
            out = self._pairs(q2, _quantiles, codes)
        out = out.reshape(shape)
        return out[..., 0] if (was_1d or scalar) else out

    def _tabulated(self, q: float) -> np.ndarray | None:
        """Quantiles of level q when f is independent of the noise (b = 0:
        the diagonal guide, the default), or None.

        In units of the predictive sd the quantile is then a function u(rho)
        of rho = v / Var y alone, smooth on [0, 1] (Normal at rho = 1): it is
        interpolated at Chebyshev points from quantiles solved as in
        :meth:`ppf`, and used only if the interpolant's last coefficients are
        below 1e-14 (else None).
        """
        if self.slope_bound != 0.0:
            return None
        out = np.empty(self.batch_shape)
        targets = [(slice(None), self.log_noise, self.log_noise_sd)]
        if self.log_noise.ndim:
            targets = [
                ((slice(None), j), self.log_noise[j], self.log_noise_sd[j])
                for j in range(self.log_noise.size)
            ]
        for cols, log_s, sd in targets:
            code = int(self._codes(np.array([abs(special.ndtri(q)) + 0.5]))[0])
            coef = _quantile_table(q, float(sd), code)
            if coef is None:
                return None
            v = self.var_cond[cols]
            var = v + math.exp(2.0 * float(log_s) + 2.0 * float(sd) ** 2)
            sd_y = np.sqrt(var)
            out[cols] = self.loc[cols] + sd_y * _clenshaw(coef, 2.0 * v / var - 1.0)
        return out

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        return self._sample_from(*self._presample((*self.batch_shape, n_samples), rng))

    def _presample(self, shape, rng):
        # z (the log noise, standardised), then the Normal of y given z.
        return rng.standard_normal(shape), rng.standard_normal(shape)

    def _sample_from(self, z, eps) -> np.ndarray:
        log_s = self.log_noise[..., None] + self.log_noise_sd[..., None] * z
        scale = np.sqrt(self.var_cond[..., None] + np.exp(2.0 * log_s))
        return self.loc[..., None] + self.slope[..., None] * z + scale * eps


@lru_cache(maxsize=64)
def _quantile_table(q: float, sd: float, code: int) -> np.ndarray | None:
    """Chebyshev coefficients in t = 2 rho - 1 of the standardised quantile
    u(rho) of level q of sqrt(rho) w + s eps, E s^2 = 1 - rho (see
    :meth:`NoiseScaleMixture._tabulated`), or None if 32 do not reach 1e-14."""

    def u(t):
        rho = 0.5 * (t + 1.0)
        log_s = 0.5 * np.log(np.maximum(1.0 - rho, 1e-300)) - sd * sd
        n = t.size
        params = (np.zeros(n), np.zeros(n), rho, log_s, np.full(n, sd))
        return _quantiles(params, np.full(n, q), *_nodes(code))

    coef = np.polynomial.chebyshev.chebinterpolate(u, 32)
    small = np.abs(coef) <= 1e-14
    if not (small[-1] and small[-2]):
        return None
    keep = np.flatnonzero(~small)
    coef = coef[: (keep[-1] + 1 if keep.size else 1)]
    coef.setflags(write=False)
    return coef


def _clenshaw(coef: np.ndarray, t: np.ndarray) -> np.ndarray:
    """sum_j coef[j] T_j(t) by Clenshaw's recurrence."""
    if coef.size == 1:
        return np.full(t.shape, coef[0])
    t2 = 2.0 * t
    b1 = np.zeros(t.shape)
    b2 = np.zeros(t.shape)
    for c in coef[:0:-1]:
        b2 = t2 * b1 - b2 + c
        b1, b2 = b2, b1
    return t * b1 - b2 + coef[0]


def _midpoint_nodes(k: int) -> np.ndarray:
    """k equally weighted N(0, 1) nodes (midpoint quantiles), with mean 0 and
    second moment rescaled to exactly 1."""
    z = special.ndtri((np.arange(k) + 0.5) / k)
    return z / np.sqrt(np.mean(z**2))


#: the nodes of z that ``locs`` and ``scales`` render, formed once
_RENDER_Z = _midpoint_nodes(_RENDER_NODES)
_RENDER_Z.setflags(write=False)


def _components(params, z) -> tuple[np.ndarray, np.ndarray]:
    """Locations and variances (K, P) of the Normals at the nodes z (nodes
    first: a sum over the nodes adds contiguous rows)."""
    m, b, v, log_s, sd = params
    zc = z[:, None]
    locs = m + b * zc
    var = v + np.exp(2.0 * (log_s + sd * zc))
    return locs, var


def _weighted(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_k w_k a[k] of a (K, P), node after node: the order of the sum
    does not depend on P (a BLAS product's may: then a block of rows would
    not give what the whole gives, to the last bit)."""
    out = a[0] * w[0]
    for ak, wk in zip(a[1:], w[1:], strict=True):
        out += ak * wk
    return out


def _logpdf(params, y, z, w) -> np.ndarray:
    locs, var = _components(params, z)
    lp = np.subtract(y, locs, out=locs)
    lp *= lp
    lp /= var
    lp += np.log(var, out=var)
    lp *= -0.5
    lp += np.log(w)[:, None]
    top = lp.max(axis=0)
    top[np.isinf(top)] = 0.0  # an infinite y: -inf below, not nan
    lp -= top
    np.exp(lp, out=lp)
    with np.errstate(divide="ignore"):
        return top + np.log(_weighted(lp, np.ones(len(w)))) - 0.5 * _LOG_2PI


def _cdf(params, y, z, w) -> np.ndarray:
    locs, var = _components(params, z)
    cdf = _weighted(special.ndtr((y - locs) / np.sqrt(var)), w)
    # The weights sum to 1 up to rounding: divided by their sum, as the same
    # sum forms it, the CDF at +inf is 1 exactly.
    return np.minimum(cdf / _weighted(np.ones((len(w), 1)), w), 1.0)


def _quantiles(params, q, z, w) -> np.ndarray:
    """Quantiles of levels q by safeguarded Halley steps on log F.

    As :func:`bayesreg.distributions._quantile.mixture_quantiles`, with
    weights: levels above 1/2 mirrored to lower tails, a start from the
    Cornish-Fisher expansion with the predictive's exact first four
    moments, within 1e-5 of log p on typical rows, so that one Halley step
    (which cubes the error) ends them. The bracket of the components' own
    quantiles at the level (F <= p at the smallest, >= p at the largest)
    is formed only for the rows that need a second step.
    """
    m, b, v, log_s, sd = params
    upper = q > 0.5
    sign = np.where(upper, -1.0, 1.0)
    p = np.where(upper, 1.0 - q, q)
    locs, var = _components((sign * m, sign * b, v, log_s, sd), z)
    inv = 1.0 / np.sqrt(var)
    zp = special.ndtri(p)
    x = _cornish_fisher(sign * m, sign * b, v, log_s, sd, zp)
    log_p = np.log(p)
    lo = hi = None
    active = slice(None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_MAX_ITER):
            xa = x[active]
            inv_a = inv[:, active]
            t = xa * inv_a
            t -= locs[:, active] * inv_a
            cdf = _weighted(special.ndtr(t), w)
            e = np.square(t)
            e *= -0.5
            np.exp(e, out=e)
            e *= inv_a  # phi(t) / sigma, times sqrt(2 pi)
            dens = _weighted(e, w) * _INV_SQRT_2PI
            e *= t
            e *= inv_a
            slope = _weighted(e, w) * -_INV_SQRT_2PI
            resid = np.log(cdf) - log_p[active]
            # Halley's step on g = log F - log p (cubic convergence):
            # g' = f / F, g'' = f' / F - g'^2, x -= 2 g g' / (2 g'^2 - g g'').
            g1 = dens / cdf
            g2 = slope / cdf - g1 * g1
            new = xa - 2 * resid * g1 / (2 * g1 * g1 - resid * g2)
            stop = np.abs(resid) <= _RTOL
            if lo is None:
                if np.all(stop & np.isfinite(new)):
                    x[active] = new
                    break
                comp = locs + zp / inv
                lo, hi = comp.min(axis=0), comp.max(axis=0)
                active = np.arange(x.size)
            below = resid < 0
            la = np.where(below, xa, lo[active])
            ha = np.where(below, hi[active], xa)
            lo[active], hi[active] = la, ha
            outside = ~((new > la) & (new < ha))  # also NaN
            new = np.where(outside, la + 0.5 * (ha - la), new)
            new = np.where(stop & outside, xa, new)
            # A bracket closed to adjacent floats holds the root.
            stop |= (ha - la) <= 4 * np.spacing(np.maximum(np.abs(la), np.abs(ha)))
            x[active] = new
            active = active[~stop]
            if active.size == 0:
                break
    return sign * x


def _cornish_fisher(m, b, v, log_s, sd, zp) -> np.ndarray:
    """The Cornish-Fisher quantile from the exact moments of y = m + b z +
    sqrt(v) w + S exp(sd z) eps (E z^k exp(2 sd z) in closed form)."""
    s2 = np.exp(2.0 * log_s + 2.0 * sd * sd)  # E s^2
    s4 = np.exp(4.0 * log_s + 8.0 * sd * sd)  # E s^4
    u2 = b * b + v
    var = u2 + s2
    m3 = 6.0 * b * sd * s2  # 3 b E[z s^2]
    m4 = 3.0 * u2 * u2 + 6.0 * s2 * (b * b * (1.0 + 4.0 * sd * sd) + v) + 3.0 * s4
    sd_y = np.sqrt(var)
    skew = m3 / (var * sd_y)
    kurt = m4 / (var * var) - 3.0
    return m + sd_y * cornish_fisher_z(zp, skew, kurt)
