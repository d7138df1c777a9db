"""Quantiles of equally weighted Normal mixtures, all rows at once.

The quantile ``x`` of level ``q`` of the mixture of ``Normal(mu_s, sigma_s)``
solves ``F(x) = mean_s Phi((x - mu_s) / sigma_s) = q``. Levels above 1/2 are
mirrored (``x -> -x``, ``mu -> -mu``, ``q -> 1 - q``), so every problem is a
lower tail, ``F(x) = p <= 1/2``, and a tail probability keeps its relative
accuracy however small it is.

Every row then runs the same few array operations: safeguarded Halley
steps on ``g(x) = log F(x) - log p`` (log space: the tails of ``F`` are
near-exponential in ``x``, where steps on ``F`` itself overshoot), using
``F``, ``F'`` and ``F''`` from one pass over the components, from a
Cornish-Fisher start (the mixture's moments up to the fourth), inside the
bracket of the components' own quantiles at the level (``F`` is at most
``p`` at the smallest of them and at least ``p`` at the largest), bisecting
where a step leaves the bracket. Halley's step converges cubically: a row
stops once ``|g(x)| <= _RTOL = 1e-6`` and takes that last step (which cubes
the error), so ``F(x) = p (1 +- 1e-12)`` or better; typical predictives
take two or three passes over their components. Rows that have not stopped
after ``_MAX_ITER`` steps (none in the tests) are handed to
:func:`scipy.optimize.elementwise.find_root`. Rows are evaluated in blocks
of ``_BLOCK`` (row, component) pairs, so the temporaries stay in cache and
take O(``_BLOCK``) memory whatever the number of rows.
"""

from __future__ import annotations

import numpy as np
from scipy import special

# (row, component) pairs evaluated at once: 2 MiB per float64 temporary.
_BLOCK = 2**18
# Stop when |log F(x) - log p| is below this (then take one more step).
_RTOL = 1e-6
_MAX_ITER = 60
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def mixture_quantiles(locs: np.ndarray, scales: np.ndarray, q: np.ndarray):
    """Quantiles of level ``q[i]`` of mixture i.

    Parameters
    ----------
    locs, scales : ndarray of shape (N, S)
        Components of N equally weighted mixtures (``scales > 0``).
    q : ndarray of shape (N,)
        Levels in (0, 1).

    Returns
    -------
    x : ndarray of shape (N,)
    """
    n, s = locs.shape
    out = np.empty(n)
    rows = max(1, _BLOCK // max(s, 1))
    for start in range(0, n, rows):
        block = slice(start, start + rows)
        out[block] = _block_quantiles(locs[block], scales[block], q[block])
    return out


def _block_quantiles(locs, scales, q):
    # In units of a power of two near each row's largest scale: exact (no
    # rounding), so rows of ordinary scales compute the same bits, while
    # scales near the ends of the float range (1e-300) neither underflow
    # in the moments nor meet find_root's absolute tolerance.
    locs, scales, unit = _in_units(locs, scales)
    return unit * _solve(locs, scales, q)


def _in_units(locs, scales):
    """``(locs, scales) / unit`` and ``unit``, a power of two per row: the
    largest scale in [1/2, 1) where the largest |loc| allows (the fourth
    moment of the locations must stay finite: |loc| <= 2^250 in the new
    units), and never below 2^-600 (the smallest scales stay normal)."""
    big_scale = np.frexp(scales.max(axis=1))[1]
    big_loc = np.frexp(np.abs(locs).max(axis=1))[1]
    shift = np.maximum(np.minimum(-big_scale, 250 - big_loc), -big_scale - 600)
    shift = shift[:, None]
    unit = np.ldexp(1.0, -shift[:, 0])
    return np.ldexp(locs, shift), np.ldexp(scales, shift), unit


def _solve(locs, scales, q):
    upper = q > 0.5
    sign = np.where(upper, -1.0, 1.0)[:, None]
    p = np.where(upper, 1.0 - q, q)  # tail probability, <= 1/2
    mu = sign * locs  # mirrored: every row a lower tail
    inv = 1.0 / scales
    zp = special.ndtri(p)[:, None]
    comp = mu + zp * scales
    lo, hi = comp.min(axis=1), comp.max(axis=1)
    x = np.clip(_cornish_fisher(mu, scales, zp[:, 0]), lo, hi)
    log_p = np.log(p)
    active = np.flatnonzero(hi > lo)  # equal components: x = lo = hi already
    every = active.size == x.size
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_MAX_ITER):
            if active.size == 0:
                break
            if every:  # no copies while every row is active
                mu_a, inv_a, active = mu, inv, slice(None)
            else:
                mu_a, inv_a = mu[active], inv[active]
            xa = x[active]
            z = (xa[:, None] - mu_a) * inv_a
            cdf = special.ndtr(z).mean(axis=1)
            w = np.exp(-0.5 * z * z)
            w *= inv_a  # phi(z) / sigma, up to 1 / sqrt(2 pi)
            z *= inv_a
            dens = w.sum(axis=1) * (_INV_SQRT_2PI / z.shape[1])
            slope = np.einsum("ij,ij->i", w, z) * (-_INV_SQRT_2PI / z.shape[1])
            resid = np.log(cdf) - log_p[active]
            below = resid < 0
            lo[active] = np.where(below, xa, lo[active])
            hi[active] = np.where(below, hi[active], xa)
            # Halley's step on g = log F - log p (cubic convergence):
            # g' = f / F, g'' = f' / F - g'^2, x -= 2 g g' / (2 g'^2 - g g'').
            g1 = dens / cdf
            g2 = slope / cdf - g1 * g1
            new = xa - 2 * resid * g1 / (2 * g1 * g1 - resid * g2)
            la, ha = lo[active], hi[active]
            outside = ~((new > la) & (new < ha))  # also NaN
            new = np.where(outside, la + 0.5 * (ha - la), new)
            stop = np.abs(resid) <= _RTOL
            new = np.where(stop & outside, xa, new)
            # A bracket closed to adjacent floats holds the root.
            stop |= (ha - la) <= 4 * np.spacing(np.maximum(np.abs(la), np.abs(ha)))
            x[active] = new
            active = np.flatnonzero(~stop) if every else active[~stop]
            every = False
    if active.size:
        x[active] = _find_root(mu[active], scales[active], p[active])
    return sign[:, 0] * x


