"""bayesreg._gram against naive references: every route of the statistics.

Each route (dense unweighted, centred or not; dense weighted; sparse; the
blocked fallback when the rank-one centring cancels digits; row blocks of
the fused and blocked passes) is held to the same brute-force NumPy
statistics, computed by centring and weighting X explicitly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse

from bayesreg import _gram


def _naive(X, y, w=None, center=True):
    """(n, x_mean, y_mean, xtx, xty, yty) by explicit centring and weighting."""
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=float)
    w = np.ones(X.shape[0]) if w is None else w
    n = w.sum()
    x_mean = w @ X / n if center else np.zeros(X.shape[1])
    y_mean = w @ y / n if center else np.zeros(y.shape[1:])
    Xc, yc = X - x_mean, y - y_mean
    WX = w[:, None] * Xc
    yty = np.einsum("i,i...,i...->...", w, yc, yc)
    return n, x_mean, y_mean, WX.T @ Xc, WX.T @ yc, yty


def _problem(seed, n=37, d=4, k=None, offset=0.0, density=None):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5, 2.0][:d] + offset
    else:
        X = sparse.random(n, d, density=density, random_state=rng, format="csr")
        X.data = X.data * 2.0 + 1.0 + offset
    shape = (n,) if k is None else (n, k)
    y = rng.normal(size=shape) + 3.0 + offset
    w = rng.uniform(0.2, 2.0, n)
    return X, y, w


def _assert_stats(got, X, y, w, center, rtol=1e-11):
    n, x_mean, y_mean, xtx, xty, yty = _naive(X, y, w, center)
    assert got.centered is center
    assert_allclose(got.n, n, rtol=1e-14)
    assert_allclose(got.x_mean, x_mean, rtol=1e-12, atol=1e-14)
    assert_allclose(got.y_mean, y_mean, rtol=1e-12, atol=1e-14)
    scale = np.abs(xtx).max()
    assert_allclose(got.xtx, xtx, rtol=rtol, atol=rtol * scale)
    assert_allclose(got.xty, xty, rtol=rtol, atol=rtol * np.abs(xty).max())
    assert_allclose(got.yty, yty, rtol=rtol)
    if y.ndim == 1:
        # A 1-D y gives floats and a (d,) xty; (n, k) gives arrays per target.
        assert isinstance(got.y_mean, float) and isinstance(got.yty, float)
        assert np.shape(got.xty) == (X.shape[1],)
    else:
        assert np.shape(got.y_mean) == np.shape(got.yty) == (y.shape[1],)
        assert np.shape(got.xty) == (X.shape[1], y.shape[1])
    assert np.shape(got.xtx) == (X.shape[1], X.shape[1])


@pytest.mark.parametrize("k", [None, 1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("density", [None, 0.4])
def test_gram_stats_equal_the_naive_statistics(k, weighted, center, density):
    X, y, w = _problem(0, k=k, density=density)
    w = w if weighted else None
    _assert_stats(_gram.gram_stats(X, y, w, center=center), X, y, w, center)


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse_x", [False, True])
def test_far_offset_data_keep_their_digits(k, weighted, sparse_x):
    # Means 1e6 times the spread: the rank-one centring X^T X - n m m^T would
    # keep about 4 of 16 digits of each variance; the statistics must not.
    X, y, w = _problem(1, n=60, k=k, offset=1e6)
    X = sparse.csr_matrix(X) if sparse_x else X
    w = w if weighted else None
    _assert_stats(_gram.gram_stats(X, y, w, center=True), X, y, w, True, rtol=1e-8)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("density", [None, 0.5])
def test_far_offset_targets_keep_their_digits(weighted, density):
    # y 1e9 from zero: its centred values sum to zero only up to rounding,
    # and X^T (y - y_mean) must not carry that rounding times x_mean.
    X, y, w = _problem(11, n=40, k=2, density=density, offset=0.0)
    y = y + 1e9
    w = w if weighted else None
    _assert_stats(_gram.gram_stats(X, y, w, center=True), X, y, w, True, rtol=1e-9)


def test_a_mean_far_from_a_column_of_zeros_is_not_cancellation():
    # A column of zeros has no digits to lose; the fast route stays exact.
    X, y, _ = _problem(2, n=30)
    X[:, 1] = 0.0
    got = _gram.gram_stats(X, y)
    _assert_stats(got, X, y, None, True)
    assert_array_equal(got.xtx[1], 0.0)


@pytest.mark.parametrize("n", [255, 256, 257, 700])
@pytest.mark.parametrize("center", [True, False])
def test_fused_pass_in_row_blocks(monkeypatch, n, center):
    # Blocks of 256 rows (the smallest block): n at, below and above one
    # block, and several blocks with a ragged last one.
    monkeypatch.setattr(_gram, "_FUSED_BYTES", 8)
    X, y, _ = _problem(3, n=n, k=2)
    _assert_stats(_gram.gram_stats(X, y, center=center), X, y, None, center)
    xtx, vx = _gram._fused_gram(X, y.T)
    assert_allclose(xtx, X.T @ X, rtol=1e-12)
    assert_allclose(vx, y.T @ X, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("density", [None, 1.0])
@pytest.mark.parametrize("k", [None, 2])
def test_blocked_pass_in_row_blocks(monkeypatch, weighted, density, k):
    # Blocks of 7 rows of 4 columns over the explicitly centred pass, ragged
    # last block included.
    monkeypatch.setattr(_gram, "_BLOCK_BYTES", 8 * 4 * 7)
    X, y, w = _problem(4, n=45, k=k, offset=1e6)
    X = X if density is None else sparse.csr_matrix(X)
    w = w if weighted else None
    _assert_stats(_gram.gram_stats(X, y, w, center=True), X, y, w, True, rtol=1e-8)
    assert _gram._block_rows(4) == 7
    assert _gram._block_rows(0) == 8 * 4 * 7 // 8


def test_block_rows_of_the_default_budget():
    assert _gram._block_rows(1) == 2**20
    assert _gram._block_rows(2**20) == 1
    assert _gram._block_rows(2**30) == 1  # at least one row


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("density", [None, 0.4])
def test_column_moments_equal_the_naive_diagonal(weighted, center, density):
    X, y, w = _problem(5, density=density, offset=2.0)
    w = w if weighted else None
    n, x_mean, _, xtx, _, _ = _naive(X, y, w, center)
    got_n, got_mean, diag = _gram.column_moments(X, w, center=center)
    assert_allclose(got_n, n, rtol=1e-14)
    assert_allclose(got_mean, x_mean, rtol=1e-12, atol=1e-14)
    assert_allclose(diag, np.diag(xtx), rtol=1e-10)


@pytest.mark.parametrize("weights", [None, np.ones(9)])
@pytest.mark.parametrize("density", [None, 1.0])
def test_column_moments_of_a_constant_column_are_zero_not_negative(weights, density):
    # sum x^2 - n mean^2 of a column of 0.3s rounds to -1.1e-16: clipped to 0.
    X = np.column_stack([np.full(9, 0.3), np.arange(9.0)])
    X = X if density is None else sparse.csr_matrix(X)
    _, x_mean, diag = _gram.column_moments(X, weights)
    assert_allclose(x_mean, [0.3, 4.0])
    assert 0.0 <= diag[0] <= 1e-15
    assert_allclose(diag[1], np.sum((np.arange(9.0) - 4) ** 2))


def test_scale_floor_closed_form():
    yty = np.array([4.0, 0.25, 0.0, 0.0])
    y_mean = np.array([7.0, 5.0, -3.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NumPy's deprecations
        got = _gram.scale_floor(yty, 10.0, y_mean)
    tiny = np.finfo(float).tiny
    want = [0.5e-10 * 4.0, 0.5e-10 * 0.25, 0.5e-10 * 10.0 * 9.0, tiny]
    assert_allclose(got, want, rtol=1e-15)
    assert float(_gram.scale_floor(2.0, 3.0, 1.0)) == 1e-10


def test_column_scale_is_the_weighted_std_or_rms():
    X, y, w = _problem(6, offset=1.5)
    for center in (True, False):
        stats = _gram.gram_stats(X, y, w, center=center)
        mean = w @ X / w.sum() if center else 0.0
        want = np.sqrt(w @ (X - mean) ** 2 / w.sum())
        assert_allclose(_gram.column_scale(stats), want, rtol=1e-10)
    # A column without spread (about its mean, or about zero when
    # uncentred) gets 1.
    X[:, 2] = 4.0
    assert _gram.column_scale(_gram.gram_stats(X, y))[2] == 1.0
    X[:, 2] = 0.0
    assert _gram.column_scale(_gram.gram_stats(X, y, center=False))[2] == 1.0


def test_column_scale_of_little_weight_and_of_one_column():
    # Weights summing to less than one, and a single column, are data too.
    X, y, w = _problem(12, n=30, d=1)
    w = w / (2 * w.sum())
    stats = _gram.gram_stats(X, y, w)
    want = np.sqrt(w @ (X - w @ X / w.sum()) ** 2 / w.sum())
    assert_allclose(_gram.column_scale(stats), want, rtol=1e-10)


def test_column_scale_of_a_rounded_negative_variance_is_one_silently():
    stats = _gram.GramStats(
        3.0, np.zeros(2), 0.0, np.diag([-1e-17, 4.0]), np.zeros(2), 1.0, True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_allclose(_gram.column_scale(stats), [1.0, np.sqrt(4.0 / 3.0)])


def test_column_scale_without_data():
    empty = _gram.GramStats(
        0.0, np.zeros(3), 0.0, np.ones((3, 3)), np.zeros(3), 0.0, True
    )
    assert_array_equal(_gram.column_scale(empty), np.ones(3))
    negative = empty._replace(n=-1.0)
    assert_array_equal(_gram.column_scale(negative), np.ones(3))
    no_columns = empty._replace(x_mean=np.zeros(0), xtx=np.zeros((0, 0)), n=5.0)
    assert _gram.column_scale(no_columns).shape == (0,)


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("density", [None, 0.5])
def test_merged_chunks_equal_the_whole(k, weighted, center, density):
    X, y, w = _problem(7, n=40, k=k, density=density, offset=3.0)
    w = w if weighted else None
    cut = 15
    parts = [
        _gram.gram_stats(
            X[rows], y[rows], None if w is None else w[rows], center=center
        )
        for rows in (slice(0, cut), slice(cut, None))
    ]
    merged = _gram.merge_stats(*parts)
    _assert_stats(merged, X, y, w, center, rtol=1e-10)


def test_merged_uncentred_statistics_keep_one_mean_per_target():
    # Once 0.0 whatever y's shape: a (k,) y_mean became a float.
    X, y, _ = _problem(10, n=20, k=2)
    empty = _gram.GramStats(0.0, np.zeros(4), 0.0, np.zeros((4, 4)), 0.0, 0.0, False)
    whole = _gram.gram_stats(X, y, center=False)
    for merged in (_gram.merge_stats(empty, whole), _gram.merge_stats(whole, empty)):
        _assert_stats(merged, X, y, None, False)


def test_merging_no_data_changes_nothing():
    X, y, w = _problem(8, n=20, k=2)
    whole = _gram.gram_stats(X, y, w)
    with np.errstate(all="ignore"):
        # All weights zero: n = 0 and undefined (NaN) means.
        empty = _gram.gram_stats(X[:5], y[:5], np.zeros(5))
    assert empty.n == 0.0
    for merged in (_gram.merge_stats(empty, whole), _gram.merge_stats(whole, empty)):
        for got, want in zip(merged, whole, strict=True):
            assert_array_equal(got, want)


def test_merging_centred_with_uncentred_statistics_is_refused():
    X, y, _ = _problem(9)
    a, b = (_gram.gram_stats(X, y, center=c) for c in (True, False))
    with pytest.raises(
        ValueError, match=r"^cannot merge centred and uncentred statistics$"
    ):
        _gram.merge_stats(a, b)
    with pytest.raises(
        ValueError, match=r"^cannot merge centred and uncentred statistics$"
    ):
        _gram.merge_stats(b, a)


def test_lost_digits_flags_a_variance_cancelled_below_1e4_of_its_raw_value():
    raw = np.diag([100.0, 1e-6, 100.0, 0.0])
    assert not _gram._lost_digits(raw, np.diag([50.0, 1e-6, 0.02, 0.0]))
    assert _gram._lost_digits(raw, np.diag([50.0, 1e-6, 0.009, 0.0]))
    assert _gram._lost_digits(raw, np.diag([50.0, 1e-11, 0.02, 0.0]))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("density", [None, 0.5])
def test_column_moments_of_float32_data_are_double(weighted, density):
    X, y, w = _problem(13, density=density, offset=0.3)
    # float32 weights too, as sklearn's _check_sample_weight gives float32 X.
    X = X.astype(np.float32)
    w = w.astype(np.float32) if weighted else None
    _, x_mean, diag = _gram.column_moments(X, w)
    assert x_mean.dtype == diag.dtype == np.float64
    ref = _naive(X.astype(np.float64), y, w)
    assert_allclose(x_mean, ref[1], rtol=1e-6)
    assert_allclose(diag, np.diag(ref[3]), rtol=1e-5)


def test_fused_pass_of_the_default_block_size():
    # One column: blocks of 2 MiB / 8 bytes = 262144 rows; 300000 rows take two.
    rng = np.random.default_rng(14)
    X = rng.normal(size=(300_000, 1))
    y = 2.0 * X[:, 0] + rng.normal(size=300_000)
    got = _gram.gram_stats(X, y, center=False)
    assert_allclose(got.xtx, X.T @ X, rtol=1e-12)
    assert_allclose(got.xty, X.T @ y, rtol=1e-12)


def test_statistics_of_integer_targets_are_floats():
    X, _, _ = _problem(15, n=10)
    y = np.arange(20).reshape(10, 2)
    for center in (True, False):
        got = _gram.gram_stats(X, y, center=center)
        assert np.asarray(got.yty).dtype == np.asarray(got.y_mean).dtype == np.float64
        _assert_stats(got, X, y.astype(float), None, center)
