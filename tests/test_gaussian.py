"""The spectral numerics (primal and dual forms) against naive references.

Each quantity of :mod:`bayesreg._gaussian` and :mod:`bayesreg._bases` is held
to a formula written here the obvious way: posteriors by a dense solve of the
textbook precision, evidences by integrating the Gaussian (or Student-t)
marginal likelihood of y over a flat intercept numerically, evidence optima
by finite differences, MacKay's fixed point against sklearn's BayesianRidge,
ridge against sklearn's Ridge, draws by their sample moments. Integer sample
weights are checked as repeated rows (issue 21: the mutation score of these
two modules).
"""

from __future__ import annotations

import functools
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, linalg, sparse, stats
from scipy.special import gammaln
from sklearn.linear_model import BayesianRidge, Ridge

from bayesreg import _gaussian as spectral  # the one place naming the module
from bayesreg import _gram

_bases = sys.modules[spectral.DualBasis.__module__]

FORMS = ("primal", "dual", "dual-sparse")
SHAPES = ((12, 4), (7, 9))  # n > p, and p > n (a null space, a dual complement)
T = np.array([0.7, 2.5])  # prior variance factors of the two targets
NOISE = np.array([0.3, 1.2])  # known noise variances
A0, B0 = 2.0, np.array([1.5, 0.4])  # s^2 ~ InvGamma(A0, B0) per target


# ---------------------------------------------------------------------------
# Problems and naive references
# ---------------------------------------------------------------------------


