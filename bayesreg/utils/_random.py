"""Random state handling shared by the estimators and distributions."""

from __future__ import annotations

from numbers import Integral

import numpy as np


def check_generator(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    Accepts None, an int seed, a ``RandomState`` or a ``Generator``. ``None``
    seeds a fresh generator from the global ``RandomState`` (so results follow
    ``np.random.seed`` as in scikit-learn); an int or a ``Generator`` never
    touches NumPy's global state.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        ``None`` (or the ``numpy.random`` module): a generator seeded from
        NumPy's global ``RandomState``; an int: a new generator with that
        seed; a ``RandomState``: a generator seeded from it (which advances
        it); a ``Generator``: returned as it is.

    Returns
    -------
    numpy.random.Generator
        The generator to draw from.

    Raises
    ------
    ValueError
        For any other type.

    See Also
    --------
    sklearn.utils.check_random_state : the same for ``RandomState``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.utils import check_generator
    >>> a = check_generator(0).standard_normal(3)
    >>> b = check_generator(0).standard_normal(3)
    >>> bool(np.array_equal(a, b))
    True
    >>> rng = np.random.default_rng(1)
    >>> check_generator(rng) is rng
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or random_state is np.random:
        seed = np.random.mtrand._rand.randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)
    if isinstance(random_state, Integral):
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        f"random_state must be None, an int, a RandomState or a Generator, "
        f"got {random_state!r}."
    )
