"""PyroBNNRegressor's model: the network, its priors, NUTS target and scaling.

Everything here works on standardised data; the estimator in
:mod:`bayesreg.pyro.bnn` scales, fits and maps back.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyro
import pyro.distributions as dist
import torch

from ..distributions import NormalMixture
from ..networks._base import ACTIVATIONS as _ACTIVATIONS
from ._fused import FUSED_ACTIVATIONS, fused_log_joint, log_joint_and_grad

# Prior on the noise std of the standardised target: LogNormal(log 0.5, 1).
# Its median is half the target's std and it puts 95% of its mass between
# 0.07 and 3.5 target stds: weak for any data set, yet it keeps the noise
# away from 0 on tiny data.
_NOISE_PRIOR_LOC = math.log(0.5)
_NOISE_PRIOR_SCALE = 1.0
_NOISE_PRIOR = (_NOISE_PRIOR_LOC, _NOISE_PRIOR_SCALE)
# Initial noise std of the guide, also in target stds (the prior's median).
_NOISE_INIT = 0.5

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)

# Step-size schedule of SVI (engine options): on each plateau of the smoothed
# ELBO the step size drops by ``lr_decay_factor``, ``n_lr_decays`` times;
# the iterates of the last phase are averaged (Polyak).
_SVI_SCHEDULE = {"n_lr_decays": 2, "lr_decay_factor": 0.2, "polyak": True}


# ---------------------------------------------------------------- numerics
def _layer_shapes(
    n_features: int, hidden: tuple[int, ...], n_outputs: int = 1
) -> list[tuple[int, int]]:
    sizes = (n_features, *hidden, n_outputs)
    return list(itertools.pairwise(sizes))


def _prior_scales(shapes, prior_std: float, prior: str) -> np.ndarray:
    """Prior std of every entry of the packed weight vector, shape (D,).

    Packing per layer: the (fan_in, fan_out) weight matrix row-major, then
    the fan_out biases. ``prior="fan_in"`` divides the std of a layer's
    weights (not its biases) by sqrt(fan_in), as in He/LeCun initialisation.
    """
    out = []
    for fi, fo in shapes:
        w_std = prior_std / math.sqrt(fi) if prior == "fan_in" else prior_std
        out += [np.full(fi * fo, w_std), np.full(fo, prior_std)]
    return np.concatenate(out)


def _mlp(
    x: torch.Tensor, w: torch.Tensor, shapes, activation, multi: bool = False
) -> torch.Tensor:
    """Network output for packed weights ``w`` of shape (D,) or (S, D).

    ``x`` has shape (b, d); returns (b,) or (S, b), or with ``multi`` (several
    targets) every output, (b, k) or (S, b, k). One code path serves the
    model (one draw per step) and prediction (S draws at once, batched
    matmul).
    """
    lead = w.shape[:-1]
    h, pos = x, 0
    for layer, (fi, fo) in enumerate(shapes):
        W = w[..., pos : pos + fi * fo].reshape(*lead, fi, fo)
        pos += fi * fo
        b = w[..., pos : pos + fo].reshape(*lead, 1, fo)
        pos += fo
        h = h @ W + b
        if layer < len(shapes) - 1:
            h = activation(h)
    return h if multi else h[..., 0]


def _log_joint(
    weights, log_s, X, y, w, w_sum, scales, shapes, act, lik_scale=1.0, het=False
):
    """log p(weights, log s, y | X) of :class:`_BNNModel`, less its constants.

    Over the weights (..., D) and the log noise std ``log_s`` (...), with
    row weights ``w`` (summing to ``w_sum``) and the likelihood scaled by
    ``lik_scale``::

        -|w / prior|^2 / 2 - ((log s - nu) / tau)^2 / 2
        - lik_scale * [w_sum log s + sum_i k_i (y_i - f(x_i))^2 / (2 s^2)],

    the density with LogNormal's Jacobian absorbed into log s. The constants
    are :func:`_prior_const` and ``-lik_scale * w_sum * log(2 pi) / 2``
    (times k). Shared by the NUTS potential and the SVI step. With several
    targets ``y`` is (b, k) and ``log_s`` (..., k): one noise per output,
    the terms summed over the outputs. With ``het`` the network has twice
    the outputs, the last half the log noise offsets g: row i's noise std
    is ``s exp(g(x_i))``, so ``log s`` above becomes ``log s + g(x_i)``.
    """
    if weights.dim() == 1 and act in FUSED_ACTIVATIONS and torch.is_grad_enabled():
        # one draw, differentiated: the same value, its gradient by hand
        return fused_log_joint(
            weights, log_s, X, y, w, w_sum, scales, shapes, act, lik_scale, het,
            _NOISE_PRIOR,
        )  # fmt: skip
    if het:  # outputs (..., b, 2k): k means, then k log noise offsets
        out = _mlp(X, weights, shapes, act, multi=True)
        k, multi = out.shape[-1] // 2, y.dim() == 2
        yk, log_sk = (y, log_s) if multi else (y[:, None], log_s[..., None])
        log_sig = out[..., k:] + log_sk.unsqueeze(-2)
        wk = w[:, None]
        return (
            -0.5 * ((weights / scales) ** 2).sum(-1)
            - 0.5 * (((log_sk - _NOISE_PRIOR_LOC) / _NOISE_PRIOR_SCALE) ** 2).sum(-1)
            - lik_scale * (wk * log_sig).sum((-2, -1))
            - (0.5 * lik_scale)
            * (wk * (yk - out[..., :k]) ** 2 * torch.exp(-2.0 * log_sig)).sum((-2, -1))
        )
    if y.dim() == 2:
        f = _mlp(X, weights, shapes, act, multi=True)
        inv_var = torch.exp(-2.0 * log_s).unsqueeze(-2)
        return (
            -0.5 * ((weights / scales) ** 2).sum(-1)
            - 0.5 * (((log_s - _NOISE_PRIOR_LOC) / _NOISE_PRIOR_SCALE) ** 2).sum(-1)
            - (lik_scale * w_sum) * log_s.sum(-1)
            - (0.5 * lik_scale) * (w[:, None] * (y - f) ** 2 * inv_var).sum((-2, -1))
        )
    f = _mlp(X, weights, shapes, act)
    return (
        -0.5 * ((weights / scales) ** 2).sum(-1)
        - 0.5 * ((log_s - _NOISE_PRIOR_LOC) / _NOISE_PRIOR_SCALE) ** 2
        - (lik_scale * w_sum) * log_s
        - (0.5 * lik_scale) * (w * (y - f) ** 2).sum(-1) * torch.exp(-2.0 * log_s)
    )


def _prior_const(prior_scales: np.ndarray, n_outputs: int = 1) -> float:
    """The priors' normalising constant in :func:`_log_joint`'s coordinates."""
    D = prior_scales.shape[0]
    const = -(
        float(np.log(prior_scales).sum())
        + D * _HALF_LOG_2PI
        + math.log(_NOISE_PRIOR_SCALE)
        + _HALF_LOG_2PI
    )
    if n_outputs > 1:  # one noise prior per output
        const -= (n_outputs - 1) * (math.log(_NOISE_PRIOR_SCALE) + _HALF_LOG_2PI)
    return const


class _BNNModel:
    """The Pyro model: Gaussian weights, LogNormal noise, Normal likelihood.

    A picklable callable ``model(X, y, sample_weight, idx)`` following the
    engine's contract (likelihood in a subsampled ``"data"`` plate). Row
    ``i``'s log-likelihood is multiplied by its (positive) sample weight, so a
    weight ``k`` counts the row ``k`` times. With a 2-D ``y`` (several
    targets) the network has one output, and the model one noise std, per
    target. With ``rows`` (a sparse X, :class:`~bayesreg.pyro._data.Rows`)
    the first argument holds row numbers, and the standardised rows of a
    minibatch are densified when it is used (eager steps only). With
    ``het`` (``likelihood="heteroscedastic"``) the network has a second
    output per target, g, and row i's noise std is ``noise_std * exp(g(x_i))``.
    """

    def __init__(
        self, shapes, prior_scales: np.ndarray, activation: str, rows=None, het=False
    ):
        self.het = het
        self.shapes = shapes
        self.prior_scales = prior_scales
        self.activation = activation
        self.rows = rows

    def _x(self, X: torch.Tensor, y: torch.Tensor, idx) -> torch.Tensor:
        """The standardised rows ``idx`` (all rows for ``None``)."""
        if self.rows is None:
            return X if idx is None else X[idx]
        take = np.arange(X.shape[0]) if idx is None else idx.cpu().numpy()
        return torch.as_tensor(self.rows(take), dtype=y.dtype, device=y.device)

    def __call__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor,
        idx: torch.Tensor,
    ):
        scales = y.new_tensor(self.prior_scales)
        w = pyro.sample(
            "weights", dist.Normal(torch.zeros_like(scales), scales).to_event(1)
        )
        multi = y.dim() == 2
        noise_prior = dist.LogNormal(
            y.new_tensor(_NOISE_PRIOR_LOC), y.new_tensor(_NOISE_PRIOR_SCALE)
        )
        if multi:
            noise_prior = noise_prior.expand([y.shape[1]]).to_event(1)
        noise = pyro.sample("noise_std", noise_prior)
        with pyro.plate("data", X.shape[0], subsample=idx):
            f = _mlp(
                self._x(X, y, idx), w, self.shapes, _ACTIVATIONS[self.activation],
                multi=multi or self.het,
            )  # fmt: skip
            if self.het:  # the last half of the outputs: log noise offsets
                k = f.shape[-1] // 2
                f, noise = f[..., :k], noise * torch.exp(f[..., k:])
                if not multi:
                    f, noise = f[..., 0], noise[..., 0]
            # No argument validation: a diverged network must reach the
            # engine as a NaN loss (its FloatingPointError names the step
            # size), not as a ValueError from inside the distribution.
            lik = dist.Normal(f, noise, validate_args=False)
            with pyro.poutine.scale(scale=sample_weight[idx]):
                pyro.sample("obs", lik.to_event(1) if multi else lik, obs=y[idx])

    def log_density(
        self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor
    ):
        """This model's log joint density in the guide's coordinates, in torch.

        Returns ``log_p(latent, idx)``: ``latent`` maps ``"weights"`` (..., D)
        and ``"noise_std"`` (...) to their *unconstrained* values (the
        weights and the log noise std), with any leading batch shape, and
        ``log_p`` is the density of :meth:`__call__`'s sites at them, the
        likelihood of the rows ``idx`` scaled by ``n / len(idx)``, plus the
        log-Jacobian ``log s`` of ``s = exp(log s)``: what ``Trace_ELBO``
        sums over the model's sites, plus the log-Jacobian that the guide's
        noise site carries. The engine's own SVI step (see
        :mod:`~bayesreg.pyro._svi`) evaluates it instead of tracing the model.
        ``idx`` holds distinct rows (a slice of a permutation), so when it has
        all ``n`` rows they are summed in place, without gathering them.
        """
        n = X.shape[0]
        scales = y.new_tensor(self.prior_scales)
        shapes, act = self.shapes, _ACTIVATIONS[self.activation]
        k = y.shape[1] if y.dim() == 2 else 1
        prior_const = _prior_const(self.prior_scales, k)
        w_all = sample_weight.sum()
        X_all = self._x(X, y, None) if self.rows is None else None

        def batch(idx: torch.Tensor):
            m = idx.shape[0]
            if m == n:
                Xb, yb, wb, w_sum = X_all, y, sample_weight, w_all
                if Xb is None:  # sparse: the batch is every row
                    Xb = self._x(X, y, None)
            else:
                Xb, yb, wb = self._x(X, y, idx), y[idx], sample_weight[idx]
                w_sum = wb.sum()
            c = n / m
            return (Xb, yb, wb, w_sum, scales, shapes, act, c), prior_const - (
                c * _HALF_LOG_2PI
            ) * w_sum * k

        def log_p(latent: dict, idx: torch.Tensor) -> torch.Tensor:
            args, const = batch(idx)
            terms = _log_joint(
                latent["weights"], latent["noise_std"], *args[:-1], lik_scale=args[-1],
                het=self.het,
            )  # fmt: skip
            return terms + const

        def value_and_grad(latent: dict, idx: torch.Tensor):
            """One draw's log_p and its gradient by site, without autograd."""
            args, const = batch(idx)
            value, d_w, d_s = log_joint_and_grad(
                latent["weights"], latent["noise_std"], *args, self.het, _NOISE_PRIOR
            )
            return value + const, {"weights": d_w, "noise_std": d_s}

        if act in FUSED_ACTIVATIONS:  # the SVI step's gradient by hand
            log_p.value_and_grad = value_and_grad
        return log_p


