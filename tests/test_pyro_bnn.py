"""Tests of PyroBNNRegressor: uncertainty, quality, persistence, isolation,
units, weights and faults."""

import pickle
import threading
import warnings

import numpy as np
import pyro
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import train_test_split

from bayesreg import PyroBNNRegressor
from bayesreg.datasets import make_seed_problem
from bayesreg.networks._base import dense_scale as _weighted_scale
from bayesreg.pyro.bnn import (
    _BNNModel,
    _layer_shapes,
    _mlp,
    _NUTSTarget,
    _prior_scales,
    _unpack,
)


def _fast(**kw):
    """A configuration that fits in well under a second."""
    params = dict(hidden_layer_sizes=(16,), max_iter=40, jit=False, random_state=0)
    params.update(kw)
    return PyroBNNRegressor(**params)


@pytest.fixture(scope="module")
def seed_data():
    return make_seed_problem(60, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ------------------------------------------------------------------ numerics
def test_mlp_batched_matches_per_draw_loop():
    """The batched forward over S draws equals a naive loop over draws."""
    rng = np.random.default_rng(0)
    shapes = _layer_shapes(3, (5, 4))
    D = sum(fi * fo + fo for fi, fo in shapes)
    w = torch.as_tensor(rng.standard_normal((7, D)))
    x = torch.as_tensor(rng.standard_normal((11, 3)))
    batched = _mlp(x, w, shapes, torch.tanh)
    assert batched.shape == (7, 11)
    for s in range(7):
        coefs, intercepts = _unpack(w[s].numpy(), shapes)
        h = x.numpy()
        for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
            h = h @ W + b
            if layer < len(shapes) - 1:
                h = np.tanh(h)
        np.testing.assert_allclose(batched[s].numpy(), h[:, 0], rtol=1e-12)
        np.testing.assert_allclose(_mlp(x, w[s], shapes, torch.tanh).numpy(), h[:, 0])


def test_fan_in_prior_scales_weights_not_biases():
    shapes = _layer_shapes(4, (9,))
    s = _prior_scales(shapes, 2.0, "fan_in")
    np.testing.assert_allclose(s[:36], 2.0 / 2.0)  # 4 inputs: 2 / sqrt(4)
    np.testing.assert_allclose(s[36:45], 2.0)  # hidden biases
    np.testing.assert_allclose(s[45:54], 2.0 / 3.0)  # 9 hidden units
    np.testing.assert_allclose(s[54:], 2.0)
    np.testing.assert_allclose(_prior_scales(shapes, 2.0, "normal"), 2.0)


# -------------------------------------------------------------- uncertainty
def test_epistemic_std_grows_away_from_the_data(seed_data):
    """On the seed problem (x in [0, 1]) the network is unsure at x = 1.5."""
    X, y = seed_data
    bnn = PyroBNNRegressor(
        hidden_layer_sizes=(20,), max_iter=200, batch_size=None, random_state=0
    ).fit(X, y)
    epi = bnn.predict_std(np.array([[0.5], [1.5]]), kind="epistemic")
    assert epi[1] > 2 * epi[0]  # measured: 4x (seeds 0-3: 4x-8x)
    assert bnn.noise_std_ < 0.4  # short fit: noise not yet down to 0.1


#: The plain variational posterior (no tempering, no calibration split): the
#: measured margins below predate issue 22. With the defaults this short fit
#: is 0.125 worse than BayesianRidge on average (the cold posterior needs the
#: full fit); test_bnn_calibration.py holds the defaults on diabetes.
_PLAIN = dict(temperature=1.0, calibration_fraction=0.0)


def test_diabetes_beats_constant_and_approaches_bayesian_ridge():
    """A short fit (defaults but _PLAIN, 20 units, 100 epochs) on load_diabetes.

    NLPD in nats per point, averaged over the splits ``random_state`` 0-2:
    one split alone moves with the fit's random stream (on these splits,
    over seeds 0-4, the BNN is 0.03-0.11 worse than BayesianRidge; 0.01-0.11
    with the stream of the JIT-compiled step before the engine's own).
    Measured with seed 0: 0.13-0.25 better than a constant Normal predictor
    and 0.04-0.10 worse than BayesianRidge (this data set is close to
    linear), 0.21 and 0.07 on average. Asserted margins, on average: 0.1
    better than the constant, within 0.1 of BayesianRidge.
    """
    X, y = load_diabetes(return_X_y=True)
    gains = []
    for split in range(3):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=split)
        bnn = PyroBNNRegressor(
            hidden_layer_sizes=(20,), max_iter=100, random_state=0, **_PLAIN
        )
        nlpd_bnn = -bnn.fit(Xtr, ytr).log_predictive_density(Xte, yte).mean()
        nlpd_const = -stats.norm.logpdf(yte, ytr.mean(), ytr.std()).mean()
        mean, std = BayesianRidge().fit(Xtr, ytr).predict(Xte, return_std=True)
        nlpd_ridge = -stats.norm.logpdf(yte, mean, std).mean()
        gains.append((nlpd_const - nlpd_bnn, nlpd_ridge - nlpd_bnn))
    over_const, over_ridge = np.mean(gains, axis=0)
    assert over_const > 0.1
    assert over_ridge > -0.1


