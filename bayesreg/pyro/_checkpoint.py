"""The position of an SVI fit as NumPy: written, and restored into a guide.

An :class:`SVIState` is what an SVI fit needs to continue where it
stopped: the guide's unconstrained parameters, Adam's moments and the
schedule's position. It holds no torch objects, so an estimator keeping it
pickles anywhere; :func:`snapshot` writes it from a live fit and
:func:`restore` writes it back into a new guide and optimiser, exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ._schedule import Progress

__all__ = ["SVIState", "continued_seed", "restore", "snapshot"]


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


def snapshot(names, params, optim, progress: Progress, n_steps: int) -> SVIState:
    """The :class:`SVIState` of a live fit: NumPy copies of the parameters
    ``params`` (keyed by ``names``), their state in Adam ``optim``, the
    schedule's ``progress`` (its running average included) and the step
    count. Before Adam's first step its state is that of a fresh Adam (zero
    moments and step count), which a restore continues as a fresh one."""
    adam = {
        k: optim.state.get(p) or _fresh_adam(p)
        for k, p in zip(names, params, strict=True)
    }
    return SVIState(
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
        n_steps=n_steps,
    )


def _fresh_adam(p: torch.Tensor) -> dict[str, torch.Tensor]:
    """Adam's state of ``p`` before its first step (torch's, with the step
    count in its default dtype for it)."""
    zeros = torch.zeros_like(p)
    return {"step": torch.tensor(0.0), "exp_avg": zeros, "exp_avg_sq": zeros}


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy copy of a tensor, in its own dtype (so a restore is exact)."""
    return t.detach().to("cpu").numpy().copy()


def continued_seed(seed: int, n_steps: int) -> int:
    """The torch seed of a fit continuing, after ``n_steps`` steps, one seeded by
    ``seed``: a fresh stream, so repeated short fits never replay the same
    minibatches and ELBO noise."""
    entropy = np.random.SeedSequence([seed, n_steps]).generate_state(1, np.uint64)
    return int(entropy[0] >> np.uint64(1))


def restore(state: SVIState, names, params, optim) -> list | None:
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
