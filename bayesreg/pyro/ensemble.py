"""The former home of DeepEnsembleRegressor, now :mod:`bayesreg.networks.ensemble`.

Kept so that ``from bayesreg.pyro.ensemble import DeepEnsembleRegressor`` and
pickles made before the move (which name this module) still work; it names
the same class, without a warning, and imports no pyro.
"""

from __future__ import annotations

from ..networks.ensemble import DeepEnsembleRegressor

__all__ = ["DeepEnsembleRegressor"]
