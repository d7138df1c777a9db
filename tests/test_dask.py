"""Dask input: fits equal the NumPy fits, predictions stay lazy, clusters work.

Every expected value comes from the NumPy code path on the same data, so a
wrong reduction, a lost block or a misaligned chunk fails these tests.
"""

import contextlib

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")

from numpy.testing import assert_allclose  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import DataConversionWarning  # noqa: E402

from bayesreg import ConjugateLinearRegression, RidgeMAP, _dask, _gram  # noqa: E402
from bayesreg.distributions import Normal, StudentT  # noqa: E402

# Irregular row blocks (one of a single row, one empty) and split columns.
CHUNKS = ((70, 1, 0, 129, 100), (3, 1))
N = sum(CHUNKS[0])

ESTIMATORS = [
    ConjugateLinearRegression(noise_std=0.5),
    ConjugateLinearRegression(noise_std=None, prior_std=[1.0, 2.0, 0.5, 1.0]),
    ConjugateLinearRegression(fit_hyperparameters=True),
    ConjugateLinearRegression(fit_intercept=False, prior_mean=0.3),
    ConjugateLinearRegression(fit_intercept=False, fit_hyperparameters=True),
    RidgeMAP(alpha=2.0),
    RidgeMAP(alpha=0.0, fit_intercept=False),
]
FITTED = [
    "coef_",
    "intercept_",
    "coef_cov_",
    "noise_std_",
    "log_marginal_likelihood_",
    "prior_std_",
    "noise_scale_",
    "dof_",
]


# The problem every test here fits: shifted, scaled columns, one unused,
# and uniform(0, 3) weights (``linear_data(seed, n, **PROBLEM)``).
PROBLEM = dict(
    d=4,
    noise=0.7,
    scale=[1.0, 2.0, 0.5, 1.0],
    offset=[0.0, 5.0, -3.0, 2.0],
    coef=[1.0, -0.5, 2.0, 0.0],
    weights=True,
)


def _assert_same_fit(got, ref, rtol=1e-10):
    """Fitted attributes equal to ``rtol`` relative (arrays in max norm)."""
    assert got.n_features_in_ == ref.n_features_in_
    for name in FITTED:
        if hasattr(ref, name):
            expected = np.asarray(getattr(ref, name))
            scale = np.abs(expected).max()
            assert_allclose(
                getattr(got, name), expected, rtol=rtol, atol=rtol * scale,
                err_msg=name,
            )  # fmt: skip


def _flat(values):
    """The arrays in nested lists and tuples, in order."""
    if isinstance(values, (list, tuple)):
        return [a for v in values for a in _flat(v)]
    return [values]


def _refuse(dsk, keys, **kwargs):
    raise AssertionError("a dask graph was computed")


@contextlib.contextmanager
def no_compute():
    """Any compute (np.asarray of a dask array included) fails inside."""
    with dask.config.set(scheduler=_refuse):
        yield


class CountingScheduler:
    """The synchronous scheduler, counting computes and bytes returned."""

    def __init__(self):
        self.calls = 0
        self.nbytes = 0

    def __call__(self, dsk, keys, **kwargs):
        from dask.sizeof import sizeof

        out = dask.get(dsk, keys, **kwargs)
        self.calls += 1
        self.nbytes += sizeof(out)
        return out


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_fit_equals_numpy_fit(linear_data, estimator, weighted):
    X, y, w = linear_data(1, N, **PROBLEM)
    w = w if weighted else None
    ref = clone(estimator).fit(X, y, sample_weight=w)
    Xd = da.from_array(X, chunks=CHUNKS)
    yd = da.from_array(y, chunks=60)  # other row chunks than X: realigned
    wd = None if w is None else da.from_array(w, chunks=N)
    got = clone(estimator).fit(Xd, yd, sample_weight=wd)
    _assert_same_fit(got, ref)
    if isinstance(estimator, ConjugateLinearRegression):
        for a, b in zip(got.sufficient_stats_, ref.sufficient_stats_, strict=True):
            assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


def test_fit_mixed_inputs_and_scalar_weight(linear_data):
    X, y, w = linear_data(2, N, **PROBLEM)
    Xd = da.from_array(X, chunks=CHUNKS)
    est = ConjugateLinearRegression(fit_hyperparameters=True)
    ref = clone(est).fit(X, y, sample_weight=w)
    _assert_same_fit(clone(est).fit(Xd, y, sample_weight=w), ref)
    _assert_same_fit(clone(est).fit(X, da.from_array(y), sample_weight=w), ref)
    _assert_same_fit(clone(est).fit(X, y, sample_weight=da.from_array(w)), ref)
    ref2 = clone(est).fit(X, y, sample_weight=2.0)
    _assert_same_fit(clone(est).fit(Xd, y, sample_weight=2.0), ref2)
    # integer and float32 dask arrays are cast to float64, like NumPy input
    Xi = np.round(X * 10).astype(np.int64)
    ref3 = clone(est).fit(Xi, y)
    _assert_same_fit(clone(est).fit(da.from_array(Xi, chunks=50), y), ref3)


