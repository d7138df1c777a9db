"""Torch numerics of DeepEnsembleRegressor: members trained as one batched graph.

Pure functions over arrays in standardised units; no validation (the
estimator in ``ensemble.py`` validates and scales). Every member's randomness
(its anchor, its held-out rows, its minibatch order) comes from its own seed,
and its early stopping looks at itself alone, so a member's fit does not
depend on which other members share the batched graph: fitting the members
one by one (``n_jobs``) gives the same members as fitting them together, up
to the rounding of batched against single matrix products.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ._base import ACTIVATIONS
from ._forward import forward_draws

#: Held-out rows per member are capped: early stopping needs a precise
#: estimate of the held-out loss, not 10% of a million rows.
MAX_VALIDATION_ROWS = 10_000
#: Minibatch runs evaluate the held-out loss every this many steps (or every
#: epoch when an epoch is shorter).
EVAL_INTERVAL = 50
#: Rows per block when predicting (bounds the float32 copy of X's rows).
PREDICT_CHUNK = 65_536
#: A member whose held-out loss has not improved for this share of
#: ``n_iter_no_change`` steps (since its best step or its last cut) multiplies
#: its step size by ``LR_DECAY`` and goes back to its best weights. Adam
#: moves every weight by about its step size whatever the gradient, so a
#: fixed step bounds the precision of the fit (near-deterministic data need
#: errors far below 1e-2 of the std of y); cutting it on a plateau lets each
#: member go as far as its held-out rows reward. Going on from where it is
#: instead leaves a member that had wandered off stuck there (issue 22's
#: case: test RMSE 1.3e-3 against 1.1e-4).
LR_PATIENCE_SHARE = 0.5
LR_DECAY = 0.3
#: The first layer is optimised in the principal axes of the training rows
#: when the condition number of their (standardised) covariance exceeds this
#: and X is dense with at most ``MAX_ROTATED_FEATURES`` columns: see
#: ``principal_axes``.
ROTATE_CONDITION = 1e6
MAX_ROTATED_FEATURES = 1024


@dataclass(frozen=True)
class Config:
    """Training settings (standardised units); see DeepEnsembleRegressor."""

    hidden: tuple[int, ...]
    activation: str
    prior_std: float
    anchored: bool
    learning_rate: float
    max_iter: int
    batch_size: int | None
    validation_fraction: float
    n_iter_no_change: int
    warmup_iter: int
    variance_floor: float


def layer_shapes(
    n_features: int, hidden: tuple[int, ...], n_outputs: int | None = None
) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each layer; the output layer has the mean and the
    noise pre-activation as its two columns (with ``n_outputs`` targets, the
    k means and then the k noise pre-activations)."""
    sizes = (n_features, *hidden, 2 * (n_outputs or 1))
    return list(itertools.pairwise(sizes))


def prior_stds(shapes, prior_std: float) -> list[float]:
    """Prior std of each parameter tensor, weights then biases per layer.

    Weights of a layer with ``fan_in`` inputs: ``prior_std / sqrt(fan_in)``
    (LeCun's scaling, which keeps the prior over functions O(1) whatever the
    width); biases: ``prior_std``.
    """
    out = []
    for fi, _ in shapes:
        out += [prior_std / math.sqrt(fi), prior_std]
    return out


def forward(params, X, activation, floor: float, n_out: int | None = None):
    """Members' mean and noise std at rows X.

    ``params`` alternates weights (M, fan_in, fan_out) and biases
    (M, 1, fan_out); ``X`` is (M, b, d) or (b, d) (the same rows for every
    member). Returns two (M, b) tensors, or (M, b, k) with ``n_out = k``
    targets.
    """
    M = params[0].shape[0]
    h = X if X.dim() == 3 else X.expand(M, *X.shape)
    n_layers = len(params) // 2
    for k in range(n_layers):
        h = torch.baddbmm(params[2 * k + 1], h, params[2 * k])
        if k < n_layers - 1:
            h = activation(h)
    if n_out is not None:
        return h[..., :n_out], F.softplus(h[..., n_out:]) + floor
    return h[..., 0], F.softplus(h[..., 1]) + floor


