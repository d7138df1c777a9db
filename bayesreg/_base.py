"""The predictive contract, written once.

A bayesreg regressor implements ``fit`` and ``predict_dist(X)``; this mixin
derives every other predictive method from that one answer, so they agree
with each other by construction. When ``predict_dist`` is lazy (a dask ``X``,
see :mod:`bayesreg._dask`) so is every method derived here: each returns
dask arrays and computes nothing.

Shapes follow the batch shape of ``predict_dist`` (sklearn's
``GaussianProcessRegressor`` convention): an estimator fitted to a 1-D y
gives (n,) means and stds, (n, 2) intervals, (n, n_samples) draws; fitted to
y of shape (n, k) (k >= 1, so (n, 1) too, as ``Ridge`` does) it gives (n, k)
means, stds and log densities, (n, k, 2) intervals and (n, k, n_samples)
draws.

**Chunks of rows.** The derived methods never hold the distribution of all
rows at once: for a NumPy array, a SciPy sparse matrix (sliced as CSR) or a
pandas DataFrame of more than ``_CHUNK_ALIGN`` rows they call
``predict_dist`` on blocks of rows and join the per-row results, so their
memory beyond X and the result is that of one block's distribution (about
``_CHUNK_BYTES`` for the parameters of a mixture, whatever n is). Block
boundaries are multiples of ``_CHUNK_ALIGN`` rows, the forward batch of the
networks, so every row is computed exactly as in one call of
``predict_dist(X)``: the results are bit-identical to the unchunked ones,
draws of ``sample_y`` with a ``random_state`` included (the random numbers
are drawn in the same order; see ``PredictiveDistribution._presample``).
A dask X, and any other input, is passed to ``predict_dist`` whole.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin

from .distributions import PredictiveDistribution
from .distributions._base import check_targets
from .utils._checks import check_coverage, check_n_samples
from .utils._random import check_generator

# Rows of every block but the last are a multiple of this: the forward batch
# of the networks (bayesreg.pyro's batched_forward), so that a row meets the
# same batch of rows, hence the same arithmetic, as without blocks.
_CHUNK_ALIGN = 4096
# Most rows in a block, and the size of a block's distribution parameters
# (8 bytes per row, target and mixture component) it aims at.
_CHUNK_MAX = 65536
_CHUNK_BYTES = 2**24


def _row_taker(X):
    """``take(rows)`` slicing rows of X, or None where X is passed whole
    (dask collections, lists, anything not 2-D)."""
    if sp.issparse(X):
        if X.ndim != 2:
            return None
        X = X if X.format == "csr" else X.tocsr()
        return X.__getitem__
    if isinstance(X, np.ndarray) and X.ndim == 2:
        return X.__getitem__
    if type(X).__module__.startswith("pandas") and getattr(X, "ndim", 0) == 2:
        return X.iloc.__getitem__
    return None


def _block_rows(dist: PredictiveDistribution) -> int:
    """Rows per block for distributions like ``dist`` (a multiple of
    ``_CHUNK_ALIGN``), from the floats each row's parameters take."""
    width = int(np.prod(dist.batch_shape[1:])) * getattr(dist, "n_components", 1)
    rows = _CHUNK_BYTES // (8 * max(width, 1))
    return int(np.clip(rows // _CHUNK_ALIGN * _CHUNK_ALIGN, _CHUNK_ALIGN, _CHUNK_MAX))


def _join(parts: list):
    """Per-block results (arrays, or tuples of arrays) joined along rows."""
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))
    return np.concatenate(parts)


_STD_KINDS = ("total", "epistemic", "aleatoric")


