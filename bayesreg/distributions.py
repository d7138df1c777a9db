"""Vectorised predictive distributions over n points.

Every bayesreg estimator answers ``predict_dist(X)`` with one of these objects:
n independent univariate distributions, one per row of ``X``. Everything a user
asks of a prediction (mean, std, intervals, densities, quantiles, draws) is a
method here, so estimators only have to say *which* distribution they predict.

Each distribution also carries the split of its variance into an *epistemic*
part (uncertainty about the regression function) and an *aleatoric* part (the
observation noise), with ``std**2 == epistemic_std**2 + aleatoric_std**2``.

**Lazy (dask) parameters.** :class:`Normal` and :class:`StudentT` accept
dask arrays as parameters (an estimator's ``predict_dist`` on a dask ``X``
makes them so; their ``lazy`` attribute is then True). Nothing is computed
until the user asks:

- the parameters (``loc``, ``scale``, ``df``) and every result -- ``mean``,
  ``std``, ``var``, ``epistemic_std``, ``aleatoric_std``, ``interval``,
  ``median``, ``logpdf``, ``pdf``, ``cdf``, ``ppf`` and ``sample`` -- are
  dask arrays with the row chunks of ``loc``, evaluated block by block by
  the NumPy distribution of that block;
- arguments (``y``, quantile levels) may be NumPy or dask arrays;
- the checks of the parameter values (finite, ``scale >= 0``, ``df > 0``,
  ``epistemic_std <= scale``) run as each block is computed and raise
  the same ``ValueError`` then; shapes are checked at once;
- ``sample`` draws each block from its own seed, taken from
  ``random_state``: reproducible for the same chunking, but not the same
  numbers as the NumPy draws.

:class:`NormalMixture` has no lazy form: dask inputs are computed.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
from scipy import special, stats

from . import _dask
from .utils._random import check_generator

__all__ = ["Normal", "NormalMixture", "PredictiveDistribution", "StudentT"]


def _check_coverage(coverage) -> float:
    if not isinstance(coverage, Real) or not (0.0 < float(coverage) < 1.0):
        raise ValueError(
            f"coverage must be a number strictly between 0 and 1, got {coverage!r}."
        )
    return float(coverage)


def _check_n_samples(n_samples) -> int:
    if not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    return int(n_samples)


def _check_quantile_levels(q) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    if not np.all((q > 0.0) & (q < 1.0)):
        raise ValueError("quantile levels q must lie strictly between 0 and 1.")
    return q


# Checks of parameter values, as picklable functions of the arrays so that
# dask blocks can run them too (see _require).
def _all_finite(a: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(a)))


def _nonnegative(a: np.ndarray) -> bool:
    return bool(np.all(a >= 0))


def _positive(a: np.ndarray) -> bool:
    return bool(np.all(a > 0))


def _within_scale(epistemic: np.ndarray, scale: np.ndarray) -> bool:
    return bool(np.all(epistemic <= scale * (1 + 1e-12)))


def _require(message: str, predicate, *arrays):
    """``arrays[0]``, provided ``predicate(*arrays)`` holds.

    Raises ``ValueError(message)`` otherwise: at once for NumPy arrays; for
    dask arrays the check becomes part of the graph and raises when the
    offending block is computed.
    """
    if _dask.is_dask_collection(arrays[0]):
        return _dask.assert_blocks(message, predicate, *arrays)
    if not predicate(*arrays):
        raise ValueError(message)
    return arrays[0]


def _as_1d(name: str, value, like=None):
    """``value`` as a float vector; with ``like``, of its length.

    A single entry is broadcast to the length of ``like``. The result is a
    dask array (with the row chunks of ``like``) when ``like`` is one, or,
    without ``like``, when ``value`` is one.
    """
    lazy = _dask.is_dask_collection(value if like is None else like)
    if lazy:
        arr = _dask.as_vector(value, name)
    else:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    if like is not None:
        n = like.shape[0]
        if arr.shape[0] not in (1, n):
            raise ValueError(f"{name} has {arr.shape[0]} entries, expected {n}.")
        if lazy:
            arr = _dask.align_rows(arr, like)
        elif arr.shape[0] == 1 and n != 1:
            arr = np.broadcast_to(arr, (n,)).copy()
    return _require(f"{name} contains NaN or infinite values.", _all_finite, arr)


def _on_block(cls, method: str, n_params: int, *blocks, **kwargs):
    """``method`` of the NumPy ``cls`` made of one block of each parameter,
    applied to the remaining blocks: how a lazy distribution evaluates."""
    dist = cls(**dict(zip(cls._param_names, blocks[:n_params], strict=True)))
    return getattr(dist, method)(*blocks[n_params:], **kwargs)


class PredictiveDistribution(ABC):
    """n independent univariate predictive distributions.

    Subclasses provide ``mean``, ``std``, ``logpdf``, ``cdf``, ``ppf`` and
    ``sample``; intervals, medians and the variance split derive from them.
    Arguments to ``logpdf`` and ``cdf`` are arrays of shape (n,) or
    (n, k); ``ppf`` takes levels of shape (), (n,) or (n, k).

    Every estimator's ``predict_dist(X)`` returns one of these; see
    :class:`Normal`, :class:`StudentT` and :class:`NormalMixture`.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.distributions import Normal, PredictiveDistribution
    >>> dist = Normal(loc=[0.0, 1.0], scale=[1.0, 2.0])
    >>> isinstance(dist, PredictiveDistribution)
    True
    >>> np.round(dist.interval(0.95), 3)
    array([[-1.96,  1.96],
           [-2.92,  4.92]])
    >>> dist.cdf(np.array([0.0, 1.0]))
    array([0.5, 0.5])
    """

    #: number of points (rows of X) described
    n: int

    @property
    @abstractmethod
    def mean(self) -> np.ndarray:
        """Predictive mean, shape (n,)."""

    @property
    @abstractmethod
    def std(self) -> np.ndarray:
        """Predictive standard deviation of a new observation, shape (n,)."""

    @property
    @abstractmethod
    def epistemic_std(self) -> np.ndarray:
        """Std of the regression function (model uncertainty), shape (n,)."""

    @property
    @abstractmethod
    def aleatoric_std(self) -> np.ndarray:
        """Std of the observation noise, shape (n,)."""

    @abstractmethod
    def logpdf(self, y) -> np.ndarray:
        """Log density at ``y``.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, k)
            Row i is evaluated under distribution i.

        Returns
        -------
        logpdf : ndarray of the shape of ``y``
        """

    @abstractmethod
    def cdf(self, y) -> np.ndarray:
        """Cumulative distribution function at ``y``.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, k)
            Row i is evaluated under distribution i.

        Returns
        -------
        cdf : ndarray of the shape of ``y``
        """

    @abstractmethod
    def ppf(self, q) -> np.ndarray:
        """Quantile function (inverse of :meth:`cdf`).

        Parameters
        ----------
        q : float or array-like of shape (n,) or (n, k)
            Levels in [0, 1]; a scalar applies to every distribution.

        Returns
        -------
        quantiles : ndarray of shape (n,) for a scalar ``q``, else of the
            shape of ``q``
        """

    @abstractmethod
    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Independent draws from each of the n distributions.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws per distribution.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible.

        Returns
        -------
        samples : ndarray of shape (n, n_samples)
        """

    # ------------------------------------------------------------ derived
    @property
    def var(self) -> np.ndarray:
        """Predictive variance, shape (n,)."""
        return self.std**2

    def median(self) -> np.ndarray:
        """Predictive median, shape (n,)."""
        return self.ppf(0.5)

    def pdf(self, y) -> np.ndarray:
        """Density at ``y``.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, k)
            Row i is evaluated under distribution i.

        Returns
        -------
        pdf : ndarray of the shape of ``y``
        """
        return np.exp(self.logpdf(y))

    def interval(self, coverage: float = 0.95) -> np.ndarray:
        """Central interval holding ``coverage`` probability.

        Parameters
        ----------
        coverage : float in (0, 1), default=0.95
            Probability mass between the bounds.

        Returns
        -------
        interval : ndarray of shape (n, 2)
            Lower bounds in column 0, upper bounds in column 1.
        """
        coverage = _check_coverage(coverage)
        tail = 0.5 * (1.0 - coverage)
        # np.stack (not column_stack) dispatches to dask for lazy bounds.
        return np.stack([self.ppf(tail), self.ppf(1.0 - tail)], axis=1)

    def __len__(self) -> int:
        return self.n

    def _check_y(self, y) -> tuple[np.ndarray, bool]:
        """Return y as (n, k) and whether it was one-dimensional.

        A dask ``y`` stays lazy for a lazy distribution (shapes are known).
        """
        if getattr(self, "lazy", False) and _dask.is_dask_collection(y):
            y = _dask.as_vector(y, "y")
        else:
            y = np.asarray(y, dtype=float)
        was_1d = y.ndim <= 1
        if was_1d and y.size not in (1, self.n):
            raise ValueError(
                f"y has {y.size} values but the distribution describes {self.n} points."
            )
        y2 = np.broadcast_to(y.reshape(-1, 1), (self.n, 1)) if was_1d else y
        if not was_1d and (y.ndim != 2 or y.shape[0] != self.n):
            raise ValueError(
                f"y must have shape ({self.n},) or ({self.n}, k), got {y.shape}."
            )
        return y2, was_1d

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n})"


