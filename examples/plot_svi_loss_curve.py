"""
==============================================================
Watching a variational fit: the ELBO curve and its predictive
==============================================================

``PyroBayesianLinear`` fits the seed notebook's Bayesian polynomial
regression by stochastic variational inference (SVI). Its ``loss_curve_``
(the negative ELBO per epoch) tells whether the optimiser has settled; its
predictive is a mixture over posterior draws, whose components are
regression functions we can draw. Next to it, the exact conjugate posterior
of the same basis (prior scale and noise chosen by evidence maximisation)
gives a reference for the variational answer.

Run it as ``python plot_svi_loss_curve.py [output_dir]``; the figure is
written as a PNG file to ``output_dir`` (default: the working directory).
"""

# %%
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from bayesreg import BasisExpansion, ConjugateLinearRegression, PyroBayesianLinear
from bayesreg.datasets import make_seed_problem
from bayesreg.metrics import mean_crps, predict_dist
from bayesreg.plotting import LossCurveDisplay, PredictiveBandDisplay

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
out_dir.mkdir(parents=True, exist_ok=True)

X, y = make_seed_problem(100, noise_std=0.1, random_state=0)
X_test, y_test = make_seed_problem(
    500, noise_std=0.1, sampling="uniform", random_state=1
)

# %%
# Fit by SVI, and exactly
# -----------------------
# A short run keeps the example quick; the curve shows whether it was long
# enough.
svi = make_pipeline(
    BasisExpansion(degree=8),
    PyroBayesianLinear(
        max_iter=300, num_particles=4, n_posterior_samples=200, random_state=0
    ),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    svi.fit(X, y)
exact = make_pipeline(
    BasisExpansion(degree=8), ConjugateLinearRegression(fit_hyperparameters=True)
).fit(X, y)
for name, model in {"SVI": svi, "exact": exact}.items():
    crps = mean_crps(y_test, predict_dist(model, X_test))
    print(f"{name:>5}: held-out CRPS {crps:.4f}")

# %%
# The loss curve and the two predictives
# --------------------------------------
fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
LossCurveDisplay.from_estimator(svi, smooth=20, ax=axes[0])
axes[0].set_title("SVI: negative ELBO per epoch")
PredictiveBandDisplay.from_estimator(
    svi, X, y, n_draws=10, random_state=0, ax=axes[1], name="SVI"
)
axes[1].set_title("SVI posterior predictive and draws")
PredictiveBandDisplay.from_estimator(
    exact, X, y, n_draws=10, random_state=0, ax=axes[2], name="exact"
)
axes[2].set_title("exact conjugate posterior (empirical Bayes)")
for ax in axes[1:]:
    ax.set_ylim(-1.2, 1.4)
fig.savefig(out_dir / "svi_loss_curve.png", dpi=100)
