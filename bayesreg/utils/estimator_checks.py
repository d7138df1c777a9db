"""A conformance check for the predictive contract of a Bayesian regressor.

scikit-learn's ``check_estimator`` verifies that an estimator is a well-behaved
estimator; it knows nothing of predictive distributions. This module checks the
part it cannot: that every predictive method of a regressor tells the same
story as its ``predict_dist``, that its randomness is reproducible and private,
and that it refuses bad input with a clear error.

Use it in a test suite next to sklearn's checks::

    from bayesreg.utils.estimator_checks import check_predictive_contract

    def test_contract():
        check_predictive_contract(MyRegressor())
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable

import numpy as np
from sklearn.base import clone

__all__ = ["check_predictive_contract", "predictive_contract_checks"]

_COVERAGES = (0.5, 0.8, 0.95)
_QUANTILES = (0.1, 0.5, 0.9)
_DIST_PROTOCOL = (
    "mean",
    "std",
    "var",
    "epistemic_std",
    "aleatoric_std",
    "logpdf",
    "pdf",
    "cdf",
    "ppf",
    "median",
    "interval",
    "sample",
)


def _make_data(random_state: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.0, -0.5, 0.25]) + 0.3 + 0.5 * rng.normal(size=80)
    return X, y


def _global_states() -> tuple:
    """NumPy's global RandomState and, if already imported, torch's."""
    np_state = np.random.get_state()  # noqa: NPY002 (the global state is the point)
    torch = sys.modules.get("torch")
    torch_state = torch.random.get_rng_state().clone() if torch is not None else None
    return np_state, torch_state


def _assert_states_equal(before: tuple, after: tuple, what: str) -> None:
    (np_b, torch_b), (np_a, torch_a) = before, after
    same_np = np_b[0] == np_a[0] and all(
        np.array_equal(b, a) for b, a in zip(np_b[1:], np_a[1:], strict=True)
    )
    assert same_np, f"{what} changed NumPy's global random state."
    if torch_b is not None and torch_a is not None:
        assert bool((torch_b == torch_a).all()), (
            f"{what} changed torch's global random state."
        )


def _assert_raises_value_error(func: Callable, what: str) -> None:
    try:
        func()
    except ValueError as exc:
        assert str(exc).strip(), f"{what}: ValueError without a message."
    else:
        raise AssertionError(f"{what} did not raise a ValueError.")


def _check_distribution(est, X, y) -> None:
    dist = est.predict_dist(X)
    n = X.shape[0]
    # The protocol of bayesreg.distributions.PredictiveDistribution, checked by
    # its members so that this module stays a leaf (and a third-party
    # distribution with the same methods passes).
    missing = [m for m in _DIST_PROTOCOL if not hasattr(dist, m)]
    assert not missing, (
        f"predict_dist returned {type(dist).__name__}, which lacks {missing} of "
        "the PredictiveDistribution protocol."
    )
    for name in ("mean", "std", "epistemic_std", "aleatoric_std"):
        value = getattr(dist, name)
        assert value.shape == (n,), f"dist.{name} has shape {value.shape}, not ({n},)."
        assert np.all(np.isfinite(value)), f"dist.{name} is not finite."


def _assert_close(actual, desired, err_msg: str) -> None:
    """``actual`` equals ``desired`` up to rounding."""
    np.testing.assert_allclose(actual, desired, rtol=1e-10, atol=1e-12, err_msg=err_msg)


def _check_point_predictions(est, X, y) -> None:
    dist = est.predict_dist(X)
    _assert_close(
        est.predict(X), dist.mean, "predict(X) differs from predict_dist(X).mean"
    )
    mean2, std = est.predict(X, return_std=True)
    _assert_close(
        mean2, dist.mean, "predict(return_std=True) mean differs from dist.mean"
    )
    _assert_close(std, dist.std, "predict(return_std=True) differs from dist.std")
    again = est.predict_dist(X)
    assert np.array_equal(again.mean, dist.mean) and np.array_equal(
        again.std, dist.std
    ), "two calls of predict_dist on the same X differ."


def _check_std_decomposition(est, X, y) -> None:
    total = est.predict_std(X)
    epi = est.predict_std(X, kind="epistemic")
    ale = est.predict_std(X, kind="aleatoric")
    assert np.all(ale > 0), "aleatoric std is not positive although the data are noisy."
    assert np.all(total > 0), "predictive std is not positive where noise > 0."
    assert np.all(epi >= 0), "epistemic std is negative."
    np.testing.assert_allclose(
        total**2,
        epi**2 + ale**2,
        rtol=1e-8,
        err_msg="total^2 != epistemic^2 + aleatoric^2",
    )


def _check_intervals(est, X, y) -> None:
    dist = est.predict_dist(X)
    median = dist.median()
    widths = []
    for coverage in _COVERAGES:
        bounds = est.predict_interval(X, coverage=coverage)
        assert bounds.shape == (X.shape[0], 2), "predict_interval must return (n, 2)."
        np.testing.assert_allclose(bounds, dist.interval(coverage), rtol=1e-10)
        lo, hi = bounds[:, 0], bounds[:, 1]
        assert np.all(lo <= median) and np.all(median <= hi), (
            f"the {coverage:.0%} interval does not contain the median."
        )
        mass = dist.cdf(hi) - dist.cdf(lo)
        np.testing.assert_allclose(
            mass, coverage, atol=1e-6, err_msg="interval does not hold its coverage"
        )
        widths.append(hi - lo)
    for narrow, wide in itertools.pairwise(widths):
        assert np.all(wide > narrow), "intervals do not widen with coverage."


def _check_samples(est, X, y, n_mc: int = 4000) -> None:
    dist = est.predict_dist(X)
    before = _global_states()
    draws = est.sample_y(X, n_samples=n_mc, random_state=0)
    _assert_states_equal(before, _global_states(), "sample_y(random_state=0)")
    assert draws.shape == (X.shape[0], n_mc), (
        f"sample_y returned shape {draws.shape}, not ({X.shape[0]}, {n_mc})."
    )
    assert np.array_equal(draws, est.sample_y(X, n_samples=n_mc, random_state=0)), (
        "the same random_state gave different draws."
    )
    assert not np.array_equal(draws, est.sample_y(X, n_samples=n_mc, random_state=1)), (
        "different random_states gave identical draws."
    )
    # Monte Carlo agreement: 5 standard errors per point.
    se = dist.std / np.sqrt(n_mc)
    bad = np.abs(draws.mean(axis=1) - dist.mean) > 5 * se + 1e-12
    assert not np.any(bad), "sample_y means disagree with predict_dist beyond MC error."
    for q in _QUANTILES:
        frac = np.mean(draws <= dist.ppf(q)[:, None], axis=1)
        tol = 5 * np.sqrt(q * (1 - q) / n_mc) + 1.0 / n_mc
        assert np.all(np.abs(frac - q) <= tol), (
            f"fraction of sample_y draws below the {q} quantile disagrees with "
            "predict_dist beyond Monte Carlo error."
        )


def _check_log_density(est, X, y) -> None:
    lpd = est.log_predictive_density(X, y)
    assert lpd.shape == (X.shape[0],), "log_predictive_density must return (n,)."
    assert np.all(np.isfinite(lpd)), "log_predictive_density is not finite."
    np.testing.assert_allclose(
        lpd,
        est.predict_dist(X).logpdf(y),
        rtol=1e-10,
        err_msg="log_predictive_density != dist.logpdf(y)",
    )


def _check_bad_input(est, X, y) -> None:
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    _assert_raises_value_error(
        lambda: est.predict_dist(X_nan), "predict_dist(X with NaN)"
    )
    _assert_raises_value_error(lambda: est.predict(X_inf), "predict(X with inf)")
    _assert_raises_value_error(
        lambda: est.predict(X[:, :-1]), "predict with the wrong number of features"
    )
    _assert_raises_value_error(
        lambda: est.predict(np.empty((0, X.shape[1]))), "predict on an empty X"
    )
    _assert_raises_value_error(
        lambda: est.predict_std(X, kind="bogus"), "predict_std(kind='bogus')"
    )
    for coverage in (0.0, 1.0, 1.5, -0.1):
        _assert_raises_value_error(
            lambda c=coverage: est.predict_interval(X, coverage=c),
            f"predict_interval(coverage={coverage})",
        )
    _assert_raises_value_error(
        lambda: est.log_predictive_density(X, y[:-1]),
        "log_predictive_density with a y of the wrong length",
    )
    _assert_raises_value_error(lambda: est.sample_y(X, n_samples=0), "sample_y(0)")
    fresh = clone(est)
    y_nan = y.copy()
    y_nan[0] = np.nan
    _assert_raises_value_error(lambda: fresh.fit(X, y_nan), "fit(y with NaN)")
    _assert_raises_value_error(lambda: fresh.fit(X_inf, y), "fit(X with inf)")
    _assert_raises_value_error(
        lambda: fresh.fit(np.array([["a"] * X.shape[1]] * len(y)), y),
        "fit(X of strings)",
    )
    _assert_raises_value_error(
        lambda: fresh.fit(np.empty((0, X.shape[1])), np.empty(0)), "fit(empty X)"
    )


def _multi_output_data(X, y, random_state: int) -> np.ndarray:
    """Three targets of different scales and signs from the data (n, 3)."""
    rng = np.random.default_rng(random_state + 1)
    noise = rng.normal(size=(len(y), 2)) * np.std(y)
    return np.column_stack([y, -3.0 * y + noise[:, 0], 0.1 * (X[:, 0] + noise[:, 1])])


def _check_multi_output(estimator, X, y, random_state: int = 0) -> None:
    """Fitted to y of shape (n, k), every method has the shapes of sklearn's
    GaussianProcessRegressor and the relations of the 1-D contract hold per
    target; fitted to y of shape (n, 1), the trailing axis is kept."""
    Y = _multi_output_data(X, y, random_state)
    k = Y.shape[1]
    est = clone(estimator).fit(X, Y)
    X_eval, Y_eval = X[:25], Y[:25]
    n = X_eval.shape[0]
    dist = est.predict_dist(X_eval)
    shape = (n, k)
    batch = tuple(getattr(dist, "batch_shape", np.shape(dist.mean)))
    assert batch == shape, (
        f"fitted to y of shape {Y.shape}, predict_dist has batch shape {batch}, "
        f"not {shape}."
    )
    for name in ("mean", "std", "epistemic_std", "aleatoric_std"):
        value = np.asarray(getattr(dist, name))
        assert value.shape == shape, (
            f"with {k} targets dist.{name} has shape {value.shape}, not {shape}."
        )
        assert np.all(np.isfinite(value)), f"dist.{name} is not finite."
    mean = est.predict(X_eval)
    assert mean.shape == shape, f"predict has shape {mean.shape}, not {shape}."
    _assert_close(mean, dist.mean, "predict(X) differs from predict_dist(X).mean")
    mean2, std = est.predict(X_eval, return_std=True)
    _assert_close(mean2, dist.mean, "predict(return_std=True) mean != dist.mean")
    assert std.shape == shape, f"predict(return_std=True) std has shape {std.shape}."
    _assert_close(std, dist.std, "predict(return_std=True) differs from dist.std")
    total, epi, ale = (
        est.predict_std(X_eval, kind=kind)
        for kind in ("total", "epistemic", "aleatoric")
    )
    for name, value in (("total", total), ("epistemic", epi), ("aleatoric", ale)):
        assert value.shape == shape, (
            f"predict_std(kind={name!r}) has shape {value.shape}, not {shape}."
        )
    assert np.all(ale > 0), "with several targets an aleatoric std is not positive."
    np.testing.assert_allclose(
        total**2,
        epi**2 + ale**2,
        rtol=1e-8,
        err_msg="with several targets total^2 != epistemic^2 + aleatoric^2",
    )
    median = dist.median()
    for coverage in _COVERAGES:
        bounds = est.predict_interval(X_eval, coverage=coverage)
        assert bounds.shape == (*shape, 2), (
            f"predict_interval has shape {bounds.shape}, not {(*shape, 2)}."
        )
        tail = 0.5 * (1 - coverage)
        _assert_close(
            bounds,
            np.stack([dist.ppf(tail), dist.ppf(1 - tail)], axis=-1),
            "with several targets predict_interval differs from the quantiles "
            "of predict_dist",
        )
        assert np.all(bounds[..., 0] <= median) and np.all(median <= bounds[..., 1])
        mass = dist.cdf(bounds[..., 1]) - dist.cdf(bounds[..., 0])
        np.testing.assert_allclose(
            mass, coverage, atol=1e-6, err_msg="interval does not hold its coverage"
        )
    n_mc = 2000
    draws = est.sample_y(X_eval, n_samples=n_mc, random_state=0)
    assert draws.shape == (*shape, n_mc), (
        f"sample_y has shape {draws.shape}, not {(*shape, n_mc)} "
        "(n_samples_X, n_targets, n_samples)."
    )
    assert np.array_equal(draws, est.sample_y(X_eval, n_samples=n_mc, random_state=0))
    bad = np.abs(draws.mean(axis=-1) - dist.mean) > 5 * dist.std / np.sqrt(n_mc)
    assert not np.any(bad), (
        "with several targets sample_y means disagree with predict_dist beyond "
        "Monte Carlo error (are the draws' axes in the order (n, k, n_samples)?)."
    )
    lpd = est.log_predictive_density(X_eval, Y_eval)
    assert lpd.shape == shape, (
        f"log_predictive_density has shape {lpd.shape}, not {shape}."
    )
    _assert_close(lpd, dist.logpdf(Y_eval), "log_predictive_density != logpdf(y)")
    _assert_raises_value_error(
        lambda: est.log_predictive_density(X_eval, Y_eval[:, 0]),
        "log_predictive_density of a model of several targets with a 1-D y",
    )
    one = clone(estimator).fit(X, Y[:, :1])
    for name, value, want in (
        ("predict", one.predict(X_eval), (n, 1)),
        ("predict_std", one.predict_std(X_eval), (n, 1)),
        ("predict_interval", one.predict_interval(X_eval), (n, 1, 2)),
        ("sample_y", one.sample_y(X_eval, n_samples=3, random_state=0), (n, 1, 3)),
    ):
        assert np.shape(value) == want, (
            f"fitted to y of shape (n, 1), {name} has shape {np.shape(value)}, "
            f"not {want} (sklearn's Ridge keeps the trailing axis)."
        )


def _multi_output(estimator) -> bool:
    """Whether the estimator's sklearn tags say it takes y of shape (n, k)."""
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).target_tags.multi_output)
    except (AttributeError, ImportError):  # pragma: no cover (old sklearn)
        return False


