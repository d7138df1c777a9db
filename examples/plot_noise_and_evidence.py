"""
=======================================================
Known noise, unknown noise, and noise from the evidence
=======================================================

The closed-form posterior of the other examples assumes the noise std
:math:`\\sigma` is known. :class:`~bayesreg.ConjugateLinearRegression` offers
two ways to do without that assumption:

* ``noise_std=None`` puts an inverse-gamma prior on the noise variance and a
  prior on the weights that scales with it,

  .. math::

      \\sigma^2 \\sim \\mathrm{InvGamma}(a_0, b_0), \\qquad
      w \\mid \\sigma^2 \\sim \\mathcal{N}(m_0, \\sigma^2 S_0),

  a conjugate pair (Normal-Inverse-Gamma): the posterior of
  :math:`\\sigma^2` is again inverse-gamma, :math:`\\mathrm{InvGamma}(a_N,
  b_N)` with :math:`a_N = a_0 + (n - 1)/2` (the flat intercept costs one
  observation), and integrating :math:`\\sigma^2` out turns the Gaussian
  predictive into a Student-t with :math:`2 a_N` degrees of freedom. The
  scale :math:`b_0` is given as a fraction of the variance of :math:`y`
  (``noise_prior_scale``: the prior is :math:`\\mathrm{InvGamma}(a_0, b_0
  \\operatorname{var}(y))`), and the default :math:`a_0 = b_0 = 0` is
  Jeffreys' scale-free :math:`p(\\sigma^2) \\propto 1/\\sigma^2`;
* ``fit_hyperparameters=True`` (*empirical Bayes*) sets the noise std and the
  prior scale to the values that maximise the evidence
  :math:`p(y \\mid X, \\sigma, \\text{prior scale})`, then proceeds as if
  they were known.

All examples use the seed problem :math:`y = x \\sin(10 x) + \\epsilon` with
true noise std 0.1 and sinusoidal features of degree 3.
"""

# %%
# The posterior of the noise std
# ------------------------------
# After a fit with ``noise_std=None`` the posterior of the noise variance is
# ``InvGamma(noise_shape_, noise_scale_)``; below it is drawn as a density of
# the std :math:`\sigma` for 10, 30 and 100 observations. The prior matters
# on the left: :math:`a_0 = 1, b_0 = 6` is worth only two observations, but
# with :math:`\operatorname{var}(y) \approx 0.17` it puts
# :math:`b_0 \operatorname{var}(y) \approx 1`, a hundred times the true noise
# variance 0.01, into the posterior's :math:`b_N`: as much as 100
# observations of residual variance 0.01 add, so even with 100 points the
# estimate is pulled up. The default, Jeffreys' :math:`a_0 = b_0 = 0`
# (right), lets the data decide. (``prior_std`` is measured in units of
# :math:`\sigma` in this mode, hence the fixed 10 that leaves the weights
# free; :ref:`priors` explains the default ``prior_std="auto"``.)
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression, predict_dist
from bayesreg.datasets import make_seed_problem, seed_function
from bayesreg.plotting import PredictiveBandDisplay


def sinusoidal(regressor):
    return make_pipeline(BasisExpansion(kind="sinusoidal", degree=3), regressor)


sigma = np.linspace(0.01, 0.8, 400)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True, layout="constrained")
for ax, (a0, b0) in zip(axes, [(1.0, 6.0), (0.0, 0.0)], strict=True):
    for n in [10, 30, 100]:
        X, y = make_seed_problem(n, noise_std=0.1, random_state=0)
        reg = sinusoidal(
            ConjugateLinearRegression(
                noise_std=None,
                prior_std=10.0,
                noise_prior_shape=a0,
                noise_prior_scale=b0,
            )
        ).fit(X, y)[-1]
        # density of sigma when sigma^2 ~ InvGamma(a, b): 2 sigma p(sigma^2)
        density = (
            2
            * sigma
            * stats.invgamma.pdf(sigma**2, reg.noise_shape_, scale=reg.noise_scale_)
        )
        ax.plot(sigma, density, label=f"n = {n}")
    ax.axvline(0.1, color="k", ls="--", lw=1, label="true noise std")
    ax.set(
        xlabel="noise std $\\sigma$",
        xlim=(0, 0.6),
        title=f"prior $a_0 = {a0:g}$, $b_0 = {b0:g}$"
        + (" (the default)" if a0 == b0 == 0 else ""),
    )
    ax.legend()
axes[0].set_ylabel("posterior density")

