"""Push-forward predictives: TransformedDistribution, and predict_dist and the
scorers through a TransformedTargetRegressor with a non-linear target map."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy import stats
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    MinMaxScaler,
    PowerTransformer,
    QuantileTransformer,
    StandardScaler,
)

from bayesreg import ConjugateLinearRegression, RidgeMAP, predict_dist
from bayesreg._resolve import resolve_affine
from bayesreg.distributions import (
    Normal,
    NormalMixture,
    StudentT,
    TransformedDistribution,
)
from bayesreg.metrics import (
    calibration_error,
    crps,
    get_scorer,
    get_scorer_names,
    log_predictive_density,
    neg_nlpd_scorer,
)


# ---------------------------------------------------------------- references
def crps_lognormal(y, mu, sigma):
    """Closed-form CRPS of LogNormal(mu, sigma) (Baran and Lerch, 2015)."""
    w = (np.log(y) - mu) / sigma
    return y * (2 * stats.norm.cdf(w) - 1) - 2 * np.exp(mu + sigma**2 / 2) * (
        stats.norm.cdf(w - sigma) + stats.norm.cdf(sigma / np.sqrt(2)) - 1
    )


def crps_by_sampling(draws, y):
    """CRPS = E|X - y| - E|X - X'| / 2 from draws (rows: points)."""
    half = draws.shape[1] // 2
    a, b = draws[:, :half], draws[:, half : 2 * half]
    return np.abs(draws - y[:, None]).mean(axis=1) - 0.5 * np.abs(a - b).mean(axis=1)


def exp_(z):
    """np.exp that the push-forward does not recognise: numerical paths."""
    return np.exp(z)


def log_(y):
    return np.log(y)


def neg_cubic(z):
    """A strictly decreasing map of the real line."""
    return -(z**3) - z


def neg_cubic_inverse(y):
    # z^3 + z + y = 0 by Cardano (one real root).
    y = np.asarray(y, dtype=float)
    s = np.sqrt(y**2 / 4 + 1 / 27)
    return np.cbrt(-y / 2 + s) + np.cbrt(-y / 2 - s)


LEVELS = np.array([1e-4, 0.025, 0.3, 0.5, 0.9, 1 - 1e-6])


