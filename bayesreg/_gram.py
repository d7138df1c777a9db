"""Sufficient statistics of (X, y) and the ridge solve: one pass over X.

Pure NumPy/SciPy, arrays in and out (see :mod:`bayesreg._gaussian`, which
builds the posteriors on these statistics). Statistics of disjoint chunks
merge exactly, which is what online updates, shards and the dask tree
reduction rely on.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg

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
    """

    n: float
    x_mean: np.ndarray
    y_mean: float
    xtx: np.ndarray
    xty: np.ndarray
    yty: float
    centered: bool


def gram_stats(
    X: np.ndarray,
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
    """
    n_samples, n_features = X.shape
    if sample_weight is None and not center:
        xtx, xty = _fused_gram(X, y[None, :])
        return GramStats(
            float(n_samples), np.zeros(n_features), 0.0, xtx, xty[0],
            float(y @ y), False,
        )  # fmt: skip
    if sample_weight is None:
        n = float(n_samples)
        y_mean = float(y.sum() / n)
        yc = y - y_mean
        # One pass over X: the column sums and the centred X^T y ride along
        # with the SYRK of X^T X.
        raw, sums = _fused_gram(X, np.stack([np.ones(n_samples), yc]))
        x_sum, xty = sums[0], sums[1]
        x_mean = x_sum / n
        xtx = raw - np.outer(x_sum, x_mean)
        diag_raw = np.diag(raw)
        # Rank-one centring loses log10(raw/centred) digits of each variance.
        lost = np.diag(xtx) <= 1e-4 * np.where(diag_raw > 0, diag_raw, 1.0)
        if not np.any(lost & (diag_raw > 0)):
            return GramStats(n, x_mean, y_mean, xtx, xty, float(yc @ yc), True)
        sqrt_w = None
    else:
        n = float(sample_weight.sum())
        x_mean = sample_weight @ X / n if center else np.zeros(n_features)
        y_mean = float(sample_weight @ y / n) if center else 0.0
        sqrt_w = np.sqrt(sample_weight)

    xtx = np.zeros((n_features, n_features))
    xty = np.zeros(n_features)
    yty = 0.0
    step = _block_rows(n_features)
    for start in range(0, n_samples, step):
        rows = slice(start, start + step)
        Xb = X[rows] - x_mean
        yb = y[rows] - y_mean
        if sqrt_w is not None:
            Xb *= sqrt_w[rows, None]
            yb = yb * sqrt_w[rows]
        xtx += Xb.T @ Xb
        xty += Xb.T @ yb
        yty += float(yb @ yb)
    return GramStats(n, x_mean, y_mean, xtx, xty, yty, center)


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
        return GramStats(
            a.n + b.n,
            a.x_mean,
            0.0,
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
    dy = b.y_mean - a.y_mean
    f = a.n * b.n / n
    return GramStats(
        n,
        a.x_mean + dx * (b.n / n),
        a.y_mean + dy * (b.n / n),
        a.xtx + b.xtx + f * np.outer(dx, dx),
        a.xty + b.xty + f * dx * dy,
        a.yty + b.yty + f * dy * dy,
        True,
    )


class RidgeSolution(NamedTuple):
    """Solution of (xtx + alpha I) coef = xty and its effective dof."""

    coef: np.ndarray
    dof: float  # trace of the hat matrix, sum_i ev_i / (ev_i + alpha)


def _eigh_solve(xtx, xty, alpha) -> RidgeSolution:
    """Minimum-norm solution by the eigendecomposition of the Gram matrix.

    Directions with eigenvalue + alpha below rounding of the largest one are
    dropped (a pseudo-inverse): exactly collinear columns and n < d with
    alpha = 0 get the minimum-norm solution instead of a LinAlgError.
    """
    ev, V = linalg.eigh(xtx, check_finite=False)
    ev = np.clip(ev, 0.0, None)
    denom = ev + alpha
    keep = denom > max(denom.max(), 1e-300) * xtx.shape[0] * np.finfo(float).eps
    inv = np.zeros_like(denom)
    inv[keep] = 1.0 / denom[keep]
    coef = V @ (inv * (V.T @ xty))
    return RidgeSolution(coef, float(np.sum(ev * inv)))


def solve_ridge(xtx: np.ndarray, xty: np.ndarray, alpha: float) -> RidgeSolution:
    """Solve the ridge normal equations (xtx + alpha I) coef = xty.

    Cholesky when the regularised Gram matrix is comfortably positive
    definite; otherwise (singular, or a Cholesky factor whose diagonal spans
    more than 10^7, i.e. condition number above ~10^14) the eigendecomposition.
    """
    d = xtx.shape[0]
    if d == 0:
        return RidgeSolution(np.zeros(0), 0.0)
    A = xtx + alpha * np.eye(d)
    try:
        L = linalg.cholesky(A, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return _eigh_solve(xtx, xty, alpha)
    diag = np.abs(np.diag(L))
    if diag.min() <= 1e-7 * diag.max():
        return _eigh_solve(xtx, xty, alpha)
    coef = linalg.cho_solve((L, True), xty, check_finite=False)
    # trace(xtx A^-1) = d - alpha trace(A^-1), and trace(A^-1) = ||L^-1||_F^2.
    if alpha == 0:
        dof = float(d)
    else:
        L_inv = linalg.solve_triangular(L, np.eye(d), lower=True, check_finite=False)
        dof = float(d - alpha * np.sum(L_inv**2))
    return RidgeSolution(coef, dof)


def residual_sum_of_squares(stats: GramStats, coef: np.ndarray) -> float:
    """RSS of ``coef`` from the statistics: yty - 2 coef.xty + coef.xtx.coef."""
    rss = stats.yty - 2.0 * coef @ stats.xty + coef @ stats.xtx @ coef
    return float(max(rss, 0.0))
