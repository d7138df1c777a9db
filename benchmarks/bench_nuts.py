"""NUTS for Bayesian linear regression: bayesreg against NumPyro and plain Pyro.

The same model, the same data and the same sampler settings in one process:
n = 1,000 rows, d = 10 features, a flat intercept, 2 chains of
(500 warm-up + 500 draws) run one after the other, diagonal mass matrix,
target acceptance 0.8, one thread each. Two noise models:

- known noise: w ~ N(0, 1), s = 0.5 fixed
  (``PyroBayesianLinear(prior_std=1, noise_std=0.5)``);
- learned noise: p(s) ~ 1/s (Jeffreys), w | s ~ N(0, s^2)
  (``PyroBayesianLinear(prior_std=1, noise_std=None)``, the conjugate model).

The peers are written the way a user of each library would write them: a
per-observation likelihood, NumPyro's NUTS (JIT-compiled by JAX, compile
time included: a user fits once) and Pyro's NUTS with ``jit_compile=True``.
bayesreg writes the likelihood on sufficient statistics in decorrelated
coordinates (see PyroBayesianLinear's Notes).

Effective sample sizes are computed for every method with the same
estimator (``pyro.ops.stats.effective_sample_size``, split over chains) on
the coefficients, the intercept and the noise std on the original scale;
"min ESS" is the smallest. Each configuration runs ``--repeats`` times,
interleaved, and the medians are reported.

``--horseshoe`` runs the sparse model instead (issue 23): the regularised
horseshoe on bench_models' sparse truth (n = 120, p = 150, 6 non-zero),
``PyroBayesianLinear(prior="horseshoe", inference="nuts")`` against the
same model in NumPyro, written as its users write it (non-centred
coefficients, a per-observation likelihood) on the same standardised data.
bayesreg samples it with the coefficients integrated out (see
PyroBayesianLinear's Notes), with Pyro's NUTS algorithm run in NumPy
(``bayesreg/pyro/_hmc.py``). ESS is the minimum over the coefficients, with
the estimator above; NumPyro's wall time is given with its compilation
(a first run) and without it (a second run of the same MCMC object). Both
sides report the mean number of leapfrog steps of a kept draw, the steps of
the whole run (bayesreg's counted, warm-up included; NumPyro's estimated as
its kept draws' mean times all transitions) and the wall per step, so that
a ratio measured under load reads as cost per step times steps per draw.

Run from the repository root in an environment with the ``bench`` extra::

    pip install -e ".[bench]"            # numpyro and jax (CPU)
    python benchmarks/bench_nuts.py      # prints a Markdown table

Without NumPyro the NumPyro rows are reported as not installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import numpy as np
import torch

N, D, NOISE = 1_000, 10, 0.5
WARMUP, SAMPLES, CHAINS = 500, 500, 2


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = X @ rng.normal(size=D) + 1.0 + NOISE * rng.normal(size=N)
    return X, y


def min_ess(draws: dict[str, np.ndarray]) -> float:
    """Smallest ESS over all parameters; draws have shape (chain, draw, ...)."""
    from pyro.ops.stats import effective_sample_size

    out = []
    for value in draws.values():
        v = np.asarray(value, dtype=np.float64)
        v = v.reshape(v.shape[0], v.shape[1], -1)
        ess = effective_sample_size(torch.as_tensor(v), chain_dim=0, sample_dim=1)
        out.append(float(ess.min()))
    return min(out)


# ------------------------------------------------------------------ bayesreg
def run_bayesreg(X, y, known: bool, seed: int):
    from bayesreg import PyroBayesianLinear

    est = PyroBayesianLinear(
        inference="nuts",
        prior_std=1.0,
        noise_std=NOISE if known else None,
        n_warmup=WARMUP,
        n_draws=SAMPLES,
        n_chains=CHAINS,
        random_state=seed,
    )
    start = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - start
    mc = est._mcmc_draws
    draws = {
        k: v.reshape(CHAINS, SAMPLES, *v.shape[1:])
        for k, v in mc.items()
        if not (known and k == "noise_std")
    }
    return wall, draws


# -------------------------------------------------------------- plain Pyro
def run_pyro_jit(X, y, known: bool, seed: int):
    import pyro
    import pyro.distributions as dist
    from pyro.infer import MCMC, NUTS

    Xt = torch.as_tensor(X)
    yt = torch.as_tensor(y)

    def model(X, y):
        if known:
            s = torch.tensor(NOISE, dtype=X.dtype)
            w = pyro.sample("coef", dist.Normal(X.new_zeros(D), 1.0).to_event(1))
        else:
            s = pyro.sample(
                "noise_std", dist.LogNormal(X.new_zeros(()), 1.0).mask(False)
            )
            pyro.factor("jeffreys", -torch.log(s))
            w = pyro.sample("coef", dist.Normal(X.new_zeros(D), s).to_event(1))
        b = pyro.sample("intercept", dist.Normal(X.new_zeros(()), 1.0).mask(False))
        with pyro.plate("data", X.shape[0]):
            pyro.sample("obs", dist.Normal(b + X @ w, s), obs=y)

    pyro.set_rng_seed(seed)
    chains = []
    start = time.perf_counter()
    for _ in range(CHAINS):
        kernel = NUTS(model, jit_compile=True, ignore_jit_warnings=True)
        mcmc = MCMC(kernel, SAMPLES, warmup_steps=WARMUP, disable_progbar=True)
        mcmc.run(Xt, yt)
        chains.append({k: v.numpy() for k, v in mcmc.get_samples().items()})
    wall = time.perf_counter() - start
    return wall, {k: np.stack([c[k] for c in chains]) for k in chains[0]}


# ------------------------------------------------------------------ NumPyro
def run_numpyro(X, y, known: bool, seed: int):
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as ndist
    from numpyro.infer import MCMC, NUTS

    def model(X, y):
        if known:
            s = NOISE
            w = numpyro.sample("coef", ndist.Normal(jnp.zeros(D), 1.0).to_event(1))
        else:
            s = numpyro.sample(
                "noise_std", ndist.ImproperUniform(ndist.constraints.positive, (), ())
            )
            numpyro.factor("jeffreys", -jnp.log(s))
            w = numpyro.sample("coef", ndist.Normal(jnp.zeros(D), s).to_event(1))
        b = numpyro.sample(
            "intercept", ndist.ImproperUniform(ndist.constraints.real, (), ())
        )
        with numpyro.plate("data", X.shape[0]):
            numpyro.sample("obs", ndist.Normal(b + X @ w, s), obs=y)

    start = time.perf_counter()
    mcmc = MCMC(
        NUTS(model),
        num_warmup=WARMUP,
        num_samples=SAMPLES,
        num_chains=CHAINS,
        chain_method="sequential",
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed), jnp.asarray(X), jnp.asarray(y))
    samples = mcmc.get_samples(group_by_chain=True)
    draws = {k: np.asarray(v) for k, v in samples.items()}
    jax.block_until_ready(samples)
    wall = time.perf_counter() - start
    return wall, draws


# --------------------------------------------------------------- horseshoe
def horseshoe_data(seed: int = 0):
    """bench_models' sparse truth (n = 120, p = 150, 6 non-zero), standardised
    (centred, unit weighted spreads) as PyroBayesianLinear standardises it,
    so both samplers see one model on the same numbers."""
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    from bench_models import sparse_data

    d = sparse_data(seed)
    X, y = d["X"], d["y"]
    Xs = (X - X.mean(0)) / X.std(0)
    ys = (y - y.mean()) / y.std()
    return X, y, Xs, ys


def run_bayesreg_horseshoe(X, y, seed: int):
    """The fit's wall time, its draws, the estimator and the number of
    potential-and-gradient evaluations (leapfrog steps and step-size
    searches, warm-up included), counted at the target."""
    from bayesreg import PyroBayesianLinear
    from bayesreg.pyro._glm import CollapsedTarget

    est = PyroBayesianLinear(
        prior="horseshoe",
        inference="nuts",
        n_warmup=WARMUP,
        n_draws=SAMPLES,
        n_chains=CHAINS,
        random_state=seed,
    )
    value_and_grad, calls = CollapsedTarget.value_and_grad, [0]

    def counted(self, theta):
        calls[0] += 1
        return value_and_grad(self, theta)

    CollapsedTarget.value_and_grad = counted
    try:
        start = time.perf_counter()
        est.fit(X, y)
        wall = time.perf_counter() - start
    finally:
        CollapsedTarget.value_and_grad = value_and_grad
    coef = est._mcmc_draws["coef"] * X.std(0) / y.std()  # standardised units
    return wall, {"coef": coef.reshape(CHAINS, SAMPLES, -1)}, est, calls[0]


def run_numpyro_horseshoe(Xs, ys, seed: int, tau0: float):
    """The same regularised horseshoe, written as a NumPyro user would
    (non-centred coefficients, per-observation likelihood). Returns the
    wall time of the first run (compile included) and of a second run of
    the same MCMC object (compiled already), and the second run's draws."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as ndist
    from numpyro.infer import MCMC, NUTS

    p = Xs.shape[1]

    def model(X, y):
        s = numpyro.sample(
            "noise_std", ndist.ImproperUniform(ndist.constraints.positive, (), ())
        )
        numpyro.factor("jeffreys", -jnp.log(s))
        tau_u = numpyro.sample("global_scale", ndist.HalfCauchy(1.0))
        lam = numpyro.sample("local_scale", ndist.HalfCauchy(jnp.ones(p)))
        c2 = numpyro.sample("slab2", ndist.InverseGamma(2.0, 8.0))
        tau = tau0 * s * tau_u
        lt = jnp.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        z = numpyro.sample("z", ndist.Normal(jnp.zeros(p), 1.0))
        w = numpyro.deterministic("coef", tau * lt * z)
        b = numpyro.sample(
            "intercept", ndist.ImproperUniform(ndist.constraints.real, (), ())
        )
        numpyro.sample("obs", ndist.Normal(b + X @ w, s), obs=y)

    mcmc = MCMC(
        NUTS(model),
        num_warmup=WARMUP,
        num_samples=SAMPLES,
        num_chains=CHAINS,
        chain_method="sequential",
        progress_bar=False,
    )
    walls = []
    for k in range(2):
        start = time.perf_counter()
        mcmc.run(
            jax.random.PRNGKey(seed + k),
            jnp.asarray(Xs),
            jnp.asarray(ys),
            extra_fields=("diverging", "num_steps"),
        )
        samples = mcmc.get_samples(group_by_chain=True)
        jax.block_until_ready(samples)
        walls.append(time.perf_counter() - start)
    extra = mcmc.get_extra_fields()
    div = int(np.asarray(extra["diverging"]).sum())
    steps = float(np.asarray(extra["num_steps"]).mean())
    return walls, {"coef": np.asarray(samples["coef"])}, div, steps


