"""Honest by default (issue 12): unit-free defaults, calibration on real data,
and faults that leave every estimator as it was.

The Pyro estimators' own versions live in test_pyro_linear.py and
test_pyro_bnn.py; here each estimator's defaults are held to the same
properties side by side.
"""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from units import A, B, C, assert_mapped, rounding_rtol

from bayesreg import ConjugateLinearRegression, RidgeMAP, predict_dist


def _problem(seed=0, n=60, d=3, noise=0.3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 4.0, 0.2][:d] + [0.5, -2.0, 3.0][:d]
    y = X @ [1.0, -0.3, 2.0][:d] + 1.5 + noise * rng.normal(size=n)
    Xt = rng.normal(size=(9, d)) * 3.0
    return X, y, Xt


CONJUGATE_MODES = {
    "defaults": ({}, None),
    "evidence (fit_hyperparameters)": ({"fit_hyperparameters": True}, None),
    "known noise": ({}, 0.3),  # noise_std given, mapped to a * noise_std
    "proper NIG prior": ({"noise_prior_shape": 2.0, "noise_prior_scale": 0.5}, None),
    "no intercept": ({"fit_intercept": False}, None),
}


@pytest.mark.parametrize("mode", list(CONJUGATE_MODES))
@settings(max_examples=25, deadline=None)
@given(a=A, b=B, c=C, seed=st.integers(0, 1000))
def test_conjugate_defaults_are_equivariant_in_the_units(mode, a, b, c, seed):
    params, noise = CONJUGATE_MODES[mode]
    if params.get("fit_intercept") is False:
        b = 0.0  # without an intercept only scalings of y are symmetries
    X, y, Xt = _problem(seed)
    kw = dict(params, noise_std=noise) if noise else dict(params)
    ref = ConjugateLinearRegression(**kw).fit(X, y)
    kw2 = dict(params, noise_std=a * noise) if noise else dict(params)
    got = ConjugateLinearRegression(**kw2).fit(c * X, a * y + b)
    yt = Xt @ ref.coef_ + ref.intercept_ + 0.5
    rtol = 1e-8 + rounding_rtol(X, y, Xt, a, b)
    assert_mapped(ref.predict_dist(Xt), got.predict_dist(c * Xt), a, b, yt, rtol)
    np.testing.assert_allclose(got.noise_std_, a * ref.noise_std_, rtol=rtol)
    np.testing.assert_allclose(got.prior_scale_, ref.prior_scale_, rtol=rtol)
    # Log evidence of y in other units: a density of the n values picks up
    # -n log(a), less one for a flat intercept, whose improper p(b) = 1 is
    # the same number in any units (so it absorbs one Jacobian factor).
    stats = ref.sufficient_stats_
    shift = -(stats.n - 1.0 if stats.centered else stats.n) * np.log(a)
    np.testing.assert_allclose(
        got.log_marginal_likelihood_, ref.log_marginal_likelihood_ + shift,
        rtol=rtol, atol=1e-6,
    )  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(a=A, b=B, seed=st.integers(0, 1000))
# Issue 21, defect 6: a noise floor of 1e-12 |y| (its magnitude, not its
# spread) broke the map for a tiny scale and a large offset.
@example(a=1e-6, b=1e6, seed=0)
def test_ridge_map_is_equivariant_in_the_units_of_y(a, b, seed):
    # A fixed alpha is sklearn Ridge's penalty in the units of X: only y's
    # units are a symmetry of RidgeMAP.
    X, y, Xt = _problem(seed)
    ref = RidgeMAP().fit(X, y)
    got = RidgeMAP().fit(X, a * y + b)
    yt = ref.predict(Xt) + 0.5
    rtol = 1e-8 + rounding_rtol(X, y, Xt, a, b)
    assert_mapped(ref.predict_dist(Xt), got.predict_dist(Xt), a, b, yt, rtol)


