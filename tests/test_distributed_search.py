"""Model search over the Pyro estimators on a dask.distributed cluster.

``GridSearchCV`` runs its fits through joblib; under joblib's ``"dask"``
backend they run on the cluster's worker processes. Because every fit has a
private, seeded random state, the search must give the same scores (not just
the same winner) as the default backend.
"""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pyro")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from bayesreg import PyroBayesianLinear, PyroBNNRegressor  # noqa: E402
from bayesreg.datasets import make_seed_problem  # noqa: E402
from bayesreg.metrics import neg_nlpd_scorer, predict_dist  # noqa: E402

# The fits are deliberately short: they must agree, not converge.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    # Worker *processes*, as on a real cluster: every fit is pickled to a
    # process that imports torch and Pyro itself.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="2GB",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _searches():
    linear = GridSearchCV(
        PyroBayesianLinear(
            max_iter=40,
            n_particles=2,
            learning_rate="constant",
            n_posterior_samples=30,
            random_state=0,
        ),
        {"noise_std": [None, 0.05, 2.0]},
        scoring=neg_nlpd_scorer,
        cv=KFold(2, shuffle=True, random_state=0),
    )
    bnn = GridSearchCV(
        PyroBNNRegressor(
            hidden_layer_sizes=(8,),
            max_iter=20,
            jit=False,
            n_posterior_samples=30,
            random_state=0,
        ),
        {"prior_std": [0.05, 2.0]},
        scoring=neg_nlpd_scorer,
        cv=KFold(2, shuffle=True, random_state=0),
    )
    return {"linear": linear, "bnn": bnn}


@pytest.mark.parametrize("name", ["linear", "bnn"])
def test_dask_backend_search_equals_default_backend(client, name):
    X, y = make_seed_problem(60, random_state=0)
    X = np.hstack([X, X**2])

    local = _searches()[name].fit(X, y)

    remote = _searches()[name].set_params(n_jobs=-1)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote.fit(X, y)

    # The cross-validation fits really ran on the cluster's workers.
    n_fits = len(remote.cv_results_["params"]) * remote.n_splits_
    assert len(tasks.data) >= n_fits / joblib.cpu_count()
    assert {task["worker"] for task in tasks.data} <= set(
        client.scheduler_info()["workers"]
    )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    # The winner's refit is the same model, so the same predictions.
    np.testing.assert_allclose(
        predict_dist(remote, X[:5]).std, predict_dist(local, X[:5]).std, rtol=1e-12
    )
    # A degenerate grid would make the comparison meaningless.
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0.1
