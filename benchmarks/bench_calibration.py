"""Calibration of every estimator with its default arguments, beside its peers.

Issue 12, point 5: a user who fits ``ConjugateLinearRegression()``,
``RidgeMAP()``, ``PyroBayesianLinear(random_state=0)`` or
``PyroBNNRegressor(random_state=0)`` without touching an argument should get
calibrated uncertainty, in any units of X and y. This script measures it,
side by side with what the same user would otherwise pick: scikit-learn's
``BayesianRidge()`` and
``GaussianProcessRegressor(RBF() + WhiteKernel(), normalize_y=True)``.

Columns: the observed coverage of the central 90% predictive interval, the
mean negative log predictive density (NLPD), the mean CRPS (both lower is
better, both on the original y scale), the fit time and the warnings raised
while fitting, predicting and scoring (counted by category; a fit that
raises is recorded as failed, not fatal). Every score comes from
:func:`bayesreg.predict_dist` and :mod:`bayesreg.metrics`, so the sklearn
peers are scored by exactly the same code as bayesreg's estimators. No
estimator argument is changed from its default beyond ``random_state=0``.

Sections (one markdown table each, on stdout; progress goes to stderr):

1. ``diabetes``: ``sklearn.datasets.load_diabetes``, every estimator in
   ``make_pipeline(StandardScaler(), est)``, ``KFold(5, shuffle=True,
   random_state=0)``; coverage, NLPD and CRPS pooled over the test points of
   all folds.
2. ``uci``: the five UCI sets (boston, concrete, energy, wine, yacht) in the
   standard 20-split layout, read with :func:`bayesreg.datasets.load_uci`.
   Linear estimators, BayesianRidge and the GP after a StandardScaler; the
   BNN on the raw data (it standardises internally). NLPD and CRPS are the
   mean (+- standard error) over splits, coverage is pooled over them.
3. ``synthetic``: a linear model y = m (X b + 1 + sigma e), X ~ N(0, I_5),
   b = [1, -2, 0.5, 0, 3], for sigma in {0.01, 1, 100} and units
   m in {1e-6, 1, 1e6}; 500 training and 5,000 test points, the same X and
   e in every row, so the nine rows differ only in the noise level and the
   units of y. An estimator that is equivariant in the units of y gives the
   same coverage for every m, an NLPD shifted by log m and a CRPS scaled by m.
   Each setting also gets the true predictive N(m f(x), (m sigma)^2) as an
   ``oracle`` row, and the column ``noise_std_ / true`` reads the fitted
   noise std off the final step (BayesianRidge: ``1 / sqrt(alpha_)``).

Run from the repository root::

    python benchmarks/bench_calibration.py              # everything
    python benchmarks/bench_calibration.py --quick      # smoke run (minutes)
    python benchmarks/bench_calibration.py --only uci --datasets yacht --splits 3
    python benchmarks/bench_calibration.py --only synthetic --synthetic-all
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shlex
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bayesreg import predict_dist  # noqa: E402
from bayesreg.datasets import load_uci  # noqa: E402
from bayesreg.metrics import interval_coverage, mean_crps, mean_nlpd  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from uci import git_commit  # noqa: E402

COVERAGE = 0.9
SECTIONS = ("diabetes", "uci", "synthetic")
ESTIMATORS = ("conjugate", "ridgemap", "pyrolinear", "bnn", "bayesridge", "gp")
LABELS = {
    "conjugate": "ConjugateLinearRegression()",
    "ridgemap": "RidgeMAP()",
    "pyrolinear": "PyroBayesianLinear(random_state=0)",
    "bnn": "PyroBNNRegressor(random_state=0)",
    "bayesridge": "sklearn BayesianRidge()",
    "gp": "sklearn GP, RBF() + WhiteKernel(), normalize_y=True",
}
# Estimators that the synthetic section runs only with --synthetic-all.
SLOW = ("bnn", "gp")
UCI = {
    "boston": "bostonHousing",
    "concrete": "concrete",
    "energy": "energy",
    "wine": "wine-quality-red",
    "yacht": "yacht",
}
SIGMAS = (0.01, 1.0, 100.0)
UNITS = (1e-6, 1.0, 1e6)
COEF = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
INTERCEPT = 1.0


# --------------------------------------------------------------------- models
def make_estimator(key: str):
    """The estimator with its default arguments (``random_state=0`` for Pyro)."""
    if key == "conjugate":
        from bayesreg import ConjugateLinearRegression

        return ConjugateLinearRegression()
    if key == "ridgemap":
        from bayesreg import RidgeMAP

        return RidgeMAP()
    if key == "pyrolinear":
        from bayesreg import PyroBayesianLinear

        return PyroBayesianLinear(random_state=0)
    if key == "bnn":
        from bayesreg import PyroBNNRegressor

        return PyroBNNRegressor(random_state=0)
    if key == "bayesridge":
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge()
    if key == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, WhiteKernel

        return GaussianProcessRegressor(kernel=RBF() + WhiteKernel(), normalize_y=True)
    raise ValueError(f"unknown estimator {key!r}; choose from {ESTIMATORS}.")


def make_model(key: str, section: str):
    """The estimator as the section fits it: scaled, except the BNN on raw data."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est = make_estimator(key)
    if key == "bnn" and section != "diabetes":
        return est
    return make_pipeline(StandardScaler(), est)


