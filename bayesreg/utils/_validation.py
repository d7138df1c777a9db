"""Temporary: the intake moved to bayesreg._intake and bayesreg._dask.

Deleted once bayesreg/pyro/linear.py imports from there (utils is a leaf).
"""

from .._dask import validated_gram_stats  # noqa: F401
from .._intake import check_noise_posterior_proper  # noqa: F401
