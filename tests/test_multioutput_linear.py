"""Several targets for the closed forms (issue 20): y of shape (n, k) equals k
separate fits, with GaussianProcessRegressor's shapes."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from bayesreg import ConjugateLinearRegression, RidgeMAP

MODES = [
    {},
    {"noise_std": 0.5},
    {"prior_std": 0.7},
    {"fit_hyperparameters": True},
    {"noise_prior_shape": 2.0, "noise_prior_scale": 0.3},
    {"fit_intercept": False},
]


def _problem(seed, n=40, p=6, k=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 1.0
    # Targets of different scales and signal, so that each gets its own
    # noise and prior scale.
    Y = X @ rng.normal(size=(p, k)) * [1.0, 30.0, 0.01][:k] + rng.normal(size=(n, k))
    return X, Y, rng.normal(size=(8, p))


PER_TARGET = ("intercept_", "noise_std_", "prior_scale_", "log_marginal_likelihood_")


@pytest.mark.parametrize("params", MODES)
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("p", [6, 50])
def test_equals_separate_fits(params, solver, p):
    if p == 50 and solver == "primal" and params in ({}, {"fit_hyperparameters": True}):
        pytest.skip(
            "p > n: the evidence of an unknown noise rises towards interpolation, "
            "where the primal resolves the residual only to rounding of y^T y "
            "(test_sparse_wide.py::test_dual_resolves_interpolation)"
        )
    X, Y, Xt = _problem(p, p=p)
    est = ConjugateLinearRegression(solver=solver, **params)
    joint = clone(est).fit(X, Y)
    assert joint.coef_.shape == (3, p) and joint.solver_ == solver
    mean, std = joint.predict(Xt, return_std=True)
    for j in range(3):
        one = clone(est).fit(X, Y[:, j])
        assert_allclose(joint.coef_[j], one.coef_, rtol=1e-10, atol=1e-13)
        for name in PER_TARGET:
            assert_allclose(getattr(joint, name)[j], getattr(one, name), rtol=1e-10)
        assert_allclose(joint.prior_std_[j], one.prior_std_, rtol=1e-10)
        assert_allclose(mean[:, j], one.predict(Xt), rtol=1e-10)
        assert_allclose(std[:, j], one.predict_std(Xt), rtol=1e-10)
        assert_allclose(
            joint.predict_std(Xt, kind="epistemic")[:, j],
            one.predict_std(Xt, kind="epistemic"),
            rtol=1e-10,
        )
        if p < 10:
            assert_allclose(joint.coef_cov_[j], one.coef_cov_, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("solver", ["primal", "dual"])
def test_ridge_map_equals_separate_fits_and_sklearn(solver):
    X, Y, Xt = _problem(1, p=8)
    joint = RidgeMAP(alpha=2.0, solver=solver).fit(X, Y)
    assert_allclose(joint.coef_, Ridge(alpha=2.0).fit(X, Y).coef_, rtol=1e-9)
    for j in range(3):
        one = RidgeMAP(alpha=2.0, solver=solver).fit(X, Y[:, j])
        assert_allclose(joint.coef_[j], one.coef_, rtol=1e-10)
        for name in ("intercept_", "residual_std_", "noise_std_"):
            assert_allclose(getattr(joint, name)[j], getattr(one, name), rtol=1e-10)
        assert_allclose(joint.predict_std(Xt)[:, j], one.predict_std(Xt), rtol=1e-10)


@pytest.mark.parametrize(
    "est",
    [ConjugateLinearRegression(), ConjugateLinearRegression(noise_std=1.0), RidgeMAP()],
)
def test_shapes_follow_gaussian_process_regressor(est):
    X, Y, Xt = _problem(2)
    est = clone(est).fit(X, Y)
    n = len(Xt)
    assert est.predict(Xt).shape == (n, 3)
    assert est.predict_std(Xt).shape == (n, 3)
    assert est.predict_interval(Xt, coverage=0.9).shape == (n, 3, 2)
    assert est.sample_y(Xt, 5, random_state=0).shape == (n, 3, 5)
    assert est.sample_functions(Xt, 5, random_state=0).shape == (n, 3, 5)
    assert est.log_predictive_density(Xt, Y[:n]).shape == (n, 3)
    assert est.predict_dist(Xt).mean.shape == (n, 3)
    draws = est.sample_parameters(4, random_state=0)
    assert draws["coef"].shape == (4, 3, X.shape[1])
    assert draws["intercept"].shape == draws["noise_std"].shape == (4, 3)
    assert np.shape(est.intercept_) == (3,) and np.shape(est.noise_std_) == (3,)
    # y of shape (n, 1) keeps its trailing axis, as sklearn's Ridge
    col = clone(est).fit(X, Y[:, :1])
    assert col.predict(Xt).shape == col.predict_std(Xt).shape == (n, 1)
    assert col.coef_.shape == (1, X.shape[1])
    assert_allclose(col.predict(Xt)[:, 0], clone(est).fit(X, Y[:, 0]).predict(Xt))
    # and a 1-D y keeps the 1-D shapes
    one = clone(est).fit(X, Y[:, 0])
    assert one.predict(Xt).shape == (n,) and one.coef_.shape == (X.shape[1],)
    assert isinstance(one.intercept_, float)


def test_sample_y_draws_match_the_predictive_per_target():
    X, Y, Xt = _problem(3)
    est = ConjugateLinearRegression().fit(X, Y)
    draws = est.sample_y(Xt, 20_000, random_state=0)
    std = est.predict_std(Xt)
    assert np.all(np.abs(draws.mean(axis=2) - est.predict(Xt)) < 0.05 * std)
    assert_allclose(draws.std(axis=2), est.predict_std(Xt), rtol=0.05)


def test_partial_fit_and_merge_with_several_targets():
    X, Y, Xt = _problem(4, n=60)
    batch = ConjugateLinearRegression().fit(X, Y)
    online = ConjugateLinearRegression()
    for rows in np.array_split(np.arange(60), 3):
        online.partial_fit(X[rows], Y[rows])
    merged = ConjugateLinearRegression().fit(X[:25], Y[:25])
    merged = merged.merge(ConjugateLinearRegression().fit(X[25:], Y[25:]))
    for got in (online, merged):
        assert_allclose(got.coef_, batch.coef_, rtol=1e-9)
        assert_allclose(got.predict_std(Xt), batch.predict_std(Xt), rtol=1e-9)
        assert_allclose(
            got.log_marginal_likelihood_, batch.log_marginal_likelihood_, rtol=1e-9
        )
    with pytest.raises(ValueError, match="number of targets"):
        online.partial_fit(X[:5], Y[:5, :2])
    with pytest.raises(ValueError, match="numbers of targets"):
        merged.merge(ConjugateLinearRegression().fit(X, Y[:, 0]))


def test_grid_search_with_several_targets():
    X, Y, _ = _problem(5, n=60)
    search = GridSearchCV(ConjugateLinearRegression(), {"fit_intercept": [True, False]})
    search.fit(X, Y)
    assert search.predict(X[:4]).shape == (4, 3)
