"""Issue 20: the sparse output of a default ColumnTransformer through every
estimator, each tuned by GridSearchCV with the NLPD scorer; prints 90%
coverage and NLPD on held-out rows.

    OMP_NUM_THREADS=1 python benchmarks/bench_sparse_pipeline.py
"""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bayesreg import (
    ConjugateLinearRegression,
    DeepEnsembleRegressor,
    PyroBayesianLinear,
    PyroBNNRegressor,
    RidgeMAP,
    predict_dist,
)
from bayesreg.metrics import neg_nlpd_scorer

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
n = 2000
cities = [f"c{i:02d}" for i in range(15)]
eff = dict(zip(cities, rng.normal(0, 1, 15), strict=True))
df = pd.DataFrame(
    {
        "city": rng.choice(cities, n),
        "area": rng.gamma(4, 20, n),
        "age": rng.uniform(0, 80, n),
        "rooms": rng.integers(1, 7, n),
    }
)
y = (
    df.city.map(eff).to_numpy()
    + 0.02 * df.area
    - 0.01 * df.age
    + 0.3 * df.rooms
    + rng.normal(0, 0.5, n)
)
y = y.to_numpy()
ct = ColumnTransformer(
    [
        ("cat", OneHotEncoder(), ["city"]),
        ("num", StandardScaler(), ["area", "age", "rooms"]),
    ]
)
print("transformer output:", type(ct.fit_transform(df)).__name__)
Xtr, Xte, ytr, yte = train_test_split(df, y, random_state=0)
cands = {
    "ConjugateLinearRegression": (
        ConjugateLinearRegression(),
        {"conjugatelinearregression__fit_intercept": [True, False]},
    ),
    "RidgeMAP": (RidgeMAP(), {"ridgemap__alpha": [0.1, 1.0, 10.0]}),
    "PyroBayesianLinear": (
        PyroBayesianLinear(random_state=0),
        {"pyrobayesianlinear__fit_intercept": [True, False]},
    ),
    "PyroBNNRegressor": (
        PyroBNNRegressor(random_state=0),
        {"pyrobnnregressor__hidden_layer_sizes": [(20,), (50,)]},
    ),
    "DeepEnsembleRegressor": (
        DeepEnsembleRegressor(random_state=0),
        {"deepensembleregressor__hidden_layer_sizes": [(50,)]},
    ),
}
print("| estimator | best params | 90% coverage | test NLPD | time (s) |")
print("|---|---|---|---|---|")
for name, (est, grid) in cands.items():
    t = time.perf_counter()
    model = make_pipeline(ct, est)
    g = GridSearchCV(model, grid, scoring=neg_nlpd_scorer, cv=3).fit(Xtr, ytr)
    d = predict_dist(g, Xte)
    lo, hi = d.interval(0.9).T
    cover = np.mean((yte >= lo) & (yte <= hi))
    nlpd = -np.mean(d.logpdf(yte))
    seconds = time.perf_counter() - t
    print(f"| {name} | {g.best_params_} | {cover:.3f} | {nlpd:.3f} | {seconds:.1f} |")
