"""ConjugateLinearRegression against naive dense references and sklearn."""

import itertools
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures

from bayesreg import BasisExpansion, ConjugateLinearRegression, RidgeMAP
from bayesreg.distributions import Normal, StudentT

# ----------------------------------------------------------------------------
# Naive dense references: textbook formulas with explicit inverses and n x n
# covariance matrices, fine for a handful of points.
# ----------------------------------------------------------------------------


def naive_gaussian(Phi, y, m0, S0, s2, w=None):
    """Bishop eqs. 3.50-3.51 and the evidence as a multivariate normal."""
    w = np.ones(len(y)) if w is None else w
    S0_inv = np.linalg.inv(S0)
    Sn = np.linalg.inv(S0_inv + Phi.T @ (w[:, None] * Phi) / s2)
    mn = Sn @ (S0_inv @ m0 + Phi.T @ (w * y) / s2)
    return mn, Sn


def naive_gaussian_evidence(Phi, y, m0, S0, s2):
    cov = s2 * np.eye(len(y)) + Phi @ S0 @ Phi.T
    return stats.multivariate_normal(Phi @ m0, cov).logpdf(y)


def naive_nig(Phi, y, m0, V0, a0, b0):
    V0_inv = np.linalg.inv(V0)
    Vn = np.linalg.inv(V0_inv + Phi.T @ Phi)
    mn = Vn @ (V0_inv @ m0 + Phi.T @ y)
    an = a0 + len(y) / 2
    bn = b0 + 0.5 * (y @ y + m0 @ V0_inv @ m0 - mn @ np.linalg.inv(Vn) @ mn)
    return mn, Vn, an, bn


def naive_nig_evidence(Phi, y, m0, V0, a0, b0):
    shape = (b0 / a0) * (np.eye(len(y)) + Phi @ V0 @ Phi.T)
    return stats.multivariate_t(Phi @ m0, shape, df=2 * a0).logpdf(y)


# ----------------------------------------------------------------------------
# The seed notebook's worked example
# ----------------------------------------------------------------------------


def test_seed_worked_example_one_point_at_a_time():
    # Prior N([0, 0], diag(25, 25)) on (b, w) with design [1, x], unit noise;
    # the notebook's update Sigma_N = s^2 (Phi^T Phi + s^2 Sigma_0^-1)^-1,
    # m_N = Sigma_N Sigma_0^-1 m_0 + Sigma_N Phi^T y / s^2, applied per point.
    m, S, s2 = np.zeros(2), np.diag([25.0, 25.0]), 1.0
    reg = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0, fit_intercept=False)
    for x, t in [(2.0, 0.0), (-2.0, -2.0)]:
        Phi, y = np.array([[1.0, x]]), np.array([t])
        S_new = s2 * np.linalg.inv(Phi.T @ Phi + s2 * np.linalg.inv(S))
        m = S_new @ np.linalg.solve(S, m) + S_new @ Phi.T @ y / s2
        S = S_new
        reg.partial_fit(Phi, y)
        assert_allclose(reg.coef_, m, rtol=1e-10, atol=1e-12)
        assert_allclose(reg.coef_cov_, S, rtol=1e-10, atol=1e-12)
    # And the predictive of the notebook's last figure: s^2 + x^T Sigma_N x.
    grid = np.column_stack([np.ones(7), np.linspace(-5, 5, 7)])
    mean, std = reg.predict(grid, return_std=True)
    assert_allclose(mean, grid @ m, rtol=1e-10)
    assert_allclose(std**2, s2 + np.einsum("ij,jk,ik->i", grid, S, grid), rtol=1e-10)


# ----------------------------------------------------------------------------
# Agreement with the dense references
# ----------------------------------------------------------------------------


def test_known_noise_matches_dense_reference(linear_data):
    X, y = linear_data(1)
    m0 = np.array([0.3, -0.2, 0.1])
    prior_std = np.array([0.5, 2.0, 1.0])
    reg = ConjugateLinearRegression(
        prior_std=prior_std, prior_mean=m0, noise_std=0.7, fit_intercept=False
    ).fit(X, y)
    mn, Sn = naive_gaussian(X, y, m0, np.diag(prior_std**2), 0.49)
    assert_allclose(reg.coef_, mn, rtol=1e-10)
    assert_allclose(reg.coef_cov_, Sn, rtol=1e-10, atol=1e-14)
    ref = naive_gaussian_evidence(X, y, m0, np.diag(prior_std**2), 0.49)
    assert_allclose(reg.log_marginal_likelihood_, ref, rtol=1e-10)
    Xt = linear_data(2, n=5)[0]
    dist = reg.predict_dist(Xt)
    assert isinstance(dist, Normal)
    var_f = np.einsum("ij,jk,ik->i", Xt, Sn, Xt)
    assert_allclose(dist.mean, Xt @ mn, rtol=1e-10)
    assert_allclose(dist.std**2, 0.49 + var_f, rtol=1e-10)
    assert_allclose(dist.epistemic_std**2, var_f, rtol=1e-10)


