"""Equally weighted Student-t mixtures: the predictive of a robust model's
posterior draws."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._base import _by_rows
from ._loc_scale import _student_t_lower_quantile
from ._mixture import EqualMixture, _level_blocks
from ._quantile import _BLOCK

# Stop when |log F(x) - log p| is below this (then take one more step).
_RTOL = 1e-10
_MAX_ITER = 100


class StudentTMixture(EqualMixture):
    """Equally weighted mixtures of location-scale Student-t's, one per point.

    The posterior predictive of a Student-t regression represented by S
    posterior draws: for draw s the observation is ``loc_s(x) + scale_s
    t(df_s)``. Shapes as :class:`~bayesreg.distributions.NormalMixture`
    (the component axis last; ``df`` broadcasts like ``scales``). The
    variance of a component is ``scale^2 df / (df - 2)``, finite for df > 2
    (required), so the moments and the variance split follow the law of
    total variance as for Normal components; quantiles by safeguarded
    Newton steps on the log of the mixture CDF, every point at once.

    Parameters
    ----------
    locs : array-like of shape (n, S) or (n, k, S)
        Location of each draw at each point.
    scales : array-like broadcasting to the shape of ``locs``
        Scale of each draw (positive).
    df : array-like broadcasting to the shape of ``locs``
        Degrees of freedom of each draw (> 2).

    Attributes
    ----------
    n : int
        Number of points.
    n_components : int
        Number of components S.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.distributions import StudentTMixture
    >>> d = StudentTMixture(np.array([[0.0, 0.0]]), np.array([1.0, 1.0]),
    ...                     np.array([4.0, 4.0]))
    >>> round(float(d.std[0]) ** 2, 12)  # df / (df - 2)
    2.0
    >>> d.interval(0.9).round(3)
    array([[-2.132,  2.132]])
    """

    def __init__(self, locs, scales, df):
        locs = np.asarray(locs, dtype=float)
        if locs.ndim not in (2, 3) or locs.shape[-1] < 1:
            raise ValueError(
                f"locs must have shape (n, S) or (n, k, S), got {locs.shape}."
            )
        parts = {}
        for name, value in (("scales", scales), ("df", df)):
            a = np.asarray(value, dtype=float)
            if locs.ndim == 2 and a.ndim == 1:
                a = a[None, :]
            try:
                np.broadcast_to(a, locs.shape)
            except ValueError:
                raise ValueError(
                    f"{name} of shape {a.shape} do not broadcast to the shape "
                    f"of locs, {locs.shape}."
                ) from None
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be finite.")
            parts[name] = a
        if not np.all(np.isfinite(locs)):
            raise ValueError("locs must be finite.")
        if np.any(parts["scales"] <= 0):
            raise ValueError("scales must be positive.")
        if np.any(parts["df"] <= 2):
            raise ValueError("df must be greater than 2 (a finite variance).")
        self.locs = locs
        self._scales, self._df = parts["scales"], parts["df"]
        self.scales = np.broadcast_to(self._scales, locs.shape)
        self.df = np.broadcast_to(self._df, locs.shape)
        self.n, self.n_components = locs.shape[0], locs.shape[-1]

    @property
    def aleatoric_std(self) -> np.ndarray:
        # E[scale_s^2 df_s / (df_s - 2)]: the components' variances averaged
        scales = self._scales
        var = scales**2 * (self._df / (self._df - 2.0))
        mean_sq = np.mean(var, axis=-1)
        return np.sqrt(np.broadcast_to(mean_sq, self.batch_shape))

    def _flat_df(self) -> np.ndarray:
        return _by_rows(self.df)

    def logpdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        m = y2.shape[-1]
        locs, scales = self._flat_params()
        df = self._flat_df()
        flat = _by_rows(y2)
        out = np.empty(flat.shape)
        log_s = np.log(self.n_components)
        for rows in self._row_blocks(m):
            z = stats.t.logpdf(
                flat[rows, :, None],
                df[rows, None, :],
                locs[rows, None, :],
                scales[rows, None, :],
            )
            out[rows] = special.logsumexp(z, axis=-1) - log_s
        out = out.reshape(y2.shape)
        return out[..., 0] if was_1d else out

    def cdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        m = y2.shape[-1]
        locs, scales = self._flat_params()
        df = self._flat_df()
        flat = _by_rows(y2)
        out = np.empty(flat.shape)
        for rows in self._row_blocks(m):
            t = (flat[rows, :, None] - locs[rows, None, :]) / scales[rows, None, :]
            out[rows] = special.stdtr(df[rows, None, :], t).mean(axis=-1)
        out = out.reshape(y2.shape)
        return out[..., 0] if was_1d else out

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        q2, was_1d = self._check_y(q)  # a scalar: one level per distribution
        m = q2.shape[-1]
        locs, scales = self._flat_params()
        df = self._flat_df()
        row = np.repeat(np.arange(locs.shape[0]), m)
        levels = q2.ravel()
        out = np.empty(levels.shape)
        for rows in _level_blocks(len(levels), self.n_components):
            r = row[rows]
            out[rows] = t_mixture_quantiles(locs[r], scales[r], df[r], levels[rows])
        out = out.reshape(q2.shape)
        return out[..., 0] if was_1d else out

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        return self._sample_from(*self._presample((*self.batch_shape, n_samples), rng))

    def _presample(self, shape, rng):
        # A component of every draw, then a uniform for its t quantile.
        return rng.integers(self.n_components, size=shape), rng.random(shape)

    def _sample_from(self, comp, u) -> np.ndarray:
        take = lambda a: np.take_along_axis(a, comp, axis=-1)  # noqa: E731
        noise = special.stdtrit(take(self.df), u)
        return take(self.locs) + take(self.scales) * noise


def t_mixture_quantiles(locs, scales, df, q) -> np.ndarray:
    """Quantiles of level ``q[i]`` of the equally weighted mixture i of
    ``loc + scale t(df)``, all of shape (N, S) (q: (N,)).

    Levels above 1/2 are mirrored (the t is symmetric), so each row solves a
    lower tail ``F(x) = p <= 1/2``: Newton steps on ``log F(x) - log p``
    from the mean of the components' own quantiles, inside the bracket of
    those quantiles (F is at most p at the smallest, at least p at the
    largest), bisecting where a step leaves it.
    """
    n, s = locs.shape
    out = np.empty(n)
    rows = max(1, _BLOCK // max(s, 1))
    for start in range(0, n, rows):
        b = slice(start, start + rows)
        out[b] = _block(locs[b], scales[b], df[b], q[b])
    return out


def _block(locs, scales, df, q):
    upper = q > 0.5
    sign = np.where(upper, -1.0, 1.0)[:, None]
    p = np.where(upper, 1.0 - q, q)
    mu = sign * locs
    # The components' own quantiles (stdtrit alone fails below about 1e-240).
    comp = mu + scales * _student_t_lower_quantile(*np.broadcast_arrays(df, p[:, None]))
    lo, hi = comp.min(axis=1), comp.max(axis=1)
    x = comp.mean(axis=1)
    log_p = np.log(p)
    active = np.flatnonzero(hi > lo)
    x[hi <= lo] = lo[hi <= lo]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_MAX_ITER):
            if active.size == 0:
                break
            xa = x[active]
            z = (xa[:, None] - mu[active]) / scales[active]
            cdf = special.stdtr(df[active], z).mean(axis=1)
            dens = (stats.t.pdf(z, df[active]) / scales[active]).mean(axis=1)
            resid = np.log(cdf) - log_p[active]
            below = resid < 0
            lo[active] = np.where(below, xa, lo[active])
            hi[active] = np.where(below, hi[active], xa)
            new = xa - resid * cdf / dens  # Newton on g = log F - log p
            la, ha = lo[active], hi[active]
            outside = ~((new > la) & (new < ha))
            new = np.where(outside, la + 0.5 * (ha - la), new)
            stop = np.abs(resid) <= _RTOL
            new = np.where(stop & outside, xa, new)
            stop |= (ha - la) <= 4 * np.spacing(np.maximum(np.abs(la), np.abs(ha)))
            x[active] = new
            active = active[~stop]
    return sign[:, 0] * x
