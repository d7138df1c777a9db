"""Sufficient statistics of (X, y): one pass over X.

Pure NumPy/SciPy, arrays in and out (see :mod:`bayesreg._gaussian`, which
builds the posteriors on these statistics). Statistics of disjoint chunks
merge exactly, which is what online updates, shards and the dask tree
reduction rely on.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse

# Rows per block when a pass over X needs a temporary copy: ~8 MB of float64,
# small enough to stay in cache, large enough for BLAS to run at full speed.
_BLOCK_BYTES = 8 * 2**20


def _block_rows(n_features: int) -> int:
    return max(1, _BLOCK_BYTES // (8 * max(n_features, 1)))


# Rows per block of the fused Gram pass: ~2 MB, so that a block read for the
# SYRK is still in cache for the two GEMVs that follow it.
_FUSED_BYTES = 2 * 2**20


def _fused_gram(X: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X^T X, V X) for V of shape (k, n) with k small, in one pass over X.

    Separately, each V-row product is a memory-bound GEMV that reads all of X
    again; fused per block of rows they cost almost nothing on top of the
    compute-bound SYRK.
    """
    n, d = X.shape
    step = max(256, _FUSED_BYTES // (8 * max(d, 1)))
    if n <= step:
        return X.T @ X, V @ X
    xtx = np.zeros((d, d))
    vx = np.zeros((V.shape[0], d))
    for start in range(0, n, step):
        Xb = X[start : start + step]
        xtx += Xb.T @ Xb
        vx += V[:, start : start + step] @ Xb
    return xtx, vx


class GramStats(NamedTuple):
    """Weighted sufficient statistics of (X, y), centred or not.

    With weights w_i and (when ``centered``) the weighted means x_mean,
    y_mean, the fields are n = sum w_i, xtx = sum w_i (x_i - x_mean)(x_i -
    x_mean)^T, xty = sum w_i (x_i - x_mean)(y_i - y_mean) and yty = sum w_i
    (y_i - y_mean)^2. Uncentred statistics have zero means.

    For a 1-D y, ``y_mean`` and ``yty`` are floats and ``xty`` has shape
    (d,); for y of shape (n, k) they have shapes (k,), (k,) and (d, k): one
    ``xtx`` serves every target.
    """

    n: float
    x_mean: np.ndarray
    y_mean: float | np.ndarray
    xtx: np.ndarray
    xty: np.ndarray
    yty: float | np.ndarray
    centered: bool


def _as_output(value, one_d: bool):
    """A per-target statistic in the shape of y: a float for a 1-D y."""
    return float(value[0]) if one_d else np.asarray(value, dtype=float)


def _column_sums(X, w: np.ndarray | None) -> np.ndarray:
    """sum_i w_i x_i (dense or sparse X), as a dense vector."""
    if w is None:
        return np.asarray(X.sum(axis=0), dtype=float).ravel()
    return np.asarray(X.T @ w, dtype=float).ravel()


def column_moments(X, sample_weight=None, *, center: bool = True):
    """``(n, x_mean, diag)``: the weight, weighted mean and the diagonal of
    the (centred) X^T W X, from a dense or sparse X without forming X^T X.

    Sparse: the sums of squares come from ``X.multiply(X)`` (the non-zeros
    only) and the centring is algebraic, diag - n x_mean^2.
    """
    n_samples, d = X.shape
    n = float(n_samples) if sample_weight is None else float(sample_weight.sum())
    x_mean = _column_sums(X, sample_weight) / n if center else np.zeros(d)
    if sparse.issparse(X):
        sq = _column_sums(X.multiply(X), sample_weight)
    elif sample_weight is None:
        sq = np.einsum("ij,ij->j", X, X)
    else:
        sq = np.einsum("i,ij,ij->j", sample_weight, X, X)
    return n, x_mean, np.clip(sq - n * x_mean**2, 0.0, None)


def gram_stats(
    X,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    center: bool = True,
) -> GramStats:
    """Sufficient statistics of a weighted least-squares problem in one pass.

    Unweighted data take the fast route: one symmetric BLAS product ``X.T @ X``
    and the centring applied afterwards as a rank-one correction. When that
    correction would cancel most digits of a column's variance (mean far from
    zero relative to the spread), the statistics are recomputed from
    explicitly centred blocks of rows, which is exact to rounding.

    ``X`` may be a scipy.sparse matrix or array: the products are sparse and
    the centring is the same rank-one correction on the statistics, so X is
    never densified (only a block of rows, in the rare fallback above).
    ``y`` may be (n,) or (n, k): one pass serves every target.
    """
    one_d = y.ndim == 1
    Y = y.reshape(y.shape[0], -1)
    if sparse.issparse(X):
        return _sparse_gram_stats(X, Y, sample_weight, center, one_d)
    n_samples, n_features = X.shape
    k = Y.shape[1]
    if sample_weight is None and not center:
        xtx, xty = _fused_gram(X, Y.T)
        return GramStats(
            float(n_samples), np.zeros(n_features), _as_output(np.zeros(k), one_d),
            xtx, _as_output_xty(xty.T, one_d), _as_output(np.sum(Y * Y, 0), one_d),
            False,
        )  # fmt: skip
    if sample_weight is None:
        n = float(n_samples)
        y_mean = Y.sum(axis=0) / n
        Yc = Y - y_mean
        # One pass over X: the column sums and the centred X^T y ride along
        # with the SYRK of X^T X.
        raw, sums = _fused_gram(X, np.vstack([np.ones(n_samples), Yc.T]))
        x_sum, xty = sums[0], sums[1:].T
        x_mean = x_sum / n
        # X^T yc equals (X - 1 x_mean^T)^T yc only if yc sums to zero, which
        # rounding breaks when |y_mean| >> its spread: subtract the rest.
        xty = xty - np.outer(x_mean, Yc.sum(axis=0))
        xtx = raw - np.outer(x_sum, x_mean)
        if not _lost_digits(raw, xtx):
            return GramStats(
                n, x_mean, _as_output(y_mean, one_d), xtx,
                _as_output_xty(xty, one_d), _as_output(np.sum(Yc * Yc, 0), one_d),
                True,
            )  # fmt: skip
        sqrt_w = None
    else:
        n = float(sample_weight.sum())
        x_mean = sample_weight @ X / n if center else np.zeros(n_features)
        y_mean = sample_weight @ Y / n if center else np.zeros(k)
        sqrt_w = np.sqrt(sample_weight)
    return _blocked_stats(X, Y, sqrt_w, n, x_mean, y_mean, center, one_d)


def _lost_digits(raw: np.ndarray, xtx: np.ndarray) -> bool:
    """Whether the rank-one centring cancelled most digits of a variance
    (it loses log10(raw/centred) digits of each)."""
    diag_raw = np.diag(raw)
    lost = np.diag(xtx) <= 1e-4 * np.where(diag_raw > 0, diag_raw, 1.0)
    return bool(np.any(lost & (diag_raw > 0)))


def _as_output_xty(xty: np.ndarray, one_d: bool) -> np.ndarray:
    return xty[:, 0].copy() if one_d else xty


def _blocked_stats(X, Y, sqrt_w, n, x_mean, y_mean, center, one_d) -> GramStats:
    """The statistics from explicitly centred (and weighted) blocks of rows;
    a sparse X is densified one block at a time."""
    n_samples, n_features = X.shape
    xtx = np.zeros((n_features, n_features))
    xty = np.zeros((n_features, Y.shape[1]))
    yty = np.zeros(Y.shape[1])
    step = _block_rows(n_features)
    for start in range(0, n_samples, step):
        rows = slice(start, start + step)
        Xb = X[rows]
        Xb = (Xb.toarray() if sparse.issparse(Xb) else Xb) - x_mean
        Yb = Y[rows] - y_mean
        if sqrt_w is not None:
            Xb *= sqrt_w[rows, None]
            Yb = Yb * sqrt_w[rows, None]
        xtx += Xb.T @ Xb
        xty += Xb.T @ Yb
        yty += np.sum(Yb * Yb, axis=0)
    return GramStats(
        n, x_mean, _as_output(y_mean, one_d), xtx, _as_output_xty(xty, one_d),
        _as_output(yty, one_d), center,
    )  # fmt: skip


def _sparse_gram_stats(X, Y, sample_weight, center, one_d) -> GramStats:
    """:func:`gram_stats` of a sparse X from sparse products.

    X^T W X, the column sums and X^T W (y - y_mean) are sparse products;
    centring is the rank-one correction X^T W X - n x_mean x_mean^T (the
    centred X^T W y needs none: the weighted centred y sums to zero).
    """
    X = X.tocsr()
    n_samples, d = X.shape
    w = sample_weight
    n = float(n_samples) if w is None else float(w.sum())
    WX = X if w is None else sparse.csr_matrix(X.multiply(w[:, None]))
    y_mean = (
        (Y.sum(axis=0) if w is None else w @ Y) / n if center else np.zeros(Y.shape[1])
    )
    Yc = Y - y_mean
    raw = (X.T @ WX).toarray()
    xty = np.asarray(WX.T @ Yc, dtype=float)
    yw = Yc if w is None else Yc * w[:, None]
    yty = np.sum(yw * Yc, axis=0)
    if center:
        # The centred X^T W y: X^T W yc less x_mean sum(w yc), which is zero
        # but for rounding.
        xty -= np.outer(_column_sums(X, w) / n, yw.sum(axis=0))
    if not center:
        return GramStats(
            n, np.zeros(d), _as_output(y_mean, one_d), raw,
            _as_output_xty(xty, one_d), _as_output(yty, one_d), False,
        )  # fmt: skip
    x_sum = _column_sums(X, w)
    x_mean = x_sum / n
    xtx = raw - np.outer(x_sum, x_mean)
    if _lost_digits(raw, xtx):
        sqrt_w = None if w is None else np.sqrt(w)
        return _blocked_stats(X, Y, sqrt_w, n, x_mean, y_mean, True, one_d)
    return GramStats(
        n, x_mean, _as_output(y_mean, one_d), xtx, _as_output_xty(xty, one_d),
        _as_output(yty, one_d), True,
    )  # fmt: skip


def scale_floor(yty, n: float, y_mean):
    """Smallest posterior noise scale b_N kept: 0.5e-10 times y's spread
    (``yty``, or its spread about zero ``n y_mean^2`` when it has none about
    its mean), elementwise over targets; see
    :func:`bayesreg._gaussian.posterior` for why."""
    spread = np.where(yty > 0, yty, n * np.square(y_mean))
    return np.maximum(0.5e-10 * spread, np.finfo(float).tiny)


def column_scale(stats: GramStats) -> np.ndarray:
    """Each column's spread in ``stats``: its weighted std when they are
    centred, its root mean square when not; 1 for a column without spread
    (whose coefficient the data do not inform)."""
    d = stats.xtx.shape[0]
    if stats.n <= 0 or d == 0:
        return np.ones(d)
    sd = np.sqrt(np.clip(np.diag(stats.xtx), 0.0, None) / stats.n)
    return np.where(sd > 0, sd, 1.0)


def merge_stats(a: GramStats, b: GramStats) -> GramStats:
    """Statistics of the union of two data sets (Chan, Golub & LeVeque 1979).

    Exact for centred statistics: the between-group term
    ``n_a n_b / n (m_a - m_b)(m_a - m_b)^T`` restores what centring each part
    on its own mean removed.
    """
    if a.centered != b.centered:
        raise ValueError("cannot merge centred and uncentred statistics")
    if not a.centered:
        # Zero means, of the shape of y's (a float, or (k,) for k targets;
        # an empty part may hold the float).
        return GramStats(
            a.n + b.n,
            a.x_mean,
            a.y_mean + b.y_mean,
            a.xtx + b.xtx,
            a.xty + b.xty,
            a.yty + b.yty,
            False,
        )
    n = a.n + b.n
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    dx = b.x_mean - a.x_mean
    dy = np.subtract(b.y_mean, a.y_mean)
    f = a.n * b.n / n
    return GramStats(
        n,
        a.x_mean + dx * (b.n / n),
        a.y_mean + dy * (b.n / n),
        a.xtx + b.xtx + f * np.outer(dx, dx),
        a.xty + b.xty + f * np.multiply.outer(dx, dy),
        a.yty + b.yty + f * dy * dy,
        True,
    )
