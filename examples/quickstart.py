"""
Quickstart: every estimator on the seed problem
================================================

The toy problem of the documentation, y = x sin(10 x) + 0.1 noise on [0, 1] with 100
points, fitted by each bayesreg estimator. The script prints held-out R^2, mean
negative log predictive density (NLPD), mean predictive std and the coverage of
the 90% predictive interval, and draws each predictive band over [-0.25, 1.25]
so the behaviour away from the data is visible: the point estimate (RidgeMAP)
keeps a constant band, the Bayesian models widen it where there is no data.
The Bayesian linear models run with their defaults: noise learned under
Jeffreys' prior, prior scale chosen by the evidence (docs: user guide, "Priors
and defaults").

Run it with ``make demo`` or ``python examples/quickstart.py [output.png]``.
"""

import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from bayesreg import (
    BasisExpansion,
    ConjugateLinearRegression,
    EvidenceSearch,
    PyroBayesianLinear,
    PyroBNNRegressor,
    RidgeMAP,
    predict_dist,
)
from bayesreg.datasets import make_seed_problem, seed_function


def poly(reg, degree=9):
    # Chebyshev features span the same functions as powers 1..degree (with an
    # intercept) but are far better conditioned, which SVI needs to converge.
    return make_pipeline(BasisExpansion(kind="chebyshev", degree=degree), reg)


MODELS = {
    "RidgeMAP (degree 9)": poly(RidgeMAP(alpha=1e-3)),
    "ConjugateLinearRegression (degree 9)": poly(ConjugateLinearRegression()),
    "Conjugate, evidence-selected degree": EvidenceSearch(
        poly(ConjugateLinearRegression()),
        {"basisexpansion__degree": range(1, 16)},
    ),
    "PyroBayesianLinear, SVI (degree 9)": poly(
        PyroBayesianLinear(inference="svi", random_state=0)
    ),
    "PyroBNNRegressor (defaults: 50 relu units)": PyroBNNRegressor(random_state=0),
}


def main(path: str = "quickstart.png") -> None:
    X, y = make_seed_problem(100, random_state=0)
    X_test, y_test = make_seed_problem(1000, sampling="uniform", random_state=1)
    grid = np.linspace(-0.25, 1.25, 300)[:, None]

    rows = []
    fig, axes = plt.subplots(
        1, len(MODELS), figsize=(4 * len(MODELS), 3.4), sharey=True
    )
    for ax, (name, model) in zip(axes, MODELS.items(), strict=True):
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        dist = predict_dist(model, X_test)
        lo, hi = dist.interval(0.9).T
        rows.append(
            (
                name,
                model.score(X_test, y_test),
                -np.mean(dist.logpdf(y_test)),
                np.mean(dist.std),
                np.mean((lo <= y_test) & (y_test <= hi)),
                seconds,
            )
        )
        band = predict_dist(model, grid)
        g_lo, g_hi = band.interval(0.9).T
        ax.fill_between(grid[:, 0], g_lo, g_hi, alpha=0.3, label="90% predictive")
        ax.plot(grid[:, 0], band.mean, lw=2, label="predictive mean")
        ax.plot(grid[:, 0], seed_function(grid[:, 0]), "k--", lw=1, label="truth")
        ax.scatter(X[:, 0], y, s=6, c="k", alpha=0.6, label="training data")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(-2.5, 2.5)
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)

    columns = ("R^2", "NLPD", "mean std", "cov90", "fit s")
    header = f"{'model':<44}" + "".join(f"{c:>9}" for c in columns)
    print(header)
    print("-" * len(header))
    for name, r2, nlpd, std, cov, sec in rows:
        print(f"{name:<44}{r2:9.3f}{nlpd:9.3f}{std:9.3f}{cov:9.2f}{sec:9.2f}")
    print(f"\nHeld-out: 1000 uniform points on [0, 1]. Figure written to {path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
