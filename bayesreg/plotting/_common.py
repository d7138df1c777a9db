"""What the Displays share: axes, artist keywords and argument checks."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._resolve import final_name
from ..distributions import _take_output
from ..metrics import predict_dist
from ..utils._checks import check_coverage, check_real, check_y_true


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
    def _from_fitted(cls, estimator, X, y, *, name: str | None, output=None, **kw):
        """``from_predictions`` on the predictive of ``estimator`` at ``X``
        (target ``output`` of several), named after the estimator unless
        ``name`` is given."""
        dist, y = _one_output(predict_dist(estimator, X), y, output)
        return cls.from_predictions(
            y, dist, name=final_name(estimator) if name is None else name, **kw
        )


def _one_output(dist, y_true, output, n_y: int | None = None):
    """The predictive (and the observations) of one target.

    A batch (n,) is returned as it is (``output`` must be None or 0); of a
    batch (n, k), target ``output`` (required when k > 1), with column
    ``output`` of ``y_true`` (of shape (n_y, k); ``n_y`` is n by default).
    """
    batch = tuple(getattr(dist, "batch_shape", (dist.n,)))
    k = 1 if len(batch) == 1 else batch[1]
    if output is None and k > 1:
        raise ValueError(
            f"the prediction has {k} targets and a display draws one: pass "
            f"output=j with 0 <= j < {k} to choose it."
        )
    bad = output is not None and (
        not isinstance(output, Integral)
        or isinstance(output, bool)
        or not 0 <= output < k
    )
    if bad and k == 1:
        raise ValueError(
            f"the prediction has one target: output must be None or 0, got {output!r}."
        )
    if bad:
        raise ValueError(
            f"output must be an integer in [0, {k}) (the prediction has {k} "
            f"targets), got {output!r}."
        )
    if len(batch) == 1:
        return dist, y_true
    j = 0 if output is None else int(output)
    if y_true is not None:
        n_y = dist.n if n_y is None else n_y
        y_true = check_y_true(y_true, n_y, (n_y, k))[:, j]
    return _take_output(dist, j), y_true


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
    x = check_real(X, name)  # complex or strings refused, naming X
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
