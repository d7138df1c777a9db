"""Utilities: random state handling and the predictive-contract check."""

from ._random import check_generator

__all__ = ["check_generator"]
