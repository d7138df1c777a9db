"""Predictions in blocks of rows (issue 22): the derived predictive methods
split X into blocks of rows, and every result equals the unblocked one
exactly, for every estimator; mixture quantiles are vectorised over rows.

Blocks are made small here (a few rows) to exercise the joins; the million-
row timings and memory are ``benchmarks/bench_predict.py``'s.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import special
from scipy.optimize import elementwise

from bayesreg import ConjugateLinearRegression, RidgeMAP
from bayesreg import _base as contract
from bayesreg.distributions import NormalMixture, _quantile

METHODS = (
    ("predict", lambda est, X, y: est.predict(X)),
    ("predict_std", lambda est, X, y: est.predict(X, return_std=True)),
    ("predict_std_epistemic", lambda est, X, y: est.predict_std(X, "epistemic")),
    ("predict_std_aleatoric", lambda est, X, y: est.predict_std(X, "aleatoric")),
    ("predict_interval", lambda est, X, y: est.predict_interval(X, 0.9)),
    ("log_predictive_density", lambda est, X, y: est.log_predictive_density(X, y)),
    ("sample_y", lambda est, X, y: est.sample_y(X, 3, random_state=7)),
)


def _data(n=60, d=3, k=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    f = np.sin(X[:, 0]) + X[:, 1]
    if k is None:
        return X, f + 0.3 * rng.normal(size=n)
    return X, np.stack([f * (j + 1) for j in range(k)], 1) + 0.3 * rng.normal(
        size=(n, k)
    )


def _unblocked(monkeypatch):
    monkeypatch.setattr(contract, "_CHUNK_ALIGN", 10**9)


def _blocked(monkeypatch, rows):
    monkeypatch.setattr(contract, "_CHUNK_ALIGN", rows)
    monkeypatch.setattr(contract, "_CHUNK_MAX", rows)


def _assert_identical(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_identical(u, v)
        return
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def _compare(est, X, y, monkeypatch, rows, methods=METHODS):
    for name, call in methods:
        _unblocked(monkeypatch)
        whole = call(est, X, y)
        _blocked(monkeypatch, rows)
        calls = []
        original = type(est).predict_dist

        def spy(self, X_block, _calls=calls, _original=original):
            _calls.append(X_block.shape[0])
            return _original(self, X_block)

        monkeypatch.setattr(type(est), "predict_dist", spy)
        blocked = call(est, X, y)
        monkeypatch.setattr(type(est), "predict_dist", original)
        if (
            name != "predict"
            or "predict_dist" not in type(est).__dict__
            or (
                type(est)._predict_mean is contract.BayesianRegressorMixin._predict_mean
            )
        ):
            if calls:
                assert max(calls) <= rows, (name, calls)
                assert sum(calls) == X.shape[0], (name, calls)
        _assert_identical(whole, blocked)


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize(
    "make",
    [
        lambda: ConjugateLinearRegression(),
        lambda: ConjugateLinearRegression(noise_std=0.3),
        lambda: RidgeMAP(),
    ],
    ids=["conjugate_t", "conjugate_normal", "ridge"],
)
def test_linear_models_blocked_equal_unblocked(make, k, monkeypatch):
    X, y = _data(k=k)
    est = make().fit(X, y)
    _compare(est, X, y, monkeypatch, rows=7)


def test_sparse_and_dataframe_inputs_are_sliced_by_rows(monkeypatch):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    est = ConjugateLinearRegression().fit(X, y)
    for Xi in (sp.csr_matrix(X), sp.csc_matrix(X), sp.coo_array(X)):
        _compare(est, Xi, y, monkeypatch, rows=8, methods=METHODS[1:])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    named = ConjugateLinearRegression().fit(frame, y)
    _compare(named, frame, y, monkeypatch, rows=8, methods=METHODS[1:])


def test_float32_stays_float32_in_blocks(monkeypatch):
    X, y = _data()
    est = ConjugateLinearRegression().fit(X.astype(np.float32), y)
    _blocked(monkeypatch, 7)
    mean, std = est.predict(X.astype(np.float32), return_std=True)
    assert mean.dtype == std.dtype == np.float32


def test_log_density_checks_y_against_every_row(monkeypatch):
    X, y = _data()
    est = ConjugateLinearRegression().fit(X, y)
    _blocked(monkeypatch, 7)
    with pytest.raises(ValueError, match=r"y must have shape \(60,\)"):
        est.log_predictive_density(X, y[:10])
    with pytest.raises(ValueError, match="NaN"):
        est.log_predictive_density(X, np.where(np.arange(60) == 50, np.nan, y))


def test_bad_rows_in_a_later_block_are_refused(monkeypatch):
    X, y = _data()
    est = ConjugateLinearRegression().fit(X, y)
    _blocked(monkeypatch, 7)
    X_bad = X.copy()
    X_bad[40, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.predict_interval(X_bad)


class _MixtureModel(contract.BayesianRegressorMixin):
    """A stand-in whose predictive is a mixture, for the stream of draws."""

    def __init__(self, k=None):
        self.k = k

    def predict_dist(self, X):
        X = np.asarray(X, dtype=float)
        s = np.arange(1.0, 6.0)
        if self.k is None:
            return NormalMixture(X[:, :1] * s, 0.5 + 0.1 * s)
        return NormalMixture(X[:, : self.k, None] * s, 0.5 + 0.1 * s)


@pytest.mark.parametrize("k", [None, 2])
def test_mixture_draws_and_quantiles_blocked_equal_unblocked(k, monkeypatch):
    X, _ = _data(n=45)
    est = _MixtureModel(k)
    y = est.predict(X)
    _compare(est, X, y, monkeypatch, rows=4)


@pytest.mark.parametrize("seed", range(3))
def test_torch_estimators_blocked_equal_unblocked(seed, monkeypatch):
    pytest.importorskip("torch")
    from bayesreg import DeepEnsembleRegressor, PyroBayesianLinear, PyroBNNRegressor

    X, y = _data(n=80, seed=seed)
    # The BNN's forward runs 4096-row batches (broadcast matmuls whose last
    # bits depend on the batch): blocks of 4096 rows over 9000 rows.
    X_big = np.random.default_rng(seed).normal(size=(9000, 3))
    estimators = [
        (PyroBNNRegressor(max_iter=20, n_posterior_samples=8, random_state=seed),
         X_big, 4096),
        (DeepEnsembleRegressor(n_estimators=2, max_iter=20, warmup_iter=5,
                               n_iter_no_change=5, random_state=seed), X, 16),
        (PyroBayesianLinear(max_iter=50, random_state=seed), X, 16),
    ]  # fmt: skip
    for est, X_eval, rows in estimators:
        est.fit(X, y)
        y_eval = est.predict(X_eval)
        _compare(est, X_eval, y_eval, monkeypatch, rows=rows)


# --------------------------------------------------------- mixture quantiles
def _reference_quantiles(locs, scales, q):
    """scipy's bracketed root search of F(x) = q, per row, at full precision."""
    zq = special.ndtri(q)[:, None]
    comp = locs + zq * scales
    lo, hi = comp.min(1), comp.max(1)
    width = np.maximum(hi - lo, 1e-9)
    row = np.arange(len(q))
    upper = q > 0.5

    def excess(x, row):
        z = (x[:, None] - locs[row]) / scales[row]
        lower = special.ndtr(z).mean(1) - q[row]
        upper_tail = (1 - q[row]) - special.ndtr(-z).mean(1)
        return np.where(upper[row], upper_tail, lower)

    res = elementwise.find_root(
        excess, (lo - width, hi + width), args=(row,),
        tolerances={"xatol": 0.0, "xrtol": 4 * np.finfo(float).eps},
    )  # fmt: skip
    return res.x


