"""Stochastic variational inference: an autoguide fitted by a fast Adam loop.

A model is a callable ``model(*data, idx)``: ``data`` are tensors whose first
axis indexes the ``n`` training rows and ``idx`` is a ``LongTensor`` of the
rows in the current minibatch. The model must put its likelihood inside
``pyro.plate("data", n, subsample=idx)`` and read only the rows ``idx`` of the
data, so that the ELBO is scaled by ``n / len(idx)``. The full data set is
``idx = arange(n)``. Models must create their tensors on the device of the
data (e.g. ``X.new_tensor``) to run on CUDA.

A model may also offer its log density in torch: a method
``model.log_density(*data)`` returning a function ``log_p(latent, idx)``,
where ``latent`` maps each latent site to its *unconstrained* value (the
guide's coordinates, ``biject_to(site support)``; any leading batch shape)
and ``log_p`` is the sum over the model's sites, the likelihood of the rows
``idx`` scaled by ``n / len(idx)``, plus each site's log-Jacobian
``log |d value / d unconstrained|``: the value the model contributes to
``Trace_ELBO``, plus the Jacobian that the guide's sites carry there. The
step then runs the engine's own ELBO (:mod:`~bayesreg.pyro._elbo`).

The fit is in parts, as NumPyro's ``SVI.init`` / ``update`` / ``run``:

- :func:`setup` gathers what a fit does not change (:class:`SVIProblem`:
  the model, its data as tensors, the guide's and the minibatches' options);
- :func:`init` creates the guide and Adam (or restores them from an
  :class:`SVIState`) and returns an :class:`SVICarry`, the live position;
- :func:`step` takes one gradient step on a minibatch and returns the next
  carry and the loss; :func:`end_epoch` hands an epoch's loss to the
  :class:`~bayesreg.pyro._schedule.Schedule` (stop, step-size decay, start
  of the Polyak average);
- :func:`run` is the loop: the minibatches (each epoch a fresh permutation
  cut into ``n // batch_size`` equal batches, the remainder dropped, as
  ``DataLoader(drop_last=True)``), the divergence checks, the epoch losses
  and the schedule;
- a fit may *hold* some coordinates of the guide's latent vector (their
  location and spread) at their initial values until the schedule's first
  plateau: a warm-up in which those coordinates do not move (their
  gradients are zeroed before Adam's step, so Adam's moments stay at zero
  and nothing of the warm-up leaks into them);
- :func:`checkpoint` writes the position as an :class:`SVIState` (NumPy),
  and :func:`export` the guide, with the Polyak average in place of the
  last iterate, as a :class:`~bayesreg.pyro._posterior.GaussianPosterior`.

:func:`fit_svi` is their composition. Its :class:`SVIState`, passed back as
``init_state``, continues the optimisation exactly where it stopped, on the
same or on other data, which is how the estimators' ``warm_start`` and
``partial_fit`` work; it holds no torch objects, so it pickles anywhere.

A carry is immutable from the caller's view: ``step`` and ``end_epoch``
return a new carry and *spend* the one they were given (its tensors are
advanced in place, as torch's fused Adam does, so a step copies nothing),
and a spent carry is refused by every function here rather than read at
a later position. To branch a fit, take a :func:`checkpoint` and
:func:`init` from it. Steps run inside :func:`session` (the isolation of
:func:`~bayesreg.pyro._runtime.isolated_pyro`, continuing the carry's own
torch random stream), so ``run`` on a carry that an earlier ``run``
returned continues exactly as one uninterrupted run, minibatches and
ELBO draws included.

The guide's parameters live in the guide, never in Pyro's global param
store: :func:`_init_guide` creates them outside ``PyroModule.__call__`` (the
context that routes a ``PyroModule``'s parameters to the global store), and
Pyro's ELBO calls the guide's ``forward`` directly, which reads them there.
Nothing is compiled.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import torch
from pyro.infer.autoguide import (
    AutoDiagonalNormal,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
)
from pyro.infer.autoguide.initialization import init_to_feasible
from sklearn.exceptions import ConvergenceWarning

from ..utils._warnings import find_stack_level
from ._checkpoint import SVIState, continued_seed, restore, snapshot
from ._elbo import make_step
from ._posterior import GaussianPosterior, export_guide
from ._runtime import (
    as_tensor,
    generator_state,
    isolated_pyro,
    resolve_device,
    set_generator_state,
)
from ._schedule import Action, Schedule

__all__ = [
    "GUIDES",
    "SVICarry",
    "SVIProblem",
    "SVIResult",
    "SVIState",
    "checkpoint",
    "end_epoch",
    "export",
    "fit_svi",
    "init",
    "run",
    "session",
    "setup",
    "step",
]

#: guide names accepted by :func:`fit_svi`
GUIDES = ("diagonal", "multivariate", "lowrank")


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


def _init_guide(auto, data, idx) -> list[tuple[str, torch.Tensor]]:
    """Create the guide's parameters in the guide; return them by store name.

    ``AutoContinuous._setup_prototype`` runs the model once (under Pyro's
    handlers, hiding every param site) to find its latent sites and creates
    the guide's parameters. Called directly, outside ``PyroModule.__call__``,
    those are plain module attributes that never reach Pyro's param store.
    The names are the ones Pyro's store would use (``AutoDiagonalNormal.loc``,
    ``AutoDiagonalNormal.scale``: the unconstrained value of a constrained
    parameter under the constrained name), the keys of :class:`SVIState`.
    Then the one draw that the guide's first call in Pyro makes is made and
    discarded, so that a fit draws the random stream it always has.
    """
    auto._setup_prototype(*data, idx)
    with torch.no_grad():
        auto.get_posterior().rsample()
    return [
        (f"{auto._pyro_name}.{name.removesuffix('_unconstrained')}", p)
        for name, p in auto.named_parameters()
    ]


def _adam(params, lr: float) -> torch.optim.Adam:
    """Adam, with the fused kernel where this torch has it for these tensors
    (CPU since torch 2.4): one kernel per step instead of a dozen small ops."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)


