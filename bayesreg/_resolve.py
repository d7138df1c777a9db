"""The one resolver: from whatever the user passes to a predictive distribution.

Users hand :func:`bayesreg.predict_dist`, the metrics, the plots and
:class:`~bayesreg.EvidenceSearch` either arrays (means and standard deviations)
or a fitted estimator wrapped in any nesting of

* ``Pipeline``: ``X`` goes through every step but the last;
* a fitted search (``GridSearchCV``, ``RandomizedSearchCV``,
  ``EvidenceSearch``: anything with ``best_estimator_``): its best estimator;
* ``TransformedTargetRegressor``: its inner regressor, with the fitted target
  transformer kept so the predictive can be mapped back to the scale of y.

:func:`unwrap` is the only place that walks these wrappers; everything else
here builds on it. This module imports sklearn and
:mod:`bayesreg.distributions` only, so every user can import it.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, NamedTuple

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import ARDRegression, BayesianRidge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from .distributions import (
    _KNOWN_MAPS,
    Normal,
    NormalMixture,
    PredictiveDistribution,
    StudentT,
    TransformedDistribution,
    _Affine,
)
from .utils._checks import check_array_1d, check_real, check_std


# --------------------------------------------------------------------------
# arrays -> distribution
# --------------------------------------------------------------------------
def as_distribution(
    y_pred, y_std=None, *, strict: bool = False
) -> PredictiveDistribution:
    """A distribution object, or a Normal built from ``mean`` and ``y_std``."""
    if isinstance(y_pred, PredictiveDistribution):
        if y_std is not None:
            raise ValueError(
                "y_std must be None when y_pred is a predictive distribution."
            )
        return y_pred
    if y_std is None:
        raise ValueError(
            "y_pred is an array of means: pass its standard deviations as y_std, "
            "or pass a bayesreg.distributions object instead."
        )
    mean = check_real(y_pred, "y_pred")
    if mean.ndim == 2 and mean.shape[1] > 1:
        # k targets: means and stds of shape (n, k).
        if not np.all(np.isfinite(mean)):
            raise ValueError("y_pred contains NaN or infinite values.")
        std = check_real(y_std, "y_std")
        if std.shape != mean.shape:
            raise ValueError(
                f"y_std must have the shape of y_pred, {mean.shape}, got {std.shape}."
            )
        if not np.all(np.isfinite(std)):
            raise ValueError("y_std contains NaN or infinite values.")
        if np.any(std < 0):
            raise ValueError("y_std must be non-negative.")
        if strict and np.any(std == 0):
            raise ValueError("y_std must be strictly positive for a density.")
        return Normal(mean, std)
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if mean.ndim != 1:
        raise ValueError(
            f"y_pred must have shape (n,) or (n, k), got shape {mean.shape}."
        )
    mean = check_array_1d("y_pred", mean, mean.shape[0])
    return Normal(mean, check_std(y_std, mean.shape[0], strict=strict))


# --------------------------------------------------------------------------
# the wrappers
# --------------------------------------------------------------------------
class Resolved(NamedTuple):
    """What lies behind the wrappers of an estimator."""

    final: Any
    """The innermost regressor."""
    X: Any
    """The input as ``final`` expects it (None when none was given)."""
    targets: tuple
    """Fitted target transformers met on the way, outermost first."""


def unwrap(estimator, X=None) -> Resolved:
    """Look through Pipelines, fitted searches and target transformers.

    With ``X`` given, it is transformed by the steps of every Pipeline passed;
    without, only the final estimator and the target transformers are found
    (for a name, a loss curve or an evidence).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        For an unfitted TransformedTargetRegressor or search object.
    ValueError
        For a search object fitted with ``refit=False``.
    """
    Xt = X
    targets = []
    while True:
        if isinstance(estimator, Pipeline):
            if Xt is not None and len(estimator) > 1:
                Xt = estimator[:-1].transform(Xt)
            estimator = estimator[-1]
        elif isinstance(estimator, TransformedTargetRegressor):
            check_is_fitted(estimator)
            targets.append(estimator.transformer_)
            estimator = estimator.regressor_
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "cv_results_") or (
            hasattr(estimator, "refit") and hasattr(estimator, "estimator")
        ):
            # A search object that is unfitted, or was fitted with refit=False.
            check_is_fitted(estimator)
            raise ValueError(
                f"{type(estimator).__name__} has no best_estimator_: fit it with "
                "refit=True to predict with it."
            )
        else:
            return Resolved(estimator, Xt, tuple(targets))


def final_estimator(estimator):
    """The innermost regressor behind any wrappers."""
    return unwrap(estimator).final


def final_name(estimator) -> str:
    """The class name of the innermost regressor, e.g. for a legend."""
    return type(final_estimator(estimator)).__name__


# --------------------------------------------------------------------------
# target transformers
# --------------------------------------------------------------------------
def _n_targets(transformer) -> int:
    """Number of target columns a fitted target transformer was fitted on."""
    k = getattr(transformer, "n_features_in_", 1)
    return int(k) if isinstance(k, (int, np.integer)) and k > 1 else 1


def _affine_of(transformer):
    """(a, s) with ``inverse_transform(z) == a + s z``, or None if not affine.

    Floats for a transformer of one target; arrays (k,) (one map per target)
    for one fitted on k target columns (``StandardScaler`` on y (n, k)).
    """
    k = _n_targets(transformer)
    z = np.tile(np.array([[0.0], [1.0], [2.0], [-3.5]]), (1, k))
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = np.asarray(transformer.inverse_transform(z), dtype=float)
    except ValueError:
        return None
    if v.size != 4 * k or not np.all(np.isfinite(v)):
        return None
    v = v.reshape(4, k)
    a, s = v[0], v[1] - v[0]
    if np.any(s == 0) or not np.allclose(v, a + s * z, rtol=1e-9, atol=0):
        return None
    if k == 1:
        return float(a[0]), float(s[0])
    return a, s


class _TargetFunction:
    """A fitted target transformer's ``transform`` or ``inverse_transform``
    as an elementwise function of arrays of any shape.

    ``TransformedTargetRegressor`` fits its transformer on y as one column,
    so values go in as (m, 1). Where the transformer refuses a value (a
    Box-Cox transform of y <= 0) or the value is not finite, the result is
    NaN, which the push-forward reads as "outside the range".
    """

    def __init__(self, transformer, method: str):
        self.transformer, self.method = transformer, method

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        flat = x.reshape(-1, 1)
        if isinstance(self.transformer, FunctionTransformer):
            # Its functions directly: FunctionTransformer(validate=True), as
            # TransformedTargetRegressor builds it, would refuse inf and NaN.
            t = self.transformer
            func, kwargs = (
                (t.func, t.kw_args)
                if self.method == "transform"
                else (t.inverse_func, t.inv_kw_args)
            )
            out = flat if func is None else func(flat, **(kwargs or {}))
            return np.asarray(out, dtype=float).reshape(x.shape)
        out = np.full(flat.shape[0], np.nan)
        ok = np.isfinite(flat[:, 0])
        if np.any(ok):
            out[ok] = self._apply(flat[ok])
        return out.reshape(x.shape)

    def _apply(self, values: np.ndarray) -> np.ndarray:
        method = getattr(self.transformer, self.method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return np.asarray(method(values), dtype=float).reshape(-1)
            except ValueError:
                # Some value is refused: find which, one at a time.
                out = np.full(values.shape[0], np.nan)
                for i in range(values.shape[0]):
                    try:
                        out[i] = np.asarray(method(values[i : i + 1]), float)[0, 0]
                    except ValueError:
                        pass
                return out

    def __repr__(self) -> str:
        return f"{type(self.transformer).__name__}.{self.method}"


def target_map(transformer):
    """("affine", a, s) or ("monotone", forward, inverse) for a fitted
    target transformer of a TransformedTargetRegressor."""
    affine = _affine_of(transformer)
    if affine is not None:
        return ("affine", *affine)
    if (
        isinstance(transformer, FunctionTransformer)
        and not transformer.kw_args
        and not transformer.inv_kw_args
        and transformer.inverse_func in _KNOWN_MAPS
        and _KNOWN_MAPS[transformer.inverse_func][0] is transformer.func
    ):
        # np.log / np.exp and friends: the push-forward knows their Jacobian
        # and (for exp of a Normal) the log-normal moments.
        return ("monotone", transformer.inverse_func, transformer.func)
    if _n_targets(transformer) > 1 and not isinstance(transformer, FunctionTransformer):
        raise ValueError(
            f"the target transform {transformer!r} of a TransformedTargetRegressor "
            f"was fitted on {_n_targets(transformer)} target columns and is not "
            "affine: a push-forward of several targets needs an affine transform "
            "(StandardScaler) or one elementwise function (func=np.log)."
        )
    return (
        "monotone",
        _TargetFunction(transformer, "inverse_transform"),
        _TargetFunction(transformer, "transform"),
    )


def is_identity(targets) -> bool:
    """Whether the target transformers together leave y unchanged."""
    for t in targets:
        kind, *params = target_map(t)
        if kind != "affine" or not (np.all(params[0] == 0) and np.all(params[1] == 1)):
            return False
    return True


def resolve_affine(estimator, X):
    """The final regressor, its input and the map y = a + s w of the target.

    For callers that need an affine target map (drawing regression
    functions); a non-affine target transform raises ValueError.
    """
    final, Xt, targets = unwrap(estimator, X)
    a, s = 0.0, 1.0
    for transformer in targets:
        kind, *params = target_map(transformer)
        if kind != "affine":
            raise ValueError(
                "this needs a TransformedTargetRegressor whose target transform "
                f"is affine (for example StandardScaler); {transformer!r} is "
                "not. (predict_dist itself handles any strictly monotone "
                "transform.)"
            )
        a, s = a + s * params[0], s * params[1]
    return final, Xt, (a, s)


# --------------------------------------------------------------------------
# estimator -> distribution
# --------------------------------------------------------------------------
def _accepts_return_std(estimator) -> bool:
    predict = getattr(estimator, "predict", None)
    if predict is None:
        return False
    try:
        return "return_std" in inspect.signature(predict).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def final_predict_dist(estimator, X) -> PredictiveDistribution:
    """The predictive of an unwrapped regressor: its own ``predict_dist``, or
    a Normal from ``predict(X, return_std=True)``."""
    if callable(getattr(estimator, "predict_dist", None)):
        return estimator.predict_dist(X)
    if not _accepts_return_std(estimator):
        raise TypeError(
            f"{type(estimator).__name__} gives no predictive distribution: it "
            "has no predict_dist method and its predict does not accept "
            "return_std."
        )
    mean, std = estimator.predict(X, return_std=True)
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if mean.ndim == 2 and mean.shape[1] == 1:
        mean = mean[:, 0]
    if std.ndim == 2 and std.shape[1] == 1:
        std = std[:, 0]
    if mean.ndim not in (1, 2) or std.shape != mean.shape:
        raise ValueError(
            "predict(X, return_std=True) must return means and stds of one "
            f"shape, (n,) or (n, k); got means of shape {mean.shape} and stds "
            f"of shape {std.shape}."
        )
    epistemic = None  # unknown, for means (n,) and (n, k) alike
    if isinstance(estimator, (BayesianRidge, ARDRegression)):
        # Their predictive variance is 1 / alpha_ (noise) + x^T sigma_ x
        # (one target: they predict (n,)).
        epistemic = np.sqrt(np.clip(std**2 - 1.0 / estimator.alpha_, 0.0, None))
    return Normal(mean, std, epistemic_std=epistemic)


def _affine_dist(dist: PredictiveDistribution, a, s):
    """The law of ``a + s Y``; ``a`` and ``s`` floats, or arrays (k,) of one
    map per target of a batch (n, k)."""
    if np.all(np.asarray(a) == 0.0) and np.all(np.asarray(s) == 1.0):
        return dist
    scale = np.abs(s)
    if isinstance(dist, Normal):
        return Normal(a + s * dist.loc, scale * dist.scale, scale * dist.epistemic_std)
    if isinstance(dist, StudentT):
        return StudentT(
            dist.df, a + s * dist.loc, scale * dist.scale, scale * dist.epistemic_std
        )
    if isinstance(dist, NormalMixture):
        if np.ndim(a):  # per target: the component axis is last
            a, s, scale = a[:, None], s[:, None], scale[:, None]
        return NormalMixture(a + s * dist.locs, scale * dist.scales)
    if np.ndim(a):
        raise ValueError(
            f"a {type(dist).__name__} of several targets can be mapped through "
            "one affine map per target only if it is a Normal, StudentT or "
            "NormalMixture."
        )
    # Anything else (a push-forward, a user's distribution): one more map,
    # whose moments the push-forward carries exactly.
    affine = _Affine(a, s)
    return TransformedDistribution(dist, affine, affine.inverse())


def push_forward(dist: PredictiveDistribution, transformer):
    """The predictive of y from that of the transformed target."""
    kind, *params = target_map(transformer)
    if kind == "affine":
        return _affine_dist(dist, *params)
    if getattr(dist, "lazy", False):
        raise ValueError(
            "predict_dist maps a lazy (dask) prediction only through an affine "
            f"target transform; {transformer!r} is not affine. Predict on a "
            "NumPy X instead."
        )
    forward, inverse = params
    try:
        return TransformedDistribution(dist, forward, inverse)
    except ValueError as exc:
        raise ValueError(
            f"the target transform {transformer!r} of a TransformedTargetRegressor "
            "is neither affine nor strictly monotone over the predictive "
            f"distribution: {exc}"
        ) from exc


def distribution_of(resolved: Resolved) -> PredictiveDistribution:
    """The predictive of y, from an :func:`unwrap` result with an input."""
    dist = final_predict_dist(resolved.final, resolved.X)
    for transformer in reversed(resolved.targets):  # innermost transform first
        dist = push_forward(dist, transformer)
    return dist


def resolve_dist(estimator, X) -> PredictiveDistribution:
    """The predictive distribution of y at ``X`` behind any wrappers."""
    return distribution_of(unwrap(estimator, X))