@pytest.mark.parametrize(
    "mode", [m for m in CONJUGATE_MODES if "fit_hyperparameters" not in m]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_prior_std_is_an_optimum_of_the_evidence(mode, seed):
    """``prior_std="auto"`` maximises the evidence over the prior's scale: a
    fit with the chosen prior std fixed has the same evidence, and moving
    it by 1% either way lowers it (a search that stops at a grid point of
    its scan, or climbs the wrong way, fails)."""
    params, noise = CONJUGATE_MODES[mode]
    X, y, _ = _problem(seed, n=40)
    kw = dict(params, noise_std=noise) if noise else dict(params)
    auto = ConjugateLinearRegression(**kw).fit(X, y)
    best = auto.log_marginal_likelihood_

    def evidence(factor):
        fixed = ConjugateLinearRegression(**kw, prior_std=factor * auto.prior_std_)
        return fixed.fit(X, y).log_marginal_likelihood_

    np.testing.assert_allclose(evidence(1.0), best, rtol=1e-12)
    # f(c (1 +- h)) - f(c) = f''(log c) h^2 / 2 < 0 at a maximum: about
    # -3e-4 here for h = 1%, far above the 1e-12 of rounding.
    assert evidence(0.99) < best - 1e-6
    assert evidence(1.01) < best - 1e-6


def test_centred_statistics_do_not_depend_on_an_offset_of_y():
    # Storing y + b rounds each value by at most eps |b|, and the same fit
    # of the rounded data mapped back must give X^T y to that accuracy
    # relative to the spread (no amplification by the mean of X).
    from bayesreg._gram import gram_stats

    X, y, _ = _problem(0)
    for a, b in [(1e-6, 1.0), (1.0, 1e6), (1e-6, 1e6)]:
        stored = a * y + b
        exact = gram_stats(X, (stored - b) / a)  # the data as float64 holds it
        got = gram_stats(X, stored)
        delta = 2 * np.finfo(float).eps * np.max(np.abs(stored)) / a
        tol = 4 * delta * np.sqrt(np.diag(exact.xtx) * len(y))
        assert np.all(np.abs(got.xty / a - exact.xty) <= tol), (a, b)


def test_old_defaults_would_fail_the_equivariance_check():
    """The property test can fail: the textbook model is not unit-free."""
    X, y, Xt = _problem(0)
    textbook = dict(noise_std=1.0, prior_std=1.0)
    ref = ConjugateLinearRegression(**textbook).fit(X, y)
    got = ConjugateLinearRegression(**textbook).fit(1e-3 * X, 3.7e5 * y - 42)
    with pytest.raises(AssertionError):
        assert_mapped(
            ref.predict_dist(Xt), got.predict_dist(1e-3 * Xt), 3.7e5, -42.0, y[:9], 1e-8
        )


# --------------------------------------------------------------------------
# Calibration on real data and on synthetic data in any units
# --------------------------------------------------------------------------
def _diabetes_scores(estimator):
    X, y = load_diabetes(return_X_y=True)
    logp, hits = [], []
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        model = make_pipeline(StandardScaler(), estimator).fit(X[train], y[train])
        dist = predict_dist(model, X[test])
        logp.append(dist.logpdf(y[test]))
        lo, hi = dist.interval(0.9).T
        hits.append((y[test] >= lo) & (y[test] <= hi))
    return -np.concatenate(logp).mean(), np.concatenate(hits).mean()


@pytest.fixture(scope="module")
def bayesian_ridge_nlpd():
    return _diabetes_scores(BayesianRidge())[0]


def _pyro_linear():
    pytest.importorskip("pyro")
    from bayesreg import PyroBayesianLinear

    return PyroBayesianLinear(random_state=0)


@pytest.mark.parametrize(
    "make", [ConjugateLinearRegression, _pyro_linear], ids=["conjugate", "pyro-svi"]
)
def test_defaults_are_calibrated_on_diabetes(make, bayesian_ridge_nlpd):
    nlpd, coverage = _diabetes_scores(make())
    assert abs(nlpd - bayesian_ridge_nlpd) < 0.02, (nlpd, bayesian_ridge_nlpd)
    assert 0.85 <= coverage <= 0.95, coverage


def _synthetic(noise, factor, seed=0, n_train=500, n_test=5000):
    """benchmarks/bench_calibration.py's synthetic rows: y = X w + 1 + noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_test, 5))
    y = X @ [1.0, -2.0, 0.5, 0.0, 3.0] + 1.0 + noise * rng.normal(size=len(X))
    return X[:n_train], factor * y[:n_train], X[n_train:], factor * y[n_train:]


@pytest.mark.parametrize(
    "make", [ConjugateLinearRegression, _pyro_linear], ids=["conjugate", "pyro-svi"]
)
@pytest.mark.parametrize("factor", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("noise", [0.01, 1.0, 100.0])
def test_synthetic_rows_are_calibrated_in_any_units(make, noise, factor):
    X, y, Xt, yt = _synthetic(noise, factor)
    model = make_pipeline(StandardScaler(), make()).fit(X, y)
    lo, hi = predict_dist(model, Xt).interval(0.9).T
    coverage = np.mean((yt >= lo) & (yt <= hi))
    assert 0.87 <= coverage <= 0.93, coverage
    assert abs(model[-1].noise_std_ / (factor * noise) - 1) < 0.10


# --------------------------------------------------------------------------
# Faults: a failed fit leaves the estimator exactly as it was
# --------------------------------------------------------------------------
def _bad_inputs(X, y):
    nan_X = X.copy()
    nan_X[0, 0] = np.nan
    return {
        "NaN in X": (nan_X, y, "NaN"),
        "X beyond 1e150": (X * 1e155, y, "^X has entries of magnitude"),
        "y beyond 1e150": (X, y * 1e160, "^y has entries of magnitude"),
        "y of another length": (X, y[:-1], "inconsistent numbers of samples"),
        "wider X": (np.column_stack([X, X[:, 0] * 1e200]), y, "^X has entries"),
    }


ESTIMATORS = [
    ConjugateLinearRegression(),
    ConjugateLinearRegression(noise_std=0.5, prior_std=2.0),
    ConjugateLinearRegression(fit_hyperparameters=True),
    RidgeMAP(),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("case", list(_bad_inputs(*_problem()[:2])))
def test_failed_refit_leaves_the_estimator_exactly_as_it_was(estimator, case):
    X, y, Xt = _problem()
    bad_X, bad_y, match = _bad_inputs(X, y)[case]
    est = estimator.__class__(**estimator.get_params()).fit(X, y)
    before = dict(vars(est))
    mean, std = est.predict(Xt, return_std=True)
    with pytest.raises(ValueError, match=match):
        est.fit(bad_X, bad_y)
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[k] is v for k, v in before.items())
    m2, s2 = est.predict(Xt, return_std=True)
    np.testing.assert_array_equal(m2, mean)
    np.testing.assert_array_equal(s2, std)
    # ... and an unfitted one stays unfitted.
    fresh = estimator.__class__(**estimator.get_params())
    with pytest.raises(ValueError, match=match):
        fresh.fit(bad_X, bad_y)
    assert not any(k.endswith("_") for k in vars(fresh))
    with pytest.raises(NotFittedError):
        fresh.predict(Xt)


def test_failed_partial_fit_keeps_the_posterior_so_far():
    X, y, Xt = _problem()
    est = ConjugateLinearRegression().partial_fit(X[:30], y[:30])
    before = est.predict_std(Xt)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[30:, :2], y[30:])
    with pytest.raises(ValueError, match="magnitude"):
        est.partial_fit(X[30:] * 1e160, y[30:])
    np.testing.assert_array_equal(est.predict_std(Xt), before)
    assert est.n_features_in_ == 3
    est.partial_fit(X[30:], y[30:])
    whole = ConjugateLinearRegression().fit(X, y)
    np.testing.assert_allclose(est.predict_std(Xt), whole.predict_std(Xt), rtol=1e-10)


def test_entries_up_to_1e149_are_fitted():
    X, y, Xt = _problem()
    scale = 0.9e150 / np.max(np.abs(np.r_[X.ravel(), y]))
    est = ConjugateLinearRegression().fit(X * scale, y * scale)
    assert np.all(np.isfinite(est.predict_std(Xt * scale)))
    np.testing.assert_allclose(
        est.predict(Xt * scale) / scale,
        ConjugateLinearRegression().fit(X, y).predict(Xt),
        rtol=1e-8,
    )


def test_evidence_fixed_point_warns_at_max_iter():
    X, y, _ = _problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        ConjugateLinearRegression(fit_hyperparameters=True, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ConjugateLinearRegression(fit_hyperparameters=True).fit(X, y)
