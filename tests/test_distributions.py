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
    # Student-t(5): var = 5 / 3 of the squared scale, the noise what is left
    t = StudentT(5.0, [0.0], [1.0], epistemic_std=[0.5])
    np.testing.assert_allclose(t.std, [np.sqrt(5 / 3)])
    np.testing.assert_allclose(t.aleatoric_std, [np.sqrt(5 / 3 - 0.25)])


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


# ---------------------------------------------------------------------------
# Batches of several targets: shape (n, k)
# ---------------------------------------------------------------------------
from bayesreg.distributions import TransformedDistribution, _take_output  # noqa: E402

LOC = np.array([[0.0, 5.0, -2.0], [1.0, -3.0, 10.0]])  # (n, k) = (2, 3)
SCALE = np.array([1.0, 0.5, 3.0])  # one per target, broadcast over rows
EPI = np.array([0.6, 0.1, 2.0])
DF = np.array([3.0, 7.5, 40.0])


def _batches():
    return {
        "normal": (
            Normal(LOC, SCALE, epistemic_std=EPI),
            stats.norm(LOC, np.broadcast_to(SCALE, LOC.shape)),
        ),
        "student": (
            StudentT(DF, LOC, SCALE, epistemic_std=EPI),
            stats.t(np.broadcast_to(DF, LOC.shape), LOC, SCALE),
        ),
    }


@pytest.mark.parametrize("family", ["normal", "student"])
def test_batch_of_targets_matches_scipy(family):
    d, ref = _batches()[family]
    assert d.batch_shape == (2, 3) and d.n == 2
    y = np.array([[0.3, 4.0, 1.0], [-2.0, -3.5, 12.0]])
    np.testing.assert_allclose(d.mean, ref.mean())
    np.testing.assert_allclose(d.std, ref.std(), rtol=1e-12)
    np.testing.assert_allclose(d.var, ref.var(), rtol=1e-12)
    np.testing.assert_allclose(d.logpdf(y), ref.logpdf(y), rtol=1e-12)
    np.testing.assert_allclose(d.pdf(y), ref.pdf(y), rtol=1e-12)
    np.testing.assert_allclose(d.cdf(y), ref.cdf(y), rtol=1e-12)
    np.testing.assert_allclose(d.ppf(0.83), ref.ppf(0.83), rtol=1e-12)
    q = np.array([[0.1, 0.5, 0.9], [0.99, 0.02, 0.4]])
    np.testing.assert_allclose(d.ppf(q), ref.ppf(q), rtol=1e-12)
    np.testing.assert_allclose(d.median(), ref.median(), atol=1e-12)
    bounds = d.interval(0.8)
    assert bounds.shape == (2, 3, 2)
    lo, hi = ref.interval(0.8)
    np.testing.assert_allclose(bounds[..., 0], lo, rtol=1e-12)
    np.testing.assert_allclose(bounds[..., 1], hi, rtol=1e-12)
    np.testing.assert_allclose(d.epistemic_std, np.broadcast_to(EPI, LOC.shape))
    np.testing.assert_allclose(d.aleatoric_std**2, ref.var() - EPI**2, rtol=1e-12)


@pytest.mark.parametrize("family", ["normal", "student"])
def test_batch_of_targets_with_several_values_per_distribution(family):
    d, ref = _batches()[family]
    y = np.linspace(-4, 4, 2 * 3 * 5).reshape(2, 3, 5)
    out = d.logpdf(y)
    assert out.shape == (2, 3, 5)
    np.testing.assert_allclose(out, ref.logpdf(y.transpose(2, 0, 1)).transpose(1, 2, 0))
    q = np.linspace(0.05, 0.95, 2 * 3 * 4).reshape(2, 3, 4)
    quantiles = d.ppf(q)
    np.testing.assert_allclose(d.cdf(quantiles), q, rtol=1e-10)


