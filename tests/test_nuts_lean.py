"""The NumPy NUTS of bayesreg/pyro/_hmc.py (the collapsed horseshoe's
sampler): its transition leaves a known Gaussian invariant (one transition
from exact draws), a chain reaches a Gaussian's closed-form moments and
agrees with Pyro's NUTS on the same target, and its warm-up schedule and
step-size scheme are Pyro's own."""

import math

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

from pyro.infer.mcmc.adaptation import WarmupAdapter  # noqa: E402
from pyro.ops.dual_averaging import DualAveraging  # noqa: E402
from pyro.ops.stats import effective_sample_size  # noqa: E402

from bayesreg.pyro._hmc import (  # noqa: E402
    _DualAveraging,
    _Integrator,
    adaptation_windows,
    nuts_chain,
    nuts_transition,
)
from bayesreg.pyro._nuts import SAMPLE_STATS, run_nuts  # noqa: E402


def _gaussian(d=3, seed=0):
    """A correlated Gaussian N(mu, S) with scales from 0.1 to 10: the
    potential and its gradient, mu and S."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    scales = np.geomspace(0.1, 10.0, d)
    C0 = A @ A.T + d * np.eye(d)
    C = C0 / np.sqrt(np.outer(np.diag(C0), np.diag(C0)))  # |corr| up to ~0.5
    S = C * np.outer(scales, scales)
    P = np.linalg.inv(S)
    mu = rng.normal(size=d) * scales

    def value_and_grad(x):
        r = x - mu
        g = P @ r
        return 0.5 * float(r @ g), g

    return value_and_grad, mu, S


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.05, 0.4, 1.3])
def test_one_transition_from_exact_draws_keeps_the_gaussian(seed, eps):
    """Detailed balance, exactly: x ~ N(mu, S), x' = one NUTS transition
    from x (any step size, any diagonal mass) must again be N(mu, S). Each
    whitened coordinate of x' is N(0, 1) by a KS test, with its mean and
    variance."""
    d = 3
    vg, mu, S = _gaussian(d, seed)
    rng = np.random.default_rng(100 + seed)
    L = np.linalg.cholesky(S)
    integ = _Integrator(vg, np.diag(S) * rng.uniform(0.3, 3.0, d))
    N = 1500
    start, out = rng.standard_normal((N, d)), np.empty((N, d))
    for i in range(N):
        x = mu + L @ start[i]
        u, g = vg(x)
        out[i] = nuts_transition(integ, rng, x, u, g, eps, 10)[0]
    w = np.linalg.solve(L, (out - mu).T).T  # whitened: N(0, I)
    # it moves (a chain that stays put would pass the rest): independent
    # draws would give a mean squared jump of 2 d
    assert np.mean(np.sum((w - start) ** 2, 1)) > 0.5 * d
    for j in range(d):
        assert stats.kstest(w[:, j], "norm").pvalue > 1e-3
    np.testing.assert_allclose(w.mean(0), 0.0, atol=4.5 / math.sqrt(N))
    np.testing.assert_allclose(w.var(0), 1.0, atol=4.5 * math.sqrt(2.0 / N))


def _moments_agree(draws, mean, var, n_sd=4.5):
    """Means and variances of draws (chain, draw, d) within n_sd Monte
    Carlo standard errors (the ESS of x and of (x - mean)^2)."""
    t = torch.as_tensor(draws)
    ess = effective_sample_size(t, chain_dim=0, sample_dim=1).numpy()
    flat = draws.reshape(-1, draws.shape[-1])
    se_mean = np.sqrt(var / ess)
    np.testing.assert_array_less(np.abs(flat.mean(0) - mean), n_sd * se_mean)
    sq = torch.as_tensor((draws - mean) ** 2)
    ess2 = effective_sample_size(sq, chain_dim=0, sample_dim=1).numpy()
    se_var = np.sqrt(((draws - mean) ** 2).reshape(flat.shape).var(0) / ess2)
    np.testing.assert_array_less(
        np.abs(((flat - mean) ** 2).mean(0) - var), n_sd * se_var
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_chain_reaches_the_closed_form_moments(seed):
    vg, mu, S = _gaussian(4, seed)
    rng = np.random.default_rng(seed)
    chains = [
        nuts_chain(vg, rng.uniform(-2, 2, 4), rng, n_warmup=300, n_draws=1500)
        for _ in range(2)
    ]
    draws = np.stack([c.draws for c in chains])
    _moments_agree(draws, mu, np.diag(S))
    for c in chains:
        assert not c.stats["diverging"].any()
        # the adapted inverse mass is the variance (scales 0.1 to 10): the
        # step size is of order one, not of order the smallest scale
        assert 0.1 < c.stats["step_size"][0] < 2.0
        assert 0.7 < c.stats["acceptance_rate"].mean() <= 1.0


def _run(seed, vg=None, **kw):
    """run_nuts on the Gaussian of _gaussian(3): the lean sampler with
    ``vg``, Pyro's kernel on the same potential in torch otherwise."""
    value_and_grad, mu, S = _gaussian(3, 5)
    P = torch.as_tensor(np.linalg.inv(S))
    m = torch.as_tensor(mu)

    def potential(params):
        r = params["theta"] - m
        return 0.5 * r @ (P @ r)

    def initial_params():
        return {"theta": 4.0 * torch.rand(3, dtype=torch.float64) - 2.0}

    result = run_nuts(
        None,
        (np.zeros(1),),
        seed=seed,
        potential_fn=potential,
        initial_params=initial_params,
        value_and_grad=value_and_grad if vg else None,
        **kw,
    )
    return result, mu, S