def _problem(seed, n, p, k=2, *, weights=False):
    """X with uneven columns off the origin, k targets with an offset and
    unequal noise, integer weights (read as repetitions), a prior mean m0
    and uneven prior stds D."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, p) + rng.normal(size=p)
    noise = rng.normal(size=(n, k)) * np.linspace(0.5, 1.5, k)
    Y = X @ rng.normal(size=(p, k)) + 3.0 * rng.normal(size=k) + noise
    w = rng.integers(1, 4, size=n).astype(float) if weights else None
    m0 = 0.3 * rng.normal(size=p)
    D = rng.uniform(0.5, 2.0, size=p)
    return X, Y, w, m0, D


def _spectrum(form, X, Y, w, m0, D, center):
    if form == "primal":
        stats_ = _gram.gram_stats(X, Y, w, center=center)
        return spectral.primal_spectrum(stats_, m0, D)
    Xf = sparse.csr_matrix(X) if form == "dual-sparse" else X
    return spectral.dual_spectrum(Xf, Y, w, m0, D, center=center)


def _centred(X, y, w, center):
    w = np.ones(X.shape[0]) if w is None else w
    n = w.sum()
    xm = w @ X / n if center else np.zeros(X.shape[1])
    ym = w @ y / n if center else 0.0
    return X - xm, y - ym, w, n, xm, ym


def _naive(X, y, w, m0, D, t, center, noise_var=None, a0=0.0, b0=0.0):
    """One target's posterior by a dense solve: known noise (Bishop 2006,
    eqs. 3.50-3.51) or Normal-Inverse-Gamma (Murphy 2012, eqs. 7.70-7.73),
    w ~ N(m0, t D^2) (times s^2), a flat intercept."""
    Xc, yc, w, n, xm, ym = _centred(X, y, w, center)
    P0 = np.diag(1.0 / (t * D**2))
    XtWX, XtWy = Xc.T @ (w[:, None] * Xc), Xc.T @ (w * yc)
    if noise_var is not None:
        V = np.linalg.inv(XtWX / noise_var + P0)  # covariance of w
        mean = V @ (XtWy / noise_var + P0 @ m0)
        s2, df, cov, kappa = noise_var, np.inf, V, V
    else:
        V = np.linalg.inv(XtWX + P0)  # covariance of w over s^2
        mean = V @ (XtWy + P0 @ m0)
        a_n = a0 + 0.5 * (n - 1.0 if center else n)
        quad = yc @ (w * yc) + m0 @ P0 @ m0 - mean @ np.linalg.solve(V, mean)
        b_n = b0 + 0.5 * quad
        s2, df = b_n / a_n, 2.0 * a_n
        kappa = s2 * V  # scale matrix of the Student-t marginal of w
        cov = kappa * df / (df - 2.0)
    intercept = ym - xm @ mean if center else 0.0

    def predictive(Xt):
        R = Xt - xm
        var = np.einsum("ij,jk,ik->i", R, kappa, R) + (s2 / n if center else 0.0)
        return Xt @ mean + intercept, var

    return dict(coef=mean, intercept=intercept, noise_var=s2, df=df, cov=cov,
                predictive=predictive)  # fmt: skip


def _repeat(X, y, w):
    if w is None:
        return X, y
    reps = w.astype(int)
    return np.repeat(X, reps, axis=0), np.repeat(y, reps, axis=0)


def _brute_evidence(X, y, w, m0, D, t, center, noise_var=None, a0=0.0, b0=0.0):
    """log p(y) from the dense marginal of y (integer weights as repeated
    rows): N(X m0 + b, s^2 I + t X D^2 X^T), or the multivariate Student-t
    of the NIG prior, integrated numerically over a flat intercept b."""
    X, y = _repeat(X, y, w)
    n = X.shape[0]
    K = t * (X * D**2) @ X.T
    mu = X @ m0
    if noise_var is not None:
        dist = stats.multivariate_normal(cov=noise_var * np.eye(n) + K)
    else:
        dist = stats.multivariate_t(shape=(b0 / a0) * (np.eye(n) + K), df=2 * a0)
    if not center:
        return dist.logpdf(y - mu)
    top = dist.logpdf(y - mu - (y - mu).mean())
    area = integrate.quad(
        lambda b: np.exp(dist.logpdf(y - mu - b) - top), -np.inf, np.inf,
        epsabs=0.0, epsrel=1e-11,
    )[0]  # fmt: skip
    return top + np.log(area)


@functools.cache
def _brute_evidences(shape, center, nig, weights):
    X, Y, w, m0, D = _problem(0, *shape, weights=weights)
    return np.array([
        _brute_evidence(X, Y[:, j], w, m0, D, T[j], center,
                        None if nig else NOISE[j], A0, B0[j])
        for j in range(2)
    ])  # fmt: skip


def _post(spec, t=T, nig=False):
    if nig:
        return spectral.posterior(spec, t, shape=A0, scale=B0)
    return spectral.posterior(spec, t, noise_var=NOISE)


# ---------------------------------------------------------------------------
# Posterior, evidence, predictive moments, covariance
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("nig", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", FORMS)
def test_posterior_equals_the_dense_reference(form, shape, center, nig, weights):
    X, Y, w, m0, D = _problem(0, *shape, weights=weights)
    spec = _spectrum(form, X, Y, w, m0, D, center)
    assert spec.form == ("primal" if form == "primal" else "dual")
    post = _post(spec, nig=nig)
    assert post.form == spec.form
    rng = np.random.default_rng(1)
    Xt = np.vstack([X[:3], 2.0 * rng.normal(size=(4, X.shape[1])) + 1.0])
    Xt_in = sparse.csr_matrix(Xt) if form == "dual-sparse" else Xt
    mean, var = spectral.predictive_moments(post, Xt_in)
    assert mean.shape == var.shape == (Xt.shape[0], 2)
    for j in range(2):
        ref = _naive(X, Y[:, j], w, m0, D, T[j], center,
                     None if nig else NOISE[j], A0, B0[j])  # fmt: skip
        assert_allclose(post.coef[j], ref["coef"], rtol=1e-8, atol=1e-10)
        assert_allclose(post.intercept[j], ref["intercept"], rtol=1e-8, atol=1e-10)
        assert_allclose(post.noise_var[j], ref["noise_var"], rtol=1e-8)
        assert post.df[j] == ref["df"]
        assert_allclose(spectral.coef_covariance(post, j), ref["cov"], rtol=1e-7,
                        atol=1e-12)  # fmt: skip
        ref_mean, ref_var = ref["predictive"](Xt)
        assert_allclose(mean[:, j], ref_mean, rtol=1e-8, atol=1e-10)
        assert_allclose(var[:, j], ref_var, rtol=1e-7)
    brute = _brute_evidences(shape, center, nig, weights)
    assert_allclose(post.log_evidence, brute, rtol=1e-8)


def test_coef_covariance_is_infinite_without_a_second_moment():
    """df = 2 a_N <= 2: the Student-t marginal of w has no covariance."""
    X, Y, w, m0, D = _problem(2, 3, 2, k=1)
    for form in FORMS:
        spec = _spectrum(form, X, Y, w, m0, D, True)  # a_N = 0 + (3 - 1) / 2
        post = spectral.posterior(spec, np.ones(1), shape=0.0, scale=1.0)
        assert post.df[0] == 2.0
        assert np.all(np.isinf(spectral.coef_covariance(post)))


def test_prior_posterior_is_the_prior():
    rng = np.random.default_rng(3)
    m0, D = rng.normal(size=3), np.array([0.5, 1.0, 2.0])
    post = spectral.prior_posterior(m0, D, 0.7)
    X = rng.normal(size=(5, 3))
    mean, var = spectral.predictive_moments(post, X)
    assert_allclose(mean[:, 0], X @ m0, rtol=1e-12)
    assert_allclose(var[:, 0], (X * D) ** 2 @ np.ones(3), rtol=1e-12)
    assert_allclose(spectral.coef_covariance(post), np.diag(D**2), atol=1e-15)
    assert_allclose(post.intercept, [0.0])
    assert np.isnan(post.log_evidence[0])  # no data, no evidence
    draws = spectral.sample_posterior(post, 20000, np.random.default_rng(4))
    assert_allclose(draws.noise_var, 0.7)
    assert_allclose(draws.intercept, 0.0)
    coef = draws.coef[:, 0]
    assert_allclose(coef.mean(0), m0, atol=0.05)
    assert_allclose(np.cov(coef.T), np.diag(D**2), atol=0.06)


# ---------------------------------------------------------------------------
# The bases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("form", FORMS)
def test_basis_diagonalises_the_whitened_gram_matrix(form, center, weights):
    """A = W^1/2 (X - 1 x_mean^T) D: A^T A = Q diag(ev) Q^T, Q^T Q = I,
    z = Q^T A^T W^1/2 r for the residual r of the prior mean, and the
    basis products Q C, Q^T V for one column and several."""
    X, Y, w, m0, D = _problem(5, 7, 9, weights=weights)
    spec = _spectrum(form, X, Y, w, m0, D, center)
    Xc, Yc, w1, n, xm, ym = _centred(X, Y, w, center)
    A = np.sqrt(w1)[:, None] * Xc * D
    r = np.sqrt(w1)[:, None] * (Yc - Xc @ m0[:, None])
    r = r.reshape(len(w1), -1)
    basis, ev = spec.basis, spec.ev
    Q = basis.q(np.eye(ev.size))
    G = Q @ np.diag(ev) @ Q.T
    assert_allclose(G, A.T @ A, atol=1e-10 * np.abs(A.T @ A).max())
    assert_allclose(Q.T @ Q, np.eye(ev.size), atol=1e-10)
    kept = ev > 0
    assert kept.sum() == np.linalg.matrix_rank(A)
    assert_allclose(spec.z, Q.T @ A.T @ r, atol=1e-9 * np.abs(spec.z).max())
    rng = np.random.default_rng(6)
    for m in (1, 3):
        V, C = rng.normal(size=(9, m)), rng.normal(size=(ev.size, m))
        assert_allclose(basis.qt(V), Q.T @ V, atol=1e-10)
        assert_allclose(basis.q(C), Q @ C, atol=1e-10)
    assert_allclose(spec.x_mean, xm, atol=1e-12)
    assert_allclose(spec.y_mean, np.broadcast_to(ym, (2,)), atol=1e-12)
    assert spec.n == n and spec.n_eff == (n - 1 if center else n)
    assert_allclose(spec.rss0, np.sum(r * r, axis=0), rtol=1e-10)
    # what A cannot fit: the residual of r's projection on A's range
    fit = A @ np.linalg.lstsq(A, r, rcond=None)[0]
    perp = np.sum((r - fit) ** 2, axis=0)
    assert_allclose(spec.rss_perp, perp, atol=1e-8 * spec.rss0.max())


@pytest.mark.parametrize("std", [1.0, 2.0, None])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_dual_basis_keeps_its_own_copy_of_the_rows(as_sparse, std):
    X, Y, _, m0, D = _problem(7, 6, 8)
    D = D if std is None else np.full(8, std)
    Xf = sparse.csr_matrix(X) if as_sparse else X.copy()
    spec = spectral.dual_spectrum(Xf, Y, None, m0, D, center=True)
    Xt = np.random.default_rng(8).normal(size=(5, 8))
    post = _post(spec)
    before = spectral.predictive_moments(post, Xt)
    got = spec.basis.X.toarray() if as_sparse else spec.basis.X
    assert_allclose(got, X, rtol=1e-14)
    if as_sparse:
        Xf.data[:] = 0.0
    else:
        Xf[:] = 0.0
    after = spectral.predictive_moments(post, Xt)
    for a, b in zip(after, before, strict=True):
        assert_allclose(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("form", FORMS)
def test_predictive_moments_in_many_blocks(monkeypatch, form, weights):
    """Blocks of a few rows (and, within the dual's dense blocks, single
    rows) give the moments of the reference for every row."""
    X, Y, w, m0, D = _problem(9, 7, 9, weights=weights)
    spec = _spectrum(form, X, Y, w, m0, D, True)
    post = _post(spec)
    Xt = np.random.default_rng(10).normal(size=(600, 9)) + 0.5
    monkeypatch.setattr(_bases, "_CACHE_BYTES", 8 * 9)
    monkeypatch.setattr(_bases, "_KERNEL_BYTES", 8 * 3 * 9)
    assert spec.basis.block_rows(9) < Xt.shape[0]
    # COO: the rows are sliced after a conversion, whatever the format
    Xt_in = sparse.coo_matrix(Xt) if form == "dual-sparse" else Xt
    mean, var = spectral.predictive_moments(post, Xt_in)
    for j in range(2):
        ref = _naive(X, Y[:, j], w, m0, D, T[j], True, NOISE[j])
        ref_mean, ref_var = ref["predictive"](Xt)
        assert_allclose(mean[:, j], ref_mean, rtol=1e-8, atol=1e-10)
        assert_allclose(var[:, j], ref_var, rtol=1e-7)


def test_row_blocks_cover_every_row_once():
    rows = [np.arange(10)[s] for s in spectral.row_blocks(10, 3)]
    assert [len(r) for r in rows] == [3, 3, 3, 1]
    assert_allclose(np.concatenate(rows), np.arange(10))
    assert [s for s in spectral.row_blocks(2, 0)] == [slice(0, 1), slice(1, 2)]


# ---------------------------------------------------------------------------
# Evidence searches
# ---------------------------------------------------------------------------


def _log_evidence(spec, t, nig, j):
    t_all = np.full(2, t)
    return _post(spec, t_all, nig).log_evidence[j]


@pytest.mark.parametrize("nig", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", FORMS)
def test_evidence_scale_is_the_maximum(form, shape, nig):
    """The chosen t is where the exact log evidence is stationary (central
    differences in log t) and beats its neighbours; the reported value is
    that evidence up to a constant free of t."""
    X, Y, w, m0, D = _problem(11, *shape, weights=True)
    spec = _spectrum(form, X, Y, w, m0, D, True)
    if nig:
        choice = spectral.evidence_scale(spec, shape=A0, scale=B0)
    else:
        choice = spectral.evidence_scale(spec, noise_var=NOISE)
    assert not np.any(choice.at_bound)
    assert choice.n_iter > 121  # the grid, then Brent's steps
    h = 1e-4
    for j in range(2):
        t = choice.t[j]
        up, mid, down = (_log_evidence(spec, t * np.exp(s), nig, j)
                         for s in (h, 0.0, -h))  # fmt: skip
        assert abs(up - down) / (2 * h) < 1e-6 * max(abs(mid), 1.0)
        for s in (0.05, -0.05):
            assert _log_evidence(spec, t * np.exp(s), nig, j) < mid
        # value up to a t-free constant: the same offset at another t
        parts = spectral._evidence_parts(
            spec.ev, spec.z[:, j] ** 2, spec.zz[:, j], spec.rss_perp[j],
            spec.n_eff, spec.floor[j], None if nig else NOISE[j], A0 if nig else 0.0,
            B0[j] if nig else 0.0,
        )  # fmt: skip
        offset = choice.log_evidence[j] - mid
        for t2 in (0.01, 3.0, 50.0):
            f2, g2 = parts(np.log(t2))
            assert_allclose(f2 - _log_evidence(spec, t2, nig, j), offset, rtol=1e-9)
            # the slope is the derivative of f in log t
            fd = (parts(np.log(t2) + h)[0] - parts(np.log(t2) - h)[0]) / (2 * h)
            assert_allclose(g2, fd, rtol=1e-6, atol=1e-8)
            assert_allclose(parts(np.log(t2), True)[1], g2, rtol=1e-12)


def test_evidence_scale_at_its_bound_and_without_a_spectrum():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(40, 2))
    y = rng.normal(size=(40, 1))  # no signal, known noise: t -> 0
    spec = spectral.primal_spectrum(
        _gram.gram_stats(X, y, center=True), np.zeros(2), np.ones(2)
    )
    choice = spectral.evidence_scale(spec, noise_var=np.array([100.0]))
    assert choice.at_bound[0] and choice.t[0] < 1e-12
    assert choice.n_iter == 121
    grid = np.exp(np.linspace(-30.0, 30.0, 121))
    logs = [spectral.posterior(spec, np.array([t]), noise_var=np.array([100.0]))
            .log_evidence[0] for t in grid]  # fmt: skip
    assert_allclose(choice.t[0], grid[int(np.argmax(logs))])
    # a constant column, centred away: no spectrum, the prior as given
    spec0 = spectral.primal_spectrum(
        _gram.gram_stats(np.ones((5, 1)), y[:5], center=True), np.zeros(1), np.ones(1)
    )
    assert np.all(spec0.ev == 0)
    for kw in (dict(noise_var=np.array([1.0])), dict(shape=1.0, scale=1.0)):
        choice0 = spectral.evidence_scale(spec0, **kw)
        assert choice0.t[0] == 1.0 and choice0.n_iter == 0
        assert not choice0.at_bound[0]
        post0 = spectral.posterior(spec0, np.ones(1), **kw)
        if "noise_var" in kw:
            const = 0.5 * 4 * np.log(2 * np.pi) + 0.5 * np.log(5)
            assert_allclose(choice0.log_evidence, post0.log_evidence + const)


def _mackay_step(X, y, w, m0, D, alpha, beta, center):
    """One update of MacKay's fixed point (Bishop 2006, eqs. 3.91-3.95) in
    the whitened coordinates u = D^-1 (w - m0), by dense algebra."""
    Xc, yc, w, n, _, _ = _centred(X, y, w, center)
    A = np.sqrt(w)[:, None] * Xc * D
    r = np.sqrt(w) * (yc - Xc @ m0)
    S = np.linalg.inv(alpha * np.eye(D.size) + beta * A.T @ A)
    u = beta * S @ A.T @ r
    gamma = D.size - alpha * np.trace(S)
    n_eff = n - 1.0 if center else n
    return gamma / (u @ u), (n_eff - gamma) / np.sum((r - A @ u) ** 2)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", FORMS)
def test_maximize_evidence_first_step_and_optimum(form, shape):
    X, Y, w, m0, D = _problem(13, *shape, weights=True)
    spec = _spectrum(form, X, Y, w, m0, D, True)
    alpha0 = np.array([0.5, 3.0])
    one = spectral.maximize_evidence(spec, noise_var_init=0.8, alpha_init=alpha0,
                                     max_iter=1)  # fmt: skip
    assert one.n_iter == 1 and not one.converged
    for j in range(2):
        a, b = _mackay_step(X, Y[:, j], w, m0, D, alpha0[j], 1 / 0.8, True)
        assert_allclose([1 / one.t[j], 1 / one.noise_var[j]], [a, b], rtol=1e-9)
    # the default start: alpha = 1, s^2 = rss0 / n_eff
    one = spectral.maximize_evidence(spec, max_iter=1)
    for j in range(2):
        s2 = spec.rss0[j] / spec.n_eff
        a, b = _mackay_step(X, Y[:, j], w, m0, D, 1.0, 1 / s2, True)
        assert_allclose([1 / one.t[j], 1 / one.noise_var[j]], [a, b], rtol=1e-9)
    fp = spectral.maximize_evidence(spec)
    assert fp.converged and 1 < fp.n_iter < 300
    h = 1e-5
    for j in range(2):

        def f(lt, ls, j=j):
            t = np.full(2, np.exp(lt))
            nv = np.full(2, np.exp(ls))
            return spectral.posterior(spec, t, noise_var=nv).log_evidence[j]

        lt, ls = np.log(fp.t[j]), np.log(fp.noise_var[j])
        assert abs(f(lt + h, ls) - f(lt - h, ls)) / (2 * h) < 1e-5
        slope = (f(lt, ls + h) - f(lt, ls - h)) / (2 * h)
        if shape[1] < shape[0]:
            assert abs(slope) < 1e-5
        else:  # interpolation: s^2 held at 1e-10 of rss0 / n_eff, still rising
            assert_allclose(fp.noise_var[j], 1e-10 * spec.rss0[j] / spec.n_eff,
                            rtol=1e-12)  # fmt: skip
            assert slope < -1.0


def test_maximize_evidence_equals_bayesian_ridge():
    """Without an intercept (sklearn counts n, not n - 1, degrees of freedom
    with one) and with integer weights as repeated rows (sklearn counts the
    rows, not the weights)."""
    X, Y, w, _, _ = _problem(14, 30, 3, weights=True)
    p = X.shape[1]
    spec = _spectrum("primal", X, Y, w, np.zeros(p), np.ones(p), False)
    fp = spectral.maximize_evidence(spec, tol=1e-13, max_iter=1000)
    for j in range(2):
        ref = BayesianRidge(
            alpha_1=0.0,
            alpha_2=0.0,
            lambda_1=0.0,
            lambda_2=0.0,
            tol=1e-14,
            max_iter=3000,
            fit_intercept=False,
        )
        ref.fit(*_repeat(X, Y[:, j], w))  # fmt: skip
        assert_allclose(1 / fp.t[j], ref.lambda_, rtol=1e-7)
        assert_allclose(1 / fp.noise_var[j], ref.alpha_, rtol=1e-7)


def test_maximize_evidence_stops_at_tol_and_bounds():
    X, Y, w, m0, D = _problem(15, 20, 3)
    spec = _spectrum("primal", X, Y, w, m0, D, True)
    assert spectral.maximize_evidence(spec, tol=1e9).n_iter == 1
    assert spectral.maximize_evidence(spec, tol=1e9).converged
    few = spectral.maximize_evidence(spec, max_iter=3)
    assert few.n_iter == 3 and not few.converged
    # no signal in X about y (z = 0): the prior precision stops at 1e10 beta
    # ev_max, the noise variance at y's variance
    X = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    y = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    spec = spectral.primal_spectrum(_gram.gram_stats(X, y, center=False),
                                    np.zeros(1), np.ones(1))  # fmt: skip
    fp = spectral.maximize_evidence(spec)
    assert fp.converged
    assert_allclose(fp.noise_var, [1.0], rtol=1e-9)
    assert_allclose(1 / fp.t, [1e10 * 4.0 / 1.0], rtol=1e-9)


# ---------------------------------------------------------------------------
# Ridge on the spectrum
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("form", FORMS)
def test_ridge_equals_sklearn(form, shape, center, weights):
    """Coefficients against sklearn's Ridge, the RSS and the trace of the
    hat matrix against dense algebra, alpha = 0 against the minimum-norm
    least-squares solution; several alphas at once equal one at a time."""
    X, Y, w, _, _ = _problem(17, *shape, weights=weights)
    p = X.shape[1]
    spec = _spectrum(form, X, Y, w, np.zeros(p), np.ones(p), center)
    alphas = (0.3, 4.0, 0.0)
    fits = spectral.ridge(spec, *alphas)
    Xc, Yc, w1, _, _, _ = _centred(X, Y, w, center)
    A, R = np.sqrt(w1)[:, None] * Xc, np.sqrt(w1)[:, None] * Yc
    for alpha, fit in zip(alphas, fits, strict=True):
        if alpha > 0:
            ref = Ridge(alpha=alpha, fit_intercept=center, solver="cholesky")
            ref.fit(X, Y, sample_weight=w)
            coef = ref.coef_
        else:
            coef = np.linalg.lstsq(A, R, rcond=None)[0].T
        assert_allclose(fit.coef, coef, rtol=1e-7, atol=1e-9)
        resid = R - A @ coef.T
        assert_allclose(fit.rss, np.sum(resid**2, axis=0), rtol=1e-7, atol=1e-9)
        hat = A @ np.linalg.pinv(A.T @ A + alpha * np.eye(p)) @ A.T
        assert_allclose(fit.dof, np.trace(hat), rtol=1e-8)
        (alone,) = spectral.ridge(spec, alpha)
        assert_allclose(alone.coef, fit.coef, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# Posterior draws
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("nig", [False, True])
@pytest.mark.parametrize("form", FORMS)
def test_draws_follow_the_posterior(form, nig):
    """(w, b, s^2) jointly: s^2 ~ InvGamma(a_N, b_N) (or the known noise),
    w | s^2 ~ N(m_N, s^2 V_N) whitened to standard normals, b | w, s^2 ~
    y_mean - x_mean.w + N(0, s^2 / n); p > n, so the dual's complement of
    its basis carries the prior."""
    X, Y, w, m0, D = _problem(18, 7, 9, weights=True)
    spec = _spectrum(form, X, Y, w, m0, D, True)
    post = _post(spec, nig=nig)
    S = 20000
    draws = spectral.sample_posterior(post, S, np.random.default_rng(19))
    assert draws.coef.shape == (S, 2, 9)
    assert draws.intercept.shape == draws.noise_var.shape == (S, 2)
    for j in range(2):
        ref = _naive(X, Y[:, j], w, m0, D, T[j], True,
                     None if nig else NOISE[j], A0, B0[j])  # fmt: skip
        s2 = draws.noise_var[:, j]
        if nig:
            a_n = 0.5 * ref["df"]
            law = stats.invgamma(a_n, scale=a_n * ref["noise_var"])
            assert stats.kstest(s2, law.cdf).pvalue > 1e-3
            cond = ref["cov"] * (ref["df"] - 2.0) / ref["df"] / ref["noise_var"]
        else:
            assert_allclose(s2, NOISE[j])
            cond = ref["cov"] / NOISE[j]
        L = np.linalg.cholesky(cond)
        E = linalg.solve_triangular(L, (draws.coef[:, j] - ref["coef"]).T, lower=True)
        E /= np.sqrt(s2)
        assert_allclose(E.mean(axis=1), 0.0, atol=0.04)
        assert_allclose(np.cov(E), np.eye(9), atol=0.05)
        xm, ym = spec.x_mean, spec.y_mean[j]
        e = (draws.intercept[:, j] - ym + draws.coef[:, j] @ xm) / np.sqrt(s2 / spec.n)
        assert abs(e.mean()) < 0.04 and abs(e.var() - 1.0) < 0.05
        assert abs(np.corrcoef(e, E[0])[0, 1]) < 0.04


def test_draws_without_an_intercept_have_none():
    X, Y, w, m0, D = _problem(20, 12, 4)
    for form in FORMS:
        spec = _spectrum(form, X, Y, w, m0, D, False)
        draws = spectral.sample_posterior(_post(spec), 50, np.random.default_rng(0))
        assert np.all(draws.intercept == 0.0)


# ---------------------------------------------------------------------------
# Edges of the searches, the fixed point and the prior
# ---------------------------------------------------------------------------

GRID = np.linspace(-30.0, 30.0, 121)  # the documented scan of log t


def _quadratic(centre, slope=None):
    """parts() of f(s) = -(s - centre)^2, f' = -2 (s - centre) (or a fixed
    ``slope``: a derivative that rounding has made disagree with f)."""

    def parts(log_t, slope_only=False):
        s = np.asarray(log_t, dtype=float)
        g = -2.0 * (s - centre) if slope is None else slope + 0.0 * s
        return (None if slope_only else -((s - centre) ** 2)), g

    return parts


@pytest.mark.parametrize(
    "centre, want, at_bound",
    [
        (0.123456789, 0.123456789, False),
        (-7.3, -7.3, False),
        (29.6, 29.6, False),  # best at the last grid point but one: Brent
        (-29.6, -29.6, False),
        (29.9, 30.0, True),  # best at the last grid point: the bound
        (45.0, 30.0, True),
        (-45.0, -30.0, True),
    ],
)
def test_maximise_one_scans_then_solves(centre, want, at_bound):
    log_t, n_iter, bound = spectral._maximise_one(_quadratic(centre))
    assert bound is at_bound
    assert_allclose(log_t, want, rtol=0, atol=1e-12)
    assert (n_iter == GRID.size) if at_bound else (n_iter > GRID.size)


@pytest.mark.parametrize("centre", [0.123456789, 7.3, -12.345678, 29.6])
def test_maximise_one_to_rounding_where_the_slope_is_rough(centre):
    """f = -|s - c|^(4/3): a slope like a cube root, where interpolation
    fails and Brent's method bisects; the maximiser is still found to
    1e-14 in log t."""

    def parts(log_t, slope_only=False):
        d = np.asarray(log_t, dtype=float) - centre
        f = None if slope_only else -(np.abs(d) ** (4 / 3))
        return f, -np.sign(d) * np.abs(d) ** (1 / 3) * 4 / 3

    log_t, _, bound = spectral._maximise_one(parts)
    assert not bound and abs(log_t - centre) < 2e-14


def test_maximise_one_keeps_the_grid_point_when_the_slope_disagrees():
    """A slope of one sign on both sides of the best grid point (rounding):
    no bracket for Brent's method, the grid point is the answer."""
    for slope in (1.0, -1.0):
        log_t, n_iter, bound = spectral._maximise_one(_quadratic(0.1, slope))
        assert (log_t, n_iter, bound) == (0.0, GRID.size, False)


