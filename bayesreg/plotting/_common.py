"""What the Displays share: axes, artist keywords and argument checks."""

from __future__ import annotations

from numbers import Real

import numpy as np

from ..utils._checks import check_coverage


def _get_ax(ax):
    """The given axes, or new ones on a new figure (imports pyplot lazily)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax, ax.figure


def _merged_kw(defaults: dict, user: dict | None, artist: str) -> dict:
    """``defaults`` updated by the user's keywords, aliases resolved first.

    Without this, ``line_kw={"lw": 3}`` next to a default ``linewidth`` makes
    matplotlib raise: both spellings would reach the artist.
    """
    from matplotlib import cbook, collections, lines, patches

    cls = {
        "line": lines.Line2D,
        "collection": collections.Collection,
        "patch": patches.Patch,
    }[artist]
    user = cbook.normalize_kwargs(user or {}, cls)
    kw = cbook.normalize_kwargs(defaults, cls)
    if "c" in user:  # scatter's colour argument, not an alias of color
        kw.pop("color", None)
    kw.update(user)
    return kw


def _check_coverages(coverage) -> tuple[float, ...]:
    values = [coverage] if isinstance(coverage, Real) else list(coverage)
    if not values:
        raise ValueError("coverage must be a number or a non-empty sequence.")
    # Widest first, so narrower bands are drawn on top.
    return tuple(sorted((check_coverage(c) for c in values), reverse=True))


def _check_x_1d(X, name: str = "X") -> np.ndarray:
    x = np.asarray(X, dtype=float)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional or have a single column; got shape "
            f"{np.shape(X)}. The predictive band is drawn over one input."
        )
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be non-empty and finite.")
    return x


def _percent(c: float) -> str:
    return f"{100 * c:g}%"
