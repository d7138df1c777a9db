"""
=========================================================
Ridge regression is the posterior mode, and nothing more
=========================================================

With a Gaussian likelihood (noise variance :math:`\\sigma^2`) and a
zero-mean Gaussian prior (variance :math:`\\tau^2`) on each weight, the
log posterior is, up to a constant,

.. math::

    -\\frac{1}{2\\sigma^2} \\lVert y - \\Phi w \\rVert^2
    - \\frac{1}{2\\tau^2} \\lVert w \\rVert^2 ,

so its maximiser, the MAP estimate, is ridge regression with penalty
:math:`\\alpha = \\sigma^2 / \\tau^2`:
:math:`\\hat w = (\\Phi^\\top \\Phi + \\alpha I)^{-1} \\Phi^\\top y`. The
posterior is Gaussian, so its mode is also its mean: the predictive mean of
:class:`~bayesreg.ConjugateLinearRegression` and the prediction of
:class:`~bayesreg.RidgeMAP` coincide exactly. What the point estimate throws
away is the posterior's *spread*. This example shows where that matters: in a
gap in the data and beyond its ends.
"""

# %%
# Data with a gap
# ---------------
# The seed problem :math:`y = x \sin(10 x) + \epsilon` (noise std 0.1) on 40
# evenly spaced points, of which those in (0.4, 0.7) are removed. Both models
# use the same degree-9 polynomial features, a weak prior (std 30 on every
# weight) and the true noise std, i.e. :math:`\alpha = 0.1^2 / 30^2`; both
# fit an unpenalised intercept.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression, RidgeMAP
from bayesreg.datasets import make_seed_problem, seed_function
from bayesreg.plotting import PredictiveBandDisplay

X, y = make_seed_problem(40, noise_std=0.1, random_state=0)
outside_gap = (X[:, 0] < 0.4) | (X[:, 0] > 0.7)
X, y = X[outside_gap], y[outside_gap]

prior_std, noise_std = 30.0, 0.1
ridge = make_pipeline(
    BasisExpansion(degree=9), RidgeMAP(alpha=noise_std**2 / prior_std**2)
).fit(X, y)
bayes = make_pipeline(
    BasisExpansion(degree=9),
    ConjugateLinearRegression(prior_std=prior_std, noise_std=noise_std),
).fit(X, y)

x_grid = np.linspace(-0.1, 1.1, 300)[:, None]
print(
    "largest difference between the two means:",
    np.abs(ridge.predict(x_grid) - bayes.predict(x_grid)).max(),
)
print(
    "largest difference between the weights:",
    np.abs(ridge[-1].coef_ - bayes[-1].coef_).max(),
)

# %%
# Same mean, different bands
# --------------------------
# :class:`~bayesreg.RidgeMAP` still answers the whole predictive contract,
# with a *plug-in* predictive: Normal around its prediction, with the std
# of its residuals (``residual_std_``: the noise, and the penalty's bias).
# Its band has the same width everywhere, in the gap and far outside the
# data as much as between two training points. The Bayesian band adds the
# posterior uncertainty of the weights,
# which is small where there are data and large in the gap and beyond
# :math:`[0, 1]`.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True, layout="constrained")
for ax, model, name, n_draws in [
    (axes[0], ridge, "RidgeMAP", 0),  # a point estimate has no draws
    (axes[1], bayes, "ConjugateLinearRegression", 8),
]:
    PredictiveBandDisplay.from_estimator(
        model,
        X,
        y,
        x_grid=x_grid,
        coverage=(0.5, 0.95),
        n_draws=n_draws,
        random_state=0,
        ax=ax,
        name=name,
    )
    ax.plot(x_grid, seed_function(x_grid), "k--", lw=1, label="truth")
    ax.axvspan(0.4, 0.7, color="grey", alpha=0.12)
    ax.set(ylim=(-1.5, 1.5), title=name)
    ax.legend(loc="lower left", fontsize="small")

# %%
# The standard deviations side by side
# ------------------------------------
# ``predict_std(X, kind="epistemic")`` is constant for the point estimate:
# it has no uncertainty about the regression function that could vary with
# x; what it reports as epistemic is the systematic error of the penalised
# fit (its residual std beyond the least-squares noise estimate), the same
# everywhere. The Bayesian epistemic std is below 0.05 between the
# training points, about five times larger in the middle of the gap, and
# outside the data it grows as fast as the high powers of the polynomial.
Phi = bayes[0].transform(x_grid)
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
ax.plot(x_grid, bayes[-1].predict_std(Phi), "C0", lw=2, label="Bayes: total")
ax.plot(
    x_grid,
    bayes[-1].predict_std(Phi, kind="epistemic"),
    "C0--",
    label="Bayes: epistemic",
)
ax.plot(x_grid, ridge[-1].predict_std(Phi), "C3", lw=2, label="ridge: total")
ax.plot(
    x_grid,
    ridge[-1].predict_std(Phi, kind="epistemic"),
    "C3--",
    label="ridge: epistemic",
)
ax.axvspan(0.4, 0.7, color="grey", alpha=0.12, label="gap in the data")
ax.set(xlabel="x", ylabel="predictive std", ylim=(0, 0.6))
ax.legend(loc="upper center", fontsize="small", ncol=2)

# %%
# The penalty is the prior
# ------------------------
# Changing the prior std changes the penalty, and the means follow in lock
# step. A tight prior (std 0.3, large :math:`\alpha`) shrinks the curve
# towards the mean of the data and leaves little posterior uncertainty: the
# prior is confident, and wrong. A very wide prior (std 300,
# :math:`\alpha \to 0`) approaches least squares, the maximum-likelihood
# estimate; the ridge mean (dashed) lies on the Bayesian mean (solid) in
# every panel, but only the Bayesian band shows how much the data leave
# undetermined.
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), sharey=True, layout="constrained")
for ax, tau in zip(axes, [0.3, 3.0, 300.0], strict=True):
    alpha = noise_std**2 / tau**2
    bayes_tau = make_pipeline(
        BasisExpansion(degree=9),
        ConjugateLinearRegression(prior_std=tau, noise_std=noise_std),
    ).fit(X, y)
    ridge_tau = make_pipeline(BasisExpansion(degree=9), RidgeMAP(alpha=alpha))
    ridge_tau.fit(X, y)
    PredictiveBandDisplay.from_estimator(
        bayes_tau, X, y, x_grid=x_grid, ax=ax, name="Bayes", legend=False
    )
    ax.plot(x_grid, ridge_tau.predict(x_grid), "C3--", lw=1.5, label="ridge mean")
    ax.axvspan(0.4, 0.7, color="grey", alpha=0.12)
    ax.set(ylim=(-1.5, 1.5), title=f"prior std {tau:g}, alpha = {alpha:.2g}")
axes[0].legend(loc="lower left", fontsize="small")

plt.show()
