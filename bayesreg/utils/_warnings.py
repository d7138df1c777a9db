"""Warnings that name the user's line, not the library's.

``warnings.warn(..., stacklevel=k)`` attributes a warning to the ``k``-th
frame up from the one that warns. A fixed ``k`` is right for one call path
only: the same ConvergenceWarning reached from ``est.fit(X, y)``, from a
``Pipeline`` or from ``GridSearchCV`` passes through a different number of
frames of bayesreg and scikit-learn. :func:`find_stack_level` counts them
(NumPyro's and pandas' ``find_stack_level`` are the model).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Sequence

__all__ = ["find_stack_level"]

#: this package's folder (utils/ is a leaf: it imports nothing from bayesreg)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

#: the libraries whose internals a fit passes through on its way from the
#: user's call (meta-estimators, cross-validation, their parallel loops)
_INTERNAL_LIBRARIES = ("sklearn", "joblib")


def _folders() -> tuple[str, ...]:
    """The folders of this package and of the loaded internal libraries."""
    folders = [_PACKAGE_DIR]
    for name in _INTERNAL_LIBRARIES:
        module = sys.modules.get(name)  # not loaded: none of its frames runs
        path = getattr(module, "__file__", None)
        if path:
            folders.append(os.path.dirname(os.path.abspath(path)) + os.sep)
    return tuple(folders)


def find_stack_level() -> int:
    """The ``stacklevel`` that attributes a warning to the user's code.

    Call it as the argument of ``warnings.warn`` in a function of bayesreg:
    ``warnings.warn(message, category, stacklevel=find_stack_level())``. It
    counts the frames from that function outwards that belong to bayesreg,
    scikit-learn or joblib, so the warning names the first frame outside
    them: the line that called ``est.fit``, or the one that called the
    ``Pipeline``'s or ``GridSearchCV``'s ``fit`` that fitted the estimator.
    Where no such frame exists (a fit in a worker of ``n_jobs > 1``, whose
    stack ends in the parallel machinery), the warning names the first frame
    outside bayesreg.

    Returns
    -------
    int
        The ``stacklevel`` to pass to ``warnings.warn``.

    Examples
    --------
    >>> import warnings
    >>> from bayesreg.utils._warnings import find_stack_level
    >>> def fit():  # a function of the library would call it like this
    ...     warnings.warn("stopped early", UserWarning, stacklevel=find_stack_level())
    >>> find_stack_level() >= 1
    True
    """
    frame = inspect.currentframe()
    filenames = []
    while frame is not None:
        filenames.append(frame.f_code.co_filename)
        frame = frame.f_back
    return _stack_level(filenames, _folders())


def _stack_level(filenames: Sequence[str], folders: tuple[str, ...]) -> int:
    """The index of the first of ``filenames`` (innermost first: the caller
    of :func:`find_stack_level` at index 1) outside ``folders``; failing
    that, of the first outside this package (``folders[0]``); failing that,
    their count."""
    paths = [os.path.abspath(name) for name in filenames]
    for outside in (folders, folders[:1]):
        for level, path in enumerate(paths):
            if not path.startswith(outside):
                return level
    return len(paths)
