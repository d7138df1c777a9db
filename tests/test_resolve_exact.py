"""The resolver against references written out by hand: the law of
``a + s Y`` for affine target maps, the log-normal for a log target, and
scikit-learn's own estimators; and its contract (exact error messages, the
documented return values of ``target_map``)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import BayesianRidge, LinearRegression
from sklearn.preprocessing import FunctionTransformer, PowerTransformer, StandardScaler

from bayesreg import predict_dist
from bayesreg._resolve import (
    _TargetFunction,
    as_distribution,
    resolve_affine,
    target_map,
)
from bayesreg.distributions import Normal, PredictiveDistribution
from bayesreg.metrics import crps, mean_crps, mean_nlpd


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 2))
    y = 3.0 + X @ np.array([0.5, -0.3]) + 0.2 * rng.normal(size=40)
    return X, y


# ---------------------------------------------------------------- arrays
def test_a_zero_std_is_a_point_forecast_for_the_crps():
    # Not strict by default: the CRPS of a zero std is the absolute error,
    # for one target and for k.
    y, mean = np.array([0.0, 1.0]), np.array([0.5, -1.0])
    assert mean_crps(y, mean, y_std=[0.0, 0.0]) == pytest.approx(1.25)
    y2, mean2 = np.c_[y, 2 * y], np.c_[mean, mean]
    assert_allclose(
        mean_crps(y2, mean2, y_std=np.zeros((2, 2)), multioutput="raw_values"),
        np.abs(y2 - mean2).mean(axis=0),
    )


def test_one_column_of_means_is_one_target():
    y = np.array([0.2, -1.0, 3.0])
    mean, std = np.array([0.0, 0.5, 2.0]), np.array([1.0, 0.5, 2.0])
    expected = crps(y, mean, std)
    for m, s in ((mean[:, None], std), (mean[:, None], std[:, None])):
        got = crps(y, m, s)
        assert got.shape == (3,)
        assert_allclose(got, expected, rtol=1e-15)


def test_two_targets_are_two_normals():
    y = np.array([[0.0, 1.0], [2.0, -1.0]])
    mean, std = np.array([[0.5, 0.0], [1.0, 1.0]]), np.array([[1.0, 2.0], [0.5, 1.0]])
    expected = -stats.norm.logpdf(y, mean, std).mean(axis=0)
    assert_allclose(
        mean_nlpd(y, mean, std, multioutput="raw_values"), expected, rtol=1e-14
    )


NAN_K = np.array([[0.0, np.nan], [1.0, 1.0]])


@pytest.mark.parametrize(
    "y_pred, y_std, strict, message",
    [
        (
            Normal([0.0], [1.0]),
            [1.0],
            False,
            "y_std must be None when y_pred is a predictive distribution.",
        ),
        (
            [0.0],
            None,
            False,
            "y_pred is an array of means: pass its standard deviations as y_std, "
            "or pass a bayesreg.distributions object instead.",
        ),
        (
            ["a", "b"],
            [1.0, 1.0],
            False,
            "y_pred must be numeric; got strings or bytes (<U1).",
        ),
        (
            np.ones((2, 2)),
            [["a", "b"], ["c", "d"]],
            False,
            "y_std must be numeric; got strings or bytes (<U1).",
        ),
        (NAN_K, np.ones((2, 2)), False, "y_pred contains NaN or infinite values."),
        (np.ones((2, 2)), NAN_K, False, "y_std contains NaN or infinite values."),
        (
            np.ones((2, 2)),
            np.ones((2, 3)),
            False,
            "y_std must have the shape of y_pred, (2, 2), got (2, 3).",
        ),
        (np.ones((2, 2)), -np.ones((2, 2)), False, "y_std must be non-negative."),
        (
            np.ones((2, 2)),
            np.zeros((2, 2)),
            True,
            "y_std must be strictly positive for a density.",
        ),
        (
            np.ones((2, 1, 1)),
            np.ones(2),
            False,
            "y_pred must have shape (n,) or (n, k), got shape (2, 1, 1).",
        ),
        ([0.0, np.inf], [1.0, 1.0], False, "y_pred contains NaN or infinite values."),
    ],
)
def test_as_distribution_names_the_problem(y_pred, y_std, strict, message):
    with pytest.raises(ValueError, match=_exact(message)):
        as_distribution(y_pred, y_std, strict=strict)


# ---------------------------------------------------------------- affine maps
class _Shift(TransformerMixin, BaseEstimator):
    """y -> (y - a) / s, with no n_features_in_ (a minimal user transformer)."""

    def __init__(self, a=0.0, s=1.0):
        self.a, self.s = a, s

    def fit(self, y):
        return self

    def transform(self, y):
        return (np.asarray(y) - self.a) / self.s

    def inverse_transform(self, z):
        # Object arrays of numbers are still numbers.
        return np.asarray(self.a + self.s * np.asarray(z), dtype=object)


@pytest.mark.parametrize("a, s", [(3.0, 1.0), (1.0, 1.0), (0.0, 2.0), (-2.0, -0.5)])
def test_an_affine_target_map_moves_the_predictive_exactly(data, a, s):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(), transformer=_Shift(a, s), check_inverse=False
    ).fit(X, y)
    inner = ttr.regressor_
    mean, std = inner.predict(X, return_std=True)
    dist = predict_dist(ttr, X)
    assert isinstance(dist, Normal)
    assert_allclose(dist.mean, a + s * mean, rtol=1e-13)
    assert_allclose(dist.std, abs(s) * std, rtol=1e-13)
    final, _, (a_, s_) = resolve_affine(ttr, X)
    assert final is inner and (a_, s_) == (pytest.approx(a), pytest.approx(s))


def test_two_targets_get_one_affine_map_each(data):
    X, y = data
    Y = np.c_[y, -10.0 * y + 4.0]
    ttr = TransformedTargetRegressor(LinearNormal2(), transformer=StandardScaler())
    ttr.fit(X, Y)
    scaler = ttr.transformer_
    inner = ttr.regressor_.predict_dist(X)
    dist = predict_dist(ttr, X)
    assert dist.batch_shape == (40, 2)
    assert_allclose(dist.mean, scaler.mean_ + scaler.scale_ * inner.mean, rtol=1e-13)
    assert_allclose(dist.std, scaler.scale_ * inner.std, rtol=1e-13)
    kind, a, s = target_map(scaler)
    assert kind == "affine"
    assert_allclose(a, scaler.mean_) and assert_allclose(s, scaler.scale_)


class LinearNormal2(RegressorMixin, BaseEstimator):
    """Least squares with a Normal predictive of unit std, for k targets."""

    def fit(self, X, y):
        self.lr_ = LinearRegression().fit(X, y)
        return self

    def predict(self, X):
        return self.lr_.predict(X)

    def predict_dist(self, X):
        mean = self.lr_.predict(X)
        return Normal(mean, np.ones_like(mean))


def test_an_affine_map_of_a_push_forward_of_two_targets_is_refused(data):
    X, y = data
    Y = np.c_[np.exp(y), np.exp(-y)]
    log = TransformedTargetRegressor(LinearNormal2(), func=np.log, inverse_func=np.exp)
    scaler = StandardScaler(with_mean=False)  # keeps Y positive for the log
    ttr = TransformedTargetRegressor(log, transformer=scaler).fit(X, Y)
    message = (
        "a TransformedDistribution of several targets can be mapped through one "
        "affine map per target only if it is a Normal, StudentT or NormalMixture."
    )
    with pytest.raises(ValueError, match=_exact(message)):
        predict_dist(ttr, X)


@pytest.mark.parametrize("c", [1e-6, 1e-3])
def test_a_nearly_affine_map_is_pushed_forward_not_rounded_to_affine(data, c):
    # inverse g(z) = z + c z^2: E g(Z) = mu + c (mu^2 + sigma^2) exactly.
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        func=lambda v: 2.0 * v / (1.0 + np.sqrt(1.0 + 4.0 * c * v)),
        inverse_func=lambda z: z + c * z**2,
    ).fit(X, y)
    mu, sigma = ttr.regressor_.predict(X, return_std=True)
    assert target_map(ttr.transformer_)[0] == "monotone"
    assert_allclose(predict_dist(ttr, X).mean, mu + c * (mu**2 + sigma**2), rtol=1e-11)


def test_a_non_affine_map_in_tiny_units_is_not_taken_for_affine(data):
    # g(z) = 1e-10 exp(z): every value is below 1e-8, which an absolute
    # tolerance in the affine check would call a straight line.
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        func=lambda v: np.log(v * 1e10),
        inverse_func=lambda z: 1e-10 * np.exp(z),
    ).fit(X, 1e-10 * np.exp(y))
    mu, sigma = ttr.regressor_.predict(X, return_std=True)
    dist = predict_dist(ttr, X)
    assert_allclose(dist.median(), 1e-10 * np.exp(mu), rtol=1e-12)
    assert_allclose(dist.mean, 1e-10 * np.exp(mu + sigma**2 / 2), rtol=1e-9)


def test_a_constant_inverse_map_is_refused(data):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        func=lambda v: v,
        inverse_func=lambda z: np.zeros_like(z),
        check_inverse=False,
    ).fit(X, y)
    assert target_map(ttr.transformer_)[0] == "monotone"
    with pytest.raises(ValueError, match=NOT_MONOTONE):
        predict_dist(ttr, X)


# ---------------------------------------------------------------- monotone maps
def test_a_known_log_target_has_the_exact_log_normal_density(data):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(), func=np.log, inverse_func=np.exp
    ).fit(X, np.exp(y))
    kind, forward, inverse = target_map(ttr.transformer_)
    assert (kind, forward, inverse) == ("monotone", np.exp, np.log)
    mu, sigma = ttr.regressor_.predict(X, return_std=True)
    dist = predict_dist(ttr, X)
    yy = np.exp(y) * 1.3
    ref = stats.lognorm(sigma, scale=np.exp(mu))
    assert_allclose(dist.logpdf(yy), ref.logpdf(yy), rtol=1e-13)
    assert_allclose(dist.mean, np.exp(mu + sigma**2 / 2), rtol=1e-14)


def test_user_functions_with_keyword_arguments_are_pushed_forward(data):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        transformer=FunctionTransformer(
            func=lambda v, shift: np.log(v + shift),
            inverse_func=lambda z, shift: np.exp(z) - shift,
            kw_args={"shift": 2.0},
            inv_kw_args={"shift": 2.0},
        ),
    ).fit(X, np.exp(y) - 2.0)
    kind, forward, inverse = target_map(ttr.transformer_)
    assert kind == "monotone"
    assert_allclose(forward(np.array([[0.0, 1.0]])), [[np.exp(0.0) - 2, np.e - 2]])
    assert_allclose(inverse(np.array([1.0])), [np.log(3.0)])
    mu, sigma = ttr.regressor_.predict(X, return_std=True)
    dist = predict_dist(ttr, X)
    assert_allclose(dist.median(), np.exp(mu) - 2.0, rtol=1e-12)
    yy = np.exp(y) - 2.0
    assert_allclose(
        dist.cdf(yy), stats.norm.cdf(np.log(yy + 2.0), mu, sigma), rtol=1e-10
    )


def test_a_fitted_transformer_maps_refused_and_non_finite_values_to_nan(data):
    _, y = data
    pt = PowerTransformer(method="box-cox").fit(np.exp(y)[:, None])
    kind, forward, inverse = target_map(pt)
    assert kind == "monotone"
    assert repr(forward) == "PowerTransformer.inverse_transform"
    assert repr(inverse) == "PowerTransformer.transform"
    got = inverse(np.array([[-1.0, 2.0], [np.nan, np.inf]]))
    assert got.dtype == float and got.shape == (2, 2)
    assert np.isnan(got[0, 0]) and np.isnan(got[1, 0]) and np.isnan(got[1, 1])
    assert got[0, 1] == pytest.approx(pt.transform([[2.0]])[0, 0], rel=1e-14)


def test_a_non_affine_transform_of_two_targets_is_refused(data):
    X, y = data
    Y = np.exp(np.c_[y, y / 2])
    pt = PowerTransformer(method="box-cox")
    ttr = TransformedTargetRegressor(LinearNormal2(), transformer=pt).fit(X, Y)
    message = (
        f"the target transform {ttr.transformer_!r} of a TransformedTargetRegressor "
        "was fitted on 2 target columns and is not affine: a push-forward of "
        "several targets needs an affine transform (StandardScaler) or one "
        "elementwise function (func=np.log)."
    )
    with pytest.raises(ValueError, match=_exact(message)):
        predict_dist(ttr, X)


def test_function_draws_refuse_a_non_affine_target_by_name(data):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(), func=np.log, inverse_func=np.exp
    ).fit(X, np.exp(y))
    message = (
        "this needs a TransformedTargetRegressor whose target transform is affine "
        f"(for example StandardScaler); {ttr.transformer_!r} is not. (predict_dist "
        "itself handles any strictly monotone transform.)"
    )
    with pytest.raises(ValueError, match=_exact(message)):
        resolve_affine(ttr, X)


class _UserNormal(PredictiveDistribution):
    """A user's Normal, without the ``lazy`` attribute of the shipped ones."""

    def __init__(self, loc, scale):
        self.loc, self.scale = np.asarray(loc, float), np.asarray(scale, float)
        self.n = self.loc.shape[0]

    mean = property(lambda self: self.loc)
    std = epistemic_std = aleatoric_std = property(lambda self: self.scale)

    def _args(self, like):
        if np.ndim(like) == 2:
            return self.loc[:, None], self.scale[:, None]
        return self.loc, self.scale

    def logpdf(self, y):
        return stats.norm.logpdf(y, *self._args(y))

    def cdf(self, y):
        return stats.norm.cdf(y, *self._args(y))

    def ppf(self, q):
        return stats.norm.ppf(q, *self._args(q))

    def sample(self, n_samples=1, random_state=None):
        rng = np.random.default_rng(random_state)
        return stats.norm.rvs(
            self.loc[:, None],
            self.scale[:, None],
            size=(self.n, n_samples),
            random_state=rng,
        )


