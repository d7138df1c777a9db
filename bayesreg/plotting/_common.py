"""What the Displays share: axes, artist keywords and argument checks."""

from __future__ import annotations

from numbers import Real

import numpy as np

from .._resolve import final_name
from ..metrics import predict_dist
from ..utils._checks import check_coverage


class _Display:
    """What every Display shares: where it draws, under which name, and how
    a fitted estimator becomes its predictions."""

    estimator_name: str | None

    def _axes(self, ax, name: str | None):
        """The axes to draw on (new ones when None), their figure, and the
        legend name (``estimator_name`` unless ``name`` is given)."""
        ax, fig = _get_ax(ax)
        return ax, fig, self.estimator_name if name is None else name

    def _drawn(self, ax, fig, legend_loc: str | None = "best"):
        """Add the legend (unless ``legend_loc`` is None), keep the axes and
        figure as ``ax_`` and ``figure_``, and return the display."""
        if legend_loc is not None:
            ax.legend(loc=legend_loc, fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def _from_fitted(cls, estimator, X, y, *, name: str | None, **kwargs):
        """``from_predictions`` on the predictive of ``estimator`` at ``X``,
        named after the estimator unless ``name`` is given."""
        return cls.from_predictions(
            y,
            predict_dist(estimator, X),
            name=final_name(estimator) if name is None else name,
            **kwargs,
        )


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