# --------------------------------------------------- persistence, isolation
def test_pickle_round_trip_gives_identical_predictions(seed_data):
    X, y = seed_data
    bnn = _fast().fit(X, y)
    loaded = pickle.loads(pickle.dumps(bnn))
    a, b = bnn.predict_dist(X), loaded.predict_dist(X)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.std, b.std)
    assert np.array_equal(
        bnn.log_predictive_density(X, y), loaded.log_predictive_density(X, y)
    )


def test_two_networks_do_not_share_parameters(seed_data):
    """Fitting B leaves A's predictions and Pyro's global param store alone."""
    X, y = seed_data
    pyro.clear_param_store()
    pyro.param("user_param", torch.ones(3))
    a = _fast(random_state=1).fit(X, y)
    before = a.predict_dist(X)
    b = _fast(random_state=2, hidden_layer_sizes=(8,)).fit(X[::-1] ** 2, -y)
    after = a.predict_dist(X)
    assert np.array_equal(before.mean, after.mean)
    assert np.array_equal(before.std, after.std)
    assert not np.allclose(b.predict(X), a.predict(X))
    assert list(pyro.get_param_store().keys()) == ["user_param"]
    assert torch.equal(pyro.param("user_param"), torch.ones(3))
    pyro.clear_param_store()


def test_fits_in_threads_equal_sequential_fits(seed_data):
    X, y = seed_data
    ests = [_fast(random_state=5), _fast(random_state=6, activation="tanh")]
    sequential = [clone(e).fit(X, y).predict(X) for e in ests]
    threads = [threading.Thread(target=e.fit, args=(X, y)) for e in ests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, expected in zip(ests, sequential, strict=True):
        assert np.array_equal(e.predict(X), expected)


def test_same_seed_is_bit_identical_and_global_rng_untouched(seed_data):
    X, y = seed_data
    np_state = np.random.get_state()  # noqa: NPY002
    torch_state = torch.random.get_rng_state().clone()
    m1 = _fast(random_state=3).fit(X, y).predict(X, return_std=True)
    m2 = _fast(random_state=3).fit(X, y).predict(X, return_std=True)
    assert np.array_equal(m1[0], m2[0]) and np.array_equal(m1[1], m2[1])
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])  # noqa: NPY002
    m3 = _fast(random_state=4).fit(X, y).predict(X)
    assert not np.array_equal(m1[0], m3)


@pytest.mark.parametrize("batch_size", [None, 16], ids=["full batch", "minibatch"])
def test_jit_and_eager_fit_the_same_model(seed_data, batch_size):
    """The JIT is an implementation detail: the same draws and steps, so the
    same loss at every step and the same predictive, to float64 rounding
    carried through 100 Adam steps (they agree to 5e-7; a different loss,
    guide or stream is off by 1e-2 or more)."""
    X, y = seed_data
    eager = _fast(max_iter=100, batch_size=batch_size).fit(X, y)
    jitted = clone(eager).set_params(jit=True).fit(X, y)
    assert len(jitted.loss_curve_) == len(eager.loss_curve_)
    np.testing.assert_allclose(jitted.loss_curve_, eager.loss_curve_, rtol=1e-5)
    std = eager.predict_std(X)
    assert np.max(np.abs(jitted.predict(X) - eager.predict(X)) / std) < 1e-5
    np.testing.assert_allclose(jitted.predict_std(X), std, rtol=1e-5)