def test_sample_weight_is_repetition(linear_data):
    X, y = linear_data(3)
    w = np.arange(len(y)) % 3  # zeros included
    kw = dict(noise_std=0.8, prior_std=1.0, fit_intercept=False)
    a = ConjugateLinearRegression(**kw).fit(X, y, sample_weight=w)
    b = ConjugateLinearRegression(**kw).fit(np.repeat(X, w, 0), np.repeat(y, w))
    assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    assert_allclose(a.coef_cov_, b.coef_cov_, rtol=1e-10)
    assert_allclose(a.log_marginal_likelihood_, b.log_marginal_likelihood_, rtol=1e-10)
    mn, _ = naive_gaussian(X, y, np.zeros(3), np.eye(3), 0.64, w.astype(float))
    assert_allclose(a.coef_, mn, rtol=1e-10)


def test_unknown_noise_matches_dense_reference(linear_data):
    X, y = linear_data(4)
    m0, prior_std, a0, b0 = (
        np.array([0.1, 0.0, -0.3]),
        np.array([1.0, 3.0, 0.5]),
        2.0,
        0.7,
    )
    reg = ConjugateLinearRegression(
        prior_std=prior_std, prior_mean=m0, noise_std=None,
        noise_prior_shape=a0, noise_prior_scale=b0, fit_intercept=False,
    ).fit(X, y)  # fmt: skip
    V0 = np.diag(prior_std**2)
    # noise_prior_scale is relative to y's spread (here its mean square).
    b0 = b0 * np.mean(y**2)
    mn, Vn, an, bn = naive_nig(X, y, m0, V0, a0, b0)
    assert_allclose(reg.coef_, mn, rtol=1e-10)
    assert_allclose(reg.noise_shape_, an, rtol=1e-12)
    assert_allclose(reg.noise_scale_, bn, rtol=1e-10)
    assert_allclose(reg.coef_cov_, bn / (an - 1) * Vn, rtol=1e-10, atol=1e-14)
    assert_allclose(reg.noise_std_, np.sqrt(bn / (an - 1)), rtol=1e-10)
    ref = naive_nig_evidence(X, y, m0, V0, a0, b0)
    assert_allclose(reg.log_marginal_likelihood_, ref, rtol=1e-10)
    Xt = linear_data(5, n=4)[0]
    dist = reg.predict_dist(Xt)
    assert isinstance(dist, StudentT)
    q = np.einsum("ij,jk,ik->i", Xt, Vn, Xt)
    ref_t = stats.t(2 * an, Xt @ mn, np.sqrt(bn / an * (1 + q)))
    assert_allclose(dist.df, 2 * an)
    assert_allclose(dist.std, ref_t.std(), rtol=1e-10)
    assert_allclose(dist.epistemic_std**2, bn / (an - 1) * q, rtol=1e-10)
    yt = np.linspace(-1, 1, 4)
    assert_allclose(reg.log_predictive_density(Xt, yt), ref_t.logpdf(yt), rtol=1e-10)


