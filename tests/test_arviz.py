"""to_inference_data: the Pyro estimators' posteriors as ArviZ InferenceData.

Tiny data and short runs: the point is the layout (groups, dimensions, chain
structure, values equal to the estimator's own draws) and NUTS' per-draw
statistics, not the quality of the posterior.
"""

from __future__ import annotations

import ast
import pickle
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import MCMC
from scipy import stats
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import bayesreg
from bayesreg import PyroBayesianLinear, PyroBNNRegressor
from bayesreg.pyro import _engine, _nuts

SAMPLE_STATS = set(_engine.SAMPLE_STATS)


def _fit(est, X, y):
    with warnings.catch_warnings():
        # Short runs on purpose: convergence warnings are expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, -2.0] + 0.5 + 0.3 * rng.normal(size=30)
    return X, y


@pytest.fixture(scope="module")
def frame(data):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(data[0], columns=["age", "dose"])


@pytest.fixture(scope="module")
def az():
    with warnings.catch_warnings():
        # ArviZ 0.2x announces its 1.0 refactor on import.
        warnings.simplefilter("ignore", FutureWarning)
        return pytest.importorskip("arviz")


@pytest.fixture(scope="module")
def linear_nuts(data, frame):
    est = PyroBayesianLinear(
        inference="nuts", n_warmup=100, n_draws=120, random_state=0
    )
    return _fit(est, frame, data[1])


@pytest.fixture(scope="module")
def linear_nuts_1d(data):
    # One feature: coef is an affine map of the sampled latent, so its R-hat
    # and ESS are the latent's, which diagnostics_ reports.
    est = PyroBayesianLinear(
        inference="nuts", n_warmup=100, n_draws=100, random_state=0
    )
    return _fit(est, data[0][:, :1], data[1])


@pytest.fixture(scope="module")
def linear_svi_fixed(data):
    est = PyroBayesianLinear(noise_std=0.3, fit_intercept=False, random_state=0)
    return _fit(est, *data)


@pytest.fixture(scope="module")
def bnn_nuts(data):
    # A very short warm-up: cheap, and it leaves divergent transitions.
    est = PyroBNNRegressor(
        hidden_layer_sizes=(2,),
        inference="nuts",
        n_warmup=20,
        n_draws=10,
        jit=False,
        random_state=0,
    )
    return _fit(est, data[0][:20], data[1][:20])


@pytest.fixture(scope="module")
def bnn_svi(data, frame):
    est = PyroBNNRegressor(
        hidden_layer_sizes=(3, 2),
        max_iter=20,
        n_posterior_samples=50,
        jit=False,
        random_state=0,
    )
    return _fit(est, frame, data[1])


def _pooled(a):
    """(chain, draw, ...) -> (chain * draw, ...), chains one after another."""
    return a.reshape((a.shape[0] * a.shape[1], *a.shape[2:]))


# ------------------------------------------------------------------ linear
def test_linear_nuts_posterior_layout_and_values(az, linear_nuts, data):
    est = linear_nuts
    idata = est.to_inference_data()
    assert isinstance(idata, az.InferenceData)
    assert {"posterior", "sample_stats", "observed_data"} <= set(idata.groups())
    post = idata.posterior
    assert set(post.data_vars) == {"coef", "intercept", "noise_std"}
    assert post["coef"].dims == ("chain", "draw", "feature")
    assert post["coef"].shape == (2, 120, 2)
    assert post["intercept"].shape == post["noise_std"].shape == (2, 120)
    assert list(post["feature"].values) == ["age", "dose"]
    assert post.attrs["inference"] == "nuts"
    # Every kept draw, on the original scale: the fitted moments are theirs.
    coef = _pooled(post["coef"].values)
    np.testing.assert_allclose(coef.mean(axis=0), est.coef_, rtol=1e-12)
    np.testing.assert_allclose(np.cov(coef, rowvar=False), est.coef_cov_, rtol=1e-10)
    assert float(post["intercept"].mean()) == pytest.approx(est.intercept_, 1e-12)
    assert float(post["noise_std"].mean()) == pytest.approx(est.noise_std_, 1e-12)
    # posterior_samples_ is the same pool thinned evenly, in the same order.
    keep = np.unique(np.linspace(0, 239, 200).round().astype(int))
    for name in ("coef", "intercept", "noise_std"):
        np.testing.assert_array_equal(
            _pooled(post[name].values)[keep], est.posterior_samples_[name]
        )
    np.testing.assert_array_equal(idata.observed_data["y"].values, data[1])


def test_linear_nuts_sample_stats(az, linear_nuts):
    est = linear_nuts
    ss = est.to_inference_data().sample_stats
    assert set(ss.data_vars) == SAMPLE_STATS
    for name in SAMPLE_STATS:
        assert ss[name].dims == ("chain", "draw")
        assert ss[name].shape == (2, 120)
    assert ss["diverging"].dtype == bool
    assert int(ss["diverging"].sum()) == est.diagnostics_["num_divergences"]
    _check_tree_stats({k: ss[k].values for k in SAMPLE_STATS})


