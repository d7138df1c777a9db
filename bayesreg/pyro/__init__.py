"""Pyro estimators: everything in bayesreg that imports torch or pyro.

``bayesreg.PyroBayesianLinear``, ``bayesreg.PyroBNNRegressor`` and
``bayesreg.DeepEnsembleRegressor`` resolve here lazily, so ``import bayesreg``
alone never imports torch.
"""
