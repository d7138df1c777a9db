"""UCI regression benchmark: the protocol of the Bayesian neural network papers.

For every train/test split of each data set (Hernandez-Lobato & Adams 2015;
Gal & Ghahramani 2016): standardise X and y with the training split's mean
and std (a zero std becomes 1), fit, and report the test RMSE and the test
log-likelihood (mean log predictive density per point) on the ORIGINAL y
scale, as mean +- standard error over the splits, plus the fit time per
split. Models:

- ``bnn``: :class:`bayesreg.PyroBNNRegressor` with its defaults and one hidden
  layer of 50 units (the protocol's architecture);
- ``ensemble``: :class:`bayesreg.DeepEnsembleRegressor` with its
  defaults (5 anchored heteroscedastic networks of 50 units);
- ``bayesridge``: :class:`sklearn.linear_model.BayesianRidge`;
- ``gp``: :class:`sklearn.gaussian_process.GaussianProcessRegressor` with an
  ARD RBF + white-noise kernel on the standardised data.

The published VI, PBP and MC-dropout columns are those printed in Gal &
Ghahramani (2016), Table 1 (copied from the data folder's README); the deep
ensembles column is Lakshminarayanan et al. (2017), Table 1 (5 networks), the
NGBoost column Duan et al. (2019), Table 1 (both print mean +- their spread
over the splits). The pooled 90% coverage is the share of all test points of
all splits inside the central 90% predictive interval.

Run from the repository root::

    python benchmarks/uci.py                      # everything, all splits
    python benchmarks/uci.py --datasets yacht --n-splits 3 --models bnn
    python benchmarks/uci.py --write-results      # also update RESULTS.md

Because y is standardised by an affine map, the log density on the original
scale is the standardised one minus ``log(std(y_train))``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesreg.datasets import load_uci  # noqa: E402

DATASETS = ("bostonHousing", "concrete", "energy", "wine-quality-red", "yacht")
MODELS = ("bnn", "ensemble", "bayesridge", "gp")
LABELS = {
    "bnn": "bayesreg BNN",
    "ensemble": "bayesreg DeepEnsemble",
    "bayesridge": "BayesianRidge",
    "gp": "GP (ARD)",
}

# Gal & Ghahramani (2016), Table 1: (mean, standard error) for RMSE and LL.
PUBLISHED = {
    "bostonHousing": {
        "VI": ((4.32, 0.29), (-2.90, 0.07)),
        "PBP": ((3.01, 0.18), (-2.57, 0.09)),
        "MC-dropout": ((2.97, 0.19), (-2.46, 0.06)),
        "Deep ensembles": ((3.28, 1.00), (-2.41, 0.25)),
        "NGBoost": ((2.94, 0.53), (-2.43, 0.15)),
    },
    "concrete": {
        "VI": ((7.19, 0.12), (-3.39, 0.02)),
        "PBP": ((5.67, 0.09), (-3.16, 0.02)),
        "MC-dropout": ((5.23, 0.12), (-3.04, 0.02)),
        "Deep ensembles": ((6.03, 0.58), (-3.06, 0.18)),
        "NGBoost": ((5.06, 0.61), (-3.04, 0.17)),
    },
    "energy": {
        "VI": ((2.65, 0.08), (-2.39, 0.03)),
        "PBP": ((1.80, 0.05), (-2.04, 0.02)),
        "MC-dropout": ((1.66, 0.04), (-1.99, 0.02)),
        "Deep ensembles": ((2.09, 0.29), (-1.38, 0.22)),
        "NGBoost": ((0.46, 0.06), (-0.60, 0.45)),
    },
    "wine-quality-red": {
        "VI": ((0.65, 0.01), (-0.98, 0.01)),
        "PBP": ((0.64, 0.01), (-0.97, 0.01)),
        "MC-dropout": ((0.62, 0.01), (-0.93, 0.01)),
        "Deep ensembles": ((0.64, 0.04), (-0.94, 0.12)),
        "NGBoost": ((0.63, 0.04), (-0.91, 0.06)),
    },
    "yacht": {
        "VI": ((6.89, 0.67), (-3.43, 0.16)),
        "PBP": ((1.02, 0.05), (-1.63, 0.02)),
        "MC-dropout": ((1.11, 0.09), (-1.55, 0.03)),
        "Deep ensembles": ((1.58, 0.48), (-1.18, 0.21)),
        "NGBoost": ((0.50, 0.20), (-0.20, 0.26)),
    },
}

BEGIN = "<!-- uci-benchmark:begin (written by benchmarks/uci.py) -->"
END = "<!-- uci-benchmark:end -->"


# --------------------------------------------------------------------- models
def make_model(name: str, n_features: int, seed: int, bnn_params: dict):
    if name == "bnn":
        from bayesreg import PyroBNNRegressor

        params = {"hidden_layer_sizes": (50,), "random_state": seed}
        params.update(bnn_params)
        return PyroBNNRegressor(**params)
    if name == "ensemble":
        from bayesreg.networks.ensemble import DeepEnsembleRegressor

        return DeepEnsembleRegressor(random_state=seed)
    if name == "bayesridge":
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge()
    if name == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = ConstantKernel(1.0) * RBF(np.ones(n_features)) + WhiteKernel(0.1)
        return GaussianProcessRegressor(kernel, normalize_y=False, random_state=seed)
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}.")


def predictive_logpdf(model, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictive mean, pointwise log density and whether y lies in the central
    90% interval, on the standardised scale."""
    if hasattr(model, "log_predictive_density"):
        lo, hi = model.predict_interval(X, coverage=0.9).T
        return (
            model.predict(X),
            model.log_predictive_density(X, y),
            (lo <= y) & (y <= hi),
        )
    mean, std = model.predict(X, return_std=True)
    inside = np.abs(y - mean) <= stats.norm.ppf(0.95) * std
    return mean, stats.norm.logpdf(y, mean, std), inside


