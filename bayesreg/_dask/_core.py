"""Telling dask arrays apart without importing dask, and per-block seeds."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import dask.array as da


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a dask collection, decided without importing dask.

    A dask object can only exist once ``dask`` is in ``sys.modules``, so for
    NumPy input this costs one dictionary lookup.
    """
    return "dask" in sys.modules and type(obj).__module__.partition(".")[0] == "dask"


def as_dask_array(obj: Any, name: str) -> da.Array:
    import dask.array as da

    if not isinstance(obj, da.Array):
        raise TypeError(
            f"{name} is a {type(obj).__name__}; of the dask collections only "
            "dask.array.Array is supported (convert a dask DataFrame with "
            ".to_dask_array(lengths=True))."
        )
    if any(np.isnan(size) for size in obj.shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {obj.shape}); call "
            f"{name}.compute_chunk_sizes() first."
        )
    return obj


def block_seeds(rng: np.random.Generator, n_blocks: int) -> list:
    """Independent seeds for ``n_blocks`` blocks, drawn from ``rng``.

    Each block makes its own generator from its seed, so a block computed
    twice (or on another worker) gives the same draws.
    """
    root = np.random.SeedSequence(int(rng.integers(2**63)))
    return root.spawn(n_blocks)