def main_horseshoe(repeats: int) -> None:
    X, y, Xs, ys = horseshoe_data()
    n, p = Xs.shape
    tau0 = max(1.0, 0.1 * p) / (p - max(1.0, 0.1 * p)) / np.sqrt(n)
    rows = []
    for repeat in range(repeats):
        wall, draws, est, calls = run_bayesreg_horseshoe(X, y, seed=repeat)
        ess = min_ess(draws)
        div = est.diagnostics_["num_divergences"]
        steps = float(est._mcmc_stats["n_steps"].mean())
        rows.append(("bayesreg (collapsed)", wall, wall, ess, div, steps, calls))
        print("done:", rows[-1], flush=True)
        if have_numpyro():
            walls, draws, div, steps = run_numpyro_horseshoe(Xs, ys, repeat, tau0)
            ess = min_ess(draws)
            # warm-up transitions taken as long as the kept ones
            total = CHAINS * (WARMUP + SAMPLES) * steps
            rows.append(("NumPyro NUTS", walls[0], walls[1], ess, div, steps, total))
            print("done:", rows[-1], flush=True)
    print(
        f"regularised horseshoe, n={n}, p={p}, {CHAINS} chains x ({WARMUP} + "
        f"{SAMPLES}); min ESS over the coefficients; load average "
        f"{os.getloadavg()[0]:.1f}\n"
    )
    # leapfrogs: the mean of a kept draw; all of them (bayesreg: counted,
    # warm-up included; NumPyro: kept draws' mean x all transitions); ms per
    # leapfrog: the wall (compile out) over all of them
    print(
        "| method | repeat | wall, compile in (s) | wall, compile out (s) | "
        "min ESS | ESS/s (in) | ESS/s (out) | divergences | leapfrogs per "
        "draw | leapfrogs in all | ms per leapfrog |"
    )
    print("| --- " * 11 + "|")
    for i, (name, w_in, w_out, ess, div, steps, total) in enumerate(rows):
        rep = i // (2 if have_numpyro() else 1)
        print(
            f"| {name} | {rep} | {w_in:.1f} | {w_out:.1f} | {ess:,.0f} | "
            f"{ess / w_in:,.1f} | {ess / w_out:,.1f} | {div} | {steps:.1f} | "
            f"{total:,.0f} | {1e3 * w_out / total:.3f} |"
        )


