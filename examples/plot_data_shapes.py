"""
====================================================================
Real tables: sparse frames, more features than rows, several targets
====================================================================

The data a pipeline hands to a regressor are rarely a tall, dense,
single-column problem. This example fits bayesreg's closed-form estimators
to three shapes that users meet every day:

- a pandas frame with a categorical column, one-hot encoded by a
  :class:`~sklearn.compose.ColumnTransformer` into a **sparse** matrix,
  tuned by :class:`~sklearn.model_selection.GridSearchCV` with a proper
  scoring rule;
- **more features than rows**, where the posterior is computed in its
  kernel (n x n) form;
- **several targets** at once, on scikit-learn's bundled Linnerud data.

Every estimator returns the same predictive distribution object whatever
the shape; with k targets it has a trailing axis of length k.
"""

# %%
# A mixed-type frame through a ColumnTransformer
# ----------------------------------------------
# Prices of 2,000 flats in 15 cities: the city shifts the price, and so do
# the area, the age and the number of rooms. The default ``ColumnTransformer``
# returns a ``scipy.sparse`` matrix here (the one-hot block is mostly zeros);
# the estimators take it as it is and never build its dense form.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_linnerud
from sklearn.model_selection import GridSearchCV, LeaveOneOut, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bayesreg import ConjugateLinearRegression, RidgeMAP, predict_dist
from bayesreg.metrics import neg_nlpd_scorer

rng = np.random.default_rng(0)
n = 2000
cities = [f"city {i:02d}" for i in range(15)]
city_effect = dict(zip(cities, rng.normal(0.0, 1.0, len(cities)), strict=True))
frame = pd.DataFrame(
    {
        "city": rng.choice(cities, size=n),
        "area": rng.gamma(4.0, 20.0, size=n),
        "age": rng.uniform(0.0, 80.0, size=n),
        "rooms": rng.integers(1, 7, size=n),
    }
)
price = (
    frame["city"].map(city_effect).to_numpy()
    + 0.02 * frame["area"].to_numpy()
    - 0.01 * frame["age"].to_numpy()
    + 0.3 * frame["rooms"].to_numpy()
    + rng.normal(0.0, 0.5, size=n)
)
columns = ColumnTransformer(
    [
        ("cat", OneHotEncoder(), ["city"]),
        ("num", StandardScaler(), ["area", "age", "rooms"]),
    ]
)
print("the transformer emits", type(columns.fit_transform(frame)).__name__)

X_train, X_test, y_train, y_test = train_test_split(frame, price, random_state=0)

# ConjugateLinearRegression needs no tuning (its prior scale is chosen by
# the evidence); RidgeMAP's alpha is chosen by held-out log density.
candidates = {
    "ConjugateLinearRegression": make_pipeline(columns, ConjugateLinearRegression()),
    "RidgeMAP": GridSearchCV(
        make_pipeline(columns, RidgeMAP()),
        {"ridgemap__alpha": np.logspace(-3, 3, 7)},
        scoring=neg_nlpd_scorer,
    ),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
order = np.argsort(y_test)[::15]
for ax, (name, model) in zip(axes, candidates.items(), strict=True):
    dist = predict_dist(model.fit(X_train, y_train), X_test)
    lower, upper = dist.interval(0.9).T
    covered = np.mean((y_test >= lower) & (y_test <= upper))
    ax.errorbar(
        np.arange(order.size),
        dist.mean[order],
        yerr=[dist.mean[order] - lower[order], upper[order] - dist.mean[order]],
        fmt="o",
        ms=3,
        alpha=0.7,
        label="prediction, 90% interval",
    )
    ax.plot(np.arange(order.size), y_test[order], "k.", label="observed")
    ax.set_title(f"{name}: 90% coverage {covered:.2f}")
    ax.set_xlabel("test flats, sorted by price")
axes[0].set_ylabel("price")
axes[0].legend(loc="upper left")
fig.tight_layout()

# %%
# More features than rows
# -----------------------
# With p > n the p x p posterior is both the slow and the large way: the
# estimator computes the same posterior, evidence and predictive from the
# n x n matrix of the rows instead (``solver="auto"`` chooses by shape, and
# ``solver_`` says which form was used). Here 200 rows carry 5,000
# features, of which 20 matter.
X_wide = rng.normal(size=(260, 5000))
y_wide = X_wide[:, :20] @ rng.normal(size=20) + rng.normal(size=260)
wide = ConjugateLinearRegression().fit(X_wide[:200], y_wide[:200])
lower, upper = wide.predict_interval(X_wide[200:], coverage=0.9).T
print(
    f"solver_={wide.solver_!r}; 90% coverage on 60 new rows: "
    f"{np.mean((y_wide[200:] >= lower) & (y_wide[200:] <= upper)):.2f}"
)

# %%
# Several targets
# ---------------
# Linnerud: three exercises (chin-ups, sit-ups, jumps) and three body
# measurements (weight, waist, pulse) of 20 men. One fit models the three
# targets, each with its own noise and its own prior scale chosen by its
# evidence, at the cost of one set of statistics. Predictions gain a
# trailing axis of length 3: intervals are (n, 3, 2).
# Leave-one-out predictions show how well each target is predicted.
X_lin, Y_lin = load_linnerud(return_X_y=True, as_frame=True)
targets = list(Y_lin.columns)
X_lin, Y_lin = X_lin.to_numpy(float), Y_lin.to_numpy(float)
model = make_pipeline(StandardScaler(), ConjugateLinearRegression())
print(
    "intervals of one fit:",
    predict_dist(model.fit(X_lin, Y_lin), X_lin).interval(0.9).shape,
)
mean = np.empty_like(Y_lin)
interval = np.empty((*Y_lin.shape, 2))
for train, test in LeaveOneOut().split(X_lin):
    dist = predict_dist(model.fit(X_lin[train], Y_lin[train]), X_lin[test])
    mean[test], interval[test] = dist.mean, dist.interval(0.9)

fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for j, ax in enumerate(axes):
    ax.errorbar(
        Y_lin[:, j],
        mean[:, j],
        yerr=[mean[:, j] - interval[:, j, 0], interval[:, j, 1] - mean[:, j]],
        fmt="o",
        ms=4,
        alpha=0.7,
    )
    span = [Y_lin[:, j].min(), Y_lin[:, j].max()]
    ax.plot(span, span, "k--", lw=1)
    ax.set_title(targets[j])
    ax.set_xlabel("observed")
axes[0].set_ylabel("leave-one-out prediction, 90% interval")
fig.tight_layout()
plt.show()

# %%
# Waist is predicted best. For pulse the evidence shrinks the coefficients'
# prior almost to zero (``prior_scale_`` per target below): with 20 rows the
# exercises say little about it, and the honest predictive is close to its
# mean with a band as wide as its spread, not a fitted line.
fitted = model.fit(X_lin, Y_lin)[-1]
for name, scale in zip(targets, fitted.prior_scale_, strict=True):
    print(f"{name}: prior_scale_ = {scale:.3g}")
