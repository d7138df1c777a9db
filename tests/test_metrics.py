"""Tests for bayesreg.metrics: closed forms against references, scorers in sklearn."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats
from sklearn.base import BaseEstimator, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.inspection import permutation_importance
from sklearn.linear_model import ARDRegression, BayesianRidge, LinearRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

import bayesreg
from bayesreg._base import BayesianRegressorMixin
from bayesreg.basis import BasisExpansion
from bayesreg.conjugate import ConjugateLinearRegression
from bayesreg.datasets import make_seed_problem
from bayesreg.distributions import (
    Normal,
    NormalMixture,
    PredictiveDistribution,
    StudentT,
)
from bayesreg.metrics import (
    PredictiveScorer,
    _scoring_rules,
    calibration_curve,
    calibration_error,
    crps,
    crps_normal,
    crps_normal_mixture,
    crps_student_t,
    get_scorer,
    get_scorer_names,
    interval_coverage,
    interval_score,
    log_predictive_density,
    mean_crps,
    mean_interval_width,
    mean_nlpd,
    neg_calibration_error_scorer,
    neg_coverage_error_scorer,
    neg_crps_scorer,
    neg_interval_score_scorer,
    neg_nlpd_scorer,
    pit,
    predict_dist,
    sharpness,
)
from bayesreg.model_selection import EvidenceSearch


# ---------------------------------------------------------------- helpers
def crps_by_quadrature(cdf, y: float) -> float:
    """Reference CRPS: integral of (F(x) - 1{x >= y})^2, split at y."""

    def below(x):
        return cdf(x) ** 2

    def above(x):
        return (1.0 - cdf(x)) ** 2

    lo = integrate.quad(below, -np.inf, y, limit=200, epsabs=1e-11)[0]
    hi = integrate.quad(above, y, np.inf, limit=200, epsabs=1e-11)[0]
    return lo + hi


class LinearNormal(BayesianRegressorMixin, BaseEstimator):
    """Tiny test estimator: least squares line with a fixed Normal predictive."""

    def __init__(self, noise_std: float = 1.0):
        self.noise_std = noise_std

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        self.lr_ = LinearRegression().fit(X, y)
        return self

    def predict_dist(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        mean = self.lr_.predict(X)
        return Normal(mean, np.full(mean.shape, self.noise_std))


class CountingLPD(LinearNormal):
    """Records whether its own log_predictive_density was used."""

    def log_predictive_density(self, X, y):
        self.lpd_calls_ = getattr(self, "lpd_calls_", 0) + 1
        return super().log_predictive_density(X, y)


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5 + 0.3 * rng.normal(size=80)
    return X, y


# ---------------------------------------------------------------- CRPS
@settings(max_examples=30, deadline=None)
@given(
    loc=st.floats(-5, 5),
    scale=st.floats(0.05, 10),
    y=st.floats(-20, 20),
)
def test_crps_normal_matches_quadrature(loc, scale, y):
    ref = crps_by_quadrature(lambda x: stats.norm.cdf(x, loc, scale), y)
    got = crps_normal(np.array([y]), loc, scale)[0]
    assert got == pytest.approx(ref, rel=1e-6, abs=1e-8)


@settings(max_examples=30, deadline=None)
@given(
    df=st.floats(1.2, 60),
    loc=st.floats(-5, 5),
    scale=st.floats(0.05, 5),
    y=st.floats(-15, 15),
)
def test_crps_student_t_matches_quadrature(df, loc, scale, y):
    ref = crps_by_quadrature(lambda x: stats.t.cdf(x, df, loc, scale), y)
    got = crps_student_t(np.array([y]), df, loc, scale)[0]
    assert got == pytest.approx(ref, rel=1e-5, abs=1e-7)


def test_crps_student_t_tends_to_normal():
    y = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(
        crps_student_t(y, 1e7, 0.3, 1.7), crps_normal(y, 0.3, 1.7), rtol=1e-6
    )


def test_crps_zero_scale_is_absolute_error():
    y = np.array([-1.0, 0.0, 2.5])
    np.testing.assert_array_equal(crps_normal(y, 0.5, 0.0), np.abs(y - 0.5))
    np.testing.assert_array_equal(crps_student_t(y, 3.0, 0.5, 0.0), np.abs(y - 0.5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crps_normal_mixture_matches_quadrature(seed):
    rng = np.random.default_rng(seed)
    n, S = 4, 5
    locs = rng.normal(scale=2.0, size=(n, S))
    scales = rng.uniform(0.2, 1.5, size=(n, S))
    y = rng.normal(scale=2.0, size=n)
    got = crps_normal_mixture(y, locs, scales)
    for i in range(n):
        ref = crps_by_quadrature(
            lambda x, i=i: stats.norm.cdf(x, locs[i], scales[i]).mean(), y[i]
        )
        assert got[i] == pytest.approx(ref, rel=1e-6)


def test_crps_normal_mixture_matches_sample_estimate():
    rng = np.random.default_rng(3)
    locs = np.array([[-2.0, 0.0, 3.0]])
    scales = np.array([0.5, 1.0, 0.3])
    dist = NormalMixture(locs, scales)
    draws = dist.sample(200_000, random_state=rng)[0]
    y = 0.7
    # CRPS = E|X - y| - E|X - X'| / 2, with X' an independent copy.
    ref = np.abs(draws - y).mean() - 0.5 * np.abs(draws - rng.permutation(draws)).mean()
    assert crps([y], dist)[0] == pytest.approx(ref, abs=0.01)


def test_crps_normal_mixture_chunking_is_exact(monkeypatch):
    rng = np.random.default_rng(4)
    locs = rng.normal(size=(37, 6))
    y = rng.normal(size=37)
    full = crps_normal_mixture(y, locs, np.full(6, 0.4))
    monkeypatch.setattr(_scoring_rules, "_MIXTURE_CHUNK", 40)  # one row per chunk
    np.testing.assert_allclose(crps_normal_mixture(y, locs, 0.4 * np.ones(6)), full)


def test_crps_single_component_mixture_is_normal():
    y = np.array([0.1, -3.0])
    got = crps(y, NormalMixture(np.array([[1.0], [2.0]]), np.array([0.5])))
    np.testing.assert_allclose(got, crps_normal(y, [1.0, 2.0], 0.5))


def test_crps_dispatch_and_mean():
    y = np.array([0.0, 1.0, -2.0])
    loc, scale = np.array([0.5, 0.5, 0.0]), np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(crps(y, loc, scale), crps_normal(y, loc, scale))
    np.testing.assert_allclose(
        crps(y, StudentT(4.0, loc, scale)), crps_student_t(y, 4.0, loc, scale)
    )
    w = np.array([1.0, 0.0, 3.0])
    expected = np.average(crps_normal(y, loc, scale), weights=w)
    assert mean_crps(y, Normal(loc, scale), sample_weight=w) == pytest.approx(expected)


def test_crps_rejects_unknown_distribution_and_small_df():
    class Odd(Normal):
        pass

    with pytest.raises(ValueError, match="df > 1"):
        crps_student_t([0.0], 0.9, 0.0, 1.0)
    # A subclass of Normal is still a Normal: dispatch works.
    assert crps([0.0], Odd([0.0], [1.0])).shape == (1,)


# ---------------------------------------------------------------- NLPD
def test_nlpd_gaussian_matches_scipy():
    rng = np.random.default_rng(0)
    y, mean = rng.normal(size=20), rng.normal(size=20)
    std = rng.uniform(0.1, 2.0, size=20)
    expected = -stats.norm.logpdf(y, mean, std).mean()
    assert mean_nlpd(y, mean, std) == pytest.approx(expected, rel=1e-12)
    assert mean_nlpd(y, Normal(mean, std)) == pytest.approx(expected, rel=1e-12)


def test_nlpd_student_t_and_mixture_match_scipy():
    rng = np.random.default_rng(1)
    y = rng.normal(size=10)
    loc, scale = rng.normal(size=10), rng.uniform(0.5, 2, size=10)
    expected = -stats.t.logpdf(y, 3.5, loc, scale).mean()
    assert mean_nlpd(y, StudentT(3.5, loc, scale)) == pytest.approx(expected)

    locs, scales = rng.normal(size=(10, 4)), rng.uniform(0.5, 1, size=4)
    dens = stats.norm.pdf(y[:, None], locs, scales).mean(axis=1)
    assert mean_nlpd(y, NormalMixture(locs, scales)) == pytest.approx(
        -np.log(dens).mean()
    )


def test_nlpd_sample_weight():
    y, mean, std = np.array([0.0, 3.0]), np.zeros(2), np.ones(2)
    logp = stats.norm.logpdf(y)
    assert mean_nlpd(y, mean, std, sample_weight=[3, 1]) == pytest.approx(
        -(3 * logp[0] + logp[1]) / 4
    )


# ---------------------------------------------------------------- intervals
def test_interval_coverage_and_width_by_hand():
    y = np.array([0.0, 1.5, 3.0, -0.5])
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0], [2.0, 4.0], [0.0, 1.0]])
    # inside: yes, no, yes, no
    assert interval_coverage(y, bounds) == 0.5
    assert interval_coverage(y, bounds, sample_weight=[1, 0, 1, 0]) == 1.0
    assert mean_interval_width(bounds) == pytest.approx((2 + 2 + 2 + 1) / 4)


def test_interval_score_by_hand():
    y = np.array([0.0, 1.5, 3.0, -0.5])
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0], [2.0, 4.0], [0.0, 1.0]])
    alpha = 0.2
    # widths 2, 2, 2, 1; misses: 0.5 above, 0.5 below, each costing 2/alpha.
    expected = (2 + (2 + 10 * 0.5) + 2 + (1 + 10 * 0.5)) / 4
    assert interval_score(y, bounds, coverage=1 - alpha) == pytest.approx(expected)


def test_interval_metrics_from_gaussian_quantiles():
    z = stats.norm.ppf(0.95)  # the 90% central interval is mean +- z std
    y = np.array([0.0, 1.0, 2.0])
    mean, std = np.zeros(3), np.array([1.0, 0.5, 1.0])
    # 1.0 > 0.5 z = 0.822 misses; 2.0 > 1.645 misses
    assert interval_coverage(y, mean, std, coverage=0.9) == pytest.approx(1 / 3)
    assert mean_interval_width(mean, std, coverage=0.9) == pytest.approx(
        2 * z * std.mean()
    )
    expected = np.mean(2 * z * std + 20 * np.array([0.0, 1.0 - 0.5 * z, 2.0 - z]))
    assert interval_score(y, Normal(mean, std), coverage=0.9) == pytest.approx(expected)


def test_interval_score_is_minimised_by_the_true_quantiles():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20_000)
    scores = {
        s: interval_score(y, np.zeros_like(y), np.full_like(y, s), coverage=0.8)
        for s in (0.6, 1.0, 1.6)
    }
    assert scores[1.0] < scores[0.6] and scores[1.0] < scores[1.6]


# ---------------------------------------------------------------- calibration
def test_pit_is_the_cdf():
    y = np.array([0.0, 1.0, -2.0])
    np.testing.assert_allclose(
        pit(y, [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]),
        stats.norm.cdf([0.0, 0.5, -2.0]),
    )


def test_calibration_curve_by_hand():
    # PIT values 0.5, Phi(0.5) = 0.69, Phi(3) = 0.9987, Phi(-1) = 0.16
    y = np.array([0.0, 0.5, 3.0, -1.0])
    levels = [0.3, 0.5, 0.9]
    nominal, observed = calibration_curve(y, np.zeros(4), np.ones(4), levels=levels)
    # central c-interval holds |PIT - 0.5| <= c/2: distances 0, .19, .499, .34
    np.testing.assert_array_equal(nominal, levels)
    np.testing.assert_allclose(observed, [1 / 4, 2 / 4, 3 / 4])
    _, observed_q = calibration_curve(
        y, np.zeros(4), np.ones(4), levels=levels, kind="quantile"
    )
    np.testing.assert_allclose(observed_q, [1 / 4, 2 / 4, 3 / 4])
    gaps = np.abs(observed - levels)
    assert calibration_error(
        y, np.zeros(4), np.ones(4), levels=levels
    ) == pytest.approx(gaps.mean())
    assert calibration_error(
        y, np.zeros(4), np.ones(4), levels=levels, norm="max"
    ) == pytest.approx(gaps.max())
    assert calibration_error(
        y, np.zeros(4), np.ones(4), levels=levels, norm="l2"
    ) == pytest.approx(np.sqrt(np.mean(gaps**2)))


@pytest.mark.parametrize("seed", range(5))
def test_calibrated_predictive_has_small_calibration_error(seed):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=3000)
    std = rng.uniform(0.5, 2.0, size=3000)
    y = mean + std * rng.normal(size=3000)
    assert calibration_error(y, mean, std) < 0.03
    assert calibration_error(y, mean, 0.5 * std) > 0.15  # over-confident
    assert calibration_error(y, mean, 2.0 * std) > 0.15  # under-confident


def test_calibration_error_takes_sample_weight():
    # Defect (issue 13): calibration_error had no sample_weight. The observed
    # coverage at each level is the weighted fraction: zero weights drop
    # points, integer weights repeat them.
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=40), rng.uniform(0.5, 2.0, size=40)
    y = mean + std * rng.normal(size=40)
    w = rng.integers(0, 3, size=40).astype(float)
    keep = w > 0
    for kind in ("interval", "quantile"):
        _, observed = calibration_curve(y, mean, std, kind=kind, sample_weight=w)
        _, repeated = calibration_curve(
            np.repeat(y, w.astype(int)),
            np.repeat(mean, w.astype(int)),
            np.repeat(std, w.astype(int)),
            kind=kind,
        )
        np.testing.assert_allclose(observed, repeated)
        for norm in ("l1", "l2", "max"):
            weighted = calibration_error(
                y, mean, std, kind=kind, norm=norm, sample_weight=w.astype(bool)
            )
            subset = calibration_error(
                y[keep], mean[keep], std[keep], kind=kind, norm=norm
            )
            assert weighted == pytest.approx(subset)
    with pytest.raises(ValueError, match="sample_weight"):
        calibration_error(y, mean, std, sample_weight=-w)


def test_calibration_scorer_weights_the_points():
    # Defect (issue 13): the calibration scorer silently dropped
    # sample_weight, so setting half the weights to zero changed nothing.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 1))
    y = X[:, 0] + rng.normal(size=200) * np.where(X[:, 0] > 0, 3.0, 0.3)
    est = LinearNormal(noise_std=1.0).fit(X, y)
    w = (X[:, 0] > 0).astype(float)
    weighted = neg_calibration_error_scorer(est, X, y, sample_weight=w)
    assert weighted != pytest.approx(neg_calibration_error_scorer(est, X, y))
    keep = w > 0
    assert weighted == pytest.approx(
        neg_calibration_error_scorer(est, X[keep], y[keep])
    )


def test_sharpness_by_hand():
    assert sharpness([0, 0, 0], [1.0, 1.0, 7.0]) == pytest.approx(np.sqrt(17))
    assert sharpness(Normal([0, 0], [3.0, 4.0])) == pytest.approx(np.sqrt(12.5))


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mean_nlpd([0.0, 1.0], [0.0, 0.0], [1.0, -1.0]), "non-negative"),
        (lambda: mean_nlpd([0.0, 1.0], [0.0, 0.0], [1.0, 0.0]), "strictly positive"),
        (lambda: mean_crps([0.0, 1.0], [0.0], [1.0]), "describes 1 points"),
        (lambda: mean_crps([0.0, 1.0], [0.0, 0.0], [1.0]), "y_std must have shape"),
        (lambda: mean_crps([0.0, np.nan], [0.0, 0.0], [1.0, 1.0]), "NaN"),
        (lambda: mean_crps([0.0, 1.0], [0.0, 0.0]), "pass its standard deviations"),
        (
            lambda: mean_crps([0.0], Normal([0.0], [1.0]), [1.0]),
            "y_std must be None",
        ),
        (lambda: interval_coverage([0.0], [0.0], [1.0], coverage=1.0), "coverage"),
        (lambda: interval_score([0.0], [0.0], [1.0], coverage=0.0), "coverage"),
        (lambda: interval_coverage([0.0], [[1.0, 0.0]]), "lower bounds"),
        (lambda: calibration_curve([0.0], [0.0], [1.0], kind="x"), "kind"),
        (lambda: calibration_curve([0.0], [0.0], [1.0], levels=[1.5]), "levels"),
        (lambda: calibration_error([0.0], [0.0], [1.0], norm="l3"), "norm"),
        (lambda: crps_normal([0.0], 0.0, -1.0), "non-negative"),
        (lambda: crps_normal_mixture([0.0], [[0.0, 1.0]], [1.0, 0.0]), "positive"),
        (lambda: mean_crps([], [], []), "empty"),
        (lambda: sharpness([0.0], [1.0], sample_weight=[-1.0]), "sample_weight"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_crps_of_an_unsupported_distribution_is_a_type_error():
    class PointMass(PredictiveDistribution):
        n = 1
        mean = std = np.zeros(1)
        epistemic_std = aleatoric_std = np.zeros(1)

        def logpdf(self, y):
            return np.zeros(1)

        def cdf(self, y):
            return np.ones(1)

        def ppf(self, q):
            return np.zeros(1)

        def sample(self, n_samples=1, random_state=None):
            return np.zeros((1, n_samples))

    with pytest.raises(TypeError, match="no closed-form CRPS"):
        crps([0.0], PointMass())


# ---------------------------------------------------------------- predict_dist
def test_predict_dist_is_exported_lazily():
    assert bayesreg.predict_dist is predict_dist


def test_predict_dist_resolves_pipeline(linear_data):
    X, y = linear_data
    pipe = make_pipeline(StandardScaler(), LinearNormal(noise_std=0.3)).fit(X, y)
    dist = predict_dist(pipe, X[:5])
    inner = pipe[-1].predict_dist(pipe[0].transform(X[:5]))
    np.testing.assert_allclose(dist.mean, inner.mean)
    np.testing.assert_allclose(dist.mean, pipe.predict(X[:5]))
    np.testing.assert_allclose(dist.std, 0.3)


def test_predict_dist_wraps_return_std_regressors(linear_data):
    X, y = linear_data
    br = BayesianRidge().fit(X, y)
    dist = predict_dist(br, X[:7])
    mean, std = br.predict(X[:7], return_std=True)
    assert isinstance(dist, Normal)
    np.testing.assert_allclose(dist.mean, mean)
    np.testing.assert_allclose(dist.std, std)
    # BayesianRidge's noise variance is 1 / alpha_: the rest is epistemic.
    np.testing.assert_allclose(dist.aleatoric_std, 1 / np.sqrt(br.alpha_), rtol=1e-6)
    assert np.all(dist.epistemic_std > 0)

    ard = ARDRegression().fit(X, y)
    np.testing.assert_allclose(
        predict_dist(ard, X[:3]).std, ard.predict(X[:3], return_std=True)[1]
    )
    gpr = GaussianProcessRegressor(RBF() + WhiteKernel()).fit(X, y)
    np.testing.assert_allclose(
        predict_dist(gpr, X[:3]).std, gpr.predict(X[:3], return_std=True)[1]
    )


def test_predict_dist_resolves_search_objects(linear_data):
    X, y = linear_data
    search = GridSearchCV(LinearNormal(), {"noise_std": [0.1, 0.3, 3.0]}, cv=3)
    with pytest.raises(NotFittedError):
        predict_dist(search, X)
    search.set_params(scoring=neg_nlpd_scorer).fit(X, y)
    assert search.best_params_ == {"noise_std": 0.3}
    np.testing.assert_allclose(predict_dist(search, X[:3]).std, 0.3)

    no_refit = GridSearchCV(LinearNormal(), {"noise_std": [0.3]}, cv=3, refit=False)
    with pytest.raises(ValueError, match="refit"):
        predict_dist(no_refit.fit(X, y), X)


def test_predict_dist_transformed_target(linear_data):
    X, y = linear_data
    ttr = TransformedTargetRegressor(
        regressor=LinearNormal(noise_std=0.5), transformer=StandardScaler()
    ).fit(X, y)
    dist = predict_dist(ttr, X[:4])
    np.testing.assert_allclose(dist.mean, ttr.predict(X[:4]))
    np.testing.assert_allclose(dist.std, 0.5 * y.std())
    # The density carries the Jacobian of the affine map.
    inner = ttr.regressor_.predict_dist(X[:4])
    z = ttr.transformer_.transform(y[:4, None])[:, 0]
    np.testing.assert_allclose(
        log_predictive_density(ttr, X[:4], y[:4]),
        inner.logpdf(z) - np.log(y.std()),
    )

    log_ttr = TransformedTargetRegressor(
        regressor=LinearNormal(),
        transformer=FunctionTransformer(np.exp, np.log, check_inverse=False),
    ).fit(X, y)
    with pytest.raises(ValueError, match="affine"):
        predict_dist(log_ttr, X)


def test_predict_dist_rejects_point_regressors(linear_data):
    X, y = linear_data
    with pytest.raises(TypeError, match="return_std"):
        predict_dist(LinearRegression().fit(X, y), X)


def test_log_predictive_density_prefers_the_estimators_own(linear_data):
    X, y = linear_data
    pipe = make_pipeline(StandardScaler(), CountingLPD(noise_std=0.3)).fit(X, y)
    logp = log_predictive_density(pipe, X, y)
    assert pipe[-1].lpd_calls_ == 1
    np.testing.assert_allclose(
        logp, stats.norm.logpdf(y, pipe.predict(X), 0.3), rtol=1e-12
    )
    assert neg_nlpd_scorer(pipe, X, y) == pytest.approx(
        -mean_nlpd(y, pipe.predict(X), np.full(len(y), 0.3))
    )
    assert pipe[-1].lpd_calls_ == 2


# ---------------------------------------------------------------- scorers
def test_scorers_are_greater_is_better(linear_data):
    X, y = linear_data
    good = LinearNormal(noise_std=0.3).fit(X, y)
    bad = LinearNormal(noise_std=5.0).fit(X, y)
    for name in ("neg_nlpd", "neg_crps", "neg_interval_score", "neg_coverage_error"):
        scorer = get_scorer(name)
        assert scorer(good, X, y) > scorer(bad, X, y), name
        assert scorer(good, X, y) <= 0


def test_scorer_values_equal_the_metric_functions(linear_data):
    X, y = linear_data
    est = LinearNormal(noise_std=0.4).fit(X, y)
    dist = est.predict_dist(X)
    assert neg_crps_scorer(est, X, y) == pytest.approx(-mean_crps(y, dist))
    assert neg_interval_score_scorer(est, X, y) == pytest.approx(
        -interval_score(y, dist, coverage=0.95)
    )
    assert neg_coverage_error_scorer(est, X, y) == pytest.approx(
        -abs(interval_coverage(y, dist, coverage=0.95) - 0.95)
    )
    assert get_scorer("interval_coverage", coverage=0.5)(est, X, y) == pytest.approx(
        interval_coverage(y, dist, coverage=0.5)
    )
    assert get_scorer("neg_sharpness")(est, X, y) == pytest.approx(-0.4)
    assert get_scorer("neg_mean_interval_width", coverage=0.9)(
        est, X, y
    ) == pytest.approx(-2 * stats.norm.ppf(0.95) * 0.4)
    assert get_scorer("neg_calibration_error", kind="quantile")(
        est, X, y
    ) == pytest.approx(-calibration_error(y, dist, kind="quantile"))
    w = np.linspace(0, 1, len(y))
    assert neg_crps_scorer(est, X, y, sample_weight=w) == pytest.approx(
        -mean_crps(y, dist, sample_weight=w)
    )


def test_scorer_construction_errors_and_repr():
    assert "neg_nlpd" in get_scorer_names()
    with pytest.raises(ValueError, match="unknown metric"):
        PredictiveScorer("neg_mse")
    with pytest.raises(TypeError, match="no option"):
        PredictiveScorer("neg_crps", coverage=0.9)
    with pytest.raises(ValueError, match="coverage"):
        PredictiveScorer("neg_interval_score", coverage=95)
    with pytest.raises(ValueError, match="norm"):
        PredictiveScorer("neg_calibration_error", norm="l0")
    assert repr(get_scorer("neg_interval_score", coverage=0.9)) == (
        "PredictiveScorer('neg_interval_score', coverage=0.9)"
    )


def test_scorers_pickle(linear_data):
    X, y = linear_data
    est = LinearNormal(noise_std=0.4).fit(X, y)
    scorer = get_scorer("neg_interval_score", coverage=0.8)
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone(est, X, y) == scorer(est, X, y)


def test_cross_validate_with_a_dict_of_scorers_on_sklearn_regressors(linear_data):
    X, y = linear_data
    scoring = {
        "nlpd": neg_nlpd_scorer,
        "crps": neg_crps_scorer,
        "interval": neg_interval_score_scorer,
        "coverage90": get_scorer("interval_coverage", coverage=0.9),
        "r2": "r2",
    }
    for est in (BayesianRidge(), GaussianProcessRegressor(RBF() + WhiteKernel())):
        res = cross_validate(est, X, y, cv=3, scoring=scoring)
        for key in ("nlpd", "crps", "interval"):
            assert np.all(np.isfinite(res[f"test_{key}"]))
            assert np.all(res[f"test_{key}"] < 0)
        assert np.all((res["test_coverage90"] > 0.6) & (res["test_coverage90"] <= 1))
        # The dict's scores equal each scorer applied by hand to a refit.
        tr, te = next(iter(KFold(3).split(X)))
        fitted = clone(est).fit(X[tr], y[tr])
        assert res["test_crps"][0] == pytest.approx(
            neg_crps_scorer(fitted, X[te], y[te]), rel=1e-6
        )


def test_scorers_in_multimetric_search_and_permutation_importance(linear_data):
    X, y = linear_data
    pipe = Pipeline([("scale", StandardScaler()), ("reg", LinearNormal())])
    search = RandomizedSearchCV(
        pipe,
        {"reg__noise_std": [0.05, 0.3, 2.0, 10.0]},
        n_iter=4,
        cv=3,
        scoring={"nlpd": neg_nlpd_scorer, "crps": neg_crps_scorer},
        refit="nlpd",
        random_state=0,
    ).fit(X, y)
    assert search.best_params_ == {"reg__noise_std": 0.3}
    # Noise std 0.3 is also the CRPS winner.
    assert (
        search.cv_results_["rank_test_crps"][
            search.cv_results_["params"].index({"reg__noise_std": 0.3})
        ]
        == 1
    )

    est = LinearNormal(noise_std=0.3).fit(X, y)
    imp = permutation_importance(
        est, X, y, scoring=neg_crps_scorer, n_repeats=3, random_state=0
    )
    # y depends twice as strongly on the second feature.
    assert imp.importances_mean[1] > imp.importances_mean[0] > 0


def test_gridsearch_picks_a_sensible_degree_with_bayesian_ridge():
    X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
    pipe = Pipeline([("basis", BasisExpansion()), ("reg", BayesianRidge())])
    search = GridSearchCV(
        pipe,
        {"basis__degree": [1, 2, 3, 6, 9, 12]},
        scoring=neg_nlpd_scorer,
        cv=KFold(5, shuffle=True, random_state=0),
    ).fit(X, y)
    assert 6 <= search.best_params_["basis__degree"] <= 12
    assert np.isfinite(search.best_score_)


@pytest.mark.parametrize("reg_params", [{}, {"fit_hyperparameters": True}])
def test_gridsearch_over_basis_and_conjugate_regression(reg_params):

    X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
    pipe = Pipeline(
        [("basis", BasisExpansion()), ("reg", ConjugateLinearRegression(**reg_params))]
    )
    degrees = [1, 2, 3, 6, 9, 12]
    search = GridSearchCV(
        pipe,
        {"basis__degree": degrees},
        scoring=neg_nlpd_scorer,
        cv=KFold(5, shuffle=True, random_state=0),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    # The seed curve x sin(10 x) needs a polynomial of degree 6 or more.
    assert 6 <= search.best_params_["basis__degree"] <= 12
    if reg_params:
        # With the noise learned (0.1, not the default 1.0) the densities are
        # sharp and a straight line loses by more than a nat per point.
        assert scores[degrees.index(1)] < search.best_score_ - 1.0
    # predict_dist reaches the conjugate model's exact predictive.
    dist = predict_dist(search, X[:5])
    best = search.best_estimator_
    inner = best[-1].predict_dist(best[0].transform(X[:5]))
    assert type(dist) is type(inner)
    np.testing.assert_allclose(dist.mean, inner.mean)
    np.testing.assert_allclose(dist.std, inner.std)


@pytest.mark.slow
def test_scorers_work_with_parallel_workers(linear_data):
    # n_jobs > 1 pickles the scorers into worker processes (slow to start).
    X, y = linear_data
    scoring = {"nlpd": neg_nlpd_scorer, "cover": get_scorer("interval_coverage")}
    serial = cross_validate(BayesianRidge(), X, y, cv=3, scoring=scoring)
    parallel = cross_validate(BayesianRidge(), X, y, cv=3, scoring=scoring, n_jobs=2)
    for key in ("test_nlpd", "test_cover"):
        np.testing.assert_allclose(parallel[key], serial[key])


def test_predict_dist_and_scorers_through_evidence_search():

    X, y = make_seed_problem(60, noise_std=0.1, random_state=0)
    pipe = Pipeline(
        [
            ("basis", BasisExpansion()),
            ("reg", ConjugateLinearRegression(fit_hyperparameters=True)),
        ]
    )
    search = EvidenceSearch(pipe, {"basis__degree": [2, 8]}).fit(X, y)
    dist = predict_dist(search, X[:5])
    # EvidenceSearch predicts with its best pipeline, and so does predict_dist.
    np.testing.assert_allclose(dist.std, search.predict_dist(X[:5]).std)
    np.testing.assert_allclose(dist.mean, search.predict(X[:5]))
    assert neg_nlpd_scorer(search, X, y) == pytest.approx(
        -mean_nlpd(y, search.predict_dist(X))
    )


# ------------------------------------------- issue 21, defects 8 and 9
def _t_crps_direct(z, df):
    """The textbook closed form of the standard t CRPS (z^2 overflows for
    |z| > 1.3e154; fine below)."""
    const = (
        2
        * np.sqrt(df)
        / (df - 1)
        * np.exp(special.betaln(0.5, df - 0.5) - 2 * special.betaln(0.5, df / 2))
    )
    return (
        z * (2 * stats.t.cdf(z, df) - 1)
        + 2 * stats.t.pdf(z, df) * (df + z**2) / (df - 1)
        - const
    )


def _t_crps_constant(df):
    return _t_crps_direct(0.0, df) - 2 * stats.t.pdf(0.0, df) * df / (df - 1)


@pytest.mark.parametrize("df", [1.2, 2.5, 7.0, 300.0])
@pytest.mark.parametrize(
    "z", [0.0, 0.3, -0.999, 1.0, -1.0000001, 2.5, -40.0, 1e6, 1e60]
)
def test_student_t_crps_in_log_space_equals_the_direct_form(z, df):
    # Both branches of the stable density term (|z| <= 1 and > 1) against
    # the direct formula where z^2 is finite.
    got = crps_student_t(0.7 + 1.9 * z, df, 0.7, 1.9)
    np.testing.assert_allclose(got, 1.9 * _t_crps_direct(z, df), rtol=1e-12)


@pytest.mark.parametrize("df", [1.5, 4.0])
@pytest.mark.parametrize("y", [-3.0, 0.2, 6.0])
def test_student_t_crps_matches_quadrature_of_its_definition(y, df):
    ref = crps_by_quadrature(stats.t(df, 0.5, 1.3).cdf, y)
    np.testing.assert_allclose(crps_student_t(y, df, 0.5, 1.3), ref, rtol=1e-8)


@pytest.mark.parametrize("df", [1.5, 3.0, 60.0])
@pytest.mark.parametrize("z", [1.4e154, -1e155, 3e200, -1e300])
def test_student_t_crps_stays_finite_where_z_squared_overflows(z, df):
    # Defect 8: NaN from inf * 0 once z^2 overflows. Beyond |z| ~ 1e20 the
    # tail terms (order |z|^(1 - df)) are below the rounding of |z|, so
    # CRPS = scale (|z| - C) with C the constant of the closed form.
    scale = 1e-150
    got = crps_student_t(z * scale, df, 0.0, scale)
    expected = scale * (abs(z) - _t_crps_constant(df))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    # Equivariance: the same value at another scale, CRPS(a y; a m, a s) =
    # a CRPS(y; m, s).
    a = 1e-5
    np.testing.assert_allclose(
        crps_student_t(a * z * scale, df, 0.0, a * scale), a * got, rtol=1e-14
    )
    # The Normal limit at large df.
    np.testing.assert_allclose(
        crps_student_t(z * scale, 1e9, 0.0, scale),
        crps_normal(z * scale, 0.0, scale),
        rtol=1e-14,
    )


def test_student_t_crps_beyond_the_largest_float_is_infinite():
    assert crps_student_t(1e308, 3.0, -1e308, 1.0) == np.inf


def test_crps_scorer_of_a_student_t_fit_at_1e155(linear_data):
    X, y = linear_data
    est = ConjugateLinearRegression().fit(X, y)
    dist = est.predict_dist(X[:2])
    assert isinstance(dist, StudentT)
    y_far = np.array([1e155, 0.0])
    score = neg_crps_scorer(est, X[:2], y_far)
    expected = -np.mean(
        [
            dist.scale[0] * (1e155 / dist.scale[0] - _t_crps_constant(dist.df[0])),
            crps_by_quadrature(
                stats.t(dist.df[1], dist.loc[1], dist.scale[1]).cdf, 0.0
            ),
        ]
    )
    np.testing.assert_allclose(score, expected, rtol=1e-7)


def _non_real(y, kind):
    if kind == "complex":
        return y + 5j
    if kind == "strings":
        return y.astype(str)
    if kind == "numbers and strings":
        return np.array([*y[:-1], "a"], dtype=object)
    return np.array([*y[:-1], 1 + 2j], dtype=object)  # complex among objects


NON_REAL = ["complex", "strings", "numbers and strings", "complex among objects"]
# What each message says after naming y: the problem itself.
WHY = {
    "complex": "real numbers; got complex",
    "strings": "numeric; got strings",
    "numbers and strings": "numeric; got strings",
    "complex among objects": "real numbers; got complex",
}


@pytest.mark.parametrize("kind", NON_REAL)
@pytest.mark.parametrize(
    "scorer",
    [
        neg_crps_scorer,
        neg_interval_score_scorer,
        neg_coverage_error_scorer,
        neg_calibration_error_scorer,
        get_scorer("interval_coverage"),
        neg_nlpd_scorer,
    ],
    ids=repr,
)
def test_scorers_refuse_a_y_that_is_not_real_numbers(scorer, kind, linear_data):
    # Defect 9: the imaginary part was dropped silently (and numeric strings
    # parsed).
    X, y = linear_data
    est = LinearNormal(noise_std=0.3).fit(X, y)
    with pytest.raises(ValueError, match=rf"\by(_true)? must be {WHY[kind]}"):
        scorer(est, X, _non_real(y, kind))


@pytest.mark.parametrize("kind", NON_REAL)
@pytest.mark.parametrize(
    "metric",
    [mean_crps, mean_nlpd, interval_coverage, interval_score, pit, calibration_error],
)
def test_metrics_refuse_a_y_true_that_is_not_real_numbers(metric, kind):
    y = np.array([0.1, -0.4, 1.0])
    with pytest.raises(ValueError, match=f"y_true must be {WHY[kind]}"):
        metric(_non_real(y, kind), np.zeros(3), np.ones(3))


def test_objects_that_are_not_numbers_are_refused_by_name():
    with pytest.raises(ValueError, match="y_true must be numeric; got objects"):
        mean_crps(np.array([0.0, {}, 1.0], dtype=object), np.zeros(3), np.ones(3))


def test_real_numbers_in_objects_and_booleans_are_still_taken():
    y = np.array([0.5, -1.0, 2.0])
    ref = mean_crps(y, np.zeros(3), np.ones(3))
    assert mean_crps(y.astype(object), np.zeros(3), np.ones(3)) == ref
    assert mean_crps(np.array([True, False, True]), np.zeros(3), np.ones(3)) == (
        mean_crps([1.0, 0.0, 1.0], np.zeros(3), np.ones(3))
    )