def _cornish_fisher(mu, scales, z):
    """The Cornish-Fisher quantile at standard Normal quantiles ``z``, from
    the mixture's first four moments (component moments: the mean, and
    central moments ``sigma^2``, 0, ``3 sigma^4``)."""
    mean = mu.mean(axis=1)
    d = mu - mean[:, None]
    s2 = scales * scales
    d2 = d * d
    var = np.mean(s2 + d2, axis=1)
    m3 = np.mean(d * (d2 + 3 * s2), axis=1)
    m4 = np.mean(d2 * (d2 + 6 * s2) + 3 * s2 * s2, axis=1)
    skew = m3 / var**1.5
    kurt = m4 / (var * var) - 3.0
    return mean + np.sqrt(var) * cornish_fisher_z(z, skew, kurt)


def cornish_fisher_z(z, skew, kurt):
    """The standardised Cornish-Fisher quantile at standard Normal quantiles
    ``z``, to the fourth cumulant: skewness and excess kurtosis."""
    return (
        z
        + (z * z - 1) * skew / 6
        + (z**3 - 3 * z) * kurt / 24
        - (2 * z**3 - 5 * z) * skew * skew / 36
    )


def _find_root(mu, scales, p):
    """scipy's bracketed root search, per row: the fallback."""
    from scipy.optimize import elementwise

    zp = special.ndtri(p)[:, None]
    comp = mu + zp * scales
    lo, hi = comp.min(axis=1), comp.max(axis=1)
    width = np.maximum(hi - lo, 1e-12 * (1 + np.abs(lo)))
    row = np.arange(mu.shape[0])

    def excess(x, target, row):
        z = (x[:, None] - mu[row]) / scales[row]
        return special.ndtr(z).mean(axis=1) - target

    res = elementwise.find_root(
        excess,
        (lo - width, hi + width),
        args=(p, row),
        tolerances={"xatol": 1e-300, "xrtol": 4 * np.finfo(float).eps},
    )
    return res.x
