"""PredictiveBandDisplay: the predictive mean and central bands over one input."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
from sklearn.exceptions import NotFittedError

from .._resolve import as_distribution, final_name, resolve_affine
from ..distributions import NormalMixture
from ..metrics import predict_dist
from ..utils._checks import check_y_true
from ..utils._params import store_params
from ..utils._random import check_generator
from ._common import (
    _check_coverages,
    _check_x_1d,
    _Display,
    _merged_kw,
    _one_output,
    _percent,
)


class PredictiveBandDisplay(_Display):
    """Predictive mean and central intervals over a one-dimensional input.

    The classic teaching figure: the data, the predictive mean, shaded
    central predictive intervals, and optionally regression functions drawn
    from the posterior (or from the prior of an unfitted estimator).

    Parameters
    ----------
    x : ndarray of shape (n_grid,)
        Input values at which the predictive was evaluated, increasing.
    mean : ndarray of shape (n_grid,)
        Predictive mean (or centre line) at ``x``.
    intervals : dict of float to ndarray of shape (n_grid, 2)
        Central interval bounds for each coverage level.
    x_data, y_data : ndarray of shape (n,), default=None
        Observations to scatter.
    function_draws : ndarray of shape (n_grid, n_draws), default=None
        Regression functions evaluated at ``x``, one per column.
    draws_from : {"posterior", "prior"}, default="posterior"
        Label of the draws (and of the band, for ``"prior"``).
    estimator_name : str, default=None
        Name used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The mean.
    bands_ : list of matplotlib PolyCollection
        One per coverage, widest first.
    data_ : matplotlib PathCollection or None
        The scattered observations.
    draws_ : list of matplotlib Line2D
        The function draws (empty without draws).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    bayesreg.predict_dist : the predictive distribution behind the band.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from bayesreg.plotting import PredictiveBandDisplay
    >>> X = np.linspace(0, 1, 20)[:, None]
    >>> y = 2 * X[:, 0] + 0.1 * np.cos(30 * X[:, 0])
    >>> disp = PredictiveBandDisplay.from_estimator(
    ...     BayesianRidge().fit(X, y), X, y, coverage=(0.5, 0.95)
    ... )
    >>> len(disp.bands_), len(disp.line_.get_xdata())
    (2, 200)
    """

    def __init__(
        self,
        *,
        x,
        mean,
        intervals: dict,
        x_data=None,
        y_data=None,
        function_draws=None,
        draws_from: str = "posterior",
        estimator_name: str | None = None,
    ):
        store_params(self, locals())

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        line_kw: dict | None = None,
        band_kw: dict | None = None,
        data_kw: dict | None = None,
        draws_kw: dict | None = None,
        legend: bool = True,
    ) -> PredictiveBandDisplay:
        """Draw the band, the mean, the draws and the data.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Legend name; defaults to ``estimator_name``.
        line_kw, band_kw, data_kw, draws_kw : dict, default=None
            Keyword arguments for ``ax.plot`` (mean), ``ax.fill_between``
            (bands), ``ax.scatter`` (data) and ``ax.plot`` (draws).
        legend : bool, default=True
            Add a legend.

        Returns
        -------
        self : PredictiveBandDisplay
        """
        ax, fig, name = self._axes(ax, name)
        x = np.asarray(self.x)
        mean = np.asarray(self.mean)
        line_kw = _merged_kw({}, line_kw, "line")
        color = line_kw.get("color", "C0")
        coverages = sorted(self.intervals, reverse=True)
        what = "prior" if self.draws_from == "prior" else "predictive"

        self.bands_ = []
        for i, c in enumerate(coverages):
            bounds = np.asarray(self.intervals[c])
            kw = _merged_kw(
                {
                    "color": color,
                    "alpha": 0.15 + 0.2 * i / max(len(coverages), 1),
                    "linewidth": 0,
                    "label": f"{_percent(c)} {what} interval",
                },
                band_kw,
                "collection",
            )
            self.bands_.append(ax.fill_between(x, bounds[:, 0], bounds[:, 1], **kw))

        self.draws_ = []
        if self.function_draws is not None:
            draws = np.asarray(self.function_draws)
            kw = _merged_kw(
                {"color": "C1", "alpha": 0.35, "linewidth": 0.8}, draws_kw, "line"
            )
            self.draws_ = ax.plot(x, draws, **kw)
            if self.draws_:
                self.draws_[0].set_label(f"functions from the {self.draws_from}")

        kw = {"color": color, "linewidth": 2.0}
        kw["label"] = f"{name} mean" if name else f"{what} mean"
        kw = _merged_kw(kw, line_kw, "line")
        (self.line_,) = ax.plot(x, mean, **kw)

        self.data_ = None
        if self.x_data is not None and self.y_data is not None:
            kw = _merged_kw(
                {"color": "k", "s": 12, "zorder": 3, "label": "data"},
                data_kw,
                "collection",
            )
            self.data_ = ax.scatter(self.x_data, self.y_data, **kw)

        ax.set_xlabel("x")
        ax.set_ylabel("y")
        return self._drawn(ax, fig, legend_loc="best" if legend else None)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        x_grid=None,
        grid_resolution: int = 200,
        extend: float = 0.0,
        coverage: float | Sequence[float] = 0.95,
        n_draws: int = 0,
        n_prior_samples: int = 2000,
        random_state=None,
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> PredictiveBandDisplay:
        """Plot the predictive band of an estimator over the range of ``X``.

        A fitted estimator (a bayesreg estimator or an sklearn regressor whose
        ``predict`` accepts ``return_std``, bare or inside any Pipeline,
        fitted search or TransformedTargetRegressor) gives its exact central
        intervals through :func:`bayesreg.predict_dist`; function draws need
        an affine target transform. An *unfitted* estimator that can draw
        from its prior (``ConjugateLinearRegression``) gives the prior
        predictive band, estimated from ``n_prior_samples`` draws of
        ``sample_y``, and its draws are prior functions.

        Parameters
        ----------
        estimator : estimator instance
        X : array-like of shape (n, 1) or (n,)
            Inputs, used for the plotting range and scattered with ``y``.
        y : array-like of shape (n,) or (n, n_targets), default=None
            Observations to scatter; None draws no data.
        x_grid : array-like of shape (n_grid,) or (n_grid, 1), default=None
            Where to evaluate the predictive; default an even grid over the
            range of ``X``.
        grid_resolution : int, default=200
            Number of grid points when ``x_grid`` is None.
        extend : float, default=0.0
            Widen the default grid by this fraction of the range of ``X`` on
            each side, to show how uncertainty grows away from the data.
        coverage : float or sequence of float, default=0.95
            Coverage of each central band, in (0, 1).
        n_draws : int, default=0
            Number of regression functions to draw. They come from the
            estimator's ``sample_functions`` (ConjugateLinearRegression), the
            posterior draws of a NormalMixture predictive (the Pyro
            estimators), or ``sample_y`` of a GaussianProcessRegressor.
        n_prior_samples : int, default=2000
            Prior predictive draws used for the band of an unfitted estimator.
        random_state : None, int or Generator, default=None
            Seed for the draws.
        ax : matplotlib Axes, default=None
        name : str, default=None
            Legend name; default the estimator's class name.
        output : int, default=None
            Which target to draw when the estimator predicts several (fitted
            to y of shape (n, k)); ``y`` then has shape (n, k) and its column
            ``output`` is scattered. Without it several targets raise
            ``ValueError``.
        **plot_kw
            Passed to :meth:`plot`.

        Returns
        -------
        PredictiveBandDisplay
        """
        x_data = _check_x_1d(X)
        if x_grid is None:
            if not isinstance(grid_resolution, Integral) or grid_resolution < 2:
                raise ValueError("grid_resolution must be an integer >= 2.")
            lo, hi = float(x_data.min()), float(x_data.max())
            pad = float(extend) * (hi - lo)
            grid = np.linspace(lo - pad, hi + pad, int(grid_resolution))
        else:
            grid = np.sort(_check_x_1d(x_grid, "x_grid"))
        if not isinstance(n_draws, Integral) or n_draws < 0:
            raise ValueError(
                f"n_draws must be a non-negative integer, got {n_draws!r}."
            )
        coverages = _check_coverages(coverage)
        rng = check_generator(random_state)
        G = grid[:, None]

        draws_from = "posterior"
        try:
            dist = predict_dist(estimator, G)
        except NotFittedError:
            dist = None
        if dist is not None:
            dist, y = _one_output(dist, y, output, n_y=x_data.shape[0])
            mean = dist.mean
            intervals = {c: dist.interval(c) for c in coverages}
            draws = _function_draws(estimator, G, dist, n_draws, rng, output)
        else:
            mean, intervals, draws = _prior_band(
                estimator, G, coverages, n_draws, n_prior_samples, rng
            )
            draws_from = "prior"
        y_data = None if y is None else check_y_true(y, x_data.shape[0])
        display = cls(
            x=grid,
            mean=mean,
            intervals=intervals,
            x_data=x_data if y_data is not None else None,
            y_data=y_data,
            function_draws=draws,
            draws_from=draws_from,
            estimator_name=final_name(estimator) if name is None else name,
        )
        return display.plot(ax=ax, **plot_kw)

    @classmethod
    def from_predictions(
        cls,
        x,
        y_pred,
        y_std=None,
        *,
        coverage: float | Sequence[float] = 0.95,
        x_data=None,
        y_data=None,
        function_draws=None,
        ax=None,
        name: str | None = None,
        output: int | None = None,
        **plot_kw,
    ) -> PredictiveBandDisplay:
        """Plot a predictive band from precomputed predictions.

        Parameters
        ----------
        x : array-like of shape (n_grid,)
            Inputs of the predictions (sorted here for drawing).
        y_pred : PredictiveDistribution or array-like of shape (n_grid,)
            Distributions, or Gaussian means with ``y_std``; of several
            targets (batch or shape (n_grid, k)) with ``output``.
        y_std : array-like of the shape of ``y_pred``, default=None
        coverage : float or sequence of float, default=0.95
        x_data, y_data : array-like of shape (n,), default=None
            Observations to scatter.
        function_draws : array-like of shape (n_grid, n_draws), default=None
            Functions evaluated at ``x``.
        ax : matplotlib Axes, default=None
        name : str, default=None
        output : int, default=None
            Which target to draw when ``y_pred`` has several; required then.
        **plot_kw
            Passed to :meth:`plot`.

        Returns
        -------
        PredictiveBandDisplay
        """
        x = _check_x_1d(x, "x")
        dist, _ = _one_output(as_distribution(y_pred, y_std), None, output)
        if dist.n != x.shape[0]:
            raise ValueError(
                f"x has {x.shape[0]} values but y_pred describes {dist.n} points."
            )
        order = np.argsort(x, kind="stable")
        coverages = _check_coverages(coverage)
        draws = None
        if function_draws is not None:
            draws = np.asarray(function_draws, dtype=float)
            if draws.ndim == 1:
                draws = draws[:, None]
            if draws.ndim != 2 or draws.shape[0] != x.shape[0]:
                raise ValueError(
                    f"function_draws must have shape ({x.shape[0]}, n_draws), "
                    f"got {np.shape(function_draws)}."
                )
            draws = draws[order]
        if (x_data is None) != (y_data is None):
            raise ValueError("pass both x_data and y_data, or neither.")
        if x_data is not None:
            x_data = _check_x_1d(x_data, "x_data")
            y_data = check_y_true(y_data, x_data.shape[0])
        display = cls(
            x=x[order],
            mean=dist.mean[order],
            intervals={c: dist.interval(c)[order] for c in coverages},
            x_data=x_data,
            y_data=y_data,
            function_draws=draws,
            estimator_name=name,
        )
        return display.plot(ax=ax, **plot_kw)


def _function_draws(estimator, G, dist, n_draws, rng, output=None):
    """Regression functions at the grid rows G, shape (n_grid, n_draws), of
    target ``output`` when there are several."""
    if n_draws == 0:
        return None
    final, Xt, (a, s) = resolve_affine(estimator, G)
    if np.ndim(a):  # one affine target map per target
        a, s = a[output or 0], s[output or 0]
    if callable(getattr(final, "sample_functions", None)):
        f = final.sample_functions(Xt, n_samples=n_draws, random_state=rng)
    elif isinstance(dist, NormalMixture):
        # The mixture's components are posterior draws of the function,
        # evaluated jointly over the grid: its locs are the draws.
        if n_draws > dist.n_components:
            raise ValueError(
                f"n_draws={n_draws} exceeds the {dist.n_components} posterior "
                "draws behind the predictive."
            )
        idx = rng.choice(dist.n_components, size=n_draws, replace=False)
        return dist.locs[:, np.sort(idx)]
    elif not callable(getattr(final, "predict_dist", None)) and callable(
        getattr(final, "sample_y", None)
    ):
        # sklearn's GaussianProcessRegressor: sample_y draws joint functions.
        seed = int(rng.integers(np.iinfo(np.int32).max))
        f = final.sample_y(Xt, n_samples=n_draws, random_state=seed)
    else:
        raise ValueError(
            f"{type(final).__name__} cannot draw regression functions; use n_draws=0."
        )
    f = np.asarray(f, dtype=float)
    if f.ndim == 3:  # (n_grid, k, n_draws): several targets
        f = f[:, output or 0, :]
    return a + s * f.reshape(G.shape[0], n_draws)


def _prior_band(estimator, G, coverages, n_draws, n_prior_samples, rng):
    """Band and draws of an unfitted estimator's prior, from its samplers."""
    final, Xt, (a, s) = resolve_affine(estimator, G)
    if not callable(getattr(final, "sample_y", None)):
        raise NotFittedError(
            f"{type(final).__name__} is not fitted and cannot draw from a prior."
        )
    if not isinstance(n_prior_samples, Integral) or n_prior_samples < 10:
        raise ValueError("n_prior_samples must be an integer >= 10.")
    samples = a + s * np.asarray(
        final.sample_y(Xt, n_samples=int(n_prior_samples), random_state=rng)
    )
    mean = samples.mean(axis=1)
    intervals = {
        c: np.quantile(samples, [0.5 - c / 2, 0.5 + c / 2], axis=1).T for c in coverages
    }
    draws = None
    if n_draws:
        if not callable(getattr(final, "sample_functions", None)):
            raise ValueError(
                f"{type(final).__name__} cannot draw prior functions; use n_draws=0."
            )
        draws = a + s * final.sample_functions(Xt, n_samples=n_draws, random_state=rng)
    return mean, intervals, draws