# ---------------------------------------------------------------- log-normal
@pytest.mark.parametrize("forward", [np.exp, exp_], ids=["closed-form", "numerical"])
def test_exp_of_normal_is_lognormal(forward):
    mu, sigma = np.array([0.0, 1.0, -2.0]), np.array([0.3, 1.0, 2.0])
    inverse = np.log if forward is np.exp else log_
    dist = TransformedDistribution(Normal(mu, sigma), forward, inverse)
    ref = stats.lognorm(s=sigma, scale=np.exp(mu))
    y = np.array([1.3, 0.2, 25.0])
    assert dist.increasing
    np.testing.assert_allclose(dist.mean, ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(dist.std, ref.std(), rtol=1e-10)
    np.testing.assert_allclose(dist.logpdf(y), ref.logpdf(y), rtol=1e-9)
    np.testing.assert_allclose(dist.pdf(y), ref.pdf(y), rtol=1e-9)
    np.testing.assert_allclose(dist.cdf(y), ref.cdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.median(), np.exp(mu), rtol=1e-14)
    for q in LEVELS:
        np.testing.assert_allclose(dist.ppf(q), ref.ppf(q), rtol=1e-12)
    np.testing.assert_allclose(
        dist.interval(0.8), np.column_stack(ref.interval(0.8)), rtol=1e-12
    )
    # Two-dimensional arguments: row i under distribution i.
    grid = np.outer([1.0, 2.0, 3.0], [0.5, 1.0])
    np.testing.assert_allclose(dist.logpdf(grid), ref.logpdf(grid.T).T, rtol=1e-9)
    q2 = np.tile([0.1, 0.7], (3, 1))
    np.testing.assert_allclose(dist.ppf(q2), ref.ppf(q2.T).T, rtol=1e-12)


def test_outside_the_range_has_no_density():
    dist = TransformedDistribution(Normal([0.0, 1.0], [1.0, 0.5]), np.exp, np.log)
    y = np.array([-1.0, 0.0])
    np.testing.assert_array_equal(dist.logpdf(y), -np.inf)
    np.testing.assert_array_equal(dist.cdf(y), 0.0)
    # A quantile map that clips: beyond the training range is out of range too.
    rng = np.random.default_rng(0)
    qt = QuantileTransformer(output_distribution="normal", n_quantiles=100)
    qt.fit(rng.lognormal(size=(300, 1)))
    dist = predict_dist(
        TransformedTargetRegressor(RidgeMAP(), transformer=qt).fit(
            rng.normal(size=(300, 1)), rng.lognormal(size=300)
        ),
        np.zeros((1, 1)),
    )
    top = dist.ppf(1 - 1e-9)[0]
    assert dist.logpdf([10 * top])[0] == -np.inf
    assert dist.cdf([10 * top])[0] == 1.0
    assert dist.cdf([-1.0])[0] == 0.0


def test_exp_of_student_t_has_infinite_moments():
    base = StudentT(30.0, [0.0, 1.0], [0.5, 0.2], epistemic_std=[0.3, 0.1])
    dist = TransformedDistribution(base, np.exp, np.log)
    np.testing.assert_array_equal(dist.mean, np.inf)
    np.testing.assert_array_equal(dist.std, np.inf)
    np.testing.assert_array_equal(crps([1.0, 2.0], dist), np.inf)
    # Quantiles and densities stay exact.
    np.testing.assert_allclose(dist.ppf(0.9), np.exp(base.ppf(0.9)), rtol=1e-14)
    np.testing.assert_allclose(
        dist.logpdf([1.5, 2.5]), base.logpdf(np.log([1.5, 2.5])) - np.log([1.5, 2.5])
    )


# ---------------------------------------------------------------- decreasing
def test_decreasing_map_flips_quantile_levels():
    base = Normal([0.3, -1.0], [0.5, 1.5])
    dist = TransformedDistribution(base, neg_cubic, neg_cubic_inverse)
    assert not dist.increasing
    for q in LEVELS:
        np.testing.assert_allclose(dist.ppf(q), neg_cubic(base.ppf(1 - q)), rtol=1e-9)
    lo, hi = base.interval(0.9).T
    np.testing.assert_allclose(
        dist.interval(0.9), np.column_stack([neg_cubic(hi), neg_cubic(lo)])
    )
    y = np.array([-0.5, 3.0])
    np.testing.assert_allclose(dist.cdf(y), 1 - base.cdf(neg_cubic_inverse(y)))
    np.testing.assert_allclose(dist.cdf(dist.ppf(0.2)), 0.2, rtol=1e-9)
    # Density: numerical Jacobian of the inverse, against |dz/dy| = 1/(3z^2+1).
    z = neg_cubic_inverse(y)
    np.testing.assert_allclose(
        dist.logpdf(y), base.logpdf(z) - np.log(3 * z**2 + 1), rtol=1e-8
    )


def test_reciprocal_on_a_positive_base_maps_intervals():
    base = Normal([5.0, 2.0], [0.5, 0.1])
    dist = TransformedDistribution(base, np.reciprocal, np.reciprocal)
    assert not dist.increasing
    np.testing.assert_allclose(dist.interval(0.95), 1 / base.interval(0.95)[:, ::-1])
    np.testing.assert_allclose(dist.median(), [0.2, 0.5])


# ---------------------------------------------------------------- moments
def test_numerical_moments_match_closed_forms():
    # -Z^3 - Z of a Normal: moments from the Normal's raw moments.
    base = Normal([0.3, -1.0], [0.5, 1.5])
    dist = TransformedDistribution(base, neg_cubic, neg_cubic_inverse)
    for i in range(2):
        m = [stats.norm.moment(k, base.loc[i], base.scale[i]) for k in range(7)]
        mean = -(m[3] + m[1])
        var = m[6] + 2 * m[4] + m[2] - mean**2
        assert dist.mean[i] == pytest.approx(mean, rel=1e-10)
        assert dist.std[i] == pytest.approx(np.sqrt(var), rel=1e-10)
    # Z^3 + Z of a Student-t (df = 10: the sixth moment is finite).
    t = StudentT(10.0, [0.2], [1.3])
    dist = TransformedDistribution(
        t, lambda z: z**3 + z, lambda y: neg_cubic_inverse(-np.asarray(y))
    )
    m = [stats.t(10.0, 0.2, 1.3).moment(k) for k in range(7)]
    mean = m[3] + m[1]
    assert dist.mean[0] == pytest.approx(mean, rel=1e-8)
    assert dist.std[0] == pytest.approx(
        np.sqrt(m[6] + 2 * m[4] + m[2] - mean**2), rel=1e-6
    )
    # exp of a Normal mixture: an average of log-normal moments.
    rng = np.random.default_rng(1)
    locs, scales = rng.normal(size=(3, 20)), rng.uniform(0.2, 0.8, size=20)
    dist = TransformedDistribution(NormalMixture(locs, scales), np.exp, np.log)
    first = np.exp(locs + scales**2 / 2).mean(axis=1)
    second = np.exp(2 * locs + 2 * scales**2).mean(axis=1)
    np.testing.assert_allclose(dist.mean, first, rtol=1e-10)
    np.testing.assert_allclose(dist.std, np.sqrt(second - first**2), rtol=1e-8)


def test_numerical_moments_match_monte_carlo():
    base = StudentT(3.0, [0.0, 2.0], [1.0, 0.5])
    dist = TransformedDistribution(base, np.arctan, np.tan)
    draws = dist.sample(400_000, random_state=0)
    se = draws.std(axis=1) / np.sqrt(draws.shape[1])
    assert np.all(np.abs(dist.mean - draws.mean(axis=1)) < 4 * se)
    np.testing.assert_allclose(dist.std, draws.std(axis=1), rtol=0.01)
    np.testing.assert_allclose(
        dist.sample(5, random_state=3), np.arctan(base.sample(5, random_state=3))
    )


def test_variance_split_keeps_the_base_proportions():
    base = Normal([0.0, 1.0], [1.0, 0.5], epistemic_std=[0.6, 0.0])
    dist = TransformedDistribution(base, np.exp, np.log)
    # log-normal: var = (exp(s^2) - 1) exp(2 m + s^2)
    m, s = base.loc, base.scale
    lognormal_var = np.expm1(s**2) * np.exp(2 * m + s**2)
    np.testing.assert_allclose(dist.std, np.sqrt(lognormal_var), rtol=1e-10)
    np.testing.assert_allclose(
        dist.epistemic_std / dist.std, base.epistemic_std / base.std
    )
    np.testing.assert_allclose(dist.aleatoric_std[1], dist.std[1])


# ---------------------------------------------------------------- Jacobians
def test_numerical_jacobian_is_accurate():
    base = Normal([0.0, 1.0, -2.0], [1.0, 0.3, 2.0])
    dist = TransformedDistribution(base, np.sinh, np.arcsinh)
    y = np.array([-3.0, 0.7, 1e-4])
    exact = base.logpdf(np.arcsinh(y)) - 0.5 * np.log1p(y**2)
    np.testing.assert_allclose(dist.logpdf(y), exact, rtol=1e-9)
    # An explicit Jacobian is used as given.
    given = TransformedDistribution(
        base, np.sinh, np.arcsinh, inverse_log_jacobian=lambda y: -0.5 * np.log1p(y**2)
    )
    np.testing.assert_allclose(given.logpdf(y), exact, rtol=1e-14)
    # Near the end of the inverse's domain (log near 0) the step stays inside.
    small = TransformedDistribution(Normal([-8.0], [1.0]), exp_, log_)
    yy = np.array([1e-5])
    np.testing.assert_allclose(
        small.logpdf(yy), Normal([-8.0], [1.0]).logpdf(np.log(yy)) - np.log(yy)
    )


# ---------------------------------------------------------------- composition
def test_composed_maps_apply_in_turn():
    base = Normal([0.0, 0.5], [0.4, 0.2])
    inner = TransformedDistribution(base, np.exp, np.log)
    outer = TransformedDistribution(
        inner, lambda y: 3.0 - 2.0 * y, lambda v: (3.0 - v) / 2.0
    )
    assert outer.base is inner and not outer.increasing
    np.testing.assert_allclose(outer.ppf(0.2), 3.0 - 2.0 * inner.ppf(0.8))
    np.testing.assert_allclose(outer.mean, 3.0 - 2.0 * inner.mean, rtol=1e-10)
    np.testing.assert_allclose(outer.std, 2.0 * inner.std, rtol=1e-10)
    v = np.array([1.0, -0.5])
    np.testing.assert_allclose(
        outer.logpdf(v), inner.logpdf((3.0 - v) / 2.0) - np.log(2.0), rtol=1e-9
    )


# ---------------------------------------------------------------- CRPS
def test_crps_of_a_push_forward():
    mu, sigma = np.array([0.2, 1.0, -2.0]), np.array([0.3, 1.0, 2.0])
    y = np.array([1.2, 0.5, 40.0])
    for forward, inverse in ((np.exp, np.log), (exp_, log_)):
        dist = TransformedDistribution(Normal(mu, sigma), forward, inverse)
        np.testing.assert_allclose(
            crps(y, dist), crps_lognormal(y, mu, sigma), rtol=1e-9
        )
    # A decreasing map and a mixture base, against sampling estimates.
    dist = TransformedDistribution(Normal([0.3], [0.5]), neg_cubic, neg_cubic_inverse)
    mix = TransformedDistribution(
        NormalMixture(np.array([[-1.0, 0.5, 1.0]]), np.array([0.3, 0.2, 0.5])),
        np.exp,
        np.log,
    )
    for d, y0 in ((dist, -0.2), (mix, 1.1)):
        draws = d.sample(400_000, random_state=0)
        ref = crps_by_sampling(draws, np.array([y0]))
        assert crps([y0], d)[0] == pytest.approx(ref[0], rel=0.01)


# ---------------------------------------------------------------- refusals
def test_maps_that_are_not_monotone_where_used_are_refused():
    with pytest.raises(ValueError, match="monotone"):
        TransformedDistribution(Normal([0.0], [1.0]), np.square, np.sqrt)
    with pytest.raises(ValueError, match="turns back"):  # only in a tail
        TransformedDistribution(Normal([3.2], [1.0]), np.square, np.sqrt)
    with pytest.raises(ValueError, match="undefined"):
        TransformedDistribution(Normal([0.0], [1.0]), np.log, np.exp)
    with pytest.raises(ValueError, match="inverse does not undo"):
        TransformedDistribution(Normal([0.0], [1.0]), np.exp, np.log1p)
    with pytest.raises(ValueError, match="increases"):
        TransformedDistribution(Normal([-5.0, 5.0], [0.1, 0.1]), np.square, np.abs)
    # sqrt pushes forward only a mostly positive base; y < 0 then has a
    # preimage (y^2) that sqrt does not return: not one-to-one.
    dist = TransformedDistribution(Normal([4.0], [1.0]), np.sqrt, np.square)
    with pytest.raises(ValueError, match="one-to-one"):
        dist.logpdf([-1.5])
    with pytest.raises(TypeError, match="PredictiveDistribution"):
        TransformedDistribution(np.zeros(3), np.exp, np.log)
    with pytest.raises(TypeError, match="callable"):
        TransformedDistribution(Normal([0.0], [1.0]), np.exp, "log")


def test_mass_beyond_the_maps_domain_sits_at_its_end():
    # sqrt of Normal(4, 1): P(Z < 0) = 3e-5 goes to 0, sqrt's limit there.
    base = Normal([4.0], [1.0])
    dist = TransformedDistribution(base, np.sqrt, np.square)
    assert dist.ppf(1e-6)[0] == 0.0
    assert dist.cdf([1e-300])[0] == pytest.approx(base.cdf([0.0])[0], rel=1e-9)
    assert np.all(np.isfinite(dist.sample(10_000, random_state=0)))
    np.testing.assert_allclose(dist.ppf(0.3), np.sqrt(base.ppf(0.3)))


@pytest.mark.skipif(
    importlib.util.find_spec("dask") is None, reason="dask is not installed"
)
def test_lazy_base_is_refused():
    import dask.array as da

    from bayesreg import _dask

    lazy = _dask.distribution(Normal, da.zeros(4, chunks=2), da.ones(4, chunks=2))
    assert lazy.lazy
    with pytest.raises(ValueError, match="NumPy only"):
        TransformedDistribution(lazy, np.exp, np.log)


# ---------------------------------------------------------------- estimators
@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    assert np.all(y > 0)
    return X, y


def conjugate():
    # Explicit arguments: the defaults of ConjugateLinearRegression may change.
    return ConjugateLinearRegression(noise_std=None, prior_std=1.0)


def inner_dist(pipe, X):
    """The predictive of a fitted Pipeline's last step, by hand."""
    return pipe[-1].predict_dist(pipe[:-1].transform(X))


def log_target(regressor):
    return TransformedTargetRegressor(regressor, func=np.log, inverse_func=np.exp)


def test_cross_validated_nlpd_of_a_log_target_by_hand(diabetes):
    X, y = diabetes
    cv = KFold(5, shuffle=True, random_state=0)
    model = log_target(make_pipeline(StandardScaler(), conjugate()))
    scores = cross_val_score(model, X, y, scoring=neg_nlpd_scorer, cv=cv)
    assert np.all(np.isfinite(scores))
    for score, (train, test) in zip(scores, cv.split(X), strict=True):
        pipe = make_pipeline(StandardScaler(), conjugate()).fit(
            X[train], np.log(y[train])
        )
        inner = pipe[-1].predict_dist(pipe[0].transform(X[test]))
        assert isinstance(inner, StudentT)
        # p_y(y) = p_z(log y) / y
        logp = stats.t.logpdf(np.log(y[test]), inner.df, inner.loc, inner.scale)
        assert -score == pytest.approx(-np.mean(logp - np.log(y[test])), rel=1e-10)


def test_every_scorer_through_a_log_target(diabetes):
    X, y = diabetes
    Xtr, ytr, Xte, yte = X[:300], y[:300], X[300:], y[300:]
    model = log_target(make_pipeline(StandardScaler(), RidgeMAP())).fit(Xtr, ytr)
    inner = inner_dist(model.regressor_, Xte)
    assert isinstance(inner, Normal)
    mu, sigma = inner.loc, inner.scale
    ref = stats.lognorm(s=sigma, scale=np.exp(mu))
    lo, hi = np.exp(inner.interval(0.95)).T
    inside = (yte >= lo) & (yte <= hi)
    alpha = 0.05
    expected = {
        "neg_nlpd": np.mean(stats.norm.logpdf(np.log(yte), mu, sigma) - np.log(yte)),
        "neg_crps": -np.mean(crps_lognormal(yte, mu, sigma)),
        "interval_coverage": inside.mean(),
        "neg_coverage_error": -abs(inside.mean() - 0.95),
        "neg_mean_interval_width": -np.mean(hi - lo),
        "neg_interval_score": -np.mean(
            (hi - lo)
            + 2 / alpha * np.clip(lo - yte, 0, None)
            + 2 / alpha * np.clip(yte - hi, 0, None)
        ),
        # PIT values are those of log y under the inner Normal.
        "neg_calibration_error": -calibration_error(np.log(yte), inner),
        "neg_sharpness": -np.sqrt(np.mean(ref.var())),
    }
    assert set(expected) == set(get_scorer_names())
    for name, value in expected.items():
        got = get_scorer(name)(model, Xte, yte)
        assert np.isfinite(got), name
        assert got == pytest.approx(value, rel=1e-8), name
    np.testing.assert_allclose(
        log_predictive_density(model, Xte, yte),
        stats.norm.logpdf(np.log(yte), mu, sigma) - np.log(yte),
        rtol=1e-10,
    )


@pytest.mark.parametrize("method", ["yeo-johnson", "box-cox"])
def test_power_transformer_quantiles_map_through(diabetes, method):
    X, y = diabetes
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), conjugate()),
        transformer=PowerTransformer(method=method),
    ).fit(X[:300], y[:300])
    dist = predict_dist(model, X[300:])
    inner = inner_dist(model.regressor_, X[300:])
    pt = model.transformer_
    for q in (0.01, 0.25, 0.5, 0.9):
        expected = pt.inverse_transform(inner.ppf(q)[:, None])[:, 0]
        np.testing.assert_allclose(dist.ppf(q), expected, rtol=1e-12)
        np.testing.assert_allclose(dist.cdf(expected), q, rtol=1e-8)
    np.testing.assert_allclose(dist.median(), model.predict(X[300:]), rtol=1e-10)
    if method == "box-cox":
        # log |dz/dy| = (lambda - 1) log y - log(scale of the standardisation),
        # the scale recovered from scipy's Box-Cox at two points.
        lam = pt.lambdas_[0]
        yt = y[300:]
        z = pt.transform(yt[:, None])[:, 0]
        b = stats.boxcox(yt[:2], lam)
        scale = (b[0] - b[1]) / (z[0] - z[1])
        exact = inner.logpdf(z) + (lam - 1) * np.log(yt) - np.log(scale)
        np.testing.assert_allclose(dist.logpdf(yt), exact, rtol=1e-8)