def test_evidence_scale_is_equivariant_in_the_scale_of_x():
    """X c and prior std D: the same evidence at t / c^2, even where every
    eigenvalue is far below one."""
    X, Y, w, m0, D = _problem(22, 12, 4, weights=True)
    got = []
    for c in (1.0, 1e-4):
        spec = _spectrum("primal", X * c, Y, w, m0 / c, D, True)
        choice = spectral.evidence_scale(spec, shape=A0, scale=B0)
        assert choice.at_bound.dtype == bool and not choice.at_bound.any()
        got.append(choice.t * c**2)
    assert spec.ev.max() < 1e-3
    assert_allclose(got[1], got[0], rtol=1e-8)


def _mackay_loop(X, y, w, m0, D, tol, max_iter=300):
    """MacKay's iteration from alpha = 1, s^2 = rss0 / n_eff until alpha
    and beta change by less than ``tol`` (relative), by dense steps."""
    Xc, yc, w1, n, _, _ = _centred(X, y, w, True)
    r = np.sqrt(w1) * (yc - Xc @ m0)
    alpha, beta = 1.0, (n - 1.0) / (r @ r)
    for it in range(1, max_iter + 1):
        a, b = _mackay_step(X, y, w, m0, D, alpha, beta, True)
        change = max(abs(a - alpha) / alpha, abs(b - beta) / beta)
        alpha, beta = a, b
        if change < tol:
            return it, alpha, beta
    return max_iter, alpha, beta