@pytest.mark.parametrize("family", ["normal", "student"])
def test_each_target_of_a_batch_is_the_one_target_distribution(family):
    d, _ = _batches()[family]
    y = np.array([[0.3, 4.0, 1.0], [-2.0, -3.5, 12.0]])
    for j in range(3):
        one = _take_output(d, j)
        assert one.batch_shape == (2,)
        if family == "normal":
            alone = Normal(LOC[:, j], SCALE[j], epistemic_std=EPI[j])
        else:
            alone = StudentT(DF[j], LOC[:, j], SCALE[j], epistemic_std=EPI[j])
        for name in ("mean", "std", "epistemic_std", "aleatoric_std"):
            np.testing.assert_array_equal(getattr(d, name)[:, j], getattr(alone, name))
            np.testing.assert_array_equal(getattr(one, name), getattr(alone, name))
        np.testing.assert_array_equal(d.logpdf(y)[:, j], alone.logpdf(y[:, j]))
        np.testing.assert_array_equal(d.interval(0.9)[:, j], alone.interval(0.9))


@pytest.mark.parametrize("family", ["normal", "student"])
def test_batch_samples_have_the_draws_last(family):
    d, ref = _batches()[family]
    draws = d.sample(20000, random_state=1)
    assert draws.shape == (2, 3, 20000)
    np.testing.assert_array_equal(draws, d.sample(20000, random_state=1))
    for q in (0.1, 0.5, 0.9):
        frac = np.mean(draws <= ref.ppf(q)[..., None], axis=-1)
        np.testing.assert_allclose(frac, q, atol=0.015)


def test_one_target_keeps_its_samples_bit_for_bit():
    # The draws of a batch (n,) are those scipy gives for shape (n, S), as
    # before batches of several targets existed.
    d = StudentT(4.0, [0.0, 3.0], [1.0, 0.5])
    ref = stats.t(4.0, np.array([[0.0], [3.0]]), np.array([[1.0], [0.5]])).rvs(
        size=(2, 7), random_state=np.random.default_rng(5)
    )
    np.testing.assert_array_equal(d.sample(7, random_state=5), ref)
    m = _mixture(seed=2, n=3, s=4)
    rng = np.random.default_rng(9)
    comp = rng.integers(4, size=(3, 6))
    noise = rng.standard_normal((3, 6))
    rows = np.arange(3)[:, None]
    expected = m.locs[rows, comp] + m.scales[rows, comp] * noise
    np.testing.assert_array_equal(m.sample(6, random_state=9), expected)


def _mixture_batch(seed=0, n=4, k=3, s=30):
    rng = np.random.default_rng(seed)
    locs = rng.normal(size=(n, k, s)) * np.array([1.0, 5.0, 0.2])[:, None]
    scales = rng.uniform(0.2, 1.5, size=(k, s))
    return NormalMixture(locs, scales)


def test_mixture_batch_moments_and_density():
    d = _mixture_batch()
    assert d.batch_shape == (4, 3) and d.n_components == 30
    scales = np.broadcast_to(d.scales, d.locs.shape)
    np.testing.assert_allclose(d.mean, d.locs.mean(axis=-1))
    var = np.mean(scales**2 + d.locs**2, axis=-1) - d.mean**2
    np.testing.assert_allclose(d.std**2, var, rtol=1e-10)
    np.testing.assert_allclose(d.epistemic_std, d.locs.std(axis=-1))
    np.testing.assert_allclose(d.aleatoric_std**2, np.mean(scales**2, axis=-1))
    y = np.linspace(-2, 2, 12).reshape(4, 3)
    comp = stats.norm(d.locs, scales)
    np.testing.assert_allclose(
        d.logpdf(y), np.log(comp.pdf(y[..., None]).mean(axis=-1)), rtol=1e-12
    )
    np.testing.assert_allclose(
        d.cdf(y), comp.cdf(y[..., None]).mean(axis=-1), rtol=1e-12
    )
    for j in range(3):
        alone = NormalMixture(d.locs[:, j], d.scales[:, j])
        np.testing.assert_allclose(d.ppf(0.2)[:, j], alone.ppf(0.2), rtol=1e-10)
        np.testing.assert_array_equal(_take_output(d, j).locs, alone.locs)


