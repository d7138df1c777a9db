"""The predictive contract for several targets (issue 20): y of shape (n, k).

Small stand-in regressors whose ``predict_dist`` returns a batch (n, k) of
each family (Normal, Student-t, a mixture of draws) check what ``_base``
derives from it, the scoring rules and scorers with ``multioutput``, the
Displays' ``output=`` and the resolver's per-target target transforms. Each
value is checked against the one-target answer for that column or a
closed-form / scipy reference.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from bayesreg._base import BayesianRegressorMixin
from bayesreg.conjugate import ConjugateLinearRegression
from bayesreg.distributions import (
    Normal,
    NormalMixture,
    StudentT,
    TransformedDistribution,
    _take_output,
)
from bayesreg.metrics import (
    calibration_curve,
    calibration_error,
    crps,
    crps_normal_mixture,
    get_scorer,
    interval_coverage,
    interval_score,
    log_predictive_density,
    mean_crps,
    mean_interval_width,
    mean_nlpd,
    neg_crps_scorer,
    neg_nlpd_scorer,
    pit,
    predict_dist,
    sharpness,
)
from bayesreg.utils.estimator_checks import check_predictive_contract

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bayesreg.plotting import (
    PITDisplay,
    PredictiveBandDisplay,
    ReliabilityDisplay,
)


class _Gaussian(BayesianRegressorMixin, BaseEstimator):
    """Gaussian-prior least squares with a plug-in noise per target; the
    predictive is Normal, Student-t (``family="t"``) or a mixture of S
    posterior draws (``family="mixture"``), of batch (n,) or (n, k)."""

    def __init__(self, family="normal", n_draws=64, random_state=0):
        self.family = family
        self.n_draws = n_draws
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        A = np.column_stack([X, np.ones(len(X))])
        self.precision_ = A.T @ A + np.eye(A.shape[1])
        self.coef_ = np.linalg.solve(self.precision_, A.T @ y)
        self.noise_std_ = np.std(y - A @ self.coef_, axis=0)
        self.df_ = float(len(X))
        return self

    def predict_dist(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        A = np.column_stack([X, np.ones(len(X))])
        mean = A @ self.coef_
        if self.family == "mixture":
            rng = np.random.default_rng(self.random_state)
            chol = np.linalg.cholesky(np.linalg.inv(self.precision_))
            w = chol @ rng.standard_normal((A.shape[1], self.n_draws))  # (p, S)
            f = (A @ self.coef_)[..., None] + (A @ w).reshape(
                len(A), *([1] * (mean.ndim - 1)), self.n_draws
            ) * self.noise_std_[..., None]
            # the draw axis last; noise std per target and draw: (k, S)
            return NormalMixture(
                f, np.repeat(self.noise_std_[..., None], self.n_draws, -1)
            )
        var_f = np.einsum("ij,ij->i", A, np.linalg.solve(self.precision_, A.T).T)
        if mean.ndim == 2:
            var_f = var_f[:, None]
        epistemic = self.noise_std_ * np.sqrt(var_f)
        scale = np.sqrt(self.noise_std_**2 + epistemic**2)
        if self.family == "t":
            return StudentT(self.df_, mean, scale, epistemic_std=epistemic)
        return Normal(mean, scale, epistemic_std=epistemic)


FAMILIES = ["normal", "t", "mixture"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    f = X @ np.array([[1.0, -20.0, 0.0], [-2.0, 5.0, 0.3]])
    Y = f + np.array([0.3, 4.0, 0.05]) * rng.normal(size=(60, 3))
    return X, Y


# ---------------------------------------------------------------- _base
@pytest.mark.parametrize("family", FAMILIES)
def test_every_method_has_the_shapes_of_gaussian_process_regressor(family, data):
    X, Y = data
    est = _Gaussian(family).fit(X, Y)
    Xt = X[:7]
    assert est.predict(Xt).shape == (7, 3)
    mean, std = est.predict(Xt, return_std=True)
    assert mean.shape == std.shape == (7, 3)
    for kind in ("total", "epistemic", "aleatoric"):
        assert est.predict_std(Xt, kind=kind).shape == (7, 3)
    assert est.predict_interval(Xt, coverage=0.9).shape == (7, 3, 2)
    assert est.sample_y(Xt, n_samples=5, random_state=0).shape == (7, 3, 5)
    assert est.log_predictive_density(Xt, Y[:7]).shape == (7, 3)
    assert est.predict_dist(Xt).batch_shape == (7, 3)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_target_equals_the_fit_on_that_column(family, data):
    # The stand-in fits each column on its own (one set of statistics), so
    # column j of every method equals the one-target fit on y[:, j].
    X, Y = data
    est = _Gaussian(family).fit(X, Y)
    Xt = X[:9]
    dist = est.predict_dist(Xt)
    for j in range(3):
        alone = _Gaussian(family).fit(X, Y[:, j])
        one = alone.predict_dist(Xt)
        assert one.batch_shape == (9,)
        np.testing.assert_allclose(est.predict(Xt)[:, j], alone.predict(Xt), rtol=1e-12)
        for kind in ("total", "epistemic", "aleatoric"):
            np.testing.assert_allclose(
                est.predict_std(Xt, kind=kind)[:, j],
                alone.predict_std(Xt, kind=kind),
                rtol=1e-10,
            )
        np.testing.assert_allclose(
            est.predict_interval(Xt, 0.8)[:, j], alone.predict_interval(Xt, 0.8),
            rtol=1e-9,
        )  # fmt: skip
        np.testing.assert_allclose(
            est.log_predictive_density(Xt, Y[:9])[:, j],
            alone.log_predictive_density(Xt, Y[:9, j]),
            rtol=1e-10,
        )
        np.testing.assert_allclose(_take_output(dist, j).std, one.std, rtol=1e-10)


def test_log_density_and_intervals_against_scipy(data):
    X, Y = data
    est = _Gaussian("t").fit(X, Y)
    dist = est.predict_dist(X[:5])
    ref = stats.t(dist.df, dist.loc, dist.scale)
    np.testing.assert_allclose(
        est.log_predictive_density(X[:5], Y[:5]), ref.logpdf(Y[:5])
    )
    lo, hi = ref.interval(0.7)
    np.testing.assert_allclose(est.predict_interval(X[:5], 0.7), np.stack([lo, hi], -1))
    draws = est.sample_y(X[:5], n_samples=20000, random_state=3)
    frac = np.mean(draws <= ref.median()[..., None], axis=-1)
    np.testing.assert_allclose(frac, 0.5, atol=0.015)


@pytest.mark.parametrize("family", FAMILIES)
def test_one_column_keeps_its_trailing_axis(family, data):
    X, Y = data
    one = _Gaussian(family).fit(X, Y[:, :1])
    flat = _Gaussian(family).fit(X, Y[:, 0])
    np.testing.assert_allclose(one.predict(X[:4]), flat.predict(X[:4])[:, None])
    assert one.predict_interval(X[:4]).shape == (4, 1, 2)
    assert one.sample_y(X[:4], 2, random_state=0).shape == (4, 1, 2)
    # y of shape (n,) is taken for a model of one column
    np.testing.assert_allclose(
        one.log_predictive_density(X[:4], Y[:4, 0]),
        flat.log_predictive_density(X[:4], Y[:4, 0])[:, None],
    )


def test_log_density_refuses_a_y_of_another_shape(data):
    X, Y = data
    est = _Gaussian().fit(X, Y)
    with pytest.raises(ValueError, match=r"shape \(5, 3\)"):
        est.log_predictive_density(X[:5], Y[:5, :2])
    with pytest.raises(ValueError, match=r"\(5, 3\)"):
        est.log_predictive_density(X[:5], Y[:5, 0])
    with pytest.raises(ValueError, match="y must be real"):
        est.log_predictive_density(X[:5], Y[:5] + 1j)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_stand_ins_keep_the_contract(family):
    check_predictive_contract(_Gaussian(family))


# ---------------------------------------------------------------- metrics
def _batches():
    rng = np.random.default_rng(1)
    loc = rng.normal(size=(30, 3)) * [1.0, 10.0, 0.1]
    scale = np.array([1.0, 8.0, 0.2])
    locs = loc[..., None] + rng.normal(size=(30, 3, 6)) * scale[:, None]
    return {
        "normal": Normal(loc, scale),
        "t": StudentT(np.array([3.0, 5.0, 30.0]), loc, scale),
        "mixture": NormalMixture(locs, 0.5 * scale[:, None]),
        "log-normal": TransformedDistribution(
            Normal(loc / 10, scale / 10), np.exp, np.log
        ),
    }


def _observed(dist, seed=2):
    return dist.sample(1, random_state=seed)[..., 0]


ONE_NUMBER_METRICS = {
    "nlpd": lambda y, d, **kw: mean_nlpd(y, d, **kw),
    "crps": lambda y, d, **kw: mean_crps(y, d, **kw),
    "coverage": lambda y, d, **kw: interval_coverage(y, d, coverage=0.8, **kw),
    "interval score": lambda y, d, **kw: interval_score(y, d, coverage=0.8, **kw),
    "width": lambda y, d, **kw: mean_interval_width(d, coverage=0.8, **kw),
    "calibration": lambda y, d, **kw: calibration_error(y, d, **kw),
    "quantile calibration": lambda y, d, **kw: calibration_error(
        y, d, kind="quantile", norm="l2", **kw
    ),
    "sharpness": lambda y, d, **kw: sharpness(d, **kw),
}


@pytest.mark.parametrize("family", ["normal", "t", "mixture", "log-normal"])
@pytest.mark.parametrize("metric", list(ONE_NUMBER_METRICS))
def test_multioutput_combines_the_one_target_scores(metric, family):
    func = ONE_NUMBER_METRICS[metric]
    dist = _batches()[family]
    y = _observed(dist)
    w = np.random.default_rng(3).uniform(0.1, 2.0, size=30)
    per_target = np.array(
        [func(y[:, j], _take_output(dist, j), sample_weight=w) for j in range(3)]
    )
    raw = func(y, dist, sample_weight=w, multioutput="raw_values")
    assert raw.shape == (3,)
    np.testing.assert_allclose(raw, per_target, rtol=1e-10)
    np.testing.assert_allclose(
        func(y, dist, sample_weight=w), per_target.mean(), rtol=1e-10
    )
    weights = np.array([0.2, 0.0, 3.0])
    np.testing.assert_allclose(
        func(y, dist, sample_weight=w, multioutput=weights),
        np.average(per_target, weights=weights),
        rtol=1e-10,
    )
    # One target: raw_values is a (1,) array of the usual float.
    one = func(y[:, 0], _take_output(dist, 0), multioutput="raw_values")
    assert one.shape == (1,)
    assert one[0] == func(y[:, 0], _take_output(dist, 0))


@pytest.mark.parametrize("family", ["normal", "t", "mixture", "log-normal"])
def test_pointwise_scores_keep_the_batch_shape(family):
    dist = _batches()[family]
    y = _observed(dist)
    for func in (crps, pit):
        out = func(y, dist)
        assert out.shape == (30, 3)
        for j in range(3):
            np.testing.assert_allclose(out[:, j], func(y[:, j], _take_output(dist, j)))


def test_mixture_batch_crps_against_quadrature():
    dist = _batches()["mixture"]
    y = _observed(dist)
    scales = 0.5 * np.array([1.0, 8.0, 0.2])[:, None] * np.ones(6)  # (k, S)
    got = crps_normal_mixture(y, dist.locs, scales)
    for i, j in [(0, 0), (3, 1), (7, 2)]:
        cdf = NormalMixture(dist.locs[i : i + 1, j], scales[j]).cdf

        def below(x, cdf=cdf):
            return cdf(np.array([x]))[0] ** 2

        def above(x, cdf=cdf):
            return (1 - cdf(np.array([x]))[0]) ** 2

        yi = y[i, j]
        ref = (
            integrate.quad(below, -np.inf, yi, epsabs=1e-11)[0]
            + integrate.quad(above, yi, np.inf, epsabs=1e-11)[0]
        )
        np.testing.assert_allclose(got[i, j], ref, rtol=1e-7)


def test_calibration_curve_per_target():
    dist = _batches()["normal"]
    y = _observed(dist)
    levels = np.array([0.2, 0.5, 0.9])
    _, raw = calibration_curve(y, dist, levels=levels, multioutput="raw_values")
    assert raw.shape == (3, 3)
    for j in range(3):
        _, one = calibration_curve(y[:, j], _take_output(dist, j), levels=levels)
        np.testing.assert_array_equal(raw[:, j], one)
    _, mean = calibration_curve(y, dist, levels=levels)
    np.testing.assert_allclose(mean, raw.mean(axis=1))
    u = pit(y, dist)
    inside = np.abs(u[..., None] - 0.5) <= 0.5 * levels
    np.testing.assert_allclose(raw, inside.mean(axis=0).T)


def test_arrays_of_several_targets():
    dist = _batches()["normal"]
    y = _observed(dist)
    std = np.broadcast_to(dist.scale, y.shape)
    assert mean_crps(y, dist.mean, std) == mean_crps(y, dist)
    assert mean_nlpd(y, dist.mean, std) == mean_nlpd(y, dist)
    bounds = dist.interval(0.8)
    assert interval_score(y, bounds, coverage=0.8) == interval_score(
        y, dist, coverage=0.8
    )
    assert interval_coverage(y, bounds) == interval_coverage(y, dist, coverage=0.8)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d, y: mean_crps(y, d, multioutput="variance_weighted"), "multioutput"),
        (lambda d, y: mean_crps(y, d, multioutput=[1.0, 2.0]), "2 weights"),
        (lambda d, y: mean_crps(y, d, multioutput=[1.0, -1.0, 1.0]), "non-negative"),
        (lambda d, y: mean_crps(y[:, :2], d), r"shape \(30, 3\)"),
        (lambda d, y: mean_crps(y[:, 0], d), r"shape \(30, 3\)"),
        (lambda d, y: mean_nlpd(y, d.mean, np.ones((30, 2))), "y_std"),
        (lambda d, y: interval_coverage(y, d.interval(0.9)[:, :2]), r"\(30, 2\)"),
        (lambda d, y: get_scorer("neg_crps", multioutput="raw_values"), "multioutput"),
    ],
)
def test_several_targets_bad_input(call, match):
    dist = _batches()["normal"]
    with pytest.raises(ValueError, match=match):
        call(dist, _observed(dist))


# ---------------------------------------------------------------- scorers
@pytest.mark.parametrize("family", FAMILIES)
def test_scorers_average_over_the_targets(family, data):
    X, Y = data
    est = _Gaussian(family).fit(X[:40], Y[:40])
    dist = est.predict_dist(X[40:])
    lpd = est.log_predictive_density(X[40:], Y[40:])
    np.testing.assert_allclose(neg_nlpd_scorer(est, X[40:], Y[40:]), lpd.mean())
    np.testing.assert_allclose(
        get_scorer("neg_nlpd", multioutput=[1.0, 0.0, 0.0])(est, X[40:], Y[40:]),
        lpd[:, 0].mean(),
    )
    np.testing.assert_allclose(
        neg_crps_scorer(est, X[40:], Y[40:]), -crps(Y[40:], dist).mean()
    )
    coverage = interval_coverage(Y[40:], dist, coverage=0.5, multioutput="raw_values")
    np.testing.assert_allclose(
        get_scorer("neg_coverage_error", coverage=0.5)(est, X[40:], Y[40:]),
        -np.abs(coverage - 0.5).mean(),  # each target's own error
    )


def test_multi_target_grid_search_with_the_nlpd_scorer(data):
    X, Y = data
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        _Gaussian(), {"family": ["normal", "t"]}, scoring=neg_nlpd_scorer, cv=cv
    ).fit(X, Y)
    for i, family in enumerate(["normal", "t"]):
        folds = [
            _Gaussian(family).fit(X[tr], Y[tr]).log_predictive_density(X[te], Y[te])
            for tr, te in cv.split(X)
        ]
        expected = np.mean([f.mean() for f in folds])
        np.testing.assert_allclose(search.cv_results_["mean_test_score"][i], expected)
    assert predict_dist(search, X[:3]).batch_shape == (3, 3)


def test_multi_target_grid_search_with_conjugate_regression(data):
    X, Y = data
    search = GridSearchCV(
        ConjugateLinearRegression(),
        {"fit_intercept": [True, False]},
        scoring=neg_nlpd_scorer,
        cv=3,
        error_score="raise",
    ).fit(X, Y)
    best = search.best_estimator_
    lpd = best.log_predictive_density(X, Y)
    assert lpd.shape == Y.shape
    for j in range(3):
        alone = ConjugateLinearRegression(**search.best_params_).fit(X, Y[:, j])
        np.testing.assert_allclose(lpd[:, j], alone.log_predictive_density(X, Y[:, j]))


# ---------------------------------------------------------------- resolver
def test_target_scaler_of_several_targets_maps_each_target(data):
    X, Y = data
    ttr = TransformedTargetRegressor(_Gaussian("t"), transformer=StandardScaler())
    ttr.fit(X, Y)
    dist = predict_dist(ttr, X[:6])
    inner = ttr.regressor_.predict_dist(X[:6])
    mu, sd = Y.mean(axis=0), Y.std(axis=0)
    assert isinstance(dist, StudentT) and dist.batch_shape == (6, 3)
    np.testing.assert_allclose(dist.loc, mu + sd * inner.loc)
    np.testing.assert_allclose(dist.scale, sd * inner.scale)
    np.testing.assert_allclose(dist.epistemic_std, sd * inner.epistemic_std)
    np.testing.assert_allclose(
        log_predictive_density(ttr, X[:6], Y[:6]),
        inner.logpdf((Y[:6] - mu) / sd) - np.log(sd),
    )


def test_target_scaler_of_a_mixture_of_several_targets(data):
    X, Y = data
    ttr = TransformedTargetRegressor(_Gaussian("mixture"), transformer=StandardScaler())
    dist = predict_dist(ttr.fit(X, Y), X[:6])
    inner = ttr.regressor_.predict_dist(X[:6])
    mu, sd = Y.mean(axis=0), Y.std(axis=0)
    np.testing.assert_allclose(dist.locs, mu[:, None] + sd[:, None] * inner.locs)
    np.testing.assert_allclose(dist.std, sd * inner.std)


def test_log_target_of_several_targets(data):
    X, Y = data
    positive = np.exp(Y / np.abs(Y).max(axis=0))
    ttr = TransformedTargetRegressor(_Gaussian(), func=np.log, inverse_func=np.exp)
    dist = predict_dist(ttr.fit(X, positive), X[:6])
    inner = ttr.regressor_.predict_dist(X[:6])
    assert isinstance(dist, TransformedDistribution) and dist.batch_shape == (6, 3)
    ref = stats.lognorm(s=inner.scale, scale=np.exp(inner.loc))
    np.testing.assert_allclose(dist.mean, ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(
        log_predictive_density(ttr, X[:6], positive[:6]), ref.logpdf(positive[:6])
    )


def test_non_linear_target_transform_of_several_columns_is_refused(data):
    from sklearn.preprocessing import PowerTransformer

    X, Y = data
    ttr = TransformedTargetRegressor(_Gaussian(), transformer=PowerTransformer())
    with pytest.raises(ValueError, match="3 target columns"):
        predict_dist(ttr.fit(X, Y), X[:3])


def test_gaussian_process_of_several_outputs(data):
    X, Y = data
    gpr = GaussianProcessRegressor(alpha=0.1, optimizer=None).fit(X[:30], Y[:30, :2])
    dist = predict_dist(gpr, X[30:35])
    mean, std = gpr.predict(X[30:35], return_std=True)
    assert dist.batch_shape == (5, 2)
    np.testing.assert_allclose(dist.mean, mean)
    np.testing.assert_allclose(dist.std, std)


# ---------------------------------------------------------------- displays
@pytest.fixture
def close_figures():
    yield
    plt.close("all")


@pytest.mark.usefixtures("close_figures")
@pytest.mark.parametrize("display", [PITDisplay, ReliabilityDisplay])
def test_displays_draw_one_target(display, data):
    X, Y = data
    est = _Gaussian().fit(X, Y)
    with pytest.raises(ValueError, match=r"3 targets.*output="):
        display.from_estimator(est, X, Y)
    with pytest.raises(ValueError, match=r"output must be an integer in \[0, 3\)"):
        display.from_estimator(est, X, Y, output=3)
    disp = display.from_estimator(est, X, Y, output=1)
    one = display.from_estimator(_Gaussian().fit(X, Y[:, 1]), X, Y[:, 1])
    if display is PITDisplay:
        np.testing.assert_allclose(disp.pit_values, one.pit_values)
        np.testing.assert_allclose(
            disp.pit_values, pit(Y[:, 1], _take_output(est.predict_dist(X), 1))
        )
    else:
        np.testing.assert_allclose(disp.observed, one.observed)
        assert disp.calibration_error == pytest.approx(one.calibration_error)
    preds = display.from_predictions(Y, est.predict_dist(X), output=2)
    ref = display.from_predictions(Y[:, 2], _take_output(est.predict_dist(X), 2))
    np.testing.assert_allclose(
        preds.line_.get_ydata() if display is ReliabilityDisplay else preds.pit_values,
        ref.line_.get_ydata() if display is ReliabilityDisplay else ref.pit_values,
    )


@pytest.mark.usefixtures("close_figures")
@pytest.mark.parametrize("family", ["normal", "mixture"])
def test_predictive_band_draws_one_target(family):
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1, 1, 40))
    Y = np.column_stack([np.sin(3 * x), 5 * x]) + 0.1 * rng.normal(size=(40, 2))
    est = _Gaussian(family).fit(x[:, None], Y)
    with pytest.raises(ValueError, match="2 targets"):
        PredictiveBandDisplay.from_estimator(est, x[:, None], Y)
    n_draws = 3 if family == "mixture" else 0
    disp = PredictiveBandDisplay.from_estimator(
        est,
        x[:, None],
        Y,
        output=1,
        grid_resolution=20,
        n_draws=n_draws,
        random_state=0,
    )
    grid = disp.x[:, None]
    dist = _take_output(est.predict_dist(grid), 1)
    np.testing.assert_allclose(disp.mean, dist.mean)
    np.testing.assert_allclose(disp.intervals[0.95], dist.interval(0.95))
    np.testing.assert_allclose(disp.y_data, Y[:, 1])
    if n_draws:
        assert disp.function_draws.shape == (20, 3)
    with pytest.raises(ValueError, match="2 targets"):
        PredictiveBandDisplay.from_predictions(x, est.predict_dist(x[:, None]))
    band = PredictiveBandDisplay.from_predictions(
        x, est.predict_dist(x[:, None]), output=0
    )
    np.testing.assert_allclose(band.mean, est.predict(x[:, None])[:, 0])


@pytest.mark.usefixtures("close_figures")
def test_one_target_display_refuses_another_output(data):
    X, Y = data
    est = _Gaussian().fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="one target"):
        PITDisplay.from_estimator(est, X, Y[:, 0], output=1)
    PITDisplay.from_estimator(est, X, Y[:, 0], output=0)


def test_identity_target_transform_of_several_targets_is_seen_through(data):
    X, Y = data
    ttr = TransformedTargetRegressor(_Gaussian("t"), check_inverse=False).fit(X, Y)
    inner = ttr.regressor_
    assert type(predict_dist(ttr, X[:4])) is StudentT
    np.testing.assert_array_equal(predict_dist(ttr, X[:4]).loc, inner.predict(X[:4]))
    # the estimator's own log density, as for one target
    calls = []
    inner.log_predictive_density = lambda X_, y_: calls.append(1) or np.zeros(y_.shape)
    log_predictive_density(ttr, X[:4], Y[:4])
    assert calls == [1]