@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_maximize_evidence_stops_as_the_dense_iteration(tol):
    """Prior precisions near 1e-12 and noise precisions from 1e-6 to 1e4:
    the relative change decides, target by target; the fit converged only
    if every target did."""
    X, Y, w, m0, D = _problem(21, 30, 3, weights=True)
    Y, D = Y * np.array([1e3, 1e-2]), D * 1e-3
    spec = _spectrum("primal", X, Y, w, m0, D, True)
    refs = [_mackay_loop(X, Y[:, j], w, m0, D, tol) for j in range(2)]
    fp = spectral.maximize_evidence(spec, tol=tol)
    assert fp.converged and fp.n_iter == max(r[0] for r in refs)
    assert_allclose(1 / fp.t, [r[1] for r in refs], rtol=1e-7)
    assert_allclose(1 / fp.noise_var, [r[2] for r in refs], rtol=1e-7)
    for j in range(2):
        one = _spectrum("primal", X, Y[:, [j]], w, m0, D, True)
        assert spectral.maximize_evidence(one, tol=tol).n_iter == refs[j][0]
    assert refs[0][0] > refs[1][0]
    short = spectral.maximize_evidence(spec, tol=tol, max_iter=refs[1][0])
    assert not short.converged and short.n_iter == refs[1][0]


