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


def rounding_rtol(X, y, Xt, a, b) -> float:
    """Bound on what float64's rounding of ``a y + b`` can move the predictive
    at ``Xt``, relative to the predictive std: the tolerance a fit on
    (c X, a y + b) is held to beyond ``1e-8``, from the problem's own
    conditioning.

    Storing ``a y + b``, and a fit's own centring of it, moves each target by
    up to ``delta = 2 eps max|a y + b| / a`` in the units of y (1.5e-4 of
    the spread for a = 1e-6, b = 1e6: a real perturbation of the data). A
    least-squares fit passes it to the mean at a test row through that row
    of the hat matrix, ``h_t = [1, x_t] pinv([1, X])``, so by at most
    ``||h_t||_1 delta`` (one more ``delta`` for an intercept rounded on its
    own); the noise estimate, from the residuals ``r``, moves by at most
    ``||delta||_2 / ||r||_2 = delta / rms(r)`` relative; and the predictive
    std is at least about ``rms(r)``. Hence
    ``(max_t ||h_t||_1 + 1) delta / rms(r)``: at most about 0.07 on these
    tests' problems at a = 1e-6, |b| = 1e6, and 1e-10 or below when b = 0.
    A shrunk (Bayesian or ridge) fit is no more sensitive than least squares.
    """
    X, Xt = np.asarray(X, dtype=float), np.asarray(Xt, dtype=float)
    eps = np.finfo(float).eps
    delta = 2.0 * eps * np.max(np.abs(a * y + b)) / a
    design = np.column_stack([np.ones(len(X)), X])
    hat = np.column_stack([np.ones(len(Xt)), Xt]) @ np.linalg.pinv(design)
    gain = np.max(np.abs(hat).sum(axis=1)) + 1.0
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(gain * delta / np.sqrt(np.mean(resid**2)))


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
