"""
==============================================================
Pyro's SVI and NUTS against the exact posterior
==============================================================

For a linear model with Gaussian noise of known scale the posterior is
Gaussian and :class:`~bayesreg.ConjugateLinearRegression` computes it
exactly. :class:`~bayesreg.PyroBayesianLinear` fits *the same model*, with
the same parameters in the same units, with Pyro: either by stochastic
variational inference with a Gaussian autoguide (``inference="svi"``) or by
the No-U-Turn sampler (``inference="nuts"``). Neither needs conjugacy, which
is what makes them useful beyond this model; here the closed form tells how
close they get.

The data are the seed problem :math:`y = x \\sin(10 x) + \\epsilon` (100
points, noise std 0.1) with Chebyshev features up to degree 6, a
:math:`\\mathcal{N}(0, 1)` prior on each of the six weights, a flat prior on
the intercept and the noise std fixed at its true value in all three models.
"""

# %%
# Three fits of one model
# -----------------------
# Both Pyro fits work in decorrelated coordinates: the weights of the
# standardised features are rotated by the SVD of the design (whitened by
# the prior), in which prior and likelihood are both diagonal, and the
# likelihood is written on the sufficient statistics. The default diagonal
# guide is then exact given the noise, and SVI (with its default settings,
# started at the closed-form mode) only has to learn the spreads; it stops
# when the ELBO stops improving. NUTS runs two short chains (100 adaptation
# steps and 200 draws each), enough for six weights and an intercept; its
# diagnostics (split :math:`\hat R`, effective sample size, divergences) are
# in ``diagnostics_``.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from bayesreg import (
    BasisExpansion,
    ConjugateLinearRegression,
    PyroBayesianLinear,
    predict_dist,
)
from bayesreg.datasets import make_seed_problem

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
prior_std, noise_std = 1.0, 0.1

models = {
    "exact": make_pipeline(
        BasisExpansion(kind="chebyshev", degree=6),
        ConjugateLinearRegression(prior_std=prior_std, noise_std=noise_std),
    ),
    "SVI": make_pipeline(
        BasisExpansion(kind="chebyshev", degree=6),
        PyroBayesianLinear(
            inference="svi",
            prior_std=prior_std,
            noise_std=noise_std,
            random_state=0,
        ),
    ),
    "NUTS": make_pipeline(
        BasisExpansion(kind="chebyshev", degree=6),
        PyroBayesianLinear(
            inference="nuts",
            prior_std=prior_std,
            noise_std=noise_std,
            n_warmup=100,
            n_draws=200,
            n_chains=2,
            random_state=0,
        ),
    ),
}
# sphinx_gallery_start_ignore
# Tiny runs for the test suite (BAYESREG_EXAMPLES_QUICK=1).
import os

if os.environ.get("BAYESREG_EXAMPLES_QUICK"):
    models["SVI"].set_params(pyrobayesianlinear__max_iter=30)
    models["NUTS"].set_params(
        pyrobayesianlinear__n_warmup=30,
        pyrobayesianlinear__n_draws=40,
        pyrobayesianlinear__n_chains=1,
    )
# sphinx_gallery_end_ignore

seconds = {}
for name, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Short runs may warn about convergence; the comparison below shows
        # how far from the exact answer they are.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds[name] = time.perf_counter() - start

exact, svi, nuts = (models[k][-1] for k in ("exact", "SVI", "NUTS"))
for name, reg in zip(models, (exact, svi, nuts), strict=True):
    std = np.sqrt(np.diag(reg.coef_cov_))
    print(f"{name} ({seconds[name]:.1f} s)")
    print("  posterior mean", np.array2string(reg.coef_, precision=3))
    print("  posterior std ", np.array2string(std, precision=3))
print(f"SVI: {svi.n_iter_} steps")
diag = nuts.diagnostics_
print(
    f"NUTS: max R-hat {diag['max_r_hat']:.3f}, min ESS {diag['min_ess']:.0f}, "
    f"{diag['num_divergences']} divergences"
)

