"""Adversarial harness (issue 21): bad inputs x every estimator x every method.

Each cell feeds one kind of bad input to one public method of one estimator
and accepts exactly one of two outcomes:

* a **checked result**: the same answer as a reference (the same fit on the
  cleaned or converted input, the fit in other units mapped back, the
  constant a constant y must give), or
* a **ValueError that names the problem**: the argument (``X``, ``y``,
  ``sample_weight``) as a word, or, for the two shape errors whose
  messages come from sklearn's own length checks, the samples.

Anything else (another exception, a NaN, a silently wrong number) fails.
The methods are fit and partial_fit, the predictive methods, the six
scorers of :mod:`bayesreg.metrics` and the three Displays that take data
(``LossCurveDisplay`` takes only the fitted estimator), and BasisExpansion's
fit and transform. A fast subset (ConjugateLinearRegression, the cheap
methods) runs in the default suite; the rest is marked slow, so the whole
grid runs with ``-m "slow or not slow"``.

The cells that fail today, because of a defect being fixed or a finding of
this harness, are listed in ``KNOWN`` with the reason (strict xfails: remove
an entry once its fix lands, or the suite says the mark is stale).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from bayesreg import (
    BasisExpansion,
    ConjugateLinearRegression,
    EvidenceSearch,
    RidgeMAP,
    predict_dist,
)
from bayesreg.metrics import get_scorer

#: (estimator, input kind, method) -> why the cell fails today. Each is a
#: strict xfail: remove the entry once its fix lands. Filled in by _known()
#: below the tables, from the run of 2026-12-06 (issue 21's harness); the
#: entries of the defects fixed since (10, 11, the networks' constant y, the
#: dtypes of y) are gone.
KNOWN: dict[tuple[str, str, str], str] = {}


# ----------------------------------------------------------------- the data
def _data(n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5][:d] + [0.5, -1.0, 2.0][:d]
    y = X @ [1.0, -0.5, 2.0][:d] + 1.0 + 0.3 * rng.normal(size=n)
    return X, y


X0, Y0 = _data()
XT, YT = _data(n=7, seed=1)


# ------------------------------------------------------------ the estimators
def _torch(name):
    pytest.importorskip("torch")
    pytest.importorskip("pyro")
    import bayesreg

    return getattr(bayesreg, name)


def _pyro_linear():
    return _torch("PyroBayesianLinear")(
        max_iter=20, n_posterior_samples=20, random_state=0
    )


def _bnn():
    return _torch("PyroBNNRegressor")(
        hidden_layer_sizes=(4,), max_iter=20, n_posterior_samples=20, random_state=0
    )


def _ensemble():
    return _torch("DeepEnsembleRegressor")(
        n_estimators=2, hidden_layer_sizes=(4,), max_iter=20, warmup_iter=5,
        n_iter_no_change=5, random_state=0,
    )  # fmt: skip


#: name -> (factory, exact): exact estimators are deterministic closed forms,
#: checked to 1e-7; the torch ones are deterministic for a given
#: random_state, so identical inputs still give identical fits.
ESTIMATORS = {
    "conjugate": (ConjugateLinearRegression, True),
    "ridge_map": (RidgeMAP, True),
    "evidence_search": (
        lambda: EvidenceSearch(ConjugateLinearRegression(), {"prior_std": [0.5, 2.0]}),
        True,
    ),
    "pyro_linear": (_pyro_linear, False),
    "bnn": (_bnn, False),
    "ensemble": (_ensemble, False),
}
FAST_ESTIMATORS = {"conjugate"}

PREDICT = ["predict", "predict_std", "predict_interval", "predict_dist", "sample_y"]
SCORERS = [
    "neg_nlpd", "neg_crps", "neg_interval_score", "neg_coverage_error",
    "neg_calibration_error", "neg_mean_interval_width",
]  # fmt: skip
DISPLAYS = ["PredictiveBandDisplay", "ReliabilityDisplay", "PITDisplay"]
WITH_Y = ["log_predictive_density", *SCORERS, *DISPLAYS[1:]]
FAST_METHODS = {"fit", "partial_fit", "predict", "predict_std", "predict_interval"}
FAST_METHODS |= {"log_predictive_density", "neg_nlpd", "neg_crps"}


# ------------------------------------------------------------- bad inputs
def _with(X, j, value):
    X = X.astype(float).copy()
    X[0, min(j, X.shape[1] - 1)] = value
    return X


def _nullable(a, na=False):
    """A pandas frame (2-D) or series of nullable Float64, with pd.NA."""
    frame = pd.DataFrame(a) if a.ndim == 2 else pd.Series(a)
    frame = frame.astype("Float64")
    if na:
        if a.ndim == 2:
            frame.iloc[0, 0] = pd.NA
        else:
            frame.iloc[0] = pd.NA
    return frame


def _nullable_int(a):
    return (pd.DataFrame(a) if a.ndim == 2 else pd.Series(a)).astype("Int64")


def _strings(a):
    out = a.astype(object)
    out.flat[0] = "a"
    return out


def _object(a):
    return a.astype(object)


REFUSE = "refuse"  # must raise a ValueError naming the argument
SAME = "same"  # must equal the result on the converted input


class Kind:
    """One kind of bad input: ``make(X, y)`` -> the arguments, and what a
    right answer is (``expect``: REFUSE with the argument's name, SAME as
    the fit on ``clean(X, y)``, or a custom check)."""

    def __init__(self, arg, make, expect=REFUSE, clean=None, name_re=None):
        self.arg, self.make, self.expect, self.clean = arg, make, expect, clean
        self.name_re = name_re or (r"\by(_true)?\b" if arg == "y" else rf"\b{arg}\b")


def _ints(X, y):
    return X.round().astype(int), y


FIT_KINDS = {
    "X NaN": Kind("X", lambda X, y: (_with(X, 1, np.nan), y)),
    "X inf": Kind("X", lambda X, y: (_with(X, 1, np.inf), y)),
    "X 1e300": Kind("X", lambda X, y: (X * 1e300, y), "basis_only"),
    "X 1e-300": Kind("X", lambda X, y: (X * 1e-300, y), "units_X"),
    "X empty": Kind("X", lambda X, y: (X[:0], y[:0]), name_re=r"\bX\b|0 sample|empty"),
    "X one row": Kind(
        "X",
        lambda X, y: (X[:1], y[:1]),
        "one_row",
        # a refusal may say why one row is too few for this model
        name_re=r"\b[Xy]\b|sample|improper",
    ),
    "X constant column": Kind("X", lambda X, y: (_with_constant(X), y), "constant_col"),
    "X duplicate columns": Kind(
        "X", lambda X, y: (np.column_stack([X, X[:, 0]]), y), "duplicate"
    ),
    "X strings": Kind("X", lambda X, y: (_strings(X), y)),
    "X object": Kind(
        "X", lambda X, y: (_object(X), y), SAME, clean=lambda X, y: (X, y)
    ),
    "X complex": Kind("X", lambda X, y: (X + 1j, y)),
    "X bool": Kind(
        "X", lambda X, y: (X > 0, y), SAME, clean=lambda X, y: ((X > 0) * 1.0, y)
    ),
    "X nullable NA": Kind("X", lambda X, y: (_nullable(X, na=True), y)),
    "X nullable Float64": Kind(
        "X", lambda X, y: (_nullable(X), y), SAME, clean=lambda X, y: (X, y)
    ),
    "X nullable Int64": Kind(
        "X",
        lambda X, y: (_nullable_int(X.round()), y),
        SAME,
        clean=lambda X, y: (X.round(), y),
    ),
    "X 3-D": Kind("X", lambda X, y: (X[:, :, None], y)),
    "y NaN": Kind("y", lambda X, y: (X, np.r_[np.nan, y[1:]])),
    "y inf": Kind("y", lambda X, y: (X, np.r_[np.inf, y[1:]])),
    "y 1e300": Kind("y", lambda X, y: (X, y * 1e300)),
    "y 1e-300": Kind("y", lambda X, y: (X, y * 1e-300), "units_y"),
    "y constant": Kind("y", lambda X, y: (X, np.full_like(y, 5.0)), "constant_y"),
    "y strings": Kind("y", lambda X, y: (X, _strings(y))),
    "y object": Kind(
        "y", lambda X, y: (X, _object(y)), SAME, clean=lambda X, y: (X, y)
    ),
    "y complex": Kind("y", lambda X, y: (X, y + 1j)),
    "y bool": Kind(
        "y", lambda X, y: (X, y > 2), SAME, clean=lambda X, y: (X, (y > 2) * 1.0)
    ),
    "y nullable NA": Kind("y", lambda X, y: (X, _nullable(y, na=True))),
    "y nullable Float64": Kind(
        "y", lambda X, y: (X, _nullable(y)), SAME, clean=lambda X, y: (X, y)
    ),
    "y (n, 1)": Kind("y", lambda X, y: (X, y[:, None]), "column_y"),
    "y 2-D (n, 1, 1)": Kind("y", lambda X, y: (X, y[:, None, None])),
    "X, y lengths differ": Kind(
        "y", lambda X, y: (X, y[:-1]), name_re=r"inconsistent numbers of samples"
    ),
    "sample_weight negative": Kind(
        "sample_weight", lambda X, y: (X, y, np.r_[-1.0, np.ones(len(y) - 1)])
    ),
    "sample_weight NaN": Kind(
        "sample_weight", lambda X, y: (X, y, np.r_[np.nan, np.ones(len(y) - 1)])
    ),
    "sample_weight length": Kind(
        "sample_weight", lambda X, y: (X, y, np.ones(len(y) - 1))
    ),
}


def _with_constant(X):
    X = X.copy()
    X[:, 1] = 3.0
    return X


PREDICT_KINDS = {
    "X NaN": Kind("X", lambda X, y: (_with(X, 1, np.nan), y)),
    "X inf": Kind("X", lambda X, y: (_with(X, 1, np.inf), y)),
    "X 1e300": Kind("X", lambda X, y: (X * 1e300, y), "finite"),
    "X 1e-300": Kind("X", lambda X, y: (X * 1e-300, y), "near_zero_X"),
    "X empty": Kind(
        "X", lambda X, y: (X[:0], y[:0]), "empty", name_re=r"\bX\b|0 sample"
    ),
    "X strings": Kind("X", lambda X, y: (_strings(X), y)),
    "X complex": Kind("X", lambda X, y: (X + 1j, y)),
    "X bool": Kind(
        "X", lambda X, y: (X > 0, y), SAME, clean=lambda X, y: ((X > 0) * 1.0, y)
    ),
    "X object": Kind(
        "X", lambda X, y: (_object(X), y), SAME, clean=lambda X, y: (X, y)
    ),
    "X nullable NA": Kind("X", lambda X, y: (_nullable(X, na=True), y)),
    "X nullable Float64": Kind(
        "X", lambda X, y: (_nullable(X), y), SAME, clean=lambda X, y: (X, y)
    ),
    "X 3-D": Kind("X", lambda X, y: (X[:, :, None], y)),
    "X one feature too many": Kind(
        "X", lambda X, y: (np.column_stack([X, X[:, 0]]), y), name_re=r"\bX\b|feature"
    ),
    "X one feature too few": Kind(
        "X", lambda X, y: (X[:, 1:], y), name_re=r"\bX\b|feature"
    ),
}

Y_KINDS = {
    "y NaN": Kind("y", lambda X, y: (X, np.r_[np.nan, y[1:]])),
    "y inf": Kind("y", lambda X, y: (X, np.r_[np.inf, y[1:]])),
    "y 1e300": Kind("y", lambda X, y: (X, np.r_[1e300, y[1:]]), "no_nan"),
    "y 1e155": Kind("y", lambda X, y: (X, np.r_[1e155, y[1:]]), "no_nan"),
    "y strings": Kind("y", lambda X, y: (X, _strings(y))),
    "y complex": Kind("y", lambda X, y: (X, y + 5j)),
    "y bool": Kind(
        "y", lambda X, y: (X, y > 2), SAME, clean=lambda X, y: (X, (y > 2) * 1.0)
    ),
    "y nullable NA": Kind("y", lambda X, y: (X, _nullable(y, na=True))),
    "y (n, 1)": Kind(
        "y", lambda X, y: (X, y[:, None]), SAME, clean=lambda X, y: (X, y)
    ),
    "y 3-D": Kind("y", lambda X, y: (X, y[:, None, None])),
    "X, y lengths differ": Kind(
        "y",
        lambda X, y: (X, y[:-1]),
        name_re=r"inconsistent numbers of samples|\by(_true)?\b",
    ),
}


# ---------------------------------------------------- today's known failures
ALL = list(ESTIMATORS)
FIT = ["fit", "partial_fit"]
PREDICTIVE = [*PREDICT, "log_predictive_density", *SCORERS, *DISPLAYS]
BUT_BAND = [m for m in PREDICTIVE if m != "PredictiveBandDisplay"]


def _known(estimators, kind, methods, reason):
    for name in estimators:
        for method in methods:
            KNOWN[name, kind, method] = reason


# ------------------------------------------------------------- the methods
def _call(method, est, X, y):
    """Run one public method; return its numbers (an array) for comparison."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayesreg import plotting

    if method in ("predict", "predict_std"):
        return getattr(est, method)(X)
    if method == "log_predictive_density":
        return est.log_predictive_density(X, y)
    if method == "predict_interval":
        return est.predict_interval(X, coverage=0.9)
    if method == "predict_dist":
        dist = predict_dist(est, X)
        return np.stack([dist.mean, dist.std])
    if method == "sample_y":
        return est.sample_y(X, 3, random_state=0)
    if method in SCORERS:
        return np.asarray(get_scorer(method)(est, X, y))
    display = getattr(plotting, method)
    try:
        if method == "PredictiveBandDisplay":
            shown = display.from_estimator(est, X, y, grid_resolution=5)
            return np.asarray(shown.mean)
        shown = display.from_estimator(est, X, y)
        if method == "PITDisplay":
            return np.asarray(shown.pit_values)
        return np.asarray(shown.observed)
    finally:
        plt.close("all")


