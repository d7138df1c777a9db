"""Memory under repetition: RSS growth over many fits of every estimator.

Each estimator and inference mode is fitted ``--fits`` times (default 200)
in a process of its own, on a tiny problem (40 x 3, tiny iteration counts),
after a warm-up of ``--warmup`` fits (default 5: torch's and Pyro's one-time
allocations, lazy imports). The table gives, per case:

- the resident set size after the warm-up and its growth over the fits
  (``gc.collect()`` first), and the growth again after glibc's
  ``malloc_trim(0)`` has returned freed heap pages to the system (what a leak
  holds survives the trim; what allocator fragmentation holds does not);
- the number of functions in torch's global TorchScript compilation unit
  (``torch.jit.trace`` adds one per call, for the life of the process) after
  the warm-up and after the fits;
- seconds per fit.

The goal (issue 21) is under 20 MiB of growth over 200 fits for each case.

Run from the repository root::

    python benchmarks/bench_memory.py                  # every case, 200 fits
    python benchmarks/bench_memory.py --fits 41 --only bnn-nuts
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import subprocess
import sys
import time
import warnings

import numpy as np

MIB = 2**20

#: case name -> (estimator, keyword arguments), tiny iteration counts
CASES = {
    "ConjugateLinearRegression": ("ConjugateLinearRegression", {}),
    "ConjugateLinearRegression ard": (
        "ConjugateLinearRegression",
        {"prior_std": "ard"},
    ),
    "RidgeMAP": ("RidgeMAP", {}),
    "PyroBayesianLinear svi diagonal": ("PyroBayesianLinear", {"max_iter": 20}),
    "PyroBayesianLinear svi lowrank": (
        "PyroBayesianLinear",
        {"max_iter": 20, "guide": "lowrank"},
    ),
    "PyroBayesianLinear svi multivariate": (
        "PyroBayesianLinear",
        {"max_iter": 20, "guide": "multivariate"},
    ),
    "PyroBayesianLinear nuts": (
        "PyroBayesianLinear",
        {"inference": "nuts", "n_warmup": 10, "n_draws": 10, "n_chains": 1},
    ),
    # the models without a closed form (issue 23): SVI, and NUTS by each of
    # the two samplers (the NumPy one of the collapsed sparse priors, Pyro's
    # kernel on the per-row potential of the other likelihoods)
    "PyroBayesianLinear svi laplace": (
        "PyroBayesianLinear",
        {"max_iter": 20, "prior": "laplace"},
    ),
    "PyroBayesianLinear svi horseshoe": (
        "PyroBayesianLinear",
        {"max_iter": 20, "prior": "horseshoe"},
    ),
    "PyroBayesianLinear svi ard": (
        "PyroBayesianLinear",
        {"max_iter": 20, "prior": "ard"},
    ),
    "PyroBayesianLinear svi studentt": (
        "PyroBayesianLinear",
        {"max_iter": 20, "likelihood": "studentt"},
    ),
    "PyroBayesianLinear svi heteroscedastic": (
        "PyroBayesianLinear",
        {"max_iter": 20, "likelihood": "heteroscedastic"},
    ),
    "PyroBayesianLinear nuts horseshoe": (
        "PyroBayesianLinear",
        {
            "inference": "nuts",
            "n_warmup": 10,
            "n_draws": 10,
            "n_chains": 1,
            "prior": "horseshoe",
        },
    ),
    "PyroBayesianLinear nuts studentt": (
        "PyroBayesianLinear",
        {
            "inference": "nuts",
            "n_warmup": 10,
            "n_draws": 10,
            "n_chains": 1,
            "likelihood": "studentt",
        },
    ),
    "PyroBNNRegressor svi diagonal": (
        "PyroBNNRegressor",
        {"hidden_layer_sizes": (4,), "max_iter": 20},
    ),
    "PyroBNNRegressor svi lowrank": (
        "PyroBNNRegressor",
        {"hidden_layer_sizes": (4,), "max_iter": 20, "guide": "lowrank"},
    ),
    "PyroBNNRegressor svi multivariate": (
        "PyroBNNRegressor",
        {"hidden_layer_sizes": (4,), "max_iter": 20, "guide": "multivariate"},
    ),
    "PyroBNNRegressor svi jit=False": (
        "PyroBNNRegressor",
        {"hidden_layer_sizes": (4,), "max_iter": 20, "jit": False},
    ),
    "PyroBNNRegressor nuts": (
        "PyroBNNRegressor",
        {
            "hidden_layer_sizes": (4,),
            "inference": "nuts",
            "n_warmup": 5,
            "n_draws": 5,
            "n_chains": 1,
        },
    ),
    "DeepEnsembleRegressor": (
        "DeepEnsembleRegressor",
        {"n_estimators": 2, "hidden_layer_sizes": (4,), "max_iter": 50},
    ),
}


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _page_size()


def _page_size() -> int:
    import os

    return os.sysconf("SC_PAGE_SIZE")


def _trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _measure() -> tuple[int, int, int]:
    import torch

    gc.collect()
    raw = _rss()
    _trim()
    return raw, _rss(), len(torch.jit._state._python_cu.get_functions())


def run_case(name: str, n_fits: int, n_warmup: int) -> dict:
    """Fit one case ``n_warmup + n_fits`` times in this process."""
    import bayesreg

    cls_name, kwargs = CASES[name]
    cls = getattr(bayesreg, cls_name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.3 * rng.normal(size=40)
    seeded = "random_state" in cls().get_params()
    warnings.simplefilter("ignore")

    def fit(i):
        est = cls(**kwargs)
        if seeded:
            est.set_params(random_state=i)
        est.fit(X, y)
        est.predict(X)

    for i in range(n_warmup):
        fit(i)
    raw0, trimmed0, cu0 = _measure()
    start = time.perf_counter()
    for i in range(n_fits):
        fit(n_warmup + i)
    seconds = (time.perf_counter() - start) / n_fits
    raw1, trimmed1, cu1 = _measure()
    return {
        "case": name,
        "fits": n_fits,
        "rss_mib": trimmed0 / MIB,
        "growth_mib": (raw1 - raw0) / MIB,
        "growth_trimmed_mib": (trimmed1 - trimmed0) / MIB,
        "compiled_before": cu0,
        "compiled_after": cu1,
        "seconds_per_fit": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="substrings of case names")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # worker mode
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.fits, args.warmup)))
        return
    names = [n for n in CASES if not args.only or any(o in n for o in args.only)]
    print(
        f"{args.fits} fits per case after {args.warmup} warm-up fits, "
        "each case in its own process; RSS in MiB\n"
    )
    print(
        "| case | RSS after warm-up | growth | growth after malloc_trim "
        "| compiled functions (after warm-up -> after) | s / fit |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        cmd = [sys.executable, __file__, "--case", name, "--fits", str(args.fits)]
        cmd += ["--warmup", str(args.warmup)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {name} | {r['rss_mib']:.0f} | {r['growth_mib']:+.1f} "
            f"| {r['growth_trimmed_mib']:+.1f} "
            f"| {r['compiled_before']} -> {r['compiled_after']} "
            f"| {r['seconds_per_fit']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