def _check_tree_stats(s):
    depth, steps = s["tree_depth"], s["n_steps"]
    assert np.issubdtype(depth.dtype, np.integer)
    assert np.issubdtype(steps.dtype, np.integer)
    # Stan's convention: a tree of depth d has 2^d - 1 leapfrog steps, plus
    # those of a last doubling that was cut short (a U-turn or divergence).
    assert np.all(2**depth - 1 <= steps) and np.all(steps <= 2 ** (depth + 1) - 1)
    assert np.all((0 <= depth) & (depth <= 10))
    # The adapted step size is fixed after warm-up; one per chain.
    step = s["step_size"]
    assert np.all(step > 0) and np.all(step == step[:, :1])
    assert np.all((0 <= s["acceptance_rate"]) & (s["acceptance_rate"] <= 1))
    assert np.all(np.isfinite(s["lp"]))


def test_linear_summary_agrees_with_diagnostics(az, linear_nuts_1d):
    est = linear_nuts_1d
    idata = est.to_inference_data()
    r_hat = est.diagnostics_["r_hat"]["xi"][0]
    ess = est.diagnostics_["ess"]["xi"][0]
    # Classic split R-hat is the same formula in ArviZ and Pyro, and
    # invariant under coef = a + b * xi: equal to rounding. It also checks
    # that the chains were cut where they begin.
    split = az.rhat(idata, var_names=["coef"], method="split")["coef"].values[0]
    assert split == pytest.approx(r_hat, rel=1e-9)
    summary = az.summary(idata, round_to="none")
    assert list(summary.index) == ["coef[0]", "intercept", "noise_std"]
    assert summary.loc["noise_std", "mean"] == pytest.approx(est.noise_std_)
    # az.summary reports rank-normalised statistics (Vehtari et al. 2021):
    # R-hat is the larger of the bulk and folded (tail) split R-hats, ESS is
    # Geyer's estimator on rank-normalised split chains, while Pyro applies
    # it to the raw whole chains. They estimate the same things with their
    # own sampling error: over random_state 0..29 of this fit (2 chains of
    # 100 draws) the R-hats differed by at most 0.047 and the ratio of the
    # ESSs lay in [0.93, 1.44] (here: 0.004 and 1.01). The bounds leave a
    # margin around that, and still catch a wrong chain layout or variable.
    assert abs(summary.loc["coef[0]", "r_hat"] - r_hat) < 0.1
    assert 0.5 < summary.loc["coef[0]", "ess_bulk"] / ess < 2.0


# ArviZ 0.23 calls a matplotlib helper in a way matplotlib 3.11 deprecates.
@pytest.mark.filterwarnings("ignore:Passing a dict or None as alias_mapping")
def test_plot_trace_runs(az, linear_nuts, bnn_svi):
    plt = pytest.importorskip("matplotlib.pyplot")
    try:
        axes = az.plot_trace(linear_nuts.to_inference_data())
        assert axes.shape == (3, 2)  # coef, intercept, noise_std
        az.plot_trace(bnn_svi.to_inference_data(), var_names=["noise_std"])
    finally:
        plt.close("all")


def test_linear_svi_one_chain_of_guide_draws(az, data):
    est = PyroBayesianLinear(n_particles=8, max_iter=100, random_state=0)
    est = _fit(est, *data)
    idata = est.to_inference_data()
    assert "sample_stats" not in idata.groups()
    post = idata.posterior
    assert post.attrs["inference"] == "svi"
    assert set(post.data_vars) == {"coef", "intercept", "noise_std"}
    assert post["coef"].shape == (1, est.n_posterior_samples, 2)
    assert list(post["feature"].values) == [0, 1]  # no feature names
    for name, draws in est.posterior_samples_.items():
        np.testing.assert_array_equal(post[name].values[0], draws)


def test_linear_fixed_noise_and_intercept_are_not_posterior(az, linear_svi_fixed):
    idata = linear_svi_fixed.to_inference_data()
    assert set(idata.posterior.data_vars) == {"coef"}
    assert idata.constant_data["noise_std"].values.item() == 0.3


def test_inference_data_is_a_copy_and_survives_pickle(az, linear_nuts):
    est = pickle.loads(pickle.dumps(linear_nuts))
    idata = est.to_inference_data()
    idata.posterior["coef"].values[:] = 0.0
    idata.observed_data["y"].values[:] = 0.0
    again = est.to_inference_data()
    assert not np.any(again.posterior["coef"].values == 0.0)
    assert not np.any(again.observed_data["y"].values == 0.0)