def test_maximize_evidence_never_stops_early_at_zero_tol():
    X, Y, w, m0, D = _problem(15, 20, 3)
    fp = spectral.maximize_evidence(_spectrum("primal", X, Y, w, m0, D, True), tol=0)
    assert fp.n_iter == 300 and not fp.converged  # the default budget


def test_maximize_evidence_with_one_degree_of_freedom():
    """Two rows and an intercept: n_eff = 1 enters the noise update."""
    X, Y, w, m0, D = _problem(23, 2, 1)
    for form in FORMS:
        spec = _spectrum(form, X, Y, w, m0, D, True)
        one = spectral.maximize_evidence(spec, max_iter=1, noise_var_init=0.5)
        for j in range(2):
            a, b = _mackay_step(X, Y[:, j], w, m0, D, 1.0, 2.0, True)
            assert_allclose([1 / one.t[j], 1 / one.noise_var[j]], [a, b], rtol=1e-9)


@pytest.mark.parametrize("y_scale", [1.0, 1e-3])
def test_maximize_evidence_noise_bound_in_units_of_y(y_scale):
    """Interpolation: s^2 held at 1e-10 of rss0 / n_eff, whatever its unit."""
    X, Y, w, m0, D = _problem(13, 7, 9, weights=True)
    spec = _spectrum("dual", X, Y * y_scale, w, m0 * y_scale, D, True)
    fp = spectral.maximize_evidence(spec)
    assert_allclose(fp.noise_var, 1e-10 * spec.rss0 / spec.n_eff, rtol=1e-12)


