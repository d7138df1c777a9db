"""ConjugateLinearRegression(prior_std="ard") at p > n (issue 23), per seed.

Run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ard.py

Case (a) of ``bench_models.py`` (n = 120, p = 150, 6 coefficients of size
2-4, noise 1; its data and scores are imported from there), then held-out
designs: the same recipe at n = 200, p = 50 and n = 60, p = 200, and
``load_diabetes`` through ``PolynomialFeatures(2)`` (65 columns, half the
rows to fit, half to score). Per seed: coefficient RMSE (test RMSE for
diabetes), test NLPD and 90% coverage, scored through
``bayesreg.predict_dist``.

"ard, evidence alone" is the search before the prior odds: the same
:func:`bayesreg._ard.relevances` with ``log_odds=0, lookahead=0``, which
is step for step Tipping & Faul's ascent of the evidence. Fit times are
the minimum of ``--repeats`` fits in this process.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ARDRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import PolynomialFeatures

from bayesreg import ConjugateLinearRegression, _ard

sys.path.insert(0, str(Path(__file__).parent))
from bench_models import _rmse, _scores, sparse_data

NEW = _ard.relevances
OLD = functools.partial(NEW, log_odds=0.0, lookahead=0)


def _ard_with(search):
    def fit(X, y):
        _ard.relevances = search
        try:
            return ConjugateLinearRegression(prior_std="ard").fit(X, y)
        finally:
            _ard.relevances = NEW

    return fit


MODELS = {
    "ARDRegression()": lambda X, y: ARDRegression().fit(X, y),
    "ConjugateLinearRegression()": lambda X, y: ConjugateLinearRegression().fit(X, y),
    "ard, evidence alone (before)": _ard_with(OLD),
    "ard, prior odds 1 : p (now)": _ard_with(NEW),
}


def diabetes(seed):
    X, y = load_diabetes(return_X_y=True)
    X = PolynomialFeatures(2, include_bias=False).fit_transform(X)
    X, Xt, y, yt = train_test_split(X, y, test_size=0.5, random_state=seed)
    return dict(X=X, y=y, Xt=Xt, yt=yt, w=None)


DESIGNS = {
    "(a) n=120, p=150": sparse_data,
    "n=200, p=50": functools.partial(sparse_data, n=200, p=50),
    "n=60, p=200": functools.partial(sparse_data, n=60, p=200),
    "diabetes, PolynomialFeatures(2), n=221, p=65": diabetes,
}


def one(fit, d, repeats):
    times = []
    for _ in range(repeats):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            model = fit(d["X"], d["y"])
            times.append(time.perf_counter() - t0)
    nlpd, cov, _ = _scores(model, d["Xt"], d["yt"])
    if d["w"] is None:
        err = float(np.sqrt(np.mean((model.predict(d["Xt"]) - d["yt"]) ** 2)))
    else:
        err = _rmse(model.coef_, d["w"])
    kept = int(np.sum(model.relevance_ > 0)) if hasattr(model, "relevance_") else -1
    warned = any("converge" in str(w.message) for w in caught)
    return err, nlpd, cov, kept, warned, min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--designs", default=",".join(str(i) for i in range(4)))
    args = parser.parse_args()
    names = list(DESIGNS)
    for i in map(int, args.designs.split(",")):
        title = names[i]
        err_name = "test RMSE" if "diabetes" in title else "coef RMSE"
        print(f"\n{title}; seeds 0-{args.seeds - 1}\n")
        print(f"| model | seed | {err_name} | NLPD | 90% cov | kept | warns | fit s |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, fit in MODELS.items():
            rows = [
                one(fit, DESIGNS[title](s), args.repeats) for s in range(args.seeds)
            ]
            for s, (e, nl, cv, k, w, t) in enumerate(rows):
                kept = "-" if k < 0 else str(k)
                print(
                    f"| {name} | {s} | {e:.3f} | {nl:.3f} | {cv:.3f} | {kept} | "
                    f"{'yes' if w else 'no'} | {t:.4f} |"
                )
            r = np.array([(*row[:3], row[5]) for row in rows])
            print(
                f"| {name} | mean | {r[:, 0].mean():.3f} | {r[:, 1].mean():.3f} | "
                f"{r[:, 2].mean():.3f} | | | {r[:, 3].mean():.4f} |"
            )


if __name__ == "__main__":
    main()
