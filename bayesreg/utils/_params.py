"""What every ``__init__`` does: store its arguments, unchanged.

A leaf module: nothing else from the package.
"""

from __future__ import annotations


def store_params(obj, params: dict) -> None:
    """Set each argument of the calling ``__init__`` as an attribute of ``obj``.

    Called as ``store_params(self, locals())`` as the first statement of an
    ``__init__`` whose signature lists every parameter explicitly (as
    scikit-learn's ``get_params`` requires): at that point ``locals()`` holds
    exactly the arguments, plus ``self`` (and ``__class__`` where the method
    uses ``super()``), which are skipped. Nothing is validated or copied,
    so ``get_params``, ``set_params`` and ``clone`` see the values as passed;
    validation happens in ``fit``.
    """
    for name, value in params.items():
        if name != "self" and not name.startswith("__"):
            setattr(obj, name, value)
