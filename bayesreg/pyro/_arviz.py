"""Export a fitted Pyro estimator's posterior to an ArviZ ``InferenceData``.

ArviZ is an optional dependency: it is imported here, lazily, only when
``to_inference_data`` is called, so neither ``import bayesreg`` nor a fit
ever imports it. ArviZ 0.x is supported (0.17 and later, tested with 0.23):
ArviZ 1.0 replaced ``InferenceData`` by ``xarray.DataTree`` and renamed
plots such as ``plot_trace``.

The groups follow ArviZ's schema:

``posterior``
    The draws with dimensions ``(chain, draw, ...)``. NUTS: every kept draw
    of every chain (the engine stores the chains one after the other, so
    the pooled draws are cut back into chains). SVI: the estimator's own
    draws from the fitted guide as a single chain; they are independent
    draws from an approximation, not a Markov chain, so R-hat is close to 1
    and the effective sample size close to the number of draws by
    construction and say nothing about the quality of the approximation.
``sample_stats``
    NUTS only: the per-transition statistics of
    :data:`bayesreg.pyro._engine.SAMPLE_STATS`.
``observed_data``
    The training targets ``y`` (as passed to ``fit``, every row).
``constant_data``
    Model constants that are not random, such as a known noise std.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["to_inference_data"]


#: how to install a supported ArviZ (1.0 replaced InferenceData by DataTree)
_INSTALL = 'pip install "arviz>=0.17,<1"'


def _import_arviz():
    try:
        import arviz
    except ImportError as err:
        raise ImportError(
            "to_inference_data() needs ArviZ, an optional dependency of "
            f"bayesreg: {_INSTALL}"
        ) from err
    version = str(getattr(arviz, "__version__", "0"))
    major = version.split(".")[0]
    if major.isdigit() and int(major) >= 1:
        raise ImportError(
            "to_inference_data() returns an arviz.InferenceData, which ArviZ "
            f"1.0 replaced by xarray.DataTree; ArviZ {version} is installed: "
            f"{_INSTALL}"
        )
    return arviz


def to_inference_data(
    estimator,
    draws: Mapping[str, np.ndarray],
    *,
    sample_stats: Mapping[str, np.ndarray] | None,
    dims: Mapping[str, Sequence[str]] | None = None,
    constant_data: Mapping[str, Any] | None = None,
):
    """An ``arviz.InferenceData`` of a fitted estimator's posterior draws.

    Parameters
    ----------
    estimator : fitted estimator
        Supplies ``feature_names_in_`` (coordinates of a ``"feature"``
        dimension) and the stored training targets ``_observed_y``.
    draws : mapping of str to ndarray
        Pooled draws, each of shape (n_draws, ...): for NUTS the chains one
        after the other (:meth:`~bayesreg.pyro._engine.MCMCResult.pooled`),
        for SVI the draws from the guide.
    sample_stats : mapping of str to ndarray or None
        NUTS: per-transition statistics of shape (n_chains, n_draws_per_chain),
        which also give the chain structure. ``None`` for SVI: the draws
        become one chain.
    dims : mapping of str to sequence of str, optional
        Names of the dimensions after ``(chain, draw)`` of each variable.
    constant_data : mapping, optional
        Fixed quantities of the model, for the ``constant_data`` group.

    Returns
    -------
    arviz.InferenceData

    Raises
    ------
    ImportError
        If ArviZ is not installed, or is 1.0 or later (no InferenceData).
    """
    az = _import_arviz()
    import pyro

    if sample_stats is not None:
        n_chains, n_draws = next(iter(sample_stats.values())).shape
    else:
        n_chains, n_draws = 1, len(next(iter(draws.values())))
    # Copies: the InferenceData must not share memory with the fitted state.
    posterior = {
        name: np.array(v, dtype=np.float64).reshape((n_chains, n_draws, *v.shape[1:]))
        for name, v in draws.items()
    }
    coords = {}
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and any("feature" in d for d in (dims or {}).values()):
        coords["feature"] = [str(n) for n in names]
    groups: dict[str, Any] = {"posterior": posterior}
    if sample_stats is not None:
        groups["sample_stats"] = {k: np.array(v) for k, v in sample_stats.items()}
    observed = getattr(estimator, "_observed_y", None)
    if observed is not None:
        groups["observed_data"] = {"y": np.array(observed)}
    if constant_data:
        groups["constant_data"] = {k: np.asarray(v) for k, v in constant_data.items()}
    attrs = {
        "inference_library": "pyro",
        "inference_library_version": pyro.__version__,
        "inference": "nuts" if sample_stats is not None else "svi",
        "estimator": type(estimator).__name__,
    }
    idata = az.from_dict(**groups, coords=coords, dims=dict(dims or {}))
    for group in ("posterior", "sample_stats"):
        if group in groups:
            idata[group].attrs.update(attrs)
    return idata
