"""Plain-torch networks: the shared network base and DeepEnsembleRegressor.

Everything here uses NumPy and torch only; nothing imports pyro, so fitting
or loading a :class:`~bayesreg.DeepEnsembleRegressor` never loads it. The
Pyro network, :class:`~bayesreg.PyroBNNRegressor`, lives in ``bayesreg.pyro``
and inherits the base (``_base.py``) and the packed forward pass
(``_forward.py``) from here. ``DeepEnsembleRegressor`` resolves lazily, so
importing this package alone does not import torch.
"""

from __future__ import annotations

import importlib

__all__ = ["DeepEnsembleRegressor"]


def __getattr__(name: str):
    if name != "DeepEnsembleRegressor":
        raise AttributeError(f"module 'bayesreg.networks' has no attribute {name!r}")
    value = importlib.import_module("bayesreg.networks.ensemble").DeepEnsembleRegressor
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