def test_maximize_evidence_when_the_prior_mean_fits_exactly():
    """rss0 = 0 (a constant y, centred): no scale of y to refer to, so the
    unit one; s^2 stops at 1e-10 of it, alpha at 1e10 beta ev_max."""
    rng = np.random.default_rng(24)
    X, y = rng.normal(size=(10, 3)), np.full((10, 1), 3.0)
    for form in FORMS:
        spec = _spectrum(form, X, y, None, np.zeros(3), np.ones(3), True)
        assert spec.rss0[0] == 0.0
        ev_max = spec.ev.max()
        assert ev_max > 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            one = spectral.maximize_evidence(spec, max_iter=1)
            fp = spectral.maximize_evidence(spec)
        assert_allclose(one.noise_var, [1e-10], rtol=1e-12)
        assert_allclose(1 / one.t, [1e10 * ev_max], rtol=1e-12)  # from beta = 1
        assert fp.converged
        assert_allclose(fp.noise_var, [1e-10], rtol=1e-12)
        assert_allclose(1 / fp.t, [1e10 * 1e10 * ev_max], rtol=1e-12)


@pytest.mark.parametrize("x_scale, y_scale", [(1.0, 1.0), (0.1, 0.01), (0.1, 1.0)])
def test_maximize_evidence_without_signal(x_scale, y_scale):
    """y orthogonal to X (z = 0): the noise variance is y's, the prior
    precision stops at 1e10 max(beta ev_max, 1)."""
    X = x_scale * np.array([[1.0], [-1.0], [1.0], [-1.0]])
    y = y_scale * np.array([[1.0], [1.0], [-1.0], [-1.0]])
    for form in FORMS:
        spec = _spectrum(form, X, y, None, np.zeros(1), np.ones(1), False)
        fp = spectral.maximize_evidence(spec)
        assert fp.converged
        # (s^2 = rss / (n - gamma), gamma = beta ev / (alpha + beta ev) ~ 1e-10)
        assert_allclose(fp.noise_var, [y_scale**2], rtol=1e-10)
        # alpha is set from the beta of the step before: agree to 1e-11
        beta, ev_max = 1.0 / fp.noise_var[0], 4.0 * x_scale**2
        assert_allclose(1 / fp.t, [1e10 * max(beta * ev_max, 1.0)], rtol=3e-11)


def test_searches_on_a_dual_spectrum_without_eigenvalues():
    """X = 0 in the kernel form: r = 0 eigenvalues, the prior as given."""
    y = np.arange(6.0)[:, None]
    spec = spectral.dual_spectrum(
        np.zeros((6, 8)), y, None, np.zeros(8), np.ones(8), center=True
    )
    assert spec.ev.size == 0
    fp = spectral.maximize_evidence(spec)
    assert fp.converged
    assert_allclose(fp.t, [1.0])
    assert_allclose(fp.noise_var, [np.sum((y - y.mean()) ** 2) / 5])
    choice = spectral.evidence_scale(spec, noise_var=np.ones(1))
    assert choice.t[0] == 1.0 and choice.n_iter == 0


def test_prior_posterior_has_one_target():
    post = spectral.prior_posterior(np.zeros(2), np.ones(2), 0.5)
    for field in (post.rho, post.kappa, post.noise_var, post.df, post.log_evidence):
        assert field.shape == (1,)
    assert post.coef.shape == (1, 2)


@pytest.mark.parametrize(
    "n, shape, df", [(3, 0.5, 3.0), (3, 0.25, 2.5), (3, 0.0, 2.0), (2, 0.0, 1.0)]
)
def test_coef_covariance_of_the_student_t(n, shape, df):
    """df / (df - 2) times the scale matrix above df = 2, infinite at and
    below it, without a warning."""
    X, Y, w, m0, D = _problem(2, n, 2, k=1)
    for form in FORMS:
        spec = _spectrum(form, X, Y, w, m0, D, True)  # n_eff = n - 1
        post = spectral.posterior(spec, np.ones(1), shape=shape, scale=1.0)
        assert post.df[0] == df
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cov = spectral.coef_covariance(post)
        if df > 2:
            Xc, _, _, _, _, _ = _centred(X, Y[:, 0], w, True)
            V = np.linalg.inv(Xc.T @ Xc + np.diag(1.0 / D**2))
            want = post.noise_var[0] * V * df / (df - 2.0)
            assert_allclose(cov, want, rtol=1e-9)
        else:
            assert np.all(np.isinf(cov)) and np.all(np.diag(cov) > 0)