def principal_axes(X, w) -> np.ndarray | None:
    """Orthogonal (d, d) matrix whose columns are the principal axes of the
    standardised training rows ``X`` (weights ``w``), by decreasing weighted
    variance; ``None`` where the rows are well conditioned (condition number
    of their covariance at most ``ROTATE_CONDITION``), X is not an array, or
    it has more than ``MAX_ROTATED_FEATURES`` columns. Columns constant over
    the rows (zero after standardisation) are not rotated nor counted.

    The members' first-layer weights ``W`` are optimised as ``W = R V``: the
    prior over ``W`` (independent, equal stds) is invariant under rotation,
    so the anchors, the penalty and the objective are those of ``W``; only
    Adam's per-coordinate steps change axes. In the original axes, collinear
    columns (a simulator's outputs, where a few settings drive every column)
    get nearly the same gradient, so Adam moves all their weights by its step
    size at once and the function moves many times further than one step
    (measured: members diverging to 100 times the std of y); in the
    principal axes each step moves one direction of the data. Where the
    columns are far from collinear this buys nothing and loses the axes the
    data came in (measured on yacht), hence the condition. Signs are fixed
    (largest entry of each axis positive) so that the same data give the
    same matrix bit for bit.
    """
    if not isinstance(X, np.ndarray):
        return None
    d = X.shape[1]
    if d > MAX_ROTATED_FEATURES or d < 2:
        return None
    p = w / w.sum()
    mean = p @ X
    gram = np.zeros((d, d))
    for start in range(0, X.shape[0], PREDICT_CHUNK):  # no copy of all of X
        Xc = X[start : start + PREDICT_CHUNK] - mean
        gram += (Xc * p[start : start + PREDICT_CHUNK, None]).T @ Xc
    # Columns constant over these rows have no gradient: left as they are.
    keep = np.flatnonzero(np.diag(gram) > 0)
    if keep.size < 2:
        return None
    evals, evecs = np.linalg.eigh(gram[np.ix_(keep, keep)])
    if evals[0] * ROTATE_CONDITION >= evals[-1]:
        return None
    axes = evecs[:, ::-1]
    sign = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(keep.size)])
    R = np.eye(d)
    R[np.ix_(keep, keep)] = axes * np.where(sign == 0, 1.0, sign)
    return R


def _gauss_nll(y, mu, sig):
    # Per-row Gaussian negative log density without the constant.
    return 0.5 * ((y - mu) / sig) ** 2 + torch.log(sig)


def _objective(mu, sig, y, w, warm: bool):
    """Per-member weighted mean over the batch of the training objective.

    The noise head always sees the Gaussian likelihood of the residuals of
    the member's (fixed) mean. The mean is fitted by least squares weighted
    by ``1 / min(sigma_i^2, mean sigma^2)`` (held fixed within the step):
    rows the noise head finds precise weigh in as the likelihood says, but
    no row weighs less than under a homoscedastic fit, which avoids the
    known failure of heteroscedastic maximum likelihood where a member
    explains badly fitted rows as noise and stops fitting them (Seitzer et
    al. 2022; Stirn et al. 2023). During the warm-up the mean is fitted by
    plain least squares (unit noise).
    """
    wsum = w.sum(1, keepdim=True)
    s = sig.detach()
    multi = y.dim() == 3  # (M, b, k): the batch mean of s^2 per output
    wk = w.unsqueeze(-1) if multi else w
    if warm:
        weight = torch.ones_like(s)
    else:
        s2 = s**2
        mean_s2 = (s2 * wk).sum(1, keepdim=True) / (
            wsum.unsqueeze(-1) if multi else wsum
        )
        weight = 1.0 / torch.minimum(s2, mean_s2)
    lik = 0.5 * weight * (y - mu) ** 2 + _gauss_nll(y, mu.detach(), sig)
    if multi:
        lik = lik.sum(-1)
    return (lik * w).sum(1) / wsum[:, 0]