# --------------------------------------------------------------------- BNN
def _network(post, X, n_layers):
    """The exported per-layer draws (original scale) applied to raw X: (n, S)."""
    h = X[None]
    for i in range(n_layers):
        w = _pooled(post[f"coef_{i}"].values)
        b = _pooled(post[f"intercept_{i}"].values)
        h = h @ w + b[:, None, :]
        if i < n_layers - 1:
            h = np.maximum(h, 0.0)
    return h[..., 0].T


def test_bnn_nuts_layout_values_and_sample_stats(az, bnn_nuts, data):
    est = bnn_nuts
    idata = est.to_inference_data()
    post = idata.posterior
    assert set(post.data_vars) == {
        "coef_0",
        "intercept_0",
        "coef_1",
        "intercept_1",
        "noise_std",
    }
    assert post["coef_0"].dims == ("chain", "draw", "feature", "hidden_0")
    assert post["coef_0"].shape == (2, 10, 2, 2)
    assert post["intercept_0"].dims == ("chain", "draw", "hidden_0")
    # the default heteroscedastic network's last layer: the mean, then the
    # log noise offset (unitless)
    assert post["coef_1"].dims == ("chain", "draw", "hidden_0", "head")
    assert post["intercept_1"].shape == (2, 10, 2)
    assert list(post["feature"].values) == [0, 1]  # no feature names
    X = data[0][:20]
    # every NUTS draw is kept here (20 < n_posterior_samples)
    np.testing.assert_allclose(
        _network(post, X, 2),
        est._functions(X, est._kept_draws()),
        rtol=1e-5,  # the predictive runs the network in float32
        atol=1e-5,
    )
    np.testing.assert_array_equal(
        _pooled(post["noise_std"].values), est.noise_std_samples_
    )
    np.testing.assert_allclose(
        post["coef_0"].mean(("chain", "draw")).values * est._x_scale[:, None],
        est.coefs_[0],
        rtol=1e-10,
    )
    np.testing.assert_array_equal(idata.observed_data["y"].values, data[1][:20])

    ss = idata.sample_stats
    assert set(ss.data_vars) == SAMPLE_STATS
    assert ss["diverging"].shape == (2, 10)
    # The short warm-up leaves divergences: the flags are not trivially 0.
    n_div = est.diagnostics_["num_divergences"]
    assert n_div > 0
    assert int(ss["diverging"].sum()) == n_div
    _check_tree_stats({k: ss[k].values for k in SAMPLE_STATS})


