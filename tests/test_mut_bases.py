"""The products of :mod:`bayesreg._bases` against their definitions, for any
basis data (issue 21: mutants of ``_bases`` the spectra's tests left alive).

The bases are built here by hand with an arbitrary U (not the eigenvectors
of a centred kernel) and a non-zero mean, so the centring terms, which the
eigenvectors of the spectra annihilate (U^T W^1/2 1 = 0), are held to the
dense formulas A = W^1/2 (X - 1 x_mean^T) D and Q = A^T U diag(s)^-1.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

from bayesreg import _gaussian

_bases = sys.modules[_gaussian.DualBasis.__module__]

N, P, R = 6, 5, 3


def _dual(as_sparse, weights, q_train):
    """A dual basis over arbitrary data, and its dense A."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, P)) + 2.0
    X[X < 1.5] = 0.0  # some zeros for the sparse form
    D = rng.uniform(0.5, 2.0, P)
    x_mean = rng.normal(size=P)
    sqrt_w = rng.uniform(0.5, 1.5, N) if weights else None
    U = rng.normal(size=(N, R))
    s = rng.uniform(0.5, 2.0, R)
    XD = X * D
    q = XD @ (D * x_mean) if q_train else None
    XD_in = sparse.csr_matrix(XD) if as_sparse else XD
    basis = _bases.DualBasis(XD_in, sqrt_w, U, s, x_mean, D, q)
    w = np.ones(N) if sqrt_w is None else sqrt_w
    A = w[:, None] * (X - x_mean) * D
    return basis, A, X, D, x_mean


FLAGS = pytest.mark.parametrize(
    "as_sparse, weights", [(False, False), (False, True), (True, True)]
)


@pytest.mark.parametrize("m", [1, 3])
@FLAGS
def test_dual_products_are_the_dense_ones(as_sparse, weights, m):
    """A V, A^T M, Q^T V and Q C for one column and several."""
    basis, A, *_ = _dual(as_sparse, weights, q_train=False)
    Q = A.T @ basis.U / basis.s
    rng = np.random.default_rng(1)
    V, M, C = (rng.normal(size=(k, m)) for k in (P, N, R))
    assert_allclose(basis._a(V), A @ V, rtol=1e-12, atol=1e-12)
    assert_allclose(basis._at(M), A.T @ M, rtol=1e-12, atol=1e-12)
    assert_allclose(basis.qt(V), Q.T @ V, rtol=1e-12, atol=1e-12)
    assert_allclose(basis.q(C), Q @ C, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("q_train", [False, True])
@pytest.mark.parametrize("new_sparse", [False, True])
@FLAGS
def test_dual_projector_is_the_dense_formula(as_sparse, weights, new_sparse, q_train):
    """x^T coef, and |v|^2 - |Q^T v|^2 (at least 0) + sum_i (Q^T v)_i^2 inv_i
    with v = D (x - x_mean), whether X D^2 x_mean is given or computed."""
    basis, A, _, D, x_mean = _dual(as_sparse, weights, q_train)
    rng = np.random.default_rng(2)
    Xb = rng.normal(size=(8, P)) + 1.0
    Xb[0] = x_mean  # v = 0
    coef_t = rng.normal(size=(P, 2))
    inv = rng.uniform(0.1, 2.0, size=(R, 2))
    V = (Xb - x_mean) * D
    # U scaled so that |Q^T v| < |v| for some rows and not for others: both
    # sides of the clip of the complement's norm
    QtV = V @ (A.T @ basis.U / basis.s)
    ratio = np.sum(V * V, axis=1)[1:] / np.sum(QtV * QtV, axis=1)[1:]
    basis = basis._replace(U=basis.U * np.sqrt(np.median(ratio)))
    Q = A.T @ basis.U / basis.s
    QtV = V @ Q
    perp = np.sum(V * V, axis=1) - np.sum(QtV * QtV, axis=1)
    assert (perp > 0).any() and (perp < 0).any()
    ref = np.maximum(perp, 0.0)[:, None] + (QtV * QtV) @ inv
    project = basis.projector(x_mean, D, coef_t, inv)
    mean, var = project(sparse.csr_matrix(Xb) if new_sparse else Xb)
    assert_allclose(mean, Xb @ coef_t, rtol=1e-12, atol=1e-12)
    assert_allclose(var, ref, rtol=1e-10, atol=1e-10)


def test_dual_training_rows_are_recovered():
    for as_sparse in (False, True):
        basis, _, X, *_ = _dual(as_sparse, True, False)
        got = basis.X.toarray() if as_sparse else basis.X
        assert_allclose(got, X, rtol=1e-14, atol=1e-14)


def test_primal_projector_is_the_dense_formula():
    """With a complete basis: x^T coef and sum_i (Q^T D (x - x_mean))_i^2
    inv_i, for blocks up to block_rows rows and a shorter last one."""
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.normal(size=(P, P)))[0]
    basis = _bases.PrimalBasis(Q)
    D, x_mean = rng.uniform(0.5, 2.0, P), rng.normal(size=P)
    coef_t, inv = rng.normal(size=(P, 2)), rng.uniform(0.1, 2.0, size=(P, 2))
    project = basis.projector(x_mean, D, coef_t, inv)
    rows = basis.block_rows(P)
    for n in (1, rows):
        Xb = rng.normal(size=(n, P))
        QtV = ((Xb - x_mean) * D) @ Q
        mean, var = project(Xb)
        assert_allclose(mean, Xb @ coef_t, rtol=1e-12, atol=1e-12)
        assert_allclose(var, (QtV * QtV) @ inv, rtol=1e-12, atol=1e-12)


def test_scaled_rows_are_the_dense_products(monkeypatch):
    """Xb coef, Xb d2m, Xb D and |Xb D|^2 by rows, in sub-blocks of one row
    and in one block."""
    rng = np.random.default_rng(4)
    Xb, D = rng.normal(size=(7, P)), rng.uniform(0.5, 2.0, P)
    coef_t, d2m = rng.normal(size=(P, 2)), rng.normal(size=P)
    XbD = Xb * D
    ref = (Xb @ coef_t, Xb @ d2m, XbD, np.sum(XbD * XbD, axis=1))
    for cache in (_bases._CACHE_BYTES, 8 * P):
        monkeypatch.setattr(_bases, "_CACHE_BYTES", cache)
        got = _bases._scaled_rows(Xb, D, coef_t, d2m)
        for a, b in zip(got, ref, strict=True):
            assert_allclose(a, b, rtol=1e-12, atol=1e-12)
