"""The two eigenbases of :mod:`bayesreg._gaussian` and their products with rows.

Pure NumPy/SciPy. With D = diag(prior std), W the row weights and A =
W^1/2 (X - 1 x_mean^T) D the whitened, centred training rows, the Gram
matrix G = A^T A = Q diag(ev) Q^T is held in one of two bases:

- :class:`PrimalBasis`: Q itself, p x p (from ``eigh`` of the p x p
  statistics);
- :class:`DualBasis`: Q = A^T U diag(s)^-1 (s^2 = ev), never formed: a
  product with Q is a product with the stored rows X D.

Besides Q^T V and Q C, each basis gives a *projector* for predictions: for
a block of new rows x, the mean x^T coef and the weighted squares of the
coordinates Q^T D (x - x_mean) (plus, in the dual, whose basis is not
complete, the squared norm of D (x - x_mean) outside it), computed so that
every row of X is read from memory once (the products that follow the first
read it again from cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from scipy import sparse

#: Bytes of a block of new rows that the products after the first read from
#: cache (L2) instead of memory.
_CACHE_BYTES = 2**20
#: Bytes of the dual's prior-scaled new rows per kernel block: every GEMM
#: with the training rows packs all of them (n x p) again, so the blocks are
#: large (hundreds of rows at p = 20,000) for that cost to be amortised.
_KERNEL_BYTES = 2**26


def row_blocks(n: int, step: int) -> Iterator[slice]:
    """Consecutive slices of ``step`` rows (the last may be shorter)."""
    step = max(int(step), 1)
    for start in range(0, n, step):
        yield slice(start, start + step)


class PrimalBasis(NamedTuple):
    """Q explicitly, p x p (complete)."""

    Q: np.ndarray

    complete = True

    def qt(self, V: np.ndarray) -> np.ndarray:
        """Q^T V for V (p, m)."""
        return self.Q.T @ V

    def q(self, C: np.ndarray) -> np.ndarray:
        """Q C for C (r, m)."""
        return self.Q @ C

    def block_rows(self, n_features: int) -> int:
        """Rows per block of :meth:`projector`: X's block and the r
        coordinates of each row in cache, a multiple of 256 rows (for large
        p a GEMM with Q needs that many to amortise packing Q; and BLAS
        then treats each row as in one product with all rows)."""
        width = n_features + self.Q.shape[1]  # >= 2: p >= 1 and Q is p x p
        return max(256, _CACHE_BYTES // (8 * width) // 256 * 256)

    def projector(self, x_mean, prior_std, coef_t, inv):
        """A function of a block of rows returning, for each row, x^T coef
        for ``coef_t`` (p, k) and sum_i (Q^T D (x - x_mean))_i^2 inv_i for
        ``inv`` (r, k): a complete basis needs no norm of the complement."""
        DQ = prior_std[:, None] * self.Q
        shift = x_mean @ DQ
        # The shift repeated for a block's rows: subtracted from the flat
        # (rows x r) coordinates it runs along the whole block, where a
        # broadcast over rows runs r entries at a time.
        tiled = np.tile(shift, self.block_rows(DQ.shape[0]))

        def project(Xb):
            mean = np.asarray(Xb @ coef_t)
            P = np.asarray(Xb @ DQ)  # Xb again, from cache
            flat = P.reshape(-1)
            flat -= tiled[: flat.size]
            # In place: spares a block-sized temporary (memory only).
            P2 = np.square(P, out=P)  # pragma: no mutate
            return mean, P2 @ inv

        return project


class DualBasis(NamedTuple):
    """Q = A^T U diag(s)^-1 with A = W^1/2 (X - 1 x_mean^T) D, through the
    prior-scaled training rows ``XD`` = X D (dense or CSR; a copy, so the
    fit never aliases the caller's X), ``sqrt_w`` (n,) or None, ``U``
    (n, r) and ``s`` (r,) the singular values of A; ``q_train`` (n,) is
    X D^2 x_mean when known (None: computed from ``XD`` on demand)."""

    XD: object
    sqrt_w: np.ndarray | None
    U: np.ndarray
    s: np.ndarray
    x_mean: np.ndarray
    prior_std: np.ndarray
    q_train: np.ndarray | None = None

    complete = False

    @property
    def X(self):
        """The training rows, X D D^-1 (to rounding)."""
        if sparse.issparse(self.XD):
            return sparse.csr_matrix(self.XD @ sparse.diags(1.0 / self.prior_std))
        return self.XD / self.prior_std

    def _w(self, M: np.ndarray) -> np.ndarray:
        return M if self.sqrt_w is None else self.sqrt_w[:, None] * M

    def _a(self, V: np.ndarray) -> np.ndarray:
        """A V for V (p, m): W^1/2 (X D V - 1 x_mean^T D V)."""
        mD = self.x_mean * self.prior_std
        return self._w(np.asarray(self.XD @ V) - (mD @ V)[None, :])

    def _at(self, M: np.ndarray) -> np.ndarray:
        """A^T M for M (n, m): D X^T W^1/2 M - D x_mean 1^T W^1/2 M."""
        WM = self._w(M)
        mD = self.x_mean * self.prior_std
        # Which orientation computes the product is speed only: both
        # branches give D X^T W^1/2 M, to rounding, dense or sparse.
        if WM.shape[1] > 1 and not sparse.issparse(self.XD):  # pragma: no mutate
            # (M^T W^1/2 X D)^T: a GEMM along X D's rows; X D^T times a thin
            # M reads it about twice as slowly (one column stays a GEMV).
            XtWM = (np.ascontiguousarray(WM.T) @ self.XD).T
        else:
            XtWM = np.asarray(self.XD.T @ WM)
        return XtWM - np.outer(mD, WM.sum(axis=0))

    def qt(self, V: np.ndarray) -> np.ndarray:
        return (self.U.T @ self._a(V)) / self.s[:, None]

    def q(self, C: np.ndarray) -> np.ndarray:
        return self._at(self.U @ (C / self.s[:, None]))

    def block_rows(self, n_features: int) -> int:
        """Rows per kernel block of :meth:`projector` (see
        :data:`_KERNEL_BYTES`)."""
        width = max(n_features, self.U.shape[0] + self.U.shape[1])
        return max(1, _KERNEL_BYTES // (8 * max(width, 1)))

    def projector(self, x_mean, prior_std, coef_t, inv):
        """A function of a block of rows returning, for each row, x^T coef
        for ``coef_t`` (p, k) and |v_perp|^2 + sum_i (Q^T v)_i^2 inv_i for
        ``inv`` (r, k), v = D (x - x_mean), |v_perp|^2 = |v|^2 - |Q^T v|^2,
        from the kernel rows X_b D^2 X^T (sparse products for sparse rows)."""
        d2 = prior_std**2
        d2m = d2 * x_mean
        c0 = float(x_mean @ d2m)
        # X D^2 m (kept from the fit) and the kernel rows X_b D^2 X^T =
        # (X_b D)(X D)^T. Speed only: the cached X D^2 m spares a product,
        # and a sparse (X D)^T in CSR (not the transpose's CSC) makes the
        # kernel product faster.
        q_train = self.q_train  # pragma: no mutate
        if q_train is None:
            q_train = np.asarray(self.XD @ (prior_std * x_mean)).ravel()
        XT = self.XD.T
        if sparse.issparse(XT):  # pragma: no mutate
            XT = XT.tocsr()
        # U diag(s)^-1 with the row weights folded in: K_c W^1/2 U S^-1.
        US = self.U / self.s[None, :]
        if self.sqrt_w is not None:
            US = US * self.sqrt_w[:, None]
        centre = q_train @ US
        US_sum = US.sum(axis=0)

        def project(Xb):
            if sparse.issparse(Xb):
                mean = np.asarray(Xb @ coef_t)
                a_new = np.asarray(Xb @ d2m).ravel()
                XbD = Xb @ sparse.diags(prior_std)
                K = XbD @ XT
                K = K.toarray() if sparse.issparse(K) else np.asarray(K)
                sq = np.asarray(XbD.multiply(XbD).sum(axis=1)).ravel()
            else:
                mean, a_new, XbD, sq = _scaled_rows(Xb, prior_std, coef_t, d2m)
                K = XbD @ XT
            # (K - a 1^T - 1 q^T + c0) W^1/2 U S^-1, the centring applied
            # to the n x r product instead of the kernel rows.
            P = K @ US
            P -= centre[None, :]
            P -= (a_new - c0)[:, None] * US_sum
            # In place: spares a block-sized temporary (memory only).
            P2 = np.square(P, out=P)  # pragma: no mutate
            # |v|^2 = |D x|^2 - 2 x^T D^2 m + m^T D^2 m; rounding below 0
            # is clipped with |v_perp|^2 (|v|^2 - |Q^T v|^2 <= |v|^2).
            sq = sq - 2.0 * a_new + c0
            var = P2 @ inv
            var += np.clip(sq - P2.sum(axis=1), 0.0, None)[:, None]
            return mean, var

        return project


def _scaled_rows(Xb: np.ndarray, scale: np.ndarray, coef_t: np.ndarray, d2m):
    """(Xb coef, Xb d2m, Xb diag(scale), the rows' squared norms after
    scaling) of dense rows, a few rows at a time so that each is read from
    memory once: the two products and the scaling read it from cache."""
    n, p = Xb.shape
    XbD = np.empty((n, p))
    mean = np.empty((n, coef_t.shape[1]))
    a_new = np.empty(n)
    sq = np.empty(n)
    # The sub-block size is speed only: each row's products are the same.
    for rows in row_blocks(n, _CACHE_BYTES // (8 * max(p, 1))):  # pragma: no mutate
        xs = Xb[rows]
        mean[rows] = xs @ coef_t
        a_new[rows] = xs @ d2m
        xd = np.multiply(xs, scale, out=XbD[rows])
        sq[rows] = np.einsum("ij,ij->i", xd, xd)
    return mean, a_new, XbD, sq