class _UserRegressor(LinearNormal2):
    """Least squares with the user's own distribution (std 0.3)."""

    def predict_dist(self, X):
        return _UserNormal(self.lr_.predict(X), np.full(len(X), 0.3))


def test_a_users_distribution_is_pushed_through_a_log_target(data):
    X, y = data
    ttr = TransformedTargetRegressor(
        _UserRegressor(), func=np.log, inverse_func=np.exp
    ).fit(X, np.exp(y))
    mu = ttr.regressor_.predict(X)
    dist = predict_dist(ttr, X)
    assert_allclose(dist.median(), np.exp(mu), rtol=1e-12)
    assert_allclose(dist.mean, np.exp(mu + 0.045), rtol=1e-9)


# ---------------------------------------------------------------- estimators
class _Returns(RegressorMixin, BaseEstimator):
    """predict(X, return_std=True) returning arrays of given shapes."""

    def __init__(self, mean_shape=(3,), std_shape=(3,)):
        self.mean_shape, self.std_shape = mean_shape, std_shape

    def fit(self, X, y):
        return self

    def predict(self, X, return_std=False):
        mean = np.arange(1.0, 4.0).reshape(self.mean_shape)
        std = np.array([0.5, 1.0, 2.0]).reshape(self.std_shape)
        return (mean, std) if return_std else mean


