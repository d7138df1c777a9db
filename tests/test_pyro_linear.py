"""PyroBayesianLinear: exactness against the closed form, isolation, randomness,
faults, persistence and sklearn integration."""

import pickle
import threading

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

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
    num_particles=4,
    learning_rate="constant",
    random_state=0,
    n_posterior_samples=50,
)
ACCURATE = dict(max_iter=300, random_state=0, n_posterior_samples=50)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------------- exactness
def test_svi_multivariate_matches_exact_posterior():
    X, y = _problem()
    mean, cov, _ = _reference(X, y)
    est = PyroBayesianLinear(
        noise_std=NOISE, prior_std=PRIOR, fit_intercept=False, random_state=0
    ).fit(X, y)
    _assert_close_to_exact(est, mean, cov, mean_tol=0.1, std_rtol=0.15)


def _fit_vs_exact(
    num_warmup, num_samples, mean_tol, std_rtol, inference="nuts", device="cpu"
):
    X, y = _problem()
    mean, cov, _ = _reference(X, y)
    est = PyroBayesianLinear(
        inference=inference,
        noise_std=NOISE,
        prior_std=PRIOR,
        fit_intercept=False,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=1,
        device=device,
        random_state=0,
    ).fit(X, y)
    _assert_close_to_exact(est, mean, cov, mean_tol=mean_tol, std_rtol=std_rtol)
    if inference == "nuts":
        assert est.diagnostics_["max_r_hat"] < 1.05
        assert set(est.diagnostics_["r_hat"]) == {"coef"}


@pytest.mark.slow
def test_nuts_matches_exact_posterior():
    """The acceptance criterion: means within 0.1 sd, stds within 10%."""
    _fit_vs_exact(num_warmup=300, num_samples=1500, mean_tol=0.1, std_rtol=0.10)


def test_nuts_matches_exact_posterior_fast():
    """A shorter chain, with tolerances widened for its Monte Carlo error."""
    _fit_vs_exact(num_warmup=150, num_samples=400, mean_tol=0.2, std_rtol=0.15)


def test_flat_intercept_prior_matches_conjugate():
    pytest.importorskip("bayesreg.conjugate")
    X, y = _problem(n=100, d=3, intercept=4.0)
    mean, cov, intercept = _reference(X, y, fit_intercept=True)
    est = PyroBayesianLinear(noise_std=NOISE, prior_std=PRIOR, random_state=1).fit(X, y)
    _assert_close_to_exact(est, mean, cov, mean_tol=0.15, std_rtol=0.15)
    assert abs(est.intercept_ - intercept) < 0.05


@pytest.mark.parametrize("standardize", [True, False])
def test_learned_noise_and_standardize_option(standardize):
    X, y = _problem(n=300, d=3)
    est = PyroBayesianLinear(standardize=standardize, **ACCURATE).fit(X, y)
    assert abs(est.noise_std_ - NOISE) < 0.1
    assert est.posterior_samples_["noise_std"].shape == (50,)
    mean, _, _ = _reference(X, y)
    np.testing.assert_allclose(est.coef_, mean, atol=0.1)


@pytest.mark.parametrize("guide", ["diagonal", "lowrank"])
def test_other_guides(guide):
    X, y = _problem(n=100, d=3)
    est = PyroBayesianLinear(guide=guide, **ACCURATE).fit(X, y)
    assert est.coef_cov_.shape == (3, 3)
    if guide == "diagonal":
        off = est.coef_cov_ - np.diag(np.diag(est.coef_cov_))
        assert np.allclose(off, 0.0)
    assert np.isfinite(est.predict(X)).all()


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
    kw = dict(FAST, inference=inference, num_warmup=20, num_samples=20, num_chains=1)
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 (the global state itself)
    a = PyroBayesianLinear(**kw).fit(X, y)
    b = PyroBayesianLinear(**kw).fit(X, y)
    pa = a.predict(X, return_std=True)
    a.predict_interval(X)
    a.sample_posterior(3, random_state=0)
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
def test_divergence_names_learning_rate_and_leaves_unfitted():
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(standardize=False, **FAST)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        est.fit(X * 1e160, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    # A previously fitted estimator is unfitted by a failed refit.
    est.fit(X, y)
    with pytest.raises(FloatingPointError):
        est.fit(X * 1e160, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


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
    _fit_vs_exact(
        150, 400, mean_tol=0.2, std_rtol=0.15, inference=inference, device="cuda"
    )


# ------------------------------------------------------------- persistence
@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_pickle_and_joblib_round_trip(tmp_path, inference):
    X, y = _problem(n=40, d=2)
    est = PyroBayesianLinear(
        inference=inference, num_warmup=20, num_samples=20, num_chains=1, **FAST
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
        a = other.sample_posterior(4, random_state=3)["coef"]
        np.testing.assert_array_equal(
            a, est.sample_posterior(4, random_state=3)["coef"]
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


def test_minibatches():
    X, y = _problem(n=200, d=2)
    est = PyroBayesianLinear(batch_size=50, **{**ACCURATE, "max_iter": 100}).fit(X, y)
    mean, _, _ = _reference(X, y)
    np.testing.assert_allclose(est.coef_, mean, atol=0.1)


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
        inference="nuts", num_warmup=2, num_samples=10, num_chains=2, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="R-hat|effective"):
        est.fit(X, y)
    assert est.diagnostics_["r_hat"]["coef"].shape == (2,)
    assert est.posterior_samples_["coef"].shape == (20, 2)


def test_predictive_distribution_and_posterior_draws():
    X, y = _problem(n=50, d=2)
    est = PyroBayesianLinear(**FAST).fit(X, y)
    dist = est.predict_dist(X[:7])
    assert dist.locs.shape == (7, 50)
    total = est.predict_std(X[:7])
    epi = est.predict_std(X[:7], kind="epistemic")
    ale = est.predict_std(X[:7], kind="aleatoric")
    np.testing.assert_allclose(total**2, epi**2 + ale**2)
    draws = est.sample_posterior(5, random_state=0)
    assert draws["coef"].shape == (5, 2) and draws["noise_std"].shape == (5,)
    np.testing.assert_array_equal(
        draws["coef"], est.sample_posterior(5, random_state=0)["coef"]
    )


def test_grid_search_in_processes():
    X, y = _problem(n=60, d=2)
    search = GridSearchCV(
        PyroBayesianLinear(max_iter=50, random_state=0, n_posterior_samples=20),
        {"prior_std": [0.1, 10.0]},
        cv=2,
        n_jobs=2,
    )
    search.fit(X, y)
    assert search.best_params_["prior_std"] in (0.1, 10.0)
