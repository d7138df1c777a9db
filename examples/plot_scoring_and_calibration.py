"""
=========================================================
Scoring and checking predictive uncertainty
=========================================================

A Bayesian regressor predicts a distribution, not a number, and the
distribution should be judged as a whole. Two tools do that:

* *proper scoring rules* reward a predictive distribution for putting high
  probability where the observations fall: the negative log predictive
  density :math:`\\mathrm{NLPD} = -\\frac{1}{n}\\sum_i \\log p(y_i \\mid x_i)`
  and the continuous ranked probability score (CRPS). They can drive model
  selection in :class:`~sklearn.model_selection.GridSearchCV`, whose default
  :math:`R^2` looks only at the mean;
* *calibration* plots check that the stated probabilities are honest: a
  central 90% interval should contain 90% of new observations.
"""

# %%
# Tuning the basis by predictive density
# --------------------------------------
# The seed problem :math:`y = x \sin(10 x) + \epsilon` with 100 points and
# noise std 0.1, and a polynomial basis of unknown degree under
# :class:`~bayesreg.ConjugateLinearRegression` with empirical Bayes. The
# scorers of :mod:`bayesreg.metrics` are plain ``(estimator, X, y)``
# callables, so stock ``GridSearchCV`` takes them, several at once; they look
# through the pipeline to the exact predictive distribution.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression
from bayesreg.datasets import make_seed_problem
from bayesreg.metrics import get_scorer, neg_crps_scorer, neg_nlpd_scorer
from bayesreg.plotting import PITDisplay, ReliabilityDisplay

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
X_test, y_test = make_seed_problem(
    1000, noise_std=0.1, sampling="uniform", random_state=1
)
cv = KFold(5, shuffle=True, random_state=0)

search = GridSearchCV(
    make_pipeline(
        BasisExpansion(), ConjugateLinearRegression(fit_hyperparameters=True)
    ),
    {"basisexpansion__degree": [1, 2, 3, 4, 6, 8, 10, 12]},
    scoring={"nlpd": neg_nlpd_scorer, "crps": neg_crps_scorer, "r2": "r2"},
    refit="nlpd",
    cv=cv,
).fit(X, y)
table = pd.DataFrame(
    {
        "degree": search.cv_results_["param_basisexpansion__degree"],
        "NLPD": -search.cv_results_["mean_test_nlpd"],
        "CRPS": -search.cv_results_["mean_test_crps"],
        "R^2": search.cv_results_["mean_test_r2"],
    }
)
print(table.round(3).to_string(index=False))
best_degree = search.best_params_["basisexpansion__degree"]
print("degree chosen by NLPD:", best_degree)

# %%
# Three predictive distributions with the same mean
# -------------------------------------------------
# To see what calibration plots reveal, take the chosen degree and fix the
# noise std instead of learning it: at 0.03 the model is *over-confident*
# (its intervals are too narrow), at 0.3 *under-confident* (too wide). A wide
# prior keeps all three means close; only the spread differs.
models = {
    "learned noise": search.best_estimator_,
    "noise fixed at 0.03": make_pipeline(
        BasisExpansion(degree=best_degree),
        ConjugateLinearRegression(noise_std=0.03, prior_std=10.0),
    ).fit(X, y),
    "noise fixed at 0.3": make_pipeline(
        BasisExpansion(degree=best_degree),
        ConjugateLinearRegression(noise_std=0.3, prior_std=10.0),
    ).fit(X, y),
}

# %%
# Reliability diagram
# -------------------
# For each nominal level :math:`p` the reliability diagram plots the fraction
# of held-out observations inside the central :math:`p` interval. A
# calibrated model follows the diagonal; an over-confident one falls below
# it, an under-confident one lies above. The legend gives the mean absolute
# gap, :func:`~bayesreg.metrics.calibration_error`. All three curves come
# from one set of axes passed to
# :meth:`ReliabilityDisplay.from_estimator
# <bayesreg.plotting.ReliabilityDisplay.from_estimator>` three times.
fig, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
for name, model in models.items():
    ReliabilityDisplay.from_estimator(model, X_test, y_test, ax=ax, name=name)
ax.set_title("reliability diagram on 1,000 held-out points")

# %%
# PIT histograms
# --------------
# The probability integral transform :math:`u_i = F_i(y_i)`, the predictive
# CDF at the observation, is uniform on :math:`[0, 1]` for a calibrated
# model. Over-confidence piles the :math:`u_i` up at both ends (a U shape):
# observations fall in the tails more often than the model expects.
# Under-confidence piles them in the middle (a hump).
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), sharey=True, layout="constrained")
for i, (ax, (name, model)) in enumerate(zip(axes, models.items(), strict=True)):
    PITDisplay.from_estimator(
        model,
        X_test,
        y_test,
        ax=ax,
        n_bins=10,
        name=name,
        hist_kw={"color": f"C{i}"},
    )
    ax.set(title=f"PIT: {name}", ylim=(0, 3.2))

# %%
# Several scores at once
# ----------------------
# ``cross_validate`` with a dict of scorers reports the three models side by
# side. Signs are flipped back so that each column is a loss (lower is
# better), except the observed coverage of the 90% interval, which should be
# close to 0.9. The over-confident model is punished heavily by the NLPD (the
# log density of observations in its thin tails is very low) and less by the
# CRPS, which grows only linearly with the miss; the interval score adds the
# width of the interval to a penalty for each observation outside it.
scoring = {
    "NLPD": neg_nlpd_scorer,
    "CRPS": neg_crps_scorer,
    "interval score (90%)": get_scorer("neg_interval_score", coverage=0.9),
    "coverage (90%)": get_scorer("interval_coverage", coverage=0.9),
    "calibration error": get_scorer("neg_calibration_error"),
}
rows = {}
for name, model in models.items():
    result = cross_validate(model, X, y, cv=cv, scoring=scoring)
    rows[name] = {
        key: result[f"test_{key}"].mean() * (1 if key.startswith("coverage") else -1)
        for key in scoring
    }
print(pd.DataFrame(rows).T.round(3).to_string())

plt.show()
