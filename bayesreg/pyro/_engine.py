"""One fitting engine for the Pyro estimators: SVI, NUTS and posterior draws.

The estimators in :mod:`bayesreg.pyro` are thin: they validate and scale the
data, write a Pyro model, and hand it to :func:`fit_svi` or :func:`run_nuts`.
Everything that makes a Pyro model behave like an ordinary scikit-learn
estimator lives here, once:

Isolation
    Every fit runs inside :func:`isolated_pyro`: a process-wide lock, a
    *private* Pyro parameter store (``ParamStore.scope``: the global store is
    emptied on entry and restored, tensor for tensor, on exit) and a forked,
    privately seeded torch generator. Fitting never reads or changes another
    model's parameters, and fitted state is returned as NumPy arrays, so a
    fitted estimator holds no Pyro objects at all.

Randomness
    Pyro draws from torch's *global* generator and offers no way to pass a
    private one. The engine therefore forks the global state
    (``torch.random.fork_rng``), seeds it from the estimator's
    ``random_state`` and restores the caller's state on exit. The lock makes
    this safe between bayesreg fits in different threads (they run one after
    the other, which also makes threaded fits equal to sequential ones); code
    in *other* threads that draws from torch's global generator during a
    bayesreg fit is not protected and can perturb that fit's
    reproducibility. Posterior draws after fitting use a NumPy ``Generator``
    and never touch torch's random state.

Model contract
    A model is a callable ``model(*data, idx)``: ``data`` are tensors whose
    first axis indexes the ``n`` training rows and ``idx`` is a ``LongTensor``
    of the rows in the current minibatch. The model must put its likelihood
    inside ``pyro.plate("data", n, subsample=idx)`` and read only the rows
    ``idx`` of the data, so that the ELBO is scaled by ``n / len(idx)``. The
    full data set is ``idx = arange(n)``. Models must create their tensors on
    the device of the data (e.g. ``X.new_tensor``) to run on CUDA.

Speed
    ``jit=True`` compiles the ELBO with ``JitTrace_ELBO`` (and the NUTS
    potential with ``jit_compile``). Minibatches have a fixed size (the
    remainder of an epoch's permutation is dropped, as
    ``DataLoader(drop_last=True)``), so one compiled graph serves every step.
    The training loop is a plain ``torch.optim.Adam`` loop over the guide's
    unconstrained leaf tensors: no per-step parameter-capture trace.

Warm starts
    :func:`fit_svi` returns an :class:`SVIState` (NumPy arrays and numbers:
    the guide's unconstrained parameters, Adam's moments, the step-size
    schedule and the early-stopping counters); passed back as ``init_state``
    it continues the optimisation exactly where it stopped, on the same or
    on other data, which is how the estimators' ``warm_start`` and
    ``partial_fit`` work.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyro
import torch
from pyro.infer import MCMC, NUTS, JitTrace_ELBO, Trace_ELBO
from pyro.infer.autoguide import (
    AutoDiagonalNormal,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
)
from pyro.infer.autoguide.initialization import init_to_feasible
from pyro.ops.stats import effective_sample_size, split_gelman_rubin
from sklearn.exceptions import ConvergenceWarning
from torch.distributions import biject_to

__all__ = [
    "GUIDES",
    "SAMPLE_STATS",
    "GaussianPosterior",
    "MCMCResult",
    "SVIResult",
    "SVIState",
    "batched_forward",
    "fit_svi",
    "isolated_pyro",
    "resolve_device",
    "run_nuts",
    "seed_from",
]

#: guide names accepted by :func:`fit_svi`
GUIDES = ("diagonal", "multivariate", "lowrank")

#: convergence thresholds for MCMC (Vehtari et al. 2021 use 1.01 for final
#: inference; 1.05 flags chains that clearly have not mixed)
RHAT_MAX = 1.05
#: minimum effective sample size, as a fraction of the retained draws
ESS_MIN_FRACTION = 0.1

# Serialises every bayesreg fit in the process: Pyro's effect-handler stack,
# its parameter store and torch's global generator are process-wide.
_FIT_LOCK = threading.RLock()


# --------------------------------------------------------------------- set-up
def resolve_device(device: str | torch.device) -> torch.device:
    """Map ``"cpu" | "cuda" | "auto"`` (or a torch device) to a torch device.

    ``"auto"`` picks CUDA when available. Asking for CUDA without it is an
    error that says so.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        resolved = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device='cuda' was requested but torch reports no CUDA device; "
            "use device='cpu' or device='auto'."
        )
    return resolved