def fit_members(X, y, w, seeds, cfg: Config, device, verbose: int = 0) -> dict:
    """Fit ``len(seeds)`` members on standardised float64 arrays.

    ``X`` is an array, or for a sparse X a callable that returns the
    standardised dense rows of an index array (``idx.shape + (d,)``):
    rows are then densified a minibatch (or the held-out rows) at a time.
    ``y`` is (n,) or, for k targets, (n, k).

    Returns NumPy arrays: ``params`` (list, weights then biases per layer,
    leading axis = member), ``best_iter`` and ``best_loss`` (per member; the
    held-out loss is the mean Gaussian negative log density, standardised
    units, without the constant), ``stopped`` (per member: early stopping
    fired), ``n_iter`` and ``loss_curve`` (mean training objective over
    members, one value per step).
    """
    M, (n, d) = len(seeds), X.shape
    dtype = torch.float64
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    n_out = y.shape[1] if y.ndim == 2 else None
    shapes = layer_shapes(d, cfg.hidden, n_out)
    stds = prior_stds(shapes, cfg.prior_std)

    # Each member's prior draw (its anchor and its starting point).
    anchors = []
    for (fi, fo), sw, sb in zip(shapes, stds[::2], stds[1::2], strict=True):
        Wd = torch.stack([torch.randn(fi, fo, generator=g, dtype=dtype) for g in gens])
        bd = torch.stack([torch.randn(1, fo, generator=g, dtype=dtype) for g in gens])
        anchors += [Wd * sw, bd * sb]

    # Each member's held-out rows: its own random subset.
    n_val = min(int(cfg.validation_fraction * n), MAX_VALIDATION_ROWS)
    if n - n_val < 1:
        n_val = 0
    perms = [torch.randperm(n, generator=g) for g in gens]
    val_idx = torch.stack([p[:n_val] for p in perms])
    train_idx = torch.stack([p[n_val:] for p in perms])
    n_tr = n - n_val

    if isinstance(X, np.ndarray):
        Xt = torch.as_tensor(X, dtype=dtype, device=device)

        def take(idx):
            return Xt[idx]

    else:

        def take(idx):
            return torch.as_tensor(X(idx.cpu().numpy()), dtype=dtype, device=device)

    # The first layer in the principal axes (ill-conditioned rows only):
    # optimised as V = R^T W, with W = R V in the forward pass and at the end.
    R = principal_axes(X, w)
    if R is not None:
        R = torch.as_tensor(R, dtype=dtype)
        anchors[0] = torch.einsum("ji,mjk->mik", R, anchors[0])
        R = R.to(device)

    def net(ps):
        return ps if R is None else [torch.matmul(R, ps[0]), *ps[1:]]

    yt = torch.as_tensor(y, dtype=dtype, device=device)
    wt = torch.as_tensor(w, dtype=dtype, device=device)
    anchors = [a.to(device) for a in anchors]
    params = [a.clone().requires_grad_(True) for a in anchors]
    centres = anchors if cfg.anchored else [torch.zeros_like(a) for a in anchors]
    inv_var = [1.0 / s**2 for s in stds]
    # The prior term is divided by the member's total training weight, as the
    # likelihood term is a weighted mean: the objective is the negative log
    # posterior per unit of weight, so one step size serves every n.
    w_train = wt[train_idx.to(device)].sum(1)

    act = ACTIVATIONS[cfg.activation]
    # Adam (Kingma and Ba 2015, Alg. 1), written out so that each member has
    # its own step size.
    lr = torch.full((M, 1, 1), cfg.learning_rate, dtype=dtype, device=device)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    moment1 = [torch.zeros_like(p) for p in params]
    moment2 = [torch.zeros_like(p) for p in params]
    patience = max(1, int(LR_PATIENCE_SHARE * cfg.n_iter_no_change))
    full = cfg.batch_size is None or cfg.batch_size >= n_tr
    B = n_tr if full else cfg.batch_size
    steps_per_epoch = math.ceil(n_tr / B)
    eval_every = 1 if full else min(EVAL_INTERVAL, steps_per_epoch)
    if n_val:
        vi = val_idx.to(device)
        Xv, yv, wv = take(vi), yt[vi], wt[vi]
    ti = train_idx.to(device)
    Xf, yf, wf = (take(ti), yt[ti], wt[ti]) if full else (None, None, None)

    best = [p.detach().clone() for p in params]
    best_loss = torch.full((M,), math.inf, dtype=dtype, device=device)
    best_iter = torch.zeros(M, dtype=torch.long, device=device)
    since = torch.zeros(M, dtype=torch.long, device=device)
    since_cut = torch.zeros(M, dtype=torch.long, device=device)
    done = torch.zeros(M, dtype=torch.bool, device=device)
    # Preallocated: a list of per-step scalar tensors fragments the heap (the
    # resident memory grew by ~0.5 MB a step on glibc).
    curve = torch.zeros(cfg.max_iter, dtype=dtype, device=device)
    order = None
    it = 0
    for it in range(cfg.max_iter):
        warm = it < cfg.warmup_iter
        if full:
            Xb, yb, wb = Xf, yf, wf
        else:
            k = it % steps_per_epoch
            if k == 0:
                order = torch.stack(
                    [
                        train_idx[m, torch.randperm(n_tr, generator=g)]
                        for m, g in enumerate(gens)
                    ]
                ).to(device)
            idx = order[:, k * B : (k + 1) * B]
            Xb, yb, wb = take(idx), yt[idx], wt[idx]
        mu, sig = forward(net(params), Xb, act, cfg.variance_floor, n_out)
        penalty = sum(
            (((p - c) ** 2).sum(dim=(1, 2)) * iv)
            for p, c, iv in zip(params, centres, inv_var, strict=True)
        )
        loss = _objective(mu, sig, yb, wb, warm) + 0.5 * penalty / w_train
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            c1 = 1 - beta1 ** (it + 1)
            c2 = math.sqrt(1 - beta2 ** (it + 1))
            for p, g, m1, m2 in zip(params, grads, moment1, moment2, strict=True):
                m1.mul_(beta1).add_(g, alpha=1 - beta1)
                m2.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                p.sub_((lr / c1) * m1 / (m2.sqrt() / c2 + eps))
        curve[it] = loss.detach().mean()
        if n_val and not warm and (it + 1) % eval_every == 0:
            with torch.no_grad():
                vm, vs = forward(net(params), Xv, act, cfg.variance_floor, n_out)
                nll = _gauss_nll(yv, vm, vs)
                v = ((nll.sum(-1) if n_out else nll) * wv).sum(1) / wv.sum(1)
                better = (v < best_loss) & ~done
                best_loss = torch.where(better, v, best_loss)
                best_iter = torch.where(better, it + 1, best_iter)
                since = torch.where(better, 0, since + eval_every)
                for b, p in zip(best, params, strict=True):
                    b.copy_(torch.where(better.view(M, 1, 1), p.detach(), b))
                done |= since >= cfg.n_iter_no_change
                # A stalled member goes back to its best, with a smaller step.
                since_cut = torch.where(better, 0, since_cut + eval_every)
                cut = (since_cut >= patience) & ~done
                if bool(cut.any()):
                    lr = torch.where(cut.view(M, 1, 1), lr * LR_DECAY, lr)
                    since_cut = torch.where(cut, 0, since_cut)
                    for b, p in zip(best, params, strict=True):
                        p.copy_(torch.where(cut.view(M, 1, 1), b, p))
            if bool(done.all()):
                break
        if verbose and (it + 1) % 500 == 0:
            print(f"step {it + 1}: objective {float(curve[it]):.4f}", flush=True)
    n_iter = it + 1 if cfg.max_iter else 0
    # Members never evaluated (no held-out rows, or a run shorter than the
    # warm-up) keep their last iterate.
    unseen = ~torch.isfinite(best_loss)
    final = [
        torch.where(unseen.view(M, 1, 1), p.detach(), b)
        for p, b in zip(params, best, strict=True)
    ]
    final = net(final)
    if not all(bool(torch.isfinite(p).all()) for p in final):
        raise FloatingPointError(
            "A member's weights became NaN or infinite: the optimiser diverged. "
            "Lower learning_rate_init."
        )
    return {
        "params": [p.cpu().numpy() for p in final],
        "best_iter": np.where(unseen.cpu().numpy(), n_iter, best_iter.cpu().numpy()),
        "best_loss": best_loss.cpu().numpy(),
        "stopped": done.cpu().numpy(),
        "n_iter": n_iter,
        "loss_curve": curve[:n_iter].cpu().numpy(),
    }


