"""Sparse X and the dual (kernel) form of the closed forms (issue 20).

Sparse fits are held to the dense fits on the same data, the dual form to
the primal on designs around p = n, and both to what they must not do:
densify X, or store p x p matrices.
"""

import pickle
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.base import clone

from bayesreg import ConjugateLinearRegression, RidgeMAP, _intake, predict_dist

CONJUGATE_MODES = [
    {},
    {"noise_std": 0.5},
    {"prior_std": 0.7},
    {"noise_std": 0.5, "prior_std": 0.7},
    {"fit_hyperparameters": True},
    {"noise_prior_shape": 2.0, "noise_prior_scale": 0.3},
]


def _sparse_problem(seed, n=60, p=25, density=0.2, k=None):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, p, density=density, random_state=rng, format="csr")
    X.data = rng.normal(size=X.nnz) + 2.0  # non-zeros away from zero: centring matters
    coef = rng.normal(size=(p,) if k is None else (p, k))
    noise = 0.5 * rng.normal(size=(n,) if k is None else (n, k))
    y = X @ coef + 3.0 + noise
    return X, y, rng.uniform(0.2, 2.0, size=n)


def _assert_same_fit(got, want, Xt, rtol):
    assert_allclose(
        got.coef_, want.coef_, rtol=rtol, atol=rtol * np.abs(want.coef_).max()
    )
    assert_allclose(got.intercept_, want.intercept_, rtol=rtol, atol=rtol)
    dense_Xt = Xt.toarray() if sparse.issparse(Xt) else Xt
    assert_allclose(got.predict(Xt), want.predict(dense_Xt), rtol=rtol)
    assert_allclose(got.predict_std(Xt), want.predict_std(dense_Xt), rtol=rtol)
    if hasattr(want, "log_marginal_likelihood_"):
        assert_allclose(
            got.log_marginal_likelihood_, want.log_marginal_likelihood_, rtol=rtol
        )
        assert_allclose(got.noise_std_, want.noise_std_, rtol=rtol)
        assert_allclose(got.prior_std_, want.prior_std_, rtol=rtol)
    else:
        assert_allclose(got.residual_std_, want.residual_std_, rtol=rtol)
        assert_allclose(got.noise_std_, want.noise_std_, rtol=rtol)


@pytest.mark.parametrize("params", CONJUGATE_MODES)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "csr_array"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_equals_dense(params, fmt, fit_intercept, weighted):
    X, y, w = _sparse_problem(0)
    w = w if weighted else None

    def as_fmt(A):
        return sparse.csr_array(A) if fmt == "csr_array" else A.asformat(fmt)

    Xs = as_fmt(X)
    Xt = X[:7] * 1.5
    dense = ConjugateLinearRegression(fit_intercept=fit_intercept, **params)
    dense.fit(X.toarray(), y, sample_weight=w)
    for solver in ("primal", "dual"):
        est = ConjugateLinearRegression(
            fit_intercept=fit_intercept, solver=solver, **params
        )
        got = est.fit(Xs, y, sample_weight=w)
        assert got.solver_ == solver
        _assert_same_fit(got, dense, as_fmt(Xt), 1e-10)


@pytest.mark.parametrize("alpha", [1.0, 0.0])
@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_sparse_ridge_equals_dense(alpha, solver):
    X, y, w = _sparse_problem(1)
    dense = RidgeMAP(alpha=alpha).fit(X.toarray(), y, sample_weight=w)
    got = RidgeMAP(alpha=alpha, solver=solver).fit(X.tocsc(), y, sample_weight=w)
    _assert_same_fit(got, dense, X[:5], 1e-9)


def test_sparse_partial_fit_and_merge_equal_batch():
    X, y, _ = _sparse_problem(2, n=80)
    batch = ConjugateLinearRegression().fit(X.toarray(), y)
    online = ConjugateLinearRegression()
    for rows in np.array_split(np.arange(80), 4):
        online.partial_fit(X[rows], y[rows])
    _assert_same_fit(online, batch, X[:5], 1e-9)
    shards = [ConjugateLinearRegression().fit(X[i::2], y[i::2]) for i in range(2)]
    _assert_same_fit(shards[0].merge(shards[1]), batch, X[:5], 1e-9)