def test_bnn_svi_one_chain_of_guide_draws(az, bnn_svi):
    est = bnn_svi
    idata = est.to_inference_data()
    assert "sample_stats" not in idata.groups()
    post = idata.posterior
    assert post.attrs["inference"] == "svi"
    assert post["coef_1"].dims == ("chain", "draw", "hidden_0", "hidden_1")
    assert post["coef_2"].shape == (1, 50, 2, 2)  # mean and log noise offset
    assert list(post["feature"].values) == ["age", "dose"]
    X = np.random.default_rng(0).normal(size=(7, 2))
    np.testing.assert_allclose(
        _network(post, X, 3), est._functions(X, est._kept_draws()), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(post["noise_std"].values[0], est.noise_std_samples_)


# ------------------------------------------------------------- sample stats
def _toy_model(y, idx):
    mu = pyro.sample("mu", dist.Normal(y.new_tensor(0.0), 10.0))
    s = pyro.sample("s", dist.LogNormal(y.new_tensor(0.0), 1.0))
    with pyro.plate("data", y.shape[0], subsample=idx):
        pyro.sample("obs", dist.Normal(mu, s), obs=y[idx])


def test_recorded_stats_are_pyros_own():
    # What the kernel records equals what Pyro computes from the same
    # transitions: its running mean acceptance probability, and the log
    # density of each kept draw recomputed here from the draw itself.
    y = torch.as_tensor(np.random.default_rng(1).normal(1.0, 2.0, size=15))
    last = {}

    def hook(kernel, params, stage, i):
        last["mean_accept_prob"] = kernel._mean_accept_prob

    with _engine.isolated_pyro(0):
        kernel = _nuts._RecordingNUTS(_toy_model)
        mcmc = MCMC(
            kernel, num_samples=40, warmup_steps=40, hook_fn=hook, disable_progbar=True
        )
        mcmc.run(y, torch.arange(15))
    rec = {k: np.asarray(v) for k, v in kernel.records.items()}
    assert all(len(v) == 40 for v in rec.values())
    assert rec["acceptance_rate"].mean() == pytest.approx(
        last["mean_accept_prob"], rel=1e-12
    )
    draws = {k: v.numpy() for k, v in mcmc.get_samples().items()}
    mu, s = draws["mu"], draws["s"]
    # In the sampler's coordinates (mu, log s) the density of log s is
    # Normal(0, 1): LogNormal's Jacobian is absorbed.
    lp = (
        stats.norm.logpdf(mu, 0.0, 10.0)
        + stats.norm.logpdf(np.log(s), 0.0, 1.0)
        + stats.norm.logpdf(y.numpy()[:, None], mu, s).sum(axis=0)
    )
    np.testing.assert_allclose(rec["lp"], lp, rtol=1e-10)


def test_run_nuts_returns_sample_stats_per_chain():
    y = np.random.default_rng(2).normal(size=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = _engine.run_nuts(
            _toy_model, (y,), seed=3, n_warmup=30, n_draws=25, n_chains=3
        )
    assert set(res.sample_stats) == SAMPLE_STATS
    assert all(v.shape == (3, 25) for v in res.sample_stats.values())
    assert res.sample_stats["diverging"].sum() == res.diagnostics["num_divergences"]
    _check_tree_stats(res.sample_stats)


# -------------------------------------------------------- errors, imports
@pytest.mark.parametrize("cls", [PyroBayesianLinear, PyroBNNRegressor])
def test_unfitted_raises_not_fitted(cls):
    with pytest.raises(NotFittedError):
        cls().to_inference_data()


def test_without_arviz_the_error_says_how_to_install(
    monkeypatch, linear_svi_fixed, bnn_svi
):
    monkeypatch.setitem(sys.modules, "arviz", None)  # import arviz now fails
    for est in (linear_svi_fixed, bnn_svi):
        with pytest.raises(
            ImportError, match=re.escape('pip install "arviz>=0.17,<1"')
        ):
            est.to_inference_data()


def test_arviz_1_is_refused_with_the_same_advice(monkeypatch, linear_svi_fixed):
    # ArviZ 1.0 has no InferenceData (it returns xarray.DataTree).
    monkeypatch.setitem(
        sys.modules, "arviz", types.SimpleNamespace(__version__="1.3.0")
    )
    with pytest.raises(
        ImportError, match=r"ArviZ 1\.3\.0 is installed.*arviz>=0\.17,<1"
    ):
        linear_svi_fixed.to_inference_data()


def test_bayesreg_never_imports_arviz():
    # Statically, so that no fresh interpreter is needed (importing torch in
    # one costs seconds): every import of arviz in the package is inside a
    # function, where only a call runs it.
    package = Path(bayesreg.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        functions = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        inside = {id(m) for f in functions for m in ast.walk(f)}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] == "arviz" for n in names):
                found.append((path.name, node.lineno, id(node) in inside))
    assert any(name == "_arviz.py" for name, _, _ in found)  # the walk works
    assert all(inside for _, _, inside in found), found


def test_observed_data_follow_partial_fit(az):
    """After partial_fit the observed data are those the posterior is given:
    every chunk for the linear model (statistics merged), the last chunk for
    the BNN (one epoch per chunk)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=40)
    lin = PyroBayesianLinear(max_iter=30, random_state=0, n_posterior_samples=10)
    lin.fit(X[:20], y[:20]).partial_fit(X[20:], y[20:])
    idata = lin.to_inference_data()
    np.testing.assert_array_equal(idata.observed_data["y"].values, y)
    bnn = PyroBNNRegressor(hidden_layer_sizes=(4,), random_state=0, jit=False)
    bnn.partial_fit(X[:20], y[:20]).partial_fit(X[20:], y[20:])
    np.testing.assert_array_equal(
        bnn.to_inference_data().observed_data["y"].values, y[20:]
    )


@pytest.mark.parametrize("inference", ["svi", "nuts"])
def test_several_targets_gain_a_target_dimension(az, inference, data):
    """y of shape (n, k): the linear model's variables gain a ``target``
    dimension, the BNN's noise std its ``output`` one; the values are the
    estimator's own draws, target by target."""
    X, y = data
    Y = np.c_[y, 3.0 * y[::-1] + 1.0]
    lin = _fit(
        PyroBayesianLinear(
            inference=inference, max_iter=50, n_warmup=30, n_draws=30, random_state=0
        ),
        X,
        Y,
    )
    post = lin.to_inference_data().posterior
    assert post["coef"].dims == ("chain", "draw", "target", "feature")
    assert post["noise_std"].dims == ("chain", "draw", "target")
    draws = lin._mcmc_draws if inference == "nuts" else lin.posterior_samples_
    np.testing.assert_array_equal(
        post["coef"].values.reshape(-1, 2, X.shape[1]), draws["coef"]
    )
    bnn = _fit(
        PyroBNNRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0), X, Y
    )
    post = bnn.to_inference_data().posterior
    assert post["noise_std"].dims == ("chain", "draw", "output")
    assert post["coef_1"].shape[-1] == 4  # 2 means, then 2 log noise offsets
    assert post["coef_1"].dims[-1] == "head"
