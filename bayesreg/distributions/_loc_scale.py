"""Location-scale predictive distributions: Normal and Student-t."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy import stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._base import (
    PredictiveDistribution,
    _all_finite,
    _nonnegative,
    _positive,
    _within_scale,
)


class _ScipyLocScale(PredictiveDistribution):
    """A location-scale family evaluated through ``scipy.stats``.

    The lazy form (dask parameters, :mod:`bayesreg._dask`) is a subclass that
    overrides the array handling below (``_as_array``, ``_broadcast``,
    ``_require``, ``_check_y``, ``_evaluate``, ``ppf``, ``sample``) to map
    these NumPy methods over row blocks.
    """

    #: constructor arguments, in the order of ``_params()``
    _param_names: tuple[str, ...] = ("loc", "scale", "epistemic_std")

    def __init__(self, loc, scale, epistemic_std=None):
        self.loc = self._vector("loc", loc)
        self.n = int(self.loc.shape[0])
        self.scale = self._require(
            "scale must be non-negative.",
            _nonnegative,
            self._vector("scale", scale, self.loc),
        )
        if epistemic_std is None:
            self._epistemic = np.zeros_like(self.loc)
        else:
            self._epistemic = self._vector("epistemic_std", epistemic_std, self.loc)

    @property
    def lazy(self) -> bool:
        """Whether the parameters are dask arrays (and so every result)."""
        return False

    @staticmethod
    def _require(message: str, predicate, *arrays):
        """``arrays[0]``, provided ``predicate(*arrays)`` holds, else
        ``ValueError(message)``."""
        if not predicate(*arrays):
            raise ValueError(message)
        return arrays[0]

    def _vector(self, name: str, value, like=None) -> np.ndarray:
        """``value`` as a finite float vector; with ``like``, of its length
        (a single entry is broadcast)."""
        arr = self._as_array(value, name)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
        if like is not None:
            n = like.shape[0]
            if arr.shape[0] not in (1, n):
                raise ValueError(f"{name} has {arr.shape[0]} entries, expected {n}.")
            arr = self._broadcast(arr, like)
        message = f"{name} contains NaN or infinite values."
        return self._require(message, _all_finite, arr)

    @staticmethod
    def _as_array(value, name: str) -> np.ndarray:
        """``value`` as a float array of at least one dimension."""
        return np.atleast_1d(np.asarray(value, dtype=float))

    @staticmethod
    def _broadcast(arr: np.ndarray, like: np.ndarray) -> np.ndarray:
        """``arr`` (of length 1 or n) with the length of ``like``."""
        n = like.shape[0]
        if arr.shape[0] == 1 and n != 1:
            return np.broadcast_to(arr, (n,)).copy()
        return arr

    def _params(self) -> list:
        return [self.loc, self.scale, self._epistemic]

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
        out = getattr(self._frozen(y2.shape[1]), method)(y2)
        return out[:, 0] if was_1d else out

    def logpdf(self, y) -> np.ndarray:
        return self._evaluate("logpdf", y)

    def cdf(self, y) -> np.ndarray:
        return self._evaluate("cdf", y)

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        if q.ndim == 0:
            return self._frozen(1).ppf(np.full((self.n, 1), q))[:, 0]
        return self._evaluate("ppf", q)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
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
        self._epistemic = self._require(
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
        self.df = self._require(
            "df must be positive.", _positive, self._vector("df", df, self.loc)
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
