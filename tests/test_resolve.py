"""The one resolver: every wrapper combination resolves the same way in all
four of its users (predict_dist, the metrics, the plots, EvidenceSearch)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bayesreg import ConjugateLinearRegression, EvidenceSearch, predict_dist
from bayesreg._resolve import final_name, resolve_affine, unwrap
from bayesreg.distributions import Normal, StudentT
from bayesreg.metrics import log_predictive_density, mean_crps, neg_crps_scorer

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from bayesreg.plotting import (  # noqa: E402
    LossCurveDisplay,
    PredictiveBandDisplay,
    ReliabilityDisplay,
)

GRID = {"prior_std": [0.5, 5.0]}


def _model():
    return ConjugateLinearRegression()


def _pipe(model=None):
    return make_pipeline(StandardScaler(), _model() if model is None else model)


def _ttr(model):
    return TransformedTargetRegressor(model, transformer=StandardScaler())


def _grid(model, prefix=""):
    return GridSearchCV(model, {prefix + k: v for k, v in GRID.items()}, cv=3)


def _log(model):
    return TransformedTargetRegressor(model, func=np.log, inverse_func=np.exp)


# name -> (unfitted estimator, whether a target transform lies on the path)
COMBINATIONS = {
    "bare": (_model, False),
    "pipeline": (_pipe, False),
    "nested pipeline": (lambda: make_pipeline(StandardScaler(), _pipe()), False),
    "grid": (lambda: _grid(_model()), False),
    "randomized": (
        lambda: RandomizedSearchCV(_model(), GRID, n_iter=2, cv=3, random_state=0),
        False,
    ),
    "grid of pipeline": (
        lambda: _grid(_pipe(), "conjugatelinearregression__"),
        False,
    ),
    "pipeline of grid": (
        lambda: make_pipeline(StandardScaler(), _grid(_model())),
        False,
    ),
    "evidence search": (lambda: EvidenceSearch(_pipe(), {}), False),
    "pipeline of evidence search": (
        lambda: make_pipeline(StandardScaler(), EvidenceSearch(_model(), GRID)),
        False,
    ),
    "target scaler": (lambda: _ttr(_model()), True),
    "target scaler of pipeline": (lambda: _ttr(_pipe()), True),
    "pipeline of target scaler": (lambda: _pipe(_ttr(_model())), True),
    "grid of target scaler": (lambda: _grid(_ttr(_model()), "regressor__"), True),
    "target scaler of evidence search": (
        lambda: _ttr(EvidenceSearch(_model(), GRID)),
        True,
    ),
    "log target": (lambda: _log(_model()), True),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(60, 1))
    y = 4.0 + X[:, 0] + 0.3 * rng.normal(size=60)
    return X, y  # y > 0: the log target is defined


def _reference(fitted, X):
    """The predictive of y found by walking the wrappers by hand, with the
    target transform applied to the final step's own distribution."""
    est, Xt, transforms = fitted, X, []
    while True:
        if hasattr(est, "steps"):
            for _, step in est.steps[:-1]:
                Xt = step.transform(Xt)
            est = est.steps[-1][1]
        elif hasattr(est, "best_estimator_"):
            est = est.best_estimator_
        elif hasattr(est, "regressor_"):
            transforms.append(est)
            est = est.regressor_
        else:
            break
    assert isinstance(est, ConjugateLinearRegression)
    dist = est.predict_dist(Xt)
    for ttr in reversed(transforms):
        if ttr.func is np.log:
            return est, None  # a push-forward; checked against its own median
        scaler = ttr.transformer_
        a, s = scaler.mean_[0], scaler.scale_[0]
        assert isinstance(dist, StudentT | Normal)
        dist = type(dist)(
            *((dist.df,) if isinstance(dist, StudentT) else ()),
            a + s * dist.loc,
            s * dist.scale,
        )
    return est, dist


@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_every_user_resolves_the_same_way(data, combination):
    X, y = data
    make, has_target = COMBINATIONS[combination]
    fitted = make().fit(X, y)
    final, ref = _reference(fitted, X)

    # The resolver itself.
    resolved = unwrap(fitted, X)
    assert resolved.final is final
    assert bool(resolved.targets) == has_target
    assert final_name(fitted) == "ConjugateLinearRegression"

    # 1. predict_dist
    dist = predict_dist(fitted, X)
    if ref is None:
        assert_allclose(dist.median(), fitted.predict(X), rtol=1e-9)
    else:
        assert_allclose(dist.mean, ref.mean, rtol=1e-12)
        assert_allclose(dist.std, ref.std, rtol=1e-12)

    # 2. the metrics: the scorers and the log density see the same predictive
    assert neg_crps_scorer(fitted, X, y) == pytest.approx(-mean_crps(y, dist))
    assert_allclose(log_predictive_density(fitted, X, y), dist.logpdf(y), rtol=1e-9)

    # 3. the plots: the same band, the same name, the same final estimator
    band = PredictiveBandDisplay.from_estimator(
        fitted, X, y, n_draws=0 if ref is None else 2, random_state=0
    )
    order = np.argsort(band.x)
    assert_allclose(band.mean[order], predict_dist(fitted, band.x[:, None]).mean)
    assert band.estimator_name == "ConjugateLinearRegression"
    reliability = ReliabilityDisplay.from_estimator(fitted, X, y)
    assert reliability.estimator_name == "ConjugateLinearRegression"
    with pytest.raises(ValueError, match="ConjugateLinearRegression has no loss"):
        LossCurveDisplay.from_estimator(fitted)
    matplotlib.pyplot.close("all")

    # 4. EvidenceSearch: the evidence of the final step, and the same
    # predictive; a target transform is refused by name (its evidence is of
    # the transformed target, not of y).
    search = EvidenceSearch(make(), {})
    if has_target:
        with pytest.raises(TypeError, match="transforms the target"):
            search.fit(X, y)
        return
    search.fit(X, y)
    assert search.best_score_ == final.log_marginal_likelihood_
    assert_allclose(search.predict_dist(X).mean, dist.mean, rtol=1e-12)
    assert_allclose(search.predict_dist(X).std, dist.std, rtol=1e-12)


def test_function_draws_need_an_affine_target_map(data):
    X, y = data
    with pytest.raises(ValueError, match="affine"):
        resolve_affine(_log(_model()).fit(X, y), X)
    final, _, (a, s) = resolve_affine(_ttr(_model()).fit(X, y), X)
    assert isinstance(final, ConjugateLinearRegression)
    assert a == pytest.approx(y.mean()) and s == pytest.approx(y.std())


def test_unfitted_and_refit_false_searches_are_refused(data):
    X, y = data
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        predict_dist(_grid(_model()), X)
    with pytest.raises(NotFittedError):
        predict_dist(_ttr(_model()), X)
    no_refit = GridSearchCV(_model(), GRID, cv=3, refit=False).fit(X, y)
    with pytest.raises(ValueError, match="refit=True"):
        predict_dist(no_refit, X)
    with pytest.raises(ValueError, match="refit=True"):
        LossCurveDisplay.from_estimator(no_refit)
