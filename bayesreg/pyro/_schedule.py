"""The SVI schedule: when to stop, when to decay the step size, what to average.

:mod:`~bayesreg.pyro._svi`'s ``step`` runs the gradient steps; a
:class:`Schedule` decides everything else, from the epoch losses alone.
The rule is ``MLPRegressor``'s early stopping, extended by step-size decays
and Polyak averaging:

- the epoch losses are smoothed by an exponential moving average; a
  *plateau* is ``n_iter_no_change`` epochs in which the smoothed loss has
  not fallen by ``tol`` below its best;
- the fit runs in phases separated by plateaus. The first ``n_lr_decays``
  plateaus each multiply the step size by ``lr_decay_factor``; the next one
  ends the fit (converged);
- with ``polyak=True`` the iterates of the *last* phase are averaged
  (Polyak-Ruppert), which removes the optimiser's jitter from the result.
  Averaging starts at a plateau, never at the initial point: with
  ``n_lr_decays=0`` there is no decay to start the last phase, so the first
  plateau starts an averaging phase of its own, at the same step size, and
  the next plateau ends the fit.

The schedule's position (:class:`Progress`) is plain numbers plus the running
average, so a fit can be saved and continued exactly.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import torch

__all__ = ["Action", "Progress", "Schedule"]


class Action(enum.Enum):
    """What the fit does after an epoch."""

    CONTINUE = "continue"
    DECAY = "decay"  # the step size changed: set the optimiser's to ``lr``
    STOP = "stop"  # converged


@dataclass
class Progress:
    """Where a fit stands in its schedule (mutable, owned by one fit).

    ``avg`` is the running Polyak average of the parameters (tensors during a
    fit, ``None`` before averaging starts) over ``n_avg`` iterates.
    ``phases`` counts the plateaus passed (decays, and the start of an
    averaging phase of its own); ``n_epochs`` every epoch of a sequence of
    continued fits.
    """

    lr: float
    phases: int = 0
    averaging: bool = False
    avg: list | None = None
    n_avg: int = 0
    smoothed: float = math.inf
    best: float = math.inf
    no_improvement: int = 0
    n_epochs: int = 0


@dataclass(frozen=True)
class Schedule:
    """Early stopping, step-size decays and Polyak averaging of an SVI fit.

    Parameters
    ----------
    tol, n_iter_no_change : float, int
        A plateau: the smoothed loss has not fallen by ``tol`` below its best
        for ``n_iter_no_change`` epochs.
    n_lr_decays, lr_decay_factor : int, float
        The first ``n_lr_decays`` plateaus multiply the step size by
        ``lr_decay_factor``.
    smoothing : float
        Weight of the past in the moving average of the epoch losses.
    polyak : bool
        Average the iterates of the last phase.
    """

    tol: float = 1e-4
    # Long enough that a one-particle ELBO, noisier from epoch to epoch than
    # a slow descent improves it, does not pass for a plateau: with 10, a
    # mean model descending at step size 0.01 "converged" 8-36 posterior sds
    # short of its answer; with 50 it either reaches it or says it did not.
    n_iter_no_change: int = 50
    n_lr_decays: int = 0
    lr_decay_factor: float = 0.2
    smoothing: float = 0.9
    polyak: bool = True

    @property
    def n_phases(self) -> int:
        """Plateaus before the one that ends the fit."""
        own_averaging_phase = self.polyak and self.n_lr_decays == 0
        return self.n_lr_decays + int(own_averaging_phase)

    def start(self, lr: float) -> Progress:
        """The position of a fresh fit with step size ``lr``."""
        return Progress(lr=float(lr))

    def after_step(self, progress: Progress, params: list[torch.Tensor]) -> None:
        """Fold the parameters after a gradient step into the average."""
        if progress.averaging:
            progress.n_avg += 1
            with torch.no_grad():
                torch._foreach_lerp_(progress.avg, params, 1.0 / progress.n_avg)

    def after_epoch(
        self, progress: Progress, loss: float, params: list[torch.Tensor]
    ) -> Action:
        """Update the smoothed loss with an epoch's ``loss``; say what next."""
        progress.n_epochs += 1
        progress.smoothed = (
            loss
            if progress.n_epochs == 1
            else self.smoothing * progress.smoothed + (1.0 - self.smoothing) * loss
        )
        if progress.smoothed > progress.best - self.tol:
            progress.no_improvement += 1
        else:
            progress.no_improvement = 0
        progress.best = min(progress.best, progress.smoothed)
        if progress.no_improvement < self.n_iter_no_change:
            return Action.CONTINUE
        if progress.phases >= self.n_phases:
            return Action.STOP
        progress.phases += 1
        progress.no_improvement = 0
        progress.best = progress.smoothed
        action = Action.CONTINUE
        if progress.phases <= self.n_lr_decays:
            progress.lr *= self.lr_decay_factor
            action = Action.DECAY
        if self.polyak and progress.phases == self.n_phases:
            progress.averaging = True
            progress.avg = [p.detach().clone() for p in params]
            progress.n_avg = 1
        return action
