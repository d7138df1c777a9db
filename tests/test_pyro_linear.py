"""PyroBayesianLinear: exactness against the closed form, isolation, randomness,
faults, persistence and sklearn integration."""

import pickle
import threading

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

from units import A, B, C, assert_mapped, rounding_rtol  # noqa: E402

from bayesreg.pyro.linear import PyroBayesianLinear  # noqa: E402

NOISE = 0.5
PRIOR = 1.0


def _problem(n=200, d=5, seed=0, intercept=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d)
    w = rng.normal(size=d)
    y = X @ w + intercept + NOISE * rng.normal(size=n)
    return X, y


def _exact_posterior(X, y, prior_std, noise_std):
    """Known-noise, no-intercept posterior N(m, S), S = (X'X/s^2 + I/p^2)^-1."""
    prec = X.T @ X / noise_std**2 + np.eye(X.shape[1]) / prior_std**2
    chol = np.linalg.cholesky(prec)
    cov = np.linalg.solve(chol.T, np.linalg.solve(chol, np.eye(X.shape[1])))
    return cov @ X.T @ y / noise_std**2, cov


def _reference(X, y, fit_intercept=False):
    """Exact posterior mean and covariance of the coefficients (and intercept)."""
    try:
        from bayesreg.conjugate import ConjugateLinearRegression
    except ImportError:  # pragma: no cover - before the conjugate module landed
        assert not fit_intercept
        mean, cov = _exact_posterior(X, y, PRIOR, NOISE)
        return mean, cov, 0.0
    ref = ConjugateLinearRegression(
        prior_std=PRIOR, noise_std=NOISE, fit_intercept=fit_intercept
    ).fit(X, y)
    if not fit_intercept:
        mean, cov = _exact_posterior(X, y, PRIOR, NOISE)
        np.testing.assert_allclose(ref.coef_, mean, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ref.coef_cov_, cov, rtol=1e-8, atol=1e-12)
    return ref.coef_, ref.coef_cov_, ref.intercept_


def _assert_close_to_exact(est, mean, cov, mean_tol, std_rtol):
    sd = np.sqrt(np.diag(cov))
    z = np.abs(est.coef_ - mean) / sd
    ratio = np.sqrt(np.diag(est.coef_cov_)) / sd
    assert z.max() < mean_tol, (z, ratio)
    assert np.all(np.abs(ratio - 1) < std_rtol), (z, ratio)


