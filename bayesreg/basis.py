"""Basis expansions that turn a linear regressor into a curve fitter."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numpy.polynomial.chebyshev import chebvander
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from .utils._checks import naming_the_argument
from .utils._params import store_params
from .utils._state import restore_on_error

__all__ = ["BasisExpansion"]


class BasisExpansion(TransformerMixin, BaseEstimator):
    """Expand each input column into a fixed set of basis functions.

    A linear model on the expanded features is a basis-function regression,
    ``f(x) = b + sum_k w_k phi_k(x)``. Polynomial, Chebyshev, sinusoidal and
    Gaussian radial bases are offered; every basis is placed relative to the
    range of the training data so that high degrees stay well conditioned.

    Parameters
    ----------
    kind : {"polynomial", "chebyshev", "sinusoidal", "rbf"}, default="polynomial"
        The family of basis functions:

        - ``"polynomial"``: powers ``z, z^2, ..., z^degree`` of the input mapped
          to ``[-1, 1]`` by the training minimum and maximum.
        - ``"chebyshev"``: Chebyshev polynomials ``T_1(z), ..., T_degree(z)`` of
          the same mapped input; better conditioned than plain powers.
        - ``"sinusoidal"``: ``cos(2 pi k f0 x)`` and ``sin(2 pi k f0 x)`` for the
          harmonics ``k = 1, ..., degree`` of a base frequency ``f0``.
        - ``"rbf"``: ``degree`` Gaussian bumps on an evenly spaced grid over
          the training range.

    degree : int, default=3
        Highest power or harmonic, or the number of Gaussian bumps, per input
        column. Must be at least 1.

    include_bias : bool, default=False
        If True, prepend one column of ones (feature name ``"1"``). Leave it
        False when the downstream regressor fits its own intercept.

    base_frequency : float or array-like of shape (n_features,), default=None
        Base frequency ``f0`` of the sinusoidal basis, in cycles per unit of
        ``x``; one value for all columns or one per column. If None, it is
        learned in ``fit`` as ``1 / (2 * (max - min))`` per column, a period
        of twice the training range, so that the fitted curve need not wrap
        around. Only used when ``kind="sinusoidal"``.

    rbf_width : float, default=1.0
        Width of the Gaussian bumps in units of the grid spacing (or of the
        training range when ``degree=1``). Only used when ``kind="rbf"``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when ``X`` has
        feature names that are all strings.

    n_output_features_ : int
        Number of output columns: ``n_features_in_ * m + include_bias`` with
        ``m = 2 * degree`` for ``"sinusoidal"`` and ``m = degree`` otherwise.

    center_ : ndarray of shape (`n_features_in_`,)
        Midpoint ``(min + max) / 2`` of each training column.

    halfwidth_ : ndarray of shape (`n_features_in_`,)
        Half the training range ``(max - min) / 2`` of each column, or 1 for a
        constant column. The mapped input is
        ``z = (x - center_) / halfwidth_``.

    base_frequency_ : ndarray of shape (`n_features_in_`,)
        Base frequency ``f0`` used for each column. Only set when
        ``kind="sinusoidal"``.

    centers_ : ndarray of shape (`n_features_in_`, degree)
        Centres of the Gaussian bumps of each column. Only set when
        ``kind="rbf"``.

    widths_ : ndarray of shape (`n_features_in_`,)
        Width (standard deviation) of the Gaussian bumps of each column. Only
        set when ``kind="rbf"``.

    See Also
    --------
    sklearn.preprocessing.PolynomialFeatures : Raw polynomial and interaction
        features, without the mapping to ``[-1, 1]``.
    sklearn.preprocessing.SplineTransformer : B-spline basis functions.
    numpy.polynomial.Polynomial : The same domain-to-window mapping for a
        single polynomial.

    Notes
    -----
    Write ``m_j = min`` and ``M_j = max`` of training column ``j``,
    ``c_j = (m_j + M_j) / 2`` and ``h_j = (M_j - m_j) / 2`` (``h_j = 1`` when
    ``m_j = M_j``). The features of column ``j`` are, for ``k = 1..degree``:

    - polynomial: ``z^k`` with ``z = (x - c_j) / h_j``;
    - chebyshev: ``T_k(z)``, where ``T_0 = 1``, ``T_1(z) = z`` and
      ``T_{k+1}(z) = 2 z T_k(z) - T_{k-1}(z)``;
    - sinusoidal: ``cos(2 pi k f_j x)`` then ``sin(2 pi k f_j x)``, with
      ``f_j = 1 / (2 (M_j - m_j))`` unless ``base_frequency`` is given (a
      constant column counts as having range 1);
    - rbf: ``exp(-(x - mu_{jk})^2 / (2 s_j^2))`` with centres ``mu_{jk}``
      evenly spaced from ``m_j`` to ``M_j`` and ``s_j = rbf_width * (M_j -
      m_j) / (degree - 1)``; for ``degree=1`` a single centre at ``c_j`` with
      ``s_j = rbf_width * (M_j - m_j)`` (a constant column counts as having
      range 1).

    The map to ``[-1, 1]`` is what :mod:`numpy.polynomial` calls "domain to
    window". Raw powers of ``x`` in ``[0, 1000]`` span fifteen orders of
    magnitude per degree and give a singular design matrix long before degree
    15; powers of ``z`` in ``[-1, 1]`` do not. Because the map is affine, the
    polynomial features span the same functions as raw powers of ``x`` once
    an intercept is fitted; the Chebyshev features span that same space too
    (``T_k`` is a polynomial of degree ``k`` with leading coefficient
    ``2^(k-1)``), with an even smaller condition number. The map is learned
    once in ``fit``: inputs outside the training range give ``|z| > 1`` and
    the high powers grow quickly there, as any polynomial does.

    Columns are expanded one after the other: all features of column 0, then
    all features of column 1, and so on; there are no interaction terms.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg import BasisExpansion
    >>> X = np.array([[0.0], [500.0], [1000.0]])
    >>> basis = BasisExpansion(degree=3).fit(X)
    >>> basis.transform(X)
    array([[-1.,  1., -1.],
           [ 0.,  0.,  0.],
           [ 1.,  1.,  1.]])
    >>> basis.get_feature_names_out()
    array(['x0', 'x0^2', 'x0^3'], dtype=object)
    >>> BasisExpansion(kind="sinusoidal", degree=2).fit(X).get_feature_names_out()
    array(['x0_cos1', 'x0_sin1', 'x0_cos2', 'x0_sin2'], dtype=object)
    """

    _parameter_constraints: dict = {
        "kind": [StrOptions({"polynomial", "chebyshev", "sinusoidal", "rbf"})],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "include_bias": ["boolean"],
        "base_frequency": [
            Interval(Real, 0, None, closed="neither"),
            "array-like",
            None,
        ],
        "rbf_width": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        kind: str = "polynomial",
        degree: int = 3,
        include_bias: bool = False,
        base_frequency: float | np.ndarray | None = None,
        rbf_width: float = 1.0,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> BasisExpansion:
        """Learn the range of each column and place the basis functions on it.

        A fit that fails (a bad ``base_frequency`` for this ``X``, an
        interrupt) leaves the transformer as it was: unfitted, or with its
        previous fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Sparse matrices are refused with a TypeError: every
            basis maps a zero to a non-zero feature, so the expansion would be
            dense (expand the dense columns only, or call ``X.toarray()``).

        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : BasisExpansion
            The fitted transformer.
        """
        with restore_on_error(self):
            with naming_the_argument(X):
                X = validate_data(self, _dense(X), dtype=[np.float64, np.float32])
            self._fit_range(X)
        return self

    def _fit_range(self, X: np.ndarray) -> None:
        for name in ("base_frequency_", "centers_", "widths_"):
            vars(self).pop(name, None)  # a refit with another kind drops them
        # Halve before subtracting so that ranges near the float64 limit
        # do not overflow.
        lo = X.min(axis=0).astype(np.float64) / 2
        hi = X.max(axis=0).astype(np.float64) / 2
        self.center_ = hi + lo
        self.halfwidth_ = np.where(hi > lo, hi - lo, 1.0)
        # The sinusoidal and rbf bases treat a constant column as range 1.
        half_range = np.where(hi > lo, hi - lo, 0.5)

        if self.kind == "sinusoidal":
            self.base_frequency_ = self._resolve_base_frequency(half_range)
        elif self.kind == "rbf":
            self.centers_, self.widths_ = _rbf_grid(
                self.center_, half_range, self.degree, self.rbf_width
            )

        per_column = 2 * self.degree if self.kind == "sinusoidal" else self.degree
        self.n_output_features_ = self.n_features_in_ * per_column + int(
            self.include_bias
        )

    def transform(self, X) -> np.ndarray:
        """Expand ``X`` into the basis learned in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_in_`)
            Data to expand. Values so far outside the training range that
            their features overflow float64 raise a ValueError.

        Returns
        -------
        Phi : ndarray of shape (n_samples, `n_output_features_`)
            The expanded features, column by column (see Notes of the class).
            float32 input gives float32 output, anything else float64.
        """
        check_is_fitted(self)
        with naming_the_argument(X):
            X = validate_data(
                self, _dense(X), dtype=[np.float64, np.float32], reset=False
            )
        x = X.astype(np.float64, copy=False)

        # Features that overflow are refused below, not warned about.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "polynomial":
                z = (x - self.center_) / self.halfwidth_
                blocks = _powers(z, self.degree)
            elif self.kind == "chebyshev":
                z = (x - self.center_) / self.halfwidth_
                blocks = chebvander(z, self.degree)[..., 1:]
            elif self.kind == "sinusoidal":
                blocks = _harmonics(x, self.base_frequency_, self.degree)
            else:
                blocks = _gaussian_bumps(x, self.centers_, self.widths_)

        # (n, n_features, per_column) -> column 0's features, then column 1's, ...
        Phi = blocks.reshape(X.shape[0], -1)
        if not np.all(np.isfinite(Phi)):
            raise ValueError(
                "X has values so far outside the training range that their "
                f"{self.kind} features of degree {self.degree} overflow float64; "
                "refit on data that covers them, or lower the degree."
            )
        if self.include_bias:
            Phi = np.hstack([np.ones((X.shape[0], 1)), Phi])
        return Phi.astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names. If None, ``feature_names_in_`` is used when
            defined, else ``["x0", "x1", ...]``.

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (`n_output_features_`,)
            ``"x0", "x0^2", ...`` (polynomial), ``"x0_T1", "x0_T2", ...``
            (chebyshev), ``"x0_cos1", "x0_sin1", ...`` (sinusoidal),
            ``"x0_rbf0", "x0_rbf1", ...`` (rbf), preceded by ``"1"`` when
            ``include_bias=True``.
        """
        check_is_fitted(self)
        input_features = _check_feature_names_in(self, input_features)
        ks = range(1, self.degree + 1)
        if self.kind == "polynomial":
            suffixes = [""] + [f"^{k}" for k in ks[1:]]
        elif self.kind == "chebyshev":
            suffixes = [f"_T{k}" for k in ks]
        elif self.kind == "sinusoidal":
            suffixes = [f"_{trig}{k}" for k in ks for trig in ("cos", "sin")]
        else:
            suffixes = [f"_rbf{i}" for i in range(self.degree)]
        names = [f"{name}{s}" for name in input_features for s in suffixes]
        if self.include_bias:
            names = ["1", *names]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _resolve_base_frequency(self, half_range: np.ndarray) -> np.ndarray:
        if self.base_frequency is None:
            # Period 2 * range = 4 * half_range: the training interval covers
            # half a period.
            return 0.25 / half_range
        f0 = np.asarray(self.base_frequency, dtype=np.float64)
        if f0.ndim == 0:
            return np.full(self.n_features_in_, float(f0))
        if f0.shape != (self.n_features_in_,):
            raise ValueError(
                "base_frequency must be a positive number or an array of shape "
                f"(n_features,) = ({self.n_features_in_},); got shape {f0.shape}."
            )
        if not np.all(np.isfinite(f0) & (f0 > 0)):
            raise ValueError(
                f"base_frequency must be finite and > 0 for every column; got {f0}."
            )
        return f0.copy()


def _dense(X):
    """``X`` itself; a scipy.sparse matrix or array is refused, saying why."""
    if sp.issparse(X):
        raise TypeError(
            "BasisExpansion does not take sparse X: every basis it offers maps a "
            "zero entry to a non-zero feature (the polynomial and Chebyshev bases "
            "centre x on its training range, cos(0) = 1, a Gaussian bump is "
            "positive everywhere), so the expansion of a sparse matrix is dense. "
            "Expand only the dense numeric columns (for example with a "
            "ColumnTransformer that passes the sparse ones through), or densify X "
            "with X.toarray() if its dense form fits in memory."
        )
    return X


def _powers(z: np.ndarray, degree: int) -> np.ndarray:
    """``z ** k`` for ``k = 1..degree``, shape ``z.shape + (degree,)``."""
    return z[..., np.newaxis] ** np.arange(1, degree + 1)


def _harmonics(x: np.ndarray, f0: np.ndarray, degree: int) -> np.ndarray:
    """cos/sin pairs of harmonics 1..degree, shape (n, p, 2 * degree)."""
    angle = 2.0 * np.pi * (x * f0)[..., np.newaxis] * np.arange(1, degree + 1)
    # (n, p, degree, 2) -> cos1, sin1, cos2, sin2, ... along the last axis.
    pairs = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    return pairs.reshape(*x.shape, 2 * degree)


def _rbf_grid(
    center: np.ndarray, half_range: np.ndarray, degree: int, rbf_width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced centres over ``center +- half_range`` and the common width."""
    if degree == 1:
        return center[:, np.newaxis].copy(), rbf_width * 2 * half_range
    grid = np.linspace(-1.0, 1.0, degree)
    centers = center[:, np.newaxis] + half_range[:, np.newaxis] * grid
    # Grid spacing = 2 * half_range / (degree - 1).
    return centers, rbf_width * half_range * (2 / (degree - 1))


def _gaussian_bumps(
    x: np.ndarray, centers: np.ndarray, widths: np.ndarray
) -> np.ndarray:
    """``exp(-0.5 ((x - mu) / s)^2)`` for every centre, shape (n, p, degree)."""
    r = (x[..., np.newaxis] - centers) / widths[:, np.newaxis]
    return np.exp(-0.5 * r**2)
