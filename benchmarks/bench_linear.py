"""Speed and memory of the linear estimators against NumPy and scikit-learn.

Run from the repository root::

    python benchmarks/bench_linear.py            # n=500,000, d=50 (the issue's size)
    python benchmarks/bench_linear.py --quick    # a small smoke run
    python benchmarks/bench_linear.py --threads 1  # single-threaded BLAS

Prints one table. Every time is the median (and min) of ``--repeat`` runs,
all measured in the same process on the same data, so the ratios to the
NumPy baseline (``X.T @ X`` + Cholesky, the least any exact linear solve
must do) compare like with like. The last row measures ``predict_std`` on
a larger X: time, and the peak memory it allocates beyond the input,
traced with :mod:`tracemalloc` (NumPy reports its array allocations to it),
in a separate run so that tracing does not distort the timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np
from scipy import linalg
from sklearn.linear_model import BayesianRidge, Ridge
from threadpoolctl import threadpool_limits

from bayesreg import ConjugateLinearRegression, RidgeMAP


def numpy_baseline(X, y):
    """The floor for an exact linear solve: Gram matrix, X^T y, Cholesky."""
    A = X.T @ X
    A[np.diag_indices_from(A)] += 1.0
    return linalg.cho_solve(linalg.cho_factor(A), X.T @ y)


def timed(func, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def peak_extra_memory(func):
    """Peak bytes allocated while ``func`` runs (outputs included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{model}, {os.cpu_count()} logical CPUs, 1-min load {load:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--n-predict", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--repeat-slow", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS threads (threadpoolctl); on a machine shared with other "
        "work, 1 avoids threads spinning while waiting for a descheduled peer",
    )
    args = parser.parse_args()
    with threadpool_limits(limits=args.threads):
        run(args)


def run(args) -> None:
    if args.quick:
        args.n, args.n_predict, args.repeat, args.repeat_slow = 20_000, 50_000, 3, 1

    rng = np.random.default_rng(0)
    n, d = args.n, args.d
    X = rng.standard_normal((n, d)) + rng.uniform(-1, 1, d)
    y = X @ rng.standard_normal(d) + 3.0 + rng.standard_normal(n)
    print(f"# bench_linear: n={n:,}, d={d}; {machine()}")
    print(
        f"# numpy {np.__version__}; X is {X.nbytes / 2**20:.0f} MiB float64; "
        f"BLAS threads: {args.threads or 'default'}"
    )

    bench_fit(X, y, args)
    del X, y
    bench_predict_std(args, rng)
    print(f"# 1-min load after the run: {os.getloadavg()[0]:.2f}")


def bench_fit(X, y, args) -> list:
    n, d = X.shape
    tiny = 1e-12
    cases = [
        ("NumPy X.T @ X + Cholesky", lambda: numpy_baseline(X, y), args.repeat),
        ("RidgeMAP", lambda: RidgeMAP().fit(X, y), args.repeat),
        ("sklearn Ridge", lambda: Ridge().fit(X, y), args.repeat),
        (
            "ConjugateLinearRegression (fixed)",
            lambda: ConjugateLinearRegression().fit(X, y),
            args.repeat,
        ),
        (
            "ConjugateLinearRegression (fit_hyperparameters)",
            lambda: ConjugateLinearRegression(fit_hyperparameters=True).fit(X, y),
            args.repeat,
        ),
        (
            "sklearn BayesianRidge",
            lambda: BayesianRidge(
                alpha_1=tiny, alpha_2=tiny, lambda_1=tiny, lambda_2=tiny
            ).fit(X, y),
            args.repeat_slow,
        ),
    ]
    # Round-robin over the cases, so that load from other processes on a
    # shared machine falls on all of them alike; the min is the least
    # disturbed run, the median the typical one.
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _, func, _ in cases:
        func()  # warm up (imports, BLAS thread pool)
    for r in range(args.repeat):
        for name, func, repeat in cases:
            if r < repeat:
                start = time.perf_counter()
                func()
                times[name].append(time.perf_counter() - start)
    rows = [
        (name, statistics.median(times[name]), min(times[name]), len(times[name]))
        for name, _, _ in cases
    ]
    base_med, base_min = rows[0][1], rows[0][2]

    title = f"fit, n={n:,}, d={d}"
    header = (
        f"| {title:<48} | median s | min s | x NumPy (median) | x NumPy (min) | runs |"
    )
    print(header)
    print("|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|")
    for name, med, best, repeat in rows:
        cells = (
            f"{med:8.3f} | {best:5.3f} | {med / base_med:15.2f} | "
            f"{best / base_min:13.2f} | {repeat:4d}"
        )
        print(f"| {name:<48} | {cells} |")
    br_med, br_min = rows[-1][1], rows[-1][2]
    for name, med, best, _ in rows[3:5]:
        print(
            f"# {name}: {br_med / med:.1f}x (median) / {br_min / best:.1f}x (min) "
            "faster than BayesianRidge"
        )

    return rows


def bench_predict_std(args, rng) -> None:
    """predict_std on a larger X: memory beyond the input, then time."""
    d = args.d
    reg = ConjugateLinearRegression(fit_hyperparameters=True).fit(
        *(lambda Z: (Z, Z @ np.ones(d) + rng.standard_normal(len(Z))))(
            rng.standard_normal((10_000, d))
        )
    )
    Xp = rng.standard_normal((args.n_predict, d))
    peak = peak_extra_memory(lambda: reg.predict_std(Xp))
    med, best = timed(lambda: reg.predict_std(Xp), args.repeat_slow)
    print(
        f"# predict_std n={args.n_predict:,}, d={d}: median {med:.3f} s (min "
        f"{best:.3f} s); input {Xp.nbytes / 2**20:.0f} MiB, peak extra "
        f"{peak / 2**20:.1f} MiB = {100 * peak / Xp.nbytes:.1f}% of the input "
        "(tracemalloc, outputs included)"
    )


if __name__ == "__main__":
    main()