def test_sparse_x_is_never_densified():
    # 200 rows of a million columns: 1.6 GB dense, 20 non-zeros per row.
    rng = np.random.default_rng(3)
    n, p = 200, 1_000_000
    X = sparse.random(n, p, density=20 / p, random_state=rng, format="csr")
    y = np.asarray(X[:, : p // 2].sum(axis=1)).ravel() + rng.normal(size=n)
    tracemalloc.start()
    try:
        for est in (ConjugateLinearRegression(), RidgeMAP()):
            est.fit(X, y)
            assert est.solver_ == "dual"
            mean, std = est.predict(X[:50], return_std=True)
            assert mean.shape == std.shape == (50,)
            assert np.all(np.isfinite(std))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The coefficients (8 MB) and a few n x n and n-by-p-sparse temporaries;
    # X densified would be 1.6 GB, one dense row of it 8 MB.
    assert peak < 200 * 2**20, peak


# --------------------------------------------------------------------------
# The dual form
# --------------------------------------------------------------------------


def _wide(seed, n, p, offset=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + offset
    y = X[:, :5] @ rng.normal(size=5) + 2.0 + 0.5 * rng.normal(size=n)
    return X, y, rng.normal(size=(6, p)) + offset


@pytest.mark.parametrize("params", CONJUGATE_MODES)
@pytest.mark.parametrize("p", [30, 40, 55])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_equals_primal(params, p, fit_intercept):
    X, y, Xt = _wide(p, 40, p)
    kw = dict(params, fit_intercept=fit_intercept)
    if (
        p > 40
        and fit_intercept
        and ("prior_std" not in params) != ("noise_std" in params)
    ):
        # The rows can be interpolated and the evidence of an unknown noise
        # keeps rising towards it: see test_dual_resolves_interpolation.
        return
    primal = ConjugateLinearRegression(solver="primal", **kw).fit(X, y)
    dual = ConjugateLinearRegression(solver="dual", **kw).fit(X, y)
    assert (primal.solver_, dual.solver_) == ("primal", "dual")
    _assert_same_fit(dual, primal, Xt, 1e-8)
    assert_allclose(dual.prior_scale_, primal.prior_scale_, rtol=1e-8)
    assert_allclose(dual.coef_cov_, primal.coef_cov_, rtol=1e-7, atol=1e-10)
    for kind in ("epistemic", "aleatoric"):
        assert_allclose(
            dual.predict_std(Xt, kind=kind), primal.predict_std(Xt, kind=kind),
            rtol=1e-8,
        )  # fmt: skip


def test_dual_resolves_interpolation():
    # p > n with the noise and the prior scale chosen by the evidence: it
    # rises as the fit approaches interpolation, the residual falls towards
    # rounding, and the primal, which sees the data through y^T y, cannot
    # resolve a residual below eps y^T y; the dual, which keeps the rows,
    # does: its optimum is at least as high, its residual far smaller.
    X, y, _ = _wide(55, 40, 55)
    primal = ConjugateLinearRegression(solver="primal").fit(X, y)
    dual = ConjugateLinearRegression(solver="dual").fit(X, y)
    assert dual.log_marginal_likelihood_ >= primal.log_marginal_likelihood_ - 1e-9
    rss = [np.sum((y - est.predict(X)) ** 2) for est in (primal, dual)]
    assert rss[1] < 1e-3 * rss[0]
    assert_allclose(dual.predict(X), primal.predict(X), rtol=1e-6)


def test_dual_weights_are_repetitions():
    X, y, Xt = _wide(4, 20, 60)
    w = np.arange(20) % 3  # 0, 1 or 2 copies
    rows = np.repeat(np.arange(20), w)
    weighted = ConjugateLinearRegression(solver="dual").fit(X, y, sample_weight=w)
    repeated = ConjugateLinearRegression(solver="dual").fit(X[rows], y[rows])
    _assert_same_fit(weighted, repeated, Xt, 1e-8)


def test_dual_draws_have_the_posterior_moments():
    X, y, Xt = _wide(5, 15, 40)
    est = ConjugateLinearRegression(noise_std=0.5, solver="dual").fit(X, y)
    draws = est.sample_parameters(20_000, random_state=0)["coef"]
    assert_allclose(draws.mean(0), est.coef_, atol=0.05 * np.abs(est.coef_).max())
    cov = np.cov(draws.T)
    assert_allclose(cov, est.coef_cov_, atol=0.05 * np.abs(est.coef_cov_).max())
    f = est.sample_functions(Xt, 20_000, random_state=1)
    assert_allclose(f.std(axis=1), est.predict_std(Xt, kind="epistemic"), rtol=0.05)


def test_auto_chooses_the_cheaper_form_and_dual_stores_o_np():
    X, y, _ = _wide(6, 30, 2000)
    tall = ConjugateLinearRegression().fit(X[:, :20], y)
    wide = ConjugateLinearRegression().fit(X, y)
    assert (tall.solver_, wide.solver_) == ("primal", "dual")
    # The pickle holds X (480 kB) and O(n) more, not a 2000 x 2000 matrix (32 MB).
    assert len(pickle.dumps(wide)) < 3 * X.nbytes
    ridge = RidgeMAP().fit(X, y)
    assert ridge.solver_ == "dual" and len(pickle.dumps(ridge)) < 3 * X.nbytes


def test_wide_partial_fit_and_merge():
    X, y, Xt = _wide(7, 30, 45)
    est = ConjugateLinearRegression(noise_std=0.5)
    primal = clone(est).set_params(solver="primal").fit(X, y)
    # Shards fitted in the dual form merge through their statistics,
    # computed from their rows on request.
    shards = [clone(est).fit(X[i::3], y[i::3]) for i in range(3)]
    assert {s.solver_ for s in shards} == {"dual"}
    _assert_same_fit(shards[0].merge(*shards[1:]), primal, Xt, 1e-8)
    online = clone(est).fit(X[:10], y[:10]).partial_fit(X[10:], y[10:])
    _assert_same_fit(online, primal, Xt, 1e-8)
    with pytest.raises(ValueError, match="solver='dual'"):
        ConjugateLinearRegression(solver="dual").partial_fit(X, y)


def test_partial_fit_refuses_statistics_beyond_the_memory_limit(monkeypatch):
    X, y, _ = _wide(8, 10, 200)
    monkeypatch.setattr(_intake, "MAX_GRAM_BYTES", 8 * 100**2)
    with pytest.raises(ValueError, match=r"0\.0 GiB for 200 features"):
        ConjugateLinearRegression().partial_fit(X, y)
    fitted = ConjugateLinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="GiB"):
        fitted.merge(fitted)


@pytest.mark.parametrize("Est", [ConjugateLinearRegression, RidgeMAP])
def test_float32_in_float32_out(Est):
    X, y, Xt = _wide(9, 40, 10)
    est = Est().fit(X.astype(np.float32), y.astype(np.float32))
    ref = Est().fit(X, y)
    Xt32 = Xt.astype(np.float32)
    for got, want in [
        (est.predict(Xt32), ref.predict(Xt32.astype(float))),
        (est.predict_std(Xt32), ref.predict_std(Xt32.astype(float))),
        (est.predict(sparse.csr_matrix(Xt32)), ref.predict(Xt32.astype(float))),
    ]:
        assert got.dtype == np.float32
        assert_allclose(got, want, rtol=1e-5)
    assert est.predict(Xt).dtype == np.float64


@pytest.mark.parametrize("Est", [ConjugateLinearRegression, RidgeMAP])
@pytest.mark.parametrize(
    "y, match",
    [
        (np.array(["a", "b"] * 10), "y must be numeric"),
        (np.array([object()] * 20, dtype=object), "y must be numeric"),
        (np.arange(20) * (1 + 1j), "y has a complex dtype"),
    ],
)
def test_non_numeric_targets_are_refused_naming_y(Est, y, match):
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=match):
        Est().fit(X, y)


def test_dask_refuses_the_dual_and_several_targets():
    da = pytest.importorskip("dask.array")
    X, y, _ = _wide(10, 40, 5)
    Xd = da.from_array(X, chunks=(10, 5))
    with pytest.raises(ValueError, match="solver='dual' needs X in memory"):
        ConjugateLinearRegression(solver="dual").fit(Xd, y)
    with pytest.raises(ValueError, match="several targets need in-memory"):
        ConjugateLinearRegression().fit(Xd, da.from_array(np.column_stack([y, y])))


@pytest.mark.parametrize("to_sparse", [False, True])
def test_dual_fit_does_not_alias_the_callers_x(to_sparse):
    X, y, Xt = _wide(11, 20, 50)
    X = sparse.csr_matrix(X) if to_sparse else X
    est = ConjugateLinearRegression(solver="dual").fit(X, y)
    before = est.predict_std(Xt)
    if to_sparse:
        X.data *= 5.0
    else:
        X *= 5.0
    assert_allclose(est.predict_std(Xt), before, rtol=1e-14)


@pytest.mark.parametrize("Est", [ConjugateLinearRegression, RidgeMAP])
def test_sparse_column_transformer_pipeline_through_grid_search(Est):
    # Issue 20's first pipeline: a 15-level categorical and three numeric
    # columns through sklearn's default ColumnTransformer come out sparse.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from bayesreg.metrics import neg_nlpd_scorer

    rng = np.random.default_rng(12)
    n = 1200
    frame = pd.DataFrame(
        {
            "city": rng.choice([f"c{i}" for i in range(15)], n),
            "a": rng.normal(size=n),
            "b": rng.uniform(0, 10, n),
            "c": rng.normal(50, 5, n),
        }
    )
    effect = dict(zip([f"c{i}" for i in range(15)], rng.normal(size=15), strict=True))
    y = frame["city"].map(effect) + 0.5 * frame["a"] - 0.1 * frame["b"]
    y = y.to_numpy() + 0.3 * rng.normal(size=n)
    columns = ColumnTransformer(
        [("cat", OneHotEncoder(), ["city"]), ("num", StandardScaler(), ["a", "b", "c"])]
    )
    assert sparse.issparse(columns.fit_transform(frame))
    grid = {"conjugatelinearregression__fit_intercept": [True, False]}
    if Est is RidgeMAP:
        grid = {"ridgemap__alpha": [0.1, 1.0]}
    search = GridSearchCV(
        make_pipeline(columns, Est()), grid, scoring=neg_nlpd_scorer, cv=3
    )
    Xtr, Xte, ytr, yte = train_test_split(frame, y, random_state=0)
    search.fit(Xtr, ytr)
    lo, hi = predict_dist(search, Xte).interval(0.9).T  # through the search
    assert 0.85 <= np.mean((yte >= lo) & (yte <= hi)) <= 0.95


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("to_sparse", [False, True])
@pytest.mark.parametrize(
    "value, match",
    [(np.nan, "contains NaN"), (np.inf, "infinity"), (1e200, "X has entries")],
)
def test_bad_x_is_named_in_either_form(solver, to_sparse, value, match):
    X, y, _ = _wide(13, 20, 30)
    X[2, 3] = value
    X = sparse.csr_matrix(X) if to_sparse else X
    with pytest.raises(ValueError, match=match):
        ConjugateLinearRegression(solver=solver).fit(X, y)


def test_sparse_statistics_beyond_the_memory_limit_are_refused(monkeypatch):
    X, y, _ = _sparse_problem(14, n=60, p=25)
    monkeypatch.setattr(_intake, "MAX_GRAM_BYTES", 8 * 20**2)
    with pytest.raises(ValueError, match="A sparse fit in the primal form keeps"):
        ConjugateLinearRegression().fit(X, y)
    # the dual (p > n) needs no p x p statistics
    assert ConjugateLinearRegression().fit(X[:20], y[:20]).solver_ == "dual"


@pytest.mark.parametrize(
    "largest",
    [0.0, 1e-200, 0.9e-150, 1.1e-150, 1.0, 0.9e150, 1.1e150, 1e200, np.inf, np.nan],
)
@pytest.mark.parametrize("layout", ["C", "F", "strided", "sparse"])
def test_one_dot_product_clears_only_what_the_extremes_clear(largest, layout):
    # The intake's range check skips the extremes only when sum x^2 proves
    # every check on them passes; otherwise it returns the exact extremes.
    rng = np.random.default_rng(0)
    X = rng.uniform(-0.5, 0.5, size=(300, 500))
    X = X * largest if np.isfinite(largest) else X
    X[7, 11] = -largest
    values = {
        "C": X,
        "F": np.asfortranarray(X),
        "strided": X[:, ::2],
        "sparse": sparse.csr_matrix(X).data,
    }[layout]
    got = _intake.extremes(values)
    if values.size == 0:  # a sparse X of zeros stores nothing
        np.testing.assert_array_equal(got, np.zeros(2))
        return
    exact = np.array([values.min(), values.max()])
    top = np.max(np.abs(values))
    passes = np.isfinite(top) and top <= 1e150 and (top == 0 or top >= 1e-150)
    if got is None:
        assert passes
    else:
        np.testing.assert_array_equal(got, exact)
    if layout != "strided" and largest == 1.0:
        assert got is None  # the fast path is taken for ordinary data


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("to_sparse", [False, True])
@pytest.mark.parametrize(
    "value, match",
    [
        (np.nan, "X contains NaN.\nConjugateLinearRegression does not accept"),
        (np.inf, "X contains infinity"),
        (1e200, "X has entries of magnitude 1e\\+200"),
    ],
)
def test_bad_x_at_predict_is_named_in_either_form(solver, to_sparse, value, match):
    X, y, Xt = _wide(15, 20, 30)
    est = ConjugateLinearRegression(solver=solver).fit(X, y)
    Xt[2, 3] = value
    Xt = sparse.csr_matrix(Xt) if to_sparse else Xt
    for method in (est.predict, est.predict_std, est.sample_y):
        with pytest.raises(ValueError, match=match):
            method(Xt)


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_penalties_in_one_pass_equal_separate_solves(solver, weighted):
    from bayesreg import _gaussian

    X, y, _ = _wide(16, 40, 30 if solver == "primal" else 90)
    w = np.random.default_rng(16).uniform(0.5, 2.0, size=40) if weighted else None
    d = X.shape[1]
    if solver == "primal":
        stats = _intake.in_memory_gram_stats(X, y, w, center=True)[0]
        spec = _gaussian.primal_spectrum(stats, np.zeros(d), np.ones(d))
    else:
        spec = _gaussian.dual_spectrum(
            X, y[:, None], w, np.zeros(d), np.ones(d), center=True
        )
    both = _gaussian.ridge(spec, 0.7, 0.0)
    for fit, alpha in zip(both, (0.7, 0.0), strict=True):
        (alone,) = _gaussian.ridge(spec, alpha)
        scale = np.abs(alone.coef).max()
        assert_allclose(fit.coef, alone.coef, rtol=1e-12, atol=1e-12 * scale)
        assert_allclose(fit.rss, alone.rss, rtol=1e-12)
        assert fit.dof == alone.dof


def test_dual_products_with_several_columns_equal_one_at_a_time():
    X, y, _ = _wide(17, 30, 80)
    basis = ConjugateLinearRegression().fit(X, y)._posterior.spec.basis
    assert basis.XD.shape == (30, 80)
    C = np.random.default_rng(17).normal(size=(basis.s.shape[0], 4))
    got = basis.q(C)
    want = np.column_stack([basis.q(C[:, [j]]) for j in range(4)])
    assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
