"""What the two network estimators share, written once.

:class:`NetworkRegressor` is the base of :class:`~bayesreg.DeepEnsembleRegressor`
(in this package) and :class:`~bayesreg.PyroBNNRegressor` (in
``bayesreg.pyro``, which adds the Pyro base): the parameters of a multilayer
perceptron and their constraints (``calibration_fraction`` included: both
hold rows out to calibrate their mixture, by ``_calibration.py``), the
intake of X, y and sample weights (with the magnitude checks), the
standardisation of X and y in which every prior and setting of a network
lives, the predict-time intake, the device to predict on, float32 out for
float32 in, and the estimator tags.

A subclass fits on the standardised arrays and maps its network's outputs
back with the stored ``_x_mean``, ``_x_scale``, ``_y_mean`` and ``_y_scale``.
Plain NumPy and torch: nothing here imports pyro.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from .._base import BayesianRegressorMixin
from .._intake import check_target_dtype
from ..pyro._data import (
    FIT_LOOP_CONSTRAINTS,
    SPARSE_FORMAT,
    Float32Output,
    Rows,
    check_extremes,
    validated_predict_X,
    weighted_scale,
)
from ..pyro._runtime import resolve_device
from ..utils._checks import is_float32, naming_the_argument

__all__ = ["ACTIVATIONS", "NetworkRegressor", "dense_scale", "standardisation"]

#: The hidden layers' non-linearities, by the name ``activation`` takes.
ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def dense_scale(
    v: np.ndarray, p: np.ndarray, target: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted column means and stds of ``v`` (float64), for internal scaling.

    ``p`` holds positive weights summing to 1. A column whose std is at the
    rounding level of its entries (64 ulps of its largest magnitude) is
    treated as constant and keeps scale 1, so scaling never divides by
    rounding noise. The threshold is relative, unlike an absolute one: a
    target like ``1e6 + 1e-6 * y`` still has a resolvable spread (1e-12 of
    its magnitude, about 4500 ulps) and is standardised as ``y`` would be.

    A constant ``target`` column is scaled by 1e-5 of its magnitude instead
    (1e-5 for zeros): the network then predicts the constant, with a noise
    of that order, as the closed form's floor of 1e-10 var(y) on the noise
    variance does, in the units of y rather than in absolute units.
    """
    v2 = v.reshape(v.shape[0], -1)
    mean = p @ v2
    std = np.sqrt(p @ (v2 - mean) ** 2)
    rounding = 64 * np.finfo(np.float64).eps * np.max(np.abs(v2), axis=0)
    if target:
        floor = 1e-5 * np.where(mean != 0, np.abs(mean), 1.0)
        return mean, np.where(std <= rounding, floor, std)
    return mean, np.where(std <= rounding, 1.0, std)


def positive_rows(X, y: np.ndarray, w: np.ndarray):
    """``X``, ``y`` and ``w`` without the rows of weight 0 (exactly what such a
    weight means); the arrays themselves when every weight is positive."""
    keep = w > 0
    if keep.all():
        return X, y, w
    return X[keep], y[keep], w[keep]


def standardisation(X, y: np.ndarray, w: np.ndarray) -> tuple:
    """``(x_mean, x_scale, y_mean, y_scale)``: the weighted column means and
    stds of X (dense, or sparse from its non-zeros) and of y, floats for a
    1-D y. ``w`` holds positive weights; they are divided by their largest
    before they are summed, so that no weight overflows the sum."""
    p = w / w.max()
    p /= p.sum()
    x_mean, x_scale = (weighted_scale if sp.issparse(X) else dense_scale)(X, p)
    y_mean, y_scale = dense_scale(y, p, target=True)
    if y.ndim == 1:
        return x_mean, x_scale, float(y_mean[0]), float(y_scale[0])
    return x_mean, x_scale, y_mean, y_scale


class NetworkRegressor(Float32Output, BayesianRegressorMixin, BaseEstimator):
    """Base class of the network estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "prior_std": [Interval(Real, 0, None, closed="neither")],
        **FIT_LOOP_CONSTRAINTS,
        # rows held out of the fit to calibrate the predictive mixture on
        # (``_calibration.py``): at most half of them
        "calibration_fraction": [Interval(Real, 0, 0.5, closed="both")],
    }

    # ---------------------------------------------------------------- fit
    def _hidden_sizes(self) -> tuple[int, ...]:
        """``hidden_layer_sizes`` as a tuple of ints; an int is one layer and
        an empty sequence none (the network is then linear in X)."""
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(
            isinstance(h, Integral) and not isinstance(h, bool) and h >= 1
            for h in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers (or be empty: "
                f"no hidden layer, a network linear in X), got {sizes!r}."
            )
        return tuple(int(h) for h in sizes)

    def _validated(self, X, y, sample_weight, reset: bool = True) -> tuple:
        """Validated float64 X (CSR if sparse), y of shape (n,) or (n, k) and
        non-negative row weights (1 by default); entries whose squares
        overflow, and columns whose squares underflow, are refused by name.
        Records whether X was float32 (float32 out)."""
        float32 = is_float32(X)
        check_target_dtype(y)
        with naming_the_argument(X, accept_sparse=SPARSE_FORMAT):
            X, y = validate_data(
                self, X, y, y_numeric=True, dtype=np.float64, reset=reset,
                accept_sparse=SPARSE_FORMAT, multi_output=True,
            )  # fmt: skip
        y = np.asarray(y, dtype=np.float64)  # a bool y is fitted as 0/1
        check_extremes(X, "X")
        check_extremes(y, "y")
        w = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        self._float32 = float32
        return X, y, w

    # ------------------------------------------------------------ predict
    def _validated_X(self, X):
        """Validated float64 X (CSR when sparse), its magnitude checked."""
        return validated_predict_X(self, X)

    @property
    def _n_out(self) -> int | None:
        """The number of targets of a 2-D y, None for a 1-D y."""
        return None if np.ndim(self._y_mean) == 0 else len(self._y_mean)

    def _scaled_rows(self, X):
        """Validated X standardised as the training X was: an array, or for a
        sparse X its rows densified a chunk at a time."""
        if sp.issparse(X):
            return Rows(X, self._x_mean, self._x_scale).chunks()
        return (X - self._x_mean) / self._x_scale

    def _predict_device(self) -> torch.device:
        """Where to predict: ``device``, or the CPU for a model fitted on CUDA
        and asked to predict where there is none (it holds NumPy arrays)."""
        cuda_missing = self.device == "cuda" and not torch.cuda.is_available()
        return resolve_device("cpu" if cuda_missing else self.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
