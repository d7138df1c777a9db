"""Test session set-up shared by tests/ and the doctests in bayesreg/."""

import os

# sklearn's check_array_api_input only runs when SciPy's array-API mode is on,
# and SciPy reads this variable at import time: set it before anything imports
# SciPy, so that check runs instead of being skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
# Keep plots headless in tests and doctests.
os.environ.setdefault("MPLBACKEND", "Agg")
