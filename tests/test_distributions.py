"""Predictive distributions against scipy.stats and Monte Carlo references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bayesreg.distributions import Normal, NormalMixture, StudentT

finite = st.floats(-50, 50, allow_nan=False)
positive = st.floats(0.05, 20, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(loc=finite, scale=positive, df=st.floats(2.5, 60), y=finite)
def test_matches_scipy(loc, scale, df, y):
    norm = Normal([loc], [scale])
    np.testing.assert_allclose(norm.logpdf([y]), stats.norm(loc, scale).logpdf(y))
    np.testing.assert_allclose(norm.cdf([y]), stats.norm(loc, scale).cdf(y))
    t = StudentT(df, [loc], [scale])
    ref = stats.t(df, loc, scale)
    np.testing.assert_allclose(t.logpdf([y]), ref.logpdf(y))
    np.testing.assert_allclose(t.std, ref.std(), rtol=1e-12)
    np.testing.assert_allclose(t.ppf(0.9), ref.ppf(0.9))


def test_interval_is_central_and_shaped():
    d = Normal([0.0, 10.0], [1.0, 2.0])
    bounds = d.interval(0.9)
    assert bounds.shape == (2, 2)
    np.testing.assert_allclose(d.cdf(bounds[:, 1]) - d.cdf(bounds[:, 0]), 0.9)
    np.testing.assert_allclose(bounds.mean(axis=1), [0.0, 10.0], atol=1e-12)


def test_two_dimensional_arguments():
    d = Normal([0.0, 1.0], [1.0, 2.0])
    y = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, -1.0]])
    ref = stats.norm([[0.0], [1.0]], [[1.0], [2.0]])
    np.testing.assert_allclose(d.logpdf(y), ref.logpdf(y))
    np.testing.assert_allclose(
        d.ppf(np.full((2, 3), 0.3)), ref.ppf(np.full((2, 3), 0.3))
    )


def test_variance_split():
    d = Normal([0.0, 0.0], [2.0, 1.0], epistemic_std=[1.2, 0.0])
    np.testing.assert_allclose(d.aleatoric_std, [1.6, 1.0])
    np.testing.assert_allclose(d.std**2, d.epistemic_std**2 + d.aleatoric_std**2)
    t = StudentT(5.0, [0.0], [1.0], epistemic_std=[0.5])
    np.testing.assert_allclose(t.std**2, t.epistemic_std**2 + t.aleatoric_std**2)


def _mixture(seed=0, n=6, s=40):
    rng = np.random.default_rng(seed)
    return NormalMixture(rng.normal(size=(n, s)), rng.uniform(0.2, 1.5, size=s))


def test_mixture_moments_by_total_variance():
    d = _mixture()
    np.testing.assert_allclose(d.mean, d.locs.mean(axis=1))
    var = np.mean(d.scales**2 + d.locs**2, axis=1) - d.mean**2
    np.testing.assert_allclose(d.std**2, var)
    np.testing.assert_allclose(d.epistemic_std, d.locs.std(axis=1))


def test_mixture_density_is_log_mean_of_components():
    d = _mixture()
    y = np.linspace(-1, 1, d.n)
    ref = np.log(stats.norm(d.locs, d.scales).pdf(y[:, None]).mean(axis=1))
    np.testing.assert_allclose(d.logpdf(y), ref)


@pytest.mark.parametrize("q", [0.01, 0.3, 0.5, 0.97])
def test_mixture_ppf_inverts_cdf(q):
    d = _mixture(seed=3)
    np.testing.assert_allclose(d.cdf(d.ppf(q)), q, atol=1e-10)


def test_mixture_of_identical_components_is_normal():
    d = NormalMixture(np.full((3, 5), 2.0), np.full(5, 0.5))
    np.testing.assert_allclose(d.ppf(0.8), stats.norm(2.0, 0.5).ppf(0.8), atol=1e-10)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Normal([0.0, 3.0], [1.0, 0.5]),
        lambda: StudentT(4.0, [0.0, 3.0], [1.0, 0.5]),
        _mixture,
    ],
)
def test_samples_reproducible_and_distributed(make):
    d = make()
    a = d.sample(20000, random_state=0)
    assert a.shape == (d.n, 20000)
    np.testing.assert_array_equal(a, d.sample(20000, random_state=0))
    frac = np.mean(a <= d.ppf(0.25)[:, None], axis=1)
    np.testing.assert_allclose(frac, 0.25, atol=0.015)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Normal([0.0], [-1.0]), "scale"),
        (lambda: Normal([np.nan], [1.0]), "NaN"),
        (lambda: StudentT(0.0, [0.0], [1.0]), "df"),
        (lambda: Normal([0.0], [1.0]).interval(1.2), "coverage"),
        (lambda: Normal([0.0], [1.0]).ppf(1.0), "quantile"),
        (lambda: Normal([0.0, 1.0], [1.0, 1.0]).logpdf([1.0, 2.0, 3.0]), "3 values"),
        (lambda: NormalMixture(np.zeros(3), np.ones(3)), "shape"),
        (lambda: Normal([0.0], [1.0]).sample(0), "n_samples"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