@pytest.mark.slow
def test_run_nuts_lean_against_pyro_on_a_gaussian():
    """The same target through run_nuts: Pyro's kernel and the lean one
    give the same moments (each within Monte Carlo error of the closed form
    and of each other) and the same statistics' shapes."""
    kw = dict(n_warmup=200, n_draws=400, n_chains=2)
    lean, mu, S = _run(0, vg=True, **kw)
    ref, _, _ = _run(0, **kw)
    for res in (lean, ref):
        draws = res.samples["theta"]
        assert draws.shape == (2, 400, 3)
        _moments_agree(draws, mu, np.diag(S))
        assert set(res.sample_stats) == set(SAMPLE_STATS)
        assert all(v.shape == (2, 400) for v in res.sample_stats.values())
        assert res.diagnostics["num_divergences"] == 0
        assert res.diagnostics["max_r_hat"] < 1.05
    a = lean.samples["theta"].reshape(-1, 3)
    b = ref.samples["theta"].reshape(-1, 3)
    se = np.sqrt(np.diag(S) / lean.diagnostics["ess"]["theta"])
    se_ref = np.sqrt(np.diag(S) / ref.diagnostics["ess"]["theta"])
    np.testing.assert_array_less(
        np.abs(a.mean(0) - b.mean(0)), 4.5 * np.hypot(se, se_ref)
    )
    # the same sampler: similar trajectory lengths and adapted step sizes
    ratio = lean.sample_stats["n_steps"].mean() / ref.sample_stats["n_steps"].mean()
    assert 0.5 < ratio < 2.0
    steps = lean.sample_stats["step_size"][:, 0] / ref.sample_stats["step_size"][:, 0]
    assert np.all((0.5 < steps) & (steps < 2.0))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_run_nuts_lean_is_reproducible_and_leaves_global_state():
    np.random.seed(3)  # noqa: NPY002 (the global state itself)
    torch.manual_seed(3)
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    before = (np_state, torch.get_rng_state().clone())
    a = _run(7, vg=True, n_warmup=30, n_draws=20, n_chains=2)[0]
    b = _run(7, vg=True, n_warmup=30, n_draws=20, n_chains=2)[0]
    np.testing.assert_array_equal(a.samples["theta"], b.samples["theta"])
    np.testing.assert_array_equal(a.sample_stats["lp"], b.sample_stats["lp"])
    assert not np.array_equal(a.samples["theta"][0], a.samples["theta"][1])
    np_state = np.random.get_state()[1]  # noqa: NPY002
    np.testing.assert_array_equal(np_state, before[0])
    assert torch.equal(torch.get_rng_state(), before[1])
    c = _run(8, vg=True, n_warmup=30, n_draws=20, n_chains=2)[0]
    assert not np.array_equal(a.samples["theta"], c.samples["theta"])


@pytest.mark.parametrize("n_warmup", [0, 1, 10, 19, 20, 60, 149, 150, 151, 500, 1000])
def test_adaptation_windows_are_pyros(n_warmup):
    adapter = WarmupAdapter(adapt_step_size=True, adapt_mass_matrix=True)
    adapter._warmup_steps = n_warmup
    expected = [tuple(w) for w in adapter._build_adaptation_schedule()]
    assert adaptation_windows(n_warmup) == expected


def test_dual_averaging_is_pyros():
    rng = np.random.default_rng(0)
    ref = DualAveraging(prox_center=math.log(10 * 0.3))
    ours = _DualAveraging(0.3)
    for g in rng.uniform(-0.5, 0.5, 50):
        ref.step(g)
        eps = ours.step(g)
        x, x_avg = ref.get_state()
        assert eps == pytest.approx(math.exp(x), rel=1e-12)
        assert ours.x_avg == pytest.approx(x_avg, rel=1e-12, abs=1e-12)


def test_an_infinite_potential_is_a_divergence_and_the_chain_stays():
    """Outside |x| < 1 the potential is infinite (a failed Cholesky of the
    collapsed target): such a step diverges and is never accepted."""

    def vg(x):
        if np.any(np.abs(x) >= 1.0):
            return math.inf, np.zeros_like(x)
        return 0.5 * float(x @ x), x.copy()

    rng = np.random.default_rng(0)
    integ = _Integrator(vg, np.ones(2))
    x = np.array([0.3, -0.2])
    u, g = vg(x)
    z, u_new, _, (accept, steps, depth, diverged, moved) = nuts_transition(
        integ, rng, x, u, g, 5.0, 10
    )
    assert diverged and not moved and steps == 1 and depth == 0
    np.testing.assert_array_equal(z, x)
    assert u_new == u and accept == 0.0
    chain = nuts_chain(vg, x, rng, n_warmup=100, n_draws=200)
    assert np.all(np.abs(chain.draws) < 1.0)
    assert chain.stats["diverging"].any()
