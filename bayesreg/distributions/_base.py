"""The predictive-distribution interface and the checks of parameter values."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from sklearn.utils import check_array

from ..utils._checks import check_coverage


# Checks of parameter values, as picklable functions of the arrays so that a
# lazy distribution's blocks can run them too (see _ScipyLocScale._require).
def _all_finite(a: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(a)))


def _nonnegative(a: np.ndarray) -> bool:
    return bool(np.all(a >= 0))


def _positive(a: np.ndarray) -> bool:
    return bool(np.all(a > 0))


def _within_scale(epistemic: np.ndarray, scale: np.ndarray) -> bool:
    return bool(np.all(epistemic <= scale * (1 + 1e-12)))


class PredictiveDistribution(ABC):
    """n independent univariate predictive distributions.

    Subclasses provide ``mean``, ``std``, ``logpdf``, ``cdf``, ``ppf`` and
    ``sample``; intervals, medians and the variance split derive from them.
    Arguments to ``logpdf`` and ``cdf`` are arrays of shape (n,) or
    (n, k); ``ppf`` takes levels of shape (), (n,) or (n, k).

    Every estimator's ``predict_dist(X)`` returns one of these; see
    :class:`Normal`, :class:`StudentT`, :class:`NormalMixture` and
    :class:`TransformedDistribution`.

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
        coverage = check_coverage(coverage)
        tail = 0.5 * (1.0 - coverage)
        # np.stack (not column_stack): lazy bounds stay lazy.
        return np.stack([self.ppf(tail), self.ppf(1.0 - tail)], axis=1)

    def __len__(self) -> int:
        return self.n

    def _check_y(self, y) -> tuple[np.ndarray, bool]:
        """Return y as (n, k) and whether it was one-dimensional."""
        return self._shape_y(np.asarray(y, dtype=float))

    def _shape_y(self, y) -> tuple[np.ndarray, bool]:
        """:meth:`_check_y` for an array ``y`` (of any array type)."""
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

    def _check_targets(self, y) -> np.ndarray:
        """``y`` for :meth:`logpdf` from user input: a finite vector of length n
        (sklearn's ``check_array``, with its messages)."""
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim != 1 or y.shape[0] != self.n:
            raise ValueError(
                f"y must have shape ({self.n},) to match X, got {y.shape}."
            )
        return y
