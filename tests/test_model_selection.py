"""EvidenceSearch: model selection by the log evidence, one fit per candidate."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg import BasisExpansion, ConjugateLinearRegression, EvidenceSearch
from bayesreg.datasets import make_seed_problem
from bayesreg.metrics import get_scorer

DEGREES = {"basisexpansion__degree": list(range(1, 16))}


def _seed_model():
    return make_pipeline(
        BasisExpansion(), ConjugateLinearRegression(fit_hyperparameters=True)
    )


@parametrize_with_checks(
    [EvidenceSearch(ConjugateLinearRegression(), {"prior_std": [0.5, 2.0]})]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_seed_problem_matches_cross_validation_with_one_fit_per_degree():
    # The acceptance test: on the seed problem, the degree chosen by
    # the evidence predicts held-out data (mean NLPD) within 5% of the degree
    # chosen by 5-fold cross-validation on NLPD. EvidenceSearch needs one
    # fit per degree (15), GridSearchCV 5 per degree plus a refit (76); the
    # timing is in benchmarks/RESULTS.md and examples/plot_evidence_selection.py.
    X, y = make_seed_problem(100, random_state=0)
    X_test, y_test = make_seed_problem(2000, sampling="uniform", random_state=1)
    search = EvidenceSearch(_seed_model(), DEGREES).fit(X, y)
    cv = GridSearchCV(
        _seed_model(),
        DEGREES,
        cv=KFold(5, shuffle=True, random_state=0),
        scoring=get_scorer("neg_nlpd"),
    ).fit(X, y)
    nlpd_evidence = -search.log_predictive_density(X_test, y_test).mean()
    best_cv = cv.best_estimator_
    nlpd_cv = -best_cv[-1].log_predictive_density(best_cv[0].transform(X_test), y_test)
    nlpd_cv = nlpd_cv.mean()
    assert abs(nlpd_evidence - nlpd_cv) <= 0.05 * abs(nlpd_cv)
    assert 4 <= search.best_params_["basisexpansion__degree"] <= 12


def test_picks_the_true_degree_of_a_polynomial():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (200, 1))
    y = 1 - 2 * x[:, 0] + 3 * x[:, 0] ** 3 + 0.2 * rng.normal(size=200)
    search = EvidenceSearch(_seed_model(), {"basisexpansion__degree": range(1, 9)})
    assert search.fit(x, y).best_params_ == {"basisexpansion__degree": 3}


def test_results_table():
    X, y = make_seed_problem(50, random_state=0)
    search = EvidenceSearch(_seed_model(), DEGREES).fit(X, y)
    res = search.cv_results_
    ev = res["log_marginal_likelihood"]
    assert len(res["params"]) == 15
    assert list(res["param_basisexpansion__degree"]) == list(range(1, 16))
    assert res["rank_log_marginal_likelihood"][search.best_index_] == 1
    assert np.all(np.diff(res["rank_log_marginal_likelihood"][np.argsort(-ev)]) >= 0)
    assert search.best_score_ == ev.max()
    assert search.best_score_ == search.best_estimator_[-1].log_marginal_likelihood_
    assert np.all(res["fit_time"] > 0)
    frame = pd.DataFrame(res)
    assert frame.shape[0] == 15
    # each candidate was evaluated on its own fit: the table's evidence is
    # the evidence of a fresh fit with those parameters
    for i in (0, 7, 14):
        est = _seed_model().set_params(**res["params"][i]).fit(X, y)
        assert_allclose(ev[i], est[-1].log_marginal_likelihood_, rtol=1e-12)


def test_delegates_to_the_best_estimator():
    X, y = make_seed_problem(60, random_state=3)
    search = EvidenceSearch(_seed_model(), DEGREES).fit(X, y)
    best = search.best_estimator_
    Xt = np.linspace(-0.1, 1.1, 9)[:, None]
    ref = best[-1].predict_dist(best[0].transform(Xt))
    dist = search.predict_dist(Xt)
    assert_allclose(dist.mean, ref.mean)
    assert_allclose(dist.std, ref.std)
    assert_allclose(search.predict(Xt), best.predict(Xt))
    assert_allclose(search.predict_std(Xt, kind="epistemic"), ref.epistemic_std)
    assert_allclose(search.predict_interval(Xt, 0.9), ref.interval(0.9))
    assert_allclose(
        search.sample_y(Xt, 5, random_state=0),
        best[-1].sample_y(best[0].transform(Xt), 5, random_state=0),
    )
    assert search.sample_functions(Xt, 3, random_state=0).shape == (9, 3)
    draws = search.sample_parameters(4, random_state=0)
    expected = best[-1].sample_parameters(4, random_state=0)
    assert draws.keys() == expected.keys()
    for key in draws:
        assert_allclose(draws[key], expected[key])
    assert search.n_features_in_ == 1


def test_parallel_fits_give_the_same_choice():
    X, y = make_seed_problem(60, random_state=4)
    a = EvidenceSearch(_seed_model(), DEGREES).fit(X, y)
    b = EvidenceSearch(_seed_model(), DEGREES, n_jobs=2).fit(X, y)
    assert a.best_params_ == b.best_params_
    assert_allclose(
        a.cv_results_["log_marginal_likelihood"],
        b.cv_results_["log_marginal_likelihood"],
    )


def test_refuses_incomparable_or_evidence_free_candidates():
    X, y = make_seed_problem(30, random_state=0)
    with pytest.raises(ValueError, match="fit_intercept"):
        EvidenceSearch(
            ConjugateLinearRegression(), {"fit_intercept": [True, False]}
        ).fit(X, y)
    with pytest.raises(TypeError, match="log_marginal_likelihood_"):
        EvidenceSearch(Ridge(), {"alpha": [1.0, 2.0]}).fit(X, y)
    with pytest.raises(ValueError, match="candidate"):
        EvidenceSearch(ConjugateLinearRegression(), []).fit(X, y)


def test_predictive_contract():
    from bayesreg.utils.estimator_checks import check_predictive_contract

    check_predictive_contract(
        EvidenceSearch(
            ConjugateLinearRegression(noise_std=None), {"prior_std": [0.5, 2]}
        )
    )


def test_refit_on_a_plain_array_forgets_the_feature_names():
    # Issue 21, defect 12: feature_names_in_ of a DataFrame fit outlived a
    # refit on a plain array, while best_estimator_ had none.
    X, y = make_seed_problem(30, random_state=0)
    X3 = np.hstack([X, X**2, X**3])
    search = EvidenceSearch(ConjugateLinearRegression(), {"prior_std": [0.5, 2.0]})
    search.fit(pd.DataFrame(X3, columns=list("abc")), y)
    assert list(search.feature_names_in_) == ["a", "b", "c"]
    search.fit(X3, y)
    assert not hasattr(search.best_estimator_, "feature_names_in_")
    assert not hasattr(search, "feature_names_in_")
    assert search.n_features_in_ == 3
    search.fit(X, y)
    assert search.n_features_in_ == 1


def test_failed_refit_keeps_the_previous_search():
    X, y = make_seed_problem(30, random_state=0)
    search = EvidenceSearch(ConjugateLinearRegression(), {"prior_std": [0.5, 2.0]})
    search.fit(pd.DataFrame(X, columns=["x"]), y)
    state = dict(vars(search))
    with pytest.raises(ValueError, match="NaN"):
        search.fit(np.full_like(X, np.nan), y)
    assert vars(search) == state


class _TwoTargetEvidence(RegressorMixin, BaseEstimator):
    """A stand-in with one log evidence per target, shape (2,), as the closed
    forms have with a y of shape (n, 2)."""

    def __init__(self, evidence=(0.0, 0.0)):
        self.evidence = evidence

    def fit(self, X, y):
        self.n_features_in_ = np.shape(X)[1]
        self.log_marginal_likelihood_ = np.asarray(self.evidence, dtype=float)
        self.mean_ = np.mean(y, axis=0)
        return self

    def predict(self, X):
        return np.tile(self.mean_, (len(X), 1))


def test_several_targets_are_compared_by_their_summed_log_evidence():
    X, y = make_seed_problem(20, random_state=0)
    Y = np.column_stack([y, 2 * y])
    # The first candidate is best for target 0, the second overall: the sum
    # picks the second, a comparison of either target alone or of the
    # largest entry would pick the first.
    grid = {"evidence": [(0.0, -10.0), (-1.0, -1.0), (-3.0, -8.5)]}
    search = EvidenceSearch(_TwoTargetEvidence(), grid).fit(X, Y)
    assert search.best_params_ == {"evidence": (-1.0, -1.0)}
    assert search.best_score_ == -2.0
    assert_allclose(search.cv_results_["log_marginal_likelihood"], [-10, -2, -11.5])
    assert list(search.cv_results_["rank_log_marginal_likelihood"]) == [2, 1, 3]


def test_several_targets_with_the_closed_form_sum_the_separate_evidences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 2)) + [[0.1, 2.0]] * rng.normal(size=(40, 2))
    grid = {"prior_std": [0.1, 1.0, 10.0]}
    search = EvidenceSearch(ConjugateLinearRegression(), grid).fit(X, Y)
    for i, params in enumerate(search.cv_results_["params"]):
        separate = [
            ConjugateLinearRegression(**params).fit(X, Y[:, j]).log_marginal_likelihood_
            for j in range(2)
        ]
        assert_allclose(
            search.cv_results_["log_marginal_likelihood"][i], sum(separate), rtol=1e-10
        )
    assert search.predict(X).shape == (40, 2)
