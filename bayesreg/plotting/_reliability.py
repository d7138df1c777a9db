"""ReliabilityDisplay: observed against nominal coverage."""

from __future__ import annotations

from .._resolve import as_distribution
from ..metrics import calibration_curve, calibration_error
from ..utils._checks import check_levels
from ..utils._params import store_params
from ._common import _Display, _merged_kw, _one_output


class ReliabilityDisplay(_Display):
    """Reliability diagram: observed against nominal coverage.

    A calibrated predictive follows the diagonal; a curve below it means
    intervals that are too narrow (over-confidence), above it too wide.

    Parameters
    ----------
    nominal : ndarray of shape (k,)
        Nominal levels.
    observed : ndarray of shape (k,)
        Observed frequencies at those levels.
    kind : {"interval", "quantile"}, default="interval"
        What the levels are; see :func:`bayesreg.metrics.calibration_curve`.
    calibration_error : float, default=None
        Shown in the legend when given.
    estimator_name : str, default=None

    Attributes
    ----------
    line_ : matplotlib Line2D
        The calibration curve.
    reference_line_ : matplotlib Line2D or None
        The diagonal (None when not drawn by this call).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    bayesreg.metrics.calibration_curve, bayesreg.metrics.calibration_error :
        the curve and its summary (and the reference for them).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from bayesreg.plotting import ReliabilityDisplay
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=500)
    >>> disp = ReliabilityDisplay.from_predictions(y, np.zeros(500), np.ones(500))
    >>> disp.line_.get_xdata().shape
    (19,)
    """

    def __init__(
        self,
        *,
        nominal,
        observed,
        kind: str = "interval",
        calibration_error: float | None = None,
        estimator_name: str | None = None,
    ):
        store_params(self, locals())

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        ref_line: bool = True,
        line_kw: dict | None = None,
    ) -> ReliabilityDisplay:
        """Draw the curve (and the diagonal, once per axes).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Pass the axes of an earlier display to compare estimators.
        name : str, default=None
        ref_line : bool, default=True
            Draw the diagonal unless these axes already have it.
        line_kw : dict, default=None
            Keyword arguments for ``ax.plot``.

        Returns
        -------
        self : ReliabilityDisplay
        """
        ax, fig, name = self._axes(ax, name)
        ref_label = "perfectly calibrated"
        self.reference_line_ = None
        if ref_line and ref_label not in [ln.get_label() for ln in ax.get_lines()]:
            (self.reference_line_,) = ax.plot(
                [0, 1], [0, 1], "k:", linewidth=1, label=ref_label
            )
        label = name or "predictive"
        if self.calibration_error is not None:
            label = f"{label} (error {self.calibration_error:.3f})"
        kw = _merged_kw(
            {"marker": "o", "markersize": 4, "label": label}, line_kw, "line"
        )
        (self.line_,) = ax.plot(self.nominal, self.observed, **kw)
        if self.kind == "quantile":
            ax.set_xlabel("quantile level")
            ax.set_ylabel("observed fraction below the quantile")
        else:
            ax.set_xlabel("nominal coverage of the central interval")
            ax.set_ylabel("observed coverage")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        return self._drawn(ax, fig, legend_loc="upper left")

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        levels=None,
        kind: str = "interval",
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> ReliabilityDisplay:
        """Reliability diagram of a fitted estimator on held-out ``(X, y)``.

        Parameters
        ----------
        estimator : estimator instance
            Anything :func:`bayesreg.predict_dist` accepts.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        levels : array-like, default=None
            Nominal levels; default ``0.05, 0.10, ..., 0.95``.
        kind : {"interval", "quantile"}, default="interval"
        ax : matplotlib Axes, default=None
        name : str, default=None
        output : int, default=None
            Which target to draw when the prediction has several (a model fitted
            to y of shape (n, k)); ``y`` then has shape (n, k) and its column
            ``output`` is drawn. Without it several targets raise ``ValueError``.
        **plot_kw
            Passed to :meth:`plot`.

        Returns
        -------
        ReliabilityDisplay
        """
        return cls._from_fitted(
            estimator,
            X,
            y,
            levels=levels,
            kind=kind,
            ax=ax,
            name=name,
            output=output,
            **plot_kw,
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        y_std=None,
        *,
        levels=None,
        kind: str = "interval",
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> ReliabilityDisplay:
        """Reliability diagram from predictive distributions or means and stds.

        Parameters
        ----------
        y_true : array-like of shape (n,) or (n, k)
        y_pred : PredictiveDistribution or array-like of shape (n,) or (n, k)
        y_std : array-like of the shape of ``y_pred``, default=None
        levels, kind, ax, name, output, **plot_kw
            See :meth:`from_estimator`; with several targets ``y_true`` has
            shape (n, k).

        Returns
        -------
        ReliabilityDisplay
        """
        levels = check_levels(levels)
        dist, y_true = _one_output(as_distribution(y_pred, y_std), y_true, output)
        nominal, observed = calibration_curve(y_true, dist, levels=levels, kind=kind)
        err = calibration_error(y_true, dist, levels=levels, kind=kind)
        display = cls(
            nominal=nominal,
            observed=observed,
            kind=kind,
            calibration_error=err,
            estimator_name=name,
        )
        return display.plot(ax=ax, **plot_kw)
