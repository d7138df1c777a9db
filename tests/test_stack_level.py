"""Warnings name the user's line (issue 22): ``find_stack_level``.

A ConvergenceWarning of a fit was attributed to a line of bayesreg
(``pyro/linear.py``, ``bnn.py``) or of scikit-learn (``sklearn/base.py``),
wherever the fit was called from. Each test here warns through a real call
path and checks that the warning names this file, at the line that called.
"""

import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bayesreg.utils import _warnings

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

import pyro.distributions as dist  # noqa: E402

from bayesreg import (  # noqa: E402
    ConjugateLinearRegression,
    DeepEnsembleRegressor,
    PyroBayesianLinear,
    PyroBNNRegressor,
)
from bayesreg.pyro import _engine  # noqa: E402


def _data(n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, X @ [1.0, -1.0] + 0.3 * rng.normal(size=n)


def _assert_warns_here(fit):
    """Run ``fit``, a lambda of this file that calls a fit; every
    ConvergenceWarning must name this file at the lambda's line, the line
    that called the fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    found = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert found, "the fit did not warn"
    line = fit.__code__.co_firstlineno
    for w in found:
        assert (w.filename, w.lineno) == (__file__, line), (w.filename, w.lineno)


def _svi_linear():
    return PyroBayesianLinear(max_iter=2, n_particles=2, random_state=0)


def _svi_bnn():
    return PyroBNNRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0)


def _nuts_linear():
    return PyroBayesianLinear(
        inference="nuts", n_warmup=2, n_draws=2, n_chains=1, random_state=0
    )


def _ensemble():
    return DeepEnsembleRegressor(
        hidden_layer_sizes=(3,), n_estimators=2, max_iter=2, random_state=0
    )


def _ard():
    return ConjugateLinearRegression(prior_std="ard", max_iter=1)


ESTIMATORS = {
    "ard": _ard,
    "svi-linear": _svi_linear,
    "svi-bnn": _svi_bnn,
    "nuts": _nuts_linear,
    "ensemble": _ensemble,
}


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_a_direct_fit_warns_at_the_line_that_called_fit(make):
    X, y = _data()
    est = make()
    _assert_warns_here(lambda: est.fit(X, y))


@pytest.mark.parametrize("make", ESTIMATORS.values(), ids=ESTIMATORS.keys())
def test_a_fit_in_a_pipeline_warns_at_the_line_that_called_the_pipeline(make):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), make())
    _assert_warns_here(lambda: pipe.fit(X, y))


def test_a_fit_in_a_search_warns_at_the_line_that_called_the_search():
    X, y = _data()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _svi_linear()),
        {"pyrobayesianlinear__max_iter": [2, 3]},
        cv=2,
    )
    _assert_warns_here(lambda: search.fit(X, y))


def _mean_model(x, idx):
    mu = pyro.sample("mu", dist.Normal(x.new_zeros(()), 10.0))
    with pyro.plate("data", x.shape[0], subsample=idx):
        pyro.sample("obs", dist.Normal(mu, 1.0), obs=x[idx])


def test_the_engine_called_directly_warns_at_its_caller():
    x = np.random.default_rng(0).normal(size=20)
    _assert_warns_here(lambda: _engine.fit_svi(_mean_model, (x,), seed=0, max_iter=2))


# ----------------------------------------------------- the rule on its own
PACKAGE = _warnings._PACKAGE_DIR
SKLEARN = os.path.join(os.sep, "site", "sklearn") + os.sep
JOBLIB = os.path.join(os.sep, "site", "joblib") + os.sep
USER = os.path.join(os.sep, "home", "user", "script.py")


@pytest.mark.parametrize(
    ("stack", "level"),
    [
        # innermost first: find_stack_level, the warning's site, ...
        ([PACKAGE + "u.py", PACKAGE + "fit.py", USER], 2),
        ([PACKAGE + "u.py", PACKAGE + "a.py", PACKAGE + "b.py", USER, USER], 3),
        # through a pipeline and a search's sequential parallel loop
        (
            [
                *(PACKAGE + "u.py", PACKAGE + "a.py", SKLEARN + "pipeline.py"),
                *(JOBLIB + "parallel.py", SKLEARN + "_search.py", USER),
            ],
            5,
        ),
        # a worker's stack ends in the parallel machinery: the first frame
        # outside bayesreg
        ([PACKAGE + "u.py", PACKAGE + "a.py", SKLEARN + "x.py", JOBLIB + "y.py"], 2),
        ([PACKAGE + "u.py", PACKAGE + "a.py"], 2),
    ],
)
def test_the_level_is_the_first_frame_outside_the_libraries(stack, level):
    assert _warnings._stack_level(stack, (PACKAGE, SKLEARN, JOBLIB)) == level


def test_the_libraries_folders_are_those_loaded():
    import joblib
    import sklearn

    folders = _warnings._folders()
    assert folders[0] == PACKAGE
    assert PACKAGE.rstrip(os.sep).endswith("bayesreg")
    for module in (sklearn, joblib):
        assert os.path.dirname(os.path.abspath(module.__file__)) + os.sep in folders