# Short fits for behaviour tests; ACCURATE for tests that check values.
FAST = dict(
    max_iter=60,
    n_particles=4,
    learning_rate="constant",
    random_state=0,
    n_posterior_samples=50,
)
ACCURATE = dict(random_state=0, n_posterior_samples=50)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------- exactness
def _correlated_designs():
    """The three correlated designs of issue 12, with their known noise std."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    from bayesreg import BasisExpansion
    from bayesreg.datasets import make_seed_problem

    X, y = make_seed_problem(100, random_state=0)
    yield "BasisExpansion(5)", BasisExpansion(degree=5).fit_transform(X), y, 0.1
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (100, 1))
    t = np.sin(6 * x[:, 0]) + 0.1 * rng.normal(size=100)
    Z = PolynomialFeatures(5, include_bias=False).fit_transform(x)
    yield "PolynomialFeatures(5)", Z, t, 0.1
    Xd, yd = load_diabetes(return_X_y=True)
    Z = PolynomialFeatures(2, include_bias=False).fit_transform(
        StandardScaler().fit_transform(Xd)
    )
    yield "diabetes PolynomialFeatures(2)", Z, yd, 55.0


DESIGNS = list(_correlated_designs())


@pytest.mark.parametrize("inference", ["svi", "nuts"])
@pytest.mark.parametrize("design", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_defaults_reach_the_exact_posterior_on_correlated_designs(design, inference):
    """Known noise, everything else default: means within 0.1 posterior sd,
    stds within 5% (NUTS: widened to 4 Monte Carlo standard errors of a
    std estimated from its draws)."""
    from bayesreg import ConjugateLinearRegression

    _, Z, y, noise = design
    ref = ConjugateLinearRegression(noise_std=noise).fit(Z, y)
    est = PyroBayesianLinear(noise_std=noise, inference=inference, random_state=0)
    est.fit(Z, y)
    std_rtol = 0.05
    if inference == "nuts":
        std_rtol = max(0.05, 4.0 * _std_standard_error(est))
        assert est.diagnostics_["max_r_hat"] < 1.01
    _assert_close_to_exact(est, ref.coef_, ref.coef_cov_, 0.1, std_rtol)
    # The intercept is f(0): its posterior sd is the epistemic std at 0.
    sd_b = ref.predict_std(np.zeros((1, Z.shape[1])), kind="epistemic")[0]
    assert abs(est.intercept_ - ref.intercept_) < 0.1 * sd_b
    # One model, two engines: the same prior scale.
    np.testing.assert_allclose(est.prior_std_, ref.prior_std_, rtol=1e-10)


def _std_standard_error(est) -> float:
    """Largest relative standard error of the posterior stds of a NUTS fit.

    A std estimated from draws whose squared deviations have effective
    sample size m has relative standard error 1 / sqrt(2 m); NUTS is
    antithetic for means (their ESS can exceed the draws) but not for
    squares, whose ESS is typically a third of the draws.
    """
    from pyro.ops.stats import effective_sample_size

    coef = est._mcmc_draws["coef"].reshape(est.n_chains, est.n_draws, -1)
    sq = torch.as_tensor((coef - coef.mean(axis=(0, 1))) ** 2)
    ess = effective_sample_size(sq, chain_dim=0, sample_dim=1).numpy()
    return float(1.0 / np.sqrt(2.0 * ess.min()))


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_long_nuts_reaches_the_exact_posterior_tightly(design):
    from bayesreg import ConjugateLinearRegression

    _, Z, y, noise = design
    ref = ConjugateLinearRegression(noise_std=noise).fit(Z, y)
    est = PyroBayesianLinear(
        noise_std=noise, inference="nuts", n_draws=8000, random_state=0
    ).fit(Z, y)
    _assert_close_to_exact(
        est, ref.coef_, ref.coef_cov_, 0.05, max(0.05, 4.0 * _std_standard_error(est))
    )
    assert _std_standard_error(est) < 0.015


def test_learned_noise_defaults_match_the_conjugate_defaults():
    """The default model is ConjugateLinearRegression()'s: coefficients,
    noise and predictive agree up to inference error."""
    from bayesreg import ConjugateLinearRegression

    X, y = _problem(n=300, d=4, intercept=3.0)
    ref = ConjugateLinearRegression().fit(X, y)
    est = PyroBayesianLinear(random_state=0).fit(X, y)
    np.testing.assert_allclose(est.prior_std_, ref.prior_std_, rtol=1e-10)
    _assert_close_to_exact(est, ref.coef_, ref.coef_cov_, 0.1, 0.05)
    assert abs(est.noise_std_ / ref.noise_std_ - 1) < 0.02
    Xt = _problem(n=50, d=4, seed=9)[0]
    np.testing.assert_allclose(est.predict_std(Xt), ref.predict_std(Xt), rtol=0.03)
    yt = Xt @ ref.coef_ + ref.intercept_
    np.testing.assert_allclose(
        est.log_predictive_density(Xt, yt),
        ref.log_predictive_density(Xt, yt),
        atol=0.03,
    )


@pytest.mark.parametrize("noise_std", [NOISE, None])
def test_svi_predictive_is_exact_for_its_guide(noise_std):
    """predict is X @ coef_ + intercept_ (no Monte Carlo); predict_dist's
    epistemic variance is the guide's variance of the regression function."""
    X, y = _problem(n=80, d=3, intercept=2.0)
    est = PyroBayesianLinear(noise_std=noise_std, random_state=0).fit(X, y)
    Xt = _problem(n=20, d=3, seed=5)[0]
    np.testing.assert_allclose(est.predict(Xt), Xt @ est.coef_ + est.intercept_)
    dist = est.predict_dist(Xt)
    np.testing.assert_allclose(dist.mean, est.predict(Xt), rtol=1e-12)
    # Monte Carlo check of the closed form: functions drawn from the guide.
    draws = est.sample_parameters(40_000, random_state=1)
    f = Xt @ draws["coef"].T + draws["intercept"]
    np.testing.assert_allclose(dist.epistemic_std, f.std(axis=1), rtol=0.02)
    np.testing.assert_allclose(
        dist.aleatoric_std, np.sqrt(np.mean(draws["noise_std"] ** 2)), rtol=0.02
    )
    noise = draws["noise_std"] * np.random.default_rng(2).normal(size=40_000)
    np.testing.assert_allclose(dist.std, (f + noise).std(axis=1), rtol=0.02)


