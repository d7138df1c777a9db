"""bayesreg: scikit-learn compatible Bayesian regression.

Every estimator answers ``predict_dist(X)``; predictions, standard deviations,
intervals, samples and log densities all derive from it.

Public names resolve lazily (PEP 562), so ``import bayesreg`` is cheap and
never imports torch or pyro; the estimators in ``bayesreg.pyro`` (pyro and
torch) and ``bayesreg.networks`` (torch alone) load them on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0.dev0"

_LAZY = {
    "BasisExpansion": "bayesreg.basis",
    "ConjugateLinearRegression": "bayesreg.conjugate",
    "RidgeMAP": "bayesreg.ridge",
    "EvidenceSearch": "bayesreg.model_selection",
    "predict_dist": "bayesreg.metrics",
    "PyroBayesianLinear": "bayesreg.pyro.linear",
    "PyroBNNRegressor": "bayesreg.pyro.bnn",
    "DeepEnsembleRegressor": "bayesreg.networks.ensemble",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'bayesreg' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