@pytest.mark.parametrize("q", [0.02, 0.5, 0.9])
def test_mixture_batch_ppf_inverts_cdf(q):
    d = _mixture_batch(seed=4)
    x = d.ppf(q)
    assert x.shape == (4, 3)
    np.testing.assert_allclose(d.cdf(x), q, atol=1e-10)
    levels = np.full((4, 3, 2), q)
    levels[..., 1] = 1 - q
    np.testing.assert_allclose(d.cdf(d.ppf(levels)), levels, atol=1e-10)
    bounds = d.interval(0.9)
    np.testing.assert_allclose(d.cdf(bounds[..., 1]) - d.cdf(bounds[..., 0]), 0.9)


def test_mixture_batch_samples():
    d = _mixture_batch(seed=5, s=3)
    draws = d.sample(30000, random_state=0)
    assert draws.shape == (4, 3, 30000)
    frac = np.mean(draws <= d.ppf(0.3)[..., None], axis=-1)
    np.testing.assert_allclose(frac, 0.3, atol=0.015)


def test_push_forward_of_a_batch_is_elementwise():
    base = Normal(LOC / 5, SCALE / 3, epistemic_std=EPI / 3)
    d = TransformedDistribution(base, np.exp, np.log)
    sigma = np.broadcast_to(SCALE / 3, LOC.shape)
    ref = stats.lognorm(s=sigma, scale=np.exp(LOC / 5))
    assert d.batch_shape == (2, 3)
    np.testing.assert_allclose(d.mean, ref.mean(), rtol=1e-12)
    np.testing.assert_allclose(d.std, ref.std(), rtol=1e-10)
    y = np.array([[0.5, 2.0, 1.0], [3.0, 0.1, 7.0]])
    np.testing.assert_allclose(d.logpdf(y), ref.logpdf(y), rtol=1e-10)
    np.testing.assert_allclose(d.cdf(y), ref.cdf(y), rtol=1e-10)
    np.testing.assert_allclose(d.ppf(0.3), ref.ppf(0.3), rtol=1e-10)
    np.testing.assert_allclose(d.median(), ref.median(), rtol=1e-12)
    lo, hi = ref.interval(0.9)
    np.testing.assert_allclose(d.interval(0.9), np.stack([lo, hi], -1), rtol=1e-10)
    share = (np.broadcast_to(EPI / 3, LOC.shape) / sigma) ** 2
    np.testing.assert_allclose(d.epistemic_std**2, d.std**2 * share, rtol=1e-10)
    np.testing.assert_allclose(d.aleatoric_std**2, d.std**2 * (1 - share), rtol=1e-10)
    assert d.sample(5, random_state=0).shape == (2, 3, 5)
    np.testing.assert_allclose(
        d.sample(5, random_state=0), np.exp(base.sample(5, random_state=0))
    )
    three = d.logpdf(np.broadcast_to(y[..., None], (2, 3, 4)))
    np.testing.assert_allclose(
        three, np.broadcast_to(ref.logpdf(y)[..., None], three.shape)
    )
    for j in range(3):
        alone = TransformedDistribution(_take_output(base, j), np.exp, np.log)
        np.testing.assert_allclose(_take_output(d, j).mean, alone.mean)
        np.testing.assert_allclose(d.mean[:, j], alone.mean, rtol=1e-12)
    composed = TransformedDistribution(d, np.log, np.exp)
    np.testing.assert_allclose(composed.ppf(0.3), base.ppf(0.3), rtol=1e-9, atol=1e-12)
    assert "batch_shape=(2, 3)" in repr(d)