def seed_from(rng: np.random.Generator) -> int:
    """A 63-bit torch seed drawn from a NumPy generator."""
    return int(rng.integers(0, 2**63 - 1))


@contextmanager
def isolated_pyro(
    seed: int, device: torch.device | None = None, num_threads: int | None = None
) -> Iterator[dict]:
    """Run Pyro code with a private param store and a privately seeded RNG.

    On entry the process-wide lock is taken, torch's global generator (and
    that of ``device`` when it is a CUDA device) is forked and seeded with
    ``seed``, and Pyro's global parameter store is swapped for an empty one.
    ``num_threads`` (if given) temporarily sets torch's intra-op thread count:
    small models run fastest on one thread, and much faster than on several
    when the cores are shared. On exit all of these are restored exactly.
    Yields the private store's state dict (filled on exit).
    """
    cuda = device is not None and device.type == "cuda"
    cuda_index = (
        (device.index if device.index is not None else torch.cuda.current_device())
        if cuda
        else None
    )
    with _FIT_LOCK:
        with torch.random.fork_rng(devices=[cuda_index] if cuda else []):
            # Seed only the generators that were forked: torch.manual_seed
            # would also reseed every other CUDA device.
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(cuda_index):
                    torch.cuda.manual_seed(seed)
            old_threads = torch.get_num_threads()
            if num_threads is not None:
                torch.set_num_threads(num_threads)
            try:
                with pyro.get_param_store().scope() as state:
                    yield state
            finally:
                if num_threads is not None:
                    torch.set_num_threads(old_threads)


def _as_tensor(a, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    t = torch.as_tensor(np.ascontiguousarray(a))
    return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)


# ------------------------------------------------------------------ posterior
@dataclass(frozen=True)
class _Site:
    name: str
    shape: tuple[int, ...]
    unconstrained_shape: tuple[int, ...]
    support: Any  # a torch constraint; biject_to(support) maps R^k onto it

    @property
    def size(self) -> int:
        return math.prod(self.unconstrained_shape)