def predict_members(params, X, activation: str, floor: float, device, n_out=None):
    """Members' means and noise stds at rows X, arrays of shape (n, M), or
    (n, k, M) with ``n_out = k`` targets.

    ``params`` as :func:`forward`'s (NumPy arrays); ``X`` is an array, or an
    iterable of dense blocks of rows (a sparse X densified a chunk at a
    time). The members run as the BNN's posterior draws do: packed GEMMs in
    float32 (:func:`~bayesreg.networks._forward.forward_draws`), 64 rows
    at a time; the noise head's softplus is taken in float64.
    """
    M = params[0].shape[0]
    # Per layer the (fan_in, fan_out) weights row-major, then the biases.
    packed = np.concatenate([np.reshape(p, (M, -1)) for p in params], axis=1)
    shapes = [tuple(W.shape[1:]) for W in params[0::2]]
    if isinstance(X, np.ndarray):
        rows, n = X, X.shape[0]
        X = (rows[i : i + PREDICT_CHUNK] for i in range(0, n, PREDICT_CHUNK))
    out = forward_draws(X, packed, shapes, ACTIVATIONS[activation], multi=True,
                        device=device)  # fmt: skip
    k = n_out or 1  # out: (n, 2k, M), the k means then the k noise heads
    mu = out[:, :k]
    sig = F.softplus(torch.from_numpy(out[:, k:])).numpy() + floor
    return (mu, sig) if n_out is not None else (mu[:, 0], sig[:, 0])
