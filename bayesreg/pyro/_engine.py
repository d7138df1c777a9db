"""One fitting engine for the Pyro estimators: SVI, NUTS and posterior draws.

The estimators in :mod:`bayesreg.pyro` are thin: they validate and scale the
data, write a Pyro model (or a potential), and hand it to :func:`fit_svi` or
:func:`run_nuts`. Everything that makes a Pyro model behave like an ordinary
scikit-learn estimator lives in the engine's modules, once:

:mod:`~bayesreg.pyro._runtime`
    Isolation (a privately seeded torch generator per fit, under a
    process-wide lock; Pyro's global param store is never used), devices,
    seeds, and the batched evaluation of a function over posterior draws.
:mod:`~bayesreg.pyro._svi`
    :func:`fit_svi`: an autoguide, its parameters kept in the guide, fitted
    by a fused-Adam loop; minibatches, divergence checks, progress. In parts
    (``setup``, ``init``, ``step``, ``end_epoch``, ``run``, ``checkpoint``,
    ``export``) around a carry, as NumPyro's ``SVI.init`` / ``update`` /
    ``run``, for custom loops and warm starts.
:mod:`~bayesreg.pyro._elbo`
    The ELBO step: the engine's own for a model with ``log_density`` (Pyro's
    ``Trace_ELBO`` written out in eager torch), else ``Trace_ELBO``.
:mod:`~bayesreg.pyro._checkpoint`
    :class:`SVIState`: an SVI fit's position as NumPy, written and restored
    exactly (``warm_start``, ``partial_fit``, pickling).
:mod:`~bayesreg.pyro._schedule`
    When SVI stops, decays its step size and averages its iterates.
:mod:`~bayesreg.pyro._posterior`
    The fitted guide as NumPy arrays (:class:`GaussianPosterior`).
:mod:`~bayesreg.pyro._nuts`
    :func:`run_nuts`: NUTS over a model or a potential written in torch,
    with R-hat, effective sample sizes and Stan's per-draw statistics.

Nothing in the engine compiles with ``torch.jit``: a traced function stays in
torch's process-wide compilation unit, so repeated fits would grow the
process without bound (:func:`~bayesreg.pyro._runtime.compiled_function_count`).

This module is the engine's front door: it re-exports those names.
"""

from __future__ import annotations

from ._nuts import SAMPLE_STATS, MCMCResult, run_nuts
from ._posterior import GaussianPosterior
from ._runtime import batched_forward, isolated_pyro, resolve_device, seed_from
from ._schedule import Schedule
from ._svi import GUIDES, SVIResult, SVIState, fit_svi

__all__ = [
    "GUIDES",
    "SAMPLE_STATS",
    "GaussianPosterior",
    "MCMCResult",
    "SVIResult",
    "SVIState",
    "Schedule",
    "batched_forward",
    "fit_svi",
    "isolated_pyro",
    "resolve_device",
    "run_nuts",
    "seed_from",
]
