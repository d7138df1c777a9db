"""Fault handling shared by every estimator: atomic fits and input magnitudes.

A leaf module: NumPy only, nothing else from the package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

#: Entries larger than this in absolute value are refused: internal scaling
#: squares them (sums of squares, variances), and (1e150)^2 times a row count
#: is the edge of float64's range (about 1.8e308).
MAX_ABS_INPUT = 1e150


@contextmanager
def restore_on_error(estimator) -> Iterator[None]:
    """Leave ``estimator`` exactly as it was if the block raises.

    The instance dictionary (every attribute, public, fitted or private) is
    copied on entry and put back on any exception, so a fit or refit that
    fails part-way (validation after ``validate_data`` reset
    ``n_features_in_``, a diverged optimiser, an interrupt) never leaves a
    half-updated model: an unfitted estimator stays unfitted and a fitted one
    keeps its previous fit. The copy is shallow; fits replace attributes
    rather than mutate them in place, so that is enough.
    """
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


def check_magnitude(a, name: str, limit: float = MAX_ABS_INPUT) -> None:
    """Raise a ValueError naming ``name`` if any |entry| of ``a`` exceeds ``limit``.

    ``a`` is a validated float array (NumPy). Two reductions and no copy.
    NaN and inf are left to the finiteness checks (sklearn's messages name
    them): this check only speaks about finite values that are too large.
    """
    a = np.asarray(a)
    if a.size == 0:
        return
    largest = max(float(a.max()), -float(a.min()))
    if np.isfinite(largest) and largest > limit:
        raise ValueError(
            f"{name} has entries of magnitude {largest:.3g}, beyond {limit:.0e}: "
            f"squares and variances of such values overflow float64. Rescale {name} "
            "(for example divide it by a power of ten) before fitting."
        )