class _ScipyLocScale(PredictiveDistribution):
    """A location-scale family evaluated through ``scipy.stats``.

    With dask parameters (``lazy``) every method maps the NumPy version of
    itself over the row blocks of the parameters.
    """

    #: constructor arguments, in the order of ``_params()``
    _param_names: tuple[str, ...] = ("loc", "scale", "epistemic_std")

    def __init__(self, loc, scale, epistemic_std=None):
        self.loc = _as_1d("loc", loc)
        self.n = int(self.loc.shape[0])
        self.scale = _require(
            "scale must be non-negative.",
            _nonnegative,
            _as_1d("scale", scale, self.loc),
        )
        if epistemic_std is None:
            self._epistemic = np.zeros_like(self.loc)
        else:
            self._epistemic = _as_1d("epistemic_std", epistemic_std, self.loc)

    @property
    def lazy(self) -> bool:
        """Whether the parameters are dask arrays (and so every result)."""
        return _dask.is_dask_collection(self.loc)

    def _params(self) -> list:
        return [self.loc, self.scale, self._epistemic]

    def _block_method(self, method: str, **kwargs):
        """(parameters, f) with f(*param_blocks, *arg_blocks) the NumPy
        ``method(*arg_blocks, **kwargs)`` of one row block."""
        params = self._params()
        func = functools.partial(_on_block, type(self), method, len(params), **kwargs)
        return params, func

    def _map_blocks(self, method: str, arg=None, **kwargs):
        """Lazy ``method(arg, **kwargs)``: the NumPy method on each row block."""
        params, func = self._block_method(method, **kwargs)
        if arg is not None:
            arg = _dask.rows_like(arg, self.loc)
        return _dask.map_rows(func, params, arg)

    @abstractmethod
    def _frozen(self, shape):
        """A frozen scipy distribution broadcast to ``shape``."""

    @property
    def mean(self) -> np.ndarray:
        return self.loc

    @property
    def epistemic_std(self) -> np.ndarray:
        return self._epistemic

    @property
    def aleatoric_std(self) -> np.ndarray:
        # Clip: rounding can make epistemic exceed total by one ulp.
        return np.sqrt(np.clip(self.var - self._epistemic**2, 0.0, None))

    def _evaluate(self, method: str, y) -> np.ndarray:
        """logpdf, cdf or ppf at y of shape (n,) or (n, k)."""
        y2, was_1d = self._check_y(y)
        if self.lazy:
            out = self._map_blocks(method, y2)
        else:
            out = getattr(self._frozen(y2.shape[1]), method)(y2)
        return out[:, 0] if was_1d else out

    def logpdf(self, y) -> np.ndarray:
        return self._evaluate("logpdf", y)

    def cdf(self, y) -> np.ndarray:
        return self._evaluate("cdf", y)

    def ppf(self, q) -> np.ndarray:
        q = _check_quantile_levels(q)
        if q.ndim == 0:
            if self.lazy:
                return self._map_blocks("ppf", q=float(q))
            return self._frozen(1).ppf(np.full((self.n, 1), q))[:, 0]
        return self._evaluate("ppf", q)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = _check_n_samples(n_samples)
        rng = check_generator(random_state)
        if self.lazy:
            params, func = self._block_method("sample", n_samples=n_samples)
            return _dask.map_rows_seeded(func, params, n_samples, rng)
        return self._frozen(n_samples).rvs(size=(self.n, n_samples), random_state=rng)


