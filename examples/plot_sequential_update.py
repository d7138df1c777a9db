"""
=======================================================
Bayesian linear regression, one observation at a time
=======================================================

A straight line :math:`f(x) = w_0 + w_1 x` with a Gaussian prior on both
weights is the smallest model in which the whole Bayesian workflow can be
watched: before any data the prior describes a cloud of lines; every
observation multiplies it by a likelihood, and the normalised product, the
posterior, becomes the prior for the next observation.

This is the classic worked example, computed with
:class:`~bayesreg.ConjugateLinearRegression`: prior
:math:`w \\sim \\mathcal{N}(0, 5^2 I)`, noise std :math:`\\sigma = 1`, and the
observations :math:`(x, y) = (2, 0)` then :math:`(-2, -2)`, fed to
:meth:`~bayesreg.ConjugateLinearRegression.partial_fit` one at a time. Each
row of the figure shows the likelihood of the newest observation, the
density of :math:`(w_0, w_1)`, and lines drawn from that density.
"""

# %%
# The model
# ---------
# The intercept gets the same prior as the slope here, so it is written as a
# coefficient of a constant feature: the design row of an input :math:`x` is
# :math:`\phi(x) = (1, x)` and the estimator is told not to add an intercept
# of its own (``fit_intercept=False``). With known noise the posterior after
# the data :math:`(\Phi, y)` is Gaussian,
#
# .. math::
#
#     \Sigma_N = \left(\Sigma_0^{-1} + \sigma^{-2} \Phi^\top \Phi\right)^{-1},
#     \qquad
#     m_N = \Sigma_N \left(\Sigma_0^{-1} m_0 + \sigma^{-2} \Phi^\top y\right),
#
# and updating with one row at a time, each posterior serving as the next
# prior, ends at exactly the same :math:`(m_N, \Sigma_N)`.
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from bayesreg import ConjugateLinearRegression


def design(x):
    """Design rows (1, x): the intercept w0 is an ordinary coefficient."""
    x = np.asarray(x, dtype=float).reshape(-1)
    return np.column_stack([np.ones_like(x), x])


prior_std, noise_std = 5.0, 1.0
reg = ConjugateLinearRegression(
    prior_std=prior_std, noise_std=noise_std, fit_intercept=False
)
observations = [(2.0, 0.0), (-2.0, -2.0)]

# %%
# Prior, posterior after one point, posterior after two
# -----------------------------------------------------
# An unfitted estimator still answers
# :meth:`~bayesreg.ConjugateLinearRegression.sample_functions`: it draws from
# its prior. After each call to ``partial_fit`` the same method draws from
# the current posterior, and ``coef_`` / ``coef_cov_`` hold its mean and
# covariance.
#
# In weight space (middle column) one observation :math:`(x_n, y_n)` only
# says that :math:`w_0 + w_1 x_n` is close to :math:`y_n`: its likelihood is
# a ridge along the line :math:`w_0 + w_1 x_n = y_n` (dashed). The first
# posterior is therefore long and thin: all lines through (or near) the point
# (2, 0) remain plausible. The second point, on the other side, cuts that
# ridge and leaves a small ellipse; in data space (right column) the lines now
# pass close to both points and fan out only mildly away from them.
w_grid = np.linspace(-12, 12, 241)
W0, W1 = np.meshgrid(w_grid, w_grid)
weights = np.dstack([W0, W1])
x_plot = np.linspace(-5, 5, 101)
n_draws = 40


def plot_weight_density(ax, mean, cov, title):
    density = stats.multivariate_normal(mean, cov).pdf(weights)
    ax.contourf(W0, W1, density, levels=12, cmap="Blues")
    ax.plot(*mean, "k+", ms=10, mew=2)
    ax.set(xlabel="$w_0$ (intercept)", ylabel="$w_1$ (slope)", title=title)
    ax.set_aspect("equal")


def plot_lines(ax, draws, title):
    ax.plot(x_plot, draws, color="C0", alpha=0.25, lw=1)
    ax.set(xlim=(-5, 5), ylim=(-20, 20), xlabel="x", ylabel="y", title=title)


fig, axes = plt.subplots(3, 3, figsize=(11, 10.5), layout="constrained")

# Row 0: nothing observed yet.
axes[0, 0].text(
    0.5, 0.5, "no data yet", ha="center", va="center", transform=axes[0, 0].transAxes
)
axes[0, 0].set(xticks=[], yticks=[], title="likelihood")
plot_weight_density(
    axes[0, 1], np.zeros(2), np.diag([prior_std**2] * 2), "prior density"
)
prior_lines = reg.sample_functions(design(x_plot), n_draws, random_state=0)
plot_lines(axes[0, 2], prior_lines, "lines drawn from the prior")