@pytest.mark.parametrize("form", FORMS)
def test_ridge_is_equivariant_in_the_scale_of_x(form):
    """X c with alpha c^2: coefficients / c, the same RSS and dof, even where
    every eigenvalue is far below rounding of one."""
    X, Y, w, _, _ = _problem(25, 12, 4)
    fits = []
    for c in (1.0, 1e-9):
        spec = _spectrum(form, X * c, Y, w, np.zeros(4), np.ones(4), True)
        fits.append(spectral.ridge(spec, 0.5 * c**2, 0.0))
    assert spec.ev.max() < 1e-12
    for a, b in zip(*fits, strict=True):
        assert_allclose(b.coef * 1e-9, a.coef, rtol=1e-7)
        assert_allclose(b.rss, a.rss, rtol=1e-7)
        assert_allclose(b.dof, a.dof, rtol=1e-9)


@pytest.mark.parametrize("nig", [False, True])
@pytest.mark.parametrize("form", FORMS)
def test_rank_deficient_rows_without_warnings(form, nig):
    """n > p with a repeated column (rank p - 1): one null direction whose
    residual no coefficient can fit, kept in rss_perp and the evidence."""
    X, Y, w, m0, D = _problem(26, 12, 4, weights=True)
    X[:, 3] = 2.0 * X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = _spectrum(form, X, Y, w, m0, D, True)
        post = _post(spec, nig=nig)
    assert (spec.ev > 0).sum() == 3
    Xc, Yc, w1, _, _, _ = _centred(X, Y, w, True)
    A = np.sqrt(w1)[:, None] * Xc * D
    r = np.sqrt(w1)[:, None] * (Yc - Xc @ m0[:, None])
    perp = np.sum((r - A @ np.linalg.lstsq(A, r, rcond=None)[0]) ** 2, axis=0)
    assert perp.min() > 1.0
    assert_allclose(spec.rss_perp, perp, rtol=1e-8)
    for j in range(2):
        ref = _naive(X, Y[:, j], w, m0, D, T[j], True,
                     None if nig else NOISE[j], A0, B0[j])  # fmt: skip
        assert_allclose(post.coef[j], ref["coef"], rtol=1e-8, atol=1e-10)
        assert_allclose(post.noise_var[j], ref["noise_var"], rtol=1e-8)
        brute = _brute_evidence(X, Y[:, j], w, m0, D, T[j], True,
                                None if nig else NOISE[j], A0, B0[j])  # fmt: skip
        assert_allclose(post.log_evidence[j], brute, rtol=1e-8)


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("form", FORMS)
def test_noise_floor_under_interpolation(form, weights):
    """p > n with the noise integrated out (s^2 ~ 1 / s^2): b_N stops at
    0.5e-10 times the weighted spread of y about its mean, per target."""
    X, Y, w, m0, D = _problem(27, 5, 8, weights=weights)
    Y = Y * np.array([1.0, 1e3])
    spec = _spectrum(form, X, Y, w, m0, D, True)
    post = spectral.posterior(spec, np.full(2, 1e20))  # the default prior
    _, Yc, w1, n, _, _ = _centred(X, Y, w, True)
    a_n = 0.5 * (n - 1.0)
    floor = 0.5e-10 * np.sum(w1[:, None] * Yc**2, axis=0)
    assert_allclose(post.noise_var, floor / a_n, rtol=1e-10)
    assert_allclose(spec.floor, floor, rtol=1e-10)


def test_posterior_default_noise_prior_is_jeffreys():
    """shape = scale = 0: b_N = rss / 2, a_N = n_eff / 2."""
    X, Y, w, m0, D = _problem(28, 12, 4, weights=True)
    for form in FORMS:
        post = spectral.posterior(_spectrum(form, X, Y, w, m0, D, True), T)
        for j in range(2):
            ref = _naive(X, Y[:, j], w, m0, D, T[j], True)
            assert_allclose(post.noise_var[j], ref["noise_var"], rtol=1e-9)
            assert post.df[j] == ref["df"]


def test_dual_spectrum_with_the_column_moments_given():
    X, Y, w, m0, D = _problem(29, 6, 9, weights=True)
    Xs = sparse.csr_matrix(X)
    for center in (True, False):
        moments = _gram.column_moments(Xs, w, center=center)
        a = spectral.dual_spectrum(Xs, Y, w, m0, D, center=center)
        b = spectral.dual_spectrum(Xs, Y, w, m0, D, center=center, moments=moments)
        for field in ("ev", "z", "rss0", "rss_perp", "floor", "x_mean", "y_mean"):
            assert_allclose(getattr(b, field), getattr(a, field), rtol=1e-12)
        assert (b.n, b.n_eff) == (a.n, a.n_eff)


@pytest.mark.parametrize("form", ["dual", "dual-sparse"])
def test_variance_at_the_training_rows_without_rounding_below_zero(form):
    """Noise 1e-20 of the prior, p > n: at the training rows var f is about
    s^2 and |v_perp|^2 = 0, where the subtraction |v|^2 - |Q^T v|^2 leaves
    rounding of either sign: never a negative variance."""
    X, Y, w, m0, D = _problem(4, 7, 9)
    spec = _spectrum(form, X, Y, w, m0, D, False)
    post = spectral.posterior(spec, np.ones(2), noise_var=np.full(2, 1e-20))
    _, var = spectral.predictive_moments(post, X)
    prior_var = ((X * D) ** 2).sum(axis=1)
    assert np.all(var >= 0.0)
    assert np.all(var < 1e-12 * prior_var[:, None])


# ---------------------------------------------------------------------------
# Block sizes (the memory bounds the bases document) and mixed formats
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("p", [1, 3, 40, 300, 3000])
def test_primal_block_is_the_largest_multiple_of_256_rows_in_cache(p):
    """A block of rows and their p coordinates (8 bytes each) fits in
    _CACHE_BYTES, one more multiple of 256 would not; at least 256 rows."""
    basis = spectral.PrimalBasis(np.eye(p))
    rows = basis.block_rows(p)
    assert isinstance(rows, int) and rows >= 256 and rows % 256 == 0
    width = 8 * (p + p)
    if rows > 256:
        assert rows * width <= _bases._CACHE_BYTES
    assert (rows + 256) * width > _bases._CACHE_BYTES


@pytest.mark.parametrize("kernel_rows", [1, 5, 1000])
@pytest.mark.parametrize("shape, center", [((7, 9), True), ((6, 40), False),
                                           ((1, 1), True)])  # fmt: skip