@pytest.mark.parametrize("mean_shape, std_shape", [((3, 1), (3,)), ((3,), (3, 1))])
def test_one_column_from_predict_is_one_target(mean_shape, std_shape):
    dist = predict_dist(_Returns(mean_shape, std_shape).fit(None, None), None)
    assert_allclose(dist.mean, [1.0, 2.0, 3.0]) and assert_allclose(
        dist.std, [0.5, 1.0, 2.0]
    )


def test_means_and_stds_of_different_shapes_are_refused():
    message = (
        "predict(X, return_std=True) must return means and stds of one shape, "
        "(n,) or (n, k); got means of shape (3,) and stds of shape (1, 3)."
    )
    with pytest.raises(ValueError, match=_exact(message)):
        predict_dist(_Returns((3,), (1, 3)).fit(None, None), None)


def test_estimators_without_a_predictive_are_refused_by_name(data):
    X, y = data

    class NoSignature(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.predict = max  # a builtin without a signature
            return self

    from sklearn.ensemble import BaggingRegressor

    bagging = BaggingRegressor(LinearRegression(), n_estimators=2, random_state=0)
    for est in (
        StandardScaler().fit(X),
        LinearRegression().fit(X, y),
        NoSignature().fit(X, y),
        bagging.fit(X, y),  # has an `estimator`, but is no search
    ):
        name = type(est).__name__
        message = (
            f"{name} gives no predictive distribution: it has no predict_dist "
            "method and its predict does not accept return_std."
        )
        with pytest.raises(TypeError, match=_exact(message)):
            predict_dist(est, X)


@pytest.mark.parametrize("seed", range(10))
def test_bayesian_ridge_epistemic_std_is_zero_not_nan_at_the_data_mean(seed):
    # At the training mean sklearn's predictive variance is 1 / alpha_ up to
    # rounding, which may fall below it (seed 2): the epistemic part is 0.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2))
    y = X @ np.array([1.0, 2.0]) + rng.normal(size=30)
    br = BayesianRidge().fit(X, y)
    dist = predict_dist(br, br.X_offset_[None])
    assert np.isfinite(dist.epistemic_std[0]) and dist.epistemic_std[0] < 1e-7


def test_a_lazy_prediction_is_pushed_only_through_an_affine_map(data):
    da = pytest.importorskip("dask.array")
    from bayesreg import ConjugateLinearRegression

    X, y = data
    ttr = TransformedTargetRegressor(
        ConjugateLinearRegression(), func=np.log, inverse_func=np.exp
    ).fit(X, np.exp(y))
    message = (
        "predict_dist maps a lazy (dask) prediction only through an affine "
        f"target transform; {ttr.transformer_!r} is not affine. Predict on a "
        "NumPy X instead."
    )
    with pytest.raises(ValueError, match=_exact(message)):
        predict_dist(ttr, da.from_array(X, chunks=20))
    # An affine map is taken, with the values of the NumPy prediction.
    scaled = TransformedTargetRegressor(
        ConjugateLinearRegression(), transformer=StandardScaler()
    ).fit(X, y)
    lazy = predict_dist(scaled, da.from_array(X, chunks=20))
    assert_allclose(np.asarray(lazy.mean), predict_dist(scaled, X).mean, rtol=1e-12)


def test_an_inconsistent_identity_transform_is_refused_not_crashed(data):
    # transform = identity (func=None) but inverse = exp: not a monotone
    # pair, refused by the push-forward with a ValueError naming it.
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        transformer=FunctionTransformer(func=None, inverse_func=np.exp),
        check_inverse=False,
    ).fit(X, y)
    with pytest.raises(ValueError, match=NOT_MONOTONE):
        predict_dist(ttr, X)


