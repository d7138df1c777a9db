"""NUTS: chains run one after the other, with Stan's per-draw statistics."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from pyro.infer import MCMC, NUTS
from pyro.ops.stats import effective_sample_size, split_gelman_rubin
from sklearn.exceptions import ConvergenceWarning

from ..utils._warnings import find_stack_level
from ._runtime import as_tensor, isolated_pyro, resolve_device

__all__ = ["SAMPLE_STATS", "MCMCResult", "run_nuts"]

#: convergence thresholds for MCMC (Vehtari et al. 2021 use 1.01 for final
#: inference; 1.05 flags chains that clearly have not mixed)
RHAT_MAX = 1.05
#: minimum effective sample size, as a fraction of the retained draws
ESS_MIN_FRACTION = 0.1


@dataclass
class MCMCResult:
    """What :func:`run_nuts` returns.

    ``samples`` maps each latent site to an array of shape
    (n_chains, n_draws, *site_shape); ``diagnostics`` holds, per site,
    ``r_hat`` and ``ess`` arrays, and overall ``max_r_hat``, ``min_ess``,
    ``num_divergences`` and ``acceptance_rate`` (per chain).
    ``sample_stats`` holds one value per kept transition, shape
    (n_chains, n_draws), under ArviZ's names (see :data:`SAMPLE_STATS`).
    """

    samples: dict[str, np.ndarray]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    sample_stats: dict[str, np.ndarray] = field(default_factory=dict)

    def pooled(self) -> dict[str, np.ndarray]:
        """Draws of all chains pooled, shape (n_chains * n_draws, ...)."""
        return {
            k: v.reshape((v.shape[0] * v.shape[1], *v.shape[2:]))
            for k, v in self.samples.items()
        }


#: per-transition statistics that :func:`run_nuts` records (ArviZ's names):
#: the divergence flag, the tree depth and number of leapfrog steps (Stan's
#: ``treedepth__`` and ``n_leapfrog__``), the step size, the mean Metropolis
#: acceptance probability over the trajectory and the log density (up to a
#: constant, in the sampler's unconstrained space) of the kept state.
SAMPLE_STATS = (
    "diverging",
    "tree_depth",
    "n_steps",
    "step_size",
    "acceptance_rate",
    "lp",
)


class _RecordingNUTS(NUTS):
    """NUTS that records, for each kept transition, Stan's per-draw statistics.

    Pyro's NUTS keeps only running totals (the mean acceptance probability,
    the indices of divergent transitions). The top-level subtrees of a
    transition, one per doubling, carry what the totals are made of: the
    number of leapfrog steps (``num_proposals``), the sum of their acceptance
    probabilities and whether the subtree turned or diverged. This kernel
    keeps the top-level subtrees of the current transition and, after it,
    records as Pyro's ``sample`` itself computes them: ``n_steps`` is the sum
    of the steps, ``acceptance_rate`` the summed probabilities over the steps,
    and ``tree_depth`` the number of doublings kept (the last subtree is
    rejected when it turned or diverged). ``lp`` is minus the potential
    energy of the state returned. Divergences are read from Pyro's own
    diagnostics by :func:`run_nuts`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nesting = 0
        self._subtrees: list = []
        self.final_diagnostics: dict = {}
        self.records: dict[str, list] = {
            k: []
            for k in ("tree_depth", "n_steps", "step_size", "acceptance_rate", "lp")
        }

    def _build_tree(self, *args, **kwargs):
        self._nesting += 1
        try:
            tree = super()._build_tree(*args, **kwargs)
        finally:
            self._nesting -= 1
        if self._nesting == 0:  # a doubling of the trajectory, not a recursion
            self._subtrees.append(tree)
        return tree

    def diagnostics(self):
        # Called by MCMC at the end of a chain, before cleanup() clears the
        # step counters it needs.
        self.final_diagnostics = super().diagnostics()
        return self.final_diagnostics

    def sample(self, params):
        self._subtrees = []
        z = super().sample(params)
        if self._t > self._warmup_steps:  # a kept (post-warm-up) transition
            trees = self._subtrees
            n_steps = sum(int(t.num_proposals) for t in trees)
            accept = sum(float(t.sum_accept_probs) for t in trees)
            rejected = bool(trees) and bool(trees[-1].turning or trees[-1].diverging)
            rec = self.records
            rec["n_steps"].append(n_steps)
            rec["tree_depth"].append(len(trees) - int(rejected))
            rec["acceptance_rate"].append(accept / n_steps if n_steps else math.nan)
            rec["step_size"].append(float(self.step_size))
            rec["lp"].append(-float(self._potential_energy_last))
        return z


#: fewest draws per chain for which split R-hat and the effective sample size
#: are defined (``pyro.ops.stats`` splits each chain in two halves of >= 2)
MIN_DRAWS_FOR_DIAGNOSTICS = 4


