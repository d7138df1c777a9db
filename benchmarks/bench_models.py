"""Models the closed form cannot fit (issue 23), side by side in one run.

Run from the repository root, in the scratch environment that has NGBoost::

    OMP_NUM_THREADS=1 /tmp/benchenv/bin/python benchmarks/bench_models.py
    ... bench_models.py --seeds 2 --quick   # a smoke run

Three data sets, each over several seeds, print one table each (means over
the seeds, the spread in brackets):

(a) sparse truth: n = 120, p = 150, 6 non-zero coefficients of size 2-4
    (random signs), noise 1, standard normal X. Coefficient RMSE, test NLPD
    (scored through ``bayesreg.predict_dist``, which resolves sklearn's
    BayesianRidge and ARDRegression) and 90% test coverage.
(b) outliers: n = 300, 5 features, noise 0.5, 10% of the training targets
    shifted up by U(8, 15). Coefficient RMSE and 90% coverage of clean test
    targets (HuberRegressor gives no intervals).
(c) input-dependent noise: noise std 0.2 exp(0.9 x_0), 3 standard normal
    features, n = 800. Test NLPD beside the true model's, and 90% coverage
    per quintile of the true noise std.

The ``PyroBayesianLinear`` rows with ``prior=`` / ``likelihood=`` run only
where that option exists (``"prior" in get_params()``), NGBoost's only where
it imports; otherwise they print "not available".
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ARDRegression, BayesianRidge, HuberRegressor

from bayesreg import ConjugateLinearRegression, predict_dist
from bayesreg.distributions import Normal

N_TEST = 4000


def _pyro_with(option: str, value: str):
    """``PyroBayesianLinear(option=value, ...)`` if it has that option, else
    None."""
    try:
        from bayesreg import PyroBayesianLinear
    except ImportError:
        return None
    if option not in PyroBayesianLinear().get_params():
        return None
    return lambda **kw: PyroBayesianLinear(**{option: value}, **kw)


def _ngboost():
    try:
        from ngboost import NGBRegressor
    except ImportError:
        return None
    return lambda: NGBRegressor(verbose=False)


def _dist(model, Xt):
    """``bayesreg.predict_dist``; NGBoost's Normal ``pred_dist`` as ours."""
    if hasattr(model, "pred_dist"):
        params = model.pred_dist(Xt).params
        return Normal(params["loc"], params["scale"])
    return predict_dist(model, Xt)


def _scores(model, Xt, yt, coverage=0.9):
    """NLPD, coverage and the intervals' indicator per row."""
    dist = _dist(model, Xt)
    lo, hi = np.asarray(dist.interval(coverage)).T
    inside = (yt >= lo) & (yt <= hi)
    return -float(np.mean(dist.logpdf(yt))), float(np.mean(inside)), inside


def _rmse(a, b):
    return float(np.sqrt(np.mean((np.ravel(a) - np.ravel(b)) ** 2)))