def have_numpyro() -> bool:
    try:
        import numpyro  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--horseshoe", action="store_true", help="the regularised horseshoe row"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.horseshoe:
        main_horseshoe(args.repeats)
        return
    X, y = make_data()
    methods = {"bayesreg PyroBayesianLinear": run_bayesreg}
    if have_numpyro():
        methods["NumPyro NUTS"] = run_numpyro
    methods["Pyro NUTS, jit_compile=True"] = run_pyro_jit
    results: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    for repeat in range(args.repeats):
        for known in (True, False):
            for name, run in methods.items():
                wall, draws = run(X, y, known, seed=repeat)
                results.setdefault((name, known), []).append((wall, min_ess(draws)))

    import pyro

    versions = f"torch {torch.__version__}, pyro {pyro.__version__}"
    if have_numpyro():
        import jax
        import numpyro

        versions += f", numpyro {numpyro.__version__}, jax {jax.__version__}"
    else:
        versions += ", numpyro not installed"
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, one thread per method; {versions}; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    print(
        f"n={N}, d={D}, {CHAINS} chains x ({WARMUP} warm-up + {SAMPLES} draws), "
        f"median of {args.repeats} interleaved repeats\n"
    )
    print(
        "| noise | method | wall (s) | min ESS | ESS/s | ESS/s vs NumPyro "
        "| wall vs Pyro-JIT |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for known in (True, False):
        med = {}
        for name in methods:
            runs = results[(name, known)]
            wall = statistics.median(r[0] for r in runs)
            ess = statistics.median(r[1] for r in runs)
            med[name] = (wall, ess, ess / wall)
        ref = med.get("NumPyro NUTS")
        jit = med["Pyro NUTS, jit_compile=True"]
        for name, (wall, ess, rate) in med.items():
            vs_np = f"{rate / ref[2]:.2f}x" if ref else "n/a"
            print(
                f"| {'known' if known else 'learned'} | {name} | {wall:.1f} | "
                f"{ess:,.0f} | {rate:,.0f} | {vs_np} | {wall / jit[0]:.2f}x |"
            )


if __name__ == "__main__":
    main()