# %%
# The posterior of the weights
# ----------------------------
# Each Pyro estimator draws fresh posterior samples of the weights with
# :meth:`~bayesreg.PyroBayesianLinear.sample_parameters` (from the guide for
# SVI, from the chains for NUTS); the exact marginals are the Normals with
# mean ``coef_`` and covariance ``coef_cov_``. The right panel shows the
# joint posterior of the weights of :math:`T_1` and :math:`T_3`, the most
# correlated pair, with the exact 1, 2 and 3 standard-deviation ellipses.
draws = {
    "SVI": svi.sample_parameters(1000, random_state=0)["coef"],
    "NUTS": nuts.sample_parameters(1000, random_state=0)["coef"],
}
colors = {"exact": "k", "SVI": "C0", "NUTS": "C1"}
names = [f"$T_{k}$" for k in range(1, 7)]

fig, axes = plt.subplot_mosaic(
    [[0, 1, 2, "joint"], [3, 4, 5, "joint"]],
    figsize=(15, 5.5),
    width_ratios=[1, 1, 1, 1.6],
    layout="constrained",
)
for j in range(6):
    ax = axes[j]
    mean, sd = exact.coef_[j], np.sqrt(exact.coef_cov_[j, j])
    grid = np.linspace(mean - 4 * sd, mean + 4 * sd, 200)
    for name, coef in draws.items():
        ax.hist(
            coef[:, j],
            bins=25,
            density=True,
            histtype="step",
            lw=1.5,
            color=colors[name],
            label=name,
        )
    ax.plot(grid, stats.norm.pdf(grid, mean, sd), "k", lw=2, label="exact")
    ax.set(xlabel=f"weight of {names[j]}", yticks=[])
    ax.locator_params(axis="x", nbins=4)
axes[0].legend(fontsize="small")

i, k = 0, 2
mean = exact.coef_[[i, k]]
cov = exact.coef_cov_[np.ix_([i, k], [i, k])]
ax = axes["joint"]
for name, coef in draws.items():
    ax.scatter(
        coef[:400, i], coef[:400, k], s=4, alpha=0.5, color=colors[name], label=name
    )
# The exact ellipses: squared Mahalanobis distance 1, 4 and 9 from the mean.
sd = np.sqrt(np.diag(cov))
W = np.stack(
    np.meshgrid(
        np.linspace(mean[0] - 4 * sd[0], mean[0] + 4 * sd[0], 150),
        np.linspace(mean[1] - 4 * sd[1], mean[1] + 4 * sd[1], 150),
    ),
    axis=-1,
)
d = W - mean
r2 = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
ax.contour(W[..., 0], W[..., 1], r2, levels=[1, 4, 9], colors="k")
ax.set(xlabel=f"weight of {names[i]}", ylabel=f"weight of {names[k]}")
ax.set_title(f"exact correlation {cov[0, 1] / (sd[0] * sd[1]):.2f}")
ax.legend(fontsize="small")

# %%
# The predictive bands
# --------------------
# All three predictives are the same Gaussian noise added to a distribution
# of regression functions. The regression function is linear in the
# weights, so SVI's predictive is exact for its Gaussian guide (a Normal, with
# known noise); NUTS's is a mixture over 200 posterior draws. The left panel
# overlays the three 95% intervals, the right one their epistemic standard
# deviations, the only part in which they can differ: they agree on
# :math:`[0, 1]` and beyond it, where the uncertainty of the highest-degree
# terms dominates (note the logarithmic scale). The small wiggles of the NUTS
# curve are the Monte Carlo error of 200 draws.
x_grid = np.linspace(-0.1, 1.1, 200)[:, None]
fig, (ax_band, ax_std) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
ax_band.scatter(X, y, s=6, c="k", label="data")
for name, model in models.items():
    dist = predict_dist(model, x_grid)
    lo, hi = dist.interval(0.95).T
    style = {"color": colors[name], "lw": 2 if name == "exact" else 1.2}
    ax_band.plot(x_grid, dist.mean, label=f"{name} mean", **style)
    ax_band.plot(x_grid, lo, ls="--", **style)
    ax_band.plot(x_grid, hi, ls="--", **style)
    ax_std.plot(x_grid, dist.epistemic_std, label=name, **style)
ax_band.set(
    xlabel="x", ylabel="y", ylim=(-1.5, 1.5), title="means and 95% predictive intervals"
)
ax_band.legend(fontsize="small", loc="lower left")
ax_std.set(xlabel="x", ylabel="epistemic std", yscale="log", title="model uncertainty")
ax_std.legend(fontsize="small")

plt.show()