seen = []
for row, (x_n, y_n) in enumerate(observations, start=1):
    # The likelihood of the new point alone, as a function of (w0, w1).
    like = stats.norm.pdf(y_n, loc=W0 + W1 * x_n, scale=noise_std)
    ax = axes[row, 0]
    ax.contourf(W0, W1, like, levels=12, cmap="Greens")
    ax.set(
        xlabel="$w_0$",
        ylabel="$w_1$",
        title=f"likelihood of (x, y) = ({x_n:g}, {y_n:g})",
    )
    ax.set_aspect("equal")

    reg.partial_fit(design([x_n]), [y_n])
    seen.append((x_n, y_n))
    points = "1 point" if row == 1 else f"{row} points"
    plot_weight_density(
        axes[row, 1], reg.coef_, reg.coef_cov_, f"posterior after {points}"
    )
    for x_k, y_k in seen:  # the ridge w0 + w1 x_k = y_k of every point so far
        for ax in axes[row, :2]:
            ax.plot(w_grid, (y_k - w_grid) / x_k, "k--", lw=0.8)
            ax.set(xlim=(-12, 12), ylim=(-12, 12))

    lines = reg.sample_functions(design(x_plot), n_draws, random_state=row)
    plot_lines(axes[row, 2], lines, f"lines from the posterior after {points}")
    xs, ys = np.transpose(seen)
    axes[row, 2].errorbar(
        xs, ys, yerr=2 * noise_std, fmt="ko", ms=4, capsize=3, zorder=3
    )

fig.suptitle("Sequential Bayesian updating of a straight line")

# %%
# After both points the posterior mean of
# :math:`(w_0, w_1)` is about :math:`(-0.98, 0.50)`, and the two weights are
# uncorrelated because the inputs 2 and -2 are symmetric about zero.
print("posterior mean:", reg.coef_.round(4))
print("posterior covariance:\n", reg.coef_cov_.round(4))

# %%
# Order does not matter
# ---------------------
# The posterior depends on the data only through the sufficient statistics
# :math:`\Phi^\top \Phi` and :math:`\Phi^\top y`, which ``partial_fit``
# accumulates exactly. Fitting both points at once, or in the opposite order,
# gives the same posterior to rounding error.
X_both = design([x for x, _ in observations])
y_both = np.array([y for _, y in observations])
batch = ConjugateLinearRegression(
    prior_std=prior_std, noise_std=noise_std, fit_intercept=False
).fit(X_both, y_both)
reverse = ConjugateLinearRegression(
    prior_std=prior_std, noise_std=noise_std, fit_intercept=False
)
for i in (1, 0):
    reverse.partial_fit(X_both[i : i + 1], y_both[i : i + 1])
print("batch == sequential:", np.allclose(batch.coef_, reg.coef_))
print("reversed == sequential:", np.allclose(reverse.coef_cov_, reg.coef_cov_))

# %%
# How much the noise and the prior matter
# ---------------------------------------
# The same two observations tell more when they are less noisy, and a tight
# prior pulls the lines towards :math:`w = 0` (a flat line through the
# origin) whatever the data say. Each panel fits the two points at once with
# other settings and shows the 95% predictive interval of a new
# observation, which also contains the noise.
settings = [
    (5.0, 0.25, "precise data: $\\sigma = 0.25$"),
    (5.0, 1.0, "as above: $\\sigma = 1$"),
    (5.0, 3.0, "noisy data: $\\sigma = 3$"),
    (0.3, 1.0, "tight prior: std 0.3"),
]
fig, axes = plt.subplots(
    1, len(settings), figsize=(14, 3.6), sharey=True, layout="constrained"
)
for ax, (p_std, s_std, title) in zip(axes, settings, strict=True):
    model = ConjugateLinearRegression(
        prior_std=p_std, noise_std=s_std, fit_intercept=False
    ).fit(X_both, y_both)
    lo, hi = model.predict_interval(design(x_plot), coverage=0.95).T
    ax.fill_between(x_plot, lo, hi, alpha=0.2, label="95% predictive interval")
    lines = model.sample_functions(design(x_plot), 30, random_state=0)
    ax.plot(x_plot, lines, color="C0", alpha=0.3, lw=0.8)
    ax.errorbar(X_both[:, 1], y_both, yerr=2 * s_std, fmt="ko", ms=4, capsize=3)
    ax.set(title=title, xlabel="x", ylim=(-12, 12))
axes[0].set_ylabel("y")
axes[0].legend(loc="upper left", fontsize="small")

plt.show()
