"""Equally weighted Normal mixtures: the predictive of posterior draws."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._base import PredictiveDistribution


class NormalMixture(PredictiveDistribution):
    """Equally weighted mixtures of Normals, one mixture per point (and target).

    This is the posterior predictive of a model represented by S posterior
    draws (or S ensemble members): for draw s the observation is
    Normal(f_s(x), sigma_s). The moments follow the law of total variance;
    quantiles are found by a vectorised bracketed root search on the mixture
    CDF (all points at once).

    **Shapes.** The component (draw) axis is always the *last* axis of
    ``locs``; the axes before it are the batch shape. One target: ``locs``
    of shape (n, S), batch (n,). k targets: ``locs`` of shape (n, k, S),
    batch (n, k), where ``locs[i, j, s]`` is draw s of the regression
    function of target j at point i. ``scales`` is anything that broadcasts
    (NumPy's rules) to the shape of ``locs``: (S,) for one noise std per
    draw shared by every target, (k, S) for a noise std per target and
    draw, (n, S) or (n, k, S) for one per point. Draw s of every target
    and point comes from the same posterior draw, but the predictive of
    each (point, target) is its own mixture, as everywhere in bayesreg
    (independent marginals).

    Parameters
    ----------
    locs : array-like of shape (n, S) or (n, k, S)
        Regression function of each draw at each point (and target).
    scales : array-like broadcasting to the shape of ``locs``
        Noise standard deviation of each draw (positive): (S,), (n, S),
        (k, S) or (n, k, S).

    Attributes
    ----------
    n : int
        Number of points.
    n_components : int
        Number of components S.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.distributions import NormalMixture
    >>> d = NormalMixture(np.array([[-1.0, 1.0]]), np.array([1.0, 1.0]))
    >>> round(float(d.std[0]) ** 2, 12)  # 1 (noise) + 1 (spread of the means)
    2.0

    Three points, two targets, four draws; a noise std per target and draw:

    >>> locs = np.zeros((3, 2, 4))
    >>> d2 = NormalMixture(locs, np.array([[1.0] * 4, [2.0] * 4]))
    >>> d2.batch_shape, d2.std[0], d2.sample(5, random_state=0).shape
    ((3, 2), array([1., 2.]), (3, 2, 5))
    """

    def __init__(self, locs, scales):
        locs = np.asarray(locs, dtype=float)
        if locs.ndim not in (2, 3) or locs.shape[-1] < 1:
            raise ValueError(
                f"locs must have shape (n, S) or (n, k, S), got {locs.shape}."
            )
        scales = np.asarray(scales, dtype=float)
        if locs.ndim == 2 and scales.ndim == 1:
            scales = scales[None, :]
        try:
            scales = np.broadcast_to(scales, locs.shape)
        except ValueError:
            raise ValueError(
                f"scales of shape {scales.shape} do not broadcast to the shape "
                f"of locs, {locs.shape}."
            ) from None
        if not (np.all(np.isfinite(locs)) and np.all(np.isfinite(scales))):
            raise ValueError("locs and scales must be finite.")
        if np.any(scales <= 0):
            raise ValueError("scales must be positive.")
        self.locs = locs
        self.scales = scales
        self.n, self.n_components = locs.shape[0], locs.shape[-1]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the array of mixtures: ``locs.shape[:-1]``."""
        return tuple(self.locs.shape[:-1])

    @property
    def mean(self) -> np.ndarray:
        return self.locs.mean(axis=-1)

    @property
    def epistemic_std(self) -> np.ndarray:
        return self.locs.std(axis=-1)

    @property
    def aleatoric_std(self) -> np.ndarray:
        return np.sqrt(np.mean(self.scales**2, axis=-1))

    @property
    def std(self) -> np.ndarray:
        # Law of total variance: Var y = E[sigma_s^2] + Var[f_s].
        return np.sqrt(self.aleatoric_std**2 + self.epistemic_std**2)

    def logpdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        # batch + (m, S): each value against each component.
        z = stats.norm.logpdf(
            y2[..., None], self.locs[..., None, :], self.scales[..., None, :]
        )
        out = special.logsumexp(z, axis=-1) - np.log(self.n_components)
        return out[..., 0] if was_1d else out

    def cdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        out = stats.norm.cdf(
            y2[..., None], self.locs[..., None, :], self.scales[..., None, :]
        ).mean(axis=-1)
        return out[..., 0] if was_1d else out

    def ppf(self, q) -> np.ndarray:
        from scipy.optimize import elementwise

        q = check_quantile_levels(q)
        scalar = q.ndim == 0
        q2, was_1d = self._check_y(np.full(self.batch_shape, q) if scalar else q)
        m = q2.shape[-1]
        # The mixture quantile lies between the component quantiles at the same
        # level, which gives a valid bracket for every point.
        zq = stats.norm.ppf(q2)[..., None]
        comp = self.locs[..., None, :] + zq * self.scales[..., None, :]
        lo, hi = comp.min(axis=-1), comp.max(axis=-1)
        width = np.maximum(hi - lo, 1e-12 * (1 + np.abs(lo)))
        lo, hi = lo - width, hi + width
        n_dists = int(np.prod(self.batch_shape))
        locs = self.locs.reshape(n_dists, self.n_components)
        scales = self.scales.reshape(n_dists, self.n_components)
        row = np.repeat(np.arange(n_dists), m)

        def excess(x, target, row):
            # find_root compresses x and args to the unconverged elements;
            # the row index recovers each element's mixture components.
            cdf = stats.norm.cdf(x[..., None], locs[row], scales[row])
            return cdf.mean(axis=-1) - target

        res = elementwise.find_root(
            excess,
            (lo.ravel(), hi.ravel()),
            args=(q2.ravel(), row),
            tolerances={"xatol": 1e-12, "xrtol": 1e-12},
        )
        out = res.x.reshape(q2.shape)
        return out[..., 0] if (was_1d or scalar) else out

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        shape = (*self.batch_shape, n_samples)
        comp = rng.integers(self.n_components, size=shape)
        noise = rng.standard_normal(shape)
        locs = np.take_along_axis(self.locs, comp, axis=-1)
        return locs + np.take_along_axis(self.scales, comp, axis=-1) * noise