class Normal(_ScipyLocScale):
    """n independent Normal distributions.

    Parameters
    ----------
    loc : array-like of shape (n,)
        Means.
    scale : array-like of shape (n,) or scalar
        Standard deviations (non-negative).
    epistemic_std : array-like of shape (n,), default=None
        The part of ``scale`` due to uncertainty about the regression function;
        the rest, ``sqrt(scale**2 - epistemic_std**2)``, is observation noise.
        ``None`` means all of it is noise (a plug-in predictive).

    Examples
    --------
    >>> from bayesreg.distributions import Normal
    >>> d = Normal([0.0, 1.0], [1.0, 2.0])
    >>> d.interval(0.95).round(2)
    array([[-1.96,  1.96],
           [-2.92,  4.92]])
    """

    def __init__(self, loc, scale, epistemic_std=None):
        super().__init__(loc, scale, epistemic_std)
        self._epistemic = _require(
            "epistemic_std cannot exceed the total scale.",
            _within_scale, self._epistemic, self.scale,
        )  # fmt: skip

    def _frozen(self, k):
        return stats.norm(self.loc[:, None], self.scale[:, None])

    @property
    def std(self) -> np.ndarray:
        return self.scale


class StudentT(_ScipyLocScale):
    """n independent location-scale Student-t distributions.

    The posterior predictive of Bayesian linear regression with unknown noise
    (Normal-Inverse-Gamma prior) has this form.

    Parameters
    ----------
    df : float or array-like of shape (n,)
        Degrees of freedom (> 0). The variance is finite only for df > 2.
    loc, scale : array-like of shape (n,)
        Location and scale; the variance is ``scale**2 * df / (df - 2)``.
    epistemic_std : array-like of shape (n,), default=None
        Std of the regression function; see :class:`Normal`.

    Examples
    --------
    >>> from bayesreg.distributions import StudentT
    >>> d = StudentT(5.0, [0.0], [1.0])
    >>> round(float(d.std[0]), 4)
    1.291
    """

    _param_names = ("df", "loc", "scale", "epistemic_std")

    def __init__(self, df, loc, scale, epistemic_std=None):
        super().__init__(loc, scale, epistemic_std)
        self.df = _require(
            "df must be positive.", _positive, _as_1d("df", df, self.loc)
        )

    def _params(self) -> list:
        return [self.df, *super()._params()]

    def _frozen(self, k):
        return stats.t(self.df[:, None], self.loc[:, None], self.scale[:, None])

    @property
    def std(self) -> np.ndarray:
        # df / (df - 2) where finite, with no division by zero (also when
        # a lazy std is computed later, outside any np.errstate).
        finite = self.df > 2
        factor = np.where(finite, self.df / np.where(finite, self.df - 2, 1.0), np.inf)
        return self.scale * np.sqrt(factor)


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

        q = _check_quantile_levels(q)
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
        n_samples = _check_n_samples(n_samples)
        rng = check_generator(random_state)
        comp = rng.integers(self.n_components, size=(self.n, n_samples))
        rows = np.arange(self.n)[:, None]
        noise = rng.standard_normal((self.n, n_samples))
        return self.locs[rows, comp] + self.scales[rows, comp] * noise
