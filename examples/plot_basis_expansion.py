"""
=====================================================
Polynomial and sinusoidal bases for a wiggly curve
=====================================================

A linear model is linear in its *weights*, not necessarily in its input:
with features :math:`\\phi_k(x)` the regression function
:math:`f(x) = b + \\sum_k w_k \\phi_k(x)` can be any curve the features can
build, and the Bayesian machinery (posterior, predictive band) is unchanged.
:class:`~bayesreg.BasisExpansion` provides the features and
:class:`~bayesreg.ConjugateLinearRegression` the exact posterior, chained in a
:class:`~sklearn.pipeline.Pipeline`.

The target is the seed problem :math:`y = x \\sin(10 x) + \\epsilon` on
:math:`[0, 1]`. This example compares powers of :math:`x` with sines and
cosines, for several numbers of features (the *degree*) and noise levels.
"""

# %%
# What the features look like
# ---------------------------
# ``kind="polynomial"`` maps the training range onto :math:`z \in [-1, 1]` and
# uses :math:`z, z^2, \dots, z^d`; ``kind="sinusoidal"`` uses
# :math:`\cos(2\pi k f_0 x)` and :math:`\sin(2\pi k f_0 x)` for the harmonics
# :math:`k = 1, \dots, d` of a base frequency :math:`f_0`, by default one
# period over twice the training range (so :math:`2d` features). The
# intercept is left to the regressor.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression, predict_dist
from bayesreg.datasets import make_seed_problem, seed_function

x_unit = np.linspace(0, 1, 200)[:, None]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
for ax, (kind, degree) in zip(
    axes, [("polynomial", 4), ("sinusoidal", 2)], strict=True
):
    basis = BasisExpansion(kind=kind, degree=degree).fit(x_unit)
    ax.plot(x_unit, basis.transform(x_unit))
    ax.legend(basis.get_feature_names_out(), fontsize="small", ncol=2)
    ax.set(title=f'BasisExpansion(kind="{kind}", degree={degree})', xlabel="x")

# %%
# Degree against noise
# --------------------
# Each panel fits 30 points with a fixed, weak prior (every weight
# :math:`\mathcal{N}(0, 10^2)`) and the true noise std, and draws the 95%
# predictive interval with the true curve (dashed) on a range slightly wider
# than the data; :func:`bayesreg.predict_dist` finds the predictive
# distribution through the pipeline. The number in the corner is the root
# mean squared error of the predictive mean against the true curve on [0, 1].
#
# * Too few features cannot follow the curve, whatever the noise: the band is
#   narrow and wrong, because the model is confident in a family of curves
#   that does not contain the truth.
# * Enough features follow it; more data noise means a wider band and a
#   rougher mean.
# * Outside [0, 1] nothing constrains the weights of the high powers or
#   harmonics: the mean shoots off and the band widens sharply. The mean is
#   wrong there, but the model says so.
degrees = [1, 3, 6, 12]
noise_levels = [0.05, 0.15, 0.4]
x_plot = np.linspace(-0.15, 1.15, 300)[:, None]
x_test = np.linspace(0, 1, 500)[:, None]


def degree_noise_grid(kind):
    fig, axes = plt.subplots(
        len(noise_levels),
        len(degrees),
        figsize=(13, 8),
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for row, noise in enumerate(noise_levels):
        X, y = make_seed_problem(30, noise_std=noise, random_state=row)
        for col, degree in enumerate(degrees):
            model = make_pipeline(
                BasisExpansion(kind=kind, degree=degree),
                ConjugateLinearRegression(prior_std=10.0, noise_std=noise),
            ).fit(X, y)
            lo, hi = predict_dist(model, x_plot).interval(0.95).T
            rmse = np.sqrt(
                np.mean((model.predict(x_test) - seed_function(x_test[:, 0])) ** 2)
            )
            ax = axes[row, col]
            ax.fill_between(x_plot[:, 0], lo, hi, alpha=0.25, lw=0)
            ax.plot(x_plot, model.predict(x_plot), lw=1.5)
            ax.plot(x_plot, seed_function(x_plot), "k--", lw=1)
            ax.scatter(X, y, s=6, c="k")
            ax.text(
                0.03,
                0.05,
                f"RMSE {rmse:.3f}",
                transform=ax.transAxes,
                fontsize="small",
            )
            ax.set(ylim=(-1.6, 1.6))
            if row == 0:
                ax.set_title(f"degree {degree}")
            if col == 0:
                ax.set_ylabel(f"noise std {noise}\ny")
            if row == len(noise_levels) - 1:
                ax.set_xlabel("x")
    fig.suptitle(f"{kind} basis: 95% predictive interval (shaded) and the truth")


degree_noise_grid("polynomial")
# sphinx_gallery_thumbnail_number = 2

# %%
# The same grid with sines and cosines. The target, :math:`x \sin(10 x)`,
# is close to a few harmonics on [0, 1], so degree 3 (six features) already
# fits well. Degree 12 (24 features for 30 points) is flexible enough to
# follow the noise; :ref:`choosing the degree by the evidence
# <sphx_glr_auto_examples_plot_evidence_selection.py>` warns against it
# without looking at the truth.
degree_noise_grid("sinusoidal")

# %%
# Error against degree
# --------------------
# For one noise level (0.15) and degrees 1 to 15, the error of the predictive
# mean against the true curve: the polynomial improves up to about degree 8
# and then slowly worsens; the sinusoidal basis is best early and then slowly
# gets worse as extra harmonics fit the noise. The prior keeps both from the
# catastrophic overfitting of unregularised least squares.
X, y = make_seed_problem(30, noise_std=0.15, random_state=1)
all_degrees = np.arange(1, 16)
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for kind in ["polynomial", "sinusoidal"]:
    errors = []
    for degree in all_degrees:
        model = make_pipeline(
            BasisExpansion(kind=kind, degree=int(degree)),
            ConjugateLinearRegression(prior_std=10.0, noise_std=0.15),
        ).fit(X, y)
        residual = model.predict(x_test) - seed_function(x_test[:, 0])
        errors.append(np.sqrt(np.mean(residual**2)))
    ax.plot(all_degrees, errors, "o-", label=kind)
ax.set(
    xlabel="degree",
    ylabel="RMSE against the true curve",
    ylim=(0, None),
    title="30 points, noise std 0.15",
)
ax.legend()

plt.show()
