"""
==========================================================
Choosing the basis by the evidence instead of by CV
==========================================================

How many basis functions, and which family? Cross-validation answers by
refitting the model on parts of the data and scoring the rest. A Bayesian
model offers a second answer from a single fit on all the data: the
*evidence* (marginal likelihood), the probability of the observed targets
under the model with its weights integrated out,

.. math::

    p(y \\mid X, \\mathcal{M})
    = \\int p(y \\mid X, w, \\mathcal{M}) \\, p(w \\mid \\mathcal{M}) \\, dw .

A model too simple to explain the data gives them a low probability; a model
too flexible spreads its prior probability over many data sets it could have
explained, and so gives the observed one a low probability too (the *Occam
factor*). :class:`~bayesreg.EvidenceSearch` fits every candidate once and
keeps the one of highest ``log_marginal_likelihood_``; here it is compared
with :class:`~sklearn.model_selection.GridSearchCV` scored by the negative
log predictive density (NLPD) through
:data:`~bayesreg.metrics.neg_nlpd_scorer`.
"""

# %%
# Candidates: two families of basis, degrees 1 to 12
# ---------------------------------------------------
# The seed problem :math:`y = x \sin(10 x) + \epsilon` (100 points, noise std
# 0.1), polynomial or sinusoidal features, and
# :class:`~bayesreg.ConjugateLinearRegression` with
# ``fit_hyperparameters=True``: for each candidate the prior scale and the
# noise std are set by maximising that candidate's evidence (empirical
# Bayes). Both searches see the same 24 candidates; 2,000 fresh points give
# an independent check.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from bayesreg import (
    BasisExpansion,
    ConjugateLinearRegression,
    EvidenceSearch,
    predict_dist,
)
from bayesreg.datasets import make_seed_problem, seed_function
from bayesreg.metrics import mean_nlpd, neg_nlpd_scorer
from bayesreg.plotting import PredictiveBandDisplay

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
X_test, y_test = make_seed_problem(
    2000, noise_std=0.1, sampling="uniform", random_state=1
)
model = make_pipeline(
    BasisExpansion(), ConjugateLinearRegression(fit_hyperparameters=True)
)
kinds = ["polynomial", "sinusoidal"]
degrees = list(range(1, 13))
param_grid = {"basisexpansion__kind": kinds, "basisexpansion__degree": degrees}

# %%
# Both searches
# -------------
start = time.perf_counter()
evidence = EvidenceSearch(model, param_grid).fit(X, y)
t_evidence = time.perf_counter() - start

start = time.perf_counter()
cv = GridSearchCV(
    model,
    param_grid,
    cv=KFold(5, shuffle=True, random_state=0),
    scoring=neg_nlpd_scorer,
).fit(X, y)
t_cv = time.perf_counter() - start


def describe(params):
    return (
        f"{params['basisexpansion__kind']}, degree {params['basisexpansion__degree']}"
    )


n_candidates = len(kinds) * len(degrees)
print(f"{'search':<16} {'choice':<24} {'held-out NLPD':>13} {'fits':>5} {'time':>7}")
for name, search, seconds, fits in [
    ("EvidenceSearch", evidence, t_evidence, n_candidates),
    ("GridSearchCV", cv, t_cv, 5 * n_candidates + 1),
]:
    nlpd = mean_nlpd(y_test, predict_dist(search, X_test))
    print(
        f"{name:<16} {describe(search.best_params_):<24} {nlpd:13.3f} "
        f"{fits:5d} {seconds:6.2f}s"
    )

# %%
# The scores against the degree
# -----------------------------
# ``cv_results_`` of both searches loads into one table per family. For each
# candidate the figure also shows the NLPD on the 2,000 fresh points after a
# fit on all 100 (lower is better), which neither search could see.
#
# The log evidence rises steeply while the features learn the shape, then
# falls slowly: each extra degree spreads the prior over more functions that
# the data do not need. The cross-validated NLPD traces the held-out one but
# is noisier, as five folds of 20 points make it. Both prefer the sinusoidal
# family at low degree, which matches :math:`x \sin(10 x)` with a few
# harmonics.
params = evidence.cv_results_["params"]
fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
for kind, marker in zip(kinds, "os", strict=True):
    rows = [i for i, p in enumerate(params) if p["basisexpansion__kind"] == kind]
    axes[0].plot(
        degrees,
        evidence.cv_results_["log_marginal_likelihood"][rows],
        marker=marker,
        label=kind,
    )
    cv_rows = [
        i
        for i, p in enumerate(cv.cv_results_["params"])
        if p["basisexpansion__kind"] == kind
    ]
    axes[1].plot(
        degrees, -cv.cv_results_["mean_test_score"][cv_rows], marker=marker, label=kind
    )
    held_out = [
        mean_nlpd(
            y_test, predict_dist(clone(model).set_params(**params[i]).fit(X, y), X_test)
        )
        for i in rows
    ]
    axes[2].plot(degrees, held_out, marker=marker, label=kind)
axes[0].set(ylabel="log evidence", title="EvidenceSearch (higher is better)")
axes[1].set(ylabel="mean NLPD", title="5-fold CV NLPD (lower is better)")
axes[2].set(ylabel="mean NLPD", title="NLPD on 2,000 fresh points")
for ax in axes:
    ax.set_xlabel("degree")
    ax.legend()
axes[0].set_ylim(bottom=evidence.best_score_ - 150)
for ax in axes[1:]:
    ax.set_ylim(-1.0, 0.0)

# %%
# The two chosen models
# ---------------------
# Both fitted searches are estimators in their own right; the predictive band
# display looks through them to the best pipeline.
x_grid = np.linspace(-0.1, 1.1, 300)[:, None]
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True, layout="constrained")
for ax, (name, search) in zip(
    axes, [("EvidenceSearch", evidence), ("GridSearchCV", cv)], strict=True
):
    PredictiveBandDisplay.from_estimator(
        search,
        X,
        y,
        x_grid=x_grid,
        coverage=(0.5, 0.95),
        ax=ax,
        name=describe(search.best_params_),
        data_kw={"s": 6},
    )
    ax.plot(x_grid, seed_function(x_grid), "k--", lw=1, label="x sin(10 x)")
    ax.set(ylim=(-1.5, 1.5), title=f"{name}: {describe(search.best_params_)}")
    ax.legend(loc="lower left", fontsize="small")

plt.show()