def _table(title, header, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for name, cells in rows:
        print("| " + " | ".join([name, *cells]) + " |")


def _cell(values, fmt="{:.3f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(np.mean(values))} [{fmt.format(min(values))}, " + (
        f"{fmt.format(max(values))}]"
    )


def _run(models, make_data, seeds, score):
    """{name: {metric: [per seed]}} (None for a model not available)."""
    out = {}
    for name, make in models:
        if make is None:
            out[name] = None
            continue
        out[name] = {}
        for seed in seeds:
            data = make_data(seed)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = make(seed).fit(data["X"], data["y"])
            fit_s = time.perf_counter() - t0
            for key, value in {**score(model, data), "fit s": fit_s}.items():
                out[name].setdefault(key, []).append(value)
    return out


def _print(title, results, metrics):
    rows = []
    for name, res in results.items():
        if res is None:
            rows.append((name, ["not available"] + [""] * (len(metrics) - 1)))
        else:
            rows.append((name, [_cell(res.get(m, [])) for m in metrics]))
    _table(title, ["model", *metrics], rows)


# --------------------------------------------------------------------------
# (a) sparse truth
# --------------------------------------------------------------------------


def sparse_data(seed, n=120, p=150):
    rng = np.random.default_rng(seed)
    w = np.zeros(p)
    idx = rng.choice(p, 6, replace=False)
    w[idx] = rng.uniform(2, 4, 6) * rng.choice([-1, 1], 6)
    X, Xt = rng.normal(size=(n, p)), rng.normal(size=(N_TEST, p))
    y = X @ w + rng.normal(size=n)
    yt = Xt @ w + rng.normal(size=N_TEST)
    return dict(X=X, y=y, Xt=Xt, yt=yt, w=w)


def sparse_score(model, d):
    nlpd, cov, _ = _scores(model, d["Xt"], d["yt"])
    return {"coef RMSE": _rmse(model.coef_, d["w"]), "NLPD": nlpd, "90% cov": cov}


# --------------------------------------------------------------------------
# (b) outliers
# --------------------------------------------------------------------------


def outlier_data(seed, n=300, p=5):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=p)
    X, Xt = rng.normal(size=(n, p)), rng.normal(size=(N_TEST, p))
    y = X @ w + 1.0 + 0.5 * rng.normal(size=n)
    bad = rng.choice(n, n // 10, replace=False)
    y[bad] += rng.uniform(8, 15, bad.size)
    yt = Xt @ w + 1.0 + 0.5 * rng.normal(size=N_TEST)
    return dict(X=X, y=y, Xt=Xt, yt=yt, w=w)


def outlier_score(model, d):
    out = {"coef RMSE": _rmse(model.coef_, d["w"])}
    if not isinstance(model, HuberRegressor):
        out["90% cov (clean)"] = _scores(model, d["Xt"], d["yt"])[1]
    return out


# --------------------------------------------------------------------------
# (c) input-dependent noise
# --------------------------------------------------------------------------


def hetero_data(seed, n=800, p=3):
    rng = np.random.default_rng(seed)
    w = np.array([1.0, -0.5, 0.25])[:p]
    X, Xt = rng.normal(size=(n, p)), rng.normal(size=(N_TEST, p))

    def noise(A):
        return 0.2 * np.exp(0.9 * A[:, 0])

    y = X @ w + noise(X) * rng.normal(size=n)
    yt = Xt @ w + noise(Xt) * rng.normal(size=N_TEST)
    return dict(X=X, y=y, Xt=Xt, yt=yt, w=w, mean_t=Xt @ w, std_t=noise(Xt))


def hetero_score(model, d):
    nlpd, _, inside = _scores(model, d["Xt"], d["yt"])
    true = -np.mean(
        -0.5 * np.log(2 * np.pi * d["std_t"] ** 2)
        - 0.5 * ((d["yt"] - d["mean_t"]) / d["std_t"]) ** 2
    )
    out = {"NLPD": nlpd, "NLPD - true": nlpd - true}
    edges = np.quantile(d["std_t"], [0.2, 0.4, 0.6, 0.8])
    q = np.searchsorted(edges, d["std_t"])
    for k in range(5):
        out[f"cov Q{k + 1}"] = float(np.mean(inside[q == k]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip NUTS")
    args = parser.parse_args()
    seeds = range(args.seeds)
    horseshoe = _pyro_with("prior", "horseshoe")
    studentt = _pyro_with("likelihood", "studentt")
    hetero = _pyro_with("likelihood", "heteroscedastic")
    ngb = _ngboost()
    if args.quick:
        horseshoe = None

    sparse_models = [
        ('ConjugateLinearRegression(prior_std="ard")',
         lambda s: ConjugateLinearRegression(prior_std="ard")),
        ("ConjugateLinearRegression()", lambda s: ConjugateLinearRegression()),
        ("ARDRegression()", lambda s: ARDRegression()),
        ("BayesianRidge()", lambda s: BayesianRidge()),
        ('PyroBayesianLinear(prior="horseshoe", inference="nuts")',
         horseshoe and (lambda s: horseshoe(inference="nuts", random_state=s))),
    ]  # fmt: skip
    res = _run(sparse_models, sparse_data, seeds, sparse_score)
    _print(
        f"(a) sparse truth: n=120, p=150, 6 non-zero, noise 1; {args.seeds} seeds",
        res,
        ["coef RMSE", "NLPD", "90% cov", "fit s"],
    )
    ard, ref = res[sparse_models[0][0]], res["ARDRegression()"]
    ratio = np.mean(ard["coef RMSE"]) / np.mean(ref["coef RMSE"])
    print(
        f"\nARD / ARDRegression coef RMSE: {ratio:.2f} (<= 1.1); NLPD "
        f"{np.mean(ard['NLPD']):.3f} vs {np.mean(ref['NLPD']):.3f} (lower); "
        f"coverage {np.mean(ard['90% cov']):.3f} (in [0.85, 0.95])"
    )

    outlier_models = [
        ("HuberRegressor()", lambda s: HuberRegressor()),
        ("BayesianRidge()", lambda s: BayesianRidge()),
        ("ConjugateLinearRegression()", lambda s: ConjugateLinearRegression()),
        ('PyroBayesianLinear(likelihood="studentt")',
         studentt and (lambda s: studentt(random_state=s))),
    ]  # fmt: skip
    res = _run(outlier_models, outlier_data, seeds, outlier_score)
    _print(
        f"(b) outliers: n=300, p=5, noise 0.5, 10% shifted by 8-15; {args.seeds} seeds",
        res,
        ["coef RMSE", "90% cov (clean)", "fit s"],
    )

    hetero_models = [
        ("ConjugateLinearRegression()", lambda s: ConjugateLinearRegression()),
        ("NGBRegressor() (defaults)", ngb and (lambda s: ngb())),
        ('PyroBayesianLinear(likelihood="heteroscedastic")',
         hetero and (lambda s: hetero(random_state=s))),
    ]  # fmt: skip
    res = _run(hetero_models, hetero_data, seeds, hetero_score)
    _print(
        f"(c) input-dependent noise 0.2 exp(0.9 x_0): n=800, p=3; {args.seeds} seeds",
        res,
        ["NLPD", "NLPD - true", *(f"cov Q{k}" for k in range(1, 6)), "fit s"],
    )


if __name__ == "__main__":
    main()
