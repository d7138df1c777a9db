"""The scoring rules against references written out independently: the
closed forms of scoringRules (Jordan, Krüger and Lerch, 2019) evaluated
naively one value at a time, the CRPS integral by quadrature, the
log-normal CRPS of Baran and Lerch (2015); and the contract around them
(exact error messages, no warnings where the values are right, memory
bounded by the chunks)."""

from __future__ import annotations

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats

from bayesreg.distributions import (
    _TANH_SINH,
    Normal,
    NormalMixture,
    PredictiveDistribution,
    TransformedDistribution,
)
from bayesreg.distributions import _transformed as transformed_module
from bayesreg.metrics import (
    _scoring_rules,
    crps,
    crps_normal,
    crps_normal_mixture,
    crps_student_t,
    mean_crps,
)


# ---------------------------------------------------------------- references
def _crps_normal_naive(y: float, loc: float, scale: float) -> float:
    """scoringRules' crps_norm, one value at a time with the math module."""
    z = (y - loc) / scale
    cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return scale * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi))


def _crps_by_quadrature(cdf, y: float) -> float:
    """The definition, integral of (F(x) - 1{x >= y})^2 dx, split at y."""
    lo = integrate.quad(lambda x: cdf(x) ** 2, -np.inf, y, limit=200)[0]
    hi = integrate.quad(lambda x: (1.0 - cdf(x)) ** 2, y, np.inf, limit=200)[0]
    return lo + hi


def _crps_lognormal(y: float, mu: float, sigma: float) -> float:
    """Baran and Lerch (2015), eq. (5): the CRPS of LogNormal(mu, sigma^2).

    ``y (2 Phi(w) - 1) - 2 exp(mu + sigma^2 / 2) (Phi(w - sigma)
    + Phi(sigma / sqrt 2) - 1)`` with ``w = (log y - mu) / sigma``; for
    ``y <= 0``, ``w = -inf``.
    """
    w = (math.log(y) - mu) / sigma if y > 0 else -math.inf
    phi = stats.norm.cdf
    m = math.exp(mu + 0.5 * sigma**2)
    return y * (2.0 * phi(w) - 1.0) - 2.0 * m * (
        phi(w - sigma) + phi(sigma / math.sqrt(2.0)) - 1.0
    )


def _lognormal(mu, sigma) -> TransformedDistribution:
    mu = np.asarray(mu, dtype=float)
    return TransformedDistribution(
        Normal(mu, np.broadcast_to(sigma, mu.shape)), np.exp, np.log
    )


def _exact(message: str) -> str:
    """A pattern matching exactly ``message`` (pytest.raises searches)."""
    import re

    return "^" + re.escape(message) + "$"


# ---------------------------------------------------------------- Normal
@pytest.mark.parametrize("loc, scale", [(0.0, 1.0), (-2.5, 0.3), (7.0, 40.0)])
def test_crps_normal_equals_the_closed_form_evaluated_naively(loc, scale):
    y = loc + scale * np.array([-6.0, -1.3, -0.2, 0.0, 0.4, 2.0, 9.0])
    expected = [_crps_normal_naive(v, loc, scale) for v in y]
    assert_allclose(crps_normal(y, loc, scale), expected, rtol=1e-13, atol=1e-15)


def test_crps_normal_takes_object_arrays_and_booleans_as_numbers():
    # A pandas object column or booleans hold real numbers: the same scores
    # as their float values.
    y = np.array([0.5, -2.0, True], dtype=object)
    expected = crps_normal([0.5, -2.0, 1.0], 0.25, 1.5)
    assert_allclose(crps_normal(y, 0.25, 1.5), expected, rtol=1e-15)
    assert_allclose(
        crps_normal(True, False, np.array([2.0], dtype=object)),
        crps_normal(1.0, 0.0, 2.0),
        rtol=1e-15,
    )


def test_crps_normal_beyond_the_largest_float_is_infinite_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = crps_normal([1e308, -1e308, 0.5], [-1e308, 1e308, 0.0], [1.0, 0.0, 1.0])
    assert got[0] == np.inf and got[1] == np.inf
    assert got[2] == pytest.approx(_crps_normal_naive(0.5, 0.0, 1.0), rel=1e-14)


def test_crps_normal_refuses_a_negative_scale_by_name():
    with pytest.raises(ValueError, match=_exact("scale must be non-negative.")):
        crps_normal([0.0, 1.0], 0.0, [1.0, -1e-300])


