"""
=========================================================
Scoring, tuning and checking predictive uncertainty
=========================================================

A Bayesian regressor predicts a distribution, not a number. This example
tunes the degree of a polynomial basis for the seed problem
``y = x sin(10 x) + noise`` with a *proper scoring rule* instead of the
R^2 that ``GridSearchCV`` uses by default, then looks at the result:

1. functions drawn from the prior of a Bayesian line, and from its posterior
   after two observations (the seed notebook's first figures);
2. the tuned model's predictive band with posterior function draws;
3. a reliability diagram and PIT histograms that tell a calibrated model
   from an over-confident one;
4. a table of scores from ``cross_validate``.

Run it as ``python plot_scoring_and_calibration.py [output_dir]``; the
figures are written as PNG files to ``output_dir`` (default: the working
directory).
"""

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from bayesreg import BasisExpansion, ConjugateLinearRegression
from bayesreg.datasets import make_seed_problem
from bayesreg.metrics import get_scorer, neg_crps_scorer, neg_nlpd_scorer
from bayesreg.plotting import PITDisplay, PredictiveBandDisplay, ReliabilityDisplay

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
out_dir.mkdir(parents=True, exist_ok=True)


def with_bias(X):
    """Prepend a column of ones, so the prior covers the intercept too."""
    return np.column_stack([np.ones(len(X)), X])


# %%
# Prior and posterior of a Bayesian line
# --------------------------------------
# Coefficients with a Normal(0, 5^2) prior, intercept included. Unfitted, the
# estimator draws from its prior; after two noisy observations (noise std 1)
# the functions are pinned down near the data and fan out away from it.
line = make_pipeline(
    FunctionTransformer(with_bias),
    ConjugateLinearRegression(prior_std=5.0, noise_std=1.0, fit_intercept=False),
)
x_plot = np.linspace(-5, 5, 100)[:, None]
X_two, y_two = np.array([[2.0], [-2.0]]), np.array([0.0, -2.0])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
PredictiveBandDisplay.from_estimator(
    line, x_plot, n_draws=30, random_state=0, ax=axes[0], name="prior"
)
axes[0].set_title("before the data: the prior")
line.fit(X_two, y_two)
PredictiveBandDisplay.from_estimator(
    line, x_plot, n_draws=30, random_state=0, ax=axes[1], name="posterior"
)
axes[1].errorbar(X_two[:, 0], y_two, yerr=2.0, fmt="ko", label="data +- 2 noise std")
axes[1].legend(fontsize="small")
axes[1].set_title("after two observations: the posterior")
fig.savefig(out_dir / "prior_posterior_lines.png", dpi=100)

# %%
# Tuning the basis degree by predictive density
# ---------------------------------------------
# ``neg_nlpd_scorer`` is a plain ``(estimator, X, y)`` callable, so stock
# ``GridSearchCV`` accepts it; it looks through the Pipeline to the
# conjugate model's exact Student-t / Normal predictive.
X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
pipe = Pipeline(
    [
        ("basis", BasisExpansion()),
        ("reg", ConjugateLinearRegression(fit_hyperparameters=True)),
    ]
)
search = GridSearchCV(
    pipe,
    {"basis__degree": [1, 2, 3, 4, 6, 8, 10, 12]},
    scoring={"nlpd": neg_nlpd_scorer, "crps": neg_crps_scorer, "r2": "r2"},
    refit="nlpd",
    cv=KFold(5, shuffle=True, random_state=0),
).fit(X, y)
table = pd.DataFrame(search.cv_results_)[
    ["param_basis__degree", "mean_test_nlpd", "mean_test_crps", "mean_test_r2"]
]
print(table.round(3).to_string(index=False))
print("best degree:", search.best_params_["basis__degree"])

# %%
# The tuned predictive band, with functions from the posterior
# -------------------------------------------------------------
disp = PredictiveBandDisplay.from_estimator(
    search,
    X,
    y,
    coverage=(0.5, 0.95),
    extend=0.05,
    n_draws=15,
    random_state=0,
    name=f"degree {search.best_params_['basis__degree']}",
)
disp.ax_.plot(disp.x, disp.x * np.sin(10 * disp.x), "k--", lw=1, label="truth")
disp.ax_.set_ylim(-1.5, 1.5)
disp.ax_.legend(fontsize="small", loc="lower left")
disp.ax_.set_title("posterior predictive of the tuned model (it widens off the data)")
disp.figure_.set_size_inches(7, 4)
disp.figure_.savefig(out_dir / "predictive_band.png", dpi=100)

# %%
# Calibration on held-out data
# ----------------------------
# A model whose noise std is fixed far too low (0.03 instead of 0.1) has the
# same mean but intervals that are too narrow: its reliability curve falls
# below the diagonal and its PIT histogram is U-shaped.
best_degree = search.best_params_["basis__degree"]
models = {
    "learned noise": search.best_estimator_,
    "noise fixed at 0.03": Pipeline(
        [
            ("basis", BasisExpansion(degree=best_degree)),
            ("reg", ConjugateLinearRegression(noise_std=0.03, prior_std=10.0)),
        ]
    ).fit(X, y),
}
X_test, y_test = make_seed_problem(
    1000, noise_std=0.1, sampling="uniform", random_state=1
)

fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
for model_name, model in models.items():
    ReliabilityDisplay.from_estimator(
        model, X_test, y_test, ax=axes[0], name=model_name
    )
axes[0].set_title("reliability diagram")
for ax, (model_name, model) in zip(axes[1:], models.items(), strict=True):
    PITDisplay.from_estimator(model, X_test, y_test, ax=ax, n_bins=10, name=model_name)
    ax.set_title(f"PIT histogram: {model_name}")
fig.savefig(out_dir / "calibration.png", dpi=100)

# %%
# Several scores at once with cross_validate
# ------------------------------------------
scoring = {
    "NLPD": neg_nlpd_scorer,
    "CRPS": neg_crps_scorer,
    "interval score 90%": get_scorer("neg_interval_score", coverage=0.9),
    "coverage 90%": get_scorer("interval_coverage", coverage=0.9),
    "calibration error": get_scorer("neg_calibration_error"),
}
rows = {}
for model_name, model in models.items():
    res = cross_validate(
        model, X, y, cv=KFold(5, shuffle=True, random_state=0), scoring=scoring
    )
    rows[model_name] = {k: res[f"test_{k}"].mean() for k in scoring}
print(pd.DataFrame(rows).T.round(3).to_string())
