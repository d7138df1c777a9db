"""Checks every public estimator must pass: sklearn's and the predictive contract."""

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg import (
    BasisExpansion,
    ConjugateLinearRegression,
    DeepEnsembleRegressor,
    EvidenceSearch,
    PyroBayesianLinear,
    PyroBNNRegressor,
    RidgeMAP,
)
from bayesreg.utils.estimator_checks import check_predictive_contract

# Fast configurations: the checks test the plumbing, not the posterior quality
# (tests/test_pyro_*.py compare the posteriors with closed forms).
FAST_SVI_LINEAR = PyroBayesianLinear(max_iter=30, n_particles=4, random_state=0)
FAST_BNN = PyroBNNRegressor(
    hidden_layer_sizes=(8,),
    max_iter=10,
    learning_rate_init=0.05,
    n_posterior_samples=20,
    jit=False,
    random_state=0,
)

FAST_ENSEMBLE = DeepEnsembleRegressor(
    n_estimators=3,
    hidden_layer_sizes=(8,),
    max_iter=60,
    warmup_iter=20,
    n_iter_no_change=20,
    random_state=0,
)

REGRESSORS = [
    RidgeMAP(),
    RidgeMAP(alpha=0.0, fit_intercept=False),
    ConjugateLinearRegression(),
    ConjugateLinearRegression(noise_std=1.0),
    ConjugateLinearRegression(noise_std=1.0, prior_std=1.0),
    ConjugateLinearRegression(fit_hyperparameters=True),
    ConjugateLinearRegression(prior_std="ard", noise_std=1.0),
    FAST_SVI_LINEAR,
    # issue 23: the models without a closed form (SVI)
    PyroBayesianLinear(prior="horseshoe", max_iter=30, n_particles=4, random_state=0),
    PyroBayesianLinear(
        likelihood="studentt", max_iter=30, n_particles=4, random_state=0
    ),
    PyroBayesianLinear(
        likelihood="heteroscedastic", max_iter=30, n_particles=4, random_state=0
    ),
    FAST_BNN,
    FAST_ENSEMBLE,
    EvidenceSearch(ConjugateLinearRegression(), {"prior_std": [0.5, 2.0]}),
    EvidenceSearch(
        make_pipeline(BasisExpansion(), ConjugateLinearRegression()),
        {"basisexpansion__degree": [1, 2, 3]},
    ),
]
TRANSFORMERS = [
    BasisExpansion(),
    BasisExpansion(kind="chebyshev"),
    BasisExpansion(kind="sinusoidal"),
    BasisExpansion(kind="rbf"),
]

# Only the predictive contract (sklearn's checks on these run in their own
# test files or would repeat the configurations above at a higher cost).
CONTRACT_ONLY = [
    PyroBayesianLinear(
        inference="nuts", n_warmup=60, n_draws=60, n_chains=1, random_state=0
    ),
    PyroBayesianLinear(prior="laplace", max_iter=30, n_particles=4, random_state=0),
    PyroBayesianLinear(prior="ard", max_iter=30, n_particles=4, random_state=0),
    PyroBayesianLinear(
        prior="horseshoe",
        inference="nuts",
        n_warmup=30,
        n_draws=30,
        n_chains=1,
        random_state=0,
    ),
    PyroBNNRegressor(
        inference="nuts",
        hidden_layer_sizes=(4,),
        n_warmup=40,
        n_draws=40,
        n_chains=1,
        random_state=0,
    ),
]


def _expected_failed_checks(estimator) -> dict[str, str]:
    """Known, justified failures of sklearn's checks (never silent skips)."""
    glm = isinstance(estimator, PyroBayesianLinear) and (
        estimator.prior != "normal" or estimator.likelihood != "normal"
    )
    if glm:
        # The models without a closed form weight each row's log density:
        # weights equal repeated rows to the check's 1e-7 (they pass it).
        return {}
    if isinstance(estimator, (PyroBayesianLinear, PyroBNNRegressor)):
        reason = (
            "stochastic optimisation: weights equal repeated rows up to "
            "rounding carried along the SVI trajectory (about 1e-6 relative "
            "for PyroBayesianLinear, float32 4e-6 for the BNN), above the "
            "check's 1e-7; tested at those tolerances in test_pyro_*.py"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    if isinstance(estimator, DeepEnsembleRegressor):
        reason = (
            "each member holds out a random share of the rows for early "
            "stopping, so repeating a row is not the same draw as weighting "
            "it; without held-out rows the two agree (test_ensemble.py)"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    return {}


@parametrize_with_checks(
    REGRESSORS + TRANSFORMERS, expected_failed_checks=_expected_failed_checks
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", REGRESSORS + CONTRACT_ONLY, ids=repr)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predictive_contract(estimator):
    check_predictive_contract(estimator)
