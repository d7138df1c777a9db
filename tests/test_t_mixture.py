"""StudentTMixture (bayesreg.distributions._t_mixture) against scipy.stats:
refusals by their full messages, batches of several targets, the block
layout of its evaluations (issue 21: the mutation run of _t_mixture)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

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
