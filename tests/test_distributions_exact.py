"""bayesreg.distributions against closed forms and brute-force references.

Each test holds a value to scipy.stats, a naive NumPy computation or an exact
identity: mixture quantiles (main path and fallback) against a bracketed
root search, push-forwards through the known maps against their change of
variables, the float ordering the domain search bisects on, the variance
split's conventions where the base variance is zero or infinite.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize, special, stats

from bayesreg.distributions import (
    Normal,
    NormalMixture,
    PredictiveDistribution,
    StudentT,
    StudentTMixture,
    TransformedDistribution,
    _maps,
    _quantile,
    _transformed,
)


def _mixture_cdf(x, locs, scales):
    return stats.norm.cdf((x - locs) / scales).mean()


def _reference_quantile(locs, scales, q):
    """The mixture quantile by a bracketed root search on its CDF, one row."""
    lo = (locs + stats.norm.ppf(q) * scales).min() - 1.0
    hi = (locs + stats.norm.ppf(q) * scales).max() + 1.0
    return optimize.brentq(
        lambda x: _mixture_cdf(x, locs, scales) - q, lo, hi, xtol=1e-14, rtol=1e-14
    )


def _mixtures(seed, n=6, s=5):
    rng = np.random.default_rng(seed)
    locs = rng.normal(size=(n, s)) * rng.uniform(0.1, 5.0, (n, 1))
    scales = rng.uniform(0.2, 2.0, (n, s))
    return locs, scales


# ---------------------------------------------------------------- quantiles
LEVELS = [1e-12, 1e-4, 0.02, 0.3, 0.5, 0.7, 0.98, 1 - 1e-9]


@pytest.mark.parametrize("q", LEVELS)
def test_mixture_quantiles_equal_a_root_search(q):
    locs, scales = _mixtures(0)
    got = _quantile.mixture_quantiles(locs, scales, np.full(len(locs), q))
    want = [_reference_quantile(m, s, q) for m, s in zip(locs, scales, strict=True)]
    assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("q", LEVELS)
def test_mixture_quantile_fallback_equals_the_main_path(monkeypatch, q):
    # No Halley steps: every row goes to the bracketed fallback.
    locs, scales = _mixtures(1)
    levels = np.full(len(locs), q)
    want = _quantile.mixture_quantiles(locs, scales, levels)
    monkeypatch.setattr(_quantile, "_MAX_ITER", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NumPy's deprecations
        got = _quantile.mixture_quantiles(locs, scales, levels)
    assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_mixture_quantiles_of_equal_components_are_the_normal_ones():
    locs = np.array([[2.0, 2.0, 2.0], [-1.0, -1.0, -1.0]])
    scales = np.array([[0.5, 0.5, 0.5], [3.0, 3.0, 3.0]])
    for q in (1e-8, 0.1, 0.5, 0.9):
        got = _quantile.mixture_quantiles(locs, scales, np.full(2, q))
        assert_allclose(got, stats.norm.ppf(q, locs[:, 0], scales[:, 0]), rtol=1e-13)


def test_mixture_quantiles_in_row_blocks(monkeypatch):
    locs, scales = _mixtures(2, n=11, s=4)
    q = np.linspace(0.05, 0.95, 11)
    want = _quantile.mixture_quantiles(locs, scales, q)
    monkeypatch.setattr(_quantile, "_BLOCK", 8)  # two rows per block
    assert_allclose(_quantile.mixture_quantiles(locs, scales, q), want, rtol=1e-12)


def test_cornish_fisher_is_exact_for_a_normal():
    # One component: skew and excess kurtosis vanish, the start is the quantile.
    z = np.array([-2.0, 0.3, 1.5])
    mu, sig = np.array([[1.0], [2.0], [-3.0]]), np.array([[0.5], [2.0], [1.0]])
    got = _quantile._cornish_fisher(mu, sig, z)
    assert_allclose(got, mu[:, 0] + sig[:, 0] * z, rtol=1e-14)


def test_cornish_fisher_uses_the_mixture_moments():
    # Its expansion from moments computed by brute force.
    rng = np.random.default_rng(3)
    mu, sig = rng.normal(size=(4, 3)), rng.uniform(0.5, 1.5, (4, 3))
    z = np.array([-1.0, 0.5, 2.0, 0.0])
    draws = []
    for m, s in zip(mu, sig, strict=True):
        # Exact moments of the mixture: E X^r = mean_s E (m_s + s_s Z)^r.
        e = [
            np.mean([stats.norm(a, b).moment(r) for a, b in zip(m, s, strict=True)])
            for r in (1, 2, 3, 4)
        ]
        var = e[1] - e[0] ** 2
        m3 = e[2] - 3 * e[0] * e[1] + 2 * e[0] ** 3
        m4 = e[3] - 4 * e[0] * e[2] + 6 * e[0] ** 2 * e[1] - 3 * e[0] ** 4
        draws.append((e[0], var, m3 / var**1.5, m4 / var**2 - 3))
    mean, var, skew, kurt = np.array(draws).T
    w = (
        z
        + (z**2 - 1) * skew / 6
        + (z**3 - 3 * z) * kurt / 24
        - (2 * z**3 - 5 * z) * skew**2 / 36
    )
    assert_allclose(
        _quantile._cornish_fisher(mu, sig, z), mean + np.sqrt(var) * w, rtol=1e-10
    )


# ---------------------------------------------------------- float ordering
def test_float_keys_order_like_the_floats():
    x = np.array(
        [-np.inf, -1e300, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1.0, 1e300, np.inf]
    )
    keys = _maps._float_key(x)
    assert np.all(np.diff(keys[:4]) > 0) and np.all(np.diff(keys[5:]) > 0)
    assert keys[4] == keys[5] == 0  # both zeros
    assert keys[3] == -1 and keys[6] == 1  # adjacent floats differ by one
    nxt = np.nextafter(1.0, 2.0)
    assert _maps._float_key(np.array([nxt]))[0] - keys[7] == 1
    back = _maps._key_float(keys)
    assert back.dtype == np.float64
    assert_array_equal(back[[0, 1, 2, 3, 6, 7, 8, 9]], x[[0, 1, 2, 3, 6, 7, 8, 9]])
    assert not np.signbit(_maps._key_float(np.array([0]))[0])  # +0.0


def test_float_keys_of_non_float_arrays_are_those_of_their_values():
    assert_array_equal(
        _maps._float_key([1, 2, -3]), _maps._float_key(np.array([1.0, 2.0, -3.0]))
    )
    x32 = np.array([0.1, -2.5], dtype=np.float32)
    assert_array_equal(_maps._float_key(x32), _maps._float_key(x32.astype(float)))


@pytest.mark.parametrize("edge", [-1e300, -3.5, -1e-300, 0.0, 2.0**-1074, 0.7, 1e299])
def test_bisect_edge_finds_the_last_good_float(edge):
    # ok(z): z <= edge. From the far ends of the float line, in either direction.
    for good, bad in ((-1.7e308, 1.7e308), (-np.inf, np.inf)):
        last = _maps._bisect_edge(
            lambda z: z <= edge, np.array([good]), np.array([bad])
        )
        assert last[0] == edge
    last = _maps._bisect_edge(
        lambda z: z > edge, np.array([1.7e308]), np.array([-1.7e308])
    )
    assert last[0] == np.nextafter(edge, np.inf)


# -------------------------------------------------------- maps and Jacobians
def test_affine_map_evaluates_in_double_precision():
    f = _maps._Affine(1e8, 1.0)
    out = f(np.array([0.5, 0.25], dtype=np.float32))
    assert out.dtype == np.float64
    assert_array_equal(out, [1e8 + 0.5, 1e8 + 0.25])
    assert_allclose(f.inverse()(out), [0.5, 0.25])
    assert repr(_maps._Affine(2.0, -0.5)) == "affine(2 + -0.5 x)"


def test_constant_log_jacobian_is_elementwise():
    jac = _maps._ConstantLogJacobian(-0.5)
    out = jac(np.zeros((3, 2)))
    assert out.shape == (3, 2)
    assert_array_equal(out, -0.5)


@pytest.mark.parametrize(
    ("forward", "inverse", "log_jac"),
    [
        (np.exp, np.log, lambda y: -np.log(y)),
        (np.expm1, np.log1p, lambda y: -np.log1p(y)),
        (np.log, np.exp, lambda y: y),
        (np.log1p, np.expm1, lambda y: y),
    ],
)
def test_known_maps_give_the_change_of_variables(forward, inverse, log_jac):
    base = Normal([20.0, 30.0], [1.0, 2.0])
    d = TransformedDistribution(base, forward, inverse)
    y = forward(np.array([[19.0, 21.5], [33.0, 29.0]]))
    want = base.logpdf(inverse(y)) + log_jac(y)
    assert_allclose(d.logpdf(y), want, rtol=1e-12)
    # The known Jacobian, not a numerical one: exact to rounding.
    step = d._steps[0]
    assert_allclose(step.log_abs_dinverse(y, np.ones((2, 1))), log_jac(y), rtol=1e-15)


# ------------------------------------------------------------- push-forwards
def _clipped_arctan(a):
    """arctan, whose inverse clips y to [-a, a] (a < pi / 2): a saturating
    inverse, as a quantile map's beyond its training range."""
    return np.arctan, lambda y: np.tan(np.clip(y, -a, a))


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_a_saturating_inverse_puts_no_density_beyond_its_end(side):
    a = 1.4
    forward, inverse = _clipped_arctan(a)
    d = TransformedDistribution(Normal([0.0], [1.0]), forward, inverse)
    # Beyond the clip point: far (constant on both sides of y) and just past
    # it (constant on the outer side only, within a difference step).
    for y in (side * 1.5, side * (a + 5e-6)):
        assert d.logpdf([y])[0] == -np.inf
        assert d.cdf([y])[0] == (1.0 if side > 0 else 0.0)
    y = side * 1.0
    assert_allclose(
        d.logpdf([y])[0],
        stats.norm.logpdf(np.tan(y)) + np.log1p(np.tan(y) ** 2),
        rtol=1e-7,
    )