_FITTED_CHECKS: tuple[Callable, ...] = (
    _check_distribution,
    _check_point_predictions,
    _check_std_decomposition,
    _check_intervals,
    _check_samples,
    _check_log_density,
    _check_bad_input,
)


def predictive_contract_checks() -> list[str]:
    """Names of the checks run by :func:`check_predictive_contract`.

    The checks run in this order; the first one an estimator fails stops
    :func:`check_predictive_contract` with an ``AssertionError``.

    Returns
    -------
    list of str
        One name per check.

    See Also
    --------
    check_predictive_contract : run them on an estimator.

    Examples
    --------
    >>> from bayesreg.utils.estimator_checks import predictive_contract_checks
    >>> predictive_contract_checks()  # doctest: +NORMALIZE_WHITESPACE
    ['global_random_state', 'reproducible_fit', 'distribution',
     'point_predictions', 'std_decomposition', 'intervals', 'samples',
     'log_density', 'bad_input', 'multi_output']
    """
    return (
        ["global_random_state", "reproducible_fit"]
        + [f.__name__.removeprefix("_check_") for f in _FITTED_CHECKS]
        + ["multi_output"]
    )


def check_predictive_contract(
    estimator, X=None, y=None, *, random_state: int = 0
) -> None:
    """Check that a regressor keeps bayesreg's predictive contract.

    The estimator is cloned and fitted on (X, y) (a small noisy linear
    problem by default). Then, on held-in points:

    - fitting leaves NumPy's (and, if loaded, torch's) global random state
      untouched, and refitting with the same parameters gives bit-identical
      predictions;
    - ``predict_dist`` returns a :class:`~bayesreg.distributions.
      PredictiveDistribution` with finite moments of the right shape, and
      ``predict`` / ``predict(return_std=True)`` agree with it;
    - std > 0 where noise > 0, and total^2 = epistemic^2 + aleatoric^2;
    - intervals contain the median, hold their coverage and widen with it;
    - ``sample_y`` draws agree with ``predict_dist`` within Monte Carlo error
      (means and quantiles), the same ``random_state`` gives identical draws
      and drawing leaves the global random state untouched;
    - ``log_predictive_density`` equals ``predict_dist(X).logpdf(y)``;
    - NaN, inf, strings, empty arrays, a wrong feature count, an unknown
      ``kind``, a coverage outside (0, 1) and a y of the wrong length raise a
      ``ValueError`` with a message;
    - when the estimator's sklearn tags say ``multi_output``: fitted to y of
      shape (n, 3), ``predict`` / ``predict_std`` (every kind) are (n, 3),
      ``predict_interval`` (n, 3, 2) and equal to the quantiles of
      ``predict_dist``, ``sample_y`` (n, 3, n_samples) and agreeing with it,
      ``log_predictive_density`` (n, 3) and equal to its ``logpdf``;
      total^2 = epistemic^2 + aleatoric^2 per target; fitted to y of shape
      (n, 1) the trailing axis is kept, as sklearn's ``Ridge`` does.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted regressor implementing ``predict_dist``.
    X, y : array-like, default=None
        Training data; a noisy linear problem with 3 features by default.
    random_state : int, default=0
        Seed for the default data.

    Raises
    ------
    AssertionError
        Naming the first violated part of the contract.

    Examples
    --------
    >>> from bayesreg import RidgeMAP
    >>> from bayesreg.utils.estimator_checks import check_predictive_contract
    >>> check_predictive_contract(RidgeMAP())
    """
    if X is None or y is None:
        X, y = _make_data(random_state)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)

    if estimator.get_params().get("random_state", 0) is None:
        # Reproducibility is promised for a fixed seed, not for None.
        estimator = clone(estimator).set_params(random_state=0)
    est = clone(estimator)
    before = _global_states()
    est.fit(X, y)
    _assert_states_equal(before, _global_states(), "fit")

    again = clone(estimator).fit(X, y)
    X_eval = X[:25]
    assert np.array_equal(est.predict(X_eval), again.predict(X_eval)), (
        "two fits with the same data and parameters gave different predictions "
        "(is random_state honoured?)."
    )
    for check in _FITTED_CHECKS:
        check(est, X_eval, y[:25])
    if _multi_output(estimator):
        _check_multi_output(estimator, X, y, random_state)