def test_nearly_exact_ridge_fit_recomputes_residuals(linear_data):
    # RSS from the statistics cancels for an exact fit; RidgeMAP recomputes
    # it from the residuals, for dask by a second (lazy) pass.
    X, _, w = linear_data(3, N, **PROBLEM)
    y = X @ [1.0, 2.0, 3.0, 4.0] + 2.0
    ref = RidgeMAP(alpha=0.0).fit(X, y, sample_weight=w)
    got = RidgeMAP(alpha=0.0).fit(
        da.from_array(X, chunks=CHUNKS), da.from_array(y), sample_weight=w
    )
    _assert_same_fit(got, ref)


def test_partial_fit_mixing_numpy_and_dask_chunks(linear_data):
    X, y, w = linear_data(4, N, **PROBLEM)
    est = ConjugateLinearRegression(noise_std=None)
    ref = clone(est).fit(X, y, sample_weight=w)
    online = clone(est)
    for i, (a, b) in enumerate([(0, 50), (50, 51), (51, 200), (200, N)]):
        Xc, yc, wc = X[a:b], y[a:b], w[a:b]
        if i % 2 == 0:
            Xc, yc, wc = (da.from_array(v, chunks=30) for v in (Xc, yc, wc))
        online.partial_fit(Xc, yc, sample_weight=wc)
    _assert_same_fit(online, ref)
    with pytest.raises(ValueError, match="features"):
        online.partial_fit(da.from_array(X[:, :3]), y)


@pytest.mark.parametrize("split_every", [2, 3])
def test_deep_reduction_trees(linear_data, split_every):
    X, y, w = linear_data(5, N, **PROBLEM)
    Xd = da.from_array(X, chunks=(16, 4))  # 19 blocks: 5 or 3 levels
    for center in (True, False):
        for weights in (w, None):
            stats = _dask.tree_gram_stats(
                Xd, da.from_array(y, chunks=16),
                None if weights is None else da.from_array(weights, chunks=16),
                center=center, split_every=split_every,
            )  # fmt: skip
            ref = _gram.gram_stats(X, y, weights, center=center)
            for a, b in zip(stats, ref, strict=True):
                assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


def test_fit_computes_once_and_brings_back_only_statistics(monkeypatch):
    # X is never gathered: one compute, whose result is O(d^2) numbers.
    rng = np.random.default_rng(6)
    X = rng.normal(size=(4000, 5))
    y = X.sum(axis=1) + rng.normal(size=4000)
    Xd = da.from_array(X, chunks=(500, 5))

    def refuse(*args, **kwargs):
        raise AssertionError("a dask array was converted to NumPy")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    for est in (ConjugateLinearRegression(fit_hyperparameters=True), RidgeMAP()):
        counting = CountingScheduler()
        with dask.config.set(scheduler=counting):
            est.fit(Xd, da.from_array(y, chunks=500))
        assert counting.calls == 1
        assert counting.nbytes < 2_000 < X.nbytes // 50


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _bad_inputs(linear_data):
    X, y, w = linear_data(7, 40, **PROBLEM)
    Xd, yd = da.from_array(X, chunks=10), da.from_array(y, chunks=10)
    nan_X, inf_X = X.copy(), X.copy()
    nan_X[13, 2], inf_X[31, 0] = np.nan, np.inf
    nan_y, neg_w, nan_w = y.copy(), w.copy(), w.copy()
    nan_y[5], neg_w[22], nan_w[39] = np.nan, -1.0, np.nan
    return [
        ("1d", Xd[:, 0], yd, None, "2D array"),
        ("strings", da.from_array(X.astype(str)), yd, None, "numeric"),
        ("complex", Xd + 1j, yd, None, "Complex"),
        ("no rows", Xd[:0], yd[:0], None, "0 sample"),
        ("no columns", Xd[:, :0], yd, None, "0 feature"),
        ("nan X", da.from_array(nan_X, chunks=10), yd, None, "Input X contains NaN"),
        ("inf X", da.from_array(inf_X, chunks=10), yd, None, "X contains infinity"),
        ("nan y", Xd, da.from_array(nan_y, chunks=7), None, "Input y contains NaN"),
        ("overflow", Xd * 1e200, yd, None, "overflow"),
        ("negative w", Xd, yd, da.from_array(neg_w, chunks=9), "Negative values"),
        ("zero w", Xd, yd, da.zeros(40, chunks=9), "non-zero"),
        ("nan w", Xd, yd, da.from_array(nan_w, chunks=9), "sample_weight contains"),
        ("short y", Xd, yd[:-1], None, "inconsistent numbers of samples"),
        ("short w", Xd, yd, da.ones(39), r"sample_weight.shape"),
        ("y 2d", Xd, da.stack([yd, yd], axis=1), None, "1d array"),
        ("unknown chunks", Xd[Xd[:, 0] > 0], yd, None, "unknown chunk sizes"),
        ("y None", Xd, None, None, "requires y"),
    ]


