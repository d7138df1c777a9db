"""Location-scale predictive distributions: Normal and Student-t."""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy import special, stats

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
        self._batch_shape = tuple(int(d) for d in self.loc.shape)
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

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the array of distributions, that of ``loc``."""
        return self._batch_shape

    @staticmethod
    def _require(message: str, predicate, *arrays):
        """``arrays[0]``, provided ``predicate(*arrays)`` holds, else
        ``ValueError(message)``."""
        if not predicate(*arrays):
            raise ValueError(message)
        return arrays[0]

    def _vector(self, name: str, value, like=None) -> np.ndarray:
        """``value`` as a finite float array: without ``like`` (``loc``), of
        shape (n,) or (n, k); with ``like``, broadcast to its shape (for a
        batch (n,): a vector of length 1 or n; for a batch (n, k): any shape
        NumPy broadcasts to (n, k), such as (k,) for one value per target)."""
        arr = self._as_array(value, name)
        if like is None:
            if arr.ndim not in (1, 2):
                raise ValueError(
                    f"{name} must have shape (n,) or (n, k), got shape {arr.shape}."
                )
        elif like.ndim == 1:
            if arr.ndim != 1:
                raise ValueError(
                    f"{name} must be one-dimensional, got shape {arr.shape}."
                )
            n = like.shape[0]
            if arr.shape[0] not in (1, n):
                raise ValueError(f"{name} has {arr.shape[0]} entries, expected {n}.")
            arr = self._broadcast(arr, like)
        else:
            try:
                arr = np.broadcast_to(arr, like.shape).copy()
            except ValueError:
                raise ValueError(
                    f"{name} of shape {arr.shape} does not broadcast to the batch "
                    f"shape {like.shape}."
                ) from None
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
    def _frozen(self):
        """The batch as a frozen scipy distribution with a trailing axis (of
        length 1: it broadcasts against several values per distribution)."""

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
        """logpdf, cdf or ppf at y of the batch shape, or with a trailing axis."""
        y2, was_1d = self._check_y(y)
        out = getattr(self._frozen(), method)(y2)
        return out[..., 0] if was_1d else out

    def logpdf(self, y) -> np.ndarray:
        return self._evaluate("logpdf", y)

    def cdf(self, y) -> np.ndarray:
        return self._evaluate("cdf", y)

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        if q.ndim == 0:
            # (a lazy batch has its own ppf, block by block)
            standard = self._standard_ppf(q)
            if standard is not None and np.all(self.scale > 0):
                # scipy's own arithmetic, x * scale + loc, with x computed once
                # (where scale > 0 scipy returns NaN; it answers those).
                return standard * self.scale + self.loc
        return self._evaluate("ppf", q)

    def _standard_ppf(self, q) -> float | None:
        """The standard quantile of level ``q`` shared by every distribution
        of the batch, or None where they differ in shape."""
        return None

    def _presample(self, shape, rng):
        # scipy's rvs draws standard variates element after element, in C
        # order (standard_normal, standard_t): blocks of rows in turn draw
        # the same numbers as all rows at once.
        return False if self.lazy else None

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        return self._frozen().rvs(size=(*self.batch_shape, n_samples), random_state=rng)


class Normal(_ScipyLocScale):
    """Independent Normal distributions, a batch of shape (n,) or (n, k).

    Parameters
    ----------
    loc : array-like of shape (n,) or (n, k)
        Means; their shape is the batch shape (k targets give (n, k)).
    scale : array-like of shape (n,) or scalar, or broadcasting to (n, k)
        Standard deviations (non-negative). For a batch (n, k) any shape that
        broadcasts to it by NumPy's rules: (k,) is one value per target, (n, 1)
        one per point (a vector of length n is *not* read as per point).
    epistemic_std : array-like of the shape of ``scale``, default=None
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

    Two targets at three points: the batch is (3, 2), intervals (3, 2, 2).

    >>> d2 = Normal([[0.0, 1.0]] * 3, [1.0, 2.0])
    >>> d2.batch_shape, d2.std.shape, d2.interval(0.9).shape
    ((3, 2), (3, 2), (3, 2, 2))
    """

    def __init__(self, loc, scale, epistemic_std=None):
        super().__init__(loc, scale, epistemic_std)
        self._epistemic = self._require(
            "epistemic_std cannot exceed the total scale.",
            _within_scale, self._epistemic, self.scale,
        )  # fmt: skip

    def _frozen(self):
        return stats.norm(self.loc[..., None], self.scale[..., None])

    @property
    def std(self) -> np.ndarray:
        return self.scale

    def _standard_ppf(self, q) -> float:
        return float(stats.norm.ppf(q))


class StudentT(_ScipyLocScale):
    """Independent location-scale Student-t distributions, a batch (n,) or (n, k).

    The posterior predictive of Bayesian linear regression with unknown noise
    (Normal-Inverse-Gamma prior) has this form.

    Parameters
    ----------
    df : float or array-like of shape (n,), or broadcasting to (n, k)
        Degrees of freedom (> 0). The variance is finite only for df > 2.
    loc, scale : array-like of shape (n,) or (n, k)
        Location and scale (``scale`` broadcasting to the shape of ``loc``,
        the batch shape); the variance is ``scale**2 * df / (df - 2)``.
    epistemic_std : array-like of the shape of ``scale``, default=None
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

    def _frozen(self):
        return stats.t(self.df[..., None], self.loc[..., None], self.scale[..., None])

    def _standard_ppf(self, q) -> float | None:
        # One degree of freedom for every point (a fitted linear model's
        # predictive): one quantile of the standard t, not n.
        df = self.df.ravel()
        if df.size == 0 or not np.all(df == df[0]):
            return None
        return float(_student_t_lower_quantile(df[:1], q[None])[0])

    def _evaluate(self, method: str, y) -> np.ndarray:
        if method != "ppf":
            return super()._evaluate(method, y)
        # scipy's t.ppf, x * scale + loc with x = stdtrit(df, q) (NaN where
        # the scale is 0), but with stdtrit mended far out.
        q2, was_1d = self._check_y(y)
        x = _student_t_lower_quantile(*np.broadcast_arrays(self.df[..., None], q2))
        scale = self.scale[..., None]
        out = np.where(scale > 0, x * scale + self.loc[..., None], np.nan)
        return out[..., 0] if was_1d else out

    @property
    def std(self) -> np.ndarray:
        # df / (df - 2) where finite, with no division by zero (also when
        # a lazy std is computed later, outside any np.errstate).
        finite = self.df > 2
        factor = np.where(finite, self.df / np.where(finite, self.df - 2, 1.0), np.inf)
        return self.scale * np.sqrt(factor)


