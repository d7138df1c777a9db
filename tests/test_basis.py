"""Tests for bayesreg.basis.BasisExpansion."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import chebyshev as C
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg.basis import BasisExpansion

KINDS = ["polynomial", "chebyshev", "sinusoidal", "rbf"]


def _per_column(kind, degree):
    return 2 * degree if kind == "sinusoidal" else degree


@parametrize_with_checks(
    [
        BasisExpansion(),
        BasisExpansion(kind="chebyshev"),
        BasisExpansion(kind="sinusoidal"),
        BasisExpansion(kind="rbf"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- values against hand computations ---------------------------------------


def test_polynomial_equals_mapped_powers():
    x = np.array([2.0, 3.0, 5.0, 10.0])
    Phi = BasisExpansion(degree=4).fit_transform(x[:, None])
    z = (x - 6.0) / 4.0  # centre 6, half range 4
    expected = np.column_stack([z, z**2, z**3, z**4])
    np.testing.assert_allclose(Phi, expected, rtol=1e-14, atol=1e-15)


def test_polynomial_mapping_is_learned_in_fit():
    basis = BasisExpansion(degree=2).fit(np.array([[0.0], [10.0]]))
    np.testing.assert_allclose(basis.center_, [5.0])
    np.testing.assert_allclose(basis.halfwidth_, [5.0])
    # Points outside the training range map outside [-1, 1].
    np.testing.assert_allclose(basis.transform([[20.0]]), [[3.0, 9.0]])


def test_huge_range_does_not_overflow():
    X = np.array([[-1e308], [0.0], [1e308]])
    Phi = BasisExpansion(degree=2).fit_transform(X)
    np.testing.assert_allclose(Phi, [[-1.0, 1.0], [0.0, 0.0], [1.0, 1.0]])


def test_constant_column_gets_unit_halfwidth():
    basis = BasisExpansion(degree=2).fit(np.full((5, 1), 7.0))
    np.testing.assert_allclose(basis.halfwidth_, [1.0])
    np.testing.assert_allclose(basis.transform([[7.0], [9.0]]), [[0, 0], [2, 4]])


def test_constant_column_counts_as_unit_range_for_sinusoidal_and_rbf():
    X = np.full((4, 1), -3.0)
    sinusoidal = BasisExpansion(kind="sinusoidal").fit(X)
    np.testing.assert_allclose(sinusoidal.base_frequency_, [0.5])
    rbf = BasisExpansion(kind="rbf", degree=3, rbf_width=2.0).fit(X)
    np.testing.assert_allclose(rbf.centers_, [[-3.5, -3.0, -2.5]])
    np.testing.assert_allclose(rbf.widths_, [1.0])
    single = BasisExpansion(kind="rbf", degree=1, rbf_width=2.0).fit(X)
    np.testing.assert_allclose(single.widths_, [2.0])


def test_chebyshev_equals_chebval_of_mapped_input():
    x = np.linspace(-3.0, 7.0, 11)
    Phi = BasisExpansion(kind="chebyshev", degree=5).fit_transform(x[:, None])
    z = (x - 2.0) / 5.0
    for k in range(1, 6):
        coef = np.zeros(k + 1)
        coef[k] = 1.0
        np.testing.assert_allclose(Phi[:, k - 1], C.chebval(z, coef), atol=1e-14)


def test_chebyshev_spans_polynomial_space_with_intercept():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 5, size=(40, 1))
    y = np.sin(x[:, 0]) + 0.1 * rng.standard_normal(40)
    preds = []
    for kind in ("polynomial", "chebyshev"):
        Phi = BasisExpansion(kind=kind, degree=6).fit_transform(x)
        preds.append(LinearRegression().fit(Phi, y).predict(Phi))
    np.testing.assert_allclose(preds[0], preds[1], atol=1e-9)


def test_sinusoidal_equals_explicit_cos_sin():
    x = np.array([0.0, 0.3, 1.1, 2.0])
    f0 = 0.7
    Phi = BasisExpansion(kind="sinusoidal", degree=3, base_frequency=f0).fit_transform(
        x[:, None]
    )
    expected = np.column_stack(
        [fn(2 * np.pi * k * f0 * x) for k in (1, 2, 3) for fn in (np.cos, np.sin)]
    )
    np.testing.assert_allclose(Phi, expected, rtol=1e-13, atol=1e-14)


def test_sinusoidal_learns_base_frequency_from_range():
    X = np.array([[1.0, -2.0], [3.0, 6.0], [2.0, 0.0]])
    basis = BasisExpansion(kind="sinusoidal", degree=1).fit(X)
    np.testing.assert_allclose(basis.base_frequency_, [1 / 4, 1 / 16])
    x0 = X[:, 0]
    np.testing.assert_allclose(
        basis.transform(X)[:, :2],
        np.column_stack([np.cos(np.pi * x0 / 2), np.sin(np.pi * x0 / 2)]),
        atol=1e-14,
    )


def test_sinusoidal_per_column_base_frequency():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    basis = BasisExpansion(kind="sinusoidal", degree=1, base_frequency=[0.25, 0.5])
    Phi = basis.fit_transform(X)
    np.testing.assert_allclose(basis.base_frequency_, [0.25, 0.5])
    np.testing.assert_allclose(Phi[1], [0.0, 1.0, -1.0, 0.0], atol=1e-15)


def test_rbf_equals_explicit_gaussian():
    basis = BasisExpansion(kind="rbf", degree=4, rbf_width=1.5)
    basis.fit(np.array([[1.0], [0.0], [4.0]]))  # grid over [0, 4]
    x = np.array([0.0, 1.0, 2.5, 4.0, 5.5])
    Phi = basis.transform(x[:, None])
    centres = np.array([0.0, 4.0 / 3.0, 8.0 / 3.0, 4.0])
    width = 1.5 * 4.0 / 3.0
    expected = np.exp(-0.5 * ((x[:, None] - centres) / width) ** 2)
    np.testing.assert_allclose(Phi, expected, rtol=1e-13)


def test_rbf_degree_one_is_single_bump_at_midpoint():
    x = np.array([[2.0], [6.0]])
    basis = BasisExpansion(kind="rbf", degree=1, rbf_width=0.5).fit(x)
    np.testing.assert_allclose(basis.centers_, [[4.0]])
    np.testing.assert_allclose(basis.widths_, [2.0])
    np.testing.assert_allclose(
        basis.transform([[4.0], [6.0]])[:, 0], [1.0, np.exp(-0.5)]
    )


def test_include_bias_prepends_ones():
    X = np.linspace(0, 1, 7).reshape(-1, 1)
    for kind in KINDS:
        without = BasisExpansion(kind=kind, degree=2).fit_transform(X)
        with_bias = BasisExpansion(kind=kind, degree=2, include_bias=True)
        Phi = with_bias.fit_transform(X)
        assert Phi.shape == (7, without.shape[1] + 1)
        np.testing.assert_array_equal(Phi[:, 0], 1.0)
        np.testing.assert_array_equal(Phi[:, 1:], without)
        assert with_bias.get_feature_names_out()[0] == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_multi_column_expands_column_by_column(kind):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 5, size=(9, 3)) * [1, 10, 100]
    Phi = BasisExpansion(kind=kind, degree=3).fit_transform(X)
    m = _per_column(kind, 3)
    assert Phi.shape == (9, 3 * m)
    for j in range(3):
        single = BasisExpansion(kind=kind, degree=3).fit_transform(X[:, [j]])
        np.testing.assert_allclose(Phi[:, j * m : (j + 1) * m], single, rtol=1e-14)


# --- feature names and pandas output -----------------------------------------


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("polynomial", ["1", "x0", "x0^2", "x1", "x1^2"]),
        ("chebyshev", ["1", "x0_T1", "x0_T2", "x1_T1", "x1_T2"]),
        (
            "sinusoidal",
            [
                "1",
                *["x0_cos1", "x0_sin1", "x0_cos2", "x0_sin2"],
                *["x1_cos1", "x1_sin1", "x1_cos2", "x1_sin2"],
            ],
        ),
        ("rbf", ["1", "x0_rbf0", "x0_rbf1", "x1_rbf0", "x1_rbf1"]),
    ],
)
def test_feature_names(kind, expected):
    X = np.arange(10.0).reshape(5, 2)
    basis = BasisExpansion(kind=kind, degree=2, include_bias=True).fit(X)
    names = basis.get_feature_names_out()
    assert list(names) == expected
    assert len(names) == basis.transform(X).shape[1] == basis.n_output_features_
    custom = basis.get_feature_names_out(["a", "b"])
    assert list(custom) == [n.replace("x0", "a").replace("x1", "b") for n in expected]


def test_pandas_output_has_expanded_column_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"age": [20.0, 30.0, 40.0], "dose": [1.0, 2.0, 4.0]})
    basis = BasisExpansion(degree=2).set_output(transform="pandas")
    out = basis.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["age", "age^2", "dose", "dose^2"]
    np.testing.assert_allclose(out["age"], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(out.index, df.index)


def test_dataframe_with_wrong_columns_at_transform_raises():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    basis = BasisExpansion().fit(df)
    with pytest.raises(ValueError, match="feature names"):
        basis.transform(pd.DataFrame({"b": [0.0, 1.0]}))


# --- dtype ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "dtype, out",
    [(np.float32, np.float32), (np.float64, np.float64), (int, np.float64)],
)
def test_output_dtype(kind, dtype, out):
    X = np.arange(12).reshape(6, 2).astype(dtype)
    assert BasisExpansion(kind=kind, include_bias=True).fit_transform(X).dtype == out


# --- conditioning ---------------------------------------------------------------


def test_degree_15_on_wide_range_is_well_conditioned():
    x = np.linspace(0.0, 1000.0, 200).reshape(-1, 1)
    raw = x ** np.arange(16)
    mapped = BasisExpansion(degree=15, include_bias=True).fit_transform(x)
    cheb = BasisExpansion(kind="chebyshev", degree=15, include_bias=True)
    assert np.linalg.cond(raw) > 1e30
    assert np.linalg.cond(mapped) < 1e8
    assert np.linalg.cond(cheb.fit_transform(x)) < 1e2


def test_degree_15_pipeline_fits_smooth_function_on_wide_range():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.0, 1000.0, 300)).reshape(-1, 1)
    y = np.sin(x[:, 0] / 120.0) + 0.5 * np.cos(x[:, 0] / 300.0)
    x_test = np.linspace(0.0, 1000.0, 101).reshape(-1, 1)
    y_test = np.sin(x_test[:, 0] / 120.0) + 0.5 * np.cos(x_test[:, 0] / 300.0)
    model = Pipeline(
        [("basis", BasisExpansion(degree=15)), ("reg", Ridge(alpha=1e-6))]
    ).fit(x, y)
    pred = model.predict(x_test)
    assert np.all(np.isfinite(pred))
    assert model.score(x_test, y_test) > 0.99


# --- sklearn composition -------------------------------------------------------


def test_grid_search_over_degree():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(80, 1))
    y = x[:, 0] * np.sin(10 * x[:, 0]) + 0.05 * rng.standard_normal(80)
    pipe = Pipeline([("basis", BasisExpansion()), ("reg", Ridge(alpha=1e-6))])
    search = GridSearchCV(pipe, {"basis__degree": [1, 2, 8]}, cv=4).fit(x, y)
    assert search.best_params_ == {"basis__degree": 8}
    assert search.best_estimator_.named_steps["basis"].n_output_features_ == 8


def test_clone_keeps_parameters_and_drops_fit():
    basis = BasisExpansion(kind="rbf", degree=5, rbf_width=2.0).fit([[0.0], [1.0]])
    copy = clone(basis)
    assert copy.get_params() == basis.get_params()
    assert not hasattr(copy, "centers_")


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"degree": 0}, "degree"),
        ({"degree": -2}, "degree"),
        ({"degree": 2.5}, "degree"),
        ({"kind": "spline"}, "kind"),
        ({"rbf_width": 0.0}, "rbf_width"),
        ({"rbf_width": np.inf}, "rbf_width"),
        ({"base_frequency": -1.0}, "base_frequency"),
        ({"base_frequency": np.inf}, "base_frequency"),
        ({"include_bias": "yes"}, "include_bias"),
    ],
)
def test_bad_parameters_raise_value_error(params, match):
    with pytest.raises(ValueError, match=match):
        BasisExpansion(**params).fit([[0.0], [1.0]])


@pytest.mark.parametrize(
    "base_frequency, match",
    [([0.5, 0.5, 0.5], r"shape \(n_features,\)"), ([0.5, -1.0], "> 0")],
)
def test_bad_base_frequency_array_raises(base_frequency, match):
    basis = BasisExpansion(kind="sinusoidal", base_frequency=base_frequency)
    with pytest.raises(ValueError, match=match):
        basis.fit([[0.0, 1.0], [1.0, 2.0]])


@pytest.mark.parametrize(
    "X, match",
    [
        ([[0.0], [np.nan]], "NaN"),
        ([[0.0], [np.inf]], "infinity"),
        ([["a"], ["b"]], "could not convert string to float"),
        (np.empty((0, 1)), "0 sample"),
        (np.empty((3, 0)), "0 feature"),
        ([0.0, 1.0, 2.0], "Expected 2D array"),
    ],
)
def test_bad_input_at_fit_raises_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        BasisExpansion().fit(X)


def test_bad_input_at_transform_raises_value_error():
    basis = BasisExpansion().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but BasisExpansion"):
        basis.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        basis.transform([[0.0, np.nan]])


def _fitted_state(basis):
    return {k: np.copy(v) if isinstance(v, np.ndarray) else v
            for k, v in vars(basis).items()}  # fmt: skip


def _assert_same_state(basis, state):
    assert vars(basis).keys() == state.keys()
    for key, value in state.items():
        np.testing.assert_array_equal(getattr(basis, key), value)


def test_failed_fit_leaves_the_transformer_unfitted():
    # Issue 21, defect 3: the shape check of base_frequency failed after
    # n_features_in_ and center_ were set, so check_is_fitted passed and
    # transform raised AttributeError.
    basis = BasisExpansion(kind="sinusoidal", base_frequency=[1.0, 2.0])
    with pytest.raises(ValueError, match="base_frequency"):
        basis.fit(np.random.default_rng(0).normal(size=(40, 3)))
    assert vars(basis).keys() == basis.get_params().keys()
    with pytest.raises(NotFittedError):
        basis.transform(np.zeros((2, 3)))


def test_failed_refit_keeps_the_previous_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    basis = BasisExpansion(kind="sinusoidal", base_frequency=[1.0, 2.0, 3.0]).fit(X)
    before, state = basis.transform(X), _fitted_state(basis)
    with pytest.raises(ValueError, match=r"\(n_features,\) = \(4,\)"):
        basis.fit(rng.normal(size=(5, 4)))
    _assert_same_state(basis, state)
    np.testing.assert_array_equal(basis.transform(X), before)
    with pytest.raises(ValueError, match="NaN"):
        basis.fit(np.full((5, 3), np.nan))
    _assert_same_state(basis, state)


def test_refit_with_another_kind_drops_the_old_kinds_attributes():
    basis = BasisExpansion(kind="rbf").fit([[0.0], [1.0]])
    basis.set_params(kind="polynomial").fit([[0.0], [2.0]])
    assert not hasattr(basis, "centers_") and not hasattr(basis, "widths_")
    np.testing.assert_allclose(basis.transform([[2.0]]), [[1.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    "to_sparse", [sp.csr_matrix, sp.csc_array, sp.coo_matrix], ids=str
)
def test_sparse_input_is_refused_saying_why_and_what_to_do(to_sparse):
    # Every basis maps a zero entry to a non-zero feature, so no expansion
    # of a sparse X stays sparse: a clear refusal, before or after a fit.
    X = sp.random(20, 3, density=0.2, random_state=0)
    dense = BasisExpansion().fit_transform(X.toarray())
    for kind in KINDS:
        expanded = BasisExpansion(kind=kind).fit_transform(X.toarray())
        assert np.count_nonzero(expanded) > 3 * X.nnz  # the expansion is dense
        with pytest.raises(TypeError, match=r"sparse X.*dense.*toarray"):
            BasisExpansion(kind=kind).fit(to_sparse(X))
    basis = BasisExpansion().fit(X.toarray())
    with pytest.raises(TypeError, match="sparse X"):
        basis.transform(to_sparse(X))
    np.testing.assert_array_equal(basis.transform(X.toarray()), dense)


# --- properties -----------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    degree=st.integers(1, 12),
    include_bias=st.booleans(),
    n_cols=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    offset=st.floats(-1e3, 1e3),
    scale=st.floats(1e-3, 1e3),
)
def test_shape_and_finite_within_and_beyond_range(
    kind, degree, include_bias, n_cols, seed, offset, scale
):
    rng = np.random.default_rng(seed)
    X = offset + scale * rng.uniform(size=(20, n_cols))
    basis = BasisExpansion(kind=kind, degree=degree, include_bias=include_bias)
    basis.fit(X)
    # Test points up to 20% of the range beyond either end of the training data.
    lo, hi = X.min(axis=0), X.max(axis=0)
    X_new = lo + (hi - lo) * rng.uniform(-0.2, 1.2, size=(15, n_cols))
    Phi = basis.transform(X_new)
    expected_cols = n_cols * _per_column(kind, degree) + include_bias
    assert Phi.shape == (15, expected_cols) == (15, basis.n_output_features_)
    assert np.all(np.isfinite(Phi))
    if kind in ("polynomial", "chebyshev"):
        # Inside the training range the mapped features are bounded by 1, up to
        # the rounding of z (about eps * |x| / halfwidth_) times the largest
        # slope on [-1, 1]: degree for z^k, degree^2 for T_k (Markov).
        eps = np.finfo(float).eps
        rounding = 8 * degree**2 * eps * (1 + abs(offset) / scale)
        assert np.all(np.abs(basis.transform(X)) <= 1 + rounding)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS))
def test_row_order_does_not_matter(seed, kind):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2))
    perm = rng.permutation(12)
    a = BasisExpansion(kind=kind, degree=4).fit(X)
    b = BasisExpansion(kind=kind, degree=4).fit(X[perm])
    np.testing.assert_allclose(a.transform(X)[perm], b.transform(X[perm]), rtol=1e-12)


@pytest.mark.parametrize("kind", ["polynomial", "chebyshev"])
def test_features_that_overflow_are_refused_naming_X(kind):
    # Powers of a value 1e300 times the training range are inf: refuse
    # them instead of returning inf features.
    basis = BasisExpansion(kind=kind, degree=3).fit([[0.0], [1.0]])
    with pytest.raises(ValueError, match="X has values so far outside"):
        basis.transform([[1e300]])
    assert np.all(np.isfinite(basis.transform([[1e100]])))
