"""Equally weighted Normal mixtures: the predictive of posterior draws."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._base import PredictiveDistribution, _by_rows
from ._quantile import _BLOCK, mixture_quantiles


def _level_blocks(n_levels: int, n_components: int):
    """Slices of ``n_levels`` levels of ``ppf`` taking their components'
    rows (``locs[row]``) about ``_BLOCK`` pairs at a time."""
    rows = max(1, _BLOCK // max(n_components, 1))
    return [slice(a, a + rows) for a in range(0, n_levels, rows)]


class EqualMixture(PredictiveDistribution):
    """What every equally weighted mixture over S components shares (one
    mixture per point and target, components on the last axis of ``locs``
    and ``scales``): the batch shape, the moments by the law of total
    variance, and the row blocks of the pointwise methods. A subclass sets
    ``locs``, ``scales`` and ``n_components`` and gives ``aleatoric_std``."""

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
    def std(self) -> np.ndarray:
        # Law of total variance: Var y = E[component variance] + Var[f_s].
        return np.sqrt(self.aleatoric_std**2 + self.epistemic_std**2)

    def _row_blocks(self, m: int):
        """Slices of the flattened batch, each holding about ``_BLOCK`` (value,
        component) pairs: the temporaries of ``logpdf``, ``cdf`` and ``ppf``
        stay in cache and their memory is bounded whatever the batch size."""
        n_dists = int(np.prod(self.batch_shape))
        rows = max(1, _BLOCK // max(m * self.n_components, 1))
        return [slice(a, a + rows) for a in range(0, n_dists, rows)]

    def _flat_params(self) -> tuple[np.ndarray, np.ndarray]:
        return _by_rows(self.locs), _by_rows(self.scales)


class NormalMixture(EqualMixture):
    """Equally weighted mixtures of Normals, one mixture per point (and target).

    This is the posterior predictive of a model represented by S posterior
    draws (or S ensemble members): for draw s the observation is
    Normal(f_s(x), sigma_s). The moments follow the law of total variance;
    quantiles by safeguarded Newton steps on the log of the mixture CDF,
    every point at once (array operations over row blocks, see
    :mod:`bayesreg.distributions._quantile`).

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
            broadcast = np.broadcast_to(scales, locs.shape)
        except ValueError:
            raise ValueError(
                f"scales of shape {scales.shape} do not broadcast to the shape "
                f"of locs, {locs.shape}."
            ) from None
        # Checked (and reduced, below) as given: (S,) scales shared by every
        # point cost O(S), not O(n S).
        if not (np.all(np.isfinite(locs)) and np.all(np.isfinite(scales))):
            raise ValueError("locs and scales must be finite.")
        if np.any(scales <= 0):
            raise ValueError("scales must be positive.")
        self.locs = locs
        self.scales = broadcast
        self._scales = scales
        self.n, self.n_components = locs.shape[0], locs.shape[-1]

    @property
    def aleatoric_std(self) -> np.ndarray:
        # The mean over the draws of the scales as given, broadcast.
        scales = getattr(self, "_scales", self.scales)
        mean_sq = np.mean(scales**2, axis=-1)
        return np.sqrt(np.broadcast_to(mean_sq, self.batch_shape))

    def logpdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        m = y2.shape[-1]
        locs, scales = self._flat_params()
        flat = _by_rows(y2)
        out = np.empty(flat.shape)
        log_s = np.log(self.n_components)
        for rows in self._row_blocks(m):
            # (b, m, S): each value against each component.
            z = stats.norm.logpdf(
                flat[rows, :, None], locs[rows, None, :], scales[rows, None, :]
            )
            out[rows] = special.logsumexp(z, axis=-1) - log_s
        out = out.reshape(y2.shape)
        return out[..., 0] if was_1d else out

    def cdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        m = y2.shape[-1]
        locs, scales = self._flat_params()
        flat = _by_rows(y2)
        out = np.empty(flat.shape)
        for rows in self._row_blocks(m):
            out[rows] = stats.norm.cdf(
                flat[rows, :, None], locs[rows, None, :], scales[rows, None, :]
            ).mean(axis=-1)
        out = out.reshape(y2.shape)
        return out[..., 0] if was_1d else out

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        q2, was_1d = self._check_y(q)  # a scalar: one level per distribution
        m = q2.shape[-1]
        locs, scales = self._flat_params()
        # (level, distribution) pairs as rows: level j of distribution i is
        # row i * m + j.
        row = np.repeat(np.arange(locs.shape[0]), m)
        levels = q2.ravel()
        out = np.empty(levels.shape)
        for rows in _level_blocks(len(levels), self.n_components):
            r = row[rows]
            out[rows] = mixture_quantiles(locs[r], scales[r], levels[rows])
        out = out.reshape(q2.shape)
        return out[..., 0] if was_1d else out

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        return self._sample_from(*self._presample((*self.batch_shape, n_samples), rng))

    def _presample(self, shape, rng):
        # A component of every draw, then its standard Normal noise.
        return rng.integers(self.n_components, size=shape), rng.standard_normal(shape)

    def _sample_from(self, comp, noise) -> np.ndarray:
        locs = np.take_along_axis(self.locs, comp, axis=-1)
        return locs + np.take_along_axis(self.scales, comp, axis=-1) * noise
