"""Tests for bayesreg.plotting: every display renders under Agg, artists checked."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import BayesianRidge, LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from bayesreg.basis import BasisExpansion
from bayesreg.conjugate import ConjugateLinearRegression
from bayesreg.datasets import make_seed_problem
from bayesreg.distributions import Normal, NormalMixture
from bayesreg.metrics import calibration_curve, pit, predict_dist

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bayesreg.plotting import (  # noqa: E402
    LossCurveDisplay,
    PITDisplay,
    PredictiveBandDisplay,
    ReliabilityDisplay,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def seed_data():
    return make_seed_problem(60, noise_std=0.1, random_state=0)


def band_limits(band) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper y of a fill_between polygon at each of its x values."""
    verts = np.concatenate([p.vertices for p in band.get_paths()])
    return verts[:, 0], verts[:, 1]


def test_import_does_not_load_matplotlib():
    code = (
        "import sys, bayesreg.plotting, bayesreg.metrics\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- band
def test_band_from_estimator_draws_mean_bands_and_data(seed_data):
    X, y = seed_data
    pipe = Pipeline(
        [("basis", BasisExpansion(degree=8)), ("reg", BayesianRidge())]
    ).fit(X, y)
    disp = PredictiveBandDisplay.from_estimator(
        pipe, X, y, coverage=(0.5, 0.95), grid_resolution=50
    )
    grid = np.linspace(0, 1, 50)
    dist = predict_dist(pipe, grid[:, None])
    np.testing.assert_allclose(disp.line_.get_xdata(), grid)
    np.testing.assert_allclose(disp.line_.get_ydata(), dist.mean)
    assert len(disp.bands_) == 2
    for band, c in zip(disp.bands_, (0.95, 0.5), strict=True):
        _, ys = band_limits(band)
        bounds = dist.interval(c)
        # The polygon runs along both bounds: its extremes are theirs.
        assert ys.min() == pytest.approx(bounds[:, 0].min())
        assert ys.max() == pytest.approx(bounds[:, 1].max())
    assert len(disp.data_.get_offsets()) == len(y)
    assert disp.draws_ == []
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "95% predictive interval" in labels and "data" in labels
    assert disp.figure_ is disp.ax_.figure


def test_band_with_gpr_function_draws_and_given_axes(seed_data):
    X, y = seed_data
    gpr = GaussianProcessRegressor(RBF(0.1) + WhiteKernel(0.01)).fit(X, y)
    _, ax = plt.subplots()
    disp = PredictiveBandDisplay.from_estimator(
        gpr, X, y, n_draws=4, random_state=0, ax=ax, grid_resolution=30
    )
    assert disp.ax_ is ax
    assert len(disp.draws_) == 4
    assert len(ax.get_lines()) == 5  # 4 draws + the mean
    assert disp.draws_[0].get_label() == "functions from the posterior"


def test_band_from_predictions_sorts_and_checks_shapes():
    x = np.array([0.5, 0.0, 1.0])
    mean, std = np.array([5.0, 0.0, 10.0]), np.array([1.0, 1.0, 2.0])
    draws = np.column_stack([mean + 0.1, mean - 0.1])
    disp = PredictiveBandDisplay.from_predictions(
        x, mean, std, coverage=0.9, function_draws=draws, legend=False
    )
    np.testing.assert_allclose(disp.line_.get_xdata(), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(disp.line_.get_ydata(), [0.0, 5.0, 10.0])
    np.testing.assert_allclose(disp.draws_[0].get_ydata(), [0.1, 5.1, 10.1])
    _, ys = band_limits(disp.bands_[0])
    z = 1.6448536269514722
    assert ys.max() == pytest.approx(10.0 + 2 * z)
    assert ys.min() == pytest.approx(-z)
    assert disp.data_ is None and disp.ax_.get_legend() is None

    with pytest.raises(ValueError, match="describes 2 points"):
        PredictiveBandDisplay.from_predictions(x, Normal([0.0, 1.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="function_draws"):
        PredictiveBandDisplay.from_predictions(
            x, mean, std, function_draws=np.ones((2, 2))
        )
    with pytest.raises(ValueError, match="both x_data and y_data"):
        PredictiveBandDisplay.from_predictions(x, mean, std, x_data=x)
    with pytest.raises(ValueError, match="coverage"):
        PredictiveBandDisplay.from_predictions(x, mean, std, coverage=(0.5, 1.2))


def test_band_rejects_multidimensional_input_and_point_regressors(seed_data):
    X, y = seed_data
    with pytest.raises(ValueError, match="single column"):
        PredictiveBandDisplay.from_estimator(
            BayesianRidge().fit(np.hstack([X, X]), y), np.hstack([X, X]), y
        )
    with pytest.raises(TypeError, match="no predictive distribution"):
        PredictiveBandDisplay.from_estimator(LinearRegression().fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        PredictiveBandDisplay.from_estimator(BayesianRidge(), X, y)
    with pytest.raises(ValueError, match="cannot draw regression functions"):
        PredictiveBandDisplay.from_estimator(BayesianRidge().fit(X, y), X, y, n_draws=2)


def test_band_uses_mixture_components_as_function_draws():
    class MixtureModel(BayesianRidge):
        """Fake posterior draws: shifted copies of BayesianRidge's mean."""

        def predict_dist(self, X):
            mean = self.predict(X)
            return NormalMixture(mean[:, None] + np.arange(5.0), np.full(5, 0.1))

    X = np.linspace(0, 1, 10)[:, None]
    est = MixtureModel().fit(X, X[:, 0])
    disp = PredictiveBandDisplay.from_estimator(
        est, X, n_draws=3, random_state=0, grid_resolution=10
    )
    offsets = sorted(
        float(np.mean(ln.get_ydata() - est.predict(X))) for ln in disp.draws_
    )
    assert len(offsets) == 3
    assert set(np.round(offsets, 6)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    with pytest.raises(ValueError, match="exceeds"):
        PredictiveBandDisplay.from_estimator(est, X, n_draws=6)


def test_band_of_conjugate_posterior_and_prior():

    X = np.array([[2.0], [-2.0]])
    y = np.array([0.0, -2.0])
    reg = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0)
    grid = np.linspace(-5, 5, 40)

    prior = PredictiveBandDisplay.from_estimator(
        reg,
        grid,
        n_draws=10,
        n_prior_samples=4000,
        random_state=0,
        grid_resolution=40,
    )
    assert prior.draws_from == "prior"
    assert len(prior.draws_) == 10
    # Prior draws of a line through the origin (intercept 0 in prior draws).
    for ln in prior.draws_:
        f = ln.get_ydata()
        slope = (f[-1] - f[0]) / 10.0
        np.testing.assert_allclose(f, slope * grid, atol=1e-9)
    # The prior predictive sd at x is sqrt(25 x^2 + 1): the band follows it.
    _, ys = band_limits(prior.bands_[0])
    assert ys.max() == pytest.approx(1.96 * np.sqrt(25 * 25 + 1), rel=0.1)
    assert "95% prior interval" in [
        t.get_text() for t in prior.ax_.get_legend().get_texts()
    ]

    reg.fit(X, y)
    post = PredictiveBandDisplay.from_estimator(
        reg, grid, n_draws=7, random_state=0, grid_resolution=40
    )
    assert post.draws_from == "posterior" and len(post.draws_) == 7
    bounds = reg.predict_interval(grid[:, None], coverage=0.95)
    _, ys = band_limits(post.bands_[0])
    assert ys.max() == pytest.approx(bounds[:, 1].max())
    np.testing.assert_allclose(post.line_.get_ydata(), reg.predict(grid[:, None]))


def test_band_through_a_search_over_the_conjugate_pipeline(seed_data):

    X, y = seed_data
    pipe = Pipeline(
        [
            ("basis", BasisExpansion()),
            ("reg", ConjugateLinearRegression(fit_hyperparameters=True)),
        ]
    )
    search = GridSearchCV(pipe, {"basis__degree": [2, 8]}, cv=3).fit(X, y)
    disp = PredictiveBandDisplay.from_estimator(
        search, X, y, n_draws=5, random_state=0, grid_resolution=25
    )
    assert len(disp.draws_) == 5
    assert disp.estimator_name == "ConjugateLinearRegression"
    # Posterior functions stay near the posterior mean at the data.
    spread = np.std([ln.get_ydata() for ln in disp.draws_], axis=0)
    assert np.all(spread < 0.2)


# ---------------------------------------------------------------- reliability
def test_reliability_from_predictions_plots_the_curve():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    mean, std = np.zeros(300), np.full(300, 0.5)
    levels = [0.2, 0.5, 0.8]
    disp = ReliabilityDisplay.from_predictions(y, mean, std, levels=levels)
    nominal, observed = calibration_curve(y, mean, std, levels=levels)
    np.testing.assert_allclose(disp.line_.get_xdata(), nominal)
    np.testing.assert_allclose(disp.line_.get_ydata(), observed)
    # Over-confident: below the diagonal.
    assert np.all(disp.line_.get_ydata() < nominal)
    np.testing.assert_allclose(disp.reference_line_.get_ydata(), [0, 1])
    assert disp.ax_.get_xlabel() == "nominal coverage of the central interval"
    assert "error" in disp.line_.get_label()


def test_reliability_two_estimators_share_one_reference_line(seed_data):
    X, y = seed_data
    _, ax = plt.subplots()
    br = BayesianRidge().fit(X, y)
    gpr = GaussianProcessRegressor(RBF(0.1) + WhiteKernel(0.01)).fit(X, y)
    first = ReliabilityDisplay.from_estimator(br, X, y, ax=ax)
    second = ReliabilityDisplay.from_estimator(gpr, X, y, ax=ax, kind="quantile")
    assert first.reference_line_ is not None and second.reference_line_ is None
    assert len(ax.get_lines()) == 3
    assert first.line_.get_label().startswith("BayesianRidge")
    assert second.ax_.get_xlabel() == "quantile level"


# ---------------------------------------------------------------- PIT
def test_pit_histogram_bars_are_a_density():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    mean, std = np.zeros(500), np.full(500, 2.0)  # under-confident: a hump
    disp = PITDisplay.from_predictions(y, mean, std, n_bins=5)
    heights = np.array([p.get_height() for p in disp.bars_])
    widths = np.array([p.get_width() for p in disp.bars_])
    assert len(heights) == 5
    assert np.sum(heights * widths) == pytest.approx(1.0)
    counts, _ = np.histogram(pit(y, mean, std), bins=np.linspace(0, 1, 6))
    np.testing.assert_allclose(heights, counts / 500 / 0.2)
    assert heights[2] > 1.5 > heights[0]  # hump in the middle
    np.testing.assert_allclose(disp.reference_line_.get_ydata(), [1, 1])


def test_pit_from_estimator_through_pipeline(seed_data):
    X, y = seed_data
    pipe = Pipeline([("scale", StandardScaler()), ("reg", BayesianRidge())]).fit(X, y)
    disp = PITDisplay.from_estimator(pipe, X, y, n_bins=4, ref_line=False)
    heights = np.array([p.get_height() for p in disp.bars_])
    assert np.sum(heights) * 0.25 == pytest.approx(1.0)
    assert disp.reference_line_ is None
    assert disp.bars_[0].get_label() == "BayesianRidge"
    with pytest.raises(ValueError, match="n_bins"):
        disp.plot(n_bins=0)


# ---------------------------------------------------------------- loss curve
class FakeSVI:
    """Anything with a loss_curve_ attribute."""

    def __init__(self, loss):
        self.loss_curve_ = loss


def test_loss_curve_from_estimator_and_smoothing():
    loss = 50 * np.exp(-np.arange(100) / 20) + np.random.default_rng(0).normal(size=100)
    disp = LossCurveDisplay.from_estimator(FakeSVI(loss), smooth=10)
    np.testing.assert_allclose(disp.line_.get_ydata(), loss)
    np.testing.assert_allclose(disp.line_.get_xdata(), np.arange(1, 101))
    smoothed = disp.smoothed_line_.get_ydata()
    assert len(smoothed) == 91
    assert smoothed[0] == pytest.approx(loss[:10].mean())
    assert disp.estimator_name == "FakeSVI"
    assert disp.ax_.get_ylabel() == "loss (negative ELBO)"

    pipe = Pipeline([("scale", StandardScaler()), ("svi", FakeSVI([3.0, 2.0, 1.0]))])
    disp = LossCurveDisplay.from_estimator(pipe, log_scale=True)
    assert disp.smoothed_line_ is None and disp.ax_.get_yscale() == "log"

    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(BayesianRidge())
    with pytest.raises(ValueError, match="smooth"):
        LossCurveDisplay(loss_curve=[1.0, 2.0]).plot(smooth=5)
    with pytest.raises(ValueError, match="positive"):
        LossCurveDisplay(loss_curve=[1.0, -2.0]).plot(log_scale=True)


@pytest.mark.slow
def test_displays_and_scorers_with_a_real_svi_fit(seed_data):
    pytest.importorskip("pyro")
    from bayesreg.metrics import neg_crps_scorer, neg_nlpd_scorer
    from bayesreg.pyro.linear import PyroBayesianLinear

    X, y = seed_data
    pipe = Pipeline(
        [
            ("basis", BasisExpansion(degree=6)),
            (
                "reg",
                PyroBayesianLinear(
                    max_iter=40, n_particles=1, n_posterior_samples=20, random_state=0
                ),
            ),
        ]
    )
    with pytest.warns(Warning):  # too few iterations to converge, on purpose
        pipe.fit(X, y)
    curve = LossCurveDisplay.from_estimator(pipe, smooth=5)
    np.testing.assert_allclose(curve.line_.get_ydata(), pipe[-1].loss_curve_)
    assert curve.estimator_name == "PyroBayesianLinear"

    band = PredictiveBandDisplay.from_estimator(
        pipe, X, y, n_draws=5, random_state=0, grid_resolution=30
    )
    # The draws are the estimator's own sample_functions on the grid.
    grid = band.line_.get_xdata()[:, None]
    expected = pipe[-1].sample_functions(
        pipe[0].transform(grid), n_samples=5, random_state=np.random.default_rng(0)
    )
    drawn = np.column_stack([ln.get_ydata() for ln in band.draws_])
    np.testing.assert_allclose(drawn, expected)
    assert np.isfinite(neg_crps_scorer(pipe, X, y))
    assert np.isfinite(neg_nlpd_scorer(pipe, X, y))


def test_keyword_dicts_accept_matplotlib_aliases():
    """``lw``/``c``/``ec`` override the displays' own ``linewidth``/... defaults."""
    x = np.linspace(0, 1, 5)
    mean, std = x.copy(), np.full(5, 0.1)
    band = PredictiveBandDisplay.from_predictions(
        x,
        mean,
        std,
        x_data=x,
        y_data=mean,
        function_draws=np.column_stack([mean, mean]),
        line_kw={"lw": 3.5, "c": "C3"},
        band_kw={"lw": 2.0},
        draws_kw={"lw": 0.3},
        data_kw={"c": "C2"},
    )
    assert band.line_.get_linewidth() == 3.5
    assert band.line_.get_color() == "C3"
    assert band.bands_[0].get_linewidth()[0] == 2.0
    assert band.draws_[0].get_linewidth() == 0.3

    y = np.random.default_rng(0).normal(size=50)
    rel = ReliabilityDisplay.from_predictions(
        y, np.zeros(50), np.ones(50), line_kw={"ms": 9}
    )
    assert rel.line_.get_markersize() == 9
    pit_disp = PITDisplay.from_predictions(
        y, np.zeros(50), np.ones(50), hist_kw={"ec": "black"}
    )
    assert pit_disp.bars_[0].get_edgecolor()[:3] == (0.0, 0.0, 0.0)  # alpha 0.7
    loss = LossCurveDisplay.from_estimator(FakeSVI(np.ones(10)), line_kw={"lw": 3})
    assert loss.line_.get_linewidth() == 3
