"""Pyro estimators: everything in bayesreg that imports torch or pyro.

``bayesreg.PyroBayesianLinear`` and ``bayesreg.PyroBNNRegressor`` resolve here
lazily, so ``import bayesreg`` alone never imports torch.
"""