def _hard_mixtures(seed, n=40, s=50):
    """Mixtures with very unequal weights (repeated components) and scales
    spanning six decades, some far apart."""
    rng = np.random.default_rng(seed)
    locs = rng.normal(size=(n, s)) * 10.0 ** rng.uniform(-3, 2, size=(n, 1))
    scales = 10.0 ** rng.uniform(-3, 3, size=(n, s))
    # unequal weights: one component repeated (weight up to 0.9)
    heavy = rng.integers(1, int(0.9 * s), size=n)
    for i, h in enumerate(heavy):
        locs[i, :h], scales[i, :h] = locs[i, 0], scales[i, 0]
    return locs, scales


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("q", [0.0005, 0.025, 0.3, 0.5, 0.83, 0.975, 0.9995])
def test_mixture_quantiles_match_root_finding(seed, q):
    locs, scales = _hard_mixtures(seed)
    levels = np.full(locs.shape[0], q)
    x = _quantile.mixture_quantiles(locs, scales, levels)
    ref = _reference_quantiles(locs, scales, levels)
    z = (x[:, None] - locs) / scales
    tail = special.ndtr(z).mean(1) if q <= 0.5 else special.ndtr(-z).mean(1)
    # The tail probability to 1e-10 relative, and the quantile to rounding
    # of the root search's own accuracy.
    np.testing.assert_allclose(tail, min(q, 1 - q), rtol=1e-10)
    spread = scales.max(1) + np.abs(locs).max(1)
    assert np.all(np.abs(x - ref) <= 1e-9 * spread), np.abs(x - ref) / spread


def test_mixture_quantiles_of_a_million_levels_use_bounded_blocks(monkeypatch):
    seen = []
    original = _quantile._block_quantiles

    def spy(locs, scales, q):
        seen.append(locs.size)
        return original(locs, scales, q)

    monkeypatch.setattr(_quantile, "_block_quantiles", spy)
    rng = np.random.default_rng(0)
    d = NormalMixture(rng.normal(size=(3000, 200)), rng.uniform(0.5, 1.0, 200))
    x = d.ppf(0.05)
    assert max(seen) <= _quantile._BLOCK and len(seen) > 1
    np.testing.assert_allclose(d.cdf(x), 0.05, rtol=1e-10)