@pytest.mark.parametrize("noise_std", [0.6, None])
def test_flat_intercept_is_limit_of_wide_bias_prior(linear_data, noise_std):
    # fit_intercept=True equals an explicit bias column whose prior std tau
    # grows, with the evidence shifted by log(tau sqrt(2 pi)) as documented.
    # With unknown noise the bias column's conjugate prior is N(0, s^2 tau^2):
    # integrating it adds a factor 1/s that the flat p(b) = 1 does not, which
    # a noise prior shape half a unit smaller makes up (same posterior); the
    # evidences then differ also by the two priors' normalisers.
    X, y = linear_data(6, offset=3.0)
    tau = 1e5
    b0_abs = 1.3
    a0_flat, a0_wide = 2.5, 2.0
    extra_flat, extra_wide = {}, {}
    if noise_std is None:
        # noise_prior_scale is relative to y's spread: its variance with an
        # intercept, its mean square without.
        extra_flat = dict(noise_prior_shape=a0_flat, noise_prior_scale=b0_abs / y.var())
        extra_wide = dict(
            noise_prior_shape=a0_wide, noise_prior_scale=b0_abs / np.mean(y**2)
        )
    flat = ConjugateLinearRegression(
        noise_std=noise_std, prior_std=[1.0, 2.0, 0.5], **extra_flat
    )
    flat.fit(X, y)
    wide = ConjugateLinearRegression(
        noise_std=noise_std,
        prior_std=[tau, 1.0, 2.0, 0.5],
        fit_intercept=False,
        **extra_wide,
    ).fit(np.column_stack([np.ones(len(y)), X]), y)
    assert_allclose(flat.coef_, wide.coef_[1:], rtol=1e-7)
    assert_allclose(flat.intercept_, wide.coef_[0], rtol=1e-7)
    assert_allclose(flat.coef_cov_, wide.coef_cov_[1:, 1:], rtol=1e-7)
    Xt = linear_data(7, n=6, offset=-2.0)[0]
    for kind in ("total", "epistemic"):
        assert_allclose(
            flat.predict_std(Xt, kind=kind),
            wide.predict_std(np.column_stack([np.ones(6), Xt]), kind=kind),
            rtol=1e-7,
        )
    shift = np.log(tau * np.sqrt(2 * np.pi))
    if noise_std is None:
        shift += (a0_flat - a0_wide) * np.log(b0_abs) - (
            special.gammaln(a0_flat) - special.gammaln(a0_wide)
        )
    assert_allclose(
        flat.log_marginal_likelihood_, wide.log_marginal_likelihood_ + shift, rtol=1e-7
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"noise_std": 0.7},
        {"noise_std": 0.7, "prior_std": 1.5},
        {"prior_std": 1.5},
        {"fit_hyperparameters": True},
    ],
)
def test_uncertainty_smallest_near_the_data(params):
    # scikit-learn issue 33757: BayesianRidge's predictive std ignored the
    # centring and was smallest at the origin. Here it is smallest at the
    # data mean.
    rng = np.random.default_rng(0)
    x = rng.uniform(10, 12, 40)
    y = 2.0 * x - 5.0 + 0.3 * rng.normal(size=40)
    reg = ConjugateLinearRegression(**params).fit(x[:, None], y)
    grid = np.linspace(-5, 25, 301)[:, None]
    std = reg.predict_std(grid, kind="epistemic")
    assert reg.predict_std([[11.0]]) < reg.predict_std([[0.0]])
    assert abs(grid[np.argmin(std), 0] - x.mean()) < 0.1


# ----------------------------------------------------------------------------
# Empirical Bayes against sklearn's BayesianRidge
# ----------------------------------------------------------------------------


def test_fit_hyperparameters_matches_bayesian_ridge():
    # Near-flat gamma hyperpriors make BayesianRidge maximise the same
    # evidence. Both are fitted on centred data with fit_intercept=False:
    # with an intercept, BayesianRidge counts n (not n - 1) observations
    # for the noise and its predictive std omits the intercept's variance
    # (sklearn issue 33757), so only the centred problem is like for like.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) + 1.0
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=200) + 4.0
    Xc, yc = X - X.mean(0), y - y.mean()
    tiny = 1e-12
    br = BayesianRidge(
        alpha_1=tiny, alpha_2=tiny, lambda_1=tiny, lambda_2=tiny,
        tol=1e-12, max_iter=10_000, fit_intercept=False,
    ).fit(Xc, yc)  # fmt: skip
    reg = ConjugateLinearRegression(
        fit_hyperparameters=True, fit_intercept=False, prior_std=1.0
    )
    reg.fit(Xc, yc)
    assert_allclose(reg.coef_, br.coef_, rtol=1e-4)
    assert_allclose(reg.noise_std_, 1 / np.sqrt(br.alpha_), rtol=1e-4)
    assert_allclose(reg.prior_std_, 1 / np.sqrt(br.lambda_), rtol=1e-4)
    Xt = rng.normal(size=(20, 5)) * 3
    _, br_std = br.predict(Xt, return_std=True)
    assert_allclose(reg.predict_std(Xt), br_std, rtol=1e-4)
    assert reg.n_iter_ < 300


def test_fit_hyperparameters_uses_n_minus_one_with_intercept(linear_data):
    # With an intercept the fixed point is that of the centred problem
    # with one observation fewer: the evidence is maximised at the result.
    X, y = linear_data(8, n=40)
    reg = ConjugateLinearRegression(fit_hyperparameters=True).fit(X, y)
    best = reg.log_marginal_likelihood_
    for f_prior, f_noise in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
        other = ConjugateLinearRegression(
            prior_std=reg.prior_std_ * f_prior, noise_std=reg.noise_std_ * f_noise
        ).fit(X, y)
        assert other.log_marginal_likelihood_ < best
    # per-feature prior_std keeps its shape, one common factor is fitted
    reg2 = ConjugateLinearRegression(
        fit_hyperparameters=True, prior_std=[1.0, 2.0, 4.0]
    ).fit(X, y)
    assert_allclose(reg2.prior_std_ / reg2.prior_std_[0], [1.0, 2.0, 4.0])


# ----------------------------------------------------------------------------
# Online updates
# ----------------------------------------------------------------------------