# ------------------------------------------------------------------ options
@pytest.mark.parametrize(
    "params",
    [
        {"guide": "lowrank", "rank": 2},
        {"activation": "tanh", "prior": "fan_in", "hidden_layer_sizes": (8, 8)},
        {"activation": "sigmoid", "batch_size": 16},
    ],
    ids=["lowrank", "tanh-fan_in-deep", "sigmoid-minibatch"],
)
def test_options_fit_and_predict(seed_data, params):
    X, y = seed_data
    bnn = _fast(**params).fit(X, y)
    dist = bnn.predict_dist(X)
    assert np.all(np.isfinite(dist.mean)) and np.all(dist.epistemic_std > 0)
    assert len(bnn.loss_curve_) == bnn.n_iter_
    assert bnn.loss_curve_[-1] < bnn.loss_curve_[0]
    # the default heteroscedastic network: a mean and a log noise offset
    assert [c.shape for c in bnn.coefs_] == [
        (fi, fo) for fi, fo in _layer_shapes(1, bnn.hidden_layer_sizes, 2)
    ]


def test_nuts_small_network(seed_data):
    """NUTS runs on a tiny network and keeps chains x samples draws."""
    X, y = seed_data
    bnn = PyroBNNRegressor(
        hidden_layer_sizes=(3,),
        inference="nuts",
        n_warmup=4,
        n_draws=5,
        n_chains=1,
        jit=False,
        random_state=0,
    ).fit(X[::3], y[::3])
    # 3 units: 3 weights and 3 biases in, 3 x 2 weights and 2 biases out
    assert bnn.weight_samples_.shape == (5, 3 + 3 + 6 + 2)
    assert bnn.noise_std_samples_.shape == (5,)
    assert "max_r_hat" in bnn.diagnostics_
    assert np.all(np.isfinite(bnn.predict_std(X)))


@pytest.mark.slow
def test_nuts_fits_the_seed_problem(seed_data):
    """Full-batch NUTS on a small network: a close fit, wide away from data.

    Measured (about 200 s on the shared 2-core machine): RMSE 0.077, epistemic
    std 0.03 at x = 0.5 and 0.40 at x = 1.5. The default 2 x (500 + 500)
    iterations on this network took more than 10 minutes.
    """
    X, y = seed_data
    bnn = PyroBNNRegressor(
        hidden_layer_sizes=(5,),
        activation="tanh",
        inference="nuts",
        n_warmup=100,
        n_draws=100,
        n_chains=1,
        random_state=0,
    ).fit(X, y)
    rmse = np.sqrt(np.mean((bnn.predict(X) - y) ** 2))
    assert rmse < 0.15
    epi = bnn.predict_std(np.array([[0.5], [1.5]]), kind="epistemic")
    assert epi[1] > 2 * epi[0]


def test_diverging_fit_names_the_learning_rate(seed_data):
    X, y = seed_data
    bnn = _fast(learning_rate_init=1e30, max_iter=5)
    with pytest.raises(FloatingPointError, match="learning_rate_init"):
        bnn.fit(X, y)
    assert not hasattr(bnn, "weight_samples_")
    assert not hasattr(bnn, "n_features_in_")


