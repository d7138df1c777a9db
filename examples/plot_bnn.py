"""
A Bayesian neural network knows where it has not seen data
==========================================================

``PyroBNNRegressor`` fits a one-hidden-layer network with a Gaussian prior on
every weight to the seed problem (y = x sin(10 x) + 0.1 noise, x in [0, 1]).
Its predictive band is the mixture over posterior draws of the network: the
*epistemic* part (how much the draws disagree) is small where the data are
and grows outside [0, 1]; the *aleatoric* part is the learned noise (the
true value is 0.1; mean-field VI tends to overestimate it on so few points).

The left panel shows the predictive mean, the 95% predictive interval and a
few posterior draws of the network; the right panel the two standard
deviations. The script also prints the ELBO trace length and the fit time.

Run it with ``python examples/plot_bnn.py [output.png]``.
"""

import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bayesreg import PyroBNNRegressor
from bayesreg.datasets import make_seed_problem, seed_function

X, y = make_seed_problem(100, random_state=0)
grid = np.linspace(-0.5, 1.5, 300)[:, None]

bnn = PyroBNNRegressor(
    hidden_layer_sizes=(50,),
    activation="tanh",
    batch_size=None,
    max_iter=2000,
    random_state=0,
)
t0 = time.perf_counter()
bnn.fit(X, y)
print(
    f"fit: {time.perf_counter() - t0:.1f} s, {bnn.n_iter_} epochs, "
    f"noise std {bnn.noise_std_:.3f} (true 0.1)"
)

dist = bnn.predict_dist(grid)
band = dist.interval(0.95)
epistemic, aleatoric = dist.epistemic_std, dist.aleatoric_std
for x0 in (0.5, 1.5):
    i = np.argmin(np.abs(grid[:, 0] - x0))
    print(f"x = {x0}: epistemic std {epistemic[i]:.3f}, aleatoric {aleatoric[i]:.3f}")

fig, (ax, ax_std) = plt.subplots(1, 2, figsize=(11, 4))
ax.fill_between(grid[:, 0], band[:, 0], band[:, 1], alpha=0.25, label="95% interval")
ax.plot(grid[:, 0], dist.locs[:, :5], color="C1", lw=0.7, alpha=0.8)
ax.plot(grid[:, 0], dist.mean, color="C0", lw=2, label="predictive mean")
ax.plot(grid[:, 0], seed_function(grid[:, 0]), "k--", lw=1, label="x sin(10 x)")
ax.scatter(X[:, 0], y, s=8, color="k", label="training data")
ax.axvspan(0, 1, color="grey", alpha=0.08)
ax.set(xlabel="x", ylabel="y", ylim=(-2.5, 2.5), title="posterior predictive")
ax.legend(loc="lower left", fontsize=8)

ax_std.plot(grid[:, 0], epistemic, label="epistemic")
ax_std.plot(grid[:, 0], aleatoric, label="aleatoric (noise)")
ax_std.plot(grid[:, 0], dist.std, "k", lw=1, label="total")
ax_std.axvspan(0, 1, color="grey", alpha=0.08)
ax_std.set(xlabel="x", ylabel="std", title="uncertainty split")
ax_std.legend(fontsize=8)
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "plot_bnn.png"
fig.savefig(out, dpi=120)
print(f"wrote {out}")
