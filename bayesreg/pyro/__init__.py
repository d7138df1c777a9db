"""Pyro estimators: everything in bayesreg that imports pyro.

``bayesreg.PyroBayesianLinear`` and ``bayesreg.PyroBNNRegressor`` resolve
here lazily, so ``import bayesreg`` alone never imports torch. The plain-torch
``DeepEnsembleRegressor`` lives in :mod:`bayesreg.networks`;
``bayesreg.pyro.DeepEnsembleRegressor`` and ``bayesreg.pyro.ensemble`` still
name it (silently, for existing code and pickles) without importing pyro.
"""

from __future__ import annotations

import importlib


def __getattr__(name: str):
    if name != "DeepEnsembleRegressor":
        raise AttributeError(f"module 'bayesreg.pyro' has no attribute {name!r}")
    value = importlib.import_module("bayesreg.networks.ensemble").DeepEnsembleRegressor
    globals()[name] = value
    return value
