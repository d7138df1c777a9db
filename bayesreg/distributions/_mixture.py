"""Equally weighted Normal mixtures: the predictive of posterior draws."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._base import PredictiveDistribution


class NormalMixture(PredictiveDistribution):
    """Equally weighted mixtures of Normals, one mixture per point.

    This is the posterior predictive of a model represented by S posterior
    draws: for draw s the observation is Normal(f_s(x), sigma_s). The moments
    follow the law of total variance; quantiles are found by a vectorised
    bracketed root search on the mixture CDF (all points at once).

    Parameters
    ----------
    locs : array-like of shape (n, S)
        Regression function of each draw at each point.
    scales : array-like of shape (S,) or (n, S)
        Noise standard deviation of each draw.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.distributions import NormalMixture
    >>> d = NormalMixture(np.array([[-1.0, 1.0]]), np.array([1.0, 1.0]))
    >>> round(float(d.std[0]) ** 2, 12)  # 1 (noise) + 1 (spread of the means)
    2.0
    """

    def __init__(self, locs, scales):
        locs = np.asarray(locs, dtype=float)
        if locs.ndim != 2 or locs.shape[1] < 1:
            raise ValueError(f"locs must have shape (n, S), got {locs.shape}.")
        scales = np.asarray(scales, dtype=float)
        scales = np.broadcast_to(
            scales if scales.ndim == 2 else scales[None, :], locs.shape
        )
        if not (np.all(np.isfinite(locs)) and np.all(np.isfinite(scales))):
            raise ValueError("locs and scales must be finite.")
        if np.any(scales <= 0):
            raise ValueError("scales must be positive.")
        self.locs = locs
        self.scales = scales
        self.n, self.n_components = locs.shape

    @property
    def mean(self) -> np.ndarray:
        return self.locs.mean(axis=1)

    @property
    def epistemic_std(self) -> np.ndarray:
        return self.locs.std(axis=1)

    @property
    def aleatoric_std(self) -> np.ndarray:
        return np.sqrt(np.mean(self.scales**2, axis=1))

    @property
    def std(self) -> np.ndarray:
        # Law of total variance: Var y = E[sigma_s^2] + Var[f_s].
        return np.sqrt(self.aleatoric_std**2 + self.epistemic_std**2)

    def logpdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        # (n, k, S): each target against each component.
        z = stats.norm.logpdf(
            y2[:, :, None], self.locs[:, None, :], self.scales[:, None, :]
        )
        out = special.logsumexp(z, axis=2) - np.log(self.n_components)
        return out[:, 0] if was_1d else out

    def cdf(self, y) -> np.ndarray:
        y2, was_1d = self._check_y(y)
        out = stats.norm.cdf(
            y2[:, :, None], self.locs[:, None, :], self.scales[:, None, :]
        ).mean(axis=2)
        return out[:, 0] if was_1d else out

    def ppf(self, q) -> np.ndarray:
        from scipy.optimize import elementwise

        q = check_quantile_levels(q)
        scalar = q.ndim == 0
        q2, was_1d = self._check_y(np.full(self.n, q) if scalar else q)
        k = q2.shape[1]
        # The mixture quantile lies between the component quantiles at the same
        # level, which gives a valid bracket for every point.
        zq = stats.norm.ppf(q2)[:, :, None]
        comp = self.locs[:, None, :] + zq * self.scales[:, None, :]
        lo, hi = comp.min(axis=2), comp.max(axis=2)
        width = np.maximum(hi - lo, 1e-12 * (1 + np.abs(lo)))
        lo, hi = lo - width, hi + width
        row = np.repeat(np.arange(self.n), k)

        def excess(x, target, row):
            # find_root compresses x and args to the unconverged elements;
            # the row index recovers each element's mixture components.
            cdf = stats.norm.cdf(x[..., None], self.locs[row], self.scales[row])
            return cdf.mean(axis=-1) - target

        res = elementwise.find_root(
            excess,
            (lo.ravel(), hi.ravel()),
            args=(q2.ravel(), row),
            tolerances={"xatol": 1e-12, "xrtol": 1e-12},
        )
        out = res.x.reshape(self.n, k)
        return out[:, 0] if (was_1d or scalar) else out

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        comp = rng.integers(self.n_components, size=(self.n, n_samples))
        rows = np.arange(self.n)[:, None]
        noise = rng.standard_normal((self.n, n_samples))
        return self.locs[rows, comp] + self.scales[rows, comp] * noise
