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
the negative ELBO per training row after every step in ``loss_curve_``;
:class:`~bayesreg.plotting.LossCurveDisplay` plots it. The curve is the first
thing to look at after an SVI fit: it tells whether the optimiser had
settled when it stopped, and the predictive band shows what a fit that had
not settled looks like. The default model of
:class:`~bayesreg.PyroBayesianLinear` is that of
:class:`~bayesreg.ConjugateLinearRegression`, so here the exact posterior of
the very same model is there to compare with.
"""

# %%
# Three fits of the same model
# ----------------------------
# Bayesian regression on Chebyshev features of degree 8 for the seed problem
# (100 points, noise std 0.1), with the default model: the noise std learned
# under Jeffreys' prior and the prior scale chosen by the evidence (see
# :ref:`priors`). Three runs differ only in how they optimise:
#
# * ``max_iter=15``: stopped after 15 steps, long before convergence (the
#   estimator warns with a :class:`~sklearn.exceptions.ConvergenceWarning`);
# * ``learning_rate="constant"``: a fixed step size, stopped at the first
#   plateau of the smoothed loss;
# * the default ``learning_rate="adaptive"``: at each plateau the step size
#   drops by a factor of 5 (three times), and the iterates of the last phase
#   are averaged, which removes the optimiser's jitter from the posterior.
#
# ``ConjugateLinearRegression()`` on the same features computes the exact
# posterior of the same model: the yardstick. The last column compares the
# model uncertainty, the epistemic std of the regression function, with the
# exact one (its mean ratio over :math:`x \in [-0.05, 1.05]`).
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
    "stopped after 15 steps": chebyshev(
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

exact = chebyshev(ConjugateLinearRegression()).fit(X, y)
x_grid = np.linspace(-0.05, 1.05, 300)[:, None]
exact_epistemic = predict_dist(exact, x_grid).epistemic_std

print(
    f"\n{'':<30} {'steps':>5} {'noise std':>9} {'held-out NLPD':>13} "
    f"{'epistemic / exact':>17}"
)
for name, run in runs.items():
    ratio = np.mean(predict_dist(run, x_grid).epistemic_std / exact_epistemic)
    print(
        f"{name:<30} {run[-1].n_iter_:5d} {run[-1].noise_std_:9.3f} "
        f"{mean_nlpd(y_test, predict_dist(run, X_test)):13.3f} {ratio:17.2f}"
    )
print(
    f"{'exact':<30} {'':>5} {exact[-1].noise_std_:9.3f} "
    f"{mean_nlpd(y_test, predict_dist(exact, X_test)):13.3f} {1:17.2f}"
)

# %%
# The loss curves
# ---------------
# The three curves coincide at first (same seed, same start). SVI starts at
# the closed-form mode of the weights given the noise, so the means are right
# from the first step and the curve falls only while the guide learns the
# spreads of the weights and of the noise. The run stopped after 15 steps
# ends while the loss is still falling: its variational posterior is still
# close to where it started. The zoom on the right shows the end of the two
# other runs: the constant step size stops at the first plateau; the adaptive
# schedule goes on with smaller and smaller steps, and the loss keeps falling
# slowly (the noise of the curve is that of the stochastic ELBO estimate,
# ``n_particles=128`` draws per step). A dot marks the end of each run.
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
first = max(run[-1].loss_curve_[0] for run in runs.values())
axes[0].set(ylim=(final - 0.005, first + 0.01), title="negative ELBO per row")
axes[1].set(
    xlim=(40, None), ylim=(final - 0.002, final + 0.006), title="zoom on the end"
)

# %%
# What the predictive looks like
# ------------------------------
# The under-trained run has its mean and its noise level about right, but
# the spreads of its weights have not yet grown to the posterior's: its model
# uncertainty is about three quarters of the exact one, so it is
# over-confident where that uncertainty dominates, at the ends of the
# interval and beyond. The converged runs and the exact posterior are hard to
# tell apart (right panel: each run's epistemic std divided by the exact
# one).
panels = [
    ("stopped after 15 steps", runs["stopped after 15 steps"]),
    ("adaptive step size (default)", runs["adaptive step size (default)"]),
    ("exact", exact),
]
fig, axes = plt.subplots(1, 4, figsize=(18, 4), layout="constrained")
for ax, (name, model) in zip(axes[:3], panels, strict=True):
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
for color, (name, run) in zip(["C3", "C1", "C0"], runs.items(), strict=True):
    ratio = predict_dist(run, x_grid).epistemic_std / exact_epistemic
    axes[3].plot(x_grid, ratio, color=color, label=name)
axes[3].axhline(1.0, color="k", ls="--", lw=1, label="exact")
axes[3].set(
    xlabel="x", ylabel="epistemic std / exact", ylim=(0.5, 1.2), title="vs exact"
)
axes[3].legend(loc="lower left", fontsize="small")

plt.show()