# ---------------------------------------------------------------- Student-t
@pytest.mark.parametrize("df", [1e6, 1e9, 1e12, 1e15, 1e20, 1e100, 1e300])
def test_crps_student_t_tends_to_the_normal_at_rate_one_over_df(df):
    # Defect (issue 21): the density term was
    # exp(lgamma((df+1)/2) - lgamma(df/2) - (df-1)/2 log(df + z^2)
    # + (df+1)/2 log(df)), whose terms of order df log(df) cancel: 2e-5
    # relative error at df = 1e10, a negative CRPS at df = 1e16. The t CRPS
    # differs from the Normal one by O(1/df).
    y = np.array([-30.0, -3.0, -0.5, 0.0, 0.25, 1.0, 4.0, 1e3])
    got = crps_student_t(y, df, 0.0, 1.0)
    normal = crps_normal(y, 0.0, 1.0)
    assert_allclose(got, normal, rtol=1e-13, atol=10.0 / df)


@pytest.mark.parametrize("df", [1e4, 1e8, 1e12])
def test_crps_student_t_at_large_df_matches_quadrature(df):
    for y in (-2.0, 0.3, 3.5):
        ref = _crps_by_quadrature(lambda x: stats.t.cdf(x, df, 0.5, 1.5), y)
        got = crps_student_t(y, df, 0.5, 1.5)
        assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("df", [1.05, 2.0, 5.0])
def test_crps_student_t_at_zero_and_far_out_equals_quadrature(df):
    # z = 0 (log r = -inf inside the stable form) and |z| >> sqrt(df).
    for y in (0.0, 1e-300, 12.0, -50.0):
        ref = _crps_by_quadrature(lambda x: stats.t.cdf(x, df), y)
        got = crps_student_t(y, df, 0.0, 1.0)
        assert got == pytest.approx(ref, rel=1e-8, abs=1e-12)


