"""The ELBO steps of SVI: one gradient of the negative ELBO per call.

A step is called with ``idx``, the rows of a minibatch; it evaluates the
loss (the negative ELBO of those rows, scaled to the whole data), leaves its
gradient in the guide's parameters and returns the loss as a float. The
optimiser, the minibatches and the schedule are :mod:`~bayesreg.pyro._svi`'s.

``jit=True`` asks for the fastest exact step. With a model that offers
``log_density`` (see :mod:`~bayesreg.pyro._svi`) it is the engine's own
(:class:`DiagonalStep`, :class:`GaussianStep`): the reparametrised ELBO of
the guide written out in eager torch over the guide's own parameters, with
the draws and the value of ``Trace_ELBO``; no Pyro code runs per step.
Otherwise, and with ``jit=False`` (the reference, and the way to debug a
model), Pyro's ``Trace_ELBO`` runs at every step (:class:`PyroStep`).
Nothing is compiled (``JitTrace_ELBO``'s traced graph would stay in torch's
global compilation unit for the life of the process).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from pyro.infer import Trace_ELBO
from pyro.infer.autoguide import AutoMultivariateNormal
from torch.distributions import (
    LowRankMultivariateNormal,
    MultivariateNormal,
    biject_to,
    transform_to,
)

from ._posterior import guide_sites

__all__ = ["DiagonalStep", "GaussianStep", "PyroStep", "make_step"]


class PyroStep:
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


class DiagonalStep:
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
        if not self.batch and hasattr(self.log_p, "value_and_grad"):
            return self._by_hand(idx)
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

    @torch.no_grad()
    def _by_hand(self, idx: torch.Tensor) -> float:
        """The same step for a model whose ``log_p`` has ``value_and_grad``
        (one draw's value and gradient by site, formed without autograd):
        with ``z = loc + eps * scale`` and ``g = d log p / d z``, the loss's
        gradient is ``-g`` in ``loc`` and ``-(g eps + 1 / scale)`` in
        ``scale``, times ``d scale / d raw`` of its constraint. The same
        draw eps, value and gradient as the autograd step, to rounding, at
        a fraction of its bookkeeping."""
        loc, raw = self.loc, self.scale
        scale = self.to_scale(raw)
        eps = loc.new_empty(loc.shape).normal_()
        z = loc + eps * scale
        latent = {name: z[cut].view(shape) for name, cut, shape in self.sites}
        value, grads = self.log_p.value_and_grad(latent, idx)
        g = torch.cat([grads[name].reshape(-1) for name, _, _ in self.sites])
        log_q = -0.5 * (eps * eps).sum() - torch.log(scale).sum() + self.log_q_const
        jacobian = torch.exp(self.to_scale.log_abs_det_jacobian(raw, scale))
        loc.grad = -g
        raw.grad = -(g * eps + 1.0 / scale) * jacobian
        return (log_q - value).item()


class GaussianStep(DiagonalStep):
    """``Trace_ELBO`` of ``AutoMultivariateNormal`` or
    ``AutoLowRankMultivariateNormal``, written out in eager torch.

    As :class:`DiagonalStep`, for the guide's full or low-rank Gaussian
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


def make_step(model, auto, data, *, guide: str, jit: bool, n_particles: int):
    """The fastest exact step for these options (see the module docstring)."""
    if jit and hasattr(model, "log_density"):
        step_cls = DiagonalStep if guide == "diagonal" else GaussianStep
        return step_cls(auto, model.log_density(*data), n_particles)
    elbo_kwargs: dict[str, Any] = {"num_particles": n_particles}
    if n_particles > 1:
        elbo_kwargs.update(vectorize_particles=True, max_plate_nesting=1)
    return PyroStep(Trace_ELBO(**elbo_kwargs), model, auto, data)