_BAD_INPUTS = [
    "1d", "strings", "complex", "no rows", "no columns", "nan X", "inf X", "nan y",
    "overflow", "negative w", "zero w", "nan w", "short y", "short w", "y 2d",
    "unknown chunks", "y None",
]  # fmt: skip


@pytest.mark.parametrize("case", _BAD_INPUTS)
@pytest.mark.parametrize(
    "estimator", [ConjugateLinearRegression(), RidgeMAP()], ids=repr
)
def test_bad_input_raises_clear_errors(estimator, case, linear_data):
    cases = {c[0]: c[1:] for c in _bad_inputs(linear_data)}
    assert list(cases) == _BAD_INPUTS
    X, y, w, match = cases[case]
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X, y, sample_weight=w)


def test_input_checks_at_fit_and_predict(linear_data):
    X, y, _ = linear_data(8, 60, **PROBLEM)
    Xd = da.from_array(X, chunks=(20, 2))
    with pytest.warns(DataConversionWarning, match="column-vector") as record:
        col = ConjugateLinearRegression().fit(Xd, da.from_array(y[:, None]))
    # attributed to the line above (find_stack_level), not to bayesreg's
    assert {w.filename for w in record} == {__file__}
    _assert_same_fit(col, ConjugateLinearRegression().fit(X, y))
    assert col.n_features_in_ == 4 and not hasattr(col, "feature_names_in_")
    with pytest.raises(ValueError, match="X has 3 features, but"):
        col.predict(Xd[:, :3])
    with pytest.raises(ValueError, match="X has 3 features, but"):
        col.predict_dist(Xd[:, :3])
    with pytest.raises(TypeError, match=r"only dask\.array\.Array"):
        col.predict(db.from_sequence([1.0, 2.0]))
    # NaN at predict time: found when the blocks are computed, not silently
    # turned into NaN predictions.
    nan_X = X.copy()
    nan_X[45, 1] = np.nan
    lazy = col.predict_std(da.from_array(nan_X, chunks=20))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        lazy.compute()


def test_lazy_distribution_checks_its_parameters_when_computed():
    loc = da.from_array(np.arange(6.0), chunks=2)
    scale = da.from_array([1.0, 1.0, 1.0, -1.0, 1.0, 1.0], chunks=3)
    with no_compute():
        bad = _dask.distribution(Normal, loc, scale)
        worse = _dask.distribution(StudentT, da.zeros(6, chunks=3), loc, 1.0)
    assert bad.lazy and isinstance(bad, Normal) and isinstance(worse, StudentT)
    with pytest.raises(ValueError, match="non-negative"):
        bad.std.compute()
    with pytest.raises(ValueError, match="df must be positive"):
        worse.ppf(0.3).compute()
    with pytest.raises(ValueError, match="5 entries, expected 6"):
        _dask.distribution(Normal, loc, np.ones(5))


# ---------------------------------------------------------------------------
# Lazy predictions
# ---------------------------------------------------------------------------


def _predictions(est, X, y, y_np):
    """Every predictive quantity of ``est`` at X: lazy for a dask X."""
    dist = est.predict_dist(X)
    q2 = np.full((X.shape[0], 2), 0.7)
    return dist, {
        "predict": est.predict(X),
        "predict_return_std": est.predict(X, return_std=True),
        "std": est.predict_std(X),
        "epistemic": est.predict_std(X, kind="epistemic"),
        "aleatoric": est.predict_std(X, kind="aleatoric"),
        "interval": est.predict_interval(X, coverage=0.9),
        "lpd": est.log_predictive_density(X, y),
        "dist_params": [dist.loc, dist.scale, getattr(dist, "df", dist.loc)],
        "dist": [dist.mean, dist.std, dist.var, dist.median(), dist.interval(0.5)],
        "dist_y": [dist.logpdf(y_np), dist.pdf(y), dist.cdf(y), dist.ppf(0.2)],
        "dist_2d": [dist.cdf(np.column_stack([y_np, y_np + 1])), dist.ppf(q2)],
    }  # fmt: skip