def test_crps_student_t_raises_no_warning_at_extreme_values():
    # z = 0 and |z| or df near the largest float: no division by zero,
    # overflow or invalid value is reported where the result is right.
    y = np.array([0.0, 1e308, -1e308, 1e200, 3.0, np.nan])
    loc = np.array([0.0, -1e308, 1e308, 0.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = crps_student_t(y, 1e308, loc, 1.0)
        small_df = crps_student_t(y, 3.0, loc, 1.0)
        zero_scale = crps_student_t(y, 3.0, loc, 0.0)
    assert_allclose(got[[0, 4]], crps_normal([0.0, 3.0], 0.0, 1.0), rtol=1e-13)
    assert np.all(got[1:3] == np.inf) and got[3] == pytest.approx(1e200, rel=1e-14)
    assert np.all(small_df[1:3] == np.inf) and np.all(zero_scale[1:3] == np.inf)
    # A NaN observation stays NaN (it was an infinite score).
    assert np.isnan(got[5]) and np.isnan(small_df[5]) and np.isnan(zero_scale[5])


def test_crps_student_t_takes_object_arrays_as_numbers():
    y = np.array([0.5, -2.0], dtype=object)
    df = np.array([3.0, 7.5], dtype=object)
    assert_allclose(
        crps_student_t(y, df, 0.25, 1.5),
        crps_student_t([0.5, -2.0], [3.0, 7.5], 0.25, 1.5),
        rtol=1e-15,
    )


@pytest.mark.parametrize("df", [1.0, 0.5, -3.0, np.nan, np.inf])
def test_crps_student_t_refuses_df_without_a_finite_mean_or_infinite(df):
    message = (
        "the closed-form Student-t CRPS needs a finite df > 1 (a finite mean; "
        "df = inf is the Normal: use crps_normal)."
    )
    with pytest.raises(ValueError, match=_exact(message)):
        crps_student_t([0.0, 1.0], [3.0, df], 0.0, 1.0)


def test_crps_student_t_just_above_df_one_is_taken():
    ref = _crps_by_quadrature(lambda x: stats.t.cdf(x, 1.5), 0.7)
    assert crps_student_t(0.7, np.nextafter(1.0, 2.0) + 0.5, 0.0, 1.0) == (
        pytest.approx(ref, rel=1e-8)
    )


def test_crps_student_t_refuses_a_negative_scale_by_name():
    with pytest.raises(ValueError, match=_exact("scale must be non-negative.")):
        crps_student_t([0.0, 1.0], 3.0, 0.0, [1.0, -1e-300])


# ---------------------------------------------------------------- mixtures
def test_crps_normal_mixture_of_k_targets_matches_quadrature():
    # locs (n, k, S) with one scale per component (S,) and per target (k, S).
    rng = np.random.default_rng(5)
    locs = rng.normal(scale=2.0, size=(3, 2, 4))
    for scales in (np.array([0.5, 1.0, 0.2, 2.0]), rng.uniform(0.2, 2, (2, 4))):
        y = rng.normal(size=(3, 2))
        got = crps_normal_mixture(y, locs, scales)
        full = np.broadcast_to(scales, locs.shape)
        for i in range(3):
            for j in range(2):
                ref = _crps_by_quadrature(
                    lambda x, i=i, j=j, full=full: stats.norm.cdf(
                        x, locs[i, j], full[i, j]
                    ).mean(),
                    y[i, j],
                )
                assert got[i, j] == pytest.approx(ref, rel=1e-7)


def test_crps_normal_mixture_takes_object_arrays_as_numbers():
    locs = np.array([[0.0, 1.0], [2.0, -1.0]], dtype=object)
    scales = np.array([0.5, 2.0], dtype=object)
    assert_allclose(
        crps_normal_mixture([0.2, 0.1], locs, scales),
        crps_normal_mixture([0.2, 0.1], locs.astype(float), [0.5, 2.0]),
        rtol=1e-15,
    )


@pytest.mark.parametrize(
    "locs, scales, y, message",
    [
        (
            np.zeros(3),
            1.0,
            [0.0],
            "locs must have shape (n, S) or (n, k, S), got (3,).",
        ),
        (
            np.zeros((2, 3)),
            np.ones(4),
            [0.0, 0.0],
            "scales must broadcast to the shape of locs, (2, 3) (for example "
            "(3,)), got (4,).",
        ),
        (
            np.zeros((2, 5, 3)),
            np.ones((2, 5)),
            np.zeros((2, 5)),
            "scales must broadcast to the shape of locs, (2, 5, 3) (for example "
            "(3,)), got (2, 5).",
        ),
        (
            np.zeros((2, 3)),
            1.0,
            [0.0, 1.0, 2.0],
            "y_true has 3 values but the prediction describes 2 points.",
        ),
        (
            np.array([[0.0, np.nan]]),
            1.0,
            [0.0],
            "locs and scales must be finite.",
        ),
        (
            np.zeros((1, 2)),
            [1.0, np.inf],
            [0.0],
            "locs and scales must be finite.",
        ),
        (np.zeros((1, 2)), [1.0, 0.0], [0.0], "scales must be positive."),
    ],
)
def test_crps_normal_mixture_refuses_bad_input_by_name(locs, scales, y, message):
    with pytest.raises(ValueError, match=_exact(message)):
        crps_normal_mixture(y, locs, scales)


def _peak_bytes(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_crps_normal_mixture_memory_is_bounded_by_its_chunks(monkeypatch):
    # Chunks of two rows: every (row, component, component) array is tiny,
    # while one array of all rows would be n S^2 floats (7.7 MB).
    n, s = 600, 40
    rng = np.random.default_rng(6)
    locs, y = rng.normal(size=(n, s)), rng.normal(size=n)
    full = crps_normal_mixture(y, locs, 0.7)
    monkeypatch.setattr(_scoring_rules, "_MIXTURE_CHUNK", 2 * s * s)
    peak = _peak_bytes(lambda: crps_normal_mixture(y, locs, 0.7))
    assert peak < n * s * s * 8 / 2
    assert_allclose(crps_normal_mixture(y, locs, 0.7), full, rtol=1e-14)


# ---------------------------------------------------------------- push-forwards
@pytest.mark.parametrize("sigma", [0.3, 1.0])
def test_crps_of_a_log_normal_equals_baran_and_lerch(sigma):
    # Inside the support, below it (F(y) = 0: only the upper piece) and
    # beyond the largest quantile (F(y) = 1 in floating point: only the lower
    # piece).
    mu = 0.4
    y = np.array([1e-3, 0.5, 1.5, 4.0, -2.0, 0.0, math.exp(mu + 40 * sigma)])
    dist = _lognormal(np.full(y.shape, mu), sigma)
    assert dist.cdf(y)[4] == 0.0 and dist.cdf(y)[6] == 1.0
    expected = [_crps_lognormal(v, mu, sigma) for v in y]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = crps(y, dist)
    assert_allclose(got, expected, rtol=1e-9)


def test_crps_of_log_normals_of_k_targets_is_per_element():
    mu = np.array([[0.0, 1.0, -0.5], [0.3, 0.0, 2.0]])
    y = np.array([[1.0, 0.2, -1.0], [3.0, 0.7, 9.0]])
    got = crps(y, _lognormal(mu, 0.6))
    assert got.shape == (2, 3)
    expected = [
        [_crps_lognormal(y[i, j], mu[i, j], 0.6) for j in range(3)] for i in range(2)
    ]
    assert_allclose(got, expected, rtol=1e-9)
    assert mean_crps(y, _lognormal(mu, 0.6), multioutput="raw_values") == (
        pytest.approx(np.mean(expected, axis=0), rel=1e-9)
    )


def _two_rows_per_chunk(monkeypatch):
    monkeypatch.setattr(transformed_module, "_PUSH_CHUNK", 4 * len(_TANH_SINH[2]))


@pytest.mark.parametrize("base", ["normal", "mixture", "user"])
def test_crps_of_a_push_forward_is_the_same_in_chunks_of_rows(monkeypatch, base):
    rng = np.random.default_rng(7)
    n = 7
    mu = rng.normal(size=n)
    if base == "normal":
        root = Normal(mu, np.full(n, 0.5))
    elif base == "mixture":
        root = NormalMixture(mu[:, None] + rng.normal(size=(n, 3)), np.full(3, 0.4))
    else:
        root = _UserNormal(mu, 0.5)
    y = np.exp(mu + rng.normal(scale=0.5, size=n))
    y[2] = -1.0  # below the support: F(y) = 0
    whole = crps(y, TransformedDistribution(root, np.exp, np.log))
    _two_rows_per_chunk(monkeypatch)
    chunked = crps(y, TransformedDistribution(root, np.exp, np.log))
    assert_allclose(chunked, whole, rtol=1e-13)
    if base == "normal":
        expected = [_crps_lognormal(v, m, 0.5) for v, m in zip(y, mu, strict=True)]
        assert_allclose(whole, expected, rtol=1e-9)


def test_crps_of_a_push_forward_memory_is_bounded_by_its_chunks(monkeypatch):
    n = 600
    mu = np.linspace(-1.0, 1.0, n)
    y = np.exp(mu)
    _two_rows_per_chunk(monkeypatch)
    dist = TransformedDistribution(Normal(mu, np.full(n, 0.5)), np.exp, np.log)
    peak = _peak_bytes(lambda: crps(y, dist))
    # One chunk of all rows holds arrays of n x len(nodes) floats (0.4 MB).
    assert peak < n * len(_TANH_SINH[2]) * 8


class _UserNormal(PredictiveDistribution):
    """A user's Normal: a base the push-forward cannot split into rows."""

    def __init__(self, loc, scale):
        self.loc = np.asarray(loc, dtype=float)
        self.scale = np.broadcast_to(np.asarray(scale, dtype=float), self.loc.shape)
        self.n = self.loc.shape[0]

    @property
    def mean(self):
        return self.loc

    @property
    def std(self):
        return self.scale

    epistemic_std = aleatoric_std = std

    def logpdf(self, y):
        return stats.norm.logpdf(y, self._col(self.loc, y), self._col(self.scale, y))

    def cdf(self, y):
        return stats.norm.cdf(y, self._col(self.loc, y), self._col(self.scale, y))

    def ppf(self, q):
        return stats.norm.ppf(q, self._col(self.loc, q), self._col(self.scale, q))

    def sample(self, n_samples=1, random_state=None):
        rng = np.random.default_rng(random_state)
        return self.loc[:, None] + self.scale[:, None] * rng.normal(
            size=(self.n, n_samples)
        )

    @staticmethod
    def _col(param, like):
        return param[:, None] if np.ndim(like) == 2 else param


def test_crps_of_an_unknown_distribution_names_it():
    class PointMass(_UserNormal):
        pass

    with pytest.raises(TypeError, match=_exact("no closed-form CRPS for PointMass.")):
        crps([0.0], PointMass([0.0], 1.0))
