"""Properties of the textbook Cholesky forms the tests use as a reference."""

import _cholesky_reference as g
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import linalg, stats

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def problems(draw, max_n=25, max_d=5):
    """Random (X, y, weights, prior mean, prior std, noise var)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-2, 2, d)
    X = rng.normal(size=(n, d)) * scale + rng.normal(size=d) * scale * 3
    y = X @ rng.normal(size=d) + rng.normal(size=n) + 5.0
    w = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    m0 = rng.normal(size=d) * 0.1
    s0 = 10.0 ** rng.uniform(-1, 1, d)
    noise_var = 10.0 ** rng.uniform(-1, 1)
    return X, y, w, m0, s0, noise_var


def _posterior(X, y, w, m0, s0, noise_var, center, nig=False):
    stats_ = g.gram_stats(X, y, w, center=center)
    if nig:
        return g.nig_posterior(stats_, m0, s0, 2.0, 1.5)
    return g.gaussian_posterior(stats_, m0, s0, noise_var)


@SETTINGS
@given(problems(), st.booleans(), st.booleans())
def test_covariance_is_symmetric_positive_definite(problem, center, nig):
    post = _posterior(*problem, center, nig)
    cov = g.coef_covariance(post)
    assert_allclose(cov, cov.T, rtol=1e-12, atol=0)
    assert np.linalg.eigvalsh(cov).min() > 0
    # the posterior is never wider than the prior (known noise)
    if not nig:
        prior = np.diag(problem[4] ** 2)
        assert np.linalg.eigvalsh(prior - cov).min() > -1e-9 * prior.max()


@SETTINGS
@given(problems(), st.booleans())
def test_predictive_variance_is_at_least_the_noise(problem, center):
    X, *_ = problem
    post = _posterior(*problem, center)
    Xt = np.vstack([X, X * 3 + 1, np.zeros((1, X.shape[1]))])
    _, var_f = g.predictive_moments(post, Xt)
    # var_f + noise_var >= noise_var exactly when var_f >= 0
    assert np.all(var_f >= 0)
    # and equals the dense quadratic form x^T Sigma x (+ intercept variance)
    cov = g.coef_covariance(post)
    Z = Xt - post.x_mean if center else Xt
    ref = np.einsum("ij,jk,ik->i", Z, cov, Z)
    if center:
        ref += post.noise_var / post.n
    assert_allclose(var_f, ref, rtol=1e-7, atol=1e-12 * ref.max())


@SETTINGS
@given(problems(max_n=30), st.booleans(), st.data())
def test_merged_statistics_equal_batch(problem, center, data):
    X, y, w, *_ = problem
    n = len(y)
    cut = data.draw(st.integers(0, n))
    batch = g.gram_stats(X, y, w, center=center)
    if cut in (0, n):
        return
    wa, wb = (None, None) if w is None else (w[:cut], w[cut:])
    merged = g.merge_stats(
        g.gram_stats(X[:cut], y[:cut], wa, center=center),
        g.gram_stats(X[cut:], y[cut:], wb, center=center),
    )
    scale = np.abs(batch.xtx).max()
    assert_allclose(merged.n, batch.n, rtol=1e-12)
    assert_allclose(merged.x_mean, batch.x_mean, rtol=1e-10, atol=1e-12 * scale)
    assert_allclose(merged.xtx, batch.xtx, rtol=1e-9, atol=1e-12 * scale)
    assert_allclose(merged.xty, batch.xty, rtol=1e-9, atol=1e-9 * np.sqrt(scale))


@SETTINGS
@given(problems(), st.booleans(), st.booleans())
def test_permutation_invariance(problem, center, nig):
    X, y, w, m0, s0, noise_var = problem
    perm = np.random.default_rng(0).permutation(len(y))
    a = _posterior(X, y, w, m0, s0, noise_var, center, nig)
    wp = None if w is None else w[perm]
    b = _posterior(X[perm], y[perm], wp, m0, s0, noise_var, center, nig)
    assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10 * np.abs(a.coef).max())
    assert_allclose(a.log_evidence, b.log_evidence, rtol=1e-9)


@SETTINGS
@given(problems(max_n=12))
def test_log_evidence_matches_dense_multivariate_normal(problem):
    X, y, _, m0, s0, noise_var = problem
    post = _posterior(X, y, None, m0, s0, noise_var, center=False)
    cov = noise_var * np.eye(len(y)) + (X * s0**2) @ X.T
    ref = stats.multivariate_normal(X @ m0, cov).logpdf(y)
    assert_allclose(post.log_evidence, ref, rtol=1e-7)


def test_eigen_factor_equals_cholesky_and_survives_rounding():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 6))
    G = A.T @ A
    L = g._eigh_cholesky(*linalg.eigh(G), 0.7)
    assert_allclose(L, np.linalg.cholesky(np.eye(6) + 0.7 * G), rtol=1e-10)
    # Powers of x up to 1e45: I + G is lost in the rounding of G, yet the
    # factor is finite with diag >= 1 (B >= I is preserved).
    x = np.linspace(0, 1000, 50)
    P = np.vander(x, 16, increasing=True)[:, 1:]
    L = g._whitened_cholesky(P.T @ P, 1.0)
    assert np.all(np.isfinite(L))
    assert np.all(np.diag(L) >= 0.5)
    assert_allclose(np.tril(L), L)


def test_evidence_maximisation_is_a_stationary_point():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    y = X @ [1.0, 0.0, -2.0, 0.5] + 0.3 * rng.normal(size=80)
    st_ = g.gram_stats(X, y, center=True)
    m0, s0 = np.zeros(4), np.ones(4)
    opt = g.maximize_evidence(st_, m0, s0)
    assert opt.converged

    def ev(c, s2):
        return g.gaussian_posterior(st_, m0, s0 * c, s2).log_evidence

    best = ev(opt.prior_scale, opt.noise_var)
    for f in (0.98, 1.02):
        assert ev(opt.prior_scale * f, opt.noise_var) < best
        assert ev(opt.prior_scale, opt.noise_var * f) < best
    # the posterior from the optimisation's eigendecomposition is the same
    a = g.gaussian_posterior(st_, m0, s0 * opt.prior_scale, opt.noise_var)
    b = g.gaussian_posterior(
        st_, m0, s0 * opt.prior_scale, opt.noise_var, eigh=opt.eigh
    )
    assert_allclose(a.coef, b.coef, rtol=1e-10)
    assert_allclose(a.log_evidence, b.log_evidence, rtol=1e-12)
    assert_allclose(g.coef_covariance(a), g.coef_covariance(b), rtol=1e-10)


def test_posterior_draws_have_the_posterior_moments():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=20)
    post = g.nig_posterior(
        g.gram_stats(X, y, center=True), np.zeros(3), np.ones(3), 3.0, 2.0
    )
    draws = g.sample_posterior(post, 50_000, np.random.default_rng(0))
    assert_allclose(draws.coef.mean(0), post.coef, atol=0.02)
    assert_allclose(np.cov(draws.coef.T), g.coef_covariance(post), rtol=0.05, atol=1e-3)
    a = post.df / 2
    assert_allclose(draws.noise_var.mean(), a * post.noise_var / (a - 1), rtol=0.03)


def test_fused_gram_pass_in_blocks(monkeypatch):
    from bayesreg import _gram

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 4)) + 2.0
    y = X @ [1.0, 2.0, 0.0, -1.0] + rng.normal(size=1000)
    whole = [g.gram_stats(X, y, center=c) for c in (True, False)]
    monkeypatch.setattr(_gram, "_FUSED_BYTES", 8 * 4 * 10)  # 256-row blocks
    for c, ref in zip((True, False), whole, strict=True):
        blocked = g.gram_stats(X, y, center=c)
        Xc, yc = (X - X.mean(0), y - y.mean()) if c else (X, y)
        assert_allclose(blocked.xtx, Xc.T @ Xc, rtol=1e-10)
        assert_allclose(blocked.xty, Xc.T @ yc, rtol=1e-10)
        assert_allclose(blocked.xtx, ref.xtx, rtol=1e-12)


# ---------------------------------------------------------------------------
# bayesreg._gaussian against the Cholesky reference above
# ---------------------------------------------------------------------------


def _spectral_posterior(spec, noise_var, nig):
    from bayesreg import _gaussian as sp

    if nig:
        return sp.posterior(spec, np.ones(1), shape=2.0, scale=1.5)
    return sp.posterior(spec, np.ones(1), noise_var=np.array([noise_var]))


@SETTINGS
@given(problems(), st.booleans(), st.booleans())
def test_spectral_forms_equal_the_cholesky_posterior(problem, center, nig):
    from bayesreg import _gaussian as sp

    X, y, w, m0, s0, noise_var = problem
    if center and (w.sum() if w is not None else len(y)) <= 1.0 and nig:
        return  # no noise posterior from one (weighted) row with an intercept
    ref = _posterior(X, y, w, m0, s0, noise_var, center, nig)
    stats_ = g.gram_stats(X, y, w, center=center)
    Xt = np.vstack([X[:3], X[:2] * 3 + 1])
    ref_mean, ref_var = g.predictive_moments(ref, Xt)
    ref_cov = g.coef_covariance(ref)
    for spec in (
        sp.primal_spectrum(stats_, m0, s0),
        sp.dual_spectrum(X, y[:, None], w, m0, s0, center=center),
    ):
        post = _spectral_posterior(spec, noise_var, nig)
        scale = np.abs(ref.coef).max()
        # eigh against Cholesky on ill-conditioned draws: 1.5e-7 seen
        assert_allclose(post.coef[0], ref.coef, rtol=1e-6, atol=1e-9 * scale)
        assert_allclose(post.log_evidence[0], ref.log_evidence, rtol=1e-8, atol=1e-8)
        mean, var = sp.predictive_moments(post, Xt)
        assert_allclose(
            mean[:, 0], ref_mean, rtol=1e-7, atol=1e-9 * np.abs(ref_mean).max()
        )
        assert_allclose(var[:, 0], ref_var, rtol=1e-6, atol=1e-12 * ref_var.max())
        cov = sp.coef_covariance(post)
        assert_allclose(cov, ref_cov, rtol=1e-6, atol=1e-10 * np.abs(ref_cov).max())


def test_spectral_evidence_scale_equals_the_reference_search():
    from bayesreg import _gaussian as sp

    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 4)) * [1.0, 10.0, 0.1, 3.0] + 2.0
    y = X @ [0.5, -0.1, 4.0, 0.0] + rng.normal(size=50)
    stats_ = g.gram_stats(X, y, center=True)
    m0, unit = np.zeros(4), 1.0 / g.column_scale(stats_)
    for noise_var in (None, 0.7):
        ref = g.evidence_prior_scale(stats_, m0, unit, noise_var=noise_var)
        spec = sp.primal_spectrum(stats_, m0, unit)
        nv = None if noise_var is None else np.array([noise_var])
        got = sp.evidence_scale(spec, noise_var=nv)
        assert_allclose(np.sqrt(got.t[0]), ref.scale, rtol=1e-10)
    opt = g.maximize_evidence(stats_, m0, unit)
    fp = sp.maximize_evidence(sp.primal_spectrum(stats_, m0, unit))
    assert_allclose(np.sqrt(fp.t[0]), opt.prior_scale, rtol=1e-8)
    assert_allclose(fp.noise_var[0], opt.noise_var, rtol=1e-8)


def test_sparse_statistics_equal_dense():
    from scipy import sparse

    rng = np.random.default_rng(5)
    X = sparse.random(40, 6, density=0.3, random_state=rng, format="csr")
    X.data += 3.0
    Y = rng.normal(size=(40, 2)) + 7.0
    w = rng.uniform(0.1, 2.0, 40)
    for weights in (None, w):
        for center in (True, False):
            a = g.gram_stats(X, Y, weights, center=center)
            b = g.gram_stats(X.toarray(), Y, weights, center=center)
            for got, want in zip(a, b, strict=True):
                assert_allclose(got, want, rtol=1e-12, atol=1e-12)