@pytest.mark.parametrize(
    "estimator",
    [
        ConjugateLinearRegression(),
        ConjugateLinearRegression(noise_std=None),
        RidgeMAP(),
    ],
    ids=repr,
)
def test_predictions_are_lazy_and_equal_numpy(linear_data, estimator):
    X, y, _ = linear_data(9, N, **PROBLEM)
    est = clone(estimator).fit(da.from_array(X, chunks=CHUNKS), y)
    Xt = linear_data(10, 150, **PROBLEM)[0] * 1.5
    yt = Xt @ [1.0, -0.5, 2.0, 0.0]
    Xd, yd = da.from_array(Xt, chunks=((40, 60, 50), (1, 3))), da.from_array(yt)
    with no_compute():
        dist, lazy = _predictions(est, Xd, yd, yt)
        lazy["sample"] = dist.sample(3, random_state=0)
        if isinstance(est, ConjugateLinearRegression):
            lazy["functions"] = est.sample_functions(Xd, 4, random_state=1)
            lazy["sample_y"] = est.sample_y(Xd, 4, random_state=2)
    assert dist.lazy
    for value in _flat(list(lazy.values())):
        assert isinstance(value, da.Array)
    (got,) = dask.compute(lazy)

    ref_dist, expected = _predictions(est, Xt, yt, yt)
    assert isinstance(dist, type(ref_dist)) and not ref_dist.lazy
    for key, want in expected.items():
        for h, e in zip(_flat(got[key]), _flat(want), strict=True):
            assert h.shape == e.shape, key
            assert_allclose(h, e, rtol=1e-12, atol=1e-12, err_msg=key)

    # Draws: a lazy sample is reproducible and shaped like the NumPy one.
    assert got["sample"].shape == (150, 3)
    assert_allclose(dist.sample(3, random_state=0).compute(), got["sample"])
    if isinstance(est, ConjugateLinearRegression):
        # Same functions as the NumPy draws; noise drawn per block.
        assert_allclose(
            got["functions"], est.sample_functions(Xt, 4, random_state=1), rtol=1e-12
        )
        again = est.sample_y(Xd, 4, random_state=2).compute()
        assert_allclose(again, got["sample_y"])
        assert got["sample_y"].shape == (150, 4)
        assert np.all(np.isfinite(got["sample_y"]))


def test_unfitted_sample_y_on_dask_draws_from_the_prior(linear_data):
    Xt = linear_data(11, 30, **PROBLEM)[0]
    reg = ConjugateLinearRegression(prior_std=2.0, noise_std=1.0)
    with no_compute():
        f = reg.sample_functions(da.from_array(Xt, chunks=7), 5, random_state=3)
    assert_allclose(f.compute(), reg.sample_functions(Xt, 5, random_state=3))


# ---------------------------------------------------------------------------
# A dask.distributed cluster
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    # Threads in this process (processes=False): starts in about a second
    # and needs no pickling of test-local objects; the tasks still go
    # through the distributed scheduler and its two workers.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip
        yield client


def test_fit_predict_and_merge_on_a_cluster(linear_data, client):
    X, y, w = linear_data(12, N, **PROBLEM)
    Xd, yd, wd = (da.from_array(v, chunks=60) for v in (X, y, w))
    Xt = linear_data(13, 80, **PROBLEM)[0]
    with (
        dask.config.set(scheduler=client),
        distributed.get_task_stream(client) as tasks,
    ):
        for est in (ConjugateLinearRegression(fit_hyperparameters=True), RidgeMAP()):
            got = clone(est).fit(Xd, yd, sample_weight=wd)
            ref = clone(est).fit(X, y, sample_weight=w)
            _assert_same_fit(got, ref)
            mean, std = got.predict(da.from_array(Xt, chunks=30), return_std=True)
            assert_allclose(mean.compute(), got.predict(Xt), rtol=1e-12)
            assert_allclose(std.compute(), got.predict_std(Xt), rtol=1e-12)
        # Shards fitted on the cluster, merged on the client.
        est = ConjugateLinearRegression(noise_std=None)
        shards = [
            clone(est).fit(Xd[a : a + 100], yd[a : a + 100]) for a in (0, 100, 200)
        ]
        merged = shards[0].merge(*shards[1:])
    _assert_same_fit(merged, clone(est).fit(X, y))
    names = {
        t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in tasks.data
    }
    # the per-block statistics and their merges ran on both workers
    assert any("block_partial" in name for name in names)
    assert any("merge_partials" in name for name in names)
    assert {t["worker"] for t in tasks.data} == set(client.scheduler_info()["workers"])