#: NUTS trajectories are capped at 2^7 = 128 leapfrog steps: a network's
#: posterior otherwise drives NUTS to its default depth of 10 (1,023 steps a
#: draw; 310 s a chain for 10 units on 500 rows, against 40 s here).
_NUTS_MAX_TREE_DEPTH = 7


class _NUTSTarget:
    """The model's potential energy, written once in torch.

    Over the packed unconstrained latents theta = (weights, log noise std),

        U = -[sum_j log N(w_j; 0, prior_j) + log N(log s; nu, tau)
              + sum_i k_i log N(y_i; f(x_i), s)],

    the model's own density (LogNormal's Jacobian absorbed into log s; row
    weights k_i as in the model; :func:`_log_joint`, which the SVI step
    shares), in eager torch: no Pyro tracing per gradient, and nothing
    compiled (a ``torch.jit.trace`` would stay in torch's global compilation
    unit for the life of the process, about 10 MiB a fit).
    ``to_model_sites`` maps draws back to the model's sites ``weights`` and
    ``noise_std``.
    """

    #: run_nuts options
    options = {"max_tree_depth": _NUTS_MAX_TREE_DEPTH}

    def __init__(self, model: _BNNModel, data, device):
        X, y, w = (torch.as_tensor(a, dtype=torch.float64, device=device) for a in data)
        scales = torch.as_tensor(model.prior_scales, dtype=torch.float64, device=device)
        shapes, act = model.shapes, _ACTIVATIONS[model.activation]
        self.n_weights = int(scales.shape[0])
        self.device = device
        D = self.n_weights
        # several targets: one log noise std per output, theta[D:]
        self.k = k = y.shape[1] if y.dim() == 2 else None
        w_sum = w.sum()
        const = _prior_const(model.prior_scales, k or 1) - w_sum * _HALF_LOG_2PI * (
            k or 1
        )

        def energy(theta):
            log_s = theta[D] if k is None else theta[D:]
            log_p = _log_joint(
                theta[:D], log_s, X, y, w, w_sum, scales, shapes, act, het=model.het
            )
            return -(log_p + const)

        self._energy = energy

    def potential(self, params: dict) -> torch.Tensor:
        return self._energy(params["theta"])

    def initial_params(self) -> dict:
        """A start drawn uniformly in (-2, 2) per coordinate (init_to_uniform)."""
        size = self.n_weights + (self.k or 1)
        u = torch.rand(size, dtype=torch.float64, device=self.device)
        return {"theta": 4.0 * u - 2.0}

    def to_model_sites(self, draws: dict) -> dict:
        theta = draws["theta"]
        D = self.n_weights
        return {
            "weights": theta[:, :D],
            "noise_std": torch.exp(theta[:, D] if self.k is None else theta[:, D:]),
        }


