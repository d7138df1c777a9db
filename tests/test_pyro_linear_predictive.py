"""PyroBayesianLinear's SVI predictive with learned noise (NoiseScaleMixture):
moments against the guide's naive covariance algebra, quadrature against
adaptive quadrature of the continuous predictive, agreement of the methods
with each other and with the former 64-node rule."""

import math
import pickle

import numpy as np
import pytest
from scipy import integrate, special, stats

pytest.importorskip("torch")
pytest.importorskip("pyro")

from bayesreg.distributions import NormalMixture
from bayesreg.pyro._linear_predictive import (
    NoiseScaleMixture,
    predictive_map,
    predictive_maps,
    row_parameters,
)
from bayesreg.pyro._posterior import GaussianPosterior
from bayesreg.pyro.linear import PyroBayesianLinear

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _problem(n, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.5][:d] + [2.0, -1.0, 0.0][:d]
    y = X @ rng.normal(size=d) + 1.5 + 0.5 * rng.normal(size=n)
    return X, y


# ------------------------------------------------------------ references
def _naive_rows(est, X):
    """(m, b, v, log S, sd) from the guide as the former code formed them:
    the (n, D) matrix A of the function in the packed latents, A cov A'."""
    design, post = est._design, est._posterior
    A = np.zeros((X.shape[0], post.loc.size))
    pos, j = 0, None
    for site in post.sites:
        block = slice(pos, pos + site.size)
        if site.name == "xi":
            A[:, block] = (
                design.y_scale * ((X - design.x_mean) / design.x_scale) @ (design.M)
            )
        elif site.name == "intercept":
            A[:, block] = design.y_scale / math.sqrt(design.n)
        else:
            j = pos
        pos += site.size
    cov = post.covariance()
    f0 = design.y_mean if design.centered else 0.0
    m = f0 + A @ post.loc
    var_f = np.einsum("ij,jk,ik->i", A, cov, A)
    sd = math.sqrt(cov[j, j])
    b = A @ cov[:, j] / sd
    return m, b, var_f - b**2, math.log(design.y_scale) + post.loc[j], sd


def _ref_cdf(y, m, b, v, log_s, sd):
    """P(Y <= y) by adaptive quadrature over z (1e-13 relative)."""

    def f(z):
        scale = math.sqrt(v + math.exp(2.0 * (log_s + sd * z)))
        return stats.norm.pdf(z) * special.ndtr((y - m - b * z) / scale)

    return integrate.quad(f, -12, 12, epsabs=0, epsrel=1e-13, limit=1000)[0]


def _ref_pdf(y, m, b, v, log_s, sd):
    def f(z):
        scale = math.sqrt(v + math.exp(2.0 * (log_s + sd * z)))
        return stats.norm.pdf(z) * stats.norm.pdf(y, m + b * z, scale)

    return integrate.quad(f, -12, 12, epsabs=0, epsrel=1e-13, limit=1000)[0]


def _grid():
    """Rows over the regimes: sd of log s from a large n (0.034) to a tiny
    one (0.7), correlations of f with log s up to 0.9, the noise from
    dominant to negligible."""
    rows = []
    for sd in (0.034, 0.2, 0.7):
        for rho in (0.0, 0.1, 0.3, 0.6, 0.9) if sd == 0.034 else (0.0, 0.6, 0.9):
            for var_f in (0.01, 1.0, 100.0):
                b = rho * math.sqrt(var_f)
                case = (sd, rho, (1.5, b, var_f - b * b, -0.3, sd))
                # One case per sd in the default run, the rest marked slow.
                fast = (rho, var_f) in [
                    ((0.0, 0.01), (0.3, 1.0)),
                    ((0.6, 1.0),),
                    ((0.9, 100.0),),
                ][(0.034, 0.2, 0.7).index(sd)]
                rows.append(
                    case if fast else pytest.param(*case, marks=pytest.mark.slow)
                )
    return rows


def _dist(params, rho):
    m, b, v, log_s, sd = (np.atleast_1d(p) for p in params)
    return NoiseScaleMixture(m, b, v, log_s[0], sd[0], rho / math.sqrt(1 - rho**2))


