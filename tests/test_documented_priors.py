"""The priors the docs state are the priors the models use (issue 21).

The BNN's model, its SVI log density and its NUTS potential share one noise
prior constant, so a changed constant passes every test that compares them
with each other. Here each is held to the prior written in
``PyroBNNRegressor``'s docstring, evaluated by scipy.stats at a fixed point.
"""

import re

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

from bayesreg.pyro.bnn import PyroBNNRegressor  # noqa: E402


class _Captured(Exception):
    pass


def _documented_noise_prior():
    """(median, sigma) of the LogNormal noise prior in the class docstring."""
    doc = PyroBNNRegressor.__doc__
    found = re.findall(r"\\mathrm\{LogNormal\}\(\\log ([0-9.]+), ([0-9.]+)\)", doc)
    assert len(found) == 1, "the docstring states the noise prior once"
    median, sigma = map(float, found[0])
    return median, sigma


def _captured_model(monkeypatch, **params):
    """The model, standardised data and NUTS target a real fit builds."""
    seen = {}

    def capture(self, model, data, rng, *, state, svi, nuts):
        seen.update(model=model, data=data, nuts=nuts)
        raise _Captured

    monkeypatch.setattr(PyroBNNRegressor, "_infer", capture)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 2))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=7)
    weights = rng.uniform(0.5, 2.0, size=7)
    with pytest.raises(_Captured):
        PyroBNNRegressor(hidden_layer_sizes=(3,), **params).fit(X, y, weights)
    return seen


def _point(model, seed=1):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=len(model.prior_scales)) * model.prior_scales
    return torch.as_tensor(w), 0.37


def _numpy_network(model, X, w):
    """The relu MLP of the packed weights, in NumPy: (n, outputs)."""
    h, pos = X, 0
    for i, (fi, fo) in enumerate(model.shapes):
        W = w[pos : pos + fi * fo].reshape(fi, fo)
        pos += fi * fo
        h = h @ W + w[pos : pos + fo]
        pos += fo
        if i < len(model.shapes) - 1:
            h = np.maximum(h, 0.0)
    return h


def _reference_log_joint(model, data, w, noise):
    """log p(w, s, y) by scipy: Normal weights, the documented LogNormal
    noise, and the likelihood of the traced model (sample weights applied)."""
    median, sigma = _documented_noise_prior()
    prior = stats.norm(0.0, model.prior_scales).logpdf(w.numpy()).sum()
    prior += stats.lognorm(s=sigma, scale=median).logpdf(noise)
    X, y, sw = (torch.as_tensor(a, dtype=torch.float64) for a in data)
    idx = torch.arange(len(y))
    conditioned = pyro.poutine.condition(
        model,
        data={"weights": w, "noise_std": torch.tensor(noise, dtype=torch.float64)},
    )
    trace = pyro.poutine.trace(conditioned).get_trace(X, y, sw, idx)
    trace.compute_log_prob()
    site = trace.nodes["obs"]
    f = site["fn"].loc.detach().numpy()
    scale = noise
    if model.het:  # the documented noise: s exp(g(x)), g the second output
        g = _numpy_network(model, X.numpy(), w.numpy())[:, 1]
        np.testing.assert_allclose(
            f, _numpy_network(model, X.numpy(), w.numpy())[:, 0], rtol=1e-12
        )
        scale = noise * np.exp(g)
    lik = (sw.numpy() * stats.norm(f, scale).logpdf(y.numpy())).sum()
    np.testing.assert_allclose(float(site["log_prob_sum"]), lik, rtol=1e-12)
    return trace, prior + lik


def test_the_docstring_states_the_noise_prior():
    median, sigma = _documented_noise_prior()
    assert median > 0 and sigma > 0


@pytest.mark.parametrize("likelihood", ["heteroscedastic", "normal"])
def test_model_sites_have_the_documented_priors(monkeypatch, likelihood):
    seen = _captured_model(monkeypatch, likelihood=likelihood)
    model, data = seen["model"], seen["data"]
    w, noise = _point(model)
    trace, _ = _reference_log_joint(model, data, w, noise)
    median, sigma = _documented_noise_prior()
    site = trace.nodes["noise_std"]
    np.testing.assert_allclose(
        float(site["fn"].log_prob(torch.tensor(noise, dtype=torch.float64))),
        stats.lognorm(s=sigma, scale=median).logpdf(noise),
        rtol=1e-12,
    )
    # ... everywhere, not only at one point: the same distribution.
    grid = np.geomspace(1e-3, 1e2, 7)
    np.testing.assert_allclose(
        site["fn"].log_prob(torch.as_tensor(grid)).numpy(),
        stats.lognorm(s=sigma, scale=median).logpdf(grid),
        rtol=1e-12,
    )
    weights = trace.nodes["weights"]
    np.testing.assert_allclose(
        float(weights["fn"].log_prob(w)),
        stats.norm(0.0, model.prior_scales).logpdf(w.numpy()).sum(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("likelihood", ["heteroscedastic", "normal"])
@pytest.mark.parametrize("prior", ["fan_in", "normal"])
def test_svi_log_density_is_the_documented_joint(monkeypatch, prior, likelihood):
    # The engine's own SVI step evaluates model.log_density in unconstrained
    # coordinates (the log noise std): the joint plus the Jacobian log s.
    seen = _captured_model(monkeypatch, prior=prior, likelihood=likelihood)
    model, data = seen["model"], seen["data"]
    w, noise = _point(model)
    _, expected = _reference_log_joint(model, data, w, noise)
    X, y, sw = (torch.as_tensor(a, dtype=torch.float64) for a in data)
    log_p = model.log_density(X, y, sw)
    got = log_p(
        {"weights": w, "noise_std": torch.tensor(np.log(noise), dtype=torch.float64)},
        torch.arange(len(y)),
    )
    np.testing.assert_allclose(float(got), expected + np.log(noise), rtol=1e-12)


@pytest.mark.parametrize("likelihood", ["heteroscedastic", "normal"])
def test_nuts_potential_is_the_documented_joint(monkeypatch, likelihood):
    seen = _captured_model(monkeypatch, inference="nuts", likelihood=likelihood)
    model, (X, y, sw) = seen["model"], seen["data"]
    # The data handed to the engine are SVI's, every weight divided by the
    # temperature; NUTS samples the untempered posterior of the weights.
    data = (X, y, sw * PyroBNNRegressor().temperature)
    w, noise = _point(model)
    _, expected = _reference_log_joint(model, data, w, noise)
    target = seen["nuts"](torch.device("cpu"))
    theta = torch.cat([w, torch.tensor([np.log(noise)], dtype=torch.float64)])
    energy = float(target.potential({"theta": theta}))
    np.testing.assert_allclose(-energy, expected + np.log(noise), rtol=1e-12)
