"""Vectorised predictive distributions over n points (and k targets).

Every bayesreg estimator answers ``predict_dist(X)`` with one of these objects:
n independent univariate distributions, one per row of ``X`` (batch shape
(n,)), or, for an estimator fitted to k targets, n x k of them (batch shape
(n, k)); see :class:`PredictiveDistribution` for how arguments and results
are shaped. Everything a user
asks of a prediction (mean, std, intervals, densities, quantiles, draws) is a
method here, so estimators only have to say *which* distribution they predict.

Each distribution also carries the split of its variance into an *epistemic*
part (uncertainty about the regression function) and an *aleatoric* part (the
observation noise), with ``std**2 == epistemic_std**2 + aleatoric_std**2``.

The package is NumPy only, one module per family: ``_base``
(:class:`PredictiveDistribution`), ``_loc_scale`` (:class:`Normal`,
:class:`StudentT`), ``_mixture`` (:class:`NormalMixture`, its quantiles in
``_quantile``), ``_t_mixture`` (:class:`StudentTMixture`), ``_transformed``
and ``_maps`` (:class:`TransformedDistribution`).

**Lazy (dask) parameters.** An estimator's ``predict_dist`` on a dask ``X``
returns the lazy form of :class:`Normal` or :class:`StudentT` (a subclass,
defined with the rest of the dask code in :mod:`bayesreg._dask`), whose
parameters are dask arrays and whose ``lazy`` attribute is True. Nothing is
computed until the user asks:

- the parameters (``loc``, ``scale``, ``df``) and every result -- ``mean``,
  ``std``, ``var``, ``epistemic_std``, ``aleatoric_std``, ``interval``,
  ``median``, ``logpdf``, ``pdf``, ``cdf``, ``ppf`` and ``sample`` -- are
  dask arrays with the row chunks of ``loc``, evaluated block by block by
  the NumPy distribution of that block;
- arguments (``y``, quantile levels) may be NumPy or dask arrays;
- the checks of the parameter values (finite, ``scale >= 0``, ``df > 0``,
  ``epistemic_std <= scale``) run as each block is computed and raise
  the same ``ValueError`` then; shapes are checked at once;
- ``sample`` draws each block from its own seed, taken from
  ``random_state``: reproducible for the same chunking, but not the same
  numbers as the NumPy draws.

Built directly, these classes are NumPy only: dask parameters are
computed, as are the inputs of :class:`NormalMixture`.
:class:`TransformedDistribution` (the push-forward of any of these through a
strictly monotone map, the predictive of a model fitted to a transformed
target) is NumPy only and refuses a lazy base.
"""

# _KNOWN_MAPS, _Affine, _TANH_SINH, _flatten, _row_chunks, _row_subset,
# _take_output: private helpers that bayesreg.metrics and plotting build on.
from ._base import PredictiveDistribution
from ._loc_scale import Normal, StudentT
from ._maps import _KNOWN_MAPS, _Affine  # noqa: F401
from ._mixture import NormalMixture
from ._t_mixture import StudentTMixture
from ._transformed import (  # noqa: F401
    _TANH_SINH,
    TransformedDistribution,
    _flatten,
    _row_chunks,
    _row_subset,
    _take_output,
)

__all__ = [
    "Normal",
    "NormalMixture",
    "PredictiveDistribution",
    "StudentT",
    "StudentTMixture",
    "TransformedDistribution",
]
