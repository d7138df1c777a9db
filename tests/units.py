"""Helpers for the units-equivariance property tests (issue 12)."""

import numpy as np
from hypothesis import strategies as st

# a in [1e-6, 1e6], b in [-1e6, 1e6], c in [1e-3, 1e3], drawn on a log scale.
A = st.floats(-6.0, 6.0).map(lambda e: 10.0**e)
B = st.one_of(
    st.just(0.0),
    st.floats(-6.0, 6.0).map(lambda e: 10.0**e),
    st.floats(-6.0, 6.0).map(lambda e: -(10.0**e)),
)
C = st.floats(-3.0, 3.0).map(lambda e: 10.0**e)


def input_rounding(y, a, b) -> float:
    """Relative size, in units of its spread, of the rounding of a y + b.

    float64 holds a y + b to eps |a y + b|: with |b| >> a std(y) that is a
    real perturbation of the data (1.5e-4 of the spread for a = 1e-6,
    b = 1e6), which predictions at test points of high leverage amplify.
    """
    eps = np.finfo(float).eps
    return float(eps * np.max(np.abs(a * y + b)) / (a * np.std(y)))


def assert_mapped(dist, mapped, a, b, Xt_y, rtol):
    """``mapped`` is the predictive of a fit on (c X, a y + b): every part of
    ``dist`` mapped by y -> a y + b, to ``rtol`` (means relative to the std)."""
    std = dist.std
    assert np.all(np.abs(mapped.mean - (a * dist.mean + b)) <= rtol * a * std)
    np.testing.assert_allclose(mapped.std, a * std, rtol=rtol)
    np.testing.assert_allclose(mapped.epistemic_std, a * dist.epistemic_std, rtol=rtol)
    for coverage in (0.5, 0.9):
        lo, hi = dist.interval(coverage).T
        lo2, hi2 = mapped.interval(coverage).T
        assert np.all(np.abs(lo2 - (a * lo + b)) <= rtol * a * std)
        assert np.all(np.abs(hi2 - (a * hi + b)) <= rtol * a * std)
    # log densities shift by -log(a) (an absolute tolerance: they are O(1)).
    np.testing.assert_allclose(
        mapped.logpdf(a * Xt_y + b), dist.logpdf(Xt_y) - np.log(a), atol=10 * rtol
    )