def _fit(factory, X, y, sample_weight=None, method="fit"):
    est = factory()
    kw = {} if sample_weight is None else {"sample_weight": sample_weight}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(est, method)(X, y, **kw)


_CACHE: dict = {}


def _fitted(name, X=X0, y=Y0, key="clean"):
    """The estimator fitted on clean data (cached per module)."""
    if (name, key) not in _CACHE:
        _CACHE[name, key] = _fit(ESTIMATORS[name][0], X, y)
    return _CACHE[name, key]


def _refused(exc, kind):
    """A ValueError whose message names the argument (or the problem)."""
    msg = str(exc)
    assert isinstance(exc, ValueError), f"{type(exc).__name__}: {msg}"
    assert re.search(kind.name_re, msg), f"the message does not name it: {msg!r}"


def _close(got, want, rtol=1e-7):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    atol = rtol * float(np.max(np.abs(want), initial=0.0))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _summary(est, Xt):
    """The fitted model's predictive at Xt: mean, std and 90% interval,
    each through its own public method."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (est.predict(Xt), est.predict_std(Xt), est.predict_interval(Xt, 0.9))


def _assert_same_model(got, want, Xt_got, Xt_want, rtol=1e-7, scale=1.0):
    for a, b in zip(_summary(got, Xt_got), _summary(want, Xt_want), strict=True):
        _close(np.asarray(a) / scale, b, rtol)


# ------------------------------------------------- checks of accepted fits
def _check_same(name, kind, est, method):
    Xc, yc = kind.clean(X0, Y0)
    ref = _fit(ESTIMATORS[name][0], Xc, yc, method=method)
    Xt = kind.clean(XT, YT)[0]
    _assert_same_model(est, ref, Xt, Xt)


def _check_units_X(name, kind, est, method):
    """X * 1e-300: the unit-free defaults give the fit on X, mapped."""
    a = 1e-300
    if name == "ridge_map":  # alpha is a penalty in the units of X
        from sklearn.linear_model import Ridge

        want = Ridge(alpha=est.alpha).fit(X0 * a, Y0).predict(XT * a)
        _close(est.predict(XT * a), want)
        return
    ref = _fitted(name)
    _assert_same_model(est, ref, XT * a, XT, 1e-6 if ESTIMATORS[name][1] else 1e-4)


def _check_units_y(name, kind, est, method):
    """y * 1e-300: the fit on y, every number times 1e-300."""
    ref = _fitted(name)
    rtol = 1e-6 if ESTIMATORS[name][1] else 1e-4
    _assert_same_model(est, ref, XT, XT, rtol, scale=1e-300)


def _check_constant_y(name, kind, est, method):
    """A constant y is predicted as that constant (ConjugateLinearRegression
    and sklearn's BayesianRidge do), with a finite, small std."""
    mean, std, interval = _summary(est, XT)
    exact = ESTIMATORS[name][1]
    _close(mean, np.full(len(XT), 5.0), 1e-9 if exact else 1e-2)
    # BayesianRidge: 2.8e-4; iterative fits: within 1% of the constant
    assert np.all(np.isfinite(std)) and np.all(std >= 0)
    assert np.all(std < (5e-3 if exact else 5e-2)), std
    assert np.all(interval[:, 0] <= mean) and np.all(mean <= interval[:, 1])


def _check_one_row(name, kind, est, method):
    """One row: nothing tells the slope; the mean is that row's y."""
    mean, std, _ = _summary(est, XT)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)
    if ESTIMATORS[name][1]:
        _close(mean, np.full(len(XT), Y0[0]), 1e-9)
    else:
        assert np.all(np.abs(mean - Y0[0]) <= 3 * std)