def test_dual_block_is_the_most_rows_in_the_kernel_budget(
    monkeypatch, shape, center, kernel_rows
):
    """The larger of a block's scaled rows (rows x p) and its kernel rows
    with their coordinates (rows x (n + r)) fits in _KERNEL_BYTES, one more
    row would not; at least one row."""
    X, Y, w, m0, D = _problem(30, *shape)
    spec = _spectrum("dual", X, Y, w, m0, D, center)
    n, r = spec.basis.U.shape
    width = 8 * max(shape[1], n + r)
    monkeypatch.setattr(_bases, "_KERNEL_BYTES", kernel_rows * width + width // 2)
    rows = spec.basis.block_rows(shape[1])
    assert isinstance(rows, int) and rows == kernel_rows
    monkeypatch.setattr(_bases, "_KERNEL_BYTES", width // 2)  # not one row
    assert spec.basis.block_rows(shape[1]) == 1


@pytest.mark.parametrize("fit_sparse", [False, True])
def test_dual_predictions_with_the_other_format(fit_sparse):
    """Dense training rows and sparse new rows, or the reverse."""
    X, Y, w, m0, D = _problem(31, 7, 9, weights=True)
    spec = _spectrum("dual-sparse" if fit_sparse else "dual", X, Y, w, m0, D, True)
    post = _post(spec)
    Xt = np.random.default_rng(32).normal(size=(6, 9))
    Xt[Xt < 0.3] = 0.0
    Xt_in = Xt if fit_sparse else sparse.csr_matrix(Xt)
    mean, var = spectral.predictive_moments(post, Xt_in)
    for j in range(2):
        ref_mean, ref_var = _naive(X, Y[:, j], w, m0, D, T[j], True, NOISE[j])[
            "predictive"
        ](Xt)
        assert_allclose(mean[:, j], ref_mean, rtol=1e-8, atol=1e-10)
        assert_allclose(var[:, j], ref_var, rtol=1e-7)


def test_prior_posterior_carries_an_empty_spectrum():
    """No rows, no residual, no intercept: posterior() on that spectrum
    gives the prior back (with the probability of no data, one)."""
    m0, D = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, 3.0])
    prior = spectral.prior_posterior(m0, D, 0.7)
    spec = prior.spec
    assert spec.n == 0 and spec.n_eff == 0 and spec.centered is False
    assert_allclose(spec.ev, np.zeros(3))
    assert spec.z.shape == (3, 1) and not spec.z.any()
    for field in (spec.rss0, spec.rss_perp, spec.y_mean):
        assert field.shape == (1,) and not field.any()
    assert spec.floor.shape == (1,)
    assert_allclose(spec.x_mean, np.zeros(3))
    assert_allclose(spec.prior_mean, m0)
    assert_allclose(spec.prior_std, D)
    again = spectral.posterior(spec, np.ones(1), noise_var=np.full(1, 0.7))
    for field in ("kappa", "noise_var", "df", "coef"):
        assert_allclose(getattr(again, field), getattr(prior, field))
    assert_allclose(again.log_evidence, [0.0], atol=1e-12)
    nig = spectral.posterior(spec, np.ones(1), shape=3.0, scale=6.0)
    assert_allclose(nig.noise_var, [2.0])  # the prior's b0 / a0
    assert_allclose(nig.log_evidence, [0.0], atol=1e-12)
    assert_allclose(nig.coef, m0[None, :])


def test_posterior_computes_in_float64_whatever_the_hyperparameters():
    """float32 t, noise variances or prior scales: the same posterior as
    their float64 values, in float64 (the evidence to full precision)."""
    X, Y, w, m0, D = _problem(33, 12, 4, weights=True)
    spec = _spectrum("primal", X, Y, w, m0, D, True)
    t32, nv32, b32 = (np.asarray(a, dtype=np.float32) for a in (T, NOISE, B0))
    t64, nv64, b64 = (a.astype(float) for a in (t32, nv32, b32))
    pairs = [
        (spectral.posterior(spec, t32, noise_var=nv32),
         spectral.posterior(spec, t64, noise_var=nv64)),
        (spectral.posterior(spec, t32, shape=A0, scale=b32),
         spectral.posterior(spec, t64, shape=A0, scale=b64)),
    ]  # fmt: skip
    for got, want in pairs:
        for field in ("rho", "kappa", "noise_var", "df", "log_evidence", "coef"):
            assert getattr(got, field).dtype == np.float64
            assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-14)


def test_ridge_on_a_spectrum_without_eigenvalues():
    """X = 0 (the kernel form keeps no eigenvalue): zero coefficients, the
    whole residual, no degrees of freedom."""
    Y = np.arange(12.0).reshape(6, 2) ** 1.5
    for form in ("dual", "dual-sparse", "primal"):
        spec = _spectrum(form, np.zeros((6, 8)), Y, None, np.zeros(8), np.ones(8), True)
        for fit in spectral.ridge(spec, 0.5, 0.0):
            assert_allclose(fit.coef, np.zeros((2, 8)))
            assert_allclose(fit.rss, np.sum((Y - Y.mean(0)) ** 2, axis=0), rtol=1e-12)
            assert fit.dof == 0.0


def test_maximize_evidence_without_iterations_returns_the_start():
    X, Y, w, m0, D = _problem(34, 12, 4)
    spec = _spectrum("primal", X, Y, w, m0, D, True)
    fp = spectral.maximize_evidence(
        spec, noise_var_init=0.3, alpha_init=np.array([2.0, 4.0]), max_iter=0
    )
    assert fp.n_iter == 0 and not fp.converged
    assert_allclose(fp.t, [0.5, 0.25])
    assert_allclose(fp.noise_var, [0.3, 0.3])


@pytest.mark.parametrize("shape, scale", [(0.0, 0.0), (0.0, 2.0), (1.5, 0.0)])
def test_improper_noise_prior_evidence_is_the_kernel(shape, scale):
    """InvGamma(a0, b0) with a0 = 0 or b0 = 0 has no normaliser: its log
    evidence is the proper one less log(b0^a0 / Gamma(a0)), continued to
    the improper prior (a0 or b0 -> 0)."""
    X, Y, w, m0, D = _problem(35, 12, 4, weights=True)
    for form in FORMS:
        spec = _spectrum(form, X, Y, w, m0, D, True)
        got = spectral.posterior(spec, T, shape=shape, scale=scale).log_evidence
        a, b = max(shape, 1e-9), max(scale, 1e-12)
        near = spectral.posterior(spec, T, shape=a, scale=b).log_evidence
        kernel = near - (a * np.log(b) - gammaln(a))
        assert_allclose(got, kernel, rtol=0, atol=1e-6)