def test_values_a_target_transform_refuses_lie_outside_the_range(diabetes):
    # Box-Cox refuses y <= 0: those values get no density (log density -inf,
    # cdf 0), and the others the values they have on their own, whichever
    # batch they come in.
    X, y = diabetes
    model = TransformedTargetRegressor(
        RidgeMAP(), transformer=PowerTransformer(method="box-cox")
    ).fit(X[:300], y[:300])
    y_test = y[300:306].astype(float)
    y_test[[1, 4]] = [-5.0, 0.0]
    kept = [0, 2, 3, 5]
    logp = log_predictive_density(model, X[300:306], y_test)
    assert np.all(logp[[1, 4]] == -np.inf)
    alone = log_predictive_density(model, X[300:306][kept], y_test[kept])
    np.testing.assert_allclose(logp[kept], alone, rtol=1e-12)
    one_by_one = [
        log_predictive_density(model, X[300 + i : 301 + i], y_test[i : i + 1])[0]
        for i in kept
    ]
    np.testing.assert_allclose(alone, one_by_one, rtol=1e-12)
    cdf = predict_dist(model, X[300:306]).cdf(y_test)
    assert np.all(cdf[[1, 4]] == 0.0) and np.all(cdf[kept] > 0)


def test_predict_dist_through_pipeline_and_search(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), log_target(conjugate())).fit(X, y)
    inner = pipe[-1].regressor_.predict_dist(pipe[0].transform(X[:5]))
    dist = predict_dist(pipe, X[:5])
    assert isinstance(dist, TransformedDistribution)
    np.testing.assert_allclose(dist.ppf(0.1), np.exp(inner.ppf(0.1)), rtol=1e-12)

    search = GridSearchCV(
        log_target(make_pipeline(StandardScaler(), RidgeMAP())),
        {"regressor__ridgemap__alpha": [0.1, 10.0]},
        scoring=neg_nlpd_scorer,
        cv=3,
    ).fit(X, y)
    best = search.best_estimator_
    inner = inner_dist(best.regressor_, X[:5])
    dist = predict_dist(search, X[:5])
    # exp of a Normal: log-normal in closed form.
    np.testing.assert_allclose(
        dist.mean, np.exp(inner.loc + inner.scale**2 / 2), rtol=1e-12
    )
    np.testing.assert_allclose(dist.ppf(0.7), np.exp(inner.ppf(0.7)), rtol=1e-12)