def _check_constant_col(name, kind, est, method):
    """A constant column carries nothing: the fit without it, at test rows
    with the column at its constant."""
    Xt = _with_constant(XT)
    if not ESTIMATORS[name][1]:
        assert all(np.all(np.isfinite(a)) for a in _summary(est, Xt))
        return
    drop = [0, 2]
    ref = _fit(ESTIMATORS[name][0], X0[:, drop], Y0, method=method)
    _assert_same_model(est, ref, Xt, XT[:, drop])


def _check_duplicate(name, kind, est, method):
    """Duplicate columns: the order of the columns does not matter."""
    Xt = np.column_stack([XT, XT[:, 0]])
    if not ESTIMATORS[name][1]:
        assert all(np.all(np.isfinite(a)) for a in _summary(est, Xt))
        return
    order = [3, 0, 1, 2]
    ref = _fit(ESTIMATORS[name][0], np.column_stack([X0, X0[:, 0]])[:, order], Y0)
    _assert_same_model(est, ref, Xt, Xt[:, order])


def _check_column_y(name, kind, est, method):
    """y of shape (n, 1) behaves as for sklearn's Ridge: the fit on y by the
    same method (one partial_fit of a network is one epoch, not a fit), with
    the outputs keeping their trailing axis of length 1."""
    ref = (
        _fitted(name)
        if method == "fit"
        else _fit(ESTIMATORS[name][0], X0, Y0, method=method)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert est.predict(XT).shape == (len(XT), 1)
        _close(est.predict(XT)[:, 0], ref.predict(XT))
        _close(est.predict_std(XT)[:, 0], ref.predict_std(XT))


FIT_CHECKS = {
    SAME: _check_same, "units_X": _check_units_X, "units_y": _check_units_y,
    "constant_y": _check_constant_y, "one_row": _check_one_row,
    "constant_col": _check_constant_col, "duplicate": _check_duplicate,
    "column_y": _check_column_y,
}  # fmt: skip


# --------------------------------------------------------------- the cells
def _run_fit_cell(name, kind_name, method):
    kind = FIT_KINDS[kind_name]
    X, y, *rest = kind.make(X0, Y0)
    sample_weight = rest[0] if rest else None
    if name == "basis":
        return _run_basis_fit(kind, X)
    try:
        est = _fit(ESTIMATORS[name][0], X, y, sample_weight, method)
    except Exception as exc:
        _refused(exc, kind)
        return
    assert kind.expect not in (REFUSE, "basis_only"), f"{kind_name} accepted"
    FIT_CHECKS[kind.expect](name, kind, est, method)


def _run_basis_fit(kind, X):
    try:
        basis = BasisExpansion(degree=2).fit(X)
    except Exception as exc:
        _refused(exc, kind)
        return
    assert kind.expect != REFUSE, "accepted"
    if kind.expect == SAME:
        Xc, Xt = kind.clean(X0, Y0)[0], kind.clean(XT, YT)[0]
        _close(basis.transform(Xt), BasisExpansion(degree=2).fit(Xc).transform(Xt))
    elif kind.expect == "units_X":
        ref = BasisExpansion(degree=2).fit(X0)
        _close(basis.transform(XT * 1e-300), ref.transform(XT), 1e-9)
    elif kind.expect == "basis_only":  # huge X: the same mapped features
        _close(basis.transform(X), BasisExpansion(degree=2).fit(X0).transform(X0))
    else:  # one row, a constant or duplicate column: finite features
        Xt = X[:1] if kind.expect == "one_row" else X
        assert np.all(np.isfinite(basis.transform(Xt)))


def _run_predict_cell(name, kind_name, method, kinds):
    kind = kinds[kind_name]
    one_d = method == "PredictiveBandDisplay"  # a band over one input column
    if name == "basis":
        est = BasisExpansion(degree=2).fit(X0)
        call = lambda X, y: est.transform(X)  # noqa: E731
        Xt, yt = XT, YT
    else:
        key = "1d" if one_d else "clean"
        est = _fitted(name, X0[:, :1] if one_d else X0, Y0, key)
        call = lambda X, y: _call(method, est, X, y)  # noqa: E731
        Xt, yt = (XT[:, :1] if one_d else XT), YT
    X, y = kind.make(Xt, yt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = call(X, y)
    except Exception as exc:
        _refused(exc, kind)
        return
    assert kind.expect != REFUSE or (
        method == "neg_mean_interval_width" and kinds is Y_KINDS
    ), f"{kind_name} was accepted by {method}"
    got = np.asarray(got, dtype=float)
    if method == "neg_mean_interval_width" and kinds is Y_KINDS:
        _close(got, call(Xt, yt))  # the width does not read y
    elif kind.expect == SAME:
        _close(got, call(*kind.clean(Xt, yt)))
    elif kind.expect == "near_zero_X":
        _close(got, call(Xt * 0.0, yt), 1e-9)
    elif kind.expect == "empty":
        assert got.shape[:1] == (0,), got.shape
    elif kind.expect == "no_nan":
        assert not np.any(np.isnan(got)), got
    elif kind.expect == "finite":
        # a log density far beyond float64's range is -inf, rightly
        log = method in ("log_predictive_density", "neg_nlpd")
        assert np.all(np.isfinite(got) | (log & (got == -np.inf))), got


#: which estimators have partial_fit (a table: looking would import torch at
#: collection time); test_partial_fit_table_is_right checks it.
PARTIAL_FIT = {"conjugate", "pyro_linear", "bnn"}


def _mark(name, kind, method):
    marks = []
    slow = name not in FAST_ESTIMATORS and name != "basis"
    if slow or method not in FAST_METHODS | {"transform"}:
        marks.append(pytest.mark.slow)
    reason = KNOWN.get((name, kind, method))
    if reason:
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return marks


def _cells(kinds, methods, basis_methods, skip_y=False):
    out = []
    for name in [*ESTIMATORS, "basis"]:
        for kind in kinds:
            if name == "basis" and (skip_y or kinds[kind].arg != "X"):
                continue
            for method in basis_methods if name == "basis" else methods(name):
                out.append(
                    pytest.param(
                        name,
                        kind,
                        method,
                        marks=_mark(name, kind, method),
                        id=f"{name}-{kind}-{method}",
                    )
                )
    return out


def _fit_methods(name):
    return ["fit", "partial_fit"] if name in PARTIAL_FIT else ["fit"]


@pytest.mark.parametrize("name, kind, method", _cells(FIT_KINDS, _fit_methods, ["fit"]))
def test_bad_input_to_fit(name, kind, method):
    _run_fit_cell(name, kind, method)


@pytest.mark.parametrize(
    "name, kind, method",
    _cells(
        PREDICT_KINDS,
        lambda name: [*PREDICT, "log_predictive_density", *SCORERS, *DISPLAYS],
        ["transform"],
    ),
)
def test_bad_X_to_a_fitted_estimator(name, kind, method):
    _run_predict_cell(name, kind, method, PREDICT_KINDS)


@pytest.mark.parametrize(
    "name, kind, method", _cells(Y_KINDS, lambda name: WITH_Y, [], skip_y=True)
)
def test_bad_y_to_a_fitted_estimator(name, kind, method):
    _run_predict_cell(name, kind, method, Y_KINDS)


@pytest.mark.slow
def test_partial_fit_table_is_right():
    have = {n for n, (make, _) in ESTIMATORS.items() if hasattr(make(), "partial_fit")}
    assert have == PARTIAL_FIT