def standardise(train: np.ndarray, *arrays: np.ndarray):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (mean, std), [(a - mean) / std for a in (train, *arrays)]


def run_split(name, X, y, train, test, model_name, seed, bnn_params):
    _, (Xtr, Xte) = standardise(X[train], X[test])
    (ym, ys), (ytr, yte) = standardise(y[train], y[test])
    model = make_model(model_name, X.shape[1], seed, bnn_params)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GP optimiser bound warnings
        model.fit(Xtr, ytr)
    fit_time = time.perf_counter() - t0
    mean, logpdf, inside = predictive_logpdf(model, Xte, yte)
    rmse = float(np.sqrt(np.mean((mean * ys + ym - y[test]) ** 2)))
    ll = float(np.mean(logpdf) - np.log(ys))
    return rmse, ll, fit_time, int(inside.sum()), int(inside.size)


def mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else float("nan")
    return float(v.mean()), float(se)


# ------------------------------------------------------------------- reports
def fmt(m_se, digits=2) -> str:
    m, se = m_se
    return f"{m:.{digits}f} ± {se:.{digits}f}" if np.isfinite(se) else f"{m:.{digits}f}"


def tables(results: dict, models: list[str]) -> str:
    ours = [LABELS[m] for m in models]
    pub = ["VI", "PBP", "MC-dropout", "Deep ensembles", "NGBoost"]
    out = []
    for title, k in (
        ("Test RMSE (lower is better)", 0),
        ("Test log-likelihood (higher is better)", 1),
    ):
        out.append(f"**{title}**\n")
        out.append(
            "| data set | N | "
            + " | ".join(ours + [f"{p} (published)" for p in pub])
            + " |"
        )
        out.append("|---" * (2 + len(ours) + len(pub)) + "|")
        for ds, res in results.items():
            cells = [fmt(res[m][k]) if m in res else "—" for m in models]
            cells += [fmt(PUBLISHED[ds][p][k]) for p in pub]
            out.append(f"| {ds} | {res['n']} | " + " | ".join(cells) + " |")
        out.append("")
    out.append("**Pooled 90% coverage (share of all test points in the interval)**\n")
    out.append("| data set | " + " | ".join(ours) + " |")
    out.append("|---" * (1 + len(ours)) + "|")
    for ds, res in results.items():
        cells = [f"{res[m][3]:.3f}" if m in res else "—" for m in models]
        out.append(f"| {ds} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("**Fit time per split, seconds (mean ± s.e.)**\n")
    out.append("| data set | " + " | ".join(ours) + " |")
    out.append("|---" * (1 + len(ours)) + "|")
    for ds, res in results.items():
        cells = [fmt(res[m][2], 1) if m in res else "—" for m in models]
        out.append(f"| {ds} | " + " | ".join(cells) + " |")
    out.append("")
    if "bnn" in models:
        out.append("**Goals of issue 5 for the BNN**\n")
        out.append(
            "| data set | LL > VI | LL > PBP | RMSE <= PBP + s.e. | time <= 60 s |"
        )
        out.append("|---|---|---|---|---|")
        for ds, res in results.items():
            (rmse, _), (ll, _), (t, _) = res["bnn"][:3]
            (prmse, pse), (pll, _) = PUBLISHED[ds]["PBP"]
            vll = PUBLISHED[ds]["VI"][1][0]
            marks = [
                ll > vll,
                ll > pll,
                rmse <= prmse + pse,
                t <= 60,
            ]
            out.append(
                f"| {ds} | "
                + " | ".join("yes" if ok else "**no**" for ok in marks)
                + " |"
            )
        out.append("")
    if "ensemble" in models:
        out.append("**Goals of issue 14 for DeepEnsembleRegressor**\n")
        out.append(
            "| data set | LL > MC-dropout | LL > deep ensembles | LL > GP (this run) "
            "| 90% coverage in [0.85, 0.95] | time <= 60 s |"
        )
        out.append("|---|---|---|---|---|---|")
        for ds, res in results.items():
            (_, _), (ll, _), (t, _), cov = res["ensemble"]
            gp = res.get("gp")
            marks = [
                ll > PUBLISHED[ds]["MC-dropout"][1][0],
                ll > PUBLISHED[ds]["Deep ensembles"][1][0],
                None if gp is None or ds == "wine-quality-red" else ll > gp[1][0],
                0.85 <= cov <= 0.95,
                t <= 60,
            ]
            out.append(
                f"| {ds} | "
                + " | ".join(
                    "n/a" if ok is None else ("yes" if ok else "**no**") for ok in marks
                )
                + " |"
            )
        out.append("")
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"`nproc` = {os.cpu_count()}, {cpu}"


def load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def write_results(path: Path, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the block between ``begin`` and ``end`` (or append it)."""
    block = f"{begin}\n{text}\n{end}"
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1]
        new = head + block + tail
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new)


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "data_dir", nargs="?", default=str(ROOT / ".." / "shared" / "data" / "uci")
    )
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--n-splits", type=int, default=None, help="default: all (20)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--bnn-params", default="{}", help="JSON dict of PyroBNNRegressor overrides"
    )
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="save per-split results of each (data set, model) here and reuse "
        "them on later runs (e.g. run the slow GP once); BNN runs with "
        "--bnn-params are never cached",
    )
    parser.add_argument(
        "--gp-splits",
        type=int,
        default=None,
        help="run the (slow, O(n^3)) GP on the first K splits only",
    )
    parser.add_argument(
        "--gp-datasets",
        default=None,
        help="comma-separated data sets to run the GP on (default: all); its "
        "O(n^3) fit takes about 150 s a split on wine, where its log-likelihood "
        "is not comparable anyway (repeated rows)",
    )
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args(argv)

    import torch  # the BNN's thread count; the sklearn models use BLAS threads

    torch.set_num_threads(args.threads)
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; choose from {MODELS}")
    bnn_params = json.loads(args.bnn_params)
    gp_datasets = (
        args.datasets.split(",")
        if args.gp_datasets is None
        else args.gp_datasets.split(",")
    )
    load_before = load()
    t_start = time.perf_counter()
    results: dict = {}
    for ds in args.datasets.split(","):
        bunch = load_uci(ds, args.data_dir)
        splits = bunch.splits[: args.n_splits] if args.n_splits else bunch.splits
        res: dict = {"n": bunch.data.shape[0]}
        for m in models:
            if m == "gp" and ds not in gp_datasets:
                continue
            cache = (
                Path(args.cache_dir) / f"{ds}__{m}__{len(splits)}.json"
                if args.cache_dir and not (m == "bnn" and bnn_params)
                else None
            )
            m_splits = (
                splits[: args.gp_splits] if m == "gp" and args.gp_splits else splits
            )
            if cache is not None:
                cache = cache.with_name(f"{ds}__{m}__{len(m_splits)}.json")
            if cache is not None and cache.exists():
                rows = json.loads(cache.read_text())
            else:
                rows = [
                    run_split(ds, bunch.data, bunch.target, tr, te, m, k, bnn_params)
                    for k, (tr, te) in enumerate(m_splits)
                ]
                if cache is not None:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    cache.write_text(json.dumps(rows))
            rows = np.array(rows)
            res[m] = [mean_se(rows[:, j]) for j in range(3)]
            # Pooled 90% coverage (NaN for caches written before it was kept).
            res[m].append(
                rows[:, 3].sum() / rows[:, 4].sum() if rows.shape[1] > 3 else np.nan
            )
            print(
                f"{ds:18s} {m:10s} splits={len(m_splits):2d} "
                f"rmse {fmt(res[m][0], 3)}  ll {fmt(res[m][1], 3)}  "
                f"fit {fmt(res[m][2], 1)} s",
                flush=True,
            )
        results[ds] = res
    total = time.perf_counter() - t_start
    n_splits = args.n_splits or "all 20"
    cmd = "python benchmarks/uci.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    header = (
        "## UCI regression benchmark (bayesreg networks vs baselines)\n\n"
        f"Command: `{cmd.strip()}` (splits: {n_splits}"
        + (f", GP on the first {args.gp_splits} only" if args.gp_splits else "")
        + (f", GP on {args.gp_datasets} only" if args.gp_datasets else "")
        + f"; commit {git_commit()}; "
        f"torch threads: {args.threads}; BNN overrides: {bnn_params or 'none'}).\n"
        f"Machine: {machine()}; load average (1, 5, 15 min) {load_before} at the "
        f"start, {load()} at the end (the cores are shared, so fit times are upper "
        f"bounds); total wall time {total / 60:.1f} min.\n\n"
        "Protocol: X and y standardised on each training split; RMSE and mean "
        "test log-likelihood on the original y scale; mean ± standard error over "
        "splits. GP: ARD RBF + WhiteKernel, sklearn's default optimiser without "
        "restarts. Published columns: Gal & Ghahramani (2016), Table 1 (VI, PBP, "
        "MC dropout); Lakshminarayanan et al. (2017), Table 1 (deep ensembles); "
        "Duan et al. (2019), Table 1 (NGBoost).\n"
    )
    text = header + "\n" + tables(results, models)
    print("\n" + text)
    if args.write_results:
        write_results(Path(args.results), text)
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