def test_cuda_fit_or_a_clear_error(seed_data):
    """On CUDA: fit there, pickle, predict; without CUDA: an error naming it."""
    X, y = seed_data
    bnn = _fast(device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            bnn.fit(X, y)
        return
    loaded = pickle.loads(pickle.dumps(bnn.fit(X, y)))
    np.testing.assert_allclose(loaded.predict(X), bnn.predict(X))
    assert np.all(np.isfinite(loaded.predict_std(X)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_is_as_good_as_cpu_on_diabetes():
    """Same model and data on CUDA and CPU: the test NLPDs agree to 0.1 nats.

    CUDA draws its own random streams, so the fits differ like two seeds do;
    on CPU, seeds 0-4 give test NLPDs 5.514-5.556.
    """
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    nlpd = {}
    for device in ("cpu", "cuda"):
        bnn = PyroBNNRegressor(
            hidden_layer_sizes=(20,), max_iter=100, device=device, random_state=0
        ).fit(Xtr, ytr)
        nlpd[device] = -bnn.log_predictive_density(Xte, yte).mean()
    assert abs(nlpd["cuda"] - nlpd["cpu"]) < 0.1, nlpd


def test_bad_parameters_are_named(seed_data):
    X, y = seed_data
    with pytest.raises(ValueError, match="activation"):
        _fast(activation="softmax").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        _fast(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        _fast().fit(X, y).predict(np.ones((2, 3)))


# -------------------------------------------------------------------- units
def _units_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(40, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.2 * rng.normal(size=40)
    X_test = rng.uniform(-3, 3, size=(15, 2))  # partly outside the data
    return X, y, X_test, np.sin(X_test[:, 0]) + 0.5 * X_test[:, 1]


# Defaults (50 units, full batch since n < batch_size) with a short, fixed
# number of epochs: the fit stops at max_iter, never on the early-stopping
# rule, whose discrete decision could flip under rounding.
_UNITS_PARAMS = dict(max_iter=60, jit=False, random_state=0)


@pytest.fixture(scope="module")
def units_base():
    X, y, X_test, y_test = _units_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bnn = PyroBNNRegressor(**_UNITS_PARAMS).fit(X, y)
    dist = bnn.predict_dist(X_test)
    return {
        "mean": dist.mean,
        "std": dist.std,
        "interval": bnn.predict_interval(X_test),
        "lpd": bnn.log_predictive_density(X_test, y_test),
    }


@settings(max_examples=5, deadline=None)
@given(
    log_a=st.floats(-6, 6),
    b=st.floats(-1e6, 1e6),
    log_c=st.floats(-3, 3),
)
@example(log_a=-6.0, b=1e6, log_c=-3.0)  # y = 1e6 + 1e-6 * y0
@example(log_a=6.0, b=-1e6, log_c=3.0)
def test_predictive_is_equivariant_in_the_units_of_X_and_y(units_base, log_a, b, log_c):
    """Refit on (c X, a y + b): the predictive maps to a * (.) + b.

    Measured: exact to rounding (1e-14 of the std) unless b dwarfs a * std(y);
    at a = 1e-6, b = 1e6, y itself is resolved to 6e-5 of its spread and the
    means move by 0.4% of the std, the log densities by 0.003 nats. Before
    the fix that target was taken for a constant (std 1 instead of 1e-6).
    """
    a, c = 10.0**log_a, 10.0**log_c
    X, y, X_test, y_test = _units_data()
    bnn = PyroBNNRegressor(**_UNITS_PARAMS).fit(c * X, a * y + b)
    dist = bnn.predict_dist(c * X_test)
    ref = units_base
    assert np.all(np.abs(dist.mean - (a * ref["mean"] + b)) <= 0.02 * a * ref["std"])
    np.testing.assert_allclose(dist.std, a * ref["std"], rtol=0.02)
    interval = bnn.predict_interval(c * X_test)
    assert np.all(
        np.abs(interval - (a * ref["interval"] + b)) <= 0.02 * a * ref["std"][:, None]
    )
    lpd = bnn.log_predictive_density(c * X_test, a * y_test + b)
    np.testing.assert_allclose(lpd, ref["lpd"] - np.log(a), atol=0.02)


def test_weighted_scale_is_relative_to_the_data():
    """Weighted moments as NumPy's; only rounding-level spreads count as 0."""
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 3))
    w = rng.uniform(0.1, 2, size=50)
    mean, scale = _weighted_scale(v, w / w.sum())
    np.testing.assert_allclose(mean, np.average(v, axis=0, weights=w), rtol=1e-12)
    var = np.average((v - mean) ** 2, axis=0, weights=w)
    np.testing.assert_allclose(scale, np.sqrt(var), rtol=1e-12)
    p = np.full(50, 1 / 50)
    y = rng.normal(size=50)
    _, (s_const,) = _weighted_scale(np.full(50, 1e6) + 1e-10 * (y > 0), p)
    _, (s_tiny,) = _weighted_scale(1e6 + 1e-6 * y, p)
    assert s_const == 1.0  # a spread of 1 ulp of 1e6: rounding, not data
    np.testing.assert_allclose(s_tiny, 1e-6 * y.std(), rtol=1e-4)


# -------------------------------------------------------------- magnitudes
@pytest.mark.parametrize("which", ["X", "y"])
def test_entries_beyond_1e150_are_refused_by_name(seed_data, which):
    X, y = (a.copy() for a in seed_data)
    (X if which == "X" else y)[3] = -1e200
    bnn = _fast()
    with pytest.raises(ValueError, match=rf"^{which} has entries of magnitude"):
        bnn.fit(X, y)
    assert not hasattr(bnn, "n_features_in_")


def test_entries_up_to_1e149_fit_and_predict(seed_data):
    X, y = seed_data
    bnn = _fast(max_iter=5).fit(X * 1e149, y * 1e149)
    mean, std = bnn.predict(X * 1e149, return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std) & (std > 0))
    assert np.all(np.isfinite(bnn.log_predictive_density(X * 1e149, y * 1e149)))


# ------------------------------------------------------------------- faults
def _bad_refits(X, y):
    """(name, set_params, fit arguments) of refits that must fail."""
    nan_X = X.copy()
    nan_X[0, 0] = np.nan
    huge_y = y.copy()
    huge_y[0] = 1e200
    wide_huge_X = np.hstack([X, X, 1e200 * X])  # validate_data resets first
    sw = np.ones_like(y)
    sw[0] = -1.0
    return {
        "nan-X": ({}, (nan_X, y), {}),
        "huge-y": ({}, (X, huge_y), {}),
        "huge-X-new-width": ({}, (wide_huge_X, y), {}),
        "short-y": ({}, (X, y[:-1]), {}),
        "negative-weight": ({}, (X, y), {"sample_weight": sw}),
        "diverging": ({"learning_rate_init": 1e30}, (np.hstack([X, X]), y), {}),
    }


_BAD = ["nan-X", "huge-y", "huge-X-new-width", "short-y", "negative-weight"]


@pytest.mark.parametrize("case", [*_BAD, "diverging"])
def test_failed_refit_leaves_the_estimator_exactly_as_it_was(seed_data, case):
    X, y = seed_data
    params, args, kwargs = _bad_refits(X, y)[case]
    bnn = _fast(max_iter=5).fit(X, y)
    before = bnn.predict_dist(X)
    bnn.set_params(**params)
    state = dict(vars(bnn))
    with pytest.raises((ValueError, FloatingPointError)):
        bnn.fit(*args, **kwargs)
    assert vars(bnn).keys() == state.keys()
    assert all(vars(bnn)[k] is v for k, v in state.items())
    after = bnn.predict_dist(X)
    assert np.array_equal(after.mean, before.mean)
    assert np.array_equal(after.std, before.std)
    assert np.array_equal(after.interval(0.9), before.interval(0.9))


@pytest.mark.parametrize("case", _BAD)
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(seed_data, case):
    X, y = seed_data
    _, args, kwargs = _bad_refits(X, y)[case]
    bnn = _fast()
    state = dict(vars(bnn))
    with pytest.raises(ValueError):
        bnn.fit(*args, **kwargs)
    assert vars(bnn) == state
    with pytest.raises(NotFittedError):
        bnn.predict(X)


# ----------------------------------------------------------- sample weights
def _weight_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(30, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.2 * rng.normal(size=30)
    w = rng.integers(0, 4, size=30)  # zeros included: those rows are dropped
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)
    order = rng.permutation(len(y_rep))  # the order of rows must not matter
    return X, y, w, X_rep[order], y_rep[order], rng.uniform(-3, 3, size=(20, 2))


def test_integer_weights_equal_repeated_rows():
    """Weight k == k copies: same posterior, early stop and loss per weight.

    Full batch and the same random_state: both fits see the same random
    draws, and differ only by float32 summation order (weighted sum vs sum
    over copies, in another order). Measured: means within 1e-6 of the
    predictive std, loss curves within 1e-7 relative; the same as merely
    shuffling the repeated rows. A tight ``tol`` makes early stopping
    decide: unless the loss is normalised by the sum of weights (not the
    row count), the two fits stop at different epochs.
    """
    X, y, w, X_rep, y_rep, X_test = _weight_data()
    params = dict(
        hidden_layer_sizes=(16,), batch_size=None, max_iter=300, tol=1e-2,
        n_iter_no_change=5,
    )  # fmt: skip
    weighted = _fast(**params).fit(X, y, sample_weight=w)
    repeated = _fast(**params).fit(X_rep, y_rep)
    assert weighted.n_iter_ == repeated.n_iter_ < 300
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-5)
    a, b = weighted.predict_dist(X_test), repeated.predict_dist(X_test)
    assert np.all(np.abs(a.mean - b.mean) <= 1e-4 * b.std)
    np.testing.assert_allclose(a.std, b.std, rtol=1e-4)
    np.testing.assert_allclose(weighted.noise_std_, repeated.noise_std_, rtol=1e-4)


def test_weighted_log_joint_equals_repeated_rows():
    """The model's log joint (NUTS' potential, SVI's ELBO integrand) in float64."""
    X, y, w, X_rep, y_rep, _ = _weight_data()
    shapes = _layer_shapes(2, (4,))
    model = _BNNModel(shapes, _prior_scales(shapes, 2.0, "fan_in"), "tanh")
    values = {
        "weights": torch.linspace(-1, 1, sum(fi * fo + fo for fi, fo in shapes)),
        "noise_std": torch.tensor(0.3),
    }
    values = {k: v.double() for k, v in values.items()}

    def log_joint(X, y, w):
        data = [torch.as_tensor(a, dtype=torch.float64) for a in (X, y, w)]
        trace = pyro.poutine.trace(pyro.poutine.condition(model, values)).get_trace(
            *data, torch.arange(len(y))
        )
        return float(trace.log_prob_sum())

    keep = w > 0  # fit drops rows of weight 0; the model takes positive ones
    weighted = log_joint(X[keep], y[keep], w[keep])
    assert np.isclose(
        weighted, log_joint(X_rep, y_rep, np.ones(len(y_rep))), rtol=1e-12
    )
    assert not np.isclose(weighted, log_joint(X[keep], y[keep], np.ones(keep.sum())))


# -------------------------------------------------------------- convergence
def test_stopping_at_max_iter_warns_and_names_it(seed_data):
    X, y = seed_data
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        _fast(max_iter=2).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bnn = _fast(max_iter=500, tol=1.0, n_iter_no_change=2).fit(X, y)
    assert bnn.n_iter_ < 500
    assert not [c for c in caught if issubclass(c.category, ConvergenceWarning)]


def test_short_nuts_warns_and_refits_drop_the_other_inference(seed_data):
    """A short NUTS run (with weights) says so; refits keep no stale state."""
    X, y = seed_data
    w = np.arange(len(y)) % 3
    bnn = _fast(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    assert hasattr(bnn, "loss_curve_") and hasattr(bnn, "_posterior")
    bnn.set_params(inference="nuts", n_warmup=4, n_draws=5, n_chains=1)
    with pytest.warns(ConvergenceWarning, match="n_warmup"):
        bnn.fit(X[::3], y[::3], sample_weight=w[::3] + 1.0)
    assert "max_r_hat" in bnn.diagnostics_
    assert not hasattr(bnn, "loss_curve_") and not hasattr(bnn, "_posterior")
    bnn.set_params(inference="svi").fit(X, y, sample_weight=w)
    assert not hasattr(bnn, "diagnostics_")


# ------------------------------------------------------------------ NUTS
def test_nuts_potential_is_the_models_density():
    """The traced potential NUTS samples equals minus the model's own log
    joint in the sampler's coordinates (log noise std, with its Jacobian)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=30)
    w = rng.integers(1, 4, size=30).astype(float)
    shapes = _layer_shapes(2, (5,))
    model = _BNNModel(shapes, _prior_scales(shapes, 2.0, "fan_in"), "tanh")
    target = _NUTSTarget(model, (X, y, w), torch.device("cpu"))
    data = [torch.as_tensor(a) for a in (X, y, w)] + [torch.arange(30)]
    for _ in range(3):
        theta = torch.as_tensor(rng.normal(size=target.n_weights + 1))
        values = target.to_model_sites({"theta": theta[None]})
        values = {k: v[0] for k, v in values.items()}
        trace = pyro.poutine.trace(pyro.poutine.condition(model, values)).get_trace(
            *data
        )
        log_joint = trace.log_prob_sum() + theta[-1]  # + log |d s / d log s|
        assert float(target.potential({"theta": theta})) == pytest.approx(
            -float(log_joint), rel=1e-12
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    "likelihood, margin", [("normal", 0.1), ("heteroscedastic", 0.05)]
)
def test_small_bnn_under_nuts_beats_svi(likelihood, margin):
    """Issue 15: a 10-unit network under NUTS with the defaults, on 500 rows
    of the seed problem, predicts held-out data better than SVI (about 100 s
    on 2 cores). R-hat on the weights is not a criterion: chains settle in
    equivalent modes (the network's symmetries), and the fit warns.

    Issue 15's margin of 0.1 was set with the homoscedastic model, then the
    default (measured: NUTS -0.836, SVI -0.504). The heteroscedastic default
    fits this homoscedastic problem much better by SVI (-0.757; NUTS -0.835),
    so the margin there is 0.05."""
    X, y = make_seed_problem(500, random_state=0)
    Xte, yte = make_seed_problem(1000, random_state=1, sampling="uniform")
    params = dict(hidden_layer_sizes=(10,), likelihood=likelihood, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nuts = PyroBNNRegressor(inference="nuts", **params).fit(X, y)
    svi = PyroBNNRegressor(**params).fit(X, y)
    nlpd_nuts = -nuts.log_predictive_density(Xte, yte).mean()
    nlpd_svi = -svi.log_predictive_density(Xte, yte).mean()
    assert nlpd_nuts < nlpd_svi - margin, (nlpd_nuts, nlpd_svi)