@dataclass
class GaussianPosterior:
    """A Gaussian over the packed unconstrained latents, as NumPy arrays.

    This is what an ``AutoContinuous`` guide has learned, detached from Pyro:
    ``z = loc + L e`` in the unconstrained space, then each site is cut out of
    ``z`` and mapped onto its support. Exactly one of ``scale`` (diagonal),
    ``scale_tril`` (full) or ``cov_factor`` with ``cov_diag`` (low rank) is
    set. Sampling uses a NumPy generator only.
    """

    sites: tuple[_Site, ...]
    loc: np.ndarray
    scale: np.ndarray | None = None
    scale_tril: np.ndarray | None = None
    cov_factor: np.ndarray | None = None
    cov_diag: np.ndarray | None = None

    @property
    def site_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sites)

    def covariance(self) -> np.ndarray:
        """Covariance of the unconstrained latents, shape (D, D)."""
        if self.scale is not None:
            return np.diag(self.scale**2)
        if self.scale_tril is not None:
            return self.scale_tril @ self.scale_tril.T
        return self.cov_factor @ self.cov_factor.T + np.diag(self.cov_diag)

    def sample_unconstrained(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draws of the packed unconstrained latents, shape (n, D)."""
        e = rng.standard_normal((n, self.loc.shape[0]))
        if self.scale is not None:
            return self.loc + e * self.scale
        if self.scale_tril is not None:
            return self.loc + e @ self.scale_tril.T
        e_low = rng.standard_normal((n, self.cov_factor.shape[1]))
        return self.loc + e_low @ self.cov_factor.T + e * np.sqrt(self.cov_diag)

    def unpack(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Cut packed latents (n, D) into sites mapped onto their supports."""
        out, pos = {}, 0
        for site in self.sites:
            u = z[:, pos : pos + site.size].reshape(
                (z.shape[0], *site.unconstrained_shape)
            )
            pos += site.size
            value = biject_to(site.support)(torch.from_numpy(np.ascontiguousarray(u)))
            out[site.name] = value.numpy().reshape((z.shape[0], *site.shape))
        return out

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` posterior draws of every latent site, on their supports."""
        return self.unpack(self.sample_unconstrained(n, rng))

    def mean_unconstrained(self) -> dict[str, np.ndarray]:
        """The guide's location, cut into sites (unconstrained space)."""
        out, pos = {}, 0
        for site in self.sites:
            out[site.name] = self.loc[pos : pos + site.size].reshape(
                site.unconstrained_shape
            )
            pos += site.size
        return out


@dataclass(frozen=True)
class SVIState:
    """Everything an SVI fit needs to continue where it stopped, as NumPy.

    Dictionaries are keyed by the guide's parameter-store names. ``params``
    are the guide's *unconstrained* parameters at the last iterate (before
    Polyak averaging replaced them for the export); ``exp_avg``,
    ``exp_avg_sq`` and ``step`` are Adam's moments and step counts. ``lr``,
    ``decays`` and ``averaging`` give the position in the step-size schedule,
    with ``avg`` and ``n_avg`` the running Polyak average; ``smoothed``,
    ``best`` and ``no_improvement`` are the early-stopping counters;
    ``n_epochs`` and ``n_steps`` count every epoch and step of the sequence of
    fits. Holds no torch objects, so an estimator keeping it pickles anywhere.
    """

    params: dict[str, np.ndarray]
    exp_avg: dict[str, np.ndarray]
    exp_avg_sq: dict[str, np.ndarray]
    step: dict[str, np.ndarray]
    lr: float
    decays: int
    averaging: bool
    avg: dict[str, np.ndarray] | None
    n_avg: int
    smoothed: float
    best: float
    no_improvement: int
    n_epochs: int
    n_steps: int


@dataclass
class SVIResult:
    """What :func:`fit_svi` returns: the posterior and the optimisation trace.

    ``state`` continues the fit (``fit_svi(..., init_state=result.state)``).
    """

    posterior: GaussianPosterior
    loss_curve: list[float]
    n_iter: int
    converged: bool
    learning_rate: float
    state: SVIState | None = None


@dataclass
class MCMCResult:
    """What :func:`run_nuts` returns.

    ``samples`` maps each latent site to an array of shape
    (num_chains, num_samples, *site_shape); ``diagnostics`` holds, per site,
    ``r_hat`` and ``ess`` arrays, and overall ``max_r_hat``, ``min_ess``,
    ``num_divergences`` and ``acceptance_rate`` (per chain).
    ``sample_stats`` holds one value per kept transition, shape
    (num_chains, num_samples), under ArviZ's names (see :data:`SAMPLE_STATS`).
    """

    samples: dict[str, np.ndarray]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    sample_stats: dict[str, np.ndarray] = field(default_factory=dict)

    def pooled(self) -> dict[str, np.ndarray]:
        """Draws of all chains pooled, shape (num_chains * num_samples, ...)."""
        return {
            k: v.reshape((v.shape[0] * v.shape[1], *v.shape[2:]))
            for k, v in self.samples.items()
        }


# ------------------------------------------------------------------------ SVI
def _make_guide(model, kind: str, init_loc_fn, init_scale: float, rank: int | None):
    if kind == "diagonal":
        return AutoDiagonalNormal(model, init_loc_fn=init_loc_fn, init_scale=init_scale)
    if kind == "multivariate":
        return AutoMultivariateNormal(
            model, init_loc_fn=init_loc_fn, init_scale=init_scale
        )
    if kind == "lowrank":
        return AutoLowRankMultivariateNormal(
            model, init_loc_fn=init_loc_fn, init_scale=init_scale, rank=rank
        )
    raise ValueError(f"guide must be one of {GUIDES}, got {kind!r}.")


def _export_guide(guide) -> GaussianPosterior:
    """Detach an AutoContinuous guide's Gaussian into NumPy arrays."""
    sites = []
    for name, site in guide.prototype_trace.iter_stochastic_nodes():
        value = site["value"].detach()
        support = site["fn"].support
        u_shape = tuple(biject_to(support).inv(value).shape)
        sites.append(_Site(name, tuple(value.shape), u_shape, support))

    def arr(t):
        return t.detach().to("cpu", torch.float64).numpy().copy()

    with torch.no_grad():
        q = guide.get_posterior()
        if isinstance(q, torch.distributions.MultivariateNormal):
            post = GaussianPosterior(
                tuple(sites), arr(q.loc), scale_tril=arr(q.scale_tril)
            )
        elif isinstance(q, torch.distributions.LowRankMultivariateNormal):
            post = GaussianPosterior(
                tuple(sites),
                arr(q.loc),
                cov_factor=arr(q.cov_factor),
                cov_diag=arr(q.cov_diag),
            )
        else:  # Independent(Normal)
            post = GaussianPosterior(
                tuple(sites), arr(q.base_dist.loc), scale=arr(q.base_dist.scale)
            )
    if sum(s.size for s in sites) != post.loc.shape[0]:  # pragma: no cover
        raise RuntimeError("guide layout does not match its location vector.")
    return post


def _adam(params, lr: float) -> torch.optim.Adam:
    """Adam, with the fused kernel where this torch has it for these tensors
    (CPU since torch 2.4): one kernel per step instead of a dozen small ops."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)


class _Step:
    """One SVI gradient: the ELBO's ``loss_and_grads`` (loss as a float)."""

    def __init__(self, elbo, model, guide):
        self.elbo, self.model, self.guide = elbo, model, guide

    def __call__(self, *args) -> float:
        return self.elbo.loss_and_grads(self.model, self.guide, *args)


class _CompiledStep(_Step):
    """``JitTrace_ELBO.loss_and_grads`` without its per-call plumbing.

    The first call compiles the ELBO through Pyro (``pyro.ops.jit``), which
    traces model and guide into one TorchScript graph taking the guide's
    unconstrained parameters and the data. Pyro then looks the parameters
    up by name, hashes the arguments and wraps the graph in two effect
    handlers at every call, about 0.2-0.5 ms; the graph itself takes the
    same tensors every step (Adam updates them in place). Later calls
    therefore run the graph directly: the same operations, in the same
    order, drawing the same random numbers, so the fit is bit-identical.
    """

    def __init__(self, elbo, model, guide):
        super().__init__(elbo, model, guide)
        self.graph = None

    def __call__(self, *args) -> float:
        if self.graph is None:
            loss = super().__call__(*args)
            compiled = getattr(self.elbo, "_loss_and_surrogate_loss", None)
            graphs = getattr(compiled, "compiled", {})
            if len(graphs) == 1:
                (graph,) = graphs.values()
                params = tuple(
                    pyro.param(name).unconstrained() for name in compiled._param_names
                )
                self.graph = (graph, params)
            return loss
        graph, params = self.graph
        loss, surrogate = graph(*params, *args)
        surrogate.backward()
        return loss.item()


def _diverged(where: str, value: float, learning_rate: float) -> FloatingPointError:
    return FloatingPointError(
        f"The ELBO became {value} at {where}: the optimisation diverged. "
        f"Lower learning_rate_init (currently {learning_rate:g}), or check the "
        "data for extreme values."
    )


def fit_svi(
    model: Callable,
    data: Sequence,
    *,
    seed: int,
    guide: str = "diagonal",
    learning_rate_init: float = 1e-2,
    max_iter: int = 1000,
    batch_size: int | None = None,
    tol: float = 1e-4,
    n_iter_no_change: int = 10,
    n_lr_decays: int = 0,
    lr_decay_factor: float = 0.2,
    smoothing: float = 0.9,
    polyak: bool = True,
    num_particles: int = 1,
    jit: bool = False,
    init_loc_fn: Callable = init_to_feasible,
    init_scale: float = 0.1,
    rank: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    num_threads: int | None = None,
    verbose: int = 0,
    desc: str = "SVI",
    n_rows: float | None = None,
    init_state: SVIState | None = None,
    warn: bool = True,
) -> SVIResult:
    """Fit an autoguide to ``model`` by stochastic variational inference.

    Parameters
    ----------
    model : callable
        ``model(*data, idx)``; see the module docstring for the contract.
    data : sequence of array-like
        Arrays whose first axis has the ``n`` training rows (NumPy arrays or
        tensors; moved to ``device``, floats cast to ``dtype``).
    seed : int
        Seed of the private torch generator (see :func:`isolated_pyro`).
    guide : {"diagonal", "multivariate", "lowrank"}
        ``AutoDiagonalNormal``, ``AutoMultivariateNormal`` or
        ``AutoLowRankMultivariateNormal`` (``rank`` defaults to sqrt(D)).
    learning_rate_init : float
        Adam's step size.
    max_iter : int
        Maximum number of epochs (passes over the data).
    batch_size : int or None
        Rows per gradient step; ``None`` or ``>= n`` is full batch. Each epoch
        is a fresh permutation cut into ``n // batch_size`` equal batches.
    tol, n_iter_no_change : float, int
        Early stopping as in ``MLPRegressor``: the smoothed per-row negative
        ELBO has to fall by ``tol`` within ``n_iter_no_change`` epochs.
    n_lr_decays, lr_decay_factor : int, float
        On each plateau the step size is multiplied by ``lr_decay_factor``,
        up to ``n_lr_decays`` times, before the fit stops (0: stop at the
        first plateau). Small final steps remove the optimiser's jitter from
        the variational parameters.
    smoothing : float
        Weight of the past in the exponential moving average of epoch losses.
    num_particles : int
        ELBO particles per step (vectorised).
    jit : bool
        Use ``JitTrace_ELBO``. The model must then be traceable (no
        data-dependent Python control flow).
    init_loc_fn, init_scale, rank
        Passed to the autoguide.
    device, dtype
        Where and in which precision to compute.
    num_threads : int or None
        torch intra-op threads during the fit (see :func:`isolated_pyro`).
    verbose : int
        ``>= 1`` shows a tqdm progress bar with the current ELBO.
    desc : str
        Progress bar label.
    n_rows : float or None
        Number of training rows that the loss is normalised by (the
        ``loss_curve`` is per row, and ``tol`` is per row). ``None``: the
        first axis of ``data``. A model written on sufficient statistics
        (whose data have no row axis) passes the (weighted) row count; it
        must then be fitted full batch.
    init_state : SVIState or None
        Continue a fit: ``SVIResult.state`` of an earlier fit of the same
        model and guide (the data may differ). After the guide is created its
        parameters are overwritten with the saved ones, Adam's moments, the
        step-size schedule (``learning_rate_init`` is then unused) and the
        early-stopping counters are restored, so the first step continues
        exactly where the last one stopped. The torch generator is then
        seeded from ``(seed, state.n_steps)``: a continued fit does not
        replay the random stream of the fit it continues, and a sequence of
        fits is reproducible given the same seeds and calls. ``None``: start
        afresh.
    warn : bool
        Warn with a ConvergenceWarning when ``max_iter`` is reached before
        the early-stopping rule stops the fit (``False`` for incremental fits
        that run a fixed number of epochs by design).

    Returns
    -------
    SVIResult
        ``loss_curve`` holds the mean negative ELBO per training row of each
        epoch of this call, ``n_iter`` counts them, and ``state`` continues
        the fit.

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite; the message names
        ``learning_rate_init``.
    ValueError
        If ``init_state`` does not hold the guide's parameters (names and
        shapes).
    """
    from tqdm.auto import tqdm

    device = resolve_device(device)
    tensors = tuple(_as_tensor(a, device, dtype) for a in data)
    n = int(tensors[0].shape[0])
    bs = n if batch_size is None or batch_size >= n else int(batch_size)
    steps_per_epoch = n // bs
    full_idx = torch.arange(n, device=device)

    elbo_cls = JitTrace_ELBO if jit else Trace_ELBO
    elbo_kwargs: dict[str, Any] = {"num_particles": num_particles}
    if num_particles > 1:
        elbo_kwargs.update(vectorize_particles=True, max_plate_nesting=1)
    if jit:
        elbo_kwargs["ignore_jit_warnings"] = True
    elbo = elbo_cls(**elbo_kwargs)

    per_row = float(n if n_rows is None else n_rows)
    loss_curve: list[float] = []
    lr = float(learning_rate_init if init_state is None else init_state.lr)
    converged = False
    epoch = epochs_before = steps_before = 0
    if init_state is not None:
        epochs_before, steps_before = init_state.n_epochs, init_state.n_steps
        seed = _continued_seed(seed, steps_before)
    with isolated_pyro(seed, device, num_threads):
        auto = _make_guide(model, guide, init_loc_fn, init_scale, rank)
        first_idx = full_idx[:bs]
        auto(*tensors, first_idx)  # create the guide's parameters
        names, params = zip(*pyro.get_param_store().named_parameters(), strict=True)
        params = list(params)
        optim = _adam(params, lr)
        step_fn = _CompiledStep(elbo, model, auto) if jit else _Step(elbo, model, auto)
        if init_state is None:
            best = smoothed = math.inf
            no_improvement = decays = 0
            # Polyak averaging of the iterates of the last learning-rate phase.
            averaging = polyak and n_lr_decays == 0
            avg = [p.detach().clone() for p in params] if averaging else None
            n_avg = 1
        else:
            avg = _restore_state(init_state, names, params, optim)
            best, smoothed = init_state.best, init_state.smoothed
            no_improvement, decays = init_state.no_improvement, init_state.decays
            averaging = polyak and avg is not None
            n_avg = init_state.n_avg
        with tqdm(total=max_iter, disable=verbose < 1, desc=desc) as bar:
            for epoch in range(1, max_iter + 1):
                if bs < n:
                    perm = torch.randperm(n, device=device)
                total = 0.0
                for step in range(steps_per_epoch):
                    idx = full_idx if bs == n else perm[step * bs : (step + 1) * bs]
                    try:
                        loss = step_fn(*tensors, idx)
                    except ValueError as err:
                        # After a first good step, a distribution's argument
                        # check failing (a NaN or infinite scale) means the
                        # last step left the region where the model is finite.
                        if epoch == 1 and step == 0:
                            raise
                        where = f"epoch {epoch}, step {step + 1}"
                        raise _diverged(where, math.nan, lr) from err
                    if not math.isfinite(loss):
                        raise _diverged(f"epoch {epoch}, step {step + 1}", loss, lr)
                    optim.step()
                    optim.zero_grad(set_to_none=True)
                    total += loss
                    if averaging:
                        n_avg += 1
                        with torch.no_grad():
                            torch._foreach_lerp_(avg, params, 1.0 / n_avg)
                epoch_loss = total / (steps_per_epoch * per_row)
                loss_curve.append(epoch_loss)
                if verbose:
                    bar.set_postfix(elbo=f"{-epoch_loss * per_row:.4g}", refresh=False)
                    bar.update()
                # Early stopping on the smoothed loss (MLPRegressor's rule).
                smoothed = (
                    epoch_loss
                    if epochs_before + epoch == 1
                    else smoothing * smoothed + (1.0 - smoothing) * epoch_loss
                )
                if smoothed > best - tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                best = min(best, smoothed)
                if no_improvement >= n_iter_no_change:
                    if decays >= n_lr_decays:
                        converged = True
                        break
                    decays += 1
                    lr *= lr_decay_factor
                    for group in optim.param_groups:
                        group["lr"] = lr
                    no_improvement = 0
                    best = smoothed
                    if polyak and decays == n_lr_decays:
                        averaging = True
                        avg = [p.detach().clone() for p in params]
                        n_avg = 1
        adam = {k: optim.state[p] for k, p in zip(names, params, strict=True)}
        state = SVIState(
            params={k: _numpy(p) for k, p in zip(names, params, strict=True)},
            exp_avg={k: _numpy(a["exp_avg"]) for k, a in adam.items()},
            exp_avg_sq={k: _numpy(a["exp_avg_sq"]) for k, a in adam.items()},
            step={k: _numpy(a["step"]) for k, a in adam.items()},
            lr=lr,
            decays=decays,
            averaging=averaging,
            avg=dict(zip(names, map(_numpy, avg), strict=True)) if averaging else None,
            n_avg=n_avg,
            smoothed=smoothed,
            best=best,
            no_improvement=no_improvement,
            n_epochs=epochs_before + epoch,
            n_steps=steps_before + epoch * steps_per_epoch,
        )
        if averaging:
            with torch.no_grad():
                for p, a in zip(params, avg, strict=False):
                    p.copy_(a)
        if not all(bool(torch.isfinite(p).all()) for p in params):
            raise _diverged("the end of the fit (parameters)", math.nan, lr)
        posterior = _export_guide(auto)
    if warn and not converged:
        warnings.warn(
            f"SVI reached max_iter={max_iter} epochs before the smoothed ELBO "
            "stopped improving; increase max_iter or learning_rate_init.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return SVIResult(posterior, loss_curve, epoch, converged, lr, state)


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy copy of a tensor, in its own dtype (so a restore is exact)."""
    return t.detach().to("cpu").numpy().copy()


def _continued_seed(seed: int, n_steps: int) -> int:
    """The torch seed of a fit continuing, after ``n_steps`` steps, one seeded by
    ``seed``: a fresh stream, so repeated short fits never replay the same
    minibatches and ELBO noise."""
    entropy = np.random.SeedSequence([seed, n_steps]).generate_state(1, np.uint64)
    return int(entropy[0] >> np.uint64(1))


def _restore_state(state: SVIState, names, params, optim) -> list | None:
    """Overwrite the guide's parameters and Adam's state with ``state``.

    Returns the running Polyak average as tensors (``None`` if not averaging).
    Every tensor is a copy: the continued fit never writes into ``state``.
    """
    have = {k: tuple(p.shape) for k, p in zip(names, params, strict=True)}
    saved = {k: tuple(v.shape) for k, v in state.params.items()}
    if have != saved:
        raise ValueError(
            f"init_state holds the parameters {saved} but the guide has {have}: "
            "only a fit of the same model and guide can be continued."
        )

    def like(a: np.ndarray, p: torch.Tensor) -> torch.Tensor:
        return torch.tensor(a, dtype=p.dtype, device=p.device)

    with torch.no_grad():
        for k, p in zip(names, params, strict=True):
            p.copy_(like(state.params[k], p))
    saved_optim = optim.state_dict()
    saved_optim["state"] = {
        i: {
            "step": torch.tensor(state.step[k]),  # its own dtype, on the CPU
            "exp_avg": like(state.exp_avg[k], p),
            "exp_avg_sq": like(state.exp_avg_sq[k], p),
        }
        for i, (k, p) in enumerate(zip(names, params, strict=True))
    }
    optim.load_state_dict(saved_optim)
    if not state.averaging or state.avg is None:
        return None
    return [like(state.avg[k], p) for k, p in zip(names, params, strict=True)]


# ----------------------------------------------------------------------- NUTS
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


def _mcmc_diagnostics(samples: Mapping[str, np.ndarray]) -> dict[str, Any]:
    r_hat, ess = {}, {}
    for name, x in samples.items():
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
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 2,
    jit: bool = True,
    full_mass: bool = False,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    init_loc_fn: Callable | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    num_threads: int | None = None,
    verbose: int = 0,
    potential_fn: Callable | None = None,
    initial_params: Callable[[], dict] | None = None,
    transform: Callable[[dict], dict] | None = None,
    adapt_mass_matrix: bool = True,
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

    Returns
    -------
    MCMCResult
        Draws of shape (num_chains, num_samples, ...) and diagnostics: split
        R-hat and effective sample size per site (``pyro.ops.stats``), the
        number of divergent transitions and the acceptance rate per chain;
        and the statistics of every kept transition (:data:`SAMPLE_STATS`),
        shape (num_chains, num_samples).

    Warns
    -----
    ConvergenceWarning
        When the largest R-hat exceeds ``RHAT_MAX`` (1.05), the smallest ESS is
        below ``ESS_MIN_FRACTION`` (10%) of the draws, or transitions diverged.
    """
    from pyro.infer.autoguide.initialization import init_to_uniform

    device = resolve_device(device)
    tensors = tuple(_as_tensor(a, device, dtype) for a in data)
    n = int(tensors[0].shape[0])
    idx = torch.arange(n, device=device)
    chains: list[dict[str, torch.Tensor]] = []
    divergences, accept = [], []
    stats: dict[str, list[np.ndarray]] = {k: [] for k in SAMPLE_STATS}
    with isolated_pyro(seed, device, num_threads):
        for _chain in range(num_chains):
            options = dict(
                adapt_mass_matrix=adapt_mass_matrix,
                full_mass=full_mass,
                target_accept_prob=target_accept_prob,
                max_tree_depth=max_tree_depth,
            )
            if potential_fn is None:
                kernel = _RecordingNUTS(
                    model,
                    jit_compile=jit,
                    ignore_jit_warnings=True,
                    init_strategy=init_loc_fn or init_to_uniform,
                    **options,
                )
                start, run_args = None, (*tensors, idx)
            else:
                kernel = _RecordingNUTS(potential_fn=potential_fn, **options)
                start, run_args = initial_params(), ()
            mcmc = MCMC(
                kernel,
                num_samples=num_samples,
                warmup_steps=num_warmup,
                num_chains=1,
                initial_params=start,
                disable_progbar=verbose < 1,
            )
            mcmc.run(*run_args)
            draws = mcmc.get_samples()
            chains.append(draws if transform is None else transform(draws))
            diag = mcmc.diagnostics()
            divergent = diag.get("divergences", {}).get("chain 0", [])
            divergences.append(len(divergent))
            accept.append(
                float(diag.get("acceptance rate", {}).get("chain 0", math.nan))
            )
            flags = np.zeros(num_samples, dtype=bool)
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
    _warn_mcmc(diagnostics, num_chains * num_samples)
    return MCMCResult(samples, diagnostics, {k: np.stack(v) for k, v in stats.items()})


def _warn_mcmc(diagnostics: Mapping[str, Any], n_draws: int) -> None:
    problems = []
    if not diagnostics["max_r_hat"] <= RHAT_MAX:
        problems.append(f"max R-hat {diagnostics['max_r_hat']:.3f} > {RHAT_MAX}")
    if not diagnostics["min_ess"] >= ESS_MIN_FRACTION * n_draws:
        problems.append(
            f"min effective sample size {diagnostics['min_ess']:.0f} < "
            f"{ESS_MIN_FRACTION:.0%} of {n_draws} draws"
        )
    if diagnostics["num_divergences"]:
        problems.append(f"{diagnostics['num_divergences']} divergent transitions")
    if problems:
        warnings.warn(
            "NUTS may not have converged: "
            + "; ".join(problems)
            + ". Increase num_warmup / num_samples or num_chains.",
            ConvergenceWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------- prediction
def batched_forward(
    forward: Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor],
    X: np.ndarray,
    params: Mapping[str, np.ndarray],
    *,
    batch_size: int = 4096,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """Evaluate ``forward`` for every posterior draw, in batches of rows of X.

    ``forward(x, params)`` receives a batch ``x`` of shape (b, d) and the
    draws ``params`` (each with a leading axis of S draws) and returns the
    regression function of every draw at every row, shape (S, b). The result
    is (n, S), the ``locs`` of a :class:`~bayesreg.distributions.NormalMixture`.
    No gradients, no randomness.
    """
    device = resolve_device(device)
    p = {k: _as_tensor(v, device, dtype) for k, v in params.items()}
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            xb = _as_tensor(X[start : start + batch_size], device, dtype)
            out.append(forward(xb, p).to("cpu", torch.float64).numpy().T)
    return np.concatenate(out, axis=0) if out else np.empty((0, 0))