def final_step(model):
    return model[-1] if hasattr(model, "steps") else model


def fitted_noise_std(model) -> float | None:
    """``noise_std_`` of the final step; BayesianRidge: ``1 / sqrt(alpha_)``."""
    from sklearn.linear_model import BayesianRidge

    est = final_step(model)
    if isinstance(est, BayesianRidge):
        return float(1.0 / np.sqrt(est.alpha_))
    noise = getattr(est, "noise_std_", None)
    return None if noise is None else float(noise)


# ----------------------------------------------------------------- evaluation
@dataclass
class Result:
    """Scores of one fit on one test set."""

    n_test: int = 0
    coverage: float = np.nan
    nlpd: float = np.nan
    crps: float = np.nan
    fit_s: float = np.nan
    total_s: float = np.nan
    noise_std: float | None = None
    warned: Counter = field(default_factory=Counter)
    messages: dict = field(default_factory=dict)
    error: str | None = None


def evaluate(model, X_train, y_train, X_test, y_test) -> Result:
    """Fit, then score the predictive distribution; never raises."""
    res = Result(n_test=len(y_test))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_train, y_train)
            res.fit_s = time.perf_counter() - start
            res.noise_std = fitted_noise_std(model)
            dist = predict_dist(model, X_test)
            res.coverage = interval_coverage(y_test, dist, coverage=COVERAGE)
            res.nlpd = mean_nlpd(y_test, dist)
            res.crps = mean_crps(y_test, dist)
        except Exception as exc:  # a benchmark records failures, it does not stop
            message = " ".join(str(exc).split())  # one line, for the footnote
            res.error = f"{type(exc).__name__}: {message}"
    res.total_s = time.perf_counter() - start
    for w in caught:
        name = w.category.__name__
        res.warned[name] += 1
        res.messages.setdefault(name, " ".join(str(w.message).split())[:240])
    return res


@dataclass
class Summary:
    """Several fits of one estimator on one data set (folds or splits)."""

    results: list[Result]

    @property
    def ok(self) -> list[Result]:
        return [r for r in self.results if r.error is None]

    def pooled(self, attr: str) -> float:
        """Mean over all test points of all successful fits."""
        ok = self.ok
        if not ok:
            return np.nan
        n = np.array([r.n_test for r in ok], dtype=float)
        return float(np.sum(n * [getattr(r, attr) for r in ok]) / n.sum())

    def over_fits(self, attr: str) -> tuple[float, float]:
        """Mean over the fits and its standard error."""
        v = np.array([getattr(r, attr) for r in self.ok], dtype=float)
        if v.size == 0:
            return np.nan, np.nan
        se = v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
        return float(v.mean()), float(se)

    @property
    def warned(self) -> Counter:
        total: Counter = Counter()
        for r in self.results:
            total.update(r.warned)
        return total