@dataclass(frozen=True)
class SVIProblem:
    """What an SVI fit does not change: the model, its data and the options.

    Built by :func:`setup`. ``data`` are tensors on ``device``, ``rows`` is
    ``arange(n)``, ``batch_size`` the rows per step (``n`` for full batch)
    and ``n_rows`` the number that the loss curve is normalised by.
    """

    model: Callable
    data: tuple[torch.Tensor, ...]
    rows: torch.Tensor
    batch_size: int
    n_rows: float
    schedule: Schedule
    guide: str
    n_particles: int
    jit: bool
    init_loc_fn: Callable
    init_scale: float
    rank: int | None
    device: torch.device
    n_threads: int | None
    keep: torch.Tensor | None = None  # 0 on the held coordinates (hold=)

    @property
    def n(self) -> int:
        """Training rows."""
        return int(self.rows.shape[0])

    @property
    def steps_per_epoch(self) -> int:
        """Gradient steps per epoch (the remainder of the rows is dropped)."""
        return self.n // self.batch_size


def setup(
    model: Callable,
    data: Sequence,
    *,
    guide: str = "diagonal",
    batch_size: int | None = None,
    schedule: Schedule | None = None,
    n_particles: int = 1,
    jit: bool = False,
    init_loc_fn: Callable = init_to_feasible,
    init_scale: float = 0.1,
    rank: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    n_threads: int | None = None,
    n_rows: float | None = None,
    hold=None,
) -> SVIProblem:
    """The :class:`SVIProblem` of a fit (see :func:`fit_svi` for the options).

    The data are moved to ``device`` (floats cast to ``dtype``); a
    ``batch_size`` of ``None`` or ``>= n`` is full batch; ``schedule=None``
    is ``Schedule()``; ``hold`` becomes ``keep``, a float mask, 0 where held.
    """
    if guide not in GUIDES:
        raise ValueError(f"guide must be one of {GUIDES}, got {guide!r}.")
    device = resolve_device(device)
    tensors = tuple(as_tensor(a, device, dtype) for a in data)
    n = int(tensors[0].shape[0])
    return SVIProblem(
        model=model,
        data=tensors,
        rows=torch.arange(n, device=device),
        batch_size=n if batch_size is None or batch_size >= n else int(batch_size),
        n_rows=float(n if n_rows is None else n_rows),
        schedule=Schedule() if schedule is None else schedule,
        guide=guide,
        n_particles=n_particles,
        jit=jit,
        init_loc_fn=init_loc_fn,
        init_scale=init_scale,
        rank=rank,
        device=device,
        n_threads=n_threads,
        keep=None
        if hold is None
        else torch.as_tensor(hold).logical_not().to(dtype=dtype, device=device),
    )


