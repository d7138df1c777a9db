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
``Trace_ELBO``, plus the Jacobian that the guide's sites carry there.

``jit=True`` asks for the fastest exact step. With a model that offers
``log_density`` it is the engine's own (:class:`_DiagonalStep`,
:class:`_GaussianStep`): the reparametrised ELBO of the guide written out in
eager torch over the guide's own parameters, with the draws and the value of
``Trace_ELBO``; no Pyro code runs per step. Otherwise, and with
``jit=False`` (the reference, and the way to debug a model), Pyro's
``Trace_ELBO`` runs at every step. Nothing is compiled (``JitTrace_ELBO``'s
traced graph would stay in torch's global compilation unit for the life of
the process). Minibatches have a fixed size (the remainder of an epoch's
permutation is dropped, as ``DataLoader(drop_last=True)``). The training loop
is a plain (fused) ``torch.optim.Adam`` loop over the guide's unconstrained
leaf tensors; when to stop, decay the step size and average is the
:class:`~bayesreg.pyro._schedule.Schedule`'s.

The guide's parameters live in the guide, never in Pyro's global param
store: :func:`_init_guide` creates them outside ``PyroModule.__call__`` (the
context that routes a ``PyroModule``'s parameters to the global store), and
Pyro's ELBO calls the guide's ``forward`` directly, which reads them there.

:func:`fit_svi` returns an :class:`SVIState` (NumPy arrays and numbers: the
guide's unconstrained parameters, Adam's moments and the schedule's
position); passed back as ``init_state`` it continues the optimisation
exactly where it stopped, on the same or on other data, which is how the
estimators' ``warm_start`` and ``partial_fit`` work.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pyro.infer import Trace_ELBO
from pyro.infer.autoguide import (
    AutoDiagonalNormal,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
)
from pyro.infer.autoguide.initialization import init_to_feasible
from sklearn.exceptions import ConvergenceWarning
from torch.distributions import (
    LowRankMultivariateNormal,
    MultivariateNormal,
    biject_to,
    transform_to,
)

from ._posterior import GaussianPosterior, export_guide, guide_sites
from ._runtime import as_tensor, isolated_pyro, resolve_device
from ._schedule import Action, Progress, Schedule

__all__ = ["GUIDES", "SVIResult", "SVIState", "fit_svi"]

#: guide names accepted by :func:`fit_svi`
GUIDES = ("diagonal", "multivariate", "lowrank")


@dataclass(frozen=True)
class SVIState:
    """Everything an SVI fit needs to continue where it stopped, as NumPy.

    Dictionaries are keyed by the guide's parameter-store names. ``params``
    are the guide's *unconstrained* parameters at the last iterate (before
    Polyak averaging replaced them for the export); ``exp_avg``,
    ``exp_avg_sq`` and ``step`` are Adam's moments and step counts;
    ``progress`` is the position in the :class:`Schedule` (step size,
    phases, early-stopping counters, the running average as NumPy arrays);
    ``n_steps`` counts every step of the sequence of fits. Holds no torch
    objects, so an estimator keeping it pickles anywhere.
    """

    params: dict[str, np.ndarray]
    exp_avg: dict[str, np.ndarray]
    exp_avg_sq: dict[str, np.ndarray]
    step: dict[str, np.ndarray]
    progress: Progress
    n_steps: int

    @property
    def n_epochs(self) -> int:
        """Epochs of the whole sequence of fits."""
        return self.progress.n_epochs


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


class _Step:
    """One gradient of Pyro's ``Trace_ELBO`` (loss as a float).

    The guide runs through its ``forward``, not ``PyroModule.__call__``, so
    its parameters are read from the guide, never from Pyro's param store.
    ``differentiable_loss`` has ``loss_and_grads``'s value and gradients; the
    latter backpropagates only when a trace holds a param site, which a
    guide outside the store does not emit.
    """

    def __init__(self, elbo, model, guide, data):
        self.elbo, self.model, self.guide, self.data = elbo, model, guide, data

    def __call__(self, idx: torch.Tensor) -> float:
        loss = self.elbo.differentiable_loss(
            self.model, self.guide.forward, *self.data, idx
        )
        loss.backward()
        return loss.item()


class _DiagonalStep:
    """``Trace_ELBO`` of ``AutoDiagonalNormal``, written out in eager torch.

    For a model that offers ``log_density`` (see the module docstring), a
    step of ``Trace_ELBO`` with ``AutoDiagonalNormal`` is, for ``P`` draws
    eps ~ N(0, I) of the D packed unconstrained latents::

        z = loc + eps * scale,
        loss = mean over the draws of  log q(z) - log p(z, rows idx),
        log q(z) = -|eps|^2 / 2 - sum_j log scale_j - D log(2 pi) / 2,

    with ``log p`` the model's log density in the unconstrained coordinates,
    each site's log-Jacobian included. (Pyro evaluates the model at the
    constrained values and adds the log-Jacobian of each site's transform to
    the guide's density instead: the same difference.) ``loc`` and ``scale``
    are the guide's own parameters (``scale`` through its
    constraint), so Adam, the schedule, warm starts and the export see the
    same tensors as on Pyro's path. eps comes from the same call as in
    ``Normal.rsample`` (``normal_`` on a new tensor of the latent's shape,
    from the isolated generator), so on the same generator state the loss and
    gradients are ``Trace_ELBO``'s, to rounding; log q uses eps where Pyro
    computes (z - loc) / scale, the same value and gradient in exact
    arithmetic. No effect handler, trace or distribution runs per step, and
    each operation's backward is eager torch's own (one fused kernel for the
    activation, where TorchScript's symbolic backward takes several passes),
    so a step costs what a hand-written torch loop costs.
    """

    def __init__(self, guide, log_p: Callable, n_particles: int):
        self.log_p = log_p
        leaves = dict(guide.named_parameters())  # unconstrained, see _init_guide
        self.loc = leaves["loc"]
        self.scale = leaves["scale_unconstrained"]
        self.to_scale = biject_to(type(guide).scale_constraint)
        self.batch = () if n_particles == 1 else (n_particles,)
        self.sites, pos = [], 0
        for site in guide_sites(guide):
            cut = slice(pos, pos + site.size)
            self.sites.append((site.name, cut, self.batch + site.unconstrained_shape))
            pos += site.size
        self.log_q_const = -0.5 * pos * math.log(2.0 * math.pi)

    def __call__(self, idx: torch.Tensor) -> float:
        loc, scale = self.loc, self.to_scale(self.scale)
        eps = loc.new_empty(self.batch + loc.shape).normal_()
        z = loc + eps * scale
        latent = {name: z[..., cut].view(shape) for name, cut, shape in self.sites}
        log_q = -0.5 * (eps * eps).sum(-1) - torch.log(scale).sum() + self.log_q_const
        loss = log_q - self.log_p(latent, idx)
        if self.batch:
            loss = loss.mean()
        loss.backward()
        return loss.item()


class _GaussianStep(_DiagonalStep):
    """``Trace_ELBO`` of ``AutoMultivariateNormal`` or
    ``AutoLowRankMultivariateNormal``, written out in eager torch.

    As :class:`_DiagonalStep`, for the guide's full or low-rank Gaussian
    over the packed unconstrained latents, built from the guide's own
    parameters as the guide builds it (``get_posterior``):
    ``scale_tril = scale[:, None] * L`` with ``L`` unit lower triangular, or
    ``cov_factor * scale[:, None]`` and ``cov_diag = scale**2``. The draw is
    that distribution's ``rsample`` (the random numbers of Pyro's) and
    ``log q`` its ``log_prob``, in torch's distributions without argument
    checks.
    """

    def __init__(self, guide, log_p: Callable, n_particles: int):
        super().__init__(guide, log_p, n_particles)
        leaves = dict(guide.named_parameters())
        if isinstance(guide, AutoMultivariateNormal):
            self.tril = leaves["scale_tril_unconstrained"]
            self.to_tril = transform_to(type(guide).scale_tril_constraint)
        else:
            self.tril = None
            self.cov_factor = leaves["cov_factor"]

    def posterior(self):
        scale = self.to_scale(self.scale)
        if self.tril is not None:
            tril = scale[..., None] * self.to_tril(self.tril)
            return MultivariateNormal(self.loc, scale_tril=tril, validate_args=False)
        return LowRankMultivariateNormal(
            self.loc,
            self.cov_factor * scale[..., None],
            scale * scale,
            validate_args=False,
        )

    def __call__(self, idx: torch.Tensor) -> float:
        q = self.posterior()
        z = q.rsample(self.batch)
        latent = {name: z[..., cut].view(shape) for name, cut, shape in self.sites}
        loss = q.log_prob(z) - self.log_p(latent, idx)
        if self.batch:
            loss = loss.mean()
        loss.backward()
        return loss.item()


def _make_step(model, auto, data, *, guide: str, jit: bool, n_particles: int):
    """The fastest exact step for these options (see :func:`fit_svi`'s ``jit``)."""
    if jit and hasattr(model, "log_density"):
        step_cls = _DiagonalStep if guide == "diagonal" else _GaussianStep
        return step_cls(auto, model.log_density(*data), n_particles)
    elbo_kwargs: dict[str, Any] = {"num_particles": n_particles}
    if n_particles > 1:
        elbo_kwargs.update(vectorize_particles=True, max_plate_nesting=1)
    return _Step(Trace_ELBO(**elbo_kwargs), model, auto, data)


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

    schedule = Schedule() if schedule is None else schedule
    device = resolve_device(device)
    tensors = tuple(as_tensor(a, device, dtype) for a in data)
    n = int(tensors[0].shape[0])
    bs = n if batch_size is None or batch_size >= n else int(batch_size)
    steps_per_epoch = n // bs
    full_idx = torch.arange(n, device=device)

    per_row = float(n if n_rows is None else n_rows)
    loss_curve: list[float] = []
    converged = False
    epoch = steps_before = 0
    if init_state is not None:
        steps_before = init_state.n_steps
        seed = _continued_seed(seed, steps_before)
    with isolated_pyro(seed, device, n_threads):
        auto = _make_guide(model, guide, init_loc_fn, init_scale, rank)
        names, params = zip(*_init_guide(auto, tensors, full_idx[:bs]), strict=True)
        params = list(params)
        if init_state is None:
            progress = schedule.start(learning_rate_init)
            optim = _adam(params, progress.lr)
        else:
            progress = dataclasses.replace(init_state.progress)
            optim = _adam(params, progress.lr)
            progress.avg = _restore_state(init_state, names, params, optim)
        step_fn = _make_step(
            model, auto, tensors, guide=guide, jit=jit, n_particles=n_particles
        )
        with tqdm(total=max_iter, disable=verbose < 1, desc=desc) as bar:
            for epoch in range(1, max_iter + 1):
                if bs < n:
                    perm = torch.randperm(n, device=device)
                total = 0.0
                for step in range(steps_per_epoch):
                    idx = full_idx if bs == n else perm[step * bs : (step + 1) * bs]
                    try:
                        loss = step_fn(idx)
                    except ValueError as err:
                        # After a first good step, a distribution's argument
                        # check failing (a NaN or infinite scale) means the
                        # last step left the region where the model is finite.
                        if epoch == 1 and step == 0:
                            raise
                        where = f"epoch {epoch}, step {step + 1}"
                        raise _diverged(where, math.nan, progress.lr) from err
                    if not math.isfinite(loss):
                        where = f"epoch {epoch}, step {step + 1}"
                        raise _diverged(where, loss, progress.lr)
                    optim.step()
                    optim.zero_grad(set_to_none=True)
                    total += loss
                    schedule.after_step(progress, params)
                epoch_loss = total / (steps_per_epoch * per_row)
                loss_curve.append(epoch_loss)
                if verbose:
                    bar.set_postfix(elbo=f"{-epoch_loss * per_row:.4g}", refresh=False)
                    bar.update()
                action = schedule.after_epoch(progress, epoch_loss, params)
                if action is Action.STOP:
                    converged = True
                    break
                if action is Action.DECAY:
                    for group in optim.param_groups:
                        group["lr"] = progress.lr
        adam = {k: optim.state[p] for k, p in zip(names, params, strict=True)}
        state = SVIState(
            params={k: _numpy(p) for k, p in zip(names, params, strict=True)},
            exp_avg={k: _numpy(a["exp_avg"]) for k, a in adam.items()},
            exp_avg_sq={k: _numpy(a["exp_avg_sq"]) for k, a in adam.items()},
            step={k: _numpy(a["step"]) for k, a in adam.items()},
            progress=dataclasses.replace(
                progress,
                avg=(
                    dict(zip(names, map(_numpy, progress.avg), strict=True))
                    if progress.averaging
                    else None
                ),
            ),
            n_steps=steps_before + epoch * steps_per_epoch,
        )
        if progress.averaging:
            with torch.no_grad():
                for p, a in zip(params, progress.avg, strict=False):
                    p.copy_(a)
        if not all(bool(torch.isfinite(p).all()) for p in params):
            raise _diverged("the end of the fit (parameters)", math.nan, progress.lr)
        posterior = export_guide(auto)
    if warn and not converged:
        warnings.warn(
            f"SVI reached max_iter={max_iter} epochs before the smoothed ELBO "
            "stopped improving; increase max_iter or learning_rate_init.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return SVIResult(posterior, loss_curve, epoch, converged, progress.lr, state)


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
    The optimiser must have been created with the saved step size.
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
    avg = state.progress.avg
    if not state.progress.averaging or avg is None:
        return None
    return [like(avg[k], p) for k, p in zip(names, params, strict=True)]
