"""Sparse X, several targets and float32 for the Pyro and network estimators.

PyroBayesianLinear, PyroBNNRegressor and DeepEnsembleRegressor (issue 20):
sparse fits equal the dense fits to rounding with the same ``random_state``
(and X is never densified beyond a minibatch or a prediction chunk), a 2-D y
gives GaussianProcessRegressor's shapes and agrees with separate fits, and
float32 in gives float32 out.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse._compressed import _cs_matrix

from bayesreg import DeepEnsembleRegressor, PyroBayesianLinear, PyroBNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _sparse_problem(n=120, d=6, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[rng.random((n, d)) < 0.6] = 0.0  # 60% zeros, columns of unequal density
    X[:, 0] += 3.0 * (rng.random(n) < 0.3)  # a one-hot-like column off zero mean
    W = rng.normal(size=(d, k or 1))
    Y = X @ W + 0.3 * rng.normal(size=(n, k or 1)) + [5.0 * j for j in range(k or 1)]
    return X, (Y[:, 0] if k is None else Y)


def _linear(**kw):
    return PyroBayesianLinear(max_iter=200, n_particles=16, random_state=0, **kw)


def _bnn(**kw):
    kw.setdefault("batch_size", 32)
    return PyroBNNRegressor(
        hidden_layer_sizes=(6,), max_iter=15, n_posterior_samples=50,
        random_state=0, **kw,
    )  # fmt: skip


def _ensemble(**kw):
    return DeepEnsembleRegressor(
        n_estimators=3, hidden_layer_sizes=(6,), max_iter=150, warmup_iter=30,
        n_iter_no_change=40, random_state=0, **kw,
    )  # fmt: skip


FAST = {
    "linear_svi": lambda: _linear(),
    "linear_nuts": lambda: _linear(
        inference="nuts", n_warmup=60, n_draws=60, n_chains=1
    ),
    "bnn": lambda: _bnn(),
    "bnn_nuts": lambda: _bnn(inference="nuts", n_warmup=10, n_draws=10, n_chains=1),
    "ensemble": lambda: _ensemble(),
    "ensemble_minibatch": lambda: _ensemble(batch_size=32),
}
#: NUTS on a network costs seconds even this short: its cells run under slow
SLOW = {"bnn_nuts"}


def _modes(names):
    """pytest params of the modes ``names`` (or (mode, ...) tuples), the slow
    ones marked so."""
    params = []
    for n in names:
        values = n if isinstance(n, tuple) else (n,)
        marks = [pytest.mark.slow] if values[0] in SLOW else []
        params.append(pytest.param(*values, marks=marks))
    return params


# ------------------------------------------------------------------ sparse
# Every format for the fast modes; CSR (what the others are converted to)
# for the slower ones.
@pytest.mark.parametrize(
    "name, fmt",
    _modes(
        [(m, f) for m in ("linear_svi", "ensemble") for f in ("csr", "csc", "coo")]
        + [(m, "csr") for m in ("linear_nuts", "bnn", "bnn_nuts", "ensemble_minibatch")]
    ),
)
def test_sparse_fit_equals_dense_fit(name, fmt):
    X, y = _sparse_problem()
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    dense = FAST[name]().fit(X, y, sample_weight=w)
    Xs = sp.csr_array(X).asformat(fmt)
    sparse = FAST[name]().fit(Xs, y, sample_weight=w)
    Xt = _sparse_problem(seed=2)[0]
    scale = float(np.std(y))
    for method in ("predict", "predict_std"):
        a = getattr(dense, method)(Xt)
        b = getattr(sparse, method)(sp.csr_array(Xt).asformat(fmt))
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7 * scale)


class _DensifyGuard:
    """Fails a test if a sparse matrix of more than ``limit`` rows is made
    dense (every scipy.sparse toarray goes through these two methods)."""

    def __init__(self, monkeypatch, limit):
        self.largest = 0
        for cls in (_cs_matrix, sp._coo._coo_base):
            original = cls.toarray

            def toarray(obj, *args, _original=original, **kwargs):
                self.largest = max(self.largest, obj.shape[0])
                if obj.shape[0] > limit:
                    raise AssertionError(f"densified {obj.shape[0]} rows")
                return _original(obj, *args, **kwargs)

            monkeypatch.setattr(cls, "toarray", toarray)


# PyroBayesianLinear densifies only its 6 x 6 statistics (X^T X, a sparse
# product); the BNN a minibatch; the ensemble a minibatch of each of its 3
# members (3 x 32 rows; its held-out rows, 3 x 27, once for early stopping).
@pytest.mark.parametrize(
    "name, limit", [("linear_svi", 6), ("bnn", 32), ("ensemble_minibatch", 96)]
)
def test_sparse_X_is_densified_one_batch_at_a_time(name, limit, monkeypatch):
    X, y = _sparse_problem(n=300)
    # prediction chunks are bounded too, by _data.CHUNK_ROWS
    monkeypatch.setattr("bayesreg.pyro._data.CHUNK_ROWS", 32)
    guard = _DensifyGuard(monkeypatch, limit=max(limit, 32))
    est = FAST[name]().fit(sp.csr_array(X), y)
    assert guard.largest <= limit
    assert est.predict_std(sp.csr_array(X)).shape == (300,)
    assert guard.largest <= max(limit, 32)


# --------------------------------------------------------- several targets
@pytest.mark.parametrize("name", _modes(sorted(FAST)))
def test_several_targets_have_gaussian_process_shapes(name):
    X, Y = _sparse_problem(n=80, d=3, k=2)
    est = FAST[name]().fit(X, Y)
    Xt = X[:5]
    assert est.predict(Xt).shape == (5, 2)
    mean, std = est.predict(Xt, return_std=True)
    assert mean.shape == std.shape == (5, 2)
    for kind in ("total", "epistemic", "aleatoric"):
        assert est.predict_std(Xt, kind=kind).shape == (5, 2)
    assert est.predict_interval(Xt, coverage=0.9).shape == (5, 2, 2)
    assert est.sample_y(Xt, 4, random_state=0).shape == (5, 2, 4)
    assert est.predict_dist(Xt).mean.shape == (5, 2)
    assert est.log_predictive_density(Xt, Y[:5]).shape == (5, 2)
    # each target is predicted from its own data (the targets' means differ
    # by 5 stds): better than its own mean
    resid = np.sqrt(np.mean((est.predict(X) - Y) ** 2, axis=0))
    assert np.all(resid < Y.std(axis=0)), resid
    # y of shape (n, 1) keeps its column, as Ridge does; a 1-D y stays 1-D
    est1 = FAST[name]().fit(X, Y[:, :1])
    assert est1.predict(Xt).shape == est1.predict_std(Xt).shape == (5, 1)
    assert FAST[name]().fit(X, Y[:, 0]).predict(Xt).shape == (5,)


@pytest.mark.parametrize(
    "inference", ["svi", pytest.param("nuts", marks=pytest.mark.slow)]
)
def test_linear_several_targets_equal_separate_fits(inference):
    """k models in one run are the k models: within Monte Carlo error of k
    separate fits (SVI shares one stopping rule; NUTS one step size)."""
    X, Y = _sparse_problem(n=100, d=3, k=2, seed=3)
    Y[:, 1] *= 40.0  # targets of other scales, noise and prior scale
    kw = dict(inference=inference, n_warmup=300, n_draws=300, random_state=0)
    joint = PyroBayesianLinear(**kw).fit(X, Y)
    for j in range(2):
        one = PyroBayesianLinear(**kw).fit(X, Y[:, j])
        sd = np.sqrt(np.diag(one.coef_cov_))
        assert np.all(np.abs(joint.coef_[j] - one.coef_) < 0.25 * sd)
        np.testing.assert_allclose(np.sqrt(np.diag(joint.coef_cov_[j])), sd, rtol=0.15)
        np.testing.assert_allclose(joint.noise_std_[j], one.noise_std_, rtol=0.05)
        np.testing.assert_allclose(
            joint.predict_std(X[:10])[:, j], one.predict_std(X[:10]), rtol=0.05
        )


@pytest.mark.parametrize("name", ["bnn", "ensemble"])
def test_networks_standardise_each_output(name):
    """Each output has its own standardisation and noise: scaling one target
    by 1000 and shifting it scales and shifts its predictive alone."""
    X, Y = _sparse_problem(n=80, d=3, k=2)
    a = FAST[name]().fit(X, Y)
    b = FAST[name]().fit(X, Y * [1.0, 1000.0] + [0.0, -7.0])
    for m in ("predict", "predict_std"):
        pa, pb = getattr(a, m)(X[:10]), getattr(b, m)(X[:10])
        shift = -7.0 if m == "predict" else 0.0
        np.testing.assert_allclose(pb[:, 0], pa[:, 0], rtol=1e-5)
        np.testing.assert_allclose(pb[:, 1], 1000.0 * pa[:, 1] + shift, rtol=1e-5)


# ------------------------------------------------------------------ float32
@pytest.mark.parametrize("name", ["linear_svi", "bnn", "ensemble"])
def test_float32_in_float32_out(name):
    X, y = _sparse_problem(n=60, d=3)
    est = FAST[name]().fit(X.astype(np.float32), y.astype(np.float32))
    X32 = X[:4].astype(np.float32)
    assert est.predict(X32).dtype == np.float32
    assert all(a.dtype == np.float32 for a in est.predict(X32, return_std=True))
    assert est.predict_std(X32).dtype == np.float32
    assert est.predict_interval(X32).dtype == np.float32
    # float64 in after a float32 fit: float64 out, as Ridge
    assert est.predict(X[:4]).dtype == np.float64
    # and the numbers are the float64 fit's, to float32 rounding
    ref = FAST[name]().fit(
        X.astype(np.float32).astype(np.float64), y.astype(np.float32)
    )
    np.testing.assert_allclose(est.predict(X32), ref.predict(X[:4]), rtol=1e-5)


# ------------------------------------------------- extreme values (issue 21)
@pytest.mark.parametrize("name", ["linear_svi", "bnn", "ensemble"])
def test_y_near_1e_300_is_refused_by_name(name):
    X, y = _sparse_problem(n=40, d=3)
    est = FAST[name]()
    with pytest.raises(ValueError, match=r"^y has .* underflow"):
        est.fit(X, y * 1e-300)
    assert not hasattr(est, "n_features_in_")
    with pytest.raises(ValueError, match=r"^X has .* underflow"):
        est.fit(X * 1e-300, y)


@pytest.mark.parametrize("name", ["linear_svi", "bnn", "ensemble"])
def test_predicting_beyond_1e150_names_X(name):
    X, y = _sparse_problem(n=40, d=3)
    est = FAST[name]().fit(X, y)
    for method in ("predict", "predict_std", "predict_dist"):
        with pytest.raises(ValueError, match=r"^X has entries of magnitude"):
            getattr(est, method)(X[:2] * 1e155)


def test_bnn_sample_weight_near_1e_300_names_sample_weight():
    X, y = _sparse_problem(n=40, d=3)
    with pytest.raises(ValueError, match=r"^sample_weight has positive entries"):
        _bnn().fit(X, y, sample_weight=np.full(40, 1e-300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # weights that float32 holds are taken as they are
        _bnn().fit(X, y, sample_weight=np.full(40, 1e-30))


@pytest.mark.parametrize("name", _modes(["bnn", "bnn_nuts", "ensemble"]))
@pytest.mark.parametrize("c", [5.0, -3e-7])
def test_networks_predict_a_constant_y(name, c):
    """A constant y was standardised by 1 in absolute units, so a network's
    prior draw showed through (the ensemble predicted 6.2 for y = 5); it is
    now scaled by 1e-5 of its magnitude, the closed form's noise floor."""
    X, _ = _sparse_problem(n=40, d=3)
    est = FAST[name]().fit(X, np.full(40, c))
    np.testing.assert_allclose(est.predict(X[:5]), c, rtol=1e-4)
    assert np.all(est.predict_std(X[:5]) < 1e-4 * abs(c))


