"""
==============================================================
Out-of-core fits: chunks from disk, merged shards, dask arrays
==============================================================

:class:`~bayesreg.ConjugateLinearRegression` sees the data only through its
sufficient statistics (the weighted sums of squares and cross-products of
the features and the target), and the statistics of two pieces of a data
set combine exactly into those of the whole. So a data set never needs to
be in memory at once:

- :meth:`~bayesreg.ConjugateLinearRegression.partial_fit` reads it chunk by
  chunk from disk;
- shards fitted separately (on other machines, say) combine with
  :meth:`~bayesreg.ConjugateLinearRegression.merge`;
- a :mod:`dask.array` over the file is reduced block by block by dask (on a
  ``dask.distributed`` cluster too), and only the statistics come back.

All three give the posterior of one in-memory fit, up to rounding. The
data here are the seed problem, ``y = x sin(10 x) + 0.1 noise`` with ``x``
uniform on [0, 1], expanded into Chebyshev features of degree 9 and written
to a ``.npy`` file piece by piece; the noise std and the prior scale are
fitted by empirical Bayes, re-estimated as every chunk arrives.
"""

# %%
# Write the data set to disk in pieces
# ------------------------------------
# :func:`numpy.lib.format.open_memmap` creates a ``.npy`` file of the final
# shape; each piece is generated and written without the others in memory.
import itertools
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone

from bayesreg import BasisExpansion, ConjugateLinearRegression
from bayesreg.datasets import seed_function

N_ROWS, PIECE = 100_000, 10_000
basis = BasisExpansion(kind="chebyshev", degree=9).fit([[0.0], [1.0]])
n_features = basis.n_output_features_

tmp = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
X_path, y_path = Path(tmp.name) / "X.npy", Path(tmp.name) / "y.npy"
X_file = np.lib.format.open_memmap(X_path, mode="w+", shape=(N_ROWS, n_features))
y_file = np.lib.format.open_memmap(y_path, mode="w+", shape=(N_ROWS,))
for i, start in enumerate(range(0, N_ROWS, PIECE)):
    rng = np.random.default_rng(i)
    x = rng.uniform(0.0, 1.0, size=(PIECE, 1))
    X_file[start : start + PIECE] = basis.transform(x)
    y_file[start : start + PIECE] = seed_function(x[:, 0]) + 0.1 * rng.normal(
        size=PIECE
    )
X_file.flush()
y_file.flush()
del X_file, y_file

# %%
# Read it back chunk by chunk
# ---------------------------
# ``np.load(..., mmap_mode="r")`` maps the file without reading it; slicing
# reads one chunk. The chunks grow geometrically, so that the posterior can
# be watched over three decades of data.
bounds = np.concatenate([[0], np.geomspace(100, N_ROWS, 16).round().astype(int)])


def chunks_from_disk():
    X_map = np.load(X_path, mmap_mode="r")
    y_map = np.load(y_path, mmap_mode="r")
    for a, b in itertools.pairwise(bounds):
        yield np.array(X_map[a:b]), np.array(y_map[a:b])


model = ConjugateLinearRegression(fit_hyperparameters=True)
online = clone(model)
rows_seen, coef_std = [], []
for X_chunk, y_chunk in chunks_from_disk():
    online.partial_fit(X_chunk, y_chunk)
    rows_seen.append(online.sufficient_stats_.n)
    coef_std.append(np.sqrt(np.diag(online.coef_cov_)))
coef_std = np.array(coef_std)

# %%
# Compare with the in-memory fit
# ------------------------------
# Here the file is small enough to load, which gives the reference. Four
# shards, fitted separately and merged, and (if dask is installed) a dask
# array over the same file give the same posterior.
X_all, y_all = np.load(X_path), np.load(y_path)
batch = clone(model).fit(X_all, y_all)


def max_rel_diff(est):
    return max(
        np.max(np.abs(getattr(est, name) - getattr(batch, name)))
        / np.max(np.abs(getattr(batch, name)))
        for name in ("coef_", "coef_cov_", "intercept_", "noise_std_")
    )


shard_rows = np.array_split(np.arange(N_ROWS), 4)
shards = [clone(model).fit(X_all[rows], y_all[rows]) for rows in shard_rows]
merged = shards[0].merge(*shards[1:])

results = {"partial_fit over chunks": online, "merge of 4 shards": merged}
try:
    import dask.array as da
except ImportError:  # dask is optional
    da = None
if da is not None:
    X_lazy = da.from_array(np.load(X_path, mmap_mode="r"), chunks=(PIECE, -1))
    y_lazy = da.from_array(np.load(y_path, mmap_mode="r"), chunks=PIECE)
    results["dask array over the file"] = clone(model).fit(X_lazy, y_lazy)

print(f"{'fit':<28} max relative difference to the in-memory fit")
for name, est in results.items():
    print(f"{name:<28} {max_rel_diff(est):.1e}")
print(f"noise std {batch.noise_std_:.4f} (true 0.1)")

# %%
# Plot the posterior predictive and how the posterior narrows
# -----------------------------------------------------------
# Left: the 95% predictive interval of the chunked fit (almost all noise
# after 100,000 points) over a sample of the data. Right: the posterior std
# of each coefficient as the chunks arrive; it falls like 1/sqrt(n) (dashed).
grid = np.linspace(0.0, 1.0, 200)[:, None]
lower, upper = online.predict_interval(basis.transform(grid)).T
sample = np.random.default_rng(99).choice(N_ROWS, 500, replace=False)
x_sample = np.load(X_path, mmap_mode="r")[np.sort(sample), 0]  # T_1(z) = 2x - 1

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
left.plot((x_sample + 1) / 2, y_all[np.sort(sample)], ".", ms=3, alpha=0.4,
          color="0.4", label="500 of the 100,000 points")  # fmt: skip
left.fill_between(grid[:, 0], lower, upper, alpha=0.3, label="95% predictive")
left.plot(grid, online.predict(basis.transform(grid)), label="posterior mean")
left.plot(grid, seed_function(grid), "k--", lw=1, label="x sin(10 x)")
left.set(xlabel="x", ylabel="y", title="Fitted chunk by chunk from disk")
left.legend(loc="lower left", fontsize=8)

right.loglog(rows_seen, coef_std, color="C0", alpha=0.6)
guide = coef_std[-1].max() * np.sqrt(rows_seen[-1] / np.array(rows_seen))
right.loglog(rows_seen, guide, "k--", lw=1, label="1 / sqrt(n)")
right.set(xlabel="rows seen", ylabel="posterior std of each coefficient",
          title="The posterior narrows as chunks arrive")  # fmt: skip
right.legend()
fig.tight_layout()

tmp.cleanup()
plt.show()