# The push-forward's refusal, whatever the transformer's (multi-line) repr.
NOT_MONOTONE = (
    r"(?s)^the target transform .* of a TransformedTargetRegressor is neither "
    r"affine nor strictly monotone over the predictive distribution: "
)


def test_a_one_step_pipeline_is_its_estimator(data):
    from sklearn.pipeline import make_pipeline

    X, y = data
    pipe = make_pipeline(BayesianRidge()).fit(X, y)
    mean, std = pipe[-1].predict(X, return_std=True)
    dist = predict_dist(pipe, X)
    assert_allclose(dist.mean, mean, rtol=1e-15)
    assert_allclose(dist.std, std, rtol=1e-15)


@pytest.mark.parametrize(
    "inverse_func",
    [
        lambda z: np.zeros_like(z),  # constant
        lambda z: np.hstack([z, z]),  # two values for one
    ],
)
def test_a_transform_that_is_no_monotone_map_is_refused_by_name(data, inverse_func):
    X, y = data
    ttr = TransformedTargetRegressor(
        BayesianRidge(),
        func=lambda v: v,
        inverse_func=inverse_func,
        check_inverse=False,
    ).fit(X, y)
    with pytest.raises(ValueError, match=NOT_MONOTONE):
        predict_dist(ttr, X)


