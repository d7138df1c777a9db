"""The S networks of a posterior (or an ensemble) at many rows, as packed GEMMs.

Prediction evaluates the same multilayer perceptron for S draws of its
weights at n rows. Broadcasting one matmul over the draws (``x @ W`` with
``W`` of shape (S, d, h)) builds an (S, b, h) intermediate per batch of
rows that does not stay in cache, and runs S small GEMMs. Here the first
layer of all S draws is *one* GEMM, ``X_chunk @ W1_packed`` with
``W1_packed`` of shape (d, S * h) (the draws side by side), over chunks of
``chunk_rows`` rows small enough that the (chunk_rows, S * h) activations
stay in cache; the later layers are batched matmuls over the draws
(``baddbmm``), reading those activations in place. Plain torch, float32 by
default, no gradients.

The result equals the broadcast forward pass (``bayesreg.pyro._network.
_mlp``) to float32 rounding: the same sums, in another order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

__all__ = ["PackedNetworks", "forward_draws"]

# In-place forms of the activations, applied to fresh activations.
_IN_PLACE = {torch.relu: torch.relu_, torch.tanh: torch.tanh_,
             torch.sigmoid: torch.sigmoid_}  # fmt: skip

#: rows per packed GEMM: (64, S * h) float32 activations are 2.5 MiB for
#: S = 200 draws of 50 units, about an L2 cache.
CHUNK_ROWS = 64


class PackedNetworks:
    """S networks' weights, laid out for :meth:`__call__`.

    Parameters
    ----------
    weights : ndarray of shape (S, D)
        Packed weight vectors, one per draw: per layer the (fan_in, fan_out)
        matrix row-major, then the fan_out biases (``_network._mlp``'s
        layout).
    shapes : sequence of (fan_in, fan_out)
        The layers.
    activation : callable
        Applied between layers (torch tensors in, tensors out).
    device : torch.device or str, default="cpu"
    dtype : torch.dtype, default=torch.float32
    """

    def __init__(
        self,
        weights: np.ndarray,
        shapes,
        activation: Callable[[torch.Tensor], torch.Tensor],
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        w = torch.as_tensor(np.ascontiguousarray(weights)).to(device, dtype)
        self.n_draws = S = int(w.shape[0])
        self.activation = _IN_PLACE.get(activation, activation)
        layers, pos = [], 0
        for fi, fo in shapes:
            W = w[:, pos : pos + fi * fo].reshape(S, fi, fo)
            pos += fi * fo
            layers.append((W, w[:, pos : pos + fo]))
            pos += fo
        (W1, b1), rest = layers[0], layers[1:]
        d, h = W1.shape[1], W1.shape[2]
        # (d, S * h): column s * h + j is unit j of draw s.
        self.first = (W1.permute(1, 0, 2).reshape(d, S * h).contiguous(),
                      b1.reshape(S * h).contiguous())  # fmt: skip
        self.rest = [(W.contiguous(), b[:, None, :].contiguous()) for W, b in rest]
        self.n_out = int(shapes[-1][1])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs of every draw at rows ``x`` (b, d): a (S, b, n_out) tensor."""
        S = self.n_draws
        W1, b1 = self.first
        h = torch.addmm(b1, x, W1)  # (b, S * h1): one GEMM for every draw
        if not self.rest:
            return h.view(x.shape[0], S, -1).transpose(0, 1)
        h = self.activation(h).view(x.shape[0], S, -1).transpose(0, 1)
        for i, (W, b) in enumerate(self.rest):
            h = torch.baddbmm(b, h, W)  # (S, b, fo)
            if i < len(self.rest) - 1:
                h = self.activation(h)
        return h


def forward_draws(
    X: np.ndarray | Iterable[np.ndarray],
    weights: np.ndarray,
    shapes,
    activation: Callable[[torch.Tensor], torch.Tensor],
    *,
    multi: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> np.ndarray:
    """The network of each of the S draws at every row, as float64.

    Parameters
    ----------
    X : ndarray of shape (n, d), or an iterable of such blocks of rows
        The (standardised) inputs; blocks are joined in order.
    weights : ndarray of shape (S, D)
        Packed weights of the S draws (see :class:`PackedNetworks`).
    shapes : sequence of (fan_in, fan_out)
    activation : callable
    multi : bool, default=False
        Whether the network has several outputs (k targets).
    chunk_rows : int, default=CHUNK_ROWS
        Rows per packed GEMM.
    device, dtype : where and in what precision to compute.

    Returns
    -------
    f : ndarray of shape (n, S), or (n, k, S) with ``multi``
        The draw axis last, as a :class:`~bayesreg.distributions.
        NormalMixture`'s ``locs``.
    """
    net = PackedNetworks(weights, shapes, activation, device, dtype)
    blocks = [X] if isinstance(X, np.ndarray) else X
    parts = []
    with torch.no_grad():
        for block in blocks:
            xb = torch.as_tensor(np.ascontiguousarray(block)).to(device, dtype)
            out = torch.empty(
                (xb.shape[0], net.n_out, net.n_draws), dtype=torch.float64
            )
            for start in range(0, xb.shape[0], chunk_rows):
                f = net(xb[start : start + chunk_rows])  # (S, b, k)
                out[start : start + chunk_rows] = f.permute(1, 2, 0)
            parts.append(out.numpy())
    n_out = net.n_out
    if not parts:
        return np.empty((0, n_out, net.n_draws) if multi else (0, net.n_draws))
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return out if multi else out[:, 0, :]