def _offset_problem(seed, weighted, n=30):
    """Columns of very different scales and offsets (one at 100), optional weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 100.0]
    y = X @ [1.0, -0.5, 2.0] + rng.normal(size=n)
    w = rng.uniform(0.1, 3.0, n) if weighted else None
    return X, y, w


def _assert_same_posterior(got, want, X):
    """Same posterior, evidence and predictive std, to 1e-10 relative.

    The evidence fixed point of ``fit_hyperparameters=True`` stops at a
    relative change of ``tol`` (1e-10): its optimum, found from statistics
    that differ by rounding, agrees to about 1e-8.
    """
    rtol = 1e-8 if got.fit_hyperparameters else 1e-10
    assert_allclose(got.coef_, want.coef_, rtol=rtol)
    assert_allclose(got.intercept_, want.intercept_, rtol=rtol, atol=1e-10)
    assert_allclose(got.coef_cov_, want.coef_cov_, rtol=rtol, atol=1e-16)
    assert_allclose(
        got.log_marginal_likelihood_, want.log_marginal_likelihood_, rtol=1e-10
    )
    Xt = X[:5] * 2
    assert_allclose(got.predict_std(Xt), want.predict_std(Xt), rtol=rtol)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    # The first chunk has 2 rows or more: one row with a flat intercept and
    # Jeffreys' noise prior is refused (test_partial_fit_row_by_row...).
    cuts=st.lists(st.integers(2, 29), max_size=8),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    noise=st.sampled_from([0.5, None]),
)
def test_partial_fit_any_chunking_equals_batch(
    seed, cuts, fit_intercept, weighted, noise
):
    X, y, w = _offset_problem(seed, weighted)
    n = len(y)
    est = ConjugateLinearRegression(noise_std=noise, fit_intercept=fit_intercept)
    batch = clone(est).fit(X, y, sample_weight=w)
    online = clone(est)
    bounds = [0, *sorted(set(cuts)), n]
    for a, b in itertools.pairwise(bounds):
        online.partial_fit(X[a:b], y[a:b], sample_weight=None if w is None else w[a:b])
    _assert_same_posterior(online, batch, X)


def test_partial_fit_row_by_row_with_intercept(linear_data):
    X, y = linear_data(9, n=50, offset=100.0)
    batch = ConjugateLinearRegression().fit(X, y)
    online = ConjugateLinearRegression()
    # One row with a flat intercept and Jeffreys' noise prior leaves nothing
    # to learn the noise from: refused, and the estimator stays unfitted.
    with pytest.raises(ValueError, match="n_samples=1"):
        online.partial_fit(X[:1], y[:1])
    assert not hasattr(online, "coef_") and not hasattr(online, "n_features_in_")
    online.partial_fit(X[:2], y[:2])
    for i in range(2, len(y)):
        online.partial_fit(X[i : i + 1], y[i : i + 1])
    assert_allclose(online.coef_, batch.coef_, rtol=1e-10)
    assert_allclose(online.intercept_, batch.intercept_, rtol=1e-10)
    assert_allclose(online.predict_std(X), batch.predict_std(X), rtol=1e-10)


def test_partial_fit_after_fit_continues_and_fit_resets(linear_data):
    X, y = linear_data(10, n=20)
    reg = ConjugateLinearRegression().fit(X[:10], y[:10]).partial_fit(X[10:], y[10:])
    assert_allclose(reg.coef_, ConjugateLinearRegression().fit(X, y).coef_, rtol=1e-10)
    reg.fit(X[:10], y[:10])
    assert_allclose(
        reg.coef_, ConjugateLinearRegression().fit(X[:10], y[:10]).coef_, rtol=1e-12
    )
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X[:, :2], y)


# ----------------------------------------------------------------------------
# Merging estimators fitted on shards
# ----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    labels=st.lists(st.integers(0, 4), min_size=30, max_size=30),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    params=st.sampled_from(
        [
            {"noise_std": 0.5},
            {"noise_std": 0.5, "prior_std": 1.0},
            {},
            {"prior_std": 1.0},
            {"fit_hyperparameters": True},
        ]
    ),
)
# Found by a random search: a one-row shard, whose noise posterior alone is
# improper under Jeffreys' prior with an intercept (the fit refuses it).
@example(seed=0, labels=[0] * 29 + [1], fit_intercept=True, weighted=False, params={})
def test_merge_of_any_partition_equals_batch(
    seed, labels, fit_intercept, weighted, params
):
    X, y, w = _offset_problem(seed, weighted)
    est = ConjugateLinearRegression(fit_intercept=fit_intercept, **params)
    batch = clone(est).fit(X, y, sample_weight=w)
    labels = np.asarray(labels)
    # Each shard must be a valid fit on its own: a shard of one row (or of
    # total weight below 2) can be improper (see the example above), so such
    # shards join the heaviest one.
    rows = np.bincount(labels)
    weight = rows if w is None else np.bincount(labels, weights=w)
    small = (rows < 2) | (weight < 2.0)
    labels = np.where(small[labels], np.argmax(weight), labels)
    shards = [
        clone(est).fit(X[i], y[i], sample_weight=None if w is None else w[i])
        for i in (np.flatnonzero(labels == k) for k in np.unique(labels))
    ]
    first_coef = shards[0].coef_.copy()
    merged = shards[0].merge(*shards[1:])
    assert merged is not shards[0]
    assert_allclose(shards[0].coef_, first_coef)  # the shards are unchanged
    assert_allclose(merged.sufficient_stats_.n, batch.sufficient_stats_.n)
    _assert_same_posterior(merged, batch, X)
    rtol = 1e-8 if est.fit_hyperparameters else 1e-10  # see _assert_same_posterior
    assert_allclose(merged.noise_std_, batch.noise_std_, rtol=rtol)
    assert_allclose(merged.prior_std_, batch.prior_std_, rtol=rtol)


def test_merge_checks_its_arguments(linear_data):
    pd = pytest.importorskip("pandas")
    X, y = linear_data(17, n=20)
    a = ConjugateLinearRegression().fit(X[:10], y[:10])
    copy = a.merge()
    assert copy is not a
    assert_allclose(copy.coef_, a.coef_)
    assert_allclose(copy.log_marginal_likelihood_, a.log_marginal_likelihood_)
    for params, match in [
        ({"prior_std": 2.0}, "different prior_std"),
        ({"prior_std": [1.0, 1.0, 1.0]}, "different prior_std"),
        ({"noise_std": 1.0}, "different noise_std"),
        ({"fit_intercept": False}, "different fit_intercept"),
        ({"fit_hyperparameters": True}, "different fit_hyperparameters"),
    ]:
        other = ConjugateLinearRegression(**params).fit(X[10:], y[10:])
        with pytest.raises(ValueError, match=match):
            a.merge(other)
    with pytest.raises(ValueError, match="numbers of features"):
        a.merge(ConjugateLinearRegression().fit(X[10:, :2], y[10:]))
    named = ConjugateLinearRegression().fit(
        pd.DataFrame(X[10:], columns=list("abc")), y[10:]
    )
    with pytest.raises(ValueError, match="feature names"):
        a.merge(named)
    with pytest.raises(NotFittedError):
        a.merge(ConjugateLinearRegression())
    with pytest.raises(NotFittedError):
        ConjugateLinearRegression().merge(a)
    with pytest.raises(TypeError, match="ConjugateLinearRegression"):
        a.merge(RidgeMAP().fit(X, y))
    # equal array-valued parameters are equal settings
    b = ConjugateLinearRegression(prior_std=np.array([1.0, 2.0, 3.0]))
    c = ConjugateLinearRegression(prior_std=[1.0, 2.0, 3.0])
    merged = b.fit(X[:10], y[:10]).merge(c.fit(X[10:], y[10:]))
    assert_allclose(merged.coef_, clone(b).fit(X, y).coef_, rtol=1e-10)


# ----------------------------------------------------------------------------
# Calibration of the unknown-noise predictive
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unknown_noise_intervals_cover(seed):
    # Data simulated from the model (s^2 from the prior, w | s^2 from the
    # prior), fitted with the same prior on enough points that the posterior
    # is concentrated: 90% intervals cover 90% of new points within binomial
    # error (4 standard errors).
    rng = np.random.default_rng(seed)
    a0, b0, d, n, n_test = 3.0, 2.0, 4, 2000, 4000
    s2 = b0 / rng.gamma(a0)
    w = rng.normal(size=d) * np.sqrt(s2) * 2.0
    X = rng.normal(size=(n + n_test, d))
    y = X @ w + np.sqrt(s2) * rng.normal(size=n + n_test)
    # noise_prior_scale is relative to the mean square of the training y.
    reg = ConjugateLinearRegression(
        noise_std=None, prior_std=2.0, noise_prior_shape=a0,
        noise_prior_scale=b0 / np.mean(y[:n] ** 2), fit_intercept=False,
    ).fit(X[:n], y[:n])  # fmt: skip
    lo, hi = reg.predict_interval(X[n:], coverage=0.9).T
    cover = np.mean((y[n:] >= lo) & (y[n:] <= hi))
    assert abs(cover - 0.9) < 4 * np.sqrt(0.9 * 0.1 / n_test)


def test_unknown_noise_coverage_averaged_over_the_prior():
    """Averaged over data sets drawn from the prior, the Student-t predictive
    is exact: central intervals cover their level, 50% to 99%. Few rows and
    a vague noise prior (5 degrees of freedom) make its tails heavy enough
    that a Normal of the same mean and std fails the same check (it covers
    58% at the 50% level) and loses on log density."""
    rng = np.random.default_rng(123)
    a0, b0, d, n, m, reps = 1.5, 2.0, 3, 2, 5, 400
    pit, pit_normal, gain = [], [], []
    for _ in range(reps):
        s2 = b0 / rng.gamma(a0)
        w = rng.normal(size=d) * np.sqrt(s2)
        X = rng.normal(size=(n + m, d))
        y = X @ w + np.sqrt(s2) * rng.normal(size=n + m)
        reg = ConjugateLinearRegression(
            noise_std=None, prior_std=1.0, noise_prior_shape=a0,
            noise_prior_scale=b0 / np.mean(y[:n] ** 2), fit_intercept=False,
        ).fit(X[:n], y[:n])  # fmt: skip
        dist = reg.predict_dist(X[n:])
        assert_allclose(dist.df, 2 * a0 + n)
        normal = stats.norm(dist.mean, dist.std)
        pit.append(dist.cdf(y[n:]))
        pit_normal.append(normal.cdf(y[n:]))
        gain.append(dist.logpdf(y[n:]) - normal.logpdf(y[n:]))
    pit, pit_normal, gain = map(np.array, (pit, pit_normal, gain))

    def coverage(u, level):
        """Per data set (its m test rows share w and s2), and the standard
        error of the mean over the independent data sets."""
        hit = (np.abs(u - 0.5) <= level / 2).mean(axis=1)
        return hit.mean(), hit.std() / np.sqrt(reps)

    for level in (0.5, 0.9, 0.99):
        cover, se = coverage(pit, level)
        assert abs(cover - level) < 4 * max(se, np.sqrt(level * (1 - level) / reps))
    cover, se = coverage(pit_normal, 0.5)
    assert cover - 0.5 > 4 * se  # the check tells a Student-t from a Normal
    # ... and the log score, proper, prefers the true predictive: 0.039
    # nats a point, 3.4 standard errors here.
    per_set = gain.mean(axis=1)
    assert per_set.mean() > 3 * per_set.std() / np.sqrt(reps)


# ----------------------------------------------------------------------------
# Ill-conditioned designs
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"noise_std": 0.1},
        {"noise_std": None, "prior_std": 10.0},
        {"fit_hyperparameters": True},
    ],
)
def test_degree_15_polynomial_on_wide_range(params):
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 1000, 200))[:, None]
    f = lambda x: np.sin(x[:, 0] / 150.0)  # noqa: E731
    y = f(x) + 0.1 * rng.normal(size=200)
    model = make_pipeline(
        BasisExpansion(degree=15), ConjugateLinearRegression(**params)
    ).fit(x, y)
    xt = np.linspace(0, 1000, 50)[:, None]
    mean, std = model.predict(xt, return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    assert np.sqrt(np.mean((mean - f(xt)) ** 2)) < 0.05  # noise std 0.1
    assert np.all(std < 0.2)
    # Raw powers x^k up to 1e45: the Gram matrix is numerically singular.
    # A prior measured per standardised column (prior_std="auto", also the
    # start of fit_hyperparameters) solves it as accurately as the basis
    # above; a common prior_std of 10 on all of them is refused, naming the
    # conditioning (it gave an RMSE of 2e28, issue 21 defect 13).
    raw = make_pipeline(
        PolynomialFeatures(15, include_bias=False), ConjugateLinearRegression(**params)
    )
    if "prior_std" in params:
        with pytest.raises(ValueError, match="too ill-conditioned"):
            raw.fit(x, y)
        return
    mean, std = raw.fit(x, y).predict(xt, return_std=True)
    assert np.sqrt(np.mean((mean - f(xt)) ** 2)) < 0.05
    assert np.all(std < 0.2)
    assert np.all(std > 0)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"noise_std": 0.7},
        {"noise_std": 0.7, "prior_std": 1.5},
        {"prior_std": 1.5},
        {"fit_hyperparameters": True},
    ],
)
def test_collinear_columns_and_n_less_than_d(params):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    Xd = np.column_stack([X, X[:, 0], 2 * X[:, 1] - X[:, 2]])  # exactly collinear
    y = X @ [1.0, 2.0, -1.0] + 0.1 * rng.normal(size=30)
    reg = ConjugateLinearRegression(**params).fit(Xd, y)
    assert np.all(np.isfinite(reg.coef_))
    assert np.sqrt(np.mean((reg.predict(Xd) - y) ** 2)) < 0.5
    # the duplicated column shares the weight equally (symmetric prior)
    assert_allclose(reg.coef_[0], reg.coef_[3], rtol=1e-8)
    cov = reg.coef_cov_
    assert_allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0
    # n < d
    Xw = rng.normal(size=(5, 20))
    reg = ConjugateLinearRegression(**params).fit(Xw, Xw[:, 0])
    std = reg.predict_std(rng.normal(size=(10, 20)))
    assert np.all(np.isfinite(std)) and np.all(std > 0)


# ----------------------------------------------------------------------------
# Draws
# ----------------------------------------------------------------------------


def test_sample_y_unfitted_draws_from_the_prior_predictive():
    reg = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0, fit_intercept=False)
    Phi = np.column_stack([np.ones(3), [-5.0, 0.0, 5.0]])
    draws = reg.sample_y(Phi, n_samples=20_000, random_state=0)
    assert draws.shape == (3, 20_000)
    assert not hasattr(reg, "coef_")
    # prior predictive covariance: s^2 I + Phi S0 Phi^T (joint draws)
    cov = np.eye(3) + 25.0 * Phi @ Phi.T
    assert_allclose(np.cov(draws), cov, rtol=0.05, atol=0.5)
    f = reg.sample_functions(Phi, n_samples=20_000, random_state=0)
    assert_allclose(np.cov(f), 25.0 * Phi @ Phi.T, rtol=0.05, atol=0.5)
    assert_allclose(
        reg.sample_y(Phi, 3, random_state=1), reg.sample_y(Phi, 3, random_state=1)
    )
    # with fit_intercept=True prior draws have intercept 0
    f = ConjugateLinearRegression(prior_std=1.0, noise_std=1.0).sample_functions(
        np.zeros((2, 2)), 5, random_state=0
    )
    assert_allclose(f, 0.0)
    # The defaults (and unknown noise, whose prior scale is relative to the
    # data's y) are set by the data: no prior draws before a fit.
    for params in ({}, {"prior_std": 1.0}, {"noise_std": 1.0}):
        with pytest.raises(ValueError, match="prior fixed before seeing data"):
            ConjugateLinearRegression(**params).sample_y([[1.0]], random_state=0)
    with pytest.raises(ValueError, match="prior_std"):
        ConjugateLinearRegression(prior_std=[1.0, 2.0]).sample_y(np.ones((2, 3)))


def test_sample_parameters_unfitted_draws_from_a_proper_prior():
    # Defect (issue 13): sample_coef was documented to draw from the prior
    # when unfitted, but raised NotFittedError.
    reg = ConjugateLinearRegression(
        prior_std=[1.0, 2.0], prior_mean=[0.5, -1.0], noise_std=0.3
    )
    draws = reg.sample_parameters(40_000, random_state=0)
    assert sorted(draws) == ["coef", "intercept", "noise_std"]
    assert draws["coef"].shape == (40_000, 2)
    assert_allclose(draws["coef"].mean(0), [0.5, -1.0], atol=0.03)
    assert_allclose(draws["coef"].std(0), [1.0, 2.0], rtol=0.02)
    assert_array_equal(draws["intercept"], 0.0)  # the flat intercept: 0
    assert_allclose(draws["noise_std"], 0.3)
    again = reg.sample_parameters(3, random_state=1)["coef"]
    assert_array_equal(again, reg.sample_parameters(3, random_state=1)["coef"])
    assert not hasattr(reg, "coef_")
    # The same draws as the functions drawn from that prior.
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    f = reg.sample_functions(X, 5, random_state=2)
    assert_allclose(f.T, reg.sample_parameters(5, random_state=2)["coef"])


@pytest.mark.parametrize(
    "params, why",
    [
        ({}, "prior fixed before seeing data"),
        ({"prior_std": 1.0}, "prior fixed before seeing data"),
        ({"noise_std": 1.0}, "prior fixed before seeing data"),
        ({"prior_std": 1.0, "noise_std": 1.0}, "how many features"),
    ],
)
def test_sample_parameters_unfitted_improper_prior_says_why(params, why):
    with pytest.raises(NotFittedError, match=why):
        ConjugateLinearRegression(**params).sample_parameters(2)


@pytest.mark.parametrize("params", [{}, {"noise_std": 1.0}])
def test_posterior_draws_match_posterior_moments(linear_data, params):
    X, y = linear_data(11, n=15, offset=2.0)
    reg = ConjugateLinearRegression(noise_prior_shape=3.0, **params).fit(X, y)
    draws = reg.sample_parameters(40_000, random_state=0)
    coef, intercept = draws["coef"], draws["intercept"]
    assert coef.shape == (40_000, 3) and intercept.shape == (40_000,)
    assert draws["noise_std"].shape == (40_000,)
    assert_allclose(coef.mean(0), reg.coef_, atol=0.02)
    assert_allclose(np.cov(coef.T), reg.coef_cov_, rtol=0.08, atol=2e-3)
    assert_allclose(intercept.mean(), reg.intercept_, atol=0.05)
    Xt = linear_data(12, n=4)[0]
    ys = reg.sample_y(Xt, 40_000, random_state=1)
    dist = reg.predict_dist(Xt)
    assert_allclose(ys.mean(1), dist.mean, atol=0.05)
    assert_allclose(ys.std(1), dist.std, rtol=0.05)
    fs = reg.sample_functions(Xt, 40_000, random_state=1)
    assert_allclose(fs.std(1), dist.epistemic_std, rtol=0.05)
    with pytest.raises(ValueError, match="n_samples"):
        reg.sample_y(Xt, 0)


# ----------------------------------------------------------------------------
# Chunking and validation
# ----------------------------------------------------------------------------


def test_predictive_is_computed_in_blocks(linear_data, monkeypatch):
    from bayesreg import _gram

    X, y = linear_data(13, n=40)
    reg = ConjugateLinearRegression(noise_std=None).fit(X, y)
    Xt = linear_data(14, n=101)[0]
    whole = reg.predict_dist(Xt)
    monkeypatch.setattr(_gram, "_BLOCK_BYTES", 8 * 3 * 7)  # 7 rows per block
    assert _gram._block_rows(3) == 7
    blocked = reg.predict_dist(Xt)
    assert_allclose(blocked.std, whole.std, rtol=1e-12)
    assert_allclose(blocked.mean, whole.mean, rtol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"prior_std": -1.0}, "prior_std"),
        ({"prior_std": 0.0}, "prior_std"),
        ({"prior_std": [1.0, 2.0]}, "prior_std"),
        ({"prior_std": [1.0, -2.0, 1.0]}, "prior_std must be positive"),
        ({"prior_std": [1.0, np.nan, 1.0]}, "prior_std must be finite"),
        ({"prior_mean": [1.0, 2.0]}, "prior_mean"),
        ({"noise_std": 0.0}, "noise_std"),
        ({"noise_std": -2.0}, "noise_std"),
        ({"noise_std": "auto"}, "noise_std"),
        ({"noise_prior_shape": -1.0, "noise_std": None}, "noise_prior_shape"),
        ({"noise_prior_scale": -1.0, "noise_std": None}, "noise_prior_scale"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_raise_value_error(linear_data, params, match):
    X, y = linear_data(15)
    with pytest.raises(ValueError, match=match):
        ConjugateLinearRegression(**params).fit(X, y)


def test_bad_input_raises_value_error(linear_data):
    X, y = linear_data(16)
    reg = ConjugateLinearRegression()
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="infinity"):
        reg.partial_fit(np.where(X > 1, np.inf, X), y)
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(X, np.where(y > 1, np.nan, y))
    with pytest.raises(ValueError, match="overflow"):
        reg.fit(X * 1e200, y)
    with pytest.raises(ValueError, match="non-zero"):
        reg.fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="Negative values"):
        reg.fit(X, y, sample_weight=-np.ones(len(y)))
    reg.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict_dist(X[:, :2])


# ----------------------------------------------------------------------------
# Optional dependencies
# ----------------------------------------------------------------------------


def test_numpy_fits_work_without_dask():
    # A meta-path finder makes dask (and distributed) unimportable, as if not
    # installed: bayesreg and NumPy fits must not need it.
    code = textwrap.dedent(
        """
        import sys

        class BlockDask:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("dask", "distributed"):
                    raise ImportError(f"{name} is blocked by the test")
                return None

        sys.meta_path.insert(0, BlockDask())
        import numpy as np

        import bayesreg
        from bayesreg import ConjugateLinearRegression, RidgeMAP

        rng = np.random.default_rng(0)
        X = rng.normal(size=(50, 3))
        y = X.sum(axis=1) + rng.normal(size=50)
        for est in (ConjugateLinearRegression(fit_hyperparameters=True), RidgeMAP()):
            est.fit(X, y, sample_weight=np.ones(50))
            est.predict_interval(X)
            est.predict_dist(X).logpdf(y)
        shard = ConjugateLinearRegression().partial_fit(X[:20], y[:20])
        shard.merge(ConjugateLinearRegression().fit(X[20:], y[20:]))
        try:
            import dask  # noqa: F401
        except ImportError:
            print("blocked", "dask" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["blocked", "False"]


# ----------------------------------------------------------------------------
# Extreme magnitudes (issue 21, defects 10 and 11)
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("Est", [ConjugateLinearRegression, RidgeMAP])
def test_tiny_targets_are_refused_naming_y(Est, linear_data):
    X, y = linear_data(0, n=30)
    with pytest.raises(ValueError, match="y has no entry of magnitude above"):
        Est().fit(X, y * 1e-300)
    # 1e-140 still squares to a normal number: fitted, and the stds scale.
    ref, tiny = Est().fit(X, y), Est().fit(X, y * 1e-140)
    assert_allclose(tiny.predict_std(X[:5]), 1e-140 * ref.predict_std(X[:5]), rtol=1e-8)


@pytest.mark.parametrize("Est", [ConjugateLinearRegression, RidgeMAP])
def test_huge_x_at_predict_is_refused_naming_x(Est, linear_data):
    X, y = linear_data(0, n=30)
    est = Est().fit(X, y)
    for method in (est.predict, est.predict_std, est.predict_dist):
        with pytest.raises(ValueError, match="X has entries of magnitude"):
            method(X[:3] * 1e151)