def test_push_forward_of_a_mixture_batch_by_quadrature():
    base = _mixture_batch(seed=1, n=2, s=5)
    d = TransformedDistribution(base, np.tanh, np.arctanh)
    for j in range(3):
        alone = TransformedDistribution(_take_output(base, j), np.tanh, np.arctanh)
        np.testing.assert_allclose(d.mean[:, j], alone.mean, rtol=1e-12)
        np.testing.assert_allclose(d.std[:, j], alone.std, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Normal(LOC, [1.0, 2.0]), "broadcast"),
        (lambda: Normal(np.zeros((2, 3, 4)), 1.0), r"\(n,\) or \(n, k\)"),
        (lambda: Normal(LOC, SCALE).logpdf(np.zeros(2)), r"\(2, 3\)"),
        (lambda: Normal(LOC, SCALE).cdf(np.zeros((3, 2))), r"\(2, 3, m\)"),
        (lambda: Normal(LOC, SCALE, epistemic_std=2 * SCALE), "exceed"),
        (lambda: StudentT([1.0, -1.0, 2.0], LOC, SCALE), "df"),
        (lambda: NormalMixture(np.zeros((2, 3, 4)), np.ones((3, 3))), "broadcast"),
        (lambda: NormalMixture(np.zeros((2, 3, 4, 1)), 1.0), "shape"),
    ],
)
def test_bad_batch_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_log_density_targets_of_a_batch():
    d = Normal(LOC, SCALE)
    np.testing.assert_allclose(
        d._check_targets(LOC.tolist()), LOC
    )  # lists, as users pass them
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        d._check_targets(LOC[:, :2])
    one = Normal(LOC[:, :1], 1.0)
    np.testing.assert_array_equal(one._check_targets(LOC[:, 0]), LOC[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        d._check_targets(np.full((2, 3), np.nan))


@pytest.mark.parametrize("q", [1e-6, 0.025, 0.5, 0.975])
def test_scalar_quantiles_equal_scipy_elementwise(q):
    # ppf computes one standard quantile for the whole batch (issue 22): the
    # same numbers as scipy's quantile of every distribution.
    rng = np.random.default_rng(0)
    loc, scale = rng.normal(size=(50, 2)), rng.uniform(0.1, 3, size=(50, 2))
    for d, ref in [
        (Normal(loc, scale), stats.norm(loc, scale)),
        (StudentT(4.5, loc, scale), stats.t(4.5, loc, scale)),
        (StudentT(rng.uniform(1, 9, (50, 2)), loc, scale), None),
    ]:
        ref = ref or stats.t(d.df, loc, scale)
        np.testing.assert_array_equal(d.ppf(q), ref.ppf(np.full(loc.shape, q)))
    # a zero scale keeps scipy's answer for it
    d = Normal([0.0, 1.0], [0.0, 2.0])
    np.testing.assert_array_equal(
        d.ppf(0.3), stats.norm([0.0, 1.0], [0.0, 2.0]).ppf([0.3, 0.3])
    )


def test_mixture_noise_reduced_as_given_equals_the_broadcast_one():
    rng = np.random.default_rng(1)
    for locs, scales in [
        (rng.normal(size=(7, 30)), rng.uniform(0.2, 2, size=30)),
        (rng.normal(size=(7, 3, 30)), rng.uniform(0.2, 2, size=(3, 30))),
        (rng.normal(size=(7, 3, 30)), rng.uniform(0.2, 2, size=30)),
        (rng.normal(size=(7, 30)), rng.uniform(0.2, 2, size=(7, 30))),
    ]:
        d = NormalMixture(locs, scales)
        full = np.broadcast_to(scales, locs.shape)
        np.testing.assert_array_equal(
            d.aleatoric_std, np.sqrt(np.mean(full**2, axis=-1))
        )
        assert d.aleatoric_std.shape == locs.shape[:-1]