@pytest.mark.parametrize("guide", ["multivariate", "lowrank"])
def test_other_guides(guide):
    """Each guide reaches the exact posterior of the same model (known noise,
    the default prior, intercept) on a design with correlated columns: the
    mean within 0.15 posterior sd in the whitened metric, and the guide's
    covariance within 15% of the exact one in every direction (eigenvalues
    of S^-1/2 C S^-1/2; 0.91-1.06 over seeds 0-2)."""
    from bayesreg import ConjugateLinearRegression

    X, y = _problem(n=100, d=3)
    X[:, 1] = X[:, 0] + 0.3 * X[:, 1]  # posterior correlation -0.98
    y = X @ [1.0, -0.5, 0.3] + NOISE * np.random.default_rng(1).normal(size=100)
    ref = ConjugateLinearRegression(noise_std=NOISE).fit(X, y)
    est = PyroBayesianLinear(guide=guide, noise_std=NOISE, **ACCURATE).fit(X, y)
    whiten = np.linalg.inv(np.linalg.cholesky(ref.coef_cov_))
    assert np.linalg.norm(whiten @ (est.coef_ - ref.coef_)) < 0.15
    ratios = np.linalg.eigvalsh(whiten @ est.coef_cov_ @ whiten.T)
    assert np.all(np.abs(ratios - 1) < 0.15), ratios
    sd_b = ref.predict_std(np.zeros((1, 3)), kind="epistemic")[0]
    assert abs(est.intercept_ - ref.intercept_) < 0.15 * sd_b
    Xt = _problem(n=20, d=3, seed=5)[0]
    np.testing.assert_allclose(est.predict_std(Xt), ref.predict_std(Xt), rtol=0.05)


def test_integer_weights_equal_repeated_rows():
    X, y = _problem(n=60, d=3, intercept=1.0)
    w = np.arange(60) % 3
    for inference in ("svi", "nuts"):
        kw = dict(inference=inference, random_state=0, n_warmup=100, n_draws=100)
        a = PyroBayesianLinear(**kw).fit(X, y, sample_weight=w)
        b = PyroBayesianLinear(**kw).fit(np.repeat(X, w, 0), np.repeat(y, w))
        # The likelihood sees the data only through weighted statistics,
        # equal to rounding; the same seed then gives the same fit (a Markov
        # chain carries the rounding along its 200 steps a little further).
        sd = b.predict_std(X)
        tol = 1e-6 if inference == "svi" else 1e-3
        assert np.max(np.abs(a.predict(X) - b.predict(X)) / sd) < tol
        np.testing.assert_allclose(a.predict_std(X), sd, rtol=tol)


# ------------------------------------------------- isolation and randomness
def test_fitting_b_does_not_change_a_or_the_global_param_store():
    X, y = _problem(n=60, d=2, seed=1)
    X2, y2 = _problem(n=80, d=2, seed=2)
    pyro.clear_param_store()
    user_param = pyro.param("user_param", torch.tensor([1.0, 2.0]))
    a = PyroBayesianLinear(**FAST).fit(X, y)
    before = a.predict_dist(X).locs.copy()
    PyroBayesianLinear(**FAST).fit(X2, y2)
    np.testing.assert_array_equal(a.predict_dist(X).locs, before)
    store = pyro.get_param_store()
    assert list(store.keys()) == ["user_param"]
    assert store.get_param("user_param").unconstrained() is user_param.unconstrained()
    pyro.clear_param_store()


def test_threads_equal_sequential():
    datasets = [_problem(n=60, d=2, seed=s) for s in (3, 4)]
    seq = [PyroBayesianLinear(**FAST).fit(X, y).coef_ for X, y in datasets]
    out = [None, None]

    def work(i):
        X, y = datasets[i]
        out[i] = PyroBayesianLinear(**FAST).fit(X, y).coef_

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(out, seq, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_global_random_states_untouched_and_bit_identical(inference):
    X, y = _problem(n=40, d=2)
    kw = dict(FAST, inference=inference, n_warmup=20, n_draws=20, n_chains=1)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the global state itself)
    a = PyroBayesianLinear(**kw).fit(X, y)
    b = PyroBayesianLinear(**kw).fit(X, y)
    pa = a.predict(X, return_std=True)
    a.predict_interval(X)
    a.sample_parameters(3, random_state=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]
    pb = b.predict(X, return_std=True)
    np.testing.assert_array_equal(pa[0], pb[0])
    np.testing.assert_array_equal(pa[1], pb[1])