def test_a_preimage_the_inverse_misses_is_refused_at_any_magnitude():
    # sqrt of a positive base: y < 0 has the preimage y^2, which square
    # returns, but sqrt(y^2) = |y| != y; so also for |y| = 1e10.
    for loc, scale, y in ((4.0, 1.0, -1.5), (1e20, 1e18, -1e10)):
        d = TransformedDistribution(Normal([loc], [scale]), np.sqrt, np.square)
        with pytest.raises(ValueError, match="one-to-one"):
            d.logpdf([y])


def test_push_forward_quantiles_of_a_batch_of_targets():
    base = Normal(
        [[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]], [[1.0, 0.5], [0.2, 2.0], [1.0, 1.0]]
    )
    d = TransformedDistribution(base, np.exp, np.log)
    q = np.array([[0.1, 0.9], [0.5, 0.25], [0.99, 0.01]])
    assert_allclose(
        d.ppf(q), np.exp(stats.norm.ppf(q, base.loc, base.scale)), rtol=1e-12
    )
    q3 = np.stack([q, 1 - q], axis=-1)  # two levels per distribution
    want = np.exp(stats.norm.ppf(q3, base.loc[..., None], base.scale[..., None]))
    assert_allclose(d.ppf(q3), want, rtol=1e-12)
    assert_allclose(
        d.ppf(0.3), np.exp(stats.norm.ppf(0.3, base.loc, base.scale)), rtol=1e-12
    )


def test_push_forward_quantile_shapes_of_one_target():
    base = Normal([0.0, 1.0, 2.0], [1.0, 0.5, 2.0])
    d = TransformedDistribution(base, np.exp, np.log)
    want = np.exp(stats.norm.ppf(0.2, base.loc, base.scale))
    assert_allclose(d.ppf(0.2), want, rtol=1e-12)  # a scalar level: (n,)
    assert_allclose(d.ppf(np.full(3, 0.2)), want, rtol=1e-12)  # (n,) levels: (n,)
    assert d.ppf(np.full((3, 1), 0.2)).shape == (3, 1)
    assert d.ppf(np.full((3, 2), 0.2)).shape == (3, 2)


def test_default_number_of_draws_is_one():
    base = Normal([0.0, 1.0], [1.0, 2.0])
    for d in (base, TransformedDistribution(base, np.exp, np.log),
              NormalMixture(np.zeros((2, 3)), np.ones(3))):  # fmt: skip
        assert d.sample(random_state=0).shape == (2, 1)
    batch = TransformedDistribution(Normal(np.zeros((2, 3)), 1.0), np.exp, np.log)
    assert batch.sample(random_state=0).shape == (2, 3, 1)


def test_reprs_name_the_batch_and_the_maps():
    base = Normal([0.0, 1.0], [1.0, 2.0])
    assert repr(base) == "Normal(n=2)"
    assert repr(StudentT(3.0, np.zeros((2, 3)), 1.0)) == "StudentT(batch_shape=(2, 3))"
    d = TransformedDistribution(base, np.exp, np.log)
    assert repr(d) == "TransformedDistribution(n=2, base=Normal(n=2), maps=['exp'])"
    d2 = TransformedDistribution(d, _maps._Affine(1.0, 2.0), _maps._Affine(-0.5, 0.5))
    assert repr(d2) == (
        "TransformedDistribution(n=2, base=Normal(n=2), "
        "maps=['exp', 'affine(1 + 2 x)'])"
    )
    batch = TransformedDistribution(Normal(np.zeros((2, 3)), 1.0), np.exp, np.log)
    assert repr(batch) == (
        "TransformedDistribution(batch_shape=(2, 3), base=Normal(batch_shape=(2, 3)), "
        "maps=['exp'])"
    )


def test_variance_split_of_a_point_mass_and_of_an_infinite_variance():
    # A base of zero variance (a point mass) or infinite variance (df <= 2)
    # has no proportions to keep: all of the std is aleatoric.
    base = Normal([0.0, 1.0], [0.0, 2.0], epistemic_std=[0.0, 1.2])
    d = TransformedDistribution(base, np.exp, np.log)
    assert_array_equal(d.std[0], 0.0)
    assert_array_equal([d.epistemic_std[0], d.aleatoric_std[0]], 0.0)
    assert_allclose(d.epistemic_std[1] ** 2 / d.std[1] ** 2, 0.36, rtol=1e-12)
    heavy = StudentT([1.5, 5.0], [0.0, 0.0], [1.0, 1.0], epistemic_std=[0.5, 0.5])
    d = TransformedDistribution(heavy, np.arcsinh, np.sinh)
    assert np.all(np.isfinite(d.std))  # by quadrature, see the Notes
    assert d.epistemic_std[0] == 0.0 and d.aleatoric_std[0] == d.std[0]
    share = 0.25 / (5.0 / 3.0)
    assert_allclose(d.epistemic_std[1], d.std[1] * np.sqrt(share), rtol=1e-12)


def test_epistemic_std_of_a_push_forward_never_exceeds_its_std():
    # epistemic_std may exceed scale by rounding (1e-12 relative); the
    # push-forward's share is capped at one.
    base = Normal([0.0, 1.0], [1.0, 2.0], epistemic_std=[1.0 + 1e-12, 2.0])
    d = TransformedDistribution(base, np.exp, np.log)
    assert np.all(d.epistemic_std <= d.std)
    assert_array_equal(d.aleatoric_std, 0.0)


