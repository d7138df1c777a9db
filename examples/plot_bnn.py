"""
==========================================================
A Bayesian neural network knows where it has not seen data
==========================================================

A neural network with a Gaussian prior on every weight and bias is a
Bayesian model like the linear ones of the other examples, but its posterior
has no closed form: the output depends non-linearly on the weights.
:class:`~bayesreg.PyroBNNRegressor` approximates it by stochastic
variational inference with a mean-field Gaussian guide (one independent
Normal per weight) and predicts with a mixture over posterior draws of the
network.

The predictive variance of such a mixture splits by the law of total
variance into the spread of the networks' outputs (*epistemic*: what the
data do not determine) and the learned observation noise (*aleatoric*):

.. math::

    \\operatorname{Var}[y \\mid x]
    = \\underbrace{\\operatorname{Var}_s[f_{w_s}(x)]}_{\\text{epistemic}}
    + \\underbrace{\\mathbb{E}_s[\\sigma_s^2]}_{\\text{aleatoric}},

where :math:`(w_s, \\sigma_s)` are the posterior draws.
"""

# %%
# Fit a one-hidden-layer network to the seed problem
# --------------------------------------------------
# The seed problem: :math:`y = x \sin(10 x)` plus noise of std 0.1 at 100
# points of :math:`[0, 1]`. The network has 50 ``tanh`` units; the fit uses
# the whole data set at each step (``batch_size=None``) and stops when the
# ELBO stops improving.
import time

import matplotlib.pyplot as plt
import numpy as np

from bayesreg import PyroBNNRegressor
from bayesreg.datasets import make_seed_problem, seed_function
from bayesreg.plotting import PredictiveBandDisplay

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)

bnn = PyroBNNRegressor(
    hidden_layer_sizes=(50,),
    activation="tanh",
    batch_size=None,
    max_iter=2000,
    random_state=0,
)
# sphinx_gallery_start_ignore
# Tiny run for the test suite (BAYESREG_EXAMPLES_QUICK=1).
import os

if os.environ.get("BAYESREG_EXAMPLES_QUICK"):
    bnn.set_params(max_iter=30, n_posterior_samples=50, jit=False)
# sphinx_gallery_end_ignore
start = time.perf_counter()
bnn.fit(X, y)
print(
    f"fit in {time.perf_counter() - start:.1f} s, {bnn.n_iter_} epochs; "
    f"learned noise std {bnn.noise_std_:.3f} (true 0.1)"
)

# %%
# The predictive band and its two parts
# -------------------------------------
# The left panel shows the 50% and 95% predictive intervals over
# :math:`[-0.5, 1.5]`, twice the range of the data, with a few posterior
# draws of the network. The right panel shows the standard deviations from
# ``predict_std``: the noise part is the same everywhere, the network part is
# smallest where the data are dense and grows, slowly, outside
# :math:`[0, 1]` (shaded grey: where the data are).
x_grid = np.linspace(-0.5, 1.5, 300)[:, None]

fig, (ax, ax_std) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
PredictiveBandDisplay.from_estimator(
    bnn,
    X,
    y,
    x_grid=x_grid,
    coverage=(0.5, 0.95),
    n_draws=6,
    random_state=0,
    ax=ax,
    name="BNN",
    data_kw={"s": 6},
)
ax.plot(x_grid, seed_function(x_grid), "k--", lw=1, label="x sin(10 x)")
ax.axvspan(0, 1, color="grey", alpha=0.08)
ax.set(ylim=(-2.5, 2.5), title="posterior predictive")
ax.legend(loc="lower left", fontsize="small")

epistemic = bnn.predict_std(x_grid, kind="epistemic")
aleatoric = bnn.predict_std(x_grid, kind="aleatoric")
ax_std.plot(x_grid, bnn.predict_std(x_grid), "k", lw=2, label="total")
ax_std.plot(x_grid, epistemic, label="epistemic (networks disagree)")
ax_std.plot(x_grid, aleatoric, label="aleatoric (learned noise)")
ax_std.axhline(0.1, color="grey", ls=":", label="true noise std")
ax_std.axvspan(0, 1, color="grey", alpha=0.08)
ax_std.set(xlabel="x", ylabel="std", ylim=(0, None), title="uncertainty split")
ax_std.legend(fontsize="small", loc="lower center", ncol=2)

for x0 in (0.5, 1.5):
    i = np.argmin(np.abs(x_grid[:, 0] - x0))
    print(f"x = {x0}: epistemic std {epistemic[i]:.3f}, aleatoric {aleatoric[i]:.3f}")

# %%
# What to expect from mean-field variational inference
# ----------------------------------------------------
# The variational posterior is the Gaussian with independent weights that is
# closest to the true posterior in the KL sense, which is known to err in two
# directions on small data sets: it tends to *overestimate* the noise (here
# the learned std is above the true 0.1, so part of the misfit is blamed on
# noise), and to *underestimate* the epistemic part, especially between
# groups of data points. The band still widens away from the data, which is
# what a point-estimate network (``MLPRegressor``) cannot do at all; for a
# closer look at the posterior of a small network, ``inference="nuts"``
# samples it exactly, at a much higher cost.

plt.show()
