"""The network room: one base for both networks, and no pyro in the ensemble."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import get_tags
from test_common import FAST_BNN, FAST_ENSEMBLE

from bayesreg import DeepEnsembleRegressor, PyroBNNRegressor
from bayesreg.networks._base import NetworkRegressor

NETWORKS = {"bnn": FAST_BNN, "ensemble": FAST_ENSEMBLE}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    y = X @ [1.0, 0.2, -3.0] + 0.3 * rng.normal(size=60)
    return X, y


def test_both_networks_inherit_the_one_base():
    for cls in (PyroBNNRegressor, DeepEnsembleRegressor):
        assert issubclass(cls, NetworkRegressor)
        for name in ("_hidden_sizes", "_validated_X", "__sklearn_tags__"):
            # the base's own, not a copy in the estimator
            assert getattr(cls, name) is getattr(NetworkRegressor, name), name
        for name, rule in NetworkRegressor._parameter_constraints.items():
            assert cls._parameter_constraints[name] is rule, name


def test_ensemble_never_imports_pyro():
    code = (
        "import sys, warnings, numpy as np\n"
        "import bayesreg.networks.ensemble\n"
        "from bayesreg import DeepEnsembleRegressor\n"
        "from bayesreg.pyro import DeepEnsembleRegressor as A\n"
        "from bayesreg.pyro.ensemble import DeepEnsembleRegressor as B\n"
        "assert A is B is DeepEnsembleRegressor\n"
        "assert DeepEnsembleRegressor.__module__ == 'bayesreg.networks.ensemble'\n"
        "X = np.linspace(0, 1, 40)[:, None]\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('error')\n"  # the old paths do not warn
        "    warnings.simplefilter('ignore', category=UserWarning)\n"
        "    est = DeepEnsembleRegressor(n_estimators=2, max_iter=20, "
        "warmup_iter=5, validation_fraction=0, random_state=0)\n"
        "    est.fit(X, np.sin(3 * X[:, 0])).predict_interval(X)\n"
        "print('torch' in sys.modules, 'pyro' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "False"], out.stdout + out.stderr


def test_a_pickle_of_the_old_class_path_loads(data):
    """Pickles made before the move name bayesreg.pyro.ensemble; they load
    as the class's new home and predict the same."""
    X, y = data
    est = clone(FAST_ENSEMBLE).fit(X, y)
    blob = pickle.dumps(est, protocol=0)  # names the class in plain text
    new, old = b"cbayesreg.networks.ensemble\n", b"cbayesreg.pyro.ensemble\n"
    assert blob.count(new) == 1
    loaded = pickle.loads(blob.replace(new, old))
    assert type(loaded) is DeepEnsembleRegressor
    np.testing.assert_array_equal(loaded.predict_interval(X), est.predict_interval(X))


@pytest.mark.parametrize("name", NETWORKS)
def test_no_hidden_layer_is_a_linear_network(name, data):
    """hidden_layer_sizes=() is accepted by both: the regression function of
    every draw or member is affine in X."""
    X, y = data
    est = clone(NETWORKS[name]).set_params(hidden_layer_sizes=()).fit(X, y)
    f = est.sample_functions(X, 3, random_state=0)
    design = np.c_[X, np.ones(len(X))]
    for s in range(3):
        coef, *_ = np.linalg.lstsq(design, f[:, s], rcond=None)
        np.testing.assert_allclose(design @ coef, f[:, s], atol=1e-5 * np.ptp(y))
    params = est.sample_parameters(2, random_state=0)
    # the BNN's default heteroscedastic head: the mean and a log noise offset
    outputs = 2 if name == "bnn" else 1
    assert params["coef_0"].shape == (2, 3, outputs) and "coef_1" not in params
    assert est.predict_interval(X).shape == (60, 2)


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("sizes", [(4, 0), (2.5,), (True,), ("4",), 0, -3], ids=repr)
def test_bad_hidden_layer_sizes_are_refused_alike(name, sizes, data):
    X, y = data
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        clone(NETWORKS[name]).set_params(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize(
    "param, value",
    [("activation", "softmax"), ("learning_rate_init", 0.0), ("prior_std", -1.0),
     ("device", "tpu"), ("n_threads", 0), ("max_iter", 0)],
)  # fmt: skip
def test_shared_parameters_are_checked_alike(name, param, value, data):
    X, y = data
    with pytest.raises(ValueError, match=param):
        clone(NETWORKS[name]).set_params(**{param: value}).fit(X, y)


@pytest.mark.parametrize("name", NETWORKS)
def test_every_activation_fits(name, data):
    X, y = data
    est = clone(NETWORKS[name]).set_params(activation="sigmoid").fit(X, y)
    assert np.all(np.isfinite(est.predict_std(X)))


def test_both_standardise_alike(data):
    """The same weighted means and scales of X and y, bit for bit, rows of
    weight 0 left out (the two copies summed the weights differently)."""
    X, y = data
    w = np.random.default_rng(1).uniform(0.1, 7.0, size=60)
    w[::7] = 0.0
    Y = np.c_[y, 1e6 + y**2]
    fits = [clone(e).fit(X, Y, sample_weight=w) for e in NETWORKS.values()]
    for attr in ("_x_mean", "_x_scale", "_y_mean", "_y_scale"):
        np.testing.assert_array_equal(*(getattr(f, attr) for f in fits))
    keep = w > 0
    np.testing.assert_allclose(
        fits[0]._y_mean, np.average(Y[keep], axis=0, weights=w[keep]), rtol=1e-12
    )


def test_tags_are_the_same(data):
    for random_state, deterministic in ((None, False), (0, True)):
        tags = [
            get_tags(clone(e).set_params(random_state=random_state))
            for e in NETWORKS.values()
        ]
        assert tags[0] == tags[1]
        assert tags[0].non_deterministic is not deterministic
        assert tags[0].input_tags.sparse and tags[0].target_tags.multi_output
