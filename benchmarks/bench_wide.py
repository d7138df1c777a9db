"""Wide and sparse X (issue 20): time and peak memory of the closed forms.

Run from the repository root::

    python benchmarks/bench_wide.py            # the issue's table (a few minutes)
    python benchmarks/bench_wide.py --quick    # p = 1,000 and a small sparse case
    python benchmarks/bench_wide.py --cpu-time --repeats 15 \
        --names ConjugateLinearRegression,RidgeMAP   # on a busy machine

Cases: n = 200 rows of standard-normal X with p = 1,000 / 5,000 / 20,000
columns, and a sparse 2,500 x 100,000 CSR X with 0.1% non-zeros (250,000
of them); y = X w + noise with w non-zero on 10 columns (dense) or on every
column (sparse). Each estimator is fitted, then ``predict_std`` (or
``predict`` for sklearn's Ridge, which has no std) is called on 200 fresh
rows of the same kind. The floor is what any exact n x n method must do:
``X @ X.T`` and ``eigh`` of that n x n matrix.

Every (case, estimator) runs in a fresh subprocess, so that memory does not
carry over, after one call on a 4 x 6 slice of the data (lazy imports and
first-call set-up are not timed); times are the minimum of 3 repeats (the
machine this ran on was shared), and the peak is ``ru_maxrss`` at the end
minus ``ru_maxrss`` once the data exist (the imports and X itself are not
counted; X is 1.6 to 32 MB dense, 3 MB sparse). sklearn's BayesianRidge is
skipped where it would take more than 60 s or cannot take the input, and the
table says so.

``--cpu-time`` times the CPU time of the process (``time.process_time``:
user and system, so page faults count) instead of the wall clock: with one
BLAS thread it is the wall time of a quiet machine, and on a shared one it
leaves out the time spent waiting for a core (not what other processes do
to the caches and the memory bandwidth). ``--repeats`` sets how many fits
the minimum is taken over.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

N_TEST = 200
#: timings are the minimum of this many fits (+ predictions) in the process
REPEATS = 3


def make_data(kind: str, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    if kind == "dense":
        n = 200
        X = rng.standard_normal((n, p))
        Xt = rng.standard_normal((N_TEST, p))
        w = np.zeros(p)
        w[:10] = rng.normal(size=10)
    else:
        from scipy import sparse

        n = 2500
        X = sparse.random(n, p, density=1e-3, random_state=rng, format="csr")
        Xt = sparse.random(N_TEST, p, density=1e-3, random_state=rng, format="csr")
        w = rng.normal(size=p)
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X, y, Xt


def _maxrss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def run_one(
    kind: str, p: int, name: str, clock=time.perf_counter, repeats: int = REPEATS
) -> dict:
    """One estimator on one case, in this (fresh) process."""
    from scipy import linalg, sparse
    from sklearn.linear_model import BayesianRidge, Ridge

    from bayesreg import ConjugateLinearRegression, RidgeMAP

    X, y, Xt = make_data(kind, p)
    # One tiny call first: lazy imports and first-call set-up are not what
    # the table measures (the floor's eigh gets the same warm-up).
    small = X[:4, :6]
    make = {
        "ConjugateLinearRegression": ConjugateLinearRegression,
        "RidgeMAP": RidgeMAP,
        "BayesianRidge": BayesianRidge,
        "Ridge": Ridge,
    }
    if name == "floor":
        linalg.eigh(np.eye(3))
    else:
        make[name]().fit(small, y[:4]).predict(small)
    base = _maxrss_bytes()
    out: dict = {"kind": kind, "p": p, "name": name, "fit_s": [], "predict_s": []}
    for _ in range(repeats):
        t0 = clock()
        if name == "floor":
            K = X @ X.T
            K = K.toarray() if sparse.issparse(K) else K
            linalg.eigh(K)
            t1 = clock()
        else:
            est = make[name]().fit(X, y)
            t1 = clock()
            if name == "Ridge":
                est.predict(Xt)
            elif name == "BayesianRidge":
                est.predict(Xt, return_std=True)
            else:
                est.predict_std(Xt)
                out["solver_"] = est.solver_
        out["fit_s"].append(t1 - t0)
        out["predict_s"].append(clock() - t1)
    out["peak_mb"] = (_maxrss_bytes() - base) / 2**20
    out["fit_s"], out["predict_s"] = min(out["fit_s"]), min(out["predict_s"])
    return out


CASES_FULL = [
    ("dense", 1_000),
    ("dense", 5_000),
    ("dense", 20_000),
    ("sparse", 100_000),
]
CASES_QUICK = [("dense", 1_000), ("sparse", 20_000)]
NAMES = ["floor", "ConjugateLinearRegression", "RidgeMAP", "BayesianRidge", "Ridge"]


def _skip(kind: str, p: int, name: str) -> str | None:
    if name != "BayesianRidge":
        return None
    if kind == "sparse":
        return "refuses sparse X"
    if p > 5_000:
        return "> 60 s (p x p sigma_: 3.2 GB at p = 20,000)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu-time", action="store_true")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--names", help="comma-separated estimators (the floor is always run)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, p, name, cpu, repeats = json.loads(args.one)
        clock = time.process_time if cpu else time.perf_counter
        print(json.dumps(run_one(kind, p, name, clock, repeats)))
        return
    clock = "CPU time" if args.cpu_time else "wall time"
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; {clock}, "
          f"min of {args.repeats}")  # fmt: skip
    rows = []
    for kind, p in CASES_QUICK if args.quick else CASES_FULL:
        floor = None
        names = NAMES if not args.names else ["floor", *args.names.split(",")]
        for name in names:
            why = _skip(kind, p, name)
            if why:
                rows.append((kind, p, name, why))
                continue
            res = subprocess.run(
                [sys.executable, __file__, "--one",
                 json.dumps([kind, p, name, args.cpu_time, args.repeats])],
                capture_output=True, text=True,
            )  # fmt: skip
            if res.returncode:
                rows.append((kind, p, name, "failed: " + res.stderr.strip()[-200:]))
                print(rows[-1], flush=True)
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            total = r["fit_s"] + r["predict_s"]
            floor = total if name == "floor" else floor
            rows.append((kind, p, name, r, r["fit_s"] / floor, total / floor))
            print(rows[-1], flush=True)
    print()
    print(
        "| X | estimator | fit (s) | predict_std (s) | fit / floor | total / floor "
        "| peak (MB) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        kind, p, name = row[:3]
        shape = f"200 x {p:,}" if kind == "dense" else f"sparse 2,500 x {p:,}"
        if isinstance(row[3], str):
            what = row[3] if row[3].startswith("failed") else f"skipped: {row[3]}"
            print(f"| {shape} | {name} | {what} | | | | |")
            continue
        r, fit_ratio, ratio = row[3:]
        label = f"{name} ({r['solver_']})" if "solver_" in r else name
        print(
            f"| {shape} | {label} | {r['fit_s']:.3f} | {r['predict_s']:.3f} | "
            f"{fit_ratio:.2f} | {ratio:.2f} | {r['peak_mb']:.0f} |"
        )
    print(f"\nload at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
