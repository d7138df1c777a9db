"""Lazy predictions: dask arrays computed by the NumPy code over row blocks.

The predictive moments of the linear models, their noise draws, and the lazy
form of :class:`~bayesreg.distributions.Normal` and
:class:`~bayesreg.distributions.StudentT`: a distribution whose parameters
are dask arrays and whose every method maps the NumPy method over their row
blocks (see :mod:`bayesreg.distributions` for what that promises).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _gaussian
from ..distributions import Normal, StudentT
from ..distributions._base import _all_finite
from ..utils._checks import check_n_samples, check_quantile_levels
from ..utils._random import check_generator
from ._core import as_dask_array, block_seeds, is_dask_collection

if TYPE_CHECKING:
    import dask.array as da


def _moments_block(post: _gaussian.SpectralPosterior, Xb: np.ndarray) -> np.ndarray:
    mean, var_f = _gaussian.predictive_moments(post, Xb)
    return np.stack([mean[:, 0], var_f[:, 0]], axis=1)


def predictive_moments(
    post: _gaussian.SpectralPosterior, X: da.Array
) -> tuple[da.Array, da.Array]:
    """Lazy :func:`bayesreg._gaussian.predictive_moments` by row blocks (one
    target).

    Both come from one task per block (an (rows, 2) block sliced in two), so
    computing the mean and the std together reads X once.
    """
    # partial: the posterior (a NamedTuple) must reach the blocks as is.
    both = X.map_blocks(
        functools.partial(_moments_block, post),
        chunks=(X.chunks[0], (2,)), dtype=np.float64, meta=np.empty((0, 0)),
    )  # fmt: skip
    # (n, 1) each: the (n, k) layout of the NumPy moments, for one target.
    return both[:, :1], both[:, 1:]


def _noisy_block(
    fb: np.ndarray, noise_std: np.ndarray, seeds: list, block_id=None
) -> np.ndarray:
    rng = np.random.default_rng(seeds[block_id[0]])
    return fb + noise_std * rng.standard_normal(fb.shape)


def add_noise(f: da.Array, noise_std: np.ndarray, rng: np.random.Generator):
    """Lazy ``f + noise_std * N(0, 1)`` for f of shape (n, S), one noise std
    per column; each row block draws from its own seed (:func:`block_seeds`)."""
    return f.map_blocks(
        _noisy_block, noise_std=noise_std, seeds=block_seeds(rng, f.numblocks[0]),
        dtype=np.float64, meta=np.empty((0, 0)),
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Lazy predictive distributions
# ---------------------------------------------------------------------------


def as_vector(value: Any, name: str) -> da.Array:
    """``value`` as a float64 dask array of at least one dimension."""
    import dask.array as da

    if is_dask_collection(value):
        arr = as_dask_array(value, name).astype(np.float64)
        return arr.reshape(1) if arr.ndim == 0 else arr
    return da.from_array(np.atleast_1d(np.asarray(value, dtype=float)))


def align_rows(arr: da.Array, like: da.Array) -> da.Array:
    """``arr`` (length 1 or n) with the length and row chunks of ``like``."""
    import dask.array as da

    if arr.shape[0] != like.shape[0]:
        return da.broadcast_to(arr, like.shape[:1], chunks=like.chunks[:1])
    return arr.rechunk(like.chunks[:1] + tuple((s,) for s in arr.shape[1:]))


def _asserted_block(*blocks: np.ndarray, predicate: Callable, message: str):
    if not predicate(*blocks):
        raise ValueError(message)
    return blocks[0]


def assert_blocks(message: str, predicate: Callable, *arrays: da.Array) -> da.Array:
    """The first array, checked block by block when it is computed.

    ``predicate(*blocks)`` (a picklable function of the aligned blocks) must
    hold, or the compute raises ``ValueError(message)``.
    """
    return arrays[0].map_blocks(
        _asserted_block, *arrays[1:], predicate=predicate, message=message,
        dtype=arrays[0].dtype, meta=np.empty((0,) * arrays[0].ndim),
    )  # fmt: skip


def rows_like(value: Any, like: da.Array) -> da.Array:
    """A (n, k) argument as a dask array chunked by the rows of ``like``."""
    import dask.array as da

    if not is_dask_collection(value):
        value = da.from_array(np.asarray(value, dtype=float))
    return value.astype(np.float64).rechunk({0: like.chunks[0], 1: -1})


def map_rows(func: Callable, params: list[da.Array], arg: da.Array | None = None):
    """``func(*param_blocks[, arg_block])`` over aligned row blocks.

    ``params`` are vectors with one row chunking; ``arg`` (n, k), if given,
    has the same row chunks and one column chunk, and ``func`` then returns
    (rows, k) blocks, else (rows,) blocks.
    """
    import dask.array as da

    pairs: list = []
    for p in params:
        pairs += [p, "i"]
    if arg is None:
        return da.blockwise(func, "i", *pairs, dtype=np.float64, meta=np.empty(0))
    return da.blockwise(
        func, "ij", *pairs, arg, "ij", dtype=np.float64, concatenate=True,
        meta=np.empty((0, 0)),
    )  # fmt: skip


def map_rows_seeded(
    func: Callable, params: list[da.Array], n_cols: int, rng: np.random.Generator
) -> da.Array:
    """``func(*param_blocks, random_state=rng)`` -> (rows, n_cols) blocks,
    with one generator per block from :func:`block_seeds`."""
    first = params[0]
    seeds = block_seeds(rng, first.numblocks[0])
    return first.map_blocks(
        _seeded_block, *params[1:], block_func=func, seeds=seeds, new_axis=1,
        chunks=(first.chunks[0], (n_cols,)), dtype=np.float64, meta=np.empty((0, 0)),
    )  # fmt: skip


def _seeded_block(
    *blocks, block_func: Callable, seeds: list, block_id=None
) -> np.ndarray:
    rng = np.random.default_rng(seeds[block_id[0]])
    return block_func(*blocks, random_state=rng)


def _on_block(cls, method: str, n_params: int, *blocks, **kwargs):
    """``method`` of the NumPy ``cls`` made of one block of each parameter,
    applied to the remaining blocks: how a lazy distribution evaluates."""
    dist = cls(**dict(zip(cls._param_names, blocks[:n_params], strict=True)))
    return getattr(dist, method)(*blocks[n_params:], **kwargs)


class _LazyLocScale:
    """The array handling of a location-scale distribution with dask
    parameters: each method maps the NumPy method of ``_numpy_form`` over the
    row blocks of the parameters (they have the row chunks of ``loc``)."""

    #: the NumPy distribution evaluated on each block
    _numpy_form: type

    @property
    def lazy(self) -> bool:
        """Whether the parameters are dask arrays (and so every result)."""
        return True

    @staticmethod
    def _require(message: str, predicate, *arrays):
        # Part of the graph: raises when the offending block is computed.
        return assert_blocks(message, predicate, *arrays)

    @staticmethod
    def _as_array(value, name: str):
        return as_vector(value, name)

    @staticmethod
    def _broadcast(arr, like):
        return align_rows(arr, like)

    def _check_y(self, y):
        # A dask y stays lazy (its shape is known).
        if is_dask_collection(y):
            return self._shape_y(as_vector(y, "y"))
        return super()._check_y(y)

    def _check_targets(self, y):
        if not is_dask_collection(y):
            return super()._check_targets(y)
        # Checked as its blocks compute, like the distribution itself.
        y = self._require("Input y contains NaN or infinity.", _all_finite, y)
        if y.ndim != 1 or y.shape[0] != self.n:
            raise ValueError(
                f"y must have shape ({self.n},) to match X, got {y.shape}."
            )
        return y

    def _block_method(self, method: str, **kwargs):
        """(parameters, f) with f(*param_blocks, *arg_blocks) the NumPy
        ``method(*arg_blocks, **kwargs)`` of one row block."""
        params = self._params()
        func = functools.partial(
            _on_block, self._numpy_form, method, len(params), **kwargs
        )
        return params, func

    def _map_blocks(self, method: str, arg=None, **kwargs):
        """Lazy ``method(arg, **kwargs)``: the NumPy method on each row block."""
        params, func = self._block_method(method, **kwargs)
        if arg is not None:
            arg = rows_like(arg, self.loc)
        return map_rows(func, params, arg)

    def _evaluate(self, method: str, y):
        y2, was_1d = self._check_y(y)
        out = self._map_blocks(method, y2)
        return out[:, 0] if was_1d else out

    def ppf(self, q):
        q = check_quantile_levels(q)
        if q.ndim == 0:
            return self._map_blocks("ppf", q=float(q))
        return self._evaluate("ppf", q)

    def sample(self, n_samples: int = 1, random_state=None):
        n_samples = check_n_samples(n_samples)
        rng = check_generator(random_state)
        params, func = self._block_method("sample", n_samples=n_samples)
        return map_rows_seeded(func, params, n_samples, rng)

    def __repr__(self) -> str:
        return f"{self._numpy_form.__name__}(n={self.n}, lazy)"


class LazyNormal(_LazyLocScale, Normal):
    """:class:`~bayesreg.distributions.Normal` with dask parameters."""

    _numpy_form = Normal


class LazyStudentT(_LazyLocScale, StudentT):
    """:class:`~bayesreg.distributions.StudentT` with dask parameters."""

    _numpy_form = StudentT


_LAZY_FORMS = {Normal: LazyNormal, StudentT: LazyStudentT}


def distribution(cls: type, *params, **kwargs):
    """``cls(*params, **kwargs)`` (a ``Normal`` or ``StudentT``), in its lazy
    form when ``loc`` is a dask array."""
    i = cls._param_names.index("loc")
    loc = kwargs.get("loc", params[i] if i < len(params) else None)
    if is_dask_collection(loc):
        cls = _LAZY_FORMS[cls]
    return cls(*params, **kwargs)
