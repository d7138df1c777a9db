"""ConjugateLinearRegression(prior_std="ard") against sklearn's ARDRegression,
the evidence it maximises, and the shared contract (units, targets, forms)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ARDRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg import ConjugateLinearRegression, _ard
from bayesreg.utils.estimator_checks import check_predictive_contract


def sparse_problem(seed, n=200, p=12, noise=0.7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.normal(size=p)
    w = np.zeros(p)
    w[:3] = [1.5, -2.0, 0.8]
    y = X @ w + 1.0 + noise * rng.normal(size=n)
    return X, y, w


def ard(**kw):
    return ConjugateLinearRegression(prior_std="ard", **kw)


def fixed_prior_evidence(X, y, prior_std, **kw):
    """The log evidence of the fixed prior std (noise units), a pruned
    feature (std 0) given a negligible one."""
    std = np.where(prior_std > 0, prior_std, 1e-9 * prior_std.max())
    return ConjugateLinearRegression(prior_std=std, **kw).fit(X, y)


# ----------------------------------------------------------------------------
# Against sklearn and the evidence
# ----------------------------------------------------------------------------


def test_known_noise_matches_ard_regression_fixed_point():
    # ARDRegression's fixed point at its own noise precision is a stationary
    # point of the known-noise evidence; ARD's relevances are per-column
    # rescalings of its lambdas, so the coefficients agree (its gamma
    # hyperpriors of 1e-6 and a pruning threshold are all that differ).
    X, y, _ = sparse_problem(0, p=6)
    ref = ARDRegression(tol=1e-12, max_iter=20000, threshold_lambda=1e12).fit(X, y)
    reg = ard(noise_std=1.0 / np.sqrt(ref.alpha_)).fit(X, y)
    relevant = ref.lambda_ < 1e3
    assert_array_equal(reg.relevance_ > 0, relevant)
    # (sklearn's pruned features keep coefficients of about 1e-3)
    assert_allclose(reg.coef_[relevant], ref.coef_[relevant], rtol=1e-3)
    assert_allclose(reg.intercept_, ref.intercept_, atol=2e-3)
    # The prior stds are sklearn's 1 / sqrt(lambda) of the kept features.
    assert_allclose(reg.prior_std_[relevant], ref.lambda_[relevant] ** -0.5, rtol=1e-3)


@pytest.mark.parametrize("noise_std", [None, 0.7])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_evidence_is_a_local_maximum(noise_std, fit_intercept):
    X, y, _ = sparse_problem(1)
    kw = dict(noise_std=noise_std, fit_intercept=fit_intercept)
    reg = ard(**kw).fit(X, y)
    best = fixed_prior_evidence(X, y, reg.prior_std_, **kw)
    # The same posterior as the fixed prior at the chosen stds.
    assert_allclose(reg.log_marginal_likelihood_, best.log_marginal_likelihood_)
    assert_allclose(reg.coef_, best.coef_, atol=1e-8)
    # A local maximum of the evidence plus log(prior odds 1 : p) per
    # feature kept: along each kept std, and against letting a pruned
    # feature in or leaving a kept one out.
    cost = np.log(X.shape[1])
    for j in range(X.shape[1]):
        kept = reg.prior_std_[j] > 0
        for factor in (0.97, 1.03, 0.0) if kept else (None,):
            std = reg.prior_std_.copy()
            if factor is None:  # a pruned feature: let it in a little
                std[j] = 0.05 * reg.prior_std_.max()
            else:
                std[j] *= factor
            other = fixed_prior_evidence(X, y, std, **kw).log_marginal_likelihood_
            extra = cost * (int(std[j] > 0) - int(kept))
            assert other - extra < reg.log_marginal_likelihood_


@pytest.mark.parametrize("log_odds", [0.0, None])
def test_tipping_faul_steps_match_brute_force_evidence(log_odds):
    # Each closed-form optimum along one coordinate beats its neighbours in
    # the evidence computed from the n x n covariance (multivariate t), plus
    # the log prior odds -log(p) per feature in (log_odds=None) or alone (0).
    rng = np.random.default_rng(3)
    n, p = 40, 5
    Phi = rng.normal(size=(n, p))
    y = Phi[:, 0] * 2 + 0.4 * Phi[:, 1] + rng.normal(size=n)
    a_n = n / 2
    cost = np.log(p) if log_odds is None else log_odds

    def objective(alpha):
        keep = np.isfinite(alpha)
        C = np.eye(n) + (Phi[:, keep] / alpha[keep]) @ Phi[:, keep].T
        log_ev = -0.5 * np.linalg.slogdet(C)[1] - a_n * np.log(
            y @ np.linalg.solve(C, y) / 2
        )
        return log_ev - cost * keep.sum()

    G = Phi.T @ Phi
    rel = _ard.relevances(
        lambda i: G[:, i], np.diag(G).copy(), Phi.T @ y, y @ y, a_n=a_n,
        log_odds=log_odds,
    )  # fmt: skip
    assert rel.converged
    # the prior prunes the weak feature 1 that the evidence alone keeps
    assert_array_equal(np.isfinite(rel.alpha)[:2], [True, log_odds == 0.0])
    best = objective(rel.alpha)
    for j in range(p):
        for value in (rel.alpha[j] * 0.9, rel.alpha[j] * 1.1, 1.0, np.inf):
            alpha = rel.alpha.copy()
            alpha[j] = value
            if np.all(alpha == rel.alpha):
                continue
            assert objective(alpha) <= best + 1e-10


def sparse_truth(seed, n=120, p=150, n_test=4000):
    """Issue 23's case (a) (benchmarks/bench_models.py): 6 coefficients of
    size 2-4 with random signs, noise 1, standard normal X."""
    rng = np.random.default_rng(seed)
    w = np.zeros(p)
    idx = rng.choice(p, 6, replace=False)
    w[idx] = rng.uniform(2, 4, 6) * rng.choice([-1, 1], 6)
    X, Xt = rng.normal(size=(n, p)), rng.normal(size=(n_test, p))
    y = X @ w + rng.normal(size=n)
    yt = Xt @ w + rng.normal(size=n_test)
    return X, y, Xt, yt, w


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("seed", range(5))
def test_calibrated_when_features_outnumber_rows(seed):
    # Issue 23: p > n, where the evidence alone keeps adding spurious
    # features and under-estimates the noise (coverage about 0.5, as
    # ARDRegression). The prior odds 1 : p recover the support, converge,
    # and beat ARDRegression's coefficients and test log density.
    X, y, Xt, yt, w = sparse_truth(seed)
    reg = ard().fit(X, y)
    assert reg.solver_ == "dual"
    assert_array_equal(reg.relevance_ > 0, w != 0)
    lo, hi = reg.predict_interval(Xt, coverage=0.9).T
    assert 0.85 <= np.mean((yt >= lo) & (yt <= hi)) <= 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = ARDRegression().fit(X, y)
    rmse = [np.sqrt(np.mean((est.coef_ - w) ** 2)) for est in (reg, ref)]
    assert rmse[0] <= 1.1 * rmse[1]
    mean, std = ref.predict(Xt, return_std=True)
    nlpd_ref = -np.mean(stats.norm(mean, std).logpdf(yt))
    assert -np.mean(reg.log_predictive_density(Xt, yt)) < nlpd_ref


def test_evidence_alone_overfits_when_features_outnumber_rows():
    # What the prior odds fix: the same search on the evidence alone adds
    # spurious features until max_iter and shrinks the noise estimate.
    X, y, _, _, w = sparse_truth(0)
    Phi = (X - X.mean(0)) / X.std(0)
    yc = y - y.mean()
    G = Phi.T @ Phi
    kw = dict(a_n=(len(y) - 1) / 2, max_iter=100)
    args = (lambda i: G[:, i], np.diag(G).copy(), Phi.T @ yc, yc @ yc)
    alone = _ard.relevances(*args, log_odds=0.0, **kw)
    prior = _ard.relevances(*args, **kw)
    assert not alone.converged
    assert np.sum(np.isfinite(alone.alpha)) > 20
    assert prior.converged
    assert_array_equal(np.isfinite(prior.alpha), w != 0)


def test_lookahead_finds_a_joint_gain():
    # n = 60, p = 200: after the strongest feature no single true one pays
    # log p alone (the other four inflate the noise estimate); together
    # they do. Without the lookahead the search stops at one feature.
    X, y, _, _, w = sparse_truth(0, n=60, p=200, n_test=1)
    Phi = (X - X.mean(0)) / X.std(0)
    yc = y - y.mean()
    G = Phi.T @ Phi
    args = (lambda i: G[:, i], np.diag(G).copy(), Phi.T @ yc, yc @ yc)
    greedy = _ard.relevances(*args, a_n=29.5, lookahead=0)
    assert np.sum(np.isfinite(greedy.alpha)) == 1
    ahead = _ard.relevances(*args, a_n=29.5)
    assert ahead.converged
    assert_array_equal(np.isfinite(ahead.alpha), w != 0)
    assert_array_equal(ard().fit(X, y).relevance_ > 0, w != 0)


def test_sparse_truth_is_recovered_and_pruned_exactly():
    X, y, w = sparse_problem(2, n=400, noise=0.3)
    reg = ard().fit(X, y)
    assert np.all(reg.relevance_[:3] > 0)
    pruned = reg.relevance_ == 0
    assert pruned.sum() >= 4
    assert_array_equal(reg.coef_[pruned], 0.0)
    cov = reg.coef_cov_
    assert_array_equal(cov[pruned], 0.0)
    assert_array_equal(cov[:, pruned], 0.0)
    assert_allclose(reg.coef_[:3], w[:3], atol=0.05)
    draws = reg.sample_parameters(5, random_state=0)["coef"]
    assert_array_equal(draws[:, pruned], 0.0)


def test_intervals_cover_with_unknown_noise():
    X, y, w = sparse_problem(4, n=150, p=20, noise=1.5)
    reg = ard().fit(X, y)
    Xt, yt, _ = sparse_problem(5, n=4000, p=20, noise=1.5)
    yt = Xt @ w + 1.0 + 1.5 * np.random.default_rng(6).normal(size=4000)
    lo, hi = reg.predict_interval(Xt, coverage=0.9).T
    assert 0.86 < np.mean((yt > lo) & (yt < hi)) < 0.94
    assert isinstance(reg.predict_dist(Xt[:3]), type(reg.predict_dist(Xt[:3])))
    assert np.all(np.isfinite(reg.predict_dist(Xt[:3]).df))


# ----------------------------------------------------------------------------
# Units, targets, forms, weights, chunks
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("noise_std", [None, 0.5])
def test_equivariant_in_units_of_x_and_y(noise_std):
    X, y, _ = sparse_problem(7)
    c = np.array([1e-3, 10.0, 2.0, 0.5] * 3)
    a, b = -20.0, 7.0
    ref = ard(noise_std=noise_std).fit(X, y)
    kw = dict(noise_std=None if noise_std is None else abs(a) * noise_std)
    new = ard(**kw).fit(X * c, a * y + b)
    Xt = sparse_problem(8, n=20)[0]
    assert_allclose(new.predict(Xt * c), a * ref.predict(Xt) + b, rtol=1e-9)
    assert_allclose(new.predict_std(Xt * c), abs(a) * ref.predict_std(Xt), rtol=1e-9)
    assert_allclose(new.relevance_, ref.relevance_, rtol=1e-7)


def test_equivariant_when_features_outnumber_rows():
    # The prior odds count features, not units: p > n (the dual form) maps
    # exactly too.
    X, y, Xt, _, _ = sparse_truth(1, n=60, p=90, n_test=20)
    c = np.random.default_rng(2).uniform(1e-2, 1e2, size=90)
    a, b = 1e-3, -4.0
    ref, new = ard().fit(X, y), ard().fit(X * c, a * y + b)
    assert new.solver_ == "dual"
    assert_array_equal(new.relevance_ > 0, ref.relevance_ > 0)
    assert_allclose(new.relevance_, ref.relevance_, rtol=1e-7)
    assert_allclose(new.predict(Xt * c), a * ref.predict(Xt) + b, rtol=1e-9)
    assert_allclose(new.predict_std(Xt * c), a * ref.predict_std(Xt), rtol=1e-9)


def test_several_targets_equal_separate_fits():
    X, y, _ = sparse_problem(9)
    y2 = X[:, 5] - 0.5 * X[:, 7] + np.random.default_rng(1).normal(size=len(y))
    Y = np.column_stack([y, y2])
    both = ard().fit(X, Y)
    Xt = sparse_problem(10, n=15)[0]
    dist = both.predict_dist(Xt)
    assert dist.mean.shape == (15, 2)
    for j in range(2):
        one = ard().fit(X, Y[:, j])
        assert_allclose(both.coef_[j], one.coef_, rtol=1e-10, atol=1e-14)
        assert_allclose(both.relevance_[j], one.relevance_, rtol=1e-10)
        assert_allclose(both.coef_cov_[j], one.coef_cov_, rtol=1e-9, atol=1e-15)
        assert_allclose(dist.mean[:, j], one.predict(Xt), rtol=1e-10)
        assert_allclose(both.predict_std(Xt)[:, j], one.predict_std(Xt), rtol=1e-10)
    assert both.sample_y(Xt, 4, random_state=0).shape == (15, 2, 4)
    assert not np.array_equal(both.relevance_[0] > 0, both.relevance_[1] > 0)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_sparse_weights_and_chunks_agree(fit_intercept):
    X, y, _ = sparse_problem(11, n=60, p=12)
    w = np.arange(60) % 3
    kw = dict(fit_intercept=fit_intercept)
    ref = ard(**kw).fit(np.repeat(X, w, 0), np.repeat(y, w))
    Xt = sparse_problem(12, n=10)[0]
    fits = [
        ard(**kw).fit(X, y, sample_weight=w),
        ard(solver="dual", **kw).fit(X, y, sample_weight=w),
        ard(solver="dual", **kw).fit(sparse.csr_matrix(X), y, sample_weight=w),
        ard(**kw).fit(sparse.csc_matrix(X), y, sample_weight=w),
        ard(**kw)
        .partial_fit(X[:30], y[:30], w[:30])
        .partial_fit(X[30:], y[30:], w[30:]),
        ard(**kw)
        .fit(X[:20], y[:20], w[:20])
        .merge(ard(**kw).fit(X[20:], y[20:], w[20:])),
    ]
    for reg in fits:
        assert_allclose(reg.relevance_, ref.relevance_, rtol=1e-6, atol=1e-12)
        assert_allclose(reg.coef_, ref.coef_, rtol=1e-7, atol=1e-12)
        assert_allclose(reg.predict_std(Xt), ref.predict_std(Xt), rtol=1e-7)
    dual = fits[1]
    assert dual.solver_ == "dual"
    assert_allclose(dual.sufficient_stats_.xtx, fits[0].sufficient_stats_.xtx)


def test_prior_mean_is_the_pruned_value():
    X, y, w = sparse_problem(13)
    m0 = w + np.linspace(0.0, 0.01, w.size)  # near the truth: pruned
    reg = ard(prior_mean=m0).fit(X, y)
    pruned = reg.relevance_ == 0
    assert pruned.any()
    assert_allclose(reg.coef_[pruned], m0[pruned])


def test_max_iter_warns_and_refusals():
    X, y, _ = sparse_problem(14)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        reg = ard(max_iter=2).fit(X, y)
    assert reg.n_iter_ == 2
    assert np.sum(reg.relevance_ > 0) <= 2
    with pytest.raises(ValueError, match="fit_hyperparameters"):
        ard(fit_hyperparameters=True).fit(X, y)
    with pytest.raises(ValueError, match="prior_std"):
        ConjugateLinearRegression(prior_std="ardd").fit(X, y)


def test_constant_target_and_column():
    X, y, _ = sparse_problem(15, n=30, p=4)
    X[:, 1] = 3.0
    reg = ard().fit(X, np.full(30, 2.0))
    assert_array_equal(reg.relevance_, 0.0)
    assert_allclose(reg.predict(X), 2.0)
    reg = ard().fit(X, y)
    assert reg.relevance_[1] == 0.0
    assert np.all(np.isfinite(reg.predict_std(X)))


def test_nig_predictive_is_student_t_with_n_minus_one_df():
    X, y, _ = sparse_problem(16, n=50)
    dist = ard().fit(X, y).predict_dist(X[:4])
    assert_allclose(dist.df, 49.0)
    lpd = dist.log_prob(y[:4]) if hasattr(dist, "log_prob") else None
    if lpd is not None:
        ref = stats.t(49.0, dist.mean, dist.scale).logpdf(y[:4])
        assert_allclose(lpd, ref, rtol=1e-10)


# ----------------------------------------------------------------------------
# sklearn's checks and the predictive contract for the unknown-noise ARD
# (test_common.py runs them for the known-noise one)
# ----------------------------------------------------------------------------

_INTERPOLATES = (
    "the check fits 15 rows (9 with a non-zero weight, 27 once repeated) and "
    "30 features: 8 features interpolate the 9 distinct rows, where the "
    "evidence with the noise integrated out grows without bound (s^2 -> 0) "
    "whatever the prior odds, so the weighted and the repeated fits stop at "
    "points that rounding changes; weights equal repetitions when the rows "
    "cannot be interpolated (test_dual_sparse_weights_and_chunks_agree), "
    "and with known noise in test_common.py"
)


@parametrize_with_checks(
    [ConjugateLinearRegression(prior_std="ard")],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _INTERPOLATES,
        "check_sample_weight_equivalence_on_sparse_data": _INTERPOLATES,
    },
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predictive_contract():
    check_predictive_contract(ConjugateLinearRegression(prior_std="ard"))


@pytest.mark.parametrize("weighted", [False, True])
def test_relevance_is_one_minus_the_shrinkage_factor(weighted):
    # relevance_ is PyroBayesianLinear's quantity: 1 - kappa_j with kappa_j =
    # 1 / (1 + n r_j^2), r_j the prior std of standardised coefficient j in
    # noise units (prior_std_ = r_j / sd(x_j)) and n the sum of the weights.
    X, y, w = sparse_problem(15)
    sw = np.linspace(0.5, 2.0, len(y)) if weighted else np.ones(len(y))
    reg = ard().fit(X, y, sample_weight=sw if weighted else None)
    mean = np.average(X, axis=0, weights=sw)
    sd = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=sw))
    r = reg.prior_std_ * sd
    n = sw.sum()
    assert_allclose(reg.relevance_, 1.0 - 1.0 / (1.0 + n * r**2), rtol=1e-12)
    assert_array_equal(reg.relevance_ > 0, reg.prior_std_ > 0)
    assert np.all(reg.relevance_[w != 0] > 0.9)
    assert np.all((reg.relevance_ >= 0) & (reg.relevance_ < 1))