class _Work:
    """The torch objects behind a line of carries, advanced in place.

    ``version`` counts the carries taken from it: only the carry whose
    ``version`` is the current one may read or advance it. ``rng`` is the
    torch generator state (CPU, and the CUDA device's) between sessions.
    """

    __slots__ = ("elbo", "engaged", "guide", "names", "optim", "params")
    __slots__ += ("progress", "rng", "version")

    def __init__(self, guide, names, params, optim, progress, elbo, rng):
        self.guide, self.names, self.params = guide, names, params
        self.optim, self.progress, self.elbo, self.rng = optim, progress, elbo, rng
        self.engaged = False
        self.version = 0


class SVICarry(NamedTuple):
    """The live position of an SVI fit: what :func:`init` returns and
    :func:`step` advances.

    ``n_steps`` counts the gradient steps of the whole sequence of fits (a
    fit continued from an :class:`SVIState` starts at its count);
    ``version`` the steps and epochs taken from this carry's :func:`init`.
    The guide, Adam and the schedule's position are held privately, and are
    read through :func:`checkpoint` and :func:`export`.
    """

    problem: SVIProblem
    work: _Work
    version: int
    n_steps: int

    @property
    def learning_rate(self) -> float:
        """Adam's current step size."""
        return _live(self).progress.lr

    @property
    def n_epochs(self) -> int:
        """Epochs of the whole sequence of fits."""
        return _live(self).progress.n_epochs


def _live(carry: SVICarry) -> _Work:
    work = carry.work
    if carry.version != work.version:
        raise ValueError(
            f"This SVICarry (version {carry.version}) was spent: a later step "
            f"advanced its fit to version {work.version}. Step the carry that "
            "the last step returned; to branch a fit, init from a checkpoint."
        )
    return work


@contextmanager
def session(carry: SVICarry) -> Iterator[None]:
    """Run the block's steps of ``carry`` in isolation, on its random stream.

    The block runs inside :func:`~bayesreg.pyro._runtime.isolated_pyro`
    (the fit lock, a forked generator, the problem's thread count), with
    the generator at the state the carry's last session left it in; on exit
    that state is kept for the next session and the caller's restored. A
    session inside a session of the same carry is the outer one.
    """
    work, problem = _live(carry), carry.problem
    if work.engaged:
        yield
        return
    with isolated_pyro(0, problem.device, problem.n_threads):
        set_generator_state(work.rng, problem.device)
        work.engaged = True
        try:
            yield
        finally:
            work.engaged = False
            work.rng = generator_state(problem.device)


def init(
    problem: SVIProblem,
    *,
    seed: int,
    learning_rate_init: float = 1e-2,
    init_state: SVIState | None = None,
) -> SVICarry:
    """Create the guide and Adam; return the first carry of a fit.

    With ``init_state`` the guide's parameters, Adam's moments and the
    schedule's position (its step size replaces ``learning_rate_init``) are
    restored from it, and the torch generator is seeded from ``(seed,
    init_state.n_steps)`` (see :func:`fit_svi`). Runs in isolation.

    Raises
    ------
    ValueError
        If ``init_state`` does not hold the guide's parameters (names and
        shapes).
    """
    steps_before = 0
    if init_state is not None:
        steps_before = init_state.n_steps
        seed = continued_seed(seed, steps_before)
    p = problem
    with isolated_pyro(seed, p.device, p.n_threads):
        auto = _make_guide(p.model, p.guide, p.init_loc_fn, p.init_scale, p.rank)
        first_batch = p.rows[: p.batch_size]
        names, params = zip(*_init_guide(auto, p.data, first_batch), strict=True)
        params = list(params)
        if init_state is None:
            progress = p.schedule.start(learning_rate_init)
            optim = _adam(params, progress.lr)
        else:
            progress = dataclasses.replace(init_state.progress)
            optim = _adam(params, progress.lr)
            progress.avg = restore(init_state, names, params, optim)
        elbo = make_step(
            p.model, auto, p.data, guide=p.guide, jit=p.jit, n_particles=p.n_particles
        )
        rng = generator_state(p.device)
    work = _Work(auto, names, params, optim, progress, elbo, rng)
    return SVICarry(problem, work, 0, steps_before)


