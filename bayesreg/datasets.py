"""Data: the seed toy problem and a loader for UCI-layout benchmark folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .utils._random import check_generator

__all__ = ["load_uci", "make_seed_problem", "seed_function"]


def seed_function(x: np.ndarray) -> np.ndarray:
    """The noise-free regression function of the seed problem, x sin(10 x).

    Parameters
    ----------
    x : array-like
        Inputs, any shape.

    Returns
    -------
    f : ndarray
        ``x * sin(10 x)``, the same shape as ``x``.

    See Also
    --------
    make_seed_problem : noisy samples of this function.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.datasets import seed_function
    >>> seed_function(np.array([0.0, 0.5, 1.0])).round(4)
    array([ 0.    , -0.4795, -0.544 ])
    """
    x = np.asarray(x, dtype=float)
    return x * np.sin(10.0 * x)


def make_seed_problem(
    n_samples: int = 100,
    *,
    noise_std: float = 0.1,
    x_range: tuple[float, float] = (0.0, 1.0),
    sampling: str = "grid",
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """The toy problem of the documentation: y = x sin(10 x) + Normal(0, noise_std).

    Parameters
    ----------
    n_samples : int, default=100
        Number of points.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise added to ``y``.
    x_range : (float, float), default=(0, 1)
        Interval of the inputs.
    sampling : {"grid", "uniform"}, default="grid"
        ``"grid"``: evenly spaced x (as in the notebook); ``"uniform"``: x drawn
        uniformly, e.g. for held-out points.
    random_state : None, int, RandomState or Generator, default=None
        Seeds the noise (and the inputs with ``sampling="uniform"``); see
        :func:`bayesreg.utils.check_generator`.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        Inputs, sorted.
    y : ndarray of shape (n_samples,)
        Noisy targets ``seed_function(X[:, 0]) + noise``.

    See Also
    --------
    seed_function : the noise-free regression function.

    Examples
    --------
    >>> from bayesreg.datasets import make_seed_problem
    >>> X, y = make_seed_problem(5, random_state=0)
    >>> X.shape, y.shape
    ((5, 1), (5,))
    """
    if sampling not in ("grid", "uniform"):
        raise ValueError(f"sampling must be 'grid' or 'uniform', got {sampling!r}.")
    rng = check_generator(random_state)
    lo, hi = x_range
    if sampling == "grid":
        x = np.linspace(lo, hi, n_samples)
    else:
        x = np.sort(rng.uniform(lo, hi, n_samples))
    y = seed_function(x) + noise_std * rng.standard_normal(n_samples)
    return x[:, None], y


def _read_ints(path: Path) -> np.ndarray:
    return np.atleast_1d(np.loadtxt(path, dtype=np.int64))


def load_uci(name: str, data_dir: str | os.PathLike | None = None) -> Bunch:
    """Load a UCI regression data set stored in the standard benchmark layout.

    The layout is that of the MC-dropout experiments (Gal & Ghahramani 2016):
    a folder ``<data_dir>/<name>/`` holding ``data.txt``,
    ``index_features.txt``, ``index_target.txt``, ``n_splits.txt`` and
    ``index_train_K.txt`` / ``index_test_K.txt`` for each split K.

    Parameters
    ----------
    name : str
        Folder name, e.g. ``"bostonHousing"``.
    data_dir : path-like, default=None
        Parent folder; defaults to the ``BAYESREG_UCI_DIR`` environment
        variable. Nothing is downloaded.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``data`` (n, d), ``target`` (n,), ``splits`` (list of (train, test)
        index arrays) and ``name``.

    Raises
    ------
    FileNotFoundError
        If ``<data_dir>/<name>/data.txt`` does not exist.
    ValueError
        If ``data_dir`` is None and ``BAYESREG_UCI_DIR`` is not set.

    Examples
    --------
    A two-split data set of four rows, written in the layout and read back:

    >>> import shutil
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from bayesreg.datasets import load_uci
    >>> root = Path(tempfile.mkdtemp())
    >>> folder = root / "toy"
    >>> folder.mkdir()
    >>> data = [[0, 1, 10], [1, 2, 20], [2, 3, 30], [3, 4, 40]]
    >>> np.savetxt(folder / "data.txt", data)
    >>> np.savetxt(folder / "index_features.txt", [0, 1], fmt="%d")
    >>> np.savetxt(folder / "index_target.txt", [2], fmt="%d")
    >>> np.savetxt(folder / "n_splits.txt", [2], fmt="%d")
    >>> for k, test in enumerate([[3], [0]]):
    ...     train = [i for i in range(4) if i not in test]
    ...     np.savetxt(folder / f"index_train_{k}.txt", train, fmt="%d")
    ...     np.savetxt(folder / f"index_test_{k}.txt", test, fmt="%d")
    >>> toy = load_uci("toy", data_dir=root)
    >>> toy.data.shape, toy.target
    ((4, 2), array([10., 20., 30., 40.]))
    >>> train, test = toy.splits[0]
    >>> train, test
    (array([0, 1, 2]), array([3]))
    >>> shutil.rmtree(root)
    """
    if data_dir is None:
        data_dir = os.environ.get("BAYESREG_UCI_DIR")
        if data_dir is None:
            raise ValueError("pass data_dir or set the BAYESREG_UCI_DIR variable.")
    folder = Path(data_dir) / name
    if not (folder / "data.txt").is_file():
        raise FileNotFoundError(f"no UCI data set at {folder} (expected data.txt).")
    data = np.loadtxt(folder / "data.txt")
    features = _read_ints(folder / "index_features.txt")
    target = int(_read_ints(folder / "index_target.txt")[0])
    n_splits = int(_read_ints(folder / "n_splits.txt")[0])
    splits = [
        (
            _read_ints(folder / f"index_train_{k}.txt"),
            _read_ints(folder / f"index_test_{k}.txt"),
        )
        for k in range(n_splits)
    ]
    return Bunch(
        data=data[:, features], target=data[:, target], splits=splits, name=name
    )