def test_nested_target_transforms_compose_in_order(diabetes):
    X, y = diabetes
    # Outer log, inner standardisation: y = exp(a + s z).
    model = log_target(
        TransformedTargetRegressor(RidgeMAP(), transformer=StandardScaler())
    ).fit(X, y)
    scaler = model.regressor_.transformer_
    z = model.regressor_.regressor_.predict_dist(X[:4])
    dist = predict_dist(model, X[:4])
    w = scaler.inverse_transform(z.ppf(0.8)[:, None])[:, 0]
    np.testing.assert_allclose(dist.ppf(0.8), np.exp(w), rtol=1e-12)
    # Outer min-max scaling to [1, 2], inner log: y = a + s exp(z).
    model = TransformedTargetRegressor(
        log_target(RidgeMAP()), transformer=MinMaxScaler(feature_range=(1, 2))
    ).fit(X, y)
    outer = model.transformer_
    z = model.regressor_.regressor_.predict_dist(X[:4])
    dist = predict_dist(model, X[:4])
    for q in (0.05, 0.6):
        expected = outer.inverse_transform(np.exp(z.ppf(q))[:, None])[:, 0]
        np.testing.assert_allclose(dist.ppf(q), expected, rtol=1e-12)
    lognormal_mean = np.exp(z.loc + z.scale**2 / 2)
    np.testing.assert_allclose(
        dist.mean, outer.inverse_transform(lognormal_mean[:, None])[:, 0], rtol=1e-12
    )
    v = outer.transform(y[:4, None])[:, 0]
    np.testing.assert_allclose(
        log_predictive_density(model, X[:4], y[:4]),
        z.logpdf(np.log(v)) - np.log(v) + np.log(outer.scale_[0]),
        rtol=1e-10,
    )
    # Affine transforms keep the exact family.
    affine = TransformedTargetRegressor(RidgeMAP(), transformer=StandardScaler())
    assert isinstance(predict_dist(affine.fit(X, y), X[:3]), Normal)


