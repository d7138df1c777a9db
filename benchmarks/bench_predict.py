"""Predictions on 1,000,000 rows: time and peak memory of every predictive method.

Issue 22's goals, for every estimator with its defaults fitted on
``load_diabetes`` (sklearn's bundled copy, 442 x 10): on 1,000,000 rows (its
rows resampled, with noise of 1% of each column's std), ``predict(X,
return_std=True)`` within 3x the floor, ``predict_interval`` within 10x,
and at most 1 GB of peak memory above X, for ``predict``,
``predict(return_std=True)``, ``predict_std``, ``predict_interval``,
``log_predictive_density`` and ``sample_y``.

The floor is measured in the same run: for the linear models one matrix
product, X (n, d) @ (d, d + 1) (the coefficients and a square root of
their covariance: what the mean and the std need); for the networks the S
forward passes alone, written as well as torch allows: the estimator's own
weights (the BNN's S = 200 posterior draws, the ensemble's 5 members) in
float32, the first layer one packed GEMM per 64-row chunk
(:mod:`bayesreg.pyro._forward`), 65,536 rows at a time, each block reduced
to its mean over the draws (so the floor's memory is a block's too).

Every cell runs in a fresh subprocess that loads the fitted estimator and
builds X; after a warm-up call on 2,000 rows it resets the kernel's peak
RSS (``/proc/self/clear_refs``), times one call and reports the peak RSS
above the RSS before the call (X, the estimator and the libraries are below
that line). One thread for everything: ``torch.set_num_threads(1)`` and
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` = 1 (the
machine's 2 cores are shared).

Run from the repository root::

    python benchmarks/bench_predict.py              # the table, into RESULTS.md
    python benchmarks/bench_predict.py --rows 20000 --no-write   # a quick look
    python benchmarks/bench_predict.py --quoted     # the issue's 101,000-row cases
    python benchmarks/bench_predict.py --estimators ConjugateLinearRegression,RidgeMAP \
        --repeats 5 --cpu-time     # the closed forms alone, on a busy machine

``--quoted`` times, in this process, the cases the issue quotes (on 101,000
rows: ``PyroBNNRegressor.predict_dist`` 7.0 s and ``predict_interval`` 28 s,
``PyroBayesianLinear.predict_interval`` 3.5 s) for the package on
``sys.path`` (``PYTHONPATH=<an older checkout>`` times the code before).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}  # fmt: skip
BEGIN = "<!-- bench_predict: begin -->"
END = "<!-- bench_predict: end -->"
ESTIMATORS = (
    "ConjugateLinearRegression",
    "RidgeMAP",
    "PyroBayesianLinear",
    "PyroBNNRegressor",
    "DeepEnsembleRegressor",
)
METHODS = {
    "floor": None,
    "predict": lambda est, X, y: est.predict(X),
    "predict(return_std=True)": lambda est, X, y: est.predict(X, return_std=True),
    "predict_std": lambda est, X, y: est.predict_std(X),
    "predict_interval": lambda est, X, y: est.predict_interval(X, 0.95),
    "log_predictive_density": lambda est, X, y: est.log_predictive_density(X, y),
    "sample_y": lambda est, X, y: est.sample_y(X, 1, random_state=0),
}


def make_rows(n: int, seed: int = 0):
    """n rows of load_diabetes, resampled, with noise of 1% of each std."""
    from sklearn.datasets import load_diabetes

    X0, y0 = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, X0.shape[0], size=n)
    X = X0[idx]
    X += 0.01 * X0.std(axis=0) * rng.standard_normal(X.shape)
    y = y0[idx] + 0.01 * y0.std() * rng.standard_normal(n)
    return X, y


def fit_all(path: Path, names=ESTIMATORS) -> dict:
    """Fit every estimator of ``names`` (defaults, random_state=0 where it
    has one) and pickle it; return the fit times."""
    from sklearn.datasets import load_diabetes

    import bayesreg

    X, y = load_diabetes(return_X_y=True)
    times = {}
    for name in names:
        cls = getattr(bayesreg, name)
        est = cls(random_state=0) if "random_state" in cls().get_params() else cls()
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        times[name] = time.perf_counter() - t
        (path / f"{name}.pkl").write_bytes(pickle.dumps(est))
    return times


def _floor(est, X):
    """The floor of the estimator's predictions at X (see the module doc)."""
    if hasattr(est, "weight_samples_") or hasattr(est, "coefs_"):
        import torch

        from bayesreg.pyro._forward import forward_draws

        Xs = (X - est._x_mean) / est._x_scale
        if hasattr(est, "weight_samples_"):  # the BNN's posterior draws
            weights, shapes, multi = est.weight_samples_, est._shapes, False
            act = {"relu": torch.relu, "tanh": torch.tanh}[est._activation]
        else:  # the ensemble's members, packed as the BNN's draws
            parts = []
            for W, b in zip(est.coefs_, est.intercepts_, strict=True):
                parts += [W.reshape(W.shape[0], -1), b]
            weights = np.concatenate(parts, axis=1)
            shapes = [W.shape[1:] for W in est.coefs_]
            act, multi = {"relu": torch.relu, "tanh": torch.tanh}[est._activation], 1
        # In blocks of rows, each reduced to its mean over the draws: the
        # floor's memory is a block's, as the methods' is.
        out = np.empty(X.shape[0])
        for start in range(0, X.shape[0], 65536):
            rows = slice(start, start + 65536)
            f = forward_draws(Xs[rows], weights, shapes, act, multi=bool(multi))
            out[rows] = (f[:, 0] if multi else f).mean(axis=-1)
        return out
    d = X.shape[1]
    B = np.random.default_rng(0).normal(size=(d, d + 1))
    return X @ B


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def run_cell(
    est_path: str, method: str, n: int, repeats: int = 1, cpu: bool = False
) -> dict:
    import torch

    torch.set_num_threads(1)
    est = pickle.loads(Path(est_path).read_bytes())
    X, y = make_rows(n)
    call = METHODS[method] or (lambda est, X, y: _floor(est, X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(est, X[:2000], y[:2000])  # first-call costs (imports, allocator)
        base = _rss_kb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS
        clock = time.process_time if cpu else time.perf_counter
        seconds = np.inf
        for _ in range(repeats):
            out = None  # the last call's result is freed before the next
            t = clock()
            out = call(est, X, y)
            seconds = min(seconds, clock() - t)
        peak = _rss_kb("VmHWM")
    shape = [list(o.shape) for o in out] if isinstance(out, tuple) else out.shape
    return {"seconds": seconds, "peak_mb": (peak - base) / 1024, "shape": str(shape)}


def table(n: int, names=ESTIMATORS, repeats: int = 1, cpu: bool = False) -> str:
    from uci import load, machine

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        fits = fit_all(Path(tmp), names)
        env = {**os.environ, **ONE_THREAD}
        for name in names:
            floor = None
            for method in METHODS:
                pkl = str(Path(tmp) / f"{name}.pkl")
                cmd = [sys.executable, __file__, "--cell", pkl, method]
                cmd += ["--rows", str(n), "--repeats", str(repeats)]
                cmd += ["--cpu-time"] if cpu else []
                res = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if res.returncode != 0:
                    why = res.stderr.strip().splitlines()[-1]
                    rows.append(f"| {name} | {method} | failed: {why} | | |")
                    continue
                cell = json.loads(res.stdout.strip().splitlines()[-1])
                if method == "floor":
                    floor = cell["seconds"]
                ratio = f"{cell['seconds'] / floor:.1f}" if floor else ""
                rows.append(
                    f"| {name} | {method} | {cell['seconds']:.3f} | {ratio} | "
                    f"{cell['peak_mb']:.0f} |"
                )
                print(rows[-1], flush=True)
    head = [
        f"`python benchmarks/bench_predict.py` ({n:,} rows of load_diabetes "
        "resampled with 1% noise; defaults fitted on the 442 rows, "
        f"random_state=0; one thread; {machine()}; load {load()} at the end; "
        f"{'CPU' if cpu else 'wall'} time, min of {repeats})",
        "",
        "Fit times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in fits.items()),
        "",
        "| estimator | method | seconds | x floor | peak MB above X |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(head + rows)


def quoted(n: int = 101_000) -> None:
    """The issue's quoted cases, in this process (one thread)."""
    import torch
    from sklearn.datasets import load_diabetes

    import bayesreg

    torch.set_num_threads(1)
    X0, y0 = load_diabetes(return_X_y=True)
    X, _ = make_rows(n)
    print(f"bayesreg from {Path(bayesreg.__file__).parent}, {n:,} rows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bnn = bayesreg.PyroBNNRegressor(random_state=0).fit(X0, y0)
        lin = bayesreg.PyroBayesianLinear(random_state=0).fit(X0, y0)
        for label, call in [
            ("PyroBNNRegressor.predict_dist", bnn.predict_dist),
            ("PyroBNNRegressor.predict_interval", bnn.predict_interval),
            ("PyroBayesianLinear.predict_interval", lin.predict_interval),
        ]:
            call(X[:2000])  # first-call costs
            t = time.perf_counter()
            call(X)
            print(f"{label}: {time.perf_counter() - t:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cell", nargs=2)
    parser.add_argument("--quoted", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--repeats", type=int, default=1, help="min of these calls")
    parser.add_argument(
        "--cpu-time", action="store_true",
        help="CPU time of the process (a shared machine) instead of wall time",
    )  # fmt: skip
    parser.add_argument(
        "--estimators", help="comma-separated subset of the estimators (implies "
        "--no-write: RESULTS.md holds the whole table)",
    )  # fmt: skip
    args = parser.parse_args()
    # after PYTHONPATH: --quoted can time another checkout's bayesreg
    sys.path.append(str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if args.cell:
        cell = run_cell(*args.cell, args.rows, args.repeats, args.cpu_time)
        print(json.dumps(cell))
        return
    if args.quoted:
        quoted()
        return
    names = args.estimators.split(",") if args.estimators else ESTIMATORS
    text = table(args.rows, names, args.repeats, args.cpu_time)
    print(text)
    if not (args.no_write or args.estimators):
        from uci import write_results

        write_results(ROOT / "benchmarks" / "RESULTS.md", text, BEGIN, END)


if __name__ == "__main__":
    main()