def _student_t_lower_quantile(df: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Standard t quantile at levels ``tail``: scipy's (``special.stdtrit``)
    down to 1e-30.

    ``special.stdtrit`` loses its way far out (a factor 8 in the tail mass
    at 1e-200 for df = 3, +inf below about 1e-240); below 1e-30 the t
    quantile comes from the regularised incomplete beta function,
    ``P(T < -x) = I_w(df/2, 1/2) / 2`` with ``w = df / (df + x^2)``. Where w
    is tiny (below 1e-20; it underflows for df = 1 below about 1e-155, and
    ``betaincinv`` stalls at the smallest normal float), its leading term
    ``I_w(a, 1/2) = w^a / (a B(a, 1/2))`` gives, in logs,
    ``x = sqrt(df) (tail df B(df/2, 1/2))^(-1/df)`` (relative error O(w)).
    """
    x = np.empty(tail.shape)
    far = tail < 1e-30
    x[~far] = special.stdtrit(df[~far], tail[~far])
    if np.any(far):
        d, t = df[far], tail[far]
        w = special.betaincinv(d / 2, 0.5, 2 * t)
        with np.errstate(divide="ignore", over="ignore"):
            log_x = 0.5 * np.log(d) - (np.log(t * d) + special.betaln(d / 2, 0.5)) / d
            x[far] = np.where(w >= 1e-20, -np.sqrt(d * (1 - w) / w), -np.exp(log_x))
    return x