def test_a_three_step_pipeline_transforms_through_all_but_the_last(data):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    X, y = data
    pipe = make_pipeline(StandardScaler(), PolynomialFeatures(2), BayesianRidge())
    pipe.fit(X, y)
    mean, std = pipe[-1].predict(pipe[:-1].transform(X), return_std=True)
    dist = predict_dist(pipe, X)
    assert_allclose(dist.mean, mean, rtol=1e-15)
    assert_allclose(dist.std, std, rtol=1e-15)


class _SearchLike(BaseEstimator):
    """Search results without a best estimator (no refit or estimator)."""

    def fit(self, X, y):
        self.cv_results_ = {"mean_test_score": np.zeros(1)}
        return self

    def predict(self, X, return_std=False):
        raise AssertionError("a search without best_estimator_ must not predict")


def test_searches_without_a_best_estimator_are_refused_by_name(data):
    from sklearn.model_selection import GridSearchCV

    X, y = data
    no_refit = GridSearchCV(
        BayesianRidge(), {"alpha_1": [1e-6, 1e-5]}, cv=2, refit=False
    ).fit(X, y)
    for search in (no_refit, _SearchLike().fit(X, y)):
        message = (
            f"{type(search).__name__} has no best_estimator_: fit it with "
            "refit=True to predict with it."
        )
        with pytest.raises(ValueError, match=_exact(message)):
            predict_dist(search, X)