class _InitLoc:
    """Initial guide location: random weights (LeCun normal), zero biases.

    The symmetric point ``weights = 0`` (Pyro's ``init_to_feasible``) would
    leave every hidden unit identical. With ``het`` the noise head (the last
    half of the outputs) starts at zero: a homoscedastic network. Runs
    inside the engine's privately seeded torch generator, so it is
    reproducible and private.
    """

    def __init__(self, shapes, noise_init: float, het: bool = False):
        self.het = het
        self.shapes = shapes
        self.noise_init = noise_init

    def __call__(self, site):
        value = site["fn"].sample()  # right shape, dtype and device
        if site["name"] == "noise_std":
            return torch.full_like(value, self.noise_init)
        parts = []
        last = len(self.shapes) - 1
        for i, (fi, fo) in enumerate(self.shapes):
            W = torch.randn(fi, fo, dtype=value.dtype) / math.sqrt(fi)
            if self.het and i == last:
                W[:, fo // 2 :] = 0.0
            parts += [W.reshape(-1), torch.zeros(fo, dtype=value.dtype)]
        return torch.cat(parts).to(value.device)


class _ScaledNormalMixture(NormalMixture):
    """The :class:`NormalMixture` of ``shift + scale * z``, quantiles via ``z``.

    ``NormalMixture.ppf`` stops its root search at 1e-12 relative to |y|,
    coarser than the predictive spread when that spread is below about 1e-10
    of |y| (a target like ``1e6 + 1e-6 * y``). Searching the quantiles of the
    standardised mixture (|z| about 1) and mapping them back keeps intervals
    equivariant in the units of y. Every other method is NormalMixture's.
    """

    def __init__(self, z_locs, z_scales, shift, scale):
        # shift and scale: floats, or (k,) per target (batch (n, k), draws last)
        if np.ndim(scale):
            shift, scale = np.asarray(shift), np.asarray(scale)
            super().__init__(
                z_locs * scale[:, None] + shift[:, None], z_scales * scale[:, None]
            )
        else:
            super().__init__(z_locs * scale + shift, z_scales * scale)
        self._standardised = NormalMixture(z_locs, z_scales)
        self._shift, self._scale = shift, scale

    def ppf(self, q) -> np.ndarray:
        z = self._standardised.ppf(q)
        shift, scale = self._shift, self._scale
        if np.ndim(scale) and z.ndim > len(self.batch_shape):
            # levels with a trailing axis of m values: z is (n, k, m)
            shift, scale = shift[:, None], scale[:, None]
        return shift + scale * z


def noise_head(shapes, n_noise: int) -> np.ndarray:
    """Which coordinates of the guide's latent vector (the packed weights,
    then ``n_noise`` log noise stds) belong to the noise head of a
    heteroscedastic network: the last half of the last layer's outputs."""
    held = [np.zeros(fi * fo + fo, dtype=bool) for fi, fo in shapes]
    fi, fo = shapes[-1]
    W = np.zeros((fi, fo), dtype=bool)
    W[:, fo // 2 :] = True
    held[-1] = np.concatenate([W.ravel(), np.arange(fo) >= fo // 2])
    return np.concatenate([*held, np.zeros(n_noise, dtype=bool)])


def _unpack(w: np.ndarray, shapes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    coefs, intercepts, pos = [], [], 0
    for fi, fo in shapes:
        coefs.append(w[pos : pos + fi * fo].reshape(fi, fo))
        pos += fi * fo
        intercepts.append(w[pos : pos + fo].copy())
        pos += fo
    return coefs, intercepts


def raw_parameters(draws: dict, est) -> dict:
    """Per-layer weights of the network that maps raw X to raw y.

    The fitted estimator ``est`` holds the standardisation and the layout.
    A heteroscedastic network's noise head (the last half of its outputs,
    log offsets of the noise std) is unitless: only the means are mapped.
    """
    w = draws["weights"]
    shapes, out, pos = est._shapes, {}, 0
    last = len(shapes) - 1
    for i, (fi, fo) in enumerate(shapes):
        coef = w[:, pos : pos + fi * fo].reshape(-1, fi, fo)
        pos += fi * fo
        intercept = w[:, pos : pos + fo]
        pos += fo
        if i == 0:  # inputs were (x - x_mean) / x_scale
            coef = coef / est._x_scale[:, None]
            intercept = intercept - np.einsum("j,sjk->sk", est._x_mean, coef)
        if i == last:  # outputs are y_mean + y_scale * f
            m = fo // 2 if est._het else fo
            coef, intercept = coef.copy(), intercept.copy()
            coef[..., :m] *= est._y_scale
            intercept[:, :m] = intercept[:, :m] * est._y_scale + est._y_mean
        out[f"coef_{i}"], out[f"intercept_{i}"] = coef, intercept
    out["noise_std"] = np.array(draws["noise_std"])
    return out


def arviz_layout(shapes, multi: bool, het: bool):
    """ArviZ names and dimensions of :func:`raw_parameters`' keys. The last
    layer's units are ``output``, or ``head`` (the means, then the log
    noise offsets) for a heteroscedastic network."""
    n_layers = len(shapes)
    units = ["feature", *(f"hidden_{i}" for i in range(n_layers - 1))]
    units.append("head" if het else "output")
    names, dims = [], {}
    for i in range(n_layers):
        names += [f"coef_{i}", f"intercept_{i}"]
        dims[f"coef_{i}"] = units[i : i + 2]
        dims[f"intercept_{i}"] = units[i + 1 : i + 2]
    if multi:
        dims["noise_std"] = ["output"]
    return [*names, "noise_std"], dims, {}
