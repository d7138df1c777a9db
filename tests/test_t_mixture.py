"""StudentTMixture (bayesreg.distributions._t_mixture) against scipy.stats:
refusals by their full messages, batches of several targets, the block
layout of its evaluations (issue 21: the mutation run of _t_mixture)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import special, stats

from bayesreg.distributions import StudentTMixture, _mixture, _t_mixture


@pytest.mark.parametrize(
    ("locs", "scales", "df", "message"),
    [
        ([0.0, 1.0], 1.0, 3.0, "locs must have shape (n, S) or (n, k, S), got (2,)."),
        (
            np.zeros((2, 0)),
            1.0,
            3.0,
            "locs must have shape (n, S) or (n, k, S), got (2, 0).",
        ),
        (
            np.zeros((2, 3, 0)),
            1.0,
            3.0,
            "locs must have shape (n, S) or (n, k, S), got (2, 3, 0).",
        ),
        (
            np.zeros((2, 2)),
            [1.0, 1.0, 1.0],
            3.0,
            "scales of shape (1, 3) do not broadcast to the shape of locs, (2, 2).",
        ),
        (
            np.zeros((2, 2)),
            1.0,
            np.full((2, 2, 2), 3.0),
            "df of shape (2, 2, 2) do not broadcast to the shape of locs, (2, 2).",
        ),
        (np.zeros((2, 2)), [1.0, np.inf], 3.0, "scales must be finite."),
        (np.zeros((2, 2)), 1.0, [3.0, np.nan], "df must be finite."),
        ([[0.0, np.nan]], 1.0, 3.0, "locs must be finite."),
        (np.zeros((2, 2)), [1.0, 0.0], 3.0, "scales must be positive."),
        (
            np.zeros((2, 2)),
            1.0,
            [3.0, 2.0],
            "df must be greater than 2 (a finite variance).",
        ),
    ],
)
def test_refusals(locs, scales, df, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        StudentTMixture(locs, scales, df)


def _reference(locs, scales, df, y):
    """Density, CDF of the equally weighted t mixtures, component by component."""
    pdf = stats.t.pdf(y[..., None], df, locs, scales).mean(-1)
    cdf = stats.t.cdf(y[..., None], df, locs, scales).mean(-1)
    return np.log(pdf), cdf


@pytest.mark.parametrize("per_component", [False, True])
def test_several_targets_against_scipy(per_component):
    rng = np.random.default_rng(1)
    locs = rng.normal(size=(4, 3, 5))  # 4 points, 3 targets, 5 components
    scales = rng.uniform(0.5, 2.0, 5)
    df = rng.uniform(2.5, 20.0, (4, 3, 5) if per_component else 5)
    d = StudentTMixture(locs, scales, df)
    assert d.batch_shape == (4, 3) and d.n == 4 and d.n_components == 5
    y = rng.normal(size=(4, 3)) * 2
    logpdf, cdf = _reference(locs, scales, df, y)
    assert_allclose(d.logpdf(y), logpdf, rtol=1e-12)
    assert_allclose(d.cdf(y), cdf, rtol=1e-12)
    # Several values per distribution: (n, k, m).
    ym = rng.normal(size=(4, 3, 2))
    logpdf_m, cdf_m = _reference(
        locs[:, :, None], scales, df if df.ndim == 1 else df[:, :, None], ym
    )
    assert_allclose(d.logpdf(ym), logpdf_m, rtol=1e-12)
    assert_allclose(d.cdf(ym), cdf_m, rtol=1e-12)
    for q in (1e-6, 0.3, 0.5, 0.97):
        x = d.ppf(q)
        assert x.shape == (4, 3)
        assert_allclose(_reference(locs, scales, df, x)[1], q, rtol=1e-9)
    var = np.mean(np.broadcast_to(scales**2 * df / (df - 2), locs.shape), -1)
    assert_allclose(d.aleatoric_std**2, var, rtol=1e-12)
    assert_allclose(d.epistemic_std**2, locs.var(-1), rtol=1e-12)


def test_quantiles_of_one_level_per_point():
    rng = np.random.default_rng(2)
    locs, scales, df = rng.normal(size=(3, 4)), np.ones(4), np.full(4, 5.0)
    d = StudentTMixture(locs, scales, df)
    q = np.array([0.1, 0.5, 0.99])
    x = d.ppf(q)
    assert x.shape == (3,)
    assert_allclose(_reference(locs, scales, df, x)[1], q, rtol=1e-9)


def _reference_blocks(n, pairs_per_row, budget):
    rows = 1
    while (rows + 1) * pairs_per_row <= budget:
        rows += 1
    return [range(a, min(a + rows, n)) for a in range(0, n, rows)]


@pytest.mark.parametrize(("n_components", "m"), [(1, 1), (2, 3), (9, 1), (3, 2)])
def test_row_blocks_bound_the_pairs_at_a_time(monkeypatch, n_components, m):
    # the row blocks are the equal-weight mixtures' own (_mixture.py)
    monkeypatch.setattr(_mixture, "_BLOCK", 8)
    d = StudentTMixture(np.zeros((5, 2, n_components)), 1.0, 3.0)  # 10 mixtures
    got = [range(10)[s] for s in d._row_blocks(m)]
    assert got == _reference_blocks(10, m * n_components, 8)


def test_evaluations_in_small_blocks_equal_one_block(monkeypatch):
    rng = np.random.default_rng(3)
    locs = rng.normal(size=(7, 3))
    d = StudentTMixture(locs, rng.uniform(0.5, 2, 3), rng.uniform(3, 9, 3))
    y = rng.normal(size=(7, 2))
    want = d.logpdf(y), d.cdf(y), d.ppf(0.2), d.ppf(np.linspace(0.1, 0.9, 7))
    monkeypatch.setattr(_mixture, "_BLOCK", 4)  # logpdf's and cdf's rows
    monkeypatch.setattr(_t_mixture, "_BLOCK", 4)  # ppf's
    got = d.logpdf(y), d.cdf(y), d.ppf(0.2), d.ppf(np.linspace(0.1, 0.9, 7))
    for a, b in zip(got, want, strict=True):
        assert_allclose(a, b, rtol=1e-12)


def test_quantiles_of_several_levels_per_point():
    rng = np.random.default_rng(4)
    locs, scales, df = rng.normal(size=(3, 4)), np.ones(4), np.full(4, 5.0)
    d = StudentTMixture(locs, scales, df)
    q = np.array([[0.1, 0.6], [0.5, 0.01], [0.99, 0.3]])
    x = d.ppf(q)
    assert x.shape == (3, 2)
    cdf = stats.t.cdf(x[:, :, None], df, locs[:, None, :], scales).mean(-1)
    assert_allclose(cdf, q, rtol=1e-9)


def test_draws_from_given_components_and_uniforms():
    rng = np.random.default_rng(5)
    locs = rng.normal(size=(2, 3, 4))  # a batch (2, 3) of 4 components
    scales, df = rng.uniform(0.5, 2, (2, 3, 4)), rng.uniform(3, 9, (2, 3, 4))
    d = StudentTMixture(locs, scales, df)
    comp = rng.integers(4, size=(2, 3, 5))
    u = rng.random((2, 3, 5))
    i, j = np.indices((2, 3))
    want = np.empty((2, 3, 5))
    for k in range(5):
        c = comp[:, :, k]
        want[:, :, k] = locs[i, j, c] + scales[i, j, c] * stats.t.ppf(
            u[:, :, k], df[i, j, c]
        )
    assert_allclose(d._sample_from(comp, u), want, rtol=1e-12)
    # A seed gives the same draws.
    a, b = d.sample(3, random_state=7), d.sample(3, random_state=7)
    assert a.shape == (2, 3, 3)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("n_components", [1, 3, 9])
def test_quantile_solves_go_in_blocks_of_rows(monkeypatch, n_components):
    seen = []
    block = _t_mixture._block

    def spy(locs, scales, df, q):
        seen.append(q.copy())
        return block(locs, scales, df, q)

    monkeypatch.setattr(_t_mixture, "_BLOCK", 8)
    monkeypatch.setattr(_t_mixture, "_block", spy)
    rng = np.random.default_rng(6)
    locs = rng.normal(size=(11, n_components))
    scales, df = np.full((11, n_components), 0.5), np.full((11, n_components), 4.0)
    # Not 0.5 - 1e-17: scipy's stdtrit (the one-component answer) is off
    # by 1.5e-8 there.
    q = np.linspace(0.05, 0.95, 11) + 0.01
    x = _t_mixture.t_mixture_quantiles(locs, scales, df, q)
    want = [q[list(r)] for r in _reference_blocks(11, n_components, 8)]
    assert len(seen) == len(want)
    for got, expected in zip(seen, want, strict=True):
        np.testing.assert_array_equal(got, expected)
    cdf = stats.t.cdf(x[:, None], df, locs, scales).mean(-1)
    assert_allclose(cdf, q, rtol=1e-9)


@pytest.mark.parametrize("tail", [1e-12, 1e-200])
def test_far_quantiles_keep_the_relative_accuracy_of_their_tail(tail):
    rng = np.random.default_rng(8)
    locs = rng.normal(size=(3, 4))
    scales, df = rng.uniform(0.5, 2.0, 4), rng.uniform(3.0, 9.0, 4)
    d = StudentTMixture(locs, scales, df)
    low, high = d.ppf(tail), d.ppf(1.0 - tail) if tail > 1e-16 else None
    cdf = stats.t.cdf(low[:, None], df, locs, scales).mean(-1)
    assert_allclose(cdf, tail, rtol=1e-8)
    if high is not None:
        sf = stats.t.sf(high[:, None], df, locs, scales).mean(-1)
        assert_allclose(sf, 1.0 - (1.0 - tail), rtol=1e-8)


def test_default_number_of_draws_is_one():
    d = StudentTMixture(np.zeros((3, 2)), 1.0, 4.0)
    draws = d.sample(random_state=0)
    assert draws.shape == (3, 1)
    np.testing.assert_array_equal(draws, d.sample(1, random_state=0))


def _log_tail(locs, scales, df, x, upper):
    """log of the mixture's lower (or upper) tail mass at x, per row, and
    its derivative in x (for the conditioning of the level)."""
    z = (x[:, None] - locs) / scales
    tail = special.stdtr(df, np.where(upper[:, None], -z, z)).mean(-1)
    dens = (stats.t.pdf(z, df) / scales).mean(-1)
    return np.log(tail), dens / tail


# Hard cases of the safeguarded Newton iteration: components far apart
# (a flat CDF between them, Newton steps that leave the bracket), scales
# far from 1, df near 2 and large, levels deep in either tail.
_HARD = [
    ([0.0, 100.0], [1.0, 1.0], [3.0, 3.0]),
    ([0.0, 1e3], [0.01, 5.0], [2.01, 50.0]),
    ([-3.0, 0.0, 40.0], [0.5, 2.0, 0.1], [2.5, 4.0, 2.05]),
    ([0.0, 1.0], [1e-3, 1e3], [3.0, 3.0]),
    ([0.0, 30.0], [1.0, 1.0], [300.0, 300.0]),
    ([-2.0, 5.0, 7.0, 60.0], [3.0, 0.2, 0.7, 4.0], [2.2, 9.0, 3.0, 30.0]),
]
_LEVELS = [1e-300, 1e-200, 1e-50, 1e-12, 1e-6, 0.01, 0.3, 0.45, 0.5, 0.55, 0.7]
_LEVELS += [0.99, 1 - 1e-6, 1 - 1e-12]


@pytest.mark.parametrize(("locs", "scales", "df"), _HARD)
def test_quantiles_solve_their_level_to_rounding(locs, scales, df):
    # The solver's last Newton step lands on the root to rounding: the
    # tail mass at the returned x matches the level to a few ulps of the
    # level, plus the ulps of x times the slope of log F there.
    q = np.array(_LEVELS)
    n = len(q)
    locs, scales, df = (
        np.broadcast_to(np.asarray(a), (n, len(locs))) for a in (locs, scales, df)
    )
    x = StudentTMixture(locs, scales, df).ppf(q)
    upper = q > 0.5
    log_tail, slope = _log_tail(locs, scales, df, x, upper)
    log_level = np.log(np.where(upper, 1.0 - q, q))
    eps = np.finfo(float).eps
    tol = 8 * eps * (1.0 + np.abs(log_level) + np.abs(x) * slope)
    resid = np.abs(log_tail - log_level)
    # Where the density underflows (level 1e-300) or the CDF is flat (far
    # between components) the last step is refused: the stopping rule's
    # 1e-10 holds there.
    assert np.all(resid <= _t_mixture._RTOL)
    polished = (q > 1e-250) & (np.abs(x) * slope > 1e-3)
    assert np.all(resid[polished] <= tol[polished]), (resid / tol)[polished]


class _CountingSpecial:
    """scipy.special, counting the mixture CDF evaluations (one per step)."""

    def __init__(self):
        self.steps = 0

    def __getattr__(self, name):
        return getattr(special, name)

    def stdtr(self, df, t):
        self.steps += 1
        return special.stdtr(df, t)


def test_newton_steps_converge_in_a_few_iterations(monkeypatch):
    # Close components: Newton from the mean of the components' quantiles
    # converges quadratically; the stopping rule ends it right after.
    rng = np.random.default_rng(9)
    locs = rng.normal(size=(1, 5))
    scales, df = rng.uniform(0.5, 2.0, 5), rng.uniform(3.0, 9.0, 5)
    counter = _CountingSpecial()
    monkeypatch.setattr(_t_mixture, "special", counter)
    for q in (1e-6, 0.05, 0.3, 0.5, 0.8, 0.999):
        counter.steps = 0
        StudentTMixture(locs, scales, df).ppf(q)
        assert 1 <= counter.steps <= 7, (q, counter.steps)


def test_far_apart_components_stop_on_the_bracket(monkeypatch):
    # Between two far components the CDF is flat: Newton steps leave the
    # bracket, which is bisected until the stopping rule holds.
    counter = _CountingSpecial()
    monkeypatch.setattr(_t_mixture, "special", counter)
    d = StudentTMixture(np.array([[0.0, 1e6]]), [1.0, 2.0], [3.0, 3.0])
    for q in (0.3, 0.45, 0.5 - 1e-9, 0.55):
        counter.steps = 0
        x = d.ppf(q)
        assert 1 <= counter.steps <= 40, (q, counter.steps)  # not _MAX_ITER
        cdf = special.stdtr(3.0, (x[:, None] - d.locs) / d.scales).mean(-1)
        assert np.abs(np.log(cdf / q)) <= _t_mixture._RTOL


def test_guarded_steps_are_silent_where_they_overflow_or_divide_by_zero():
    # t(300) components 400 or 450 apart: between them the density is
    # subnormal (the Newton step overflows) or zero (it divides by zero, or
    # is 0/0 where the level is met at the midpoint exactly).
    locs = np.array([[0.0, 400.0], [0.0, 450.0], [0.0, 450.0]])
    d = StudentTMixture(locs, 1.0, 300.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = d.ppf(np.array([0.4, 0.4, 0.5]))
    # F(x) = (T(x) + T(x - L)) / 2 = 0.4 with T(x - L) = 0 to rounding.
    want = stats.t.ppf(0.8, 300.0)
    assert_allclose(x, [want, want, 225.0], rtol=1e-14)


def test_draws_are_a_component_then_a_uniform_each():
    locs = np.array([[0.0, 5.0, -3.0], [1.0, 2.0, 3.0]])
    scales, df = np.array([1.0, 0.5, 2.0]), np.array([3.0, 10.0, 4.0])
    d = StudentTMixture(locs, scales, df)
    draws = d.sample(4, random_state=np.random.default_rng(11))
    rng = np.random.default_rng(11)
    comp, u = rng.integers(3, size=(2, 4)), rng.random((2, 4))
    rows = np.arange(2)[:, None]
    want = locs[rows, comp] + scales[comp] * stats.t.ppf(u, df[comp])
    assert_allclose(draws, want, rtol=1e-13)
