"""LossCurveDisplay: the training loss of an iterative fit."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._resolve import final_estimator
from ..utils._params import store_params
from ._common import _Display, _merged_kw


class LossCurveDisplay(_Display):
    """The training loss of an iterative fit, e.g. the negative ELBO of SVI.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Loss after each iteration (the ``loss_curve_`` attribute of the Pyro
        estimators).
    estimator_name : str, default=None

    Attributes
    ----------
    line_ : matplotlib Line2D
        The raw loss.
    smoothed_line_ : matplotlib Line2D or None
        Its moving average, when ``smooth`` was given.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from bayesreg.plotting import LossCurveDisplay
    >>> loss = 100 * np.exp(-np.arange(300) / 50) + 5
    >>> disp = LossCurveDisplay(loss_curve=loss).plot(smooth=20)
    >>> len(disp.line_.get_ydata()), len(disp.smoothed_line_.get_ydata())
    (300, 281)
    """

    def __init__(self, *, loss_curve, estimator_name: str | None = None):
        store_params(self, locals())

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        smooth: int | None = None,
        log_scale: bool = False,
        line_kw: dict | None = None,
    ) -> LossCurveDisplay:
        """Draw the loss against the iteration number.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        name : str, default=None
        smooth : int, default=None
            Also draw the moving average over this many iterations (the
            stochastic ELBO is noisy).
        log_scale : bool, default=False
            Logarithmic y axis; only for positive losses.
        line_kw : dict, default=None
            Keyword arguments for the raw curve's ``ax.plot``.

        Returns
        -------
        self : LossCurveDisplay
        """
        loss = np.asarray(self.loss_curve, dtype=float).reshape(-1)
        if loss.size == 0:
            raise ValueError("loss_curve is empty.")
        if smooth is not None and (
            not isinstance(smooth, Integral) or not 1 <= smooth <= loss.size
        ):
            raise ValueError(
                f"smooth must be an integer between 1 and {loss.size}, got {smooth!r}."
            )
        ax, fig, name = self._axes(ax, name)
        steps = np.arange(1, loss.size + 1)
        kw = {"color": "C0", "alpha": 0.5 if smooth else 1.0, "linewidth": 1.0}
        kw["label"] = name or "loss"
        kw = _merged_kw(kw, line_kw, "line")
        (self.line_,) = ax.plot(steps, loss, **kw)
        self.smoothed_line_ = None
        if smooth:
            avg = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
            (self.smoothed_line_,) = ax.plot(
                steps[smooth - 1 :],
                avg,
                color=self.line_.get_color(),
                linewidth=2.0,
                label=f"moving average ({smooth})",
            )
        if log_scale:
            if np.any(loss <= 0):
                raise ValueError("log_scale needs a positive loss.")
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss (negative ELBO)")
        return self._drawn(ax, fig)

    @classmethod
    def from_estimator(
        cls, estimator, *, ax=None, name: str | None = None, **plot_kw
    ) -> LossCurveDisplay:
        """Plot the ``loss_curve_`` of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted estimator with ``loss_curve_`` (PyroBayesianLinear,
            PyroBNNRegressor, MLPRegressor...), or any Pipeline, fitted search
            or TransformedTargetRegressor around one (the wrappers
            :func:`bayesreg.predict_dist` sees through).
        ax : matplotlib Axes, default=None
        name : str, default=None
        **plot_kw
            Passed to :meth:`plot` (``smooth``, ``log_scale``...).

        Returns
        -------
        LossCurveDisplay
        """
        final = final_estimator(estimator)
        loss = getattr(final, "loss_curve_", None)
        if loss is None:
            raise ValueError(
                f"{type(final).__name__} has no loss_curve_; is it fitted, and "
                "is it fitted iteratively?"
            )
        display = cls(
            loss_curve=np.asarray(loss, dtype=float),
            estimator_name=type(final).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **plot_kw)
