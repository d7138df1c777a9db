"""DeepEnsembleRegressor at scale: fit time and peak memory against n.

Each size runs in a fresh subprocess so that its peak resident set size
(``ru_maxrss`` of the child, which includes Python, NumPy and torch) is its
own. The data are y = sin(x_1) + x_2 x_3 + 0.1 (1 + |x_4|) e with X standard
normal, 10 features, float64. Defaults throughout (5 members of 50 units;
above 4,096 rows the fit uses minibatches of 1,024 and at most 10,000
held-out rows per member, so the memory the fit itself needs does not grow
with n). The table also shows the size of X, to tell the data's own memory
from the fit's.

Run from the repository root::

    python benchmarks/bench_ensemble_scale.py                 # 1e3 .. 1e6 rows
    python benchmarks/bench_ensemble_scale.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(n: int, d: int, threads: int) -> None:
    import warnings

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from bayesreg.networks.ensemble import DeepEnsembleRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = (
        np.sin(X[:, 0])
        + X[:, 1] * X[:, 2]
        + 0.1 * (1 + np.abs(X[:, 3])) * rng.standard_normal(n)
    )
    Xt = rng.standard_normal((2000, d))
    yt = (
        np.sin(Xt[:, 0])
        + Xt[:, 1] * Xt[:, 2]
        + 0.1 * (1 + np.abs(Xt[:, 3])) * rng.standard_normal(2000)
    )
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    est = DeepEnsembleRegressor(random_state=0, n_threads=threads)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    fit_s = time.perf_counter() - t0
    nlpd = -float(est.log_predictive_density(Xt, yt).mean())
    print(
        json.dumps(
            {
                "n": n,
                "d": d,
                "fit_s": fit_s,
                "n_iter": est.n_iter_,
                "epochs": est.n_iter_ * min(1024, n) / n if n > 4096 else est.n_iter_,
                "test_nlpd": nlpd,
                "rss_before_fit_mb": rss_data / 1024,
                "warnings": [str(w.message)[:60] for w in caught],
            }
        )
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.d, args.threads)
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                "--d",
                str(args.d),
                "--threads",
                str(args.threads),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "OMP_NUM_THREADS": str(args.threads)},
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        res = json.loads(out.stdout.strip().splitlines()[-1])
        # ru_maxrss of children is the largest child so far: sizes run in
        # increasing order, so it is this child's peak unless an earlier one
        # was larger (then it is reported as an upper bound).
        res["peak_rss_mb"] = peak / 1024
        res["peak_is_bound"] = peak == before
        res["data_mb"] = n * (args.d + 1) * 8 / 2**20
        rows.append(res)
        print(json.dumps(res), flush=True)
    print(
        "\n| n | d | fit s | steps | epochs | test NLPD | X and y, MB "
        "| peak RSS before fit, MB | peak RSS, MB | warnings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']:,} | {r['d']} | {r['fit_s']:.1f} | {r['n_iter']} "
            f"| {r['epochs']:.1f} | {r['test_nlpd']:.3f} | {r['data_mb']:.0f} "
            f"| {r['rss_before_fit_mb']:.0f} | {r['peak_rss_mb']:.0f} "
            f"| {'; '.join(r['warnings']) or 'none'} |"
        )


if __name__ == "__main__":
    main()
