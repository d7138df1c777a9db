"""
==============================================================
Watching a variational fit: the ELBO curve and its predictive
==============================================================

Stochastic variational inference (SVI) replaces the posterior by the member
:math:`q` of a family of distributions (here Gaussians over the weights and
the log noise std) that maximises the evidence lower bound

.. math::

    \\mathrm{ELBO}(q) = \\mathbb{E}_{q(w)}\\left[\\log p(y \\mid X, w)\\right]
    - \\mathrm{KL}\\left(q(w) \\,\\|\\, p(w)\\right)
    \\le \\log p(y \\mid X),

by stochastic gradient steps. :class:`~bayesreg.PyroBayesianLinear` records
the negative ELBO per training row after every epoch in ``loss_curve_``;
:class:`~bayesreg.plotting.LossCurveDisplay` plots it. The curve is the first
thing to look at after an SVI fit: it tells whether the optimiser had
settled when it stopped, and the predictive band shows what a fit that had
not settled looks like.
"""

# %%
# Three fits of the same model
# ----------------------------
# Bayesian regression on Chebyshev features of degree 8 for the seed problem
# (100 points, noise std 0.1), with the noise std learned. Three runs differ
# only in how they optimise:
#
# * ``max_iter=15``: stopped long before convergence (the estimator warns
#   with a :class:`~sklearn.exceptions.ConvergenceWarning`);
# * ``learning_rate="constant"``: a fixed step size, stopped at the first
#   plateau of the smoothed loss;
# * the default ``learning_rate="adaptive"``: at each plateau the step size
#   drops by a factor of 5 (three times), and the iterates of the last phase
#   are averaged, which removes the optimiser's jitter from the posterior.
#
# An exact conjugate model on the same features, with its prior scale and
# noise std set by maximising the evidence, serves as a reference (its prior
# differs slightly, so it is a yardstick rather than the same posterior).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression, PyroBayesianLinear
from bayesreg.datasets import make_seed_problem, seed_function
from bayesreg.metrics import mean_nlpd, predict_dist
from bayesreg.plotting import LossCurveDisplay, PredictiveBandDisplay

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
X_test, y_test = make_seed_problem(
    1000, noise_std=0.1, sampling="uniform", random_state=1
)


def chebyshev(regressor):
    return make_pipeline(BasisExpansion(kind="chebyshev", degree=8), regressor)


runs = {
    "stopped after 15 epochs": chebyshev(
        PyroBayesianLinear(max_iter=15, random_state=0)
    ),
    "constant step size": chebyshev(
        PyroBayesianLinear(learning_rate="constant", random_state=0)
    ),
    "adaptive step size (default)": chebyshev(PyroBayesianLinear(random_state=0)),
}
# sphinx_gallery_start_ignore
# Smaller runs for the test suite (BAYESREG_EXAMPLES_QUICK=1).
import os

if os.environ.get("BAYESREG_EXAMPLES_QUICK"):
    for run in list(runs.values())[1:]:
        run.set_params(pyrobayesianlinear__max_iter=40)
# sphinx_gallery_end_ignore
for name, run in runs.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        run.fit(X, y)
    for w in caught:
        print(f"{name}: {w.category.__name__}: {w.message}")

exact = chebyshev(ConjugateLinearRegression(fit_hyperparameters=True)).fit(X, y)

print(f"\n{'':<30} {'epochs':>6} {'noise std':>9} {'held-out NLPD':>13}")
for name, model in [*runs.items(), ("exact (empirical Bayes)", exact)]:
    dist = predict_dist(model, X_test)
    reg = model[-1]
    print(
        f"{name:<30} {getattr(reg, 'n_iter_', 1):6d} {reg.noise_std_:9.3f} "
        f"{mean_nlpd(y_test, dist):13.3f}"
    )

# %%
# The loss curves
# ---------------
# The three curves coincide at first (same seed, same start). The run stopped
# after 15 epochs ends while the loss is still falling steeply: its
# variational posterior is still close to where it started. The zoom on the
# right shows the end of the two other runs: the constant step size stops at
# the first plateau; the adaptive schedule goes on with smaller and smaller
# steps, and the loss keeps falling slowly (the noise of the curve is that of
# the stochastic ELBO estimate, 32 draws per step). A dot marks the end of
# each run.
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
# Longest run first, so that the shorter ones are drawn on top of it.
for color, (name, run) in reversed(
    list(zip(["C3", "C1", "C0"], runs.items(), strict=True))
):
    loss = run[-1].loss_curve_
    for ax in axes:
        LossCurveDisplay.from_estimator(
            run, ax=ax, name=name, line_kw={"color": color, "linewidth": 1.2}
        )
        ax.plot(len(loss), loss[-1], "o", color=color)  # where the run stopped
final = min(min(run[-1].loss_curve_) for run in runs.values())
axes[0].set(ylim=(final - 0.2, final + 2.0), title="negative ELBO per row")
axes[1].set(
    xlim=(40, None), ylim=(final - 0.002, final + 0.02), title="zoom on the end"
)

# %%
# What the predictive looks like
# ------------------------------
# The under-trained run has not yet learned the noise level (its noise std is
# about twice the truth), so its band is much too wide; its mean is already
# close. The converged run and the exact posterior are hard to tell apart.
x_grid = np.linspace(-0.05, 1.05, 300)[:, None]
panels = [
    ("stopped after 15 epochs", runs["stopped after 15 epochs"]),
    ("adaptive step size (default)", runs["adaptive step size (default)"]),
    ("exact (empirical Bayes)", exact),
]
fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharey=True, layout="constrained")
for ax, (name, model) in zip(axes, panels, strict=True):
    PredictiveBandDisplay.from_estimator(
        model,
        X,
        y,
        x_grid=x_grid,
        coverage=(0.5, 0.95),
        n_draws=8,
        random_state=0,
        ax=ax,
        name=name,
        legend=False,
        data_kw={"s": 6},
    )
    ax.plot(x_grid, seed_function(x_grid), "k--", lw=1, label="x sin(10 x)")
    ax.set(title=name, ylim=(-1.5, 1.5))
axes[0].legend(loc="lower left", fontsize="small")

plt.show()
