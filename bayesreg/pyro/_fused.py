"""The BNN's log joint for one draw of the weights, with its gradient by hand.

SVI's step and NUTS' potential differentiate the log joint of
:func:`~bayesreg.pyro._network._log_joint` at one draw of the packed weights
and the log noise std. Written with torch's operators, that is a graph of
about forty nodes for a one-hidden-layer network, and for the networks and
minibatches of this library (a few thousand weights, 64 rows) autograd's
bookkeeping of those nodes costs more than their arithmetic: about a third
of a fit. :class:`LogJoint` computes the same value and its gradient in one
pass, backpropagating through the network by hand (three products a layer),
and hands autograd a single node.

The value is the same expression as ``_log_joint``'s, to rounding; the tests
compare value and gradient with autograd's, for every activation, both
likelihoods and one or several targets. Batches of draws (NUTS' and SVI's
several particles, prediction) keep the autograd path.
"""

from __future__ import annotations

import torch

__all__ = ["FUSED_ACTIVATIONS", "fused_log_joint", "log_joint_and_grad"]


def _relu_grad(h: torch.Tensor) -> torch.Tensor:
    return (h > 0).to(h.dtype)


def _tanh_grad(h: torch.Tensor) -> torch.Tensor:
    return 1.0 - h * h


def _sigmoid_grad(h: torch.Tensor) -> torch.Tensor:
    return h * (1.0 - h)


#: Each activation with its derivative written through its output.
FUSED_ACTIVATIONS = {
    torch.relu: _relu_grad,
    torch.tanh: _tanh_grad,
    torch.sigmoid: _sigmoid_grad,
}


def log_joint_and_grad(
    weights, log_s, X, y, w, w_sum, scales, shapes, act, c, het, prior, grad=True
):
    """``_log_joint`` at one draw ``weights`` (D,) and ``log_s`` (() or
    (k,)), the other arguments as there (``prior`` = (nu, tau) of the log
    noise std's Normal prior), and with ``grad`` its gradient with respect
    to both: ``(value, d_weights, d_log_s)``, else ``(value, None, None)``.
    No autograd: the network is backpropagated by hand."""
    nu, tau = prior
    multi = y.dim() == 2
    yk = y if multi else y[:, None]
    log_sk = log_s if multi else log_s.reshape(1)
    k = yk.shape[1]
    layers, pos = [], 0
    for fi, fo in shapes:
        W = weights[pos : pos + fi * fo].view(fi, fo)
        pos += fi * fo
        layers.append((W, weights[pos : pos + fo]))
        pos += fo
    hs, h = [X], X
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = act(h)
            hs.append(h)
    wk = w[:, None]
    r = yk - h[:, :k]
    if het:
        log_sig = h[:, k:] + log_sk
        prec = torch.exp(-2.0 * log_sig)
        q = wk * r * r * prec
        lik = (wk * log_sig).sum() + 0.5 * q.sum()
    else:
        prec = torch.exp(-2.0 * log_sk)
        wr2 = (wk * r * r).sum(0)
        lik = w_sum * log_sk.sum() + 0.5 * (wr2 * prec).sum()
    z = (log_sk - nu) / tau
    value = -0.5 * ((weights / scales) ** 2).sum() - 0.5 * (z * z).sum() - c * lik
    if not grad:
        return value, None, None
    d = c * wk * r * prec  # d value / d f
    if het:
        dg = c * (q - wk)  # d value / d g
        d = torch.cat([d, dg], dim=1)
        d_log_s = dg.sum(0)
    else:
        d_log_s = -c * (w_sum - wr2 * prec)
    d_log_s = d_log_s - z / tau
    act_grad = FUSED_ACTIVATIONS[act]
    parts = []
    for i in range(len(layers) - 1, -1, -1):
        W, _ = layers[i]
        parts += [d.sum(0), (hs[i].T @ d).reshape(-1)]
        if i:
            d = (d @ W.T) * act_grad(hs[i])
    d_weights = torch.cat(parts[::-1]) - weights / (scales * scales)
    return value, d_weights, d_log_s.reshape(log_s.shape)


class LogJoint(torch.autograd.Function):
    """:func:`log_joint_and_grad` as one autograd node: the gradient is
    formed in the forward pass, when either input needs one, and scaled in
    the backward pass."""

    @staticmethod
    def forward(ctx, weights, log_s, *args):
        need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        value, d_weights, d_log_s = log_joint_and_grad(weights, log_s, *args, grad=need)
        ctx.grads = (d_weights, d_log_s)
        return value

    @staticmethod
    def backward(ctx, grad):
        d_weights, d_log_s = ctx.grads
        return (grad * d_weights, grad * d_log_s) + (None,) * 10


def fused_log_joint(weights, log_s, X, y, w, w_sum, scales, shapes, act, c, het, prior):
    """:class:`LogJoint` applied (``w_sum`` and ``c`` may be tensors or floats)."""
    return LogJoint.apply(
        weights, log_s, X, y, w, w_sum, scales, shapes, act, c, het, prior
    )
