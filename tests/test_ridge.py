"""RidgeMAP against sklearn's Ridge and closed forms."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, Ridge

from bayesreg import RidgeMAP

# One problem for the tests below (``linear_data(seed, **PROBLEM)``).
PROBLEM = dict(n=120, d=6, noise=0.3, intercept=2.0, weights=True)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("offset", [0.0, 50.0])
def test_equals_sklearn_ridge(linear_data, seed, fit_intercept, weighted, offset):
    X, y, w = linear_data(seed, offset=offset, **PROBLEM)
    w = w if weighted else None
    ours = RidgeMAP(alpha=2.5, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    ref = Ridge(alpha=2.5, fit_intercept=fit_intercept, solver="cholesky", tol=1e-12)
    ref.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-12)


def test_residual_and_noise_std(linear_data):
    X, y, _ = linear_data(1, **{**PROBLEM, "n": 40, "d": 5})
    alpha = 3.0
    reg = RidgeMAP(alpha=alpha).fit(X, y)
    Xc = X - X.mean(axis=0)
    hat = Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(5), Xc.T)
    dof = np.trace(hat) + 1.0  # plus the intercept
    rss = np.sum((y - reg.predict(X)) ** 2)
    np.testing.assert_allclose(reg.dof_, dof, rtol=1e-10)
    # The predictive std is the GCV estimate of the prediction error,
    # RSS / n / (1 - dof / n)^2 (issue 20: RSS / (n - dof) was over-confident).
    gcv = rss / 40 / (1 - dof / 40) ** 2
    np.testing.assert_allclose(reg.residual_std_, np.sqrt(gcv), rtol=1e-8)
    # The noise comes from the least-squares residuals: n - 5 - 1 dof.
    ls = LinearRegression().fit(X, y)
    rss_ls = np.sum((y - ls.predict(X)) ** 2)
    np.testing.assert_allclose(reg.noise_std_, np.sqrt(rss_ls / 34), rtol=1e-8)
    unpenalised = RidgeMAP(alpha=0.0).fit(X, y)
    assert unpenalised.noise_std_ == unpenalised.residual_std_


def test_noise_std_is_free_of_the_penalty_bias():
    # At a high signal-to-noise ratio a fixed alpha's bias dominates the MAP
    # residuals; the noise estimate does not see it, and the predictive
    # (calibrated) reports the excess as the MAP's own, epistemic, error.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    y = X @ [1.0, -2.0, 0.5, 0.0, 3.0] + 1.0 + 0.01 * rng.normal(size=500)
    reg = RidgeMAP().fit(X, y)
    assert reg.residual_std_ > 1.2 * 0.01
    assert abs(reg.noise_std_ / 0.01 - 1) < 0.1
    Xt = rng.normal(size=(20_000, 5))
    yt = Xt @ [1.0, -2.0, 0.5, 0.0, 3.0] + 1.0 + 0.01 * rng.normal(size=20_000)
    lo, hi = reg.predict_interval(Xt, coverage=0.9).T
    assert abs(np.mean((yt >= lo) & (yt <= hi)) - 0.9) < 0.02
    dist = reg.predict_dist(Xt[:3])
    np.testing.assert_allclose(dist.aleatoric_std, reg.noise_std_)
    np.testing.assert_allclose(dist.std, reg.residual_std_)


def test_plug_in_predictive_is_the_same_everywhere(linear_data):
    X, y, _ = linear_data(2, **PROBLEM)
    reg = RidgeMAP().fit(X, y)
    far = X[:5] * 100
    np.testing.assert_allclose(reg.predict_std(far), reg.residual_std_)
    np.testing.assert_allclose(
        reg.predict_std(far, kind="epistemic"), reg.predict_std(X[:5], kind="epistemic")
    )
    np.testing.assert_allclose(reg.predict_std(X[:5]), reg.predict_std(far))


@pytest.mark.parametrize("alpha", [0.0, 1e-10])
def test_rank_deficient_problems(alpha):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(10, 3))
    X = np.column_stack([base, base[:, 0]])  # exactly collinear column
    y = base @ [1.0, 2.0, -1.0]
    reg = RidgeMAP(alpha=alpha).fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    np.testing.assert_allclose(reg.predict(X), y, atol=1e-6)
    wide = rng.normal(size=(5, 20))  # n < d
    reg = RidgeMAP(alpha=alpha, fit_intercept=False).fit(wide, wide[:, 0])
    np.testing.assert_allclose(reg.predict(wide), wide[:, 0], atol=1e-6)
    if alpha == 0:  # minimum-norm least squares
        np.testing.assert_allclose(
            reg.coef_, np.linalg.lstsq(wide, wide[:, 0], rcond=None)[0], atol=1e-8
        )


@pytest.mark.parametrize("alpha", [-1.0, "big", None])
def test_bad_alpha(linear_data, alpha):
    X, y, _ = linear_data(0, **PROBLEM)
    with pytest.raises(ValueError, match="alpha"):
        RidgeMAP(alpha=alpha).fit(X, y)


def test_bad_sample_weight(linear_data):
    X, y, _ = linear_data(0, **PROBLEM)
    with pytest.raises(ValueError, match="sample_weight"):
        RidgeMAP().fit(X, y, sample_weight=np.ones(3))
    negative = np.ones(len(y))
    negative[0] = -1.0
    with pytest.raises(ValueError, match=r"[Nn]egative"):
        RidgeMAP().fit(X, y, sample_weight=negative)


def test_sampling_methods_repeat_the_point_estimate(linear_data):
    X, y = linear_data(3, n=30)
    reg = RidgeMAP(alpha=0.5).fit(X, y)
    draws = reg.sample_parameters(4, random_state=0)
    assert sorted(draws) == ["coef", "intercept", "noise_std"]
    np.testing.assert_array_equal(draws["coef"], np.tile(reg.coef_, (4, 1)))
    np.testing.assert_array_equal(draws["intercept"], reg.intercept_)
    np.testing.assert_array_equal(draws["noise_std"], reg.noise_std_)
    f = reg.sample_functions(X[:5], 3, random_state=0)
    assert f.shape == (5, 3)
    np.testing.assert_allclose(f, np.tile(reg.predict(X[:5])[:, None], 3))
    with pytest.raises(NotFittedError, match="prior is improper"):
        RidgeMAP().sample_parameters()


# --------------------------------------------------------------------------
# Calibration as p grows (issue 20): the predictive std is the GCV estimate
# of the prediction error, not the training residuals' std.
# --------------------------------------------------------------------------


def _coverage(est, X, y, Xt, yt, level=0.9):
    lo, hi = est.fit(X, y).predict_interval(Xt, coverage=level).T
    return np.mean((yt >= lo) & (yt <= hi))


@pytest.mark.parametrize("p", [50, 150, 400])
def test_default_intervals_cover_as_p_grows(p):
    # n = 200 standard-normal rows, noise 0.5, fresh test rows; the training
    # residuals' std covered 0.81 / 0.52 / 0.10 here. The mean over a seed
    # sweep: a single seed's coverage varies by +-0.06 (the MAP's own error
    # is random).
    covers = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        coef = rng.normal(size=p)
        X, Xt = rng.normal(size=(200, p)), rng.normal(size=(500, p))
        y = X @ coef + 0.5 * rng.normal(size=200)
        yt = Xt @ coef + 0.5 * rng.normal(size=500)
        covers.append(_coverage(RidgeMAP(), X, y, Xt, yt))
    assert 0.85 <= np.mean(covers) <= 0.95, covers


def test_default_intervals_cover_on_polynomial_diabetes():
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import PolynomialFeatures

    X, y = load_diabetes(return_X_y=True)
    P = PolynomialFeatures(3, include_bias=False).fit_transform(X)  # p = 285
    covers = [
        _coverage(RidgeMAP(), P[tr], y[tr], P[te], y[te])
        for tr, te in KFold(5, shuffle=True, random_state=0).split(P)
    ]
    assert 0.85 <= np.mean(covers) <= 0.95, covers  # 0.71 before
