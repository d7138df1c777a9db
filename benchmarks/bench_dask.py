"""Out-of-core fit on a dask cluster: time, worker memory, agreement with NumPy.

Run from the repository root::

    python benchmarks/bench_dask.py               # n=10,000,000, d=50: 4 GB of X
    python benchmarks/bench_dask.py --n 200000    # a quick smoke run

A float64 X of n rows and d columns (and y) is generated lazily and
deterministically, one block of rows at a time (``da.map_blocks`` with a
generator seeded by the block index), so it never exists as a whole. It is
fitted by :class:`~bayesreg.ConjugateLinearRegression` on a ``LocalCluster``
of worker processes with a memory limit each, while a background thread polls
every worker's resident memory (``client.run`` of ``psutil``). Then the same
blocks are materialised in this process into one NumPy array (outside the
cluster) and fitted in memory; the script prints the relative difference of
the two fits, which must be below 1e-10.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import threading
import time

import numpy as np


def make_block(
    block_id: tuple[int, ...] | None = None,
    *,
    n: int,
    d: int,
    rows: int,
    seed: int,
) -> np.ndarray:
    """Block ``block_id[0]`` of [X | y]: its rows depend on the block alone.

    Columns have different scales and means (the centring matters), and
    y = X w + 2 + noise with fixed w.
    """
    i = block_id[0]
    m = min(rows, n - i * rows)
    rng = np.random.default_rng([seed, i])
    out = np.empty((m, d + 1))
    out[:, :d] = rng.standard_normal((m, d))
    out[:, :d] *= np.linspace(0.5, 3.0, d)
    out[:, :d] += np.linspace(-5.0, 5.0, d)
    w = np.cos(np.arange(d))
    out[:, d] = out[:, :d] @ w + 2.0 + rng.standard_normal(m)
    return out


def lazy_data(n: int, d: int, rows: int, seed: int):
    """(X, y) as dask arrays, generated block by block where computed."""
    import dask.array as da

    chunks = ((rows,) * (n // rows) + ((n % rows,) if n % rows else ()), (d + 1,))
    both = da.map_blocks(
        make_block, n=n, d=d, rows=rows, seed=seed, chunks=chunks, dtype=np.float64
    )
    return both[:, :d], both[:, d]


def local_data(n: int, d: int, rows: int, seed: int):
    """The same blocks, written into one NumPy array in this process."""
    X = np.empty((n, d))
    y = np.empty(n)
    for i, start in enumerate(range(0, n, rows)):
        block = make_block((i, 0), n=n, d=d, rows=rows, seed=seed)
        X[start : start + len(block)] = block[:, :d]
        y[start : start + len(block)] = block[:, d]
        del block
    return X, y


def _warm_up() -> None:
    """Import what the tasks need, so that the timing leaves imports out."""
    for module in ("bayesreg._dask", "bayesreg._gaussian", "sklearn.utils.validation"):
        importlib.import_module(module)


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


class MemoryPoller:
    """Peak resident memory of every worker, polled in a background thread."""

    def __init__(self, client, interval: float):
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # a worker restarting; keep polling
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if "model name" in line
            )
    except (OSError, StopIteration):
        pass
    import psutil

    ram = psutil.virtual_memory().total / 2**30
    return f"{model}, nproc={os.cpu_count()}, RAM {ram:.1f} GiB"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rel_diff(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="rows")
    parser.add_argument("--d", type=int, default=50, help="columns")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per block")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--memory-limit", default="2GB", help="per worker")
    parser.add_argument("--poll", type=float, default=0.2, help="seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fixed",
        action="store_true",
        help="fixed hyperparameters instead of fit_hyperparameters=True",
    )
    args = parser.parse_args(argv)

    import dask
    import distributed
    from dask.utils import parse_bytes

    from bayesreg import ConjugateLinearRegression

    n, d = args.n, args.d
    est = ConjugateLinearRegression(fit_hyperparameters=not args.fixed)
    print(f"machine: {machine()}")
    print(f"load average at start: {load()}")
    print(
        f"X: {n:,} x {d} float64 ({n * d * 8 / 1e9:.1f} GB) in blocks of "
        f"{args.rows:,} rows; {est!r}"
    )
    limit = parse_bytes(args.memory_limit)

    X, y = lazy_data(n, d, args.rows, args.seed)
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads_per_worker,
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(_warm_up)
        baseline = max(client.run(_rss).values())
        workers_start = set(client.scheduler_info()["workers"])
        with MemoryPoller(client, args.poll) as poller:
            start = time.perf_counter()
            lazy_fit = est.fit(X, y)
            t_dask = time.perf_counter() - start
            # Generation alone, for scale: the same blocks, reduced to a sum.
            start = time.perf_counter()
            dask.compute(X.sum(), y.sum())
            t_gen = time.perf_counter() - start
        # A worker killed for memory comes back under a new address.
        same_workers = set(client.scheduler_info()["workers"]) == workers_start
    peaks = sorted(poller.peak.values())

    start = time.perf_counter()
    X_local, y_local = local_data(n, d, args.rows, args.seed)
    t_local_gen = time.perf_counter() - start
    start = time.perf_counter()
    ref = type(est)(**est.get_params()).fit(X_local, y_local)
    t_numpy = time.perf_counter() - start
    del X_local, y_local

    diffs = {
        name: rel_diff(getattr(lazy_fit, name), getattr(ref, name))
        for name in (
            "coef_",
            "intercept_",
            "coef_cov_",
            "noise_std_",
            "log_marginal_likelihood_",
        )
    }
    print(f"load average at end: {load()}")
    print()
    rows = [
        ("dask fit (generation + statistics + posterior)", f"{t_dask:.1f} s"),
        ("dask generation alone (X.sum, y.sum)", f"{t_gen:.1f} s"),
        (
            f"NumPy: materialise X ({n * d * 8 / 1e9:.1f} GB) here",
            f"{t_local_gen:.1f} s",
        ),
        ("NumPy: in-memory fit", f"{t_numpy:.1f} s"),
        (
            "peak worker RSS (each)",
            ", ".join(f"{p / 2**30:.2f} GiB" for p in peaks),
        ),
        ("worker RSS before the fit (max)", f"{baseline / 2**30:.2f} GiB"),
        ("worker memory limit", f"{limit / 2**30:.2f} GiB ({args.memory_limit})"),
        ("same workers at the end (none restarted)", str(same_workers)),
    ]
    rows += [(f"max relative difference, {k}", f"{v:.1e}") for k, v in diffs.items()]
    width = max(len(r[0]) for r in rows)
    print(f"| {'quantity':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    within = bool(peaks) and max(peaks) < limit and same_workers
    agree = max(diffs.values()) < 1e-10
    print()
    print(f"workers within their memory limit: {within}")
    print(f"fits agree to 1e-10 relative: {agree}")
    return 0 if (within and agree) else 1


if __name__ == "__main__":
    raise SystemExit(main())