def test_non_monotone_target_transforms_are_refused(diabetes):
    X, y = diabetes
    y = y - np.median(y)  # both signs: squaring is not one-to-one
    model = TransformedTargetRegressor(
        RidgeMAP(), func=np.square, inverse_func=np.sqrt, check_inverse=False
    ).fit(X, y)
    with pytest.raises(ValueError, match="monotone"):
        neg_nlpd_scorer(model, X, y)
    # Drawing regression functions still needs an affine target map.
    with pytest.raises(ValueError, match="affine"):
        resolve_affine(log_target(RidgeMAP()).fit(X, np.abs(y) + 1), X)


def test_quantile_transformer_with_ties_is_refused(diabetes):
    X, y = diabetes  # integer targets: the quantile map has flat steps
    model = TransformedTargetRegressor(
        RidgeMAP(),
        transformer=QuantileTransformer(n_quantiles=200, output_distribution="normal"),
    ).fit(X, y)
    with pytest.raises(ValueError, match="constant"):
        predict_dist(model, X)


# ------------------------------------------------- decreasing affine maps
def _one_minus_half(y):
    return (1.0 - y) / 2.0


def _one_minus_twice(z):
    return 1.0 - 2.0 * z


DECREASING = {
    "negative": (np.negative, np.negative, 0.0, -1.0),
    "1 - 2 z": (_one_minus_half, _one_minus_twice, 1.0, -2.0),
}