def test_different_seeds_differ():
    X, y = _problem(n=40, d=2)
    a = PyroBayesianLinear(**FAST).fit(X, y)
    b = PyroBayesianLinear(**{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.predict(X), b.predict(X))


# ------------------------------------------------------------------ faults
def test_divergence_names_learning_rate_and_leaves_the_estimator_as_it_was():
    X, y = _problem(n=40, d=2)
    bad = dict(FAST, learning_rate_init=1e6, max_iter=50)
    est = PyroBayesianLinear(**bad)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    # A failed refit keeps the previous fit, attribute for attribute.
    est.set_params(learning_rate_init=0.05).fit(X, y)
    before, state = est.predict_std(X), dict(vars(est))
    est.set_params(learning_rate_init=1e6)
    with pytest.raises(FloatingPointError):
        est.fit(X, y)
    assert vars(est).keys() == state.keys()
    assert all(vars(est)[k] is v for k, v in state.items() if k != "learning_rate_init")
    np.testing.assert_array_equal(est.predict_std(X), before)


@pytest.mark.parametrize("where", ["X", "y"])
def test_entries_beyond_1e150_are_refused_by_name(where):
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(**FAST).fit(X, y)
    before = est.predict(X)
    bad_X, bad_y = (X * 1e155, y) if where == "X" else (X, y * 1e160)
    with pytest.raises(ValueError, match=f"^{where} has entries of magnitude"):
        est.fit(bad_X, bad_y)
    np.testing.assert_array_equal(est.predict(X), before)


def test_posterior_draws_follow_the_fit_not_the_live_parameter():
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(**FAST).fit(X, y)
    est.set_params(inference="nuts")
    assert est.sample_y(X[:3], 2, random_state=0).shape == (3, 2)
    assert est.sample_parameters(2, random_state=0)["coef"].shape == (2, 2)


@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_predictions_follow_the_fitted_noise_not_the_live_parameter(inference):
    # Defect: predict_dist and the draws read the live ``noise_std``, so
    # set_params(noise_std=0.5) after a fit with learned noise changed the
    # predictive (SVI) without a refit.
    X, y = _problem(n=40, d=2)
    kw = dict(FAST, inference=inference, n_warmup=20, n_draws=20, n_chains=1)
    est = PyroBayesianLinear(**kw).fit(X, y)
    dist = est.predict_dist(X[:5])
    draws = est.sample_parameters(4, random_state=0)
    est.set_params(noise_std=0.5)
    again = est.predict_dist(X[:5])
    np.testing.assert_array_equal(again.mean, dist.mean)
    np.testing.assert_array_equal(again.std, dist.std)
    np.testing.assert_array_equal(
        est.sample_parameters(4, random_state=0)["noise_std"], draws["noise_std"]
    )
    assert "noise_std" in est.to_inference_data().posterior


def test_cuda_requested_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    X, y = _problem(n=20, d=2)
    with pytest.raises(RuntimeError, match="CUDA"):
        PyroBayesianLinear(device="cuda", **FAST).fit(X, y)
    PyroBayesianLinear(device="auto", **FAST).fit(X, y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_predicts_like_numpy_state():
    X, y = _problem(n=100, d=3)
    est = PyroBayesianLinear(device="cuda", **FAST).fit(X, y)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict(X), est.predict(X))
    assert isinstance(est.posterior_samples_["coef"], np.ndarray)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_cuda_fit_matches_exact_posterior(inference):
    """On the GPU, both inference methods still recover the closed form."""
    from bayesreg import ConjugateLinearRegression

    _, Z, y, noise = DESIGNS[1]
    ref = ConjugateLinearRegression(noise_std=noise).fit(Z, y)
    est = PyroBayesianLinear(
        noise_std=noise, inference=inference, device="cuda", random_state=0
    ).fit(Z, y)
    _assert_close_to_exact(est, ref.coef_, ref.coef_cov_, 0.1, 0.08)


# ------------------------------------------------------------- persistence
@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_pickle_and_joblib_round_trip(tmp_path, inference):
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(
        inference=inference, n_warmup=20, n_draws=20, n_chains=1, **FAST
    ).fit(X, y)
    clone = pickle.loads(pickle.dumps(est))
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    for other in (clone, loaded):
        np.testing.assert_array_equal(other.predict(X), est.predict(X))
        np.testing.assert_array_equal(
            other.predict_interval(X), est.predict_interval(X)
        )
        a = other.sample_parameters(4, random_state=3)["coef"]
        np.testing.assert_array_equal(
            a, est.sample_parameters(4, random_state=3)["coef"]
        )


# ---------------------------------------------- training loop and contract
def test_early_stopping_and_loss_curve():
    X, y = _problem(n=100, d=2)
    est = PyroBayesianLinear(max_iter=2000, random_state=0, learning_rate="constant")
    est.fit(X, y)
    assert est.n_iter_ < 2000
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        PyroBayesianLinear(max_iter=3, random_state=0).fit(X, y)


def test_verbose_shows_progress_bar(capsys):
    X, y = _problem(n=30, d=2)
    PyroBayesianLinear(verbose=1, max_iter=5, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "elbo=" in err and "5/5" in err
    PyroBayesianLinear(max_iter=5, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""


def test_nuts_warns_when_chains_have_not_converged():
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(
        inference="nuts", n_warmup=2, n_draws=10, n_chains=2, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="R-hat|effective"):
        est.fit(X, y)
    assert est.diagnostics_["r_hat"]["xi"].shape == (2,)
    assert est.posterior_samples_["coef"].shape == (20, 2)


def test_predictive_distribution_and_posterior_draws():
    X, y = _problem(n=50, d=2)
    est = PyroBayesianLinear(**FAST).fit(X, y)
    dist = est.predict_dist(X[:7])
    assert dist.locs.shape == (7, 64)  # quadrature nodes over the noise
    total = est.predict_std(X[:7])
    epi = est.predict_std(X[:7], kind="epistemic")
    ale = est.predict_std(X[:7], kind="aleatoric")
    np.testing.assert_allclose(total**2, epi**2 + ale**2)
    draws = est.sample_parameters(5, random_state=0)
    assert draws["coef"].shape == (5, 2) and draws["noise_std"].shape == (5,)
    np.testing.assert_array_equal(
        draws["coef"], est.sample_parameters(5, random_state=0)["coef"]
    )


def test_grid_search_in_processes():
    """Two worker processes give the search of one: the same best parameters
    (the prior the data favour, 10 against a prior std of 0.01 that shrinks
    the coefficients, around 1, to nothing) and the same scores."""
    from sklearn.base import clone

    X, y = _problem(n=60, d=2)
    search = GridSearchCV(
        PyroBayesianLinear(max_iter=50, random_state=0, n_posterior_samples=20),
        {"prior_std": [0.01, 10.0]},
        cv=2,
    )
    serial = clone(search).fit(X, y)
    search.set_params(n_jobs=2).fit(X, y)
    assert search.best_params_ == {"prior_std": 10.0}
    assert serial.best_params_ == {"prior_std": 10.0}
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]


# ------------------------------------------------------------ units
@pytest.mark.parametrize(
    "mode",
    [
        {},
        {"noise_std": NOISE},
        {"inference": "nuts", "n_warmup": 100, "n_draws": 100, "n_chains": 1},
    ],
    ids=["svi, learned noise", "svi, known noise", "nuts"],
)
@settings(max_examples=4, deadline=None)
@given(a=A, b=B, c=C)
def test_defaults_are_equivariant_in_the_units(mode, a, b, c):
    """Refitting on (c X, a y + b) with the same random_state maps the
    predictive: the fit runs on standardised statistics, equal to rounding."""
    X, y = _problem(n=60, d=3, intercept=2.0)
    Xt = _problem(n=9, d=3, seed=4)[0]
    mapped = dict(mode)
    if "noise_std" in mode:
        mapped["noise_std"] = a * mode["noise_std"]
    ref = PyroBayesianLinear(random_state=0, **mode).fit(X, y)
    got = PyroBayesianLinear(random_state=0, **mapped).fit(c * X, a * y + b)
    rtol = 0.02 + rounding_rtol(X, y, Xt, a, b)
    yt = ref.predict(Xt) + 0.3
    assert_mapped(ref.predict_dist(Xt), got.predict_dist(c * Xt), a, b, yt, rtol)
    np.testing.assert_allclose(got.noise_std_, a * ref.noise_std_, rtol=rtol)


@pytest.mark.parametrize("inference", ["svi", "nuts"])
@pytest.mark.parametrize("noise_std", [None, 0.5])
def test_constant_y_is_predicted_as_the_closed_form_does(inference, noise_std):
    """Issue 21, defect 4: a constant y crashed SVI (NaN factor) and NUTS
    (p_in outside [0, 1]); the closed form predicts the constant, with the
    noise floored at 1e-5 of |y| when it is learned."""
    from bayesreg import ConjugateLinearRegression

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.full(40, 5.0)
    kw = dict(n_warmup=50, n_draws=50, n_chains=1, max_iter=500, n_particles=32)
    est = PyroBayesianLinear(
        inference=inference, noise_std=noise_std, random_state=0, **kw
    )
    est.fit(X, y)
    ref = ConjugateLinearRegression(noise_std=noise_std).fit(X, y)
    ref_std = ref.predict_std(X[:5])
    np.testing.assert_allclose(est.predict(X[:5]), 5.0, atol=ref_std.max())
    ratio = est.predict_std(X[:5]) / ref_std
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