# ----------------------------------------------------------------- formatting
def num(x: float, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return "—" if x is None or np.isnan(x) else str(x)
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        return f"{x:.{digits}g}"
    return f"{x:.{digits}f}"


def secs(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:.3f}" if x < 10 else f"{x:.1f}"


def mean_se(m_se: tuple[float, float], digits: int = 3) -> str:
    m, se = m_se
    return num(m, digits) if not np.isfinite(se) else f"{num(m, digits)} ± {se:.2g}"


def warn_cell(summary: Summary) -> str:
    counts = summary.warned
    cells = [f"{name} x{k}" for name, k in sorted(counts.items())]
    failed = len(summary.results) - len(summary.ok)
    if failed:
        cells.insert(0, f"**failed {failed}/{len(summary.results)}**")
    return ", ".join(cells) if cells else "none"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def footnotes(entries: list[tuple[str, str, Summary]]) -> str:
    """Each estimator's warnings and errors, one line per distinct message.

    ``entries`` holds (where, estimator key, summary); a line gives the first
    message of a warning category (or an error), its count and where it came.
    """
    seen: dict[tuple[str, str], list] = {}
    for where, key, summary in entries:
        for r in summary.results:
            found = [(f"{n}: {m}", r.warned[n]) for n, m in r.messages.items()]
            if r.error is not None:
                found.append((f"**error** {r.error[:300]}", 1))
            for what, count in found:
                entry = seen.setdefault((key, what), [0, []])
                entry[0] += count
                if where not in entry[1]:
                    entry[1].append(where)
    if not seen:
        return "No estimator warned or failed."
    lines = [
        "Warnings and errors (first message of each kind, its count and where; "
        "DeprecationWarnings, which Python hides by default, are counted too):",
        "",
    ]
    lines += [
        f"- {LABELS[key]}: {what} (x{count}; {'; '.join(wheres)})"
        for (key, what), (count, wheres) in seen.items()
    ]
    return "\n".join(lines)


# (section, estimator) -> [seconds, fits]: fit + predict + scores, for planning.
TIMES: dict[tuple[str, str], list[float]] = {}


def record_time(section: str, key: str, results: list[Result]) -> None:
    entry = TIMES.setdefault((section, key), [0.0, 0])
    entry[0] += sum(r.total_s for r in results)
    entry[1] += len(results)


def timing_table() -> str:
    rows = [
        [section, LABELS[key], str(n), f"{t:.1f}", f"{t / n:.2f}"]
        for (section, key), (t, n) in TIMES.items()
    ]
    header = ["section", "estimator", "fits", "total s", "s per fit"]
    return (
        "Time per estimator (fit + predict + scores, all data sets of the "
        "section):\n\n" + table(header, rows)
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------- sections
def skip_reason(key: str, args, n_train: int | None = None) -> str | None:
    if key != "gp":
        return None
    if args.no_gp:
        return "skipped (--quick: no GP)" if args.quick else "skipped (--no-gp)"
    if n_train is not None and n_train > args.gp_max_train:
        return f"skipped (n_train {n_train} > --gp-max-train {args.gp_max_train})"
    return None


def run_diabetes(args) -> str:
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold

    X, y = load_diabetes(return_X_y=True)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    rows, notes = [], []
    for key in args.estimators:
        reason = skip_reason(key, args, max(len(tr) for tr, _ in folds))
        if reason:
            rows.append([LABELS[key]] + [reason] * 4 + ["—"])
            continue
        results = []
        for k, (tr, te) in enumerate(folds):
            results.append(
                evaluate(make_model(key, "diabetes"), X[tr], y[tr], X[te], y[te])
            )
            progress(f"diabetes fold {k} {key}: {results[-1].total_s:.1f} s")
        record_time("diabetes", key, results)
        s = Summary(results)
        notes.append(("diabetes", key, s))
        rows.append(
            [
                LABELS[key],
                num(s.pooled("coverage")),
                num(s.pooled("nlpd")),
                num(s.pooled("crps")),
                secs(s.over_fits("fit_s")[0]),
                warn_cell(s),
            ]
        )
    header = [
        "estimator",
        f"{COVERAGE:.0%} coverage",
        "NLPD",
        "CRPS",
        "fit s (mean per fold)",
        "warnings",
    ]
    return (
        f"### load_diabetes (n = {len(y)}, d = {X.shape[1]}), 5-fold CV\n\n"
        "Every estimator in `make_pipeline(StandardScaler(), est)`; `KFold(5, "
        "shuffle=True, random_state=0)`; coverage of the central "
        f"{COVERAGE:.0%} interval, NLPD and CRPS pooled over the test points of "
        "all folds (y in its own units).\n\n"
        + table(header, rows)
        + "\n\n"
        + footnotes(notes)
    )


def run_uci(args) -> str:
    rows, notes = [], []
    for short in args.datasets:
        bunch = load_uci(UCI[short], args.data_dir)
        splits = bunch.splits[: args.splits] if args.splits else bunch.splits
        n_train = max(len(tr) for tr, _ in splits)
        X, y = bunch.data, bunch.target
        for key in args.estimators:
            label = f"{short} (n={len(y)}, d={X.shape[1]})"
            reason = skip_reason(key, args, n_train)
            if reason:
                rows.append([label, LABELS[key], "—"] + [reason] * 4 + ["—"])
                continue
            results = []
            for k, (tr, te) in enumerate(splits):
                model = make_model(key, "uci")
                results.append(evaluate(model, X[tr], y[tr], X[te], y[te]))
                progress(f"{short} split {k} {key}: {results[-1].total_s:.1f} s")
            record_time("uci", key, results)
            s = Summary(results)
            notes.append((short, key, s))
            rows.append(
                [
                    label,
                    LABELS[key],
                    str(len(s.ok)),
                    num(s.pooled("coverage")),
                    mean_se(s.over_fits("nlpd")),
                    mean_se(s.over_fits("crps")),
                    secs(s.over_fits("fit_s")[0]),
                    warn_cell(s),
                ]
            )
    header = [
        "data set",
        "estimator",
        "splits",
        f"{COVERAGE:.0%} coverage (pooled)",
        "NLPD (mean ± s.e.)",
        "CRPS (mean ± s.e.)",
        "fit s (mean per split)",
        "warnings",
    ]
    n_splits = args.splits or "all 20"
    return (
        f"### UCI regression sets, standard splits ({n_splits} per set)\n\n"
        "Linear estimators, BayesianRidge and the GP in "
        "`make_pipeline(StandardScaler(), est)`; the BNN on the raw data (it "
        "standardises X and y itself). NLPD and CRPS on the original y scale, "
        "mean ± standard error over splits; coverage pooled over the test "
        "points of all splits. The GP is isotropic (`RBF() + WhiteKernel()`, "
        "sklearn's default optimiser, no restarts), not the ARD GP of "
        "benchmarks/uci.py.\n\n" + table(header, rows) + "\n\n" + footnotes(notes)
    )


def synthetic_data(sigma: float, m: float, n_train: int, n_test: int, seed: int):
    """Train/test split of y = m (X b + 1 + sigma e); X and e fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_test, COEF.size))
    e = rng.standard_normal(n_train + n_test)
    f = m * (X @ COEF + INTERCEPT)
    y = f + m * sigma * e
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:], f[n_train:]


def run_synthetic(args) -> str:
    keys = [k for k in args.estimators if args.synthetic_all or k not in SLOW]
    not_run = [k for k in args.estimators if k not in keys]
    rows, notes = [], []
    for sigma in SIGMAS:
        for m in UNITS:
            true_std = m * sigma
            X, y, X_test, y_test, f_test = synthetic_data(
                sigma, m, args.n_train, args.n_test, args.seed
            )
            setting = [f"{sigma:g}", f"{m:g}", f"{true_std:g}"]
            oracle_std = np.full(len(y_test), true_std)
            oracle = [
                interval_coverage(y_test, f_test, oracle_std, coverage=COVERAGE),
                mean_nlpd(y_test, f_test, oracle_std),
                mean_crps(y_test, f_test, oracle_std),
            ]
            rows.append(
                [*setting, "oracle N(m f(x), (m sigma)^2)"]
                + [num(v) for v in oracle]
                + ["1", "—", "—"]
            )
            for key in keys:
                reason = skip_reason(key, args, args.n_train)
                if reason:
                    rows.append(setting + [LABELS[key]] + [reason] * 5 + ["—"])
                    continue
                res = evaluate(make_model(key, "synthetic"), X, y, X_test, y_test)
                progress(f"sigma={sigma:g} m={m:g} {key}: {res.total_s:.1f} s")
                record_time("synthetic", key, [res])
                s = Summary([res])
                notes.append((f"sigma={sigma:g} m={m:g}", key, s))
                ratio = (
                    None
                    if res.noise_std is None or res.error
                    else res.noise_std / true_std
                )
                rows.append(
                    [
                        *setting,
                        LABELS[key],
                        num(res.coverage),
                        num(res.nlpd),
                        num(res.crps),
                        num(ratio),
                        secs(res.fit_s),
                        warn_cell(s),
                    ]
                )
    header = [
        "sigma",
        "m",
        "true noise std",
        "estimator",
        f"{COVERAGE:.0%} coverage",
        "NLPD",
        "CRPS",
        "noise_std_ / true",
        "fit s",
        "warnings",
    ]
    skipped = (
        f" Not run here: {', '.join(LABELS[k] for k in not_run)} (pass "
        "--synthetic-all)."
        if not_run
        else ""
    )
    return (
        "### Synthetic linear data in any units\n\n"
        f"y = m (X b + {INTERCEPT:g} + sigma e), X ~ N(0, I_{COEF.size}), b = "
        f"{COEF.tolist()}, e ~ N(0, 1); n_train = {args.n_train}, n_test = "
        f"{args.n_test}, seed {args.seed}; the same X and e in every row. "
        "Linear estimators, BayesianRidge and the GP after a StandardScaler "
        "(noise_std_ read off the final step; BayesianRidge: 1 / sqrt(alpha_)), "
        "the BNN on the raw data. The oracle row scores the true predictive on "
        "the same test points: an equivariant, calibrated estimator matches its "
        "coverage for every m, its NLPD up to a small excess, and has NLPD "
        "shifted by log m and CRPS scaled by m across the units."
        + skipped
        + "\n\n"
        + table(header, rows)
        + "\n\n"
        + footnotes(notes)
    )


# ---------------------------------------------------------------------- main
def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: all sections, 2 UCI splits per set, no GP",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeat the flag for several)",
    )
    parser.add_argument(
        "--splits", type=int, default=None, help="UCI splits per set (default all 20)"
    )
    parser.add_argument(
        "--datasets",
        default=",".join(UCI),
        help=f"comma-separated UCI sets from {', '.join(UCI)} (default all)",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(
            "BAYESREG_UCI_DIR", str(ROOT.parent / "shared/data/uci")
        ),
        help="folder of the UCI sets (default $BAYESREG_UCI_DIR or "
        "../shared/data/uci next to the repository); nothing is downloaded",
    )
    parser.add_argument(
        "--estimators",
        default=",".join(ESTIMATORS),
        help=f"comma-separated subset of {', '.join(ESTIMATORS)} (default all)",
    )
    parser.add_argument("--no-gp", action="store_true", help="skip the GP everywhere")
    parser.add_argument(
        "--gp-max-train",
        type=int,
        default=2000,
        help="skip the GP on data sets with more training rows (default 2000)",
    )
    parser.add_argument(
        "--synthetic-all",
        action="store_true",
        help="also run the BNN and the GP on the synthetic rows",
    )
    parser.add_argument(
        "--n-train", type=int, default=500, help="synthetic training rows"
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=5000,
        help="synthetic test rows (>= 5000 "
        "keeps the coverage's standard error near 0.004)",
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic data seed")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS (threadpoolctl) and torch intra-op threads; default: "
        "leave both as they are",
    )
    args = parser.parse_args(argv)
    args.sections = args.only or list(SECTIONS)
    args.estimators = [k for k in args.estimators.split(",") if k]
    for key in args.estimators:
        if key not in ESTIMATORS:
            parser.error(f"unknown estimator {key!r}; choose from {ESTIMATORS}")
    args.datasets = [d for d in args.datasets.split(",") if d]
    for name in args.datasets:
        if name not in UCI:
            parser.error(f"unknown UCI set {name!r}; choose from {tuple(UCI)}")
    if args.quick:
        args.no_gp = True
        args.splits = args.splits or 2
    if args.n_test < 1 or args.n_train < 2:
        parser.error("--n-train must be >= 2 and --n-test >= 1")
    return args


def header(argv, args) -> str:
    cmd = shlex.join(
        ["python", "benchmarks/bench_calibration.py"]
        + (sys.argv[1:] if argv is None else list(argv))
    )
    versions = ", ".join(
        f"{p} {version(p)}"
        for p in ("numpy", "scipy", "scikit-learn", "torch", "pyro-ppl")
    )
    return (
        "## Calibration with default arguments (benchmarks/bench_calibration.py)\n\n"
        f"Command: `{cmd}` (commit {git_commit()}).\n"
        f"Machine: {platform.platform()}, {cpu_model()}, `os.cpu_count()` = "
        f"{os.cpu_count()}; Python {platform.python_version()}; {versions}; "
        f"threads: {args.threads or 'library defaults'}.\n"
        f"Load average (1, 5, 15 min) at the start: {load_average()}.\n"
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    print(header(argv, args), flush=True)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
        if any(k in ("pyrolinear", "bnn") for k in args.estimators):
            import torch

            torch.set_num_threads(args.threads)
    if any(k in ("pyrolinear", "bnn") for k in args.estimators):
        # Import torch and pyro now, so that their import-time warnings are
        # not counted against the first fit.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_estimator("pyrolinear"), make_estimator("bnn")
    runners = {"diabetes": run_diabetes, "uci": run_uci, "synthetic": run_synthetic}
    walls = []
    for section in SECTIONS:
        if section not in args.sections:
            continue
        start = time.perf_counter()
        text = runners[section](args)
        walls.append(f"{section} {time.perf_counter() - start:.0f} s")
        print(text + "\n", flush=True)
    print(timing_table() + "\n")
    print(f"Wall time: {', '.join(walls)}. Load average at the end: {load_average()}.")


if __name__ == "__main__":
    main()
