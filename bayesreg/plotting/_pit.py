"""PITDisplay: the histogram of probability integral transform values."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._resolve import as_distribution
from ..metrics import pit
from ..utils._params import store_params
from ._common import _Display, _merged_kw, _one_output


class PITDisplay(_Display):
    """Histogram of probability integral transform values.

    For a calibrated predictive the PIT values ``F_i(y_i)`` are uniform: the
    histogram is flat at density one. A U shape means over-confidence, a
    hump under-confidence, a slope a biased mean.

    Parameters
    ----------
    pit_values : ndarray of shape (n,)
        Values in [0, 1].
    estimator_name : str, default=None

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        The bars; their heights are densities (they integrate to one).
    reference_line_ : matplotlib Line2D or None
        The uniform density.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    bayesreg.metrics.pit : the PIT values (and the reference for them).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from bayesreg.plotting import PITDisplay
    >>> y = np.random.default_rng(0).normal(size=400)
    >>> disp = PITDisplay.from_predictions(y, np.zeros(400), np.ones(400), n_bins=8)
    >>> len(disp.bars_)
    8
    """

    def __init__(self, *, pit_values, estimator_name: str | None = None):
        store_params(self, locals())

    def plot(
        self,
        ax=None,
        *,
        n_bins: int = 10,
        name: str | None = None,
        ref_line: bool = True,
        hist_kw: dict | None = None,
    ) -> PITDisplay:
        """Draw the histogram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        n_bins : int, default=10
            Number of equal-width bins on [0, 1].
        name : str, default=None
        ref_line : bool, default=True
            Draw the uniform density.
        hist_kw : dict, default=None
            Keyword arguments for ``ax.hist``.

        Returns
        -------
        self : PITDisplay
        """
        if not isinstance(n_bins, Integral) or n_bins < 1:
            raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
        ax, fig, name = self._axes(ax, name)
        kw = _merged_kw(
            {"alpha": 0.7, "edgecolor": "white", "label": name or "PIT"},
            hist_kw,
            "patch",
        )
        _, _, self.bars_ = ax.hist(
            np.asarray(self.pit_values),
            bins=np.linspace(0.0, 1.0, int(n_bins) + 1),
            density=True,
            **kw,
        )
        self.reference_line_ = None
        if ref_line:
            (self.reference_line_,) = ax.plot(
                [0, 1], [1, 1], "k:", linewidth=1, label="uniform (calibrated)"
            )
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT value F(y)")
        ax.set_ylabel("density")
        return self._drawn(ax, fig)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> PITDisplay:
        """PIT histogram of a fitted estimator on held-out ``(X, y)``.

        Parameters
        ----------
        estimator : estimator instance
            Anything :func:`bayesreg.predict_dist` accepts.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        ax : matplotlib Axes, default=None
        name : str, default=None
        output : int, default=None
            Which target to draw when the prediction has several (a model fitted
            to y of shape (n, k)); ``y`` then has shape (n, k) and its column
            ``output`` is drawn. Without it several targets raise ``ValueError``.
        **plot_kw
            Passed to :meth:`plot` (``n_bins``, ``hist_kw``...).

        Returns
        -------
        PITDisplay
        """
        return cls._from_fitted(
            estimator, X, y, ax=ax, name=name, output=output, **plot_kw
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        y_std=None,
        *,
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> PITDisplay:
        """PIT histogram from predictive distributions or means and stds.

        Parameters
        ----------
        y_true : array-like of shape (n,) or (n, k)
        y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
        y_std : array-like of the shape of ``y_pred``, default=None
        ax, name, output, **plot_kw
            See :meth:`from_estimator`; with several targets ``y_true`` has
            shape (n, k).

        Returns
        -------
        PITDisplay
        """
        dist, y_true = _one_output(as_distribution(y_pred, y_std), y_true, output)
        display = cls(pit_values=pit(y_true, dist), estimator_name=name)
        return display.plot(ax=ax, **plot_kw)