# -------------------------------------------------------------- moments
@pytest.mark.parametrize("guide", ["diagonal", "multivariate"])
def test_moments_are_the_guides(guide):
    """mean, the function's variance and Cov(f, log s) from one product of X
    equal the naive A cov A' (1e-10); E s^2 of the lognormal closed form."""
    X, y = _problem(60)
    est = PyroBayesianLinear(guide=guide, random_state=0, max_iter=300).fit(X, y)
    Xt = _problem(30, seed=3)[0] * 4.0
    dist = est.predict_dist(Xt)
    assert isinstance(dist, NoiseScaleMixture)
    m, b, v, log_s, sd = _naive_rows(est, Xt)
    scale = np.sqrt(b**2 + v)
    np.testing.assert_allclose(dist.mean, m, rtol=1e-12)
    np.testing.assert_allclose(dist.slope, b, atol=1e-10 * scale.max())
    np.testing.assert_allclose(dist.epistemic_std, scale, rtol=1e-10)
    rms = math.exp(log_s + sd**2)
    np.testing.assert_allclose(dist.aleatoric_std, rms, rtol=1e-14)
    np.testing.assert_allclose(dist.std, np.sqrt(scale**2 + rms**2), rtol=1e-10)
    if guide == "diagonal":
        assert dist.slope_bound == 0.0 and np.all(dist.slope == 0.0)
    else:
        assert np.all(np.abs(b) <= dist.slope_bound * np.sqrt(v) * (1 + 1e-9))
    # predict(return_std=True) and predict_std take this path
    mean, std = est.predict(Xt, return_std=True)
    np.testing.assert_array_equal(std, dist.std)
    np.testing.assert_array_equal(est.predict_std(Xt), dist.std)
    np.testing.assert_allclose(mean, dist.mean, rtol=1e-12)


def test_sparse_rows_equal_dense():
    import scipy.sparse as sp

    X, y = _problem(60)
    est = PyroBayesianLinear(random_state=0, max_iter=200).fit(X, y)
    Xt = _problem(20, seed=4)[0]
    Xt[:, 1] = 0.0
    pmap = predictive_map(est._posterior, est._design)
    for a, b in zip(
        row_parameters(pmap, Xt), row_parameters(pmap, sp.csr_matrix(Xt)), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13 * np.abs(a).max())


def test_strongly_correlated_guide():
    """A guide whose log noise is correlated 0.9 with the coefficients: the
    map's moments and the bound on b / sqrt(v) still hold exactly."""
    X, y = _problem(40)
    est = PyroBayesianLinear(guide="multivariate", random_state=0, max_iter=100)
    est.fit(X, y)
    post = est._posterior
    D = post.loc.size
    a = np.full(D, 0.3)  # every pair, the noise's included, correlated 0.9
    L = np.linalg.cholesky(np.diag(np.linspace(0.01, 0.02, D)) + np.outer(a, a))
    est._posterior = GaussianPosterior(post.sites, post.loc, scale_tril=L)
    # the fit keeps the maps of its own guide: form them for this one
    est._predictive_maps = predictive_maps(est._target_posteriors(), est._designs)
    Xt = _problem(10, seed=5)[0] * 3.0
    dist = est.predict_dist(Xt)
    m, b, v, log_s, sd = _naive_rows(est, Xt)
    np.testing.assert_allclose(dist.mean, m, rtol=1e-12)
    np.testing.assert_allclose(dist.slope, b, rtol=1e-10)
    np.testing.assert_allclose(dist.var_cond, v, rtol=1e-9)
    assert np.max(np.abs(b) / np.sqrt(v)) > 0.5
    assert np.all(np.abs(b) <= dist.slope_bound * np.sqrt(v) * (1 + 1e-9))
    for i in (0, 5):
        p = (m[i], b[i], v[i], log_s, sd)
        for r in (-3.0, 0.2, 2.0):
            y0 = m[i] + r * dist.std[i]
            assert dist.cdf(np.full(10, y0))[i] == pytest.approx(
                _ref_cdf(y0, *p), rel=1e-9
            )