# %%
# Three predictives from ten points
# ---------------------------------
# Ten observations, three ways to treat the noise:
#
# * known noise (told the truth, 0.1): a Gaussian band;
# * unknown noise under Jeffreys' prior: the Student-t predictive, whose
#   tails are heavier because :math:`\sigma` itself is uncertain;
# * empirical Bayes: point estimates of the noise std and prior scale from
#   the ten points, then a Gaussian band as if they were known.
#
# On this well-behaved problem the bands nearly agree: all three find a noise
# std close to the truth. The difference is in the tails, which the last
# panel shows on a logarithmic scale at :math:`x = 0.5`: with 9 degrees of
# freedom (ten points, less one for the intercept) the Student-t density
# falls off much more slowly than a Gaussian, so an observation five noise
# stds away is improbable rather than practically impossible.
#
# Seven coefficients leave ten points only three residual degrees of freedom
# to measure the noise, and in this sample they happen to be almost noise
# free. The fixed ``prior_std=10`` (in noise units) keeps the Student-t model
# from believing them; the default ``prior_std="auto"`` lets the evidence
# widen the prior until the curve nearly interpolates the ten points, and
# its noise std falls to about 0.01 (see :ref:`priors`).
X, y = make_seed_problem(10, noise_std=0.1, random_state=0)
models = {
    "known noise (0.1)": sinusoidal(
        ConjugateLinearRegression(noise_std=0.1, prior_std=1.0)
    ),
    "unknown noise (Student-t)": sinusoidal(
        ConjugateLinearRegression(noise_std=None, prior_std=10.0)
    ),
    "empirical Bayes": sinusoidal(ConjugateLinearRegression(fit_hyperparameters=True)),
}
x_grid = np.linspace(-0.05, 1.05, 300)[:, None]
fig, axes = plt.subplots(1, 4, figsize=(17, 4), layout="constrained")
for ax, (name, model) in zip(axes[:3], models.items(), strict=True):
    model.fit(X, y)
    PredictiveBandDisplay.from_estimator(
        model,
        X,
        y,
        x_grid=x_grid,
        coverage=(0.5, 0.95),
        ax=ax,
        name=name,
        legend=False,
    )
    ax.plot(x_grid, seed_function(x_grid), "k--", lw=1, label="x sin(10 x)")
    reg = model[-1]
    ax.set(ylim=(-1.5, 1.5), title=f"{name}: noise std {reg.noise_std_:.3f}")
axes[0].legend(loc="lower left", fontsize="small")
y_values = np.linspace(-1.2, 0.4, 400)
x_half = np.full((len(y_values), 1), 0.5)
for name, model in models.items():
    axes[3].plot(y_values, predict_dist(model, x_half).pdf(y_values), label=name)
axes[3].set(
    yscale="log",
    ylim=(1e-8, 10),
    xlabel="y",
    ylabel="predictive density",
    title="predictive density at x = 0.5",
)
axes[3].legend(loc="lower center", fontsize="small")
df = predict_dist(models["unknown noise (Student-t)"], X[:1]).df[0]
print(f"Student-t degrees of freedom with 10 points: {df:g}")

# %%
# The evidence surface
# --------------------
# Empirical Bayes climbs the log evidence as a function of the prior scale
# and the noise std. With 100 observations the figure maps that surface by
# refitting the known-noise model on a grid (each fit takes about a
# millisecond: the evidence is exact) and marks the optimum found by
# ``fit_hyperparameters=True`` (with ``prior_std=1.0``, so that it scales one
# common prior std of every weight, as the grid does). Small noise with a
# tight prior cannot explain the data; large noise explains them too easily
# and is penalised for the data sets it could also have explained. The noise
# std is the sharper of the two directions: the data measure it well; the
# prior scale only within a factor of a few.
X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
basis = BasisExpansion(kind="sinusoidal", degree=3).fit(X)
Phi = basis.transform(X)
prior_grid = np.geomspace(0.05, 20, 40)
noise_grid = np.geomspace(0.05, 0.4, 40)
log_evidence = np.array(
    [
        [
            ConjugateLinearRegression(prior_std=p, noise_std=s)
            .fit(Phi, y)
            .log_marginal_likelihood_
            for p in prior_grid
        ]
        for s in noise_grid
    ]
)
best = ConjugateLinearRegression(prior_std=1.0, fit_hyperparameters=True)
best.fit(Phi, y)

fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
contours = ax.contourf(
    prior_grid,
    noise_grid,
    log_evidence - log_evidence.max(),
    levels=[-200, -100, -50, -20, -10, -5, -2, -1, 0],
    cmap="viridis",
    extend="min",
)
fig.colorbar(contours, label="log evidence minus its maximum")
ax.plot(best.prior_std_[0], best.noise_std_, "r*", ms=14, label="empirical Bayes")
ax.axhline(0.1, color="w", ls="--", lw=1, label="true noise std")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="prior std of each weight",
    ylabel="noise std",
    title="log evidence, 100 points",
)
ax.set_xticks([0.1, 1, 10], labels=["0.1", "1", "10"])
ax.set_yticks([0.05, 0.1, 0.2, 0.4], labels=["0.05", "0.1", "0.2", "0.4"])
ax.minorticks_off()
ax.legend(loc="upper right")
print(
    f"empirical Bayes: prior std {best.prior_std_[0]:.3f}, "
    f"noise std {best.noise_std_:.4f}, log evidence "
    f"{best.log_marginal_likelihood_:.2f} (grid maximum {log_evidence.max():.2f})"
)

plt.show()