def _assert_affine_image(dist, z, a, s, y):
    """``dist`` is the law of a + s Z for Z ~ ``z``, s < 0, to rounding."""
    np.testing.assert_allclose(dist.mean, a + s * z.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dist.std, abs(s) * z.std, rtol=1e-12)
    np.testing.assert_allclose(dist.epistemic_std, abs(s) * z.epistemic_std, rtol=1e-12)
    for coverage in (0.5, 0.9):
        lo, hi = dist.interval(coverage).T
        z_lo, z_hi = z.interval(coverage).T
        assert np.all(lo < hi)  # a decreasing map swaps the ends
        np.testing.assert_allclose(lo, a + s * z_hi, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(hi, a + s * z_lo, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dist.ppf(0.2), a + s * z.ppf(0.8), rtol=1e-10)
    # density: the Jacobian of y -> (y - a) / s is 1 / |s|
    np.testing.assert_allclose(
        dist.logpdf(y), z.logpdf((y - a) / s) - np.log(abs(s)), rtol=1e-10
    )
    np.testing.assert_allclose(dist.cdf(y), 1 - z.cdf((y - a) / s), rtol=1e-10)


@pytest.mark.parametrize("name", list(DECREASING))
@pytest.mark.parametrize("regressor", [conjugate, RidgeMAP], ids=["t", "normal"])
def test_decreasing_affine_target_map_maps_the_predictive_exactly(
    diabetes, name, regressor
):
    # Issue 21: s instead of |s| for an affine map survived every test, none
    # of which used a decreasing map.
    func, inverse, a, s = DECREASING[name]
    X, y = diabetes
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), regressor()), func=func, inverse_func=inverse
    ).fit(X[:300], y[:300])
    z = predict_dist(model.regressor_, X[300:320])
    dist = predict_dist(model, X[300:320])
    assert type(dist) is type(z)  # the exact family is kept
    _assert_affine_image(dist, z, a, s, y[300:320])
    np.testing.assert_allclose(
        log_predictive_density(model, X[300:320], y[300:320]),
        dist.logpdf(y[300:320]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", list(DECREASING))
def test_decreasing_affine_map_of_a_push_forward(diabetes, name):
    # Outside the closed families the affine map is one more step of the
    # push-forward (its own Jacobian -log|s|).
    func, inverse, a, s = DECREASING[name]
    X, y = diabetes
    inner_model = TransformedTargetRegressor(
        RidgeMAP(), func=neg_cubic_inverse, inverse_func=neg_cubic
    )
    model = TransformedTargetRegressor(inner_model, func=func, inverse_func=inverse)
    model.fit(X[:300], y[:300] / 100)
    inner = predict_dist(model.regressor_, X[300:310])  # a numerical push-forward
    assert isinstance(inner, TransformedDistribution)
    dist = predict_dist(model, X[300:310])
    _assert_affine_image(dist, inner, a, s, y[300:310] / 100)
