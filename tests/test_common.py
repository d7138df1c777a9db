"""Checks every public estimator must pass: sklearn's and the predictive contract."""

import importlib.util

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg import BasisExpansion, RidgeMAP
from bayesreg.utils.estimator_checks import check_predictive_contract


def _pyro_estimators():
    """Fast configurations of the Pyro estimators, once their modules exist."""
    found = []
    if importlib.util.find_spec("bayesreg.pyro.linear") is not None:
        from bayesreg import PyroBayesianLinear

        found.append(PyroBayesianLinear(max_iter=30, num_particles=4, random_state=0))
    if importlib.util.find_spec("bayesreg.pyro.bnn") is not None:
        from bayesreg import PyroBNNRegressor

        found.append(
            PyroBNNRegressor(
                hidden_layer_sizes=(8,),
                max_iter=10,
                learning_rate_init=0.05,
                n_posterior_samples=20,
                jit=False,
                random_state=0,
            )
        )
    return found


def _numpy_estimators():
    found = [RidgeMAP(), RidgeMAP(alpha=0.0, fit_intercept=False)]
    if importlib.util.find_spec("bayesreg.conjugate") is not None:
        from bayesreg import ConjugateLinearRegression

        found += [
            ConjugateLinearRegression(),
            ConjugateLinearRegression(noise_std=None),
            ConjugateLinearRegression(fit_hyperparameters=True),
        ]
    return found


REGRESSORS = _numpy_estimators() + _pyro_estimators()
TRANSFORMERS = [
    BasisExpansion(),
    BasisExpansion(kind="sinusoidal"),
    BasisExpansion(kind="rbf"),
]
ESTIMATORS = REGRESSORS + TRANSFORMERS


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", REGRESSORS, ids=repr)
def test_predictive_contract(estimator):
    check_predictive_contract(estimator)