# ------------------------------------------------------------ quadrature
@pytest.mark.parametrize("sd,rho,params", _grid())
def test_quadrature_against_adaptive_reference(sd, rho, params):
    """cdf and pdf within 1e-9 relative of adaptive quadrature of the
    continuous predictive from 1e-4 to 1 - 1e-4; quantiles within 1e-9
    predictive sds."""
    dist = _dist(params, rho)
    std = float(dist.std[0])
    ys = params[0] + std * np.array([-3.7, -2.0, -0.5, 0.0, 1.0, 2.5, 3.7])
    cdf = dist.cdf(ys[None, :])[0]
    pdf = np.exp(dist.logpdf(ys[None, :])[0])
    for y, c, p in zip(ys, cdf, pdf, strict=True):
        assert c == pytest.approx(_ref_cdf(y, *params), rel=1e-9, abs=0)
        assert p == pytest.approx(_ref_pdf(y, *params), rel=1e-9, abs=0)
    for q in (1e-4, 0.025, 0.5, 0.975, 1 - 1e-4):
        x = float(dist.ppf(q)[0])
        err = (_ref_cdf(x, *params) - q) / _ref_pdf(x, *params)
        assert abs(err) <= 1e-9 * std, (q, err / std)


def test_tabulated_quantiles_equal_the_solved_ones():
    """b = 0: quantiles interpolated in v / Var y equal those solved per row."""
    rng = np.random.default_rng(0)
    v = np.concatenate([[0.0, 1e-12, 1e6], rng.lognormal(0.0, 3.0, size=200)])
    m = rng.normal(size=v.size)
    for sd in (0.01, 0.034, 0.2, 0.7):
        tab = NoiseScaleMixture(m, np.zeros_like(v), v, 0.4, sd, 0.0)
        assert tab._tabulated(0.025) is not None or sd > 0.1
        solved = NoiseScaleMixture(m, np.zeros_like(v), v, 0.4, sd, 1e-300)
        for q in (1e-3, 0.025, 0.5, 0.9):
            np.testing.assert_allclose(
                tab.ppf(q), solved.ppf(q), rtol=0, atol=2e-12 * tab.std.max()
            )


def test_closer_than_the_64_node_rule():
    """The former predictive (64 midpoint nodes, still what ``locs`` and
    ``scales`` render) agrees with the new one within its own error, and the
    new one is the closer to the reference: n = 442 rows (sd of log s 0.03)
    and n = 5 (sd 0.4)."""
    for n in (442, 5):
        X, y = _problem(n)
        est = PyroBayesianLinear(random_state=0, max_iter=300).fit(X, y)
        Xt = _problem(3, seed=7)[0]
        dist = est.predict_dist(Xt)
        old = NormalMixture(dist.locs, dist.scales)
        m, b, v, log_s, sd = _naive_rows(est, Xt)
        for i in range(3):
            p = (m[i], b[i], v[i], log_s, sd)
            for r in (-2.5, -1.0, 0.5, 2.0):
                y0 = np.full(3, m[i] + r * dist.std[i])
                ref = _ref_cdf(y0[0], *p)
                new_err = abs(dist.cdf(y0)[i] - ref)
                old_err = abs(old.cdf(y0)[i] - ref)
                assert new_err <= 1e-9 * ref
                assert new_err <= old_err + 1e-12
                assert abs(dist.cdf(y0)[i] - old.cdf(y0)[i]) <= 2 * old_err + 1e-12


# ----------------------------------------------------------- agreement
@pytest.mark.parametrize("guide", ["diagonal", "multivariate"])
def test_methods_agree(guide):
    """cdf(ppf(q)) = q, intervals are the quantiles, the log density is the
    derivative of the cdf, log_predictive_density is the distribution's,
    and sample_y draws from it (probability integral transform)."""
    X, y = _problem(30)
    est = PyroBayesianLinear(guide=guide, random_state=0, max_iter=300).fit(X, y)
    Xt = _problem(6, seed=8)[0]
    dist = est.predict_dist(Xt)
    q = np.array([1e-3, 0.025, 0.3, 0.5, 0.975])
    x = dist.ppf(np.tile(q, (6, 1)))
    np.testing.assert_allclose(dist.cdf(x), np.tile(q, (6, 1)), rtol=1e-10)
    lo, hi = 0.5 * (1 - 0.8), 1 - 0.5 * (1 - 0.8)
    np.testing.assert_array_equal(
        est.predict_interval(Xt, 0.8), np.stack([dist.ppf(lo), dist.ppf(hi)], 1)
    )
    h = 1e-4 * dist.std
    slope = (dist.cdf(x[:, 3] + h) - dist.cdf(x[:, 3] - h)) / (2 * h)
    np.testing.assert_allclose(np.exp(dist.logpdf(x[:, 3])), slope, rtol=1e-6)
    yt = x[:, 2]
    np.testing.assert_array_equal(est.log_predictive_density(Xt, yt), dist.logpdf(yt))
    draws = est.sample_y(Xt, 20_000, random_state=0)
    u = dist.cdf(draws)
    for row in u:
        assert stats.kstest(row, "uniform").pvalue > 1e-4


