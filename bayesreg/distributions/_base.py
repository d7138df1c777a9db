"""The predictive-distribution interface and the checks of parameter values."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from sklearn.utils import check_array

from ..utils._checks import check_coverage, check_real


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
    """Independent univariate predictive distributions, one per point and target.

    Subclasses provide ``mean``, ``std``, ``logpdf``, ``cdf``, ``ppf`` and
    ``sample``; intervals, medians and the variance split derive from them.

    **Batch shape.** One target gives a batch of n distributions,
    ``batch_shape == (n,)``; k targets give ``batch_shape == (n, k)``
    (distribution ``[i, j]`` is that of target j at point i). Every moment
    (``mean``, ``std``, ``epistemic_std``, ``aleatoric_std``, ``var``,
    ``median()``) has the batch shape. Arguments of ``logpdf``, ``cdf`` and
    ``ppf`` have the batch shape (one value per distribution; a scalar applies
    to every one) or the batch shape plus a trailing axis of m values per
    distribution; the result has the shape of the argument (a scalar ``ppf``
    level gives the batch shape). ``interval`` appends a trailing axis of 2
    (lower, upper) and ``sample`` one of ``n_samples`` draws. With a batch
    (n,) a single value (shape (1,)) also applies to every point.

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

    #: number of points (rows of X) described: ``batch_shape[0]``
    n: int

    @property
    @abstractmethod
    def mean(self) -> np.ndarray:
        """Predictive mean, of the batch shape."""

    @property
    @abstractmethod
    def std(self) -> np.ndarray:
        """Predictive standard deviation of a new observation, of the batch shape."""

    @property
    @abstractmethod
    def epistemic_std(self) -> np.ndarray:
        """Std of the regression function (model uncertainty), of the batch shape."""

    @property
    @abstractmethod
    def aleatoric_std(self) -> np.ndarray:
        """Std of the observation noise, of the batch shape."""

    @abstractmethod
    def logpdf(self, y) -> np.ndarray:
        """Log density at ``y``.

        Parameters
        ----------
        y : array-like of the batch shape, or of the batch shape + (m,)
            Entry i (or row i of m values) is evaluated under distribution i.

        Returns
        -------
        logpdf : ndarray of the shape of ``y``
        """

    @abstractmethod
    def cdf(self, y) -> np.ndarray:
        """Cumulative distribution function at ``y``.

        Parameters
        ----------
        y : array-like of the batch shape, or of the batch shape + (m,)
            Entry i (or row i of m values) is evaluated under distribution i.

        Returns
        -------
        cdf : ndarray of the shape of ``y``
        """

    @abstractmethod
    def ppf(self, q) -> np.ndarray:
        """Quantile function (inverse of :meth:`cdf`).

        Parameters
        ----------
        q : float or array-like of the batch shape, or of the batch shape + (m,)
            Levels in (0, 1); a scalar applies to every distribution.

        Returns
        -------
        quantiles : ndarray of the batch shape for a scalar ``q``, else of
            the shape of ``q``
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
        samples : ndarray of shape ``batch_shape + (n_samples,)``
            (n, n_samples), or (n, k, n_samples) for a batch (n, k).
        """

    # ------------------------------------------------------------ derived
    @property
    def var(self) -> np.ndarray:
        """Predictive variance, of the batch shape."""
        return self.std**2

    def median(self) -> np.ndarray:
        """Predictive median, of the batch shape."""
        return self.ppf(0.5)

    def pdf(self, y) -> np.ndarray:
        """Density at ``y``.

        Parameters
        ----------
        y : array-like of the batch shape, or of the batch shape + (m,)
            Entry i (or row i of m values) is evaluated under distribution i.

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
        interval : ndarray of shape (n, 2), or (n, k, 2) for a batch (n, k)
            Lower bounds in ``[..., 0]``, upper bounds in ``[..., 1]``.
        """
        coverage = check_coverage(coverage)
        tail = 0.5 * (1.0 - coverage)
        # np.stack (not column_stack): lazy bounds stay lazy.
        return np.stack([self.ppf(tail), self.ppf(1.0 - tail)], axis=-1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the array of distributions: (n,), or (n, k) for k targets."""
        return (self.n,)

    def __len__(self) -> int:
        return self.n

    def _check_y(self, y) -> tuple[np.ndarray, bool]:
        """Return y as ``batch_shape + (m,)`` and whether it had the batch
        shape (one value per distribution)."""
        return self._shape_y(np.asarray(y, dtype=float))

    def _shape_y(self, y) -> tuple[np.ndarray, bool]:
        """:meth:`_check_y` for an array ``y`` (of any array type).

        With a batch (n,): y of shape (n,) (or a single value) gives one value
        per point, (n, m) m values per point. With a batch (n, k): y of shape
        (n, k) (or a scalar), or (n, k, m).
        """
        batch = tuple(self.batch_shape)
        if len(batch) == 1:
            was_1d = y.ndim <= 1
            if was_1d and y.size not in (1, self.n):
                raise ValueError(
                    f"y has {y.size} values but the distribution describes "
                    f"{self.n} points."
                )
            y2 = np.broadcast_to(y, (self.n,))[:, None] if was_1d else y
            if not was_1d and (y.ndim != 2 or y.shape[0] != self.n):
                raise ValueError(
                    f"y must have shape ({self.n},) or ({self.n}, k), got {y.shape}."
                )
            return y2, was_1d
        if y.ndim == 0 or tuple(y.shape) == batch:
            return np.broadcast_to(y, batch)[..., None], True
        if y.ndim == len(batch) + 1 and tuple(y.shape[:-1]) == batch:
            return y, False
        raise ValueError(
            f"y must have shape {batch} (one value per distribution) or "
            f"({', '.join(map(str, batch))}, m), got {tuple(y.shape)}."
        )

    def __repr__(self) -> str:
        batch = tuple(self.batch_shape)
        size = f"n={self.n}" if len(batch) == 1 else f"batch_shape={batch}"
        return f"{type(self).__name__}({size})"

    def _check_targets(self, y) -> np.ndarray:
        """``y`` for :meth:`logpdf` from user input: see :func:`check_targets`."""
        return check_targets(y, tuple(self.batch_shape))

    def _presample(self, shape: tuple[int, ...], rng: np.random.Generator):
        """The random numbers :meth:`sample` would draw for ``shape``
        (``batch_shape + (n_samples,)`` of a batch with more rows).

        Lets a caller sample a long batch one block of rows at a time with
        the same draws as one call of :meth:`sample` on all rows. Returns
        ``None`` where :meth:`sample` consumes ``rng`` row after row (in C
        order), so that blocks sampled in turn from one generator give the
        same draws; a tuple of arrays with rows first, to be sliced and
        passed to :meth:`_sample_from`; or ``False`` (the default) where
        the order is not known (then sample all rows at once). Draws
        nothing unless it returns a tuple.
        """
        return False

    def _sample_from(self, *randomness) -> np.ndarray:  # pragma: no cover
        """Draws from the random numbers of :meth:`_presample` of these rows."""
        raise NotImplementedError


def check_targets(y, batch: tuple[int, ...]) -> np.ndarray:
    """``y`` for ``logpdf`` from user input: finite values of the batch shape
    ``batch`` (sklearn's ``check_array``, with its messages). A batch (n, 1)
    also takes a y of shape (n,)."""
    # Complex numbers, strings and other objects are refused by name first:
    # check_array's messages do not name y, and it parses numeric strings.
    check_real(y, "y")
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y", allow_nd=True)
    if len(batch) == 1:
        if y.ndim != 1 or y.shape[0] != batch[0]:
            raise ValueError(
                f"y must have shape ({batch[0]},) to match X, got {y.shape}."
            )
        return y
    if batch[1:] == (1,) and y.shape == batch[:1]:
        return y.reshape(batch)
    if tuple(y.shape) != batch:
        raise ValueError(
            f"y must have shape {batch} to match the prediction, got {y.shape}."
        )
    return y


def _by_rows(a: np.ndarray) -> np.ndarray:
    """``a`` of shape ``batch + (m,)`` as (number of distributions, m)."""
    return np.reshape(a, (-1, a.shape[-1]))