def step(carry: SVICarry, idx: torch.Tensor) -> tuple[SVICarry, float]:
    """One Adam step on the negative ELBO of the rows ``idx``.

    Returns the next carry and the loss (scaled to all ``n`` rows; not
    divided by them). The running Polyak average, once the schedule has
    started it, takes in the new iterate. A loss that is not finite changes
    nothing: the same carry comes back, with that loss. Must run inside
    :func:`session`.
    """
    work = _live(carry)
    if not work.engaged:
        raise RuntimeError("step runs inside `with session(carry):`.")
    loss = work.elbo(idx)
    if not math.isfinite(loss):
        work.optim.zero_grad(set_to_none=True)
        return carry, loss
    if carry.problem.keep is not None and work.progress.phases == 0:
        _hold(work.params, carry.problem.keep)
    work.optim.step()
    work.optim.zero_grad(set_to_none=True)
    carry.problem.schedule.after_step(work.progress, work.params)
    work.version += 1
    return SVICarry(carry.problem, work, work.version, carry.n_steps + 1), loss


def _hold(params: list[torch.Tensor], keep: torch.Tensor) -> None:
    """Zero the gradients of the held coordinates (``keep`` 0) of every guide
    parameter indexed by the latent vector on its first axis (a location, a
    scale, the rows of a Cholesky or low-rank factor)."""
    for p in params:
        if p.grad is not None and p.shape[0] == keep.shape[0]:
            p.grad.mul_(keep.reshape(-1, *(1,) * (p.dim() - 1)))


def end_epoch(carry: SVICarry, loss: float) -> tuple[SVICarry, Action]:
    """Hand an epoch's ``loss`` (per row) to the schedule; return the next
    carry and what the schedule says (a decay already sets Adam's step
    size)."""
    work = _live(carry)
    action = carry.problem.schedule.after_epoch(work.progress, loss, work.params)
    if action is Action.DECAY:
        for group in work.optim.param_groups:
            group["lr"] = work.progress.lr
    work.version += 1
    return carry._replace(version=work.version), action


class SVIRun(NamedTuple):
    """What :func:`run` returns: the carry after the last epoch, the loss of
    each epoch (per row) and whether the schedule stopped the fit."""

    carry: SVICarry
    loss_curve: list[float]
    converged: bool


def run(
    carry: SVICarry, max_iter: int, *, verbose: int = 0, desc: str = "SVI"
) -> SVIRun:
    """Run up to ``max_iter`` epochs from ``carry``, until the schedule stops.

    Each epoch draws a permutation of the rows (unless full batch), steps
    through its minibatches and hands the mean loss per row to the
    schedule. ``verbose >= 1`` shows a tqdm progress bar with the ELBO.

    Raises
    ------
    FloatingPointError
        If a loss is NaN or infinite, or a step fails a distribution's
        argument check after the first step of this run (the model left the
        region where it is finite); the message names ``learning_rate_init``.
    """
    from tqdm.auto import tqdm

    p = carry.problem
    n, bs, n_batches = p.n, p.batch_size, p.steps_per_epoch
    loss_curve: list[float] = []
    converged = False
    with session(carry), tqdm(total=max_iter, disable=verbose < 1, desc=desc) as bar:
        for epoch in range(1, max_iter + 1):
            if bs < n:
                perm = torch.randperm(n, device=p.device)
            total = 0.0
            for i in range(n_batches):
                idx = p.rows if bs == n else perm[i * bs : (i + 1) * bs]
                try:
                    carry, loss = step(carry, idx)
                except ValueError as err:
                    # After a first good step, a distribution's argument
                    # check failing (a NaN or infinite scale) means the
                    # last step left the region where the model is finite.
                    if epoch == 1 and i == 0:
                        raise
                    where = f"epoch {epoch}, step {i + 1}"
                    raise _diverged(where, math.nan, carry.learning_rate) from err
                if not math.isfinite(loss):
                    where = f"epoch {epoch}, step {i + 1}"
                    raise _diverged(where, loss, carry.learning_rate)
                total += loss
            epoch_loss = total / (n_batches * p.n_rows)
            loss_curve.append(epoch_loss)
            if verbose:
                bar.set_postfix(elbo=f"{-epoch_loss * p.n_rows:.4g}", refresh=False)
                bar.update()
            carry, action = end_epoch(carry, epoch_loss)
            if action is Action.STOP:
                converged = True
                break
    return SVIRun(carry, loss_curve, converged)


def checkpoint(carry: SVICarry) -> SVIState:
    """The position of ``carry`` as an :class:`SVIState` (NumPy copies):
    the last iterate (not the Polyak average), Adam's moments, the schedule."""
    work = _live(carry)
    return snapshot(work.names, work.params, work.optim, work.progress, carry.n_steps)