def _mcmc_diagnostics(samples: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Split R-hat and ESS per site, NaN with fewer than
    :data:`MIN_DRAWS_FOR_DIAGNOSTICS` draws per chain."""
    r_hat, ess = {}, {}
    for name, x in samples.items():
        if x.shape[1] < MIN_DRAWS_FOR_DIAGNOSTICS:
            r_hat[name] = ess[name] = np.full(x.shape[2:], np.nan)
            continue
        t = torch.as_tensor(x, dtype=torch.float64)
        r_hat[name] = split_gelman_rubin(t, chain_dim=0, sample_dim=1).numpy()
        ess[name] = effective_sample_size(t, chain_dim=0, sample_dim=1).numpy()
    all_r = np.concatenate([np.ravel(v) for v in r_hat.values()])
    all_e = np.concatenate([np.ravel(v) for v in ess.values()])
    return {
        "r_hat": r_hat,
        "ess": ess,
        "max_r_hat": float(np.nanmax(all_r)) if np.isfinite(all_r).any() else math.nan,
        "min_ess": float(np.nanmin(all_e)) if np.isfinite(all_e).any() else math.nan,
    }


def run_nuts(
    model: Callable | None,
    data: Sequence,
    *,
    seed: int,
    n_warmup: int = 500,
    n_draws: int = 500,
    n_chains: int = 2,
    full_mass: bool = False,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    init_loc_fn: Callable | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    n_threads: int | None = None,
    verbose: int = 0,
    potential_fn: Callable | None = None,
    initial_params: Callable[[], dict] | None = None,
    transform: Callable[[dict], dict] | None = None,
    adapt_mass_matrix: bool = True,
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> MCMCResult:
    """Sample the posterior of ``model`` (or of a potential) with NUTS.

    Chains run one after the other in this process (no worker processes, so
    the run is reproducible and picklability of the model is not needed),
    each from its own random initialisation (``init_to_uniform`` unless
    ``init_loc_fn`` is given). The model is called with the full data,
    ``idx = arange(n)``.

    With ``potential_fn`` (and ``model=None``) the sampler runs on that
    function of unconstrained parameters directly, ``U(params) = -log
    density``, with no model tracing per gradient: ``initial_params()``
    (called once per chain, inside the seeded random context) gives each
    chain's start, and ``transform`` maps one chain's draws (a dict of
    tensors with a leading draw axis) to the sites reported, on which the
    diagnostics are computed. ``adapt_mass_matrix=False`` keeps the
    identity mass matrix, for potentials already of unit scale.

    With ``value_and_grad`` (a NumPy function of the one flat site of
    ``initial_params``, returning the potential and its gradient) the
    chains run on :func:`._hmc.nuts_chain` instead of Pyro's kernel: the
    same transition and warm-up, without Pyro's per-step Python and
    autograd (a diagonal mass matrix only); its generator is seeded from
    ``seed`` through torch's isolated one.

    Nothing is compiled: Pyro's ``jit_compile`` traces the potential with
    ``torch.jit.trace``, whose graph stays in torch's global compilation unit
    for the life of the process (about 10 MiB a fit). No parameter store is
    used (a potential has no parameters; a model must declare none).

    With fewer than 4 draws per chain (:data:`MIN_DRAWS_FOR_DIAGNOSTICS`)
    split R-hat and the effective sample size are not defined: they are NaN,
    and a ConvergenceWarning says that convergence was not checked.

    Returns
    -------
    MCMCResult
        Draws of shape (n_chains, n_draws, ...) and diagnostics: split
        R-hat and effective sample size per site (``pyro.ops.stats``), the
        number of divergent transitions and the acceptance rate per chain;
        and the statistics of every kept transition (:data:`SAMPLE_STATS`),
        shape (n_chains, n_draws).

    Warns
    -----
    ConvergenceWarning
        When the largest R-hat exceeds ``RHAT_MAX`` (1.05), the smallest ESS is
        below ``ESS_MIN_FRACTION`` (10%) of the draws, transitions diverged,
        or ``n_draws`` is below 4 (nothing could be checked).
    """
    from pyro.infer.autoguide.initialization import init_to_uniform

    device = resolve_device(device)
    tensors = tuple(as_tensor(a, device, dtype) for a in data)
    n = int(tensors[0].shape[0])
    idx = torch.arange(n, device=device)
    chains: list[dict[str, torch.Tensor]] = []
    divergences, accept = [], []
    stats: dict[str, list[np.ndarray]] = {k: [] for k in SAMPLE_STATS}
    with isolated_pyro(seed, device, n_threads):
        for _chain in range(n_chains):
            options = dict(
                adapt_mass_matrix=adapt_mass_matrix,
                full_mass=full_mass,
                target_accept_prob=target_accept_prob,
                max_tree_depth=max_tree_depth,
            )
            if value_and_grad is not None:
                draws, chain_stats, n_div, rate = _lean_chain(
                    value_and_grad, initial_params(), n_warmup, n_draws, options
                )
                chains.append(draws if transform is None else transform(draws))
                divergences.append(n_div)
                accept.append(rate)
                for name, values in chain_stats.items():
                    stats[name].append(values)
                continue
            if potential_fn is None:
                kernel = _RecordingNUTS(
                    model,
                    jit_compile=False,
                    init_strategy=init_loc_fn or init_to_uniform,
                    **options,
                )
                start, run_args = None, (*tensors, idx)
            else:
                kernel = _RecordingNUTS(potential_fn=potential_fn, **options)
                start, run_args = initial_params(), ()
            mcmc = MCMC(
                kernel,
                num_samples=n_draws,
                warmup_steps=n_warmup,
                num_chains=1,
                initial_params=start,
                disable_progbar=verbose < 1,
            )
            mcmc.run(*run_args)
            draws = mcmc.get_samples()
            chains.append(draws if transform is None else transform(draws))
            # The kernel's own counts: MCMC.diagnostics() adds R-hat and
            # ESS per chain, which fail below 4 draws (and are recomputed on
            # all chains below).
            diag = kernel.final_diagnostics
            divergent = diag.get("divergences", [])
            divergences.append(len(divergent))
            accept.append(float(diag.get("acceptance rate", math.nan)))
            flags = np.zeros(n_draws, dtype=bool)
            flags[np.asarray(divergent, dtype=int)] = True
            stats["diverging"].append(flags)
            for name, values in kernel.records.items():
                stats[name].append(np.asarray(values))
    samples = {
        name: np.stack(
            [c[name].detach().to("cpu", torch.float64).numpy() for c in chains]
        )
        for name in chains[0]
    }
    diagnostics = _mcmc_diagnostics(samples)
    diagnostics["num_divergences"] = int(sum(divergences))
    diagnostics["acceptance_rate"] = np.asarray(accept)
    _warn_mcmc(diagnostics, n_chains, n_draws)
    return MCMCResult(samples, diagnostics, {k: np.stack(v) for k, v in stats.items()})


def _lean_chain(value_and_grad, start: dict, n_warmup, n_draws, options):
    """One chain of :func:`._hmc.nuts_chain` from ``start`` (one flat site),
    as ``run_nuts`` keeps it: draws, statistics, divergences, acceptance."""
    from ._hmc import nuts_chain

    if options["full_mass"] or len(start) != 1:
        raise ValueError("value_and_grad takes one flat site, diagonal mass")
    ((name, theta0),) = start.items()
    # the chain's generator, drawn from torch's isolated (seeded) one
    rng = np.random.default_rng(int(torch.randint(2**62, (1,)).item()))
    chain = nuts_chain(
        value_and_grad,
        theta0.detach().cpu().numpy().astype(float),
        rng,
        n_warmup=n_warmup,
        n_draws=n_draws,
        target_accept_prob=options["target_accept_prob"],
        max_tree_depth=options["max_tree_depth"],
        adapt_mass_matrix=options["adapt_mass_matrix"],
    )
    draws = {name: torch.as_tensor(chain.draws).to(theta0)}
    n_div = int(chain.stats["diverging"].sum())
    return draws, chain.stats, n_div, chain.accept_rate


def _warn_mcmc(diagnostics: Mapping[str, Any], n_chains: int, n_draws: int) -> None:
    problems = []
    if n_draws < MIN_DRAWS_FOR_DIAGNOSTICS:
        problems.append(
            "convergence was not checked: split R-hat and the effective sample "
            f"size need n_draws >= {MIN_DRAWS_FOR_DIAGNOSTICS} per chain (got "
            f"n_draws={n_draws}) and are NaN"
        )
    else:
        if not diagnostics["max_r_hat"] <= RHAT_MAX:
            problems.append(f"max R-hat {diagnostics['max_r_hat']:.3f} > {RHAT_MAX}")
        if not diagnostics["min_ess"] >= ESS_MIN_FRACTION * n_chains * n_draws:
            problems.append(
                f"min effective sample size {diagnostics['min_ess']:.0f} < "
                f"{ESS_MIN_FRACTION:.0%} of {n_chains * n_draws} draws"
            )
    if diagnostics["num_divergences"]:
        problems.append(f"{diagnostics['num_divergences']} divergent transitions")
    if problems:
        warnings.warn(
            "NUTS may not have converged: "
            + "; ".join(problems)
            + ". Increase n_warmup / n_draws or n_chains.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
