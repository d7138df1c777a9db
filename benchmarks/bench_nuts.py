"""Time PyroBayesianLinear(inference="nuts") with default settings.

Goal (issue 4): n=1,000 and d=10 within 30 s on 2 cores. Prints a Markdown
table; run from the repository root:

    .venv/bin/python benchmarks/bench_nuts.py
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch

from bayesreg.pyro.linear import PyroBayesianLinear


def _problem(n: int, d: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 1.0 + 0.5 * rng.normal(size=n)
    return X, y


def main() -> None:
    rows = []
    for n, d in [(1_000, 10), (10_000, 10)]:
        X, y = _problem(n, d)
        est = PyroBayesianLinear(inference="nuts", random_state=0)
        start, cpu = time.perf_counter(), time.process_time()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        diag = est.diagnostics_
        rows.append(
            f"| {n:,} | {d} | {est.num_chains} x ({est.num_warmup} + "
            f"{est.num_samples}) | {seconds:.1f} | {cpu:.1f} | "
            f"{diag['max_r_hat']:.3f} | {diag['min_ess']:.0f} | "
            f"{diag['num_divergences']} |"
        )
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, torch {torch.__version__}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| n | d | chains x (warmup + draws) | wall (s) | CPU (s) | max R-hat "
        "| min ESS | divergences |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