def test_blocks_are_bit_identical():
    """Blocks of rows (the mixin's chunks) give what one call gives."""
    X, y = _problem(50)
    est = PyroBayesianLinear(random_state=0, max_iter=200).fit(X, y)
    Xt = np.repeat(_problem(9000, seed=9)[0], 1, axis=0)
    yt = Xt @ est.coef_ + est.intercept_ + 3.0 * np.sin(np.arange(9000))
    dist = est.predict_dist(Xt)
    np.testing.assert_array_equal(est.predict_interval(Xt), dist.interval(0.95))
    np.testing.assert_array_equal(est.log_predictive_density(Xt, yt), dist.logpdf(yt))
    np.testing.assert_array_equal(est.predict_std(Xt), dist.std)
    np.testing.assert_array_equal(
        est.sample_y(Xt, 2, random_state=1), dist.sample(2, random_state=1)
    )


def test_several_targets():
    """y of shape (n, 2): each target's predictive is that target's guide's,
    with its own noise; shapes of the contract."""
    X, y = _problem(80)
    Y = np.column_stack([y, -3.0 * y + np.random.default_rng(1).normal(size=80)])
    est = PyroBayesianLinear(random_state=0, max_iter=200).fit(X, Y)
    Xt = _problem(7, seed=2)[0]
    dist = est.predict_dist(Xt)
    assert isinstance(dist, NoiseScaleMixture) and dist.batch_shape == (7, 2)
    assert est.predict_interval(Xt).shape == (7, 2, 2)
    assert est.sample_y(Xt, 3, random_state=0).shape == (7, 2, 3)
    for j, post in enumerate(est._target_posteriors()):
        pmap = predictive_map(post, est._designs[j])
        m, b, v = row_parameters(pmap, Xt)
        one = NoiseScaleMixture(
            m, b, v, pmap.log_noise, pmap.log_noise_sd, pmap.slope_bound
        )
        np.testing.assert_allclose(dist.std[:, j], one.std, rtol=1e-14)
        np.testing.assert_allclose(dist.ppf(0.9)[:, j], one.ppf(0.9), rtol=1e-13)
        yj = Y[:7, j]
        np.testing.assert_allclose(dist.logpdf(Y[:7])[:, j], one.logpdf(yj), rtol=1e-13)


def test_nuts_keeps_the_draws_mixture():
    X, y = _problem(40)
    est = PyroBayesianLinear(
        inference="nuts", n_warmup=50, n_draws=50, random_state=0
    ).fit(X, y)
    dist = est.predict_dist(X[:5])
    assert type(dist) is NormalMixture


def test_infinite_and_far_values():
    """Values at +-inf have density 0 and CDF 0 or 1; far values (1e3 sds)
    a finite log density, below the Normal's of the same variance (the
    lognormal scale makes the tails heavier, never lighter)."""
    for sd, bound in ((0.03, 0.0), (0.5, 1.0)):
        n = np.ones(3)
        dist = NoiseScaleMixture(0 * n, 0.5 * bound * n, n, 0.0, sd, bound)
        y = np.array([np.inf, -np.inf, 1e3])
        lp = dist.logpdf(y)
        assert lp[0] == lp[1] == -np.inf
        normal = stats.norm.logpdf(1e3, 0.0, dist.std[2])
        assert np.isfinite(lp[2]) and lp[2] > normal
        np.testing.assert_array_equal(dist.cdf(y)[:2], [1.0, 0.0])


def test_maps_kept_by_the_fit_equal_maps_formed_again():
    # A fit pickled before the maps were kept has none: predict_dist forms
    # them, and they give the same predictive to the bit.
    X, y = _problem(40)
    est = PyroBayesianLinear(random_state=0, max_iter=50).fit(X, y)
    Xt = _problem(10, seed=5)[0]
    kept = est.predict_interval(Xt)
    old = pickle.loads(pickle.dumps(est))
    del old._predictive_maps
    np.testing.assert_array_equal(old.predict_interval(Xt), kept)
    np.testing.assert_array_equal(old.predict_std(Xt), est.predict_std(Xt))