def test_bnn_quantiles_of_several_targets_with_a_trailing_axis_of_levels():
    # Per-target shift and scale must line up with the target axis, not the
    # axis of levels: ppf at (n, k, m) levels equals ppf at each level alone.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = np.column_stack([X[:, 0], 100.0 + 30.0 * X[:, 1]]) + rng.normal(size=(40, 2))
    est = PyroBNNRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    dist = est.fit(X, Y).predict_dist(X[:5])
    levels = np.array([0.05, 0.5, 0.95])
    got = dist.ppf(np.broadcast_to(levels, (5, 2, 3)))
    for i, q in enumerate(levels):
        np.testing.assert_allclose(got[..., i], dist.ppf(np.full((5, 2), q)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("bayesreg").ConjugateLinearRegression(),
        lambda: __import__("bayesreg").RidgeMAP(),
        lambda: PyroBayesianLinear(max_iter=20, random_state=0),
        lambda: PyroBNNRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
        lambda: DeepEnsembleRegressor(
            hidden_layer_sizes=(4,), n_estimators=2, max_iter=30, random_state=0
        ),
    ],
    ids=["conjugate", "ridge", "pyro_linear", "bnn", "ensemble"],
)
def test_a_float32_frame_predicts_float32_as_its_array(make):
    # sklearn's Ridge keeps float32 for a DataFrame of float32 columns as for
    # the array; the frame has no .dtype, only .dtypes.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X @ [1.0, 2.0, 3.0]).astype(np.float32)
    frame = pd.DataFrame(X, columns=list("abc"))
    est = make().fit(frame, y)
    mean, std = est.predict(frame, return_std=True)
    assert mean.dtype == std.dtype == np.float32
    np.testing.assert_array_equal(mean, make().fit(X, y).predict(X))
    mixed = frame.astype({"a": np.float64})
    assert make().fit(mixed, y).predict(mixed).dtype == np.float64