@pytest.mark.parametrize(
    "target",
    [
        {},  # TransformedTargetRegressor's own identity FunctionTransformer
        {"transformer": StandardScaler(with_mean=False, with_std=False)},
    ],
)
def test_an_identity_target_map_leaves_the_predictive_as_it_is(data, target):
    """y = 0 + 1 w: the regressor's own distribution comes back, not one
    wrapped in an identity map (a user's class keeps its methods)."""
    X, y = data
    ttr = TransformedTargetRegressor(_UserRegressor(), **target).fit(X, y)
    dist = predict_dist(ttr, X)
    assert type(dist) is _UserNormal
    assert_allclose(dist.loc, ttr.regressor_.predict(X), rtol=0, atol=0)
    assert_allclose(dist.scale, 0.3, rtol=0, atol=0)


def test_probing_a_target_map_ignores_the_callers_floating_point_settings():
    """The affine probe evaluates the inverse at 0 and -3.5, where log is
    -inf and NaN: read as "not affine" even when the caller raises on
    floating-point errors, so the known log map is still recognised."""
    y = np.linspace(1.0, 5.0, 12)[:, None]
    log_inverse = FunctionTransformer(np.exp, np.log, check_inverse=False).fit(y)
    with np.errstate(all="raise"):
        kind, inverse, forward = target_map(log_inverse)
    assert (kind, inverse, forward) == ("monotone", np.log, np.exp)


def test_a_target_function_takes_integers_as_the_numbers_they_are():
    """Elementwise on arrays of any shape and dtype: 1 / 2 is 0.5, not the
    integer reciprocal 0."""
    t = FunctionTransformer(np.reciprocal, np.reciprocal, check_inverse=False)
    t.fit(np.ones((3, 1)))
    for method in ("transform", "inverse_transform"):
        got = _TargetFunction(t, method)(np.array([[2, 4], [-8, 1]]))
        assert got.dtype == float
        assert_allclose(got, [[0.5, 0.25], [-0.125, 1.0]], rtol=0, atol=0)
