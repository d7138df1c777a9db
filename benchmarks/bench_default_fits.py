"""Default fits of the Pyro estimators on load_diabetes: time and test NLPD.

Issue 15's goals: on standardised load_diabetes (442 x 10), a default
``PyroBayesianLinear()`` fit in at most 0.3 s and a default
``PyroBNNRegressor()`` fit in at most 1 s (minimum of 3 fits, seeds 0-2, after
one untimed fit that pays the first-call costs), with a test NLPD no worse
than before. The NLPD is 5-fold ``KFold(shuffle=True, random_state=0)`` of
``make_pipeline(StandardScaler(), est)``, pooled over the folds, for
``random_state`` 0, 1 and 2; ``BayesianRidge`` and the closed form
``ConjugateLinearRegression`` are shown beside them.

Run from the repository root::

    python benchmarks/bench_default_fits.py
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch
from sklearn.datasets import load_diabetes
from sklearn.linear_model import BayesianRidge
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesreg import (  # noqa: E402
    ConjugateLinearRegression,
    PyroBayesianLinear,
    PyroBNNRegressor,
    predict_dist,
)
from bayesreg.metrics import interval_coverage, mean_nlpd  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from uci import load, machine  # noqa: E402

SEEDS = (0, 1, 2)
MODELS = {
    "PyroBayesianLinear()": PyroBayesianLinear,
    "PyroBNNRegressor()": PyroBNNRegressor,
    "ConjugateLinearRegression()": ConjugateLinearRegression,
}


def mlp(random_state=None):
    """The point-estimate network a user would pick instead (issue 22): the
    BNN's width, sklearn's defaults otherwise."""
    return MLPRegressor(hidden_layer_sizes=(50,), random_state=random_state)


def make(cls, seed):
    if cls is ConjugateLinearRegression:
        return cls()
    return cls(random_state=seed)


def fit_seconds(cls, X, y) -> list[float]:
    make(cls, 0).fit(X, y)  # first-call costs (imports, allocator)
    times = []
    for seed in SEEDS:
        est = make(cls, seed)
        t0 = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - t0)
    return times


def cv_nlpd(make_est, X, y) -> tuple[float, float]:
    folds = KFold(5, shuffle=True, random_state=0).split(X)
    nlpd = cover = 0.0
    for tr, te in folds:
        model = make_pipeline(StandardScaler(), make_est()).fit(X[tr], y[tr])
        dist = predict_dist(model, X[te])  # BayesianRidge too (its return_std)
        nlpd += mean_nlpd(y[te], dist) * len(te)
        cover += interval_coverage(y[te], dist, coverage=0.9) * len(te)
    return nlpd / len(y), cover / len(y)


def main() -> None:
    torch.set_num_threads(1)
    X, y = load_diabetes(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    load_before = load()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in MODELS.items():
            times = fit_seconds(cls, Xs, y)
            scores = [cv_nlpd(lambda c=cls, s=s: make(c, s), X, y) for s in SEEDS]
            rows.append((name, times, scores))
        br = cv_nlpd(BayesianRidge, X, y)
        mlp_times = fit_seconds(mlp, Xs, (y - y.mean()) / y.std())
    print(
        f"Machine: {machine()}; torch threads 1; load average {load_before} at "
        f"the start, {load()} at the end.\n"
    )
    print(
        "| estimator | fit s, min of 3 (all) | 5-fold NLPD, seeds 0/1/2 "
        "| 90% coverage, seeds 0/1/2 |"
    )
    print("|---|---|---|---|")
    for name, times, scores in rows:
        print(
            f"| {name} | {min(times):.3f} ({', '.join(f'{t:.3f}' for t in times)}) "
            f"| {' / '.join(f'{s[0]:.4f}' for s in scores)} "
            f"| {' / '.join(f'{s[1]:.3f}' for s in scores)} |"
        )
    print(f"| BayesianRidge() | - | {br[0]:.4f} | {br[1]:.3f} |")
    print(
        f"| sklearn MLPRegressor(50) (standardised y) | {min(mlp_times):.3f} "
        f"({', '.join(f'{t:.3f}' for t in mlp_times)}) | - | - |"
    )
    bnn = min(dict((n, t) for n, t, _ in rows)["PyroBNNRegressor()"])
    ratio = bnn / min(mlp_times)
    print(f"\nPyroBNNRegressor() / MLPRegressor(50) fit time: {ratio:.1f}x")


if __name__ == "__main__":
    main()