class BayesianRegressorMixin(RegressorMixin):
    """Derive the predictive contract from ``predict_dist``.

    Subclasses define ``predict_dist(X) -> PredictiveDistribution`` (which
    checks fitting and validates ``X``). They may override ``_predict_mean``
    where the mean is much cheaper than the full distribution.
    """

    def predict_dist(self, X) -> PredictiveDistribution:  # pragma: no cover
        raise NotImplementedError

    def _blocks(self, X):
        """``(rows, dist)`` for consecutive blocks of rows of X, or one pair
        ``(slice(None), predict_dist(X))`` where X is not split (small,
        lazy or not sliceable)."""
        take = _row_taker(X)
        n = X.shape[0] if take is not None else 0
        if n <= _CHUNK_ALIGN:
            yield slice(None), self.predict_dist(X)
            return
        rows = slice(0, _CHUNK_ALIGN)
        dist = self.predict_dist(take(rows))
        step = _block_rows(dist)
        yield rows, dist
        del dist  # one block's distribution alive at a time (two at a switch)
        for start in range(_CHUNK_ALIGN, n, step):
            rows = slice(start, start + step)
            yield rows, self.predict_dist(take(rows))

    def _per_row(self, X, func):
        """``func(dist)`` of the distribution of every row of X, computed a
        block of rows at a time and joined."""
        parts = [func(dist) for _, dist in self._blocks(X)]
        return parts[0] if len(parts) == 1 else _join(parts)

    def _predict_mean(self, X) -> np.ndarray:
        return self._per_row(X, lambda dist: dist.mean)

    def predict(self, X, return_std: bool = False):
        """Predictive mean, and optionally the predictive std.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the total predictive standard deviation.

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
        std : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Only when ``return_std=True``.
        """
        if not return_std:
            return self._predict_mean(X)
        return self._per_row(X, lambda dist: (dist.mean, dist.std))

    def predict_std(self, X, kind: str = "total") -> np.ndarray:
        """Predictive standard deviation, shape (n_samples,) or (n_samples, n_targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        kind : {"total", "epistemic", "aleatoric"}, default="total"
            ``"total"``: a new observation; ``"epistemic"``: the regression
            function alone; ``"aleatoric"``: the observation noise alone.
            ``total**2 == epistemic**2 + aleatoric**2``.

        Returns
        -------
        std : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        if kind not in _STD_KINDS:
            raise ValueError(f"kind must be one of {_STD_KINDS}, got {kind!r}.")
        name = {"total": "std", "epistemic": "epistemic_std"}.get(kind, "aleatoric_std")
        return self._per_row(X, lambda dist: getattr(dist, name))

    def predict_interval(self, X, coverage: float = 0.95) -> np.ndarray:
        """Central predictive interval, (n_samples, 2) or (n_samples, n_targets, 2).

        ``[..., 0]`` is the lower bound, ``[..., 1]`` the upper bound; a new
        observation falls inside with probability ``coverage``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float in (0, 1), default=0.95
            Probability mass between the bounds; each tail holds
            ``(1 - coverage) / 2``.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2) or (n_samples, n_targets, 2)
        """
        coverage = check_coverage(coverage)
        return self._per_row(X, lambda dist: dist.interval(coverage))

    def log_predictive_density(self, X, y) -> np.ndarray:
        """Pointwise log p(y_i | x_i, training data), of the shape of y.

        Exact where the predictive is closed form (Normal, Student-t), a
        log-mean-exp over posterior draws for the Pyro estimators.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Observed targets, on the scale of the training y and of its
            shape (a model fitted to y of shape (n, 1) also takes (n,)).

        Returns
        -------
        log_density : ndarray of shape (n_samples,) or (n_samples, n_targets)
            One value per observation and target (the targets are
            independent given x: sum over the last axis for the joint).
        """
        blocks = self._blocks(X)
        rows, dist = next(blocks)
        if rows == slice(None):
            return dist.logpdf(dist._check_targets(y))
        # y is checked whole, against the batch shape of every row of X.
        y = check_targets(y, (X.shape[0], *dist.batch_shape[1:]))
        parts = [dist.logpdf(y[rows])]
        del dist
        parts += [dist.logpdf(y[rows]) for rows, dist in blocks]
        return np.concatenate(parts)

    def sample_y(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws from the posterior predictive, shape (n_samples_X, n_samples).

        Each column (``[..., s]``) is one draw of independent new observations
        at the rows of ``X``; with several targets the shape is
        (n_samples_X, n_targets, n_samples), as ``GaussianProcessRegressor``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        n_samples : int, default=1
            Number of draws per row of ``X``.
        random_state : int, RandomState instance or Generator, default=None
            Makes the draws reproducible; NumPy's global state is never used
            when it is set.

        Returns
        -------
        y_samples : ndarray of shape (n_samples_X, [n_targets,] n_samples)
        """
        n_samples = check_n_samples(n_samples)
        blocks = self._blocks(X)
        rows, dist = next(blocks)
        if rows == slice(None):
            return dist.sample(n_samples, random_state)
        rng = check_generator(random_state)
        shape = (X.shape[0], *dist.batch_shape[1:], n_samples)
        # The random numbers of every row, drawn as one call of sample()
        # draws them, or None where sample() draws row after row (then the
        # blocks draw in turn from the same generator).
        pre = dist._presample(shape, rng)
        if pre is False:  # no known order: every row at once
            return self.predict_dist(X).sample(n_samples, rng)

        def draw(rows, dist):
            if pre is None:
                return dist.sample(n_samples, rng)
            return dist._sample_from(*(a[rows] for a in pre))

        parts = [draw(rows, dist)]
        del dist  # one block's distribution alive at a time
        parts += [draw(rows, dist) for rows, dist in blocks]
        return np.concatenate(parts)