def export(carry: SVICarry) -> GaussianPosterior:
    """The guide of ``carry`` as a posterior: the Polyak average of the
    iterates where the schedule averaged, else the last iterate. The carry
    is left as it was and can be stepped on.

    Raises
    ------
    FloatingPointError
        If a parameter is not finite.
    """
    work = _live(carry)
    params, progress = work.params, work.progress
    with torch.no_grad():
        last = [p.clone() for p in params] if progress.averaging else []
        try:
            if progress.averaging:
                for p, a in zip(params, progress.avg, strict=True):
                    p.copy_(a)
            if not all(bool(torch.isfinite(p).all()) for p in params):
                where = "the end of the fit (parameters)"
                raise _diverged(where, math.nan, progress.lr)
            return export_guide(work.guide)
        finally:
            for p, saved in zip(params, last, strict=False):
                p.copy_(saved)


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
    schedule: Schedule | None = None,
    n_particles: int = 1,
    jit: bool = False,
    init_loc_fn: Callable = init_to_feasible,
    init_scale: float = 0.1,
    rank: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    n_threads: int | None = None,
    verbose: int = 0,
    desc: str = "SVI",
    n_rows: float | None = None,
    init_state: SVIState | None = None,
    warn: bool = True,
    hold=None,
) -> SVIResult:
    """Fit an autoguide to ``model`` by stochastic variational inference.

    The composition of the parts: :func:`setup`, :func:`init`, :func:`run`,
    then :func:`checkpoint` and :func:`export`, and a ConvergenceWarning
    that names the caller's line.

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
    schedule : Schedule or None
        Early stopping on the smoothed per-row negative ELBO, step-size
        decays and Polyak averaging (see :class:`Schedule`); ``None`` is
        ``Schedule()``: a plateau is 50 epochs without improvement, and the
        fit stops at the second one, having averaged the iterates in between.
    n_particles : int
        ELBO particles per step (vectorised).
    jit : bool
        The fastest exact step: the engine's own ELBO (the same draws and
        value as ``Trace_ELBO``) for a model with ``log_density``, else
        Pyro's ``Trace_ELBO``. ``False``: Pyro's ``Trace_ELBO`` at every
        step. Nothing is compiled either way (the name is kept from the
        estimators' parameter).
    init_loc_fn, init_scale, rank
        Passed to the autoguide.
    device, dtype
        Where and in which precision to compute.
    n_threads : int or None
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
        parameters are overwritten with the saved ones, and Adam's moments
        and the schedule's position (``learning_rate_init`` is then unused)
        are restored, so the first step continues
        exactly where the last one stopped (the ``schedule`` should be the
        one that fit used). The torch generator is then
        seeded from ``(seed, state.n_steps)``: a continued fit does not
        replay the random stream of the fit it continues, and a sequence of
        fits is reproducible given the same seeds and calls. ``None``: start
        afresh.
    warn : bool
        Warn with a ConvergenceWarning when ``max_iter`` is reached before
        the early-stopping rule stops the fit (``False`` for incremental fits
        that run a fixed number of epochs by design).
    hold : array-like of bool or None
        Coordinates of the guide's flat latent vector (the model's sites in
        order, unconstrained) held at their initial location and spread
        until the schedule's first plateau (the first step-size decay with
        the default decays), then fitted with the rest. ``None`` holds
        nothing. A continued fit holds them while its schedule has not
        passed a plateau.

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
    problem = setup(
        model,
        data,
        guide=guide,
        batch_size=batch_size,
        schedule=schedule,
        n_particles=n_particles,
        jit=jit,
        init_loc_fn=init_loc_fn,
        init_scale=init_scale,
        rank=rank,
        device=device,
        dtype=dtype,
        n_threads=n_threads,
        n_rows=n_rows,
        hold=hold,
    )
    carry = init(
        problem, seed=seed, learning_rate_init=learning_rate_init, init_state=init_state
    )
    # One session for the loop and the export, as one isolated block.
    with session(carry):
        carry, loss_curve, converged = run(carry, max_iter, verbose=verbose, desc=desc)
        state = checkpoint(carry)
        posterior = export(carry)
    if warn and not converged:
        warnings.warn(
            f"SVI reached max_iter={max_iter} epochs before the smoothed ELBO "
            "stopped improving; increase max_iter or learning_rate_init.",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )
    return SVIResult(
        posterior, loss_curve, len(loss_curve), converged, carry.learning_rate, state
    )