# ------------------------------------------------------- targets and draws
def test_check_targets_gives_float_values_and_names_y():
    from bayesreg.distributions._base import check_targets

    y = check_targets([1, 2, 3], (3,))
    assert y.dtype == np.float64
    assert_array_equal(y, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        check_targets([1.0, np.nan], (2,))
    with pytest.raises(ValueError, match=r"y must have shape \(2, 3\)"):
        check_targets(np.zeros((2, 3, 1)), (2, 3))
    assert_array_equal(check_targets(np.arange(2.0), (2, 1)), [[0.0], [1.0]])
    with pytest.raises(ValueError, match=r"y must have shape \(2,\) to match X"):
        check_targets(np.zeros(3), (2,))


class _Opaque(PredictiveDistribution):
    """A distribution that says nothing of the order of its draws."""

    n = 2
    mean = std = epistemic_std = aleatoric_std = np.zeros(2)

    def logpdf(self, y):
        return np.zeros(2)

    cdf = ppf = logpdf

    def sample(self, n_samples=1, random_state=None):
        return np.zeros((2, n_samples))


def test_presample_protocol():
    # Default: order unknown (False), nothing drawn. Normal / StudentT draw
    # row after row (None): blocks of rows in turn give the draws of all.
    rng = np.random.default_rng(0)
    assert _Opaque()._presample((2, 3), rng) is False
    assert rng.bit_generator.state == np.random.default_rng(0).bit_generator.state
    for d in (
        Normal([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]),
        StudentT(4.0, [0.0, 1.0, 2.0], 1.0),
    ):
        assert d._presample((3, 5), rng) is None
        whole = d.sample(5, np.random.default_rng(1))
        rng1 = np.random.default_rng(1)
        parts = [
            d_.sample(5, rng1)
            for d_ in (
                d.__class__(*(p[:2] for p in d._params())),
                d.__class__(*(p[2:] for p in d._params())),
            )
        ]
        assert_array_equal(np.concatenate(parts), whole)


# ----------------------------------------------------------------- mixtures
def test_mixture_density_and_cdf_of_several_values_per_point():
    locs, scales = _mixtures(4, n=3, s=4)
    d = NormalMixture(locs, scales)
    y = np.array([[-1.0, 0.0, 2.5], [0.3, 0.3, -4.0], [1.0, 7.0, -0.5]])
    comp = stats.norm(locs[:, None, :], scales[:, None, :])
    assert_allclose(d.logpdf(y), np.log(comp.pdf(y[..., None]).mean(-1)), rtol=1e-12)
    assert_allclose(d.cdf(y), comp.cdf(y[..., None]).mean(-1), rtol=1e-12)


# ------------------------------------------------------ moments by quadrature
def test_quadrature_moments_of_a_mixture_through_an_affine_map():
    # No closed form is tried for affine-only maps: the quadrature must give
    # the mixture's own moments (law of total variance) to near rounding.
    locs, scales = _mixtures(5, n=4, s=3)
    d = TransformedDistribution(
        NormalMixture(locs, scales), _maps._Affine(1.0, -2.0), _maps._Affine(0.5, -0.5)
    )
    mean = locs.mean(1)
    var = (scales**2 + locs**2).mean(1) - mean**2
    assert_allclose(d.mean, 1.0 - 2.0 * mean, rtol=1e-10)
    assert_allclose(d.std, 2.0 * np.sqrt(var), rtol=1e-10)


@pytest.mark.parametrize("mixture", [False, True])
def test_quadrature_moments_in_row_chunks(monkeypatch, mixture):
    from bayesreg.distributions import _transformed

    rng = np.random.default_rng(6)
    locs, scales = rng.normal(size=(5, 3)), rng.uniform(0.2, 1.0, (5, 3))
    base = NormalMixture(locs, scales) if mixture else Normal(locs[:, 0], scales[:, 0])

    def moments():
        d = TransformedDistribution(base, np.arcsinh, np.sinh)
        return d.mean, d.std

    whole = moments()
    monkeypatch.setattr(_transformed, "_PUSH_CHUNK", 1)  # one row per chunk
    for got, want in zip(moments(), whole, strict=True):
        assert_allclose(got, want, rtol=1e-14)
    # arcsinh's moments by brute force: a fine grid in the base's CDF.
    u = (np.arange(200_000) + 0.5) / 200_000
    row = 2
    if mixture:
        z = np.concatenate(
            [
                stats.norm.ppf(u, m, s)
                for m, s in zip(locs[row], scales[row], strict=True)
            ]
        )
    else:
        z = stats.norm.ppf(u, locs[row, 0], scales[row, 0])
    assert_allclose(whole[0][row], np.arcsinh(z).mean(), rtol=1e-6)
    assert_allclose(whole[1][row], np.arcsinh(z).std(), rtol=1e-5)


@pytest.mark.parametrize("mixture", [False, True])
def test_overflowing_moments_are_infinite_without_warnings(mixture):
    # exp of values near 700 overflows at some nodes: mean and std are inf.
    base = (
        NormalMixture([[700.0, 705.0]], [1.0, 1.0])
        if mixture
        else Normal([705.0], [1.0])
    )
    d = TransformedDistribution(base, lambda z: np.exp(z), np.log)  # no closed form
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d.mean[0] == np.inf and d.std[0] == np.inf


def test_lazy_draws_have_no_known_order():
    # Lazy (dask) draws come from a seed per block: no presampled order.
    da = pytest.importorskip("dask.array")
    from bayesreg._dask._predict import LazyNormal, LazyStudentT

    loc = da.from_array(np.zeros(4), chunks=2)
    rng = np.random.default_rng(0)
    for d in (LazyNormal(loc, 1.0), LazyStudentT(3.0, loc, 1.0)):
        assert d._presample((4, 3), rng) is False
    assert rng.bit_generator.state == np.random.default_rng(0).bit_generator.state


# ------------------------------------------------------- numerical slopes
def test_slope_by_central_differences():
    x = np.array([0.0, 0.5, -2.0, 30.0])
    assert_allclose(_maps._slope(np.exp, x, np.full(4, 100.0)), np.exp(x), rtol=1e-8)
    # At 0 the step is sized by the scale (1e-2 of it), not by |x|: a step
    # of 6e-10 would leave 1e-5 of rounding error in a slope of 100 + e^x.
    got = _maps._slope(lambda x: 100.0 + np.exp(x), np.zeros(1), np.full(1, 100.0))
    assert_allclose(got, 1.0, rtol=1e-8)


def test_slope_near_the_end_of_the_domain():
    # sqrt at 1e-9: the step sized by the scale (1e-8) crosses 0, the
    # relative step (6e-15) does not.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaNs probed silently
        got = _maps._slope(np.sqrt, np.array([1e-9, 4.0]), np.ones(2))
    assert_allclose(got, 0.5 / np.sqrt([1e-9, 4.0]), rtol=1e-6)


def test_slope_at_the_end_of_the_domain_is_one_sided():
    # x^2 defined on one side of 2 only: a one-sided difference on that side.
    right = lambda x: np.where(x >= 2.0, x * x, np.nan)  # noqa: E731
    left = lambda x: np.where(x <= 2.0, x * x, np.nan)  # noqa: E731
    for func in (right, left):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = _maps._slope(
                func, np.array([2.0, 3.0 if func is right else 1.0]), np.ones(2)
            )
        assert_allclose(got, [4.0, 6.0 if func is right else 2.0], rtol=1e-5)


def test_a_batch_of_an_unknown_family_is_refused_by_name():
    class Batch(_Opaque):
        @property
        def batch_shape(self):
            return (2, 3)

    message = (
        "a Batch with batch shape (2, 3) cannot be pushed forward; only Normal, "
        "StudentT, NormalMixture and TransformedDistribution batches of several "
        "targets can."
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(Batch(), np.exp, np.log)


# ------------------------------------------------------------- quadratures
def test_tanh_sinh_rule_integrates_the_normal_quantile_moments():
    from bayesreg.distributions._transformed import _tanh_sinh_rule

    p, c, w = _tanh_sinh_rule()
    assert len(w) == 81  # as documented
    assert_array_equal(p, c[::-1])  # symmetric about 1/2, 1 - p exact
    assert_allclose(w, w[::-1], rtol=1e-15)
    assert_allclose(w.sum(), 1.0, rtol=1e-15)
    # The moments of Z ~ N(0, 1), integral_0^1 Q(u)^r du, Q singular at 0, 1.
    x = np.where(p <= 0.5, stats.norm.ppf(p), stats.norm.isf(c))
    assert abs(x @ w) < 1e-15
    assert_allclose(x**2 @ w, 1.0, rtol=1e-10)
    assert_allclose(np.exp(x) @ w, np.exp(0.5), rtol=1e-10)


def test_crps_of_a_log_normal_push_forward_in_row_chunks(monkeypatch):
    # CRPS of a log-normal in closed form (Baran and Lerch, 2015).
    from bayesreg.distributions import _transformed
    from bayesreg.metrics import crps

    mu, sigma = np.array([0.0, 1.0, -0.5]), np.array([0.5, 0.3, 1.0])
    y = np.array([1.2, 2.0, 0.1])
    z = (np.log(y) - mu) / sigma
    want = y * (2 * stats.norm.cdf(z) - 1) - 2 * np.exp(mu + sigma**2 / 2) * (
        stats.norm.cdf(z - sigma) + stats.norm.cdf(sigma / np.sqrt(2)) - 1
    )
    monkeypatch.setattr(_transformed, "_PUSH_CHUNK", 1)  # one row per chunk
    d = TransformedDistribution(Normal(mu, sigma), lambda z: np.exp(z), np.log)
    assert_allclose(crps(y, d), want, rtol=1e-8)


def test_row_subsets_and_row_chunks():
    from bayesreg.distributions._transformed import _row_chunks, _row_subset

    locs, scales = _mixtures(7, n=5, s=3)
    rows = slice(1, 4)
    for d in (
        Normal(locs[:, 0], scales[:, 0]),
        StudentT(locs[:, 1] ** 2 + 1, locs[:, 0], scales[:, 0]),
        NormalMixture(locs, scales),
    ):
        sub = _row_subset(d, rows)
        assert type(sub) is type(d) and sub.n == 3
        y = locs[rows, 2]
        assert_allclose(sub.logpdf(y), d.logpdf(locs[:, 2])[rows], rtol=1e-14)
        # Chunks of rows, in order and covering every row once.
        chunks = _row_chunks(5, 2**21, d)
        assert chunks == [slice(i, i + 1) for i in range(5)]
        assert _row_chunks(5, 2**20, d) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    # Unknown families are neither subset nor chunked.
    assert _row_subset(_Opaque(), rows) is None
    assert _row_chunks(2, 2**21, _Opaque()) == [slice(0, 2)]


def test_push_forward_cdf_and_density_of_several_values_per_point():
    # Log-normal in closed form; one value outside the range (y <= 0).
    base = Normal([0.0, 1.0], [0.5, 2.0])
    d = TransformedDistribution(base, np.exp, np.log)
    y = np.array([[0.5, 1.0, 3.0], [-1.0, 2.0, 10.0]])
    ref = stats.lognorm(s=base.scale[:, None], scale=np.exp(base.loc)[:, None])
    with np.errstate(divide="ignore"):
        assert_allclose(d.cdf(y), ref.cdf(y), rtol=1e-12)
        assert_allclose(d.logpdf(y), ref.logpdf(y), rtol=1e-12)


def _tail_mass(x, locs, scales, upper):
    """F(x), or 1 - F(x) for the upper levels, without cancellation."""
    z = (x[:, None] - locs) / scales
    return (stats.norm.sf(z) if upper else stats.norm.cdf(z)).mean(axis=1)


@pytest.mark.parametrize(
    "q", [1e-300, 1e-30, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.999, 1 - 1e-15]
)
def test_mixture_quantiles_hit_their_level_to_1e12_in_a_few_steps(monkeypatch, q):
    # The documented accuracy, F(x) = p (1 +- 1e-12) for the tail mass p,
    # within a few Halley steps (the bracketed fallback is not needed), and
    # without floating-point warnings in the far tails.
    rng = np.random.default_rng(8)
    locs = rng.normal(size=(40, 6)) * rng.uniform(0.01, 10.0, (40, 1))
    scales = rng.uniform(0.05, 3.0, (40, 6))

    def no_fallback(*args):
        raise AssertionError("the fallback was needed")

    # These multimodal mixtures need up to 12 steps; bisection alone ~50.
    monkeypatch.setattr(_quantile, "_MAX_ITER", 16)
    monkeypatch.setattr(_quantile, "_find_root", no_fallback)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = _quantile.mixture_quantiles(locs, scales, np.full(40, q))
    upper = q > 0.5
    p = 1 - q if upper else q
    assert_allclose(_tail_mass(x, locs, scales, upper), p, rtol=1e-11)


class _Logistic(PredictiveDistribution):
    """A family the push-forward knows nothing about: its moments come from
    its ppf, in one chunk (it cannot be split by rows)."""

    def __init__(self, loc, scale):
        self.loc, self.scale = np.asarray(loc, float), np.asarray(scale, float)
        self.n = len(self.loc)
        self._d = stats.logistic(self.loc[:, None], self.scale[:, None])

    mean = property(lambda self: self.loc)
    std = property(lambda self: self.scale * np.pi / np.sqrt(3))
    epistemic_std = property(lambda self: np.zeros(self.n))
    aleatoric_std = std

    def logpdf(self, y):
        return self._d.logpdf(np.asarray(y).reshape(self.n, -1)).reshape(np.shape(y))

    def cdf(self, y):
        return self._d.cdf(np.asarray(y).reshape(self.n, -1)).reshape(np.shape(y))

    def ppf(self, q):
        q = np.broadcast_to(q, (self.n,)) if np.ndim(q) == 0 else np.asarray(q)
        return self._d.ppf(q.reshape(self.n, -1)).reshape(q.shape)

    def sample(self, n_samples=1, random_state=None):
        return self._d.rvs(size=(self.n, n_samples), random_state=random_state)


def test_moments_of_an_unknown_family_pushed_forward(monkeypatch):
    from bayesreg.distributions import _transformed

    monkeypatch.setattr(_transformed, "_PUSH_CHUNK", 1)  # not split anyway
    base = _Logistic([0.0, 2.0, -1.0], [1.0, 0.5, 2.0])
    d = TransformedDistribution(base, lambda z: 3.0 - 2.0 * z, lambda y: (3.0 - y) / 2)
    assert_allclose(d.mean, 3.0 - 2.0 * base.loc, rtol=1e-9)
    assert_allclose(d.std, 2.0 * base.std, rtol=1e-8)
    assert_allclose(d.ppf(0.9), 3.0 - 2.0 * base.ppf(0.1), rtol=1e-12)


@pytest.mark.parametrize("tail", [1e-31, 1e-40, 1e-200, 1e-300])
def test_far_student_t_quantiles_equal_the_closed_forms(tail):
    # df = 1 (Cauchy): -cot(pi t); df = 2: (2t - 1) / sqrt(2 t (1 - t)).
    # Below 1e-155 the Cauchy's w = df / (df + x^2) underflows: x once -inf.
    from bayesreg.distributions._transformed import _student_t_lower_quantile

    got = _student_t_lower_quantile(np.array([1.0, 2.0]), np.full(2, tail))
    want = [-1 / np.tan(np.pi * tail), (2 * tail - 1) / np.sqrt(2 * tail * (1 - tail))]
    assert_allclose(got, want, rtol=1e-12)
    d = TransformedDistribution(StudentT(1.0, [0.0], [1.0]), _maps._Affine(1.0, 2.0),
                                _maps._Affine(-0.5, 0.5))  # fmt: skip
    assert_allclose(d.ppf(tail), 1.0 - 2.0 / np.tan(np.pi * tail), rtol=1e-12)


def test_far_student_t_quantiles_of_many_degrees_of_freedom():
    from bayesreg.distributions._transformed import _student_t_lower_quantile

    got = _student_t_lower_quantile(np.array([30.0, 5.0]), np.full(2, 1e-40))
    assert_allclose(got, stats.t.ppf(1e-40, [30.0, 5.0]), rtol=1e-10)
    # Beyond the floats: the true quantile (about -1e400) overflows.
    assert _student_t_lower_quantile(np.array([0.5]), np.array([1e-200]))[0] == -np.inf


def test_one_target_of_a_push_forward_keeps_its_log_jacobian():
    from bayesreg.distributions import _take_output

    calls = []

    def log_jac(y):
        calls.append(1)
        return -np.log(y)

    d = TransformedDistribution(Normal(np.zeros((2, 3)), 1.0), np.exp, np.log,
                                inverse_log_jacobian=log_jac)  # fmt: skip
    one = _take_output(d, 1)
    calls.clear()
    assert_allclose(one.logpdf([1.0, 2.0]), stats.lognorm(1.0).logpdf([1.0, 2.0]))
    assert calls  # the user's Jacobian, not central differences
    with pytest.raises(TypeError, match=r"^cannot select one target of a _Opaque\.$"):
        _take_output(_Opaque(), 0)


def test_log_normal_density_far_out_and_the_one_to_one_message():
    # Pulled back through log and pushed again through exp, y comes back to
    # rounding: inside the range at every magnitude.
    d = TransformedDistribution(Normal([20.0], [3.0]), np.exp, np.log)
    y = np.logspace(-5, 300, 200)[None, :]
    want = stats.lognorm(s=3.0, scale=np.exp(20.0)).logpdf(y)
    assert_allclose(d.logpdf(y), want, rtol=1e-10)
    d = TransformedDistribution(Normal([4.0], [1.0]), np.sqrt, np.square)
    message = (
        "inverse maps y=-1.5 (point 0) to a value that forward sends to 1.5: the "
        "target transform is not strictly monotone (one-to-one) where it is used."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        d.logpdf([-1.5])


def test_closed_form_moments_through_affine_maps_after_exp():
    base = Normal([0.0, 1.0], [0.5, 2.0])
    d = TransformedDistribution(base, np.exp, np.log)
    for a, s in ((1.0, 2.0), (-3.0, 0.5)):
        d = TransformedDistribution(
            d, _maps._Affine(a, s), _maps._Affine(-a / s, 1 / s)
        )
    # y = -3 + 0.5 (1 + 2 exp(Z)) = -2.5 + exp(Z): log-normal moments, shifted.
    mean = np.exp(base.loc + base.scale**2 / 2)
    std = mean * np.sqrt(np.expm1(base.scale**2))
    assert_allclose(d.mean, -2.5 + mean, rtol=1e-14)
    assert_allclose(d.std, std, rtol=1e-14)


def test_closed_form_moments_that_overflow_or_diverge_are_infinite_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # exp(mu + sigma^2 / 2) = exp(722) overflows.
        d = TransformedDistribution(Normal([0.0], [38.0]), np.exp, np.log)
        assert d.mean[0] == np.inf and d.std[0] == np.inf
        t = TransformedDistribution(StudentT(50.0, [0.0], [0.1]), np.exp, np.log)
        assert t.mean[0] == np.inf and t.std[0] == np.inf


def test_default_interval_is_the_central_95_percent():
    d = Normal([0.0, 1.0], [1.0, 2.0])
    assert_array_equal(d.interval(), d.interval(0.95))


def test_mixture_quantiles_of_one_level_per_point_have_the_batch_shape():
    locs, scales = _mixtures(9, n=4, s=3)
    d = NormalMixture(locs, scales)
    q = np.array([0.1, 0.5, 0.9, 0.99])
    got = d.ppf(q)
    assert got.shape == (4,)
    assert_allclose(d.cdf(got), q, rtol=1e-11)


@pytest.mark.parametrize(
    ("locs", "scales", "message"),
    [
        (
            np.zeros((3, 0)),
            np.ones(0),
            r"locs must have shape \(n, S\) or \(n, k, S\), got \(3, 0\)\.",
        ),
        (np.zeros((3, 2, 0)), np.ones(0), r"got \(3, 2, 0\)\."),
        (np.array([[0.0, np.nan]]), np.ones(2), r"^locs and scales must be finite\.$"),
        (
            np.zeros((1, 2)),
            np.array([1.0, np.inf]),
            r"^locs and scales must be finite\.$",
        ),
        (np.zeros((1, 2)), np.array([1.0, 0.0]), r"^scales must be positive\.$"),
        (np.zeros((1, 2)), np.array([1.0, -1.0]), r"^scales must be positive\.$"),
        (
            np.zeros((2, 2)),
            np.ones(3),
            r"^scales of shape \(1, 3\) do not broadcast to the shape of locs, "
            r"\(2, 2\)\.$",
        ),
        (
            np.zeros((2, 4, 2)),
            np.ones(3),
            r"^scales of shape \(3,\) do not broadcast to the shape of locs, "
            r"\(2, 4, 2\)\.$",
        ),
    ],
)
def test_mixture_refusals(locs, scales, message):
    with pytest.raises(ValueError, match=message):
        NormalMixture(locs, scales)


def test_one_component_mixture_is_its_normal():
    d = NormalMixture([[1.0], [-2.0]], [0.5])
    assert_allclose(d.ppf(0.3), stats.norm.ppf(0.3, [1.0, -2.0], 0.5), rtol=1e-12)
    assert_allclose(d.std, [0.5, 0.5])


def test_normal_quantiles_of_one_level_per_point():
    d = Normal([0.0, 1.0, -1.0], [1.0, 2.0, 0.5])
    q = np.array([0.1, 0.9, 0.5])
    assert_allclose(d.ppf(q), stats.norm.ppf(q, d.loc, d.scale), rtol=1e-14)


# ---------------------------------------------------------------------------
# Refusals by their full messages, the domain-end search against brute force
# (issue 21: the survivors the first mutation run left unanalysed).


def _identity(z):
    return np.asarray(z, dtype=float) * 1.0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            ([1.0], np.exp, np.log),
            {},
            TypeError,
            "base must be a PredictiveDistribution, got list.",
        ),
        (
            (Normal([0.0], [1.0]), 3.0, np.log),
            {},
            TypeError,
            "forward must be callable, got float.",
        ),
        (
            (Normal([0.0], [1.0]), np.exp, "log"),
            {},
            TypeError,
            "inverse must be callable, got str.",
        ),
        (
            (Normal([0.0], [1.0]), np.exp, np.log),
            {"inverse_log_jacobian": 1},
            TypeError,
            "inverse_log_jacobian must be callable, got int.",
        ),
        (
            (Normal([0.0], [1.0]), None, np.log),
            {},
            TypeError,
            "forward and inverse are required.",
        ),
        (
            (Normal([0.0], [1.0]), np.exp, None),
            {},
            TypeError,
            "forward and inverse are required.",
        ),
    ],
)
def test_push_forward_argument_refusals(args, kwargs, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        TransformedDistribution(*args, **kwargs)


def test_push_forward_of_a_lazy_base_is_refused():
    da = pytest.importorskip("dask.array")
    from bayesreg._dask._predict import LazyNormal

    base = LazyNormal(da.from_array(np.zeros(3), chunks=2), 1.0)
    message = (
        "TransformedDistribution is NumPy only: compute the lazy (dask) "
        "base distribution first."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(base, np.exp, np.log)


def test_lazy_parameter_messages_name_the_parameter():
    da = pytest.importorskip("dask.array")
    from bayesreg._dask._predict import LazyNormal

    x = da.from_array(np.arange(4.0), chunks=2)
    message = (
        "loc has unknown chunk sizes (shape (nan,)); call "
        "loc.compute_chunk_sizes() first."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        LazyNormal(x[x > 0], 1.0)


def test_direction_of_a_push_forward_is_a_bool_for_every_batch():
    one = Normal(np.full((2, 2), 5.0), 0.1)
    assert TransformedDistribution(one, np.exp, np.log).increasing is True
    assert TransformedDistribution(one, np.negative, np.negative).increasing is False
    # Only point masses: no direction to detect, still a bool.
    points = TransformedDistribution(Normal([1.0, 2.0], [0.0, 0.0]), np.exp, np.log)
    assert isinstance(points.increasing, bool)


def test_several_targets_use_the_users_log_jacobian():
    calls = []

    def log_jacobian(y):
        calls.append(np.shape(y))
        return -np.log(y)

    base = Normal([[0.0, 1.0], [0.5, -1.0]], [[1.0, 0.5], [2.0, 1.0]])
    d = TransformedDistribution(
        base,
        lambda z: np.exp(z),
        lambda y: np.log(y),
        inverse_log_jacobian=log_jacobian,
    )
    y = np.array([[0.5, 2.0], [3.0, 0.1]])
    calls.clear()
    expected = stats.norm.logpdf(np.log(y), base.loc, base.scale) - np.log(y)
    assert_allclose(d.logpdf(y), expected, rtol=1e-14)
    assert calls


@pytest.mark.parametrize(
    ("loc", "where"),
    [([5.0, 5.0, -5.0], 2), ([5.0, -5.0, 5.0], 1)],
)
def test_map_undefined_in_the_bulk_names_the_point(loc, where):
    message = (
        "the map is undefined (NaN) between the 0.001 and 0.999 quantiles of "
        f"the base (point {where}): it must be strictly monotone where the "
        "distribution lives."
    )
    base = Normal(loc, [0.0, 1.0, 1.0])  # point 0 is a point mass: not probed
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(base, np.sqrt, np.square)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_map_flat_in_the_bulk_is_not_strictly_monotone(sign):
    message = (
        "the map is not strictly monotone between the 0.001 and 0.999 "
        "quantiles of the base (point 2); a push-forward needs a strictly "
        "increasing or decreasing map."
    )
    base = Normal([0.0, -10.0, 0.0], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(
            base, lambda z: sign * np.minimum(z, 1.0), lambda y: sign * y
        )


@pytest.mark.parametrize(
    ("loc", "up", "down"), [([0.0, -10.0, 10.0], 2, 1), ([0.0, 10.0, -10.0], 1, 2)]
)
def test_map_increasing_for_one_point_and_decreasing_for_another(loc, up, down):
    message = (
        f"the map is not monotone: it increases over the base of point {up} "
        f"and decreases over that of point {down}."
    )
    base = Normal(loc, [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(base, np.square, np.sqrt)


@pytest.mark.parametrize(
    ("forward", "level"),
    [
        (lambda z: np.maximum(z, -6.4 - z), "0.0001"),  # turns at z = -3.2
        (lambda z: np.minimum(z, 6.4 - z), "0.9999"),  # turns at z = 3.2
        (lambda z: np.minimum(z, 7.0 - z), "0.999999"),  # turns at z = 3.5
    ],
)
def test_map_turning_back_in_a_near_tail_names_the_level(forward, level):
    # Standard Normal quantiles: 3.09 (0.999), 3.72 (0.9999), 4.75 (1 - 1e-6).
    message = (
        "the map is not monotone where the distribution lives: it turns back "
        f"at the {level} quantile of the base of point 0."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(Normal([0.0], [1.0]), forward, _identity)


def test_map_turning_back_in_a_near_tail_names_the_point():
    # Point 1 (scale 0.5) stays below the turn at 3.2 out to 1 - 1e-6.
    message = (
        "the map is not monotone where the distribution lives: it turns back "
        "at the 0.9999 quantile of the base of point 2."
    )
    base = Normal([0.0, 0.0, 0.0], [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(base, lambda z: np.minimum(z, 6.4 - z), _identity)


def _undefined_beyond(z, end=30.0):
    z = np.asarray(z, dtype=float)
    return np.where(np.abs(z) < end, z, np.nan)


def test_domain_ends_are_the_last_floats_where_the_map_is_defined():
    # Defined on (-30, 30): the far probes 1e-300 and 1 - 1e-300 (|z| = 37)
    # are NaN, those of 1e-100 (|z| = 21.3) are not.
    d = TransformedDistribution(Normal([0.0], [1.0]), _undefined_beyond, _identity)
    assert d._z_lo[0] == np.nextafter(-30.0, 0.0)
    assert d._z_hi[0] == np.nextafter(30.0, 0.0)
    # Mass beyond an end sits at the end of the range.
    assert d.ppf(1e-305)[0] == np.nextafter(-30.0, 0.0)
    assert_allclose(d.ppf(0.3), stats.norm.ppf(0.3), rtol=1e-15)
    # Decreasing: the lowest levels come from the upper end.
    r = TransformedDistribution(
        Normal([0.0], [1.0]), lambda z: -_undefined_beyond(z), np.negative
    )
    assert r._z_hi[0] == np.nextafter(30.0, 0.0)
    assert r.ppf(1e-305)[0] == -np.nextafter(30.0, 0.0)


def test_domain_end_is_the_first_nan_outward_even_if_defined_again_beyond():
    def holed(z):
        z = np.asarray(z, dtype=float)
        return np.where((z > -25.0) & (z < -20.0), np.nan, z)

    # NaN at the 1e-100 probe (z = -21.3), defined again at 1e-300 (z = -37).
    d = TransformedDistribution(Normal([0.0], [1.0]), holed, _identity)
    assert d._z_lo[0] == -20.0
    assert d._z_hi[0] == np.inf


def test_domain_end_where_the_map_turns_back_in_a_far_tail():
    # g turns at z = -15, between the 1e-30 (-11.46) and 1e-100 (-21.3)
    # probes: the end is the last z below the 1e-30 probe whose image has not
    # come back above that probe's image, by brute force on adjacent floats.
    def g(z):
        return np.maximum(z, -30.0 - z)

    d = TransformedDistribution(Normal([0.0], [1.0]), g, _identity)
    z_ref = stats.norm.ppf(1e-30)
    end = d._z_lo[0]
    assert end < z_ref
    assert g(end) <= g(z_ref) and g(np.nextafter(end, -np.inf)) > g(z_ref)
    assert_allclose(end, -30.0 - z_ref, rtol=1e-15)


def test_inverse_that_does_not_undo_forward_is_quoted_at_its_first_probe():
    z = stats.norm.ppf(1e-3)  # the first bulk probe
    message = (
        "inverse does not undo forward over the base of point 0 (forward sends "
        f"{z:g} to {np.exp(z):g}, inverse sends that to {z + 1.0:g}): they must "
        "be inverse functions where the distribution lives."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(Normal([0.0], [1.0]), np.exp, lambda y: np.log(y) + 1.0)


def test_map_with_a_step_below_the_median_is_refused_as_constant():
    # g is 0 on (-3e-7, 0]: a step below the median z = 0 that the bulk
    # probes (0, +-0.067) miss; the inverse sends 0 to the step's lower end,
    # 3e-7 off (over the tolerance 1e-6 * IQR = 1.3e-7). The step is found
    # within the difference step 6e-6 * 0.01 * IQR = 8e-9, on one side only.
    width = 3e-7

    def forward(z):
        z = np.asarray(z, dtype=float)
        return np.where((z > -width) & (z <= 0.0), 0.0, z)

    def inverse(y):
        y = np.asarray(y, dtype=float)
        return np.where(y == 0.0, -width, y)

    message = (
        "the map is constant around y=0 over the base of point 0, so not "
        "strictly monotone where the distribution lives (a quantile map "
        "fitted to tied values has such steps)."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TransformedDistribution(Normal([0.0], [0.1]), forward, inverse)


def test_inverse_that_saturates_in_the_bulk_is_accepted():
    # The inverse clips at +-2: constant beyond, so the map is fine there.
    d = TransformedDistribution(
        Normal([0.0], [1.0]), _identity, lambda y: np.clip(y, -2.0, 2.0)
    )
    assert_allclose(d.cdf(np.array([1.0])), stats.norm.cdf([1.0]), rtol=1e-15)


def test_interquartile_range_of_the_probes():
    values = np.zeros((4, len(_transformed._PROBE_P)))
    lo, hi = _transformed._QUARTILES
    values[:, lo] = [-1.0, 2.0, -np.inf, np.nan]
    values[:, hi] = [3.0, 2.0, 1.0, 1.0]
    # |hi - lo|, and 1 where that is zero, infinite or NaN.
    assert_array_equal(_transformed._iqr(values), [[4.0], [1.0], [1.0], [1.0]])


def test_push_forward_of_a_mixture_quantile_is_the_map_of_its_quantile():
    base = NormalMixture([[0.0, 1.0]], [[1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = TransformedDistribution(base, np.exp, np.log)
        # Q_Y(q) = g(Q_Z(q)), subnormal levels included.
        for q in (0.3, 1e-300, 1e-320):
            assert_allclose(d.ppf(q), np.exp(base.ppf(q)), rtol=1e-15)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Normal([np.nan], [1.0]), "loc contains NaN or infinite values."),
        (
            lambda: Normal(np.zeros((1, 1, 1)), 1.0),
            "loc must have shape (n,) or (n, k), got shape (1, 1, 1).",
        ),
        (lambda: Normal([0.0], [-1.0]), "scale must be non-negative."),
        (lambda: Normal([0.0], [np.inf]), "scale contains NaN or infinite values."),
        (
            lambda: Normal([0.0, 1.0, 2.0], [1.0, 2.0]),
            "scale has 2 entries, expected 3.",
        ),
        (
            lambda: Normal([0.0, 1.0], [[1.0, 1.0]]),
            "scale must be one-dimensional, got shape (1, 2).",
        ),
        (
            lambda: Normal([0.0, 1.0, 2.0], 1.0, epistemic_std=[0.1, 0.1]),
            "epistemic_std has 2 entries, expected 3.",
        ),
        (
            lambda: Normal([0.0], [1.0], epistemic_std=[2.0]),
            "epistemic_std cannot exceed the total scale.",
        ),
        (lambda: StudentT(0.0, [0.0], [1.0]), "df must be positive."),
        (
            lambda: StudentT([1.0, 2.0], [0.0, 1.0, 2.0], 1.0),
            "df has 2 entries, expected 3.",
        ),
    ],
)
def test_location_scale_refusals(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


def test_one_value_for_every_point():
    d = Normal([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert_allclose(d.logpdf(0.5), stats.norm.logpdf(0.5, d.loc, d.scale), rtol=1e-15)


@pytest.mark.parametrize(
    ("batch", "y", "message"),
    [
        ((3,), np.zeros(2), "y has 2 values but the distribution describes 3 points."),
        ((3,), np.zeros((3, 2, 2)), "y must have shape (3,) or (3, k), got (3, 2, 2)."),
        (
            (3, 2),
            np.zeros((3, 5, 4)),
            "y must have shape (3, 2) (one value per distribution) or (3, 2, m), "
            "got (3, 5, 4).",
        ),
    ],
)
def test_values_of_the_wrong_shape_are_refused(batch, y, message):
    d = Normal(np.zeros(batch), 1.0)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        d.logpdf(y)


def test_affine_maps_carry_their_exact_log_jacobian_and_moments():
    affine = _maps._Affine(0.7, 3.0)
    base = Normal([0.3], [1.7])
    d = TransformedDistribution(base, affine, affine.inverse())
    y = np.linspace(-5.0, 9.0, 15)[None, :]
    expected = stats.norm.logpdf((y - 0.7) / 3.0, 0.3, 1.7) - np.log(3.0)
    # Central differences would be off by about 1e-11 (rounding over h).
    assert_allclose(d.logpdf(y), expected, rtol=0, atol=1e-14)
    # exp of a Student-t has no moments, whatever affine map follows (a
    # quadrature would give finite numbers).
    # df = 50, scale 0.1: the quadrature's nodes stay finite through exp.
    t = TransformedDistribution(StudentT(50.0, [0.0], [0.1]), np.exp, np.log)
    t = TransformedDistribution(t, affine, affine.inverse())
    assert t.mean[0] == np.inf and t.std[0] == np.inf


def test_repr_names_a_map_without_a_name_by_its_repr():
    import functools

    d = TransformedDistribution(
        Normal([1.0], [0.1]),
        functools.partial(np.multiply, 2.0),
        functools.partial(np.multiply, 0.5),
    )
    assert repr(d) == (
        "TransformedDistribution(n=1, base=Normal(n=1), "
        "maps=[\"functools.partial(<ufunc 'multiply'>, 2.0)\"])"
    )


def _reference_blocks(n: int, pairs_per_row: int, budget: int) -> list[range]:
    """Consecutive blocks of the most rows whose pairs fit the budget (at
    least one row), covering rows 0 .. n - 1."""
    rows = 1
    while (rows + 1) * pairs_per_row <= budget:
        rows += 1
    return [range(a, min(a + rows, n)) for a in range(0, n, rows)]


def _as_ranges(blocks, n: int) -> list[range]:
    return [range(n)[block] for block in blocks]


@pytest.mark.parametrize("n_components", [1, 3, 8, 9])
def test_level_blocks_bound_the_pairs_at_a_time(monkeypatch, n_components):
    from bayesreg.distributions import _mixture

    monkeypatch.setattr(_mixture, "_BLOCK", 8)
    blocks = _mixture._level_blocks(11, n_components)
    assert _as_ranges(blocks, 11) == _reference_blocks(11, n_components, 8)


@pytest.mark.parametrize(("n_components", "m"), [(1, 1), (2, 3), (9, 1), (3, 2)])
def test_mixture_row_blocks_bound_the_pairs_at_a_time(monkeypatch, n_components, m):
    from bayesreg.distributions import _mixture

    monkeypatch.setattr(_mixture, "_BLOCK", 8)
    d = NormalMixture(np.zeros((5, 2, n_components)), 1.0)  # 10 distributions
    got = _as_ranges(d._row_blocks(m), 10)
    assert got == _reference_blocks(10, m * n_components, 8)


@pytest.mark.parametrize("n_components", [1, 3, 9])
def test_mixture_quantiles_go_in_blocks_of_rows(monkeypatch, n_components):
    seen = []
    block_quantiles = _quantile._block_quantiles

    def spy(locs, scales, q):
        seen.append(q.copy())
        return block_quantiles(locs, scales, q)

    monkeypatch.setattr(_quantile, "_BLOCK", 8)
    monkeypatch.setattr(_quantile, "_block_quantiles", spy)
    rng = np.random.default_rng(0)
    locs = rng.normal(size=(11, n_components))
    scales = np.full((11, n_components), 0.5)
    q = np.linspace(0.05, 0.95, 11)
    got = _quantile.mixture_quantiles(locs, scales, q)
    want = [q[list(r)] for r in _reference_blocks(11, n_components, 8)]
    assert len(seen) == len(want)
    for block, expected in zip(seen, want, strict=True):
        assert_array_equal(block, expected)
    for i in range(11):
        ref = _reference_quantile(locs[i], scales[i], q[i])
        assert_allclose(got[i], ref, rtol=1e-10)


def test_far_student_t_quantiles_are_silent_where_they_underflow_or_overflow():
    # Cauchy at 1e-300: w = betaincinv(...) underflows to 0 (the log form
    # takes over); df = 0.5 at 1e-200: the quantile overflows to -inf.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = _transformed._student_t_lower_quantile(
            np.array([1.0, 0.5]), np.array([1e-300, 1e-200])
        )
    assert_allclose(x[0], -1.0 / (np.pi * 1e-300), rtol=1e-12)
    assert x[1] == -np.inf


def test_push_forward_outside_its_range_is_silent():
    y = np.array([[-1.0, 0.0, np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for inverse in (np.log, lambda v: np.log(v)):  # known map or slopes
            d = TransformedDistribution(Normal([0.0], [1.0]), np.exp, inverse)
            assert_array_equal(d.logpdf(y), [[-np.inf, -np.inf, -np.inf]])
            assert_array_equal(d.cdf(y), [[0.0, 0.0, 1.0]])


def test_map_overflowing_over_the_bulk_is_refused_silently():
    message = (
        "the map is not strictly monotone between the 0.001 and 0.999 "
        "quantiles of the base (point 0); a push-forward needs a strictly "
        "increasing or decreasing map."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            TransformedDistribution(Normal([1000.0], [1.0]), np.exp, np.log)


def test_interquartile_range_of_infinite_probes_is_one_silently():
    values = np.zeros((1, len(_transformed._PROBE_P)))
    values[:, list(_transformed._QUARTILES)] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(_transformed._iqr(values), [[1.0]])


def test_mixture_of_near_point_masses_quantile_is_silent():
    # Scales 1e-200: (x - mu) / sigma squared overflows inside the steps.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = NormalMixture([[0.0, 1.0]], [[1e-200, 1e-200]]).ppf(0.3)
    assert abs(x[0]) < 1e-190


def test_closed_form_mean_overflowing_through_an_affine_map_is_silent():
    # Log-normal, sigma = 7: the mean exp(mu + 24.5) exceeds the 0.999
    # quantile exp(mu + 21.6); x 1000 overflows the mean but not the bulk.
    affine = _maps._Affine(0.0, 1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = TransformedDistribution(Normal([680.0], [7.0]), np.exp, np.log)
        d = TransformedDistribution(d, affine, affine.inverse())
        assert d.mean[0] == np.inf and d.std[0] == np.inf


def test_one_to_one_message_quotes_the_value_whose_inverse_does_not_saturate():
    def inverse(y):
        # Saturates above 5 (constant: fine); halves below -5 (a wrong
        # preimage: forward sends it elsewhere and it is not constant).
        y = np.asarray(y, dtype=float)
        return np.where(y > 5.0, 5.0, np.where(y < -5.0, y / 2, y))

    d = TransformedDistribution(Normal([0.0], [1.0]), _identity, inverse)
    message = (
        "inverse maps y=-8 (point 0) to a value that forward sends to -4: the "
        "target transform is not strictly monotone (one-to-one) where it is used."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        d.cdf(np.array([[6.0, -8.0]]))


def _constant_on(lo: float, width: float, value: float):
    """Identity, but ``value`` on [lo, lo + width): an inverse that saturates."""

    def inverse(y):
        y = np.asarray(y, dtype=float)
        return np.where((y >= lo) & (y < lo + width), value, y)

    return inverse


def test_saturation_is_probed_a_step_of_1e_2_iqr_from_zero():
    # At y = 0 the probe step is eps^(1/3) * 0.01 * IQR = 8.2e-9 (IQR 0.135):
    # the inverse is constant on [0, 1e-7) above the median's image, so it
    # only saturates there; a step past 1e-7 would call it wrong.
    d = TransformedDistribution(
        Normal([0.0], [0.1]), _identity, _constant_on(0.0, 1e-7, -1.0)
    )
    assert_allclose(d.cdf(np.array([0.05])), stats.norm.cdf([0.5]), rtol=1e-15)


def test_saturation_of_a_value_uses_its_own_points_scale():
    # y = 50 of point 0 (IQR 1.35): step eps^(1/3) * 50 = 3e-4 stays inside
    # the constant stretch [50, 50.0005); point 1's IQR (1.35e4) would give
    # 8e-4 and a refusal.
    base = Normal([0.0, 0.0], [1.0, 1e4])
    d = TransformedDistribution(base, _identity, _constant_on(50.0, 5e-4, 40.0))
    assert_allclose(d.cdf(np.array([50.0, 0.0])), [1.0, 0.5], rtol=1e-15)


@pytest.mark.parametrize("mixture", [False, True])
def test_quadrature_moments_chunk_rows_by_their_map_evaluations(monkeypatch, mixture):
    from bayesreg.distributions import _transformed

    seen = []
    row_chunks = _transformed._row_chunks

    def spy(n, per_row, root):
        seen.append((n, per_row, root))
        return row_chunks(n, per_row, root)

    monkeypatch.setattr(_transformed, "_row_chunks", spy)
    locs, scales = _mixtures(8, n=4, s=3)
    base = NormalMixture(locs, scales) if mixture else Normal(locs[:, 0], scales[:, 0])
    mean = TransformedDistribution(base, np.arcsinh, np.sinh).mean
    assert mean.shape == (4,)
    nodes = len(_transformed._TANH_SINH[2])  # one evaluation per node
    assert len(seen) == 1
    n, per_row, root = seen[0]
    assert (n, per_row) == (4, nodes * (3 if mixture else 1))
    assert root is base


class _InfinitePoint(PredictiveDistribution):
    """Point 0 a standard Normal, point 1 a point mass at +inf."""

    n = 2
    _normal = Normal([0.0, 0.0], [1.0, 1.0])
    mean = property(lambda self: np.array([0.0, np.inf]))
    std = property(lambda self: np.array([1.0, 0.0]))
    epistemic_std = property(lambda self: np.zeros(2))
    aleatoric_std = std

    def logpdf(self, y):
        return self._normal.logpdf(y)

    def cdf(self, y):
        return self._normal.cdf(y)

    def ppf(self, q):
        out = np.array(self._normal.ppf(q))
        out[1] = np.inf
        return out

    def sample(self, n_samples=1, random_state=None):
        return self._normal.sample(n_samples, random_state)


def test_a_base_point_at_infinity_is_pushed_forward_silently():
    # Its probe quantiles are all +inf (inf - inf between them): a point
    # mass, sent to the map's limit there.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = TransformedDistribution(_InfinitePoint(), np.arctan, np.tan)
        got = d.ppf(0.3)
    assert_allclose(got, [np.arctan(stats.norm.ppf(0.3)), np.pi / 2], rtol=1e-15)


@pytest.mark.parametrize("tail", [1e-200, 1e-300])
def test_student_t_quantiles_far_out_keep_their_tail_mass(tail):
    # scipy's t quantile is +inf at 1e-300 and off by a factor 8 in tail
    # mass at 1e-200 for df = 3 (a factor 8.3 for df = 2.5): StudentT's own
    # far tail, on both paths (one df for the batch; a df per point) and
    # for every shape of the levels.
    loc, scale = np.array([1.0, -2.0]), np.array([0.5, 3.0])

    def mass(x, df):
        return special.stdtr(df, (x - loc[:, None]) / scale[:, None])

    shared = StudentT(3.0, loc, scale).ppf(tail)
    assert_allclose(mass(shared[:, None], 3.0), tail, rtol=1e-12)
    d = StudentT([3.0, 2.5], loc, scale)
    df = np.array([[3.0], [2.5]])
    for got in (d.ppf(tail), d.ppf(np.full(2, tail))):
        assert_allclose(mass(got[:, None], df), tail, rtol=1e-12)
    got = d.ppf(np.array([[tail, 0.5], [tail, 0.25]]))
    assert got.shape == (2, 2)
    assert_allclose(mass(got[:, :1], df), tail, rtol=1e-12)
    assert_array_equal(got[:, 1], [1.0, stats.t.ppf(0.25, 2.5, -2.0, 3.0)])
    # A point mass (scale 0) has no quantile, as in scipy.
    point = StudentT([3.0, 2.5], loc, [0.0, 0.5]).ppf(np.array([0.3, tail]))
    assert np.isnan(point[0])
    assert_allclose(special.stdtr(2.5, (point[1] + 2.0) / 0.5), tail, rtol=1e-12)


@pytest.mark.parametrize("cls", [NormalMixture, StudentTMixture])
def test_mixture_row_blocks_are_sized_by_the_values_per_mixture(monkeypatch, cls):
    from bayesreg.distributions import _mixture

    seen = []
    row_blocks = _mixture.EqualMixture._row_blocks

    def spy(self, m):
        seen.append(m)
        return row_blocks(self, m)

    monkeypatch.setattr(_mixture.EqualMixture, "_row_blocks", spy)
    df = (3.0,) if cls is StudentTMixture else ()
    d2 = cls(np.zeros((5, 3, 4)), 1.0, *df)  # a batch (5, 3), 2 values each
    d1 = cls(np.zeros((5, 4)), 1.0, *df)  # a batch (5,), 3 values each
    for d, y in ((d2, np.zeros((5, 3, 2))), (d1, np.zeros((5, 3)))):
        assert d.logpdf(y).shape == d.cdf(y).shape == y.shape
    assert seen == [2, 2, 3, 3]


@pytest.mark.parametrize("unit", [1e300, 1e150, 1e-150, 1e-290, 1e-300, 1e-305])
def test_mixture_quantiles_scale_with_the_units_silently(unit):
    # The quantile of (unit * Y) is unit times Y's. At scales near the ends
    # of the float range the Cornish-Fisher start's moments used to
    # under/overflow (NaN) and the fallback's absolute tolerance of 1e-300
    # decided: cdf 0.227 at the 0.3 quantile for unit 1e-300, the quantile
    # 0 for 1e-305.
    locs = np.array([[1.0, 2.0, 5.0], [-3.0, 0.0, 0.5]])
    scales = np.array([[0.3, 0.5, 2.0], [1.0, 0.01, 0.2]])
    levels = np.array([[1e-10, 0.3, 0.9], [0.5, 0.7, 1 - 1e-9]])
    ref = NormalMixture(locs, scales).ppf(levels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = NormalMixture(unit * locs, unit * scales).ppf(levels)
        # each row in its own units, in one call: the units are per row
        units = np.array([[unit], [1.0 / unit]])
        mixed = NormalMixture(units * locs, units * scales).ppf(levels)
    assert_allclose(got, unit * ref, rtol=1e-13, atol=0)
    assert_allclose(mixed, units * ref, rtol=1e-13, atol=0)


class _AtomAtInfinity(_InfinitePoint):
    """Point 1 a standard Normal with an atom of mass 0.005 at +inf: a
    spread base whose top bulk probe quantile is infinite."""

    mean = property(lambda self: np.array([0.0, np.inf]))
    std = property(lambda self: np.array([1.0, np.inf]))

    def ppf(self, q):
        out = np.array(self._normal.ppf(q), dtype=float)
        out[1] = np.where(np.broadcast_to(q, out.shape)[1] >= 0.995, np.inf, out[1])
        return out


def test_a_spread_base_with_an_infinite_bulk_quantile_is_pushed_silently():
    # The round trip meets exp's inverse at +inf (inf - inf) and the
    # saturation probe steps from y = +inf: both guarded, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = TransformedDistribution(_AtomAtInfinity(), np.exp, np.log)
        got = d.ppf(0.3)
    assert_allclose(got, np.exp(stats.norm.ppf(0.3)), rtol=1e-15)
