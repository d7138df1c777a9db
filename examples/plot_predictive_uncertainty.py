"""
=====================================================
Noise plus model: why the predictive band widens
=====================================================

The posterior predictive distribution of a new observation at :math:`x`
averages the likelihood over the posterior of the weights. For a linear
model with Gaussian noise it is Gaussian, and its variance has two parts:

.. math::

    \\sigma^2(x) = \\underbrace{\\sigma_\\epsilon^2}_{\\text{aleatoric}}
    + \\underbrace{\\phi(x)^\\top \\Sigma_N \\, \\phi(x)}_{\\text{epistemic}} .

The first is the noise of the data, which no amount of data removes. The
second is the uncertainty about the regression function itself: it is small
where the data pin the function down and grows with the distance from them.
Every bayesreg estimator reports both through
``predict_std(X, kind="aleatoric")`` and ``predict_std(X, kind="epistemic")``
(``kind="total"`` is their root sum of squares).
"""

# %%
# The predictive band of the two-point line
# -----------------------------------------
# The straight line of :ref:`the sequential-update example
# <sphx_glr_auto_examples_plot_sequential_update.py>`: prior
# :math:`\mathcal{N}(0, 5^2 I)` on intercept and slope, noise std 1, and the
# two observations (2, 0) and (-2, -2).
# :class:`~bayesreg.plotting.PredictiveBandDisplay` draws the central 50% and
# 95% intervals of a new observation with a few lines from the posterior.
import matplotlib.pyplot as plt
import numpy as np

from bayesreg import ConjugateLinearRegression
from bayesreg.plotting import PredictiveBandDisplay


def design(x):
    """Design rows (1, x): the intercept is a coefficient with a prior."""
    x = np.asarray(x, dtype=float).reshape(-1)
    return np.column_stack([np.ones_like(x), x])


x_obs, y_obs = np.array([2.0, -2.0]), np.array([0.0, -2.0])
line = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0, fit_intercept=False)
line.fit(design(x_obs), y_obs)

x_plot = np.linspace(-5, 5, 201)
Phi = design(x_plot)

fig, ax_band = plt.subplots(figsize=(7, 4.2), layout="constrained")
PredictiveBandDisplay.from_predictions(
    x_plot,
    line.predict_dist(Phi),
    coverage=(0.5, 0.95),
    x_data=x_obs,
    y_data=y_obs,
    function_draws=line.sample_functions(Phi, n_samples=10, random_state=0),
    ax=ax_band,
    name="posterior predictive",
)
ax_band.set_title("posterior predictive after two observations")

# %%
# Splitting the variance
# ----------------------
# The three standard deviations against :math:`x`, in a figure of their own
# (sphinx-gallery shows each figure at the end of the cell that draws it).
# The noise part is flat at :math:`\sigma_\epsilon = 1`. The model part is
# smallest between the two observations and grows linearly far from them:
# with :math:`\phi(x) = (1, x)`, :math:`\phi^\top \Sigma_N \phi` is a
# quadratic in :math:`x`, so its square root is asymptotically linear. Near
# the data the total is dominated by the noise, far away by the model.
std_total = line.predict_std(Phi)
std_model = line.predict_std(Phi, kind="epistemic")
std_noise = line.predict_std(Phi, kind="aleatoric")
fig, ax_std = plt.subplots(figsize=(7, 4.2), layout="constrained")
ax_std.plot(x_plot, std_total, "k", lw=2, label="total")
ax_std.plot(x_plot, std_model, label="epistemic (model)")
ax_std.plot(x_plot, std_noise, label="aleatoric (noise)")
for x in x_obs:
    ax_std.axvline(x, color="grey", ls=":", lw=1)
ax_std.set(xlabel="x", ylabel="predictive std", ylim=(0, None))
ax_std.set_title("total$^2$ = epistemic$^2$ + aleatoric$^2$")
ax_std.legend(loc="upper center")

print(
    "largest |total^2 - (epistemic^2 + aleatoric^2)|:",
    np.abs(std_total**2 - std_model**2 - std_noise**2).max(),
)

# %%
# More data shrinks only the model part
# -------------------------------------
# Now observe the line :math:`y = 0.5 x - 1` with noise std 1 at inputs drawn
# uniformly from [1, 4], with 3, 30 and 300 points, and let the estimator fit
# its own intercept (``fit_intercept=True``: a flat prior on the intercept,
# a :math:`\mathcal{N}(0, 5^2)` prior on the slope). Two things show:
#
# * the epistemic std is smallest at the *centre of the data*, not at
#   :math:`x = 0`, and it shrinks roughly like :math:`1/\sqrt{n}`;
# * the aleatoric std does not shrink at all: with 300 points the predictive
#   band inside the data is almost exactly :math:`\pm 1.96\,\sigma_\epsilon`.
rng = np.random.default_rng(0)
x_wide = np.linspace(-4, 9, 261)[:, None]

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for i, n in enumerate([3, 30, 300]):
    x_n = rng.uniform(1, 4, size=(n, 1))
    y_n = 0.5 * x_n[:, 0] - 1 + rng.normal(size=n)
    model = ConjugateLinearRegression(prior_std=5.0, noise_std=1.0).fit(x_n, y_n)
    axes[0].plot(
        x_wide, model.predict_std(x_wide, kind="epistemic"), color=f"C{i}", lw=2,
        label=f"epistemic, n = {n}",
    )  # fmt: skip
    if n == 30:
        PredictiveBandDisplay.from_estimator(
            model, x_n, y_n, x_grid=x_wide, coverage=0.95, ax=axes[1],
            name="n = 30", data_kw={"s": 8},
        )  # fmt: skip
axes[0].axhline(1.0, color="k", ls="--", lw=1, label="aleatoric (all n)")
axes[0].axvspan(1, 4, color="grey", alpha=0.12, label="where the data are")
axes[0].set(xlabel="x", ylabel="std", ylim=(0, 3), title="model uncertainty vs n")
axes[0].legend(loc="upper center", fontsize="small")
axes[1].axvspan(1, 4, color="grey", alpha=0.12)
axes[1].set_title("the band pinches where the data are")

plt.show()
