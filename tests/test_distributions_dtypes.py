"""The distributions compute in double precision whatever dtype comes in:
parameters and values of integer, float32 or extended (long double) dtype,
maps of the user and base distributions that return such dtypes (issue 21:
the mutation run left every float64 conversion of their outputs alive)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from bayesreg.distributions import (
    Normal,
    NormalMixture,
    PredictiveDistribution,
    StudentT,
    StudentTMixture,
    TransformedDistribution,
    _maps,
)

# float32 rounds what a map returns; long double carries more bits than
# float64 and wins NumPy's promotion against it, so an unconverted long
# double shows in the dtype of every result it reaches.
DTYPES = [np.float32, np.longdouble]
INPUT_DTYPES = [np.int64, np.float32, np.longdouble]


def _assert_double(got, want):
    got = np.asarray(got)
    assert got.dtype == np.float64
    assert_array_equal(got, want)


def _distributions():
    locs = np.array([[-1.0, 0.5, 2.0], [0.0, 1.0, 3.0]])
    return [
        Normal([0.5, -1.0], [1.0, 2.0]),
        StudentT(4.0, [0.5, -1.0], [1.0, 2.0]),
        NormalMixture(locs, [1.0, 0.5, 2.0]),
        StudentTMixture(locs, [1.0, 0.5, 2.0], [3.0, 5.0, 8.0]),
        TransformedDistribution(Normal([0.5, -1.0], [1.0, 2.0]), np.exp, np.log),
    ]


@pytest.mark.parametrize("dtype", INPUT_DTYPES)
@pytest.mark.parametrize("dist", _distributions(), ids=lambda d: type(d).__name__)
def test_values_of_any_real_dtype_are_evaluated_in_double_precision(dist, dtype):
    # Values every dtype holds exactly: the float64 results are the answer.
    y = np.array([[1.0, 2.0], [3.0, 5.0]])
    for method in ("logpdf", "cdf"):
        want = getattr(dist, method)(y)
        _assert_double(getattr(dist, method)(y.astype(dtype)), want)
        _assert_double(getattr(dist, method)(y[:, 0].astype(dtype)), want[:, 0])


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_parameters_are_stored_in_double_precision(dtype):
    locs = np.array([[-1, 0, 2], [0, 1, 3]], dtype=dtype)
    scales, df = np.array([1, 2, 4], dtype=dtype), np.array([3, 5, 8], dtype=dtype)
    pairs = [
        (Normal(locs[:, 0], scales[:2]), Normal(locs[:, 0] * 1.0, scales[:2] * 1.0)),
        (
            StudentT(df[:2], locs[:, 0], scales[:2]),
            StudentT(df[:2] * 1.0, locs[:, 0] * 1.0, scales[:2] * 1.0),
        ),
        (NormalMixture(locs, scales), NormalMixture(locs * 1.0, scales * 1.0)),
        (
            StudentTMixture(locs, scales, df),
            StudentTMixture(locs * 1.0, scales * 1.0, df * 1.0),
        ),
    ]
    for got, want in pairs:
        names = [n for n in ("loc", "scale", "df", "locs", "scales") if hasattr(got, n)]
        for name in names:
            _assert_double(getattr(got, name), getattr(want, name))
        _assert_double(got.ppf(0.2), want.ppf(0.2))
        _assert_double(got.std, want.std)


def _rounded(func, dtype):
    """``func`` returning its values in ``dtype``, and the float64 of those."""
    return (
        lambda v: np.asarray(func(v)).astype(dtype),
        lambda v: np.asarray(func(v)).astype(dtype).astype(np.float64),
    )


def _shifted_exp(z):
    return np.exp(z) + 0.25


def _shifted_log(y):
    return np.log(y - 0.25)


def _shifted_log_jacobian(y):
    return -np.log(y - 0.25)


def _all_results(d, y):
    return {
        "ppf": d.ppf(np.array([[1e-12, 0.1, 0.5, 0.9, 1 - 1e-12]] * 2)),
        "ppf_scalar": d.ppf(0.3),
        "median": d.median(),
        "logpdf": d.logpdf(y),
        "cdf": d.cdf(y),
        "mean": d.mean,
        "std": d.std,
        "epistemic_std": d.epistemic_std,
        "sample": d.sample(3, random_state=0),
    }


def _compare(got, want, y):
    results, reference = _all_results(got, y), _all_results(want, y)
    for key, value in reference.items():
        assert np.asarray(results[key]).dtype == np.float64, key
        assert_array_equal(results[key], value, err_msg=key)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_jacobian", [False, True])
def test_maps_returning_other_dtypes_are_computed_on_in_double(dtype, with_jacobian):
    base = NormalMixture(np.array([[0.0, 0.5], [1.0, -0.5]]), [0.5, 1.0])
    forward, forward64 = _rounded(_shifted_exp, dtype)
    inverse, inverse64 = _rounded(_shifted_log, dtype)
    jac, jac64 = _rounded(_shifted_log_jacobian, dtype)
    kwargs = {"inverse_log_jacobian": jac} if with_jacobian else {}
    kwargs64 = {"inverse_log_jacobian": jac64} if with_jacobian else {}
    y = np.array([[0.5, 1.5, 4.0], [0.75, 2.0, 9.0]])
    got = TransformedDistribution(base, forward, inverse, **kwargs)
    want = TransformedDistribution(base, forward64, inverse64, **kwargs64)
    _compare(got, want, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_maps_of_other_dtypes_feed_the_next_map_in_double(dtype):
    # The value a map returns is the next map's argument: np.exp and np.log
    # compute in the dtype they get, so an unconverted float32 would lose
    # digits there.
    base = Normal([0.0, 0.5], [0.5, 1.0])
    forward, forward64 = _rounded(np.arcsinh, dtype)
    inverse, inverse64 = _rounded(np.sinh, dtype)
    # The user's map first, then exp: its values feed exp.
    inner = TransformedDistribution(base, forward, inverse)
    inner64 = TransformedDistribution(base, forward64, inverse64)
    y = np.array([[0.5, 1.5, 3.0], [0.3, 1.0, 5.0]])
    _compare(
        TransformedDistribution(inner, np.exp, np.log),
        TransformedDistribution(inner64, np.exp, np.log),
        y,
    )
    # exp, then the user's map: its inverse's values feed log.
    log_normal = TransformedDistribution(base, np.exp, np.log)
    _compare(
        TransformedDistribution(log_normal, forward, inverse),
        TransformedDistribution(log_normal, forward64, inverse64),
        np.arcsinh(y),
    )


def _catastrophic(v):
    # The identity in exact arithmetic; in float32 it keeps multiples of 8.
    return (v + 1e8) - 1e8


@pytest.mark.parametrize("outer_first", [False, True])
def test_a_float32_map_before_a_cancelling_one_keeps_its_values(outer_first):
    # Converted, the cancelling identity is exact to 1e-8 and the push-
    # forward is that of the float32 map alone; left in float32, every
    # value would round to a multiple of 8.
    base = Normal([0.0, 0.5], [0.5, 1.0])
    forward, forward64 = _rounded(_shifted_exp, np.float32)
    inverse, inverse64 = _rounded(_shifted_log, np.float32)
    if outer_first:  # forward: the float32 map, then the identity
        steps = [(forward, inverse), (_catastrophic, _catastrophic)]
        steps64 = [(forward64, inverse64), (_catastrophic, _catastrophic)]
    else:  # inverse: the float32 map's inverse, then the identity's
        steps = [(_catastrophic, _catastrophic), (forward, inverse)]
        steps64 = [(_catastrophic, _catastrophic), (forward64, inverse64)]
    got, want = base, base
    for (f, g), (f64, g64) in zip(steps, steps64, strict=True):
        got = TransformedDistribution(got, f, g)
        want = TransformedDistribution(want, f64, g64)
    y = np.array([[1.5, 2.0, 9.0], [1.3, 4.0, 20.0]])
    _compare(got, want, y)


class _Cast(PredictiveDistribution):
    """A base distribution of the user whose results come in ``dtype``."""

    def __init__(self, dist, dtype):
        self.dist, self.dtype, self.n = dist, dtype, dist.n

    def _out(self, value):
        return np.asarray(value).astype(self.dtype)

    mean = property(lambda self: self._out(self.dist.mean))
    std = property(lambda self: self._out(self.dist.std))
    epistemic_std = property(lambda self: self._out(self.dist.epistemic_std))
    aleatoric_std = property(lambda self: self._out(self.dist.aleatoric_std))

    def logpdf(self, y):
        return self._out(self.dist.logpdf(y))

    def cdf(self, y):
        return self._out(self.dist.cdf(y))

    def ppf(self, q):
        return self._out(self.dist.ppf(q))

    def sample(self, n_samples=1, random_state=None):
        return self.dist.sample(n_samples, random_state)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("forward", "inverse"), [(np.exp, np.log), (np.reciprocal, np.reciprocal)]
)
def test_base_distributions_of_other_dtypes_are_read_in_double(dtype, forward, inverse):
    mixture = NormalMixture(np.array([[5.0, 6.0], [7.0, 8.0]]), [0.25, 0.5])
    got = TransformedDistribution(_Cast(mixture, dtype), forward, inverse)
    want = TransformedDistribution(
        _Cast(_Cast(mixture, dtype), np.float64), forward, inverse
    )
    y = np.array([[0.1, 0.18, 5.0], [0.12, 0.14, 7.5]])
    _compare(got, want, y if forward is np.reciprocal else 1 / y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numerical_slopes_of_other_dtypes_are_in_double(dtype):
    # Central differences, and one-sided ones at the end of the domain
    # (sqrt is NaN below 0).
    x = np.array([[0.0, 1e-3, 0.5, 2.0]])
    scale = np.ones((1, 1))
    func, func64 = _rounded(np.sqrt, dtype)
    with np.errstate(invalid="ignore"):
        _assert_double(_maps._slope(func, x, scale), _maps._slope(func64, x, scale))
        _assert_double(_maps._central(func, x, 1e-3), _maps._central(func64, x, 1e-3))