def test_mixture_quantiles_of_equal_components_are_the_normal_ones():
    d = NormalMixture(np.full((4, 6), 2.0), np.full(6, 0.5))
    x = d.ppf(np.array([[0.1], [0.5], [0.7], [0.999]]))
    ref = 2.0 + 0.5 * special.ndtri(np.array([[0.1], [0.5], [0.7], [0.999]]))
    np.testing.assert_allclose(x, ref, rtol=1e-14)


def test_rows_left_unconverged_go_to_scipy(monkeypatch):
    locs, scales = _hard_mixtures(1)
    levels = np.full(locs.shape[0], 0.025)
    monkeypatch.setattr(_quantile, "_MAX_ITER", 1)
    x = _quantile.mixture_quantiles(locs, scales, levels)
    ref = _reference_quantiles(locs, scales, levels)
    spread = scales.max(1) + np.abs(locs).max(1)
    assert np.all(np.abs(x - ref) <= 1e-9 * spread)


# ------------------------------------------------------ packed forward pass
@pytest.mark.parametrize(
    ("hidden", "k", "act"),
    [
        ((50,), None, "relu"),
        ((7, 5), 3, "tanh"),
        ((4,), 2, "sigmoid"),
        ((), None, "relu"),
    ],
)
def test_packed_forward_equals_the_broadcast_one(hidden, k, act):
    torch = pytest.importorskip("torch")
    from bayesreg.networks._forward import forward_draws
    from bayesreg.pyro._network import _ACTIVATIONS, _layer_shapes, _mlp
    from bayesreg.pyro._runtime import batched_forward

    rng = np.random.default_rng(0)
    d, S, n = 6, 13, 301
    shapes = _layer_shapes(d, hidden, k or 1)
    D = sum(fi * fo + fo for fi, fo in shapes)
    w = rng.normal(size=(S, D))
    X = rng.normal(size=(n, d))
    fn = _ACTIVATIONS[act]

    def forward(x, p):
        f = _mlp(x, p["w"], shapes, fn, multi=k is not None)
        return f if k is None else f.permute(2, 0, 1)

    ref = batched_forward(forward, X, {"w": w})
    ref = ref if k is None else ref.transpose(0, 2, 1)
    blocks = [X[:100], X[100:]]
    for Xi in (X, blocks):
        got = forward_draws(Xi, w, shapes, fn, multi=k is not None, chunk_rows=17)
        assert got.shape == ref.shape and got.dtype == np.float64
        # float32 rounding of sums of D terms of size ~|w| |x|
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5 * np.abs(ref).max())
    got64 = forward_draws(X, w, shapes, fn, multi=k is not None, dtype=torch.float64)
    ref64 = batched_forward(forward, X, {"w": w}, dtype=torch.float64)
    ref64 = ref64 if k is None else ref64.transpose(0, 2, 1)
    np.testing.assert_allclose(got64, ref64, rtol=1e-12, atol=1e-12)


def test_one_block_of_distributions_alive_at_a_time(monkeypatch):
    import weakref

    live, peak = weakref.WeakSet(), [0]

    class Counted(_MixtureModel):
        def predict_dist(self, X):
            dist = super().predict_dist(X)
            live.add(dist)
            peak[0] = max(peak[0], len(live))
            return dist

    X, _ = _data(n=45)
    est = Counted()
    y = est.predict(X)
    _blocked(monkeypatch, 4)
    for name, call in METHODS:
        peak[0] = 0
        call(est, X, y)
        # the block being made and, until it is replaced, the one before
        assert peak[0] <= 2, (name, peak[0])


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("to_sparse", [False, True])
@pytest.mark.parametrize("k", [None, 2])
def test_moments_do_not_depend_on_the_projection_blocks(
    solver, to_sparse, k, monkeypatch
):
    # predictive_moments reads X in blocks sized to the cache (and, in the
    # dual, kernel blocks of many rows): tiny blocks give the same moments.
    from bayesreg import _bases, _gaussian

    X, y = _data(n=40, d=60 if solver == "dual" else 5, k=k, seed=3)
    est = ConjugateLinearRegression(solver=solver).fit(X, y)
    post = est._posterior
    Xt = np.random.default_rng(4).normal(size=(700, X.shape[1]))
    Xt = sp.csr_matrix(Xt) if to_sparse else Xt
    whole = _gaussian.predictive_moments(post, Xt)
    monkeypatch.setattr(_bases, "_CACHE_BYTES", 8)
    monkeypatch.setattr(_bases, "_KERNEL_BYTES", 8 * 3 * X.shape[1])
    for got, want in zip(_gaussian.predictive_moments(post, Xt), whole, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    if solver == "dual":  # X D^2 x_mean recomputed (pickles from before)
        spec = post.spec._replace(basis=post.spec.basis._replace(q_train=None))
        for got, want in zip(
            _gaussian.predictive_moments(post._replace(spec=spec), Xt), whole,
            strict=True,
        ):  # fmt: skip
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
