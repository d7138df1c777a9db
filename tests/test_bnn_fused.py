"""The BNN's log joint with its gradient by hand (``_fused.py``) against
autograd's, and SVI's step that uses it against the autograd step."""

import numpy as np
import pytest
import torch

from bayesreg.pyro import _network as N
from bayesreg.pyro import _svi
from bayesreg.pyro._elbo import DiagonalStep
from bayesreg.pyro._fused import LogJoint, log_joint_and_grad

ACTS = [torch.relu, torch.tanh, torch.sigmoid]
PRIOR = (N._NOISE_PRIOR_LOC, N._NOISE_PRIOR_SCALE)


def _problem(act, het, k, hidden, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = N._layer_shapes(3, hidden, 2 * k if het else k)
    D = sum(fi * fo + fo for fi, fo in shapes)
    scales = torch.as_tensor(N._prior_scales(shapes, 2.0, "fan_in"))

    def randn(*size):
        return torch.randn(*size, generator=gen, dtype=torch.float64)

    X, w = randn(20, 3), torch.rand(20, generator=gen, dtype=torch.float64) + 0.5
    y = randn(20, k) if k > 1 else randn(20)
    weights = (0.7 * randn(D)).requires_grad_()
    log_s = (0.3 * randn(k) if k > 1 else -0.4 + 0.3 * randn(())).requires_grad_()
    return weights, log_s, (X, y, w, w.sum(), scales, shapes, act)


@pytest.mark.parametrize("hidden", [(5,), (4, 3), ()], ids=str)
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("het", [False, True], ids=["normal", "het"])
@pytest.mark.parametrize("act", ACTS, ids=lambda a: a.__name__)
def test_value_and_gradient_equal_autograds(act, het, k, hidden):
    """A batch of one draw takes the autograd path of _log_joint; one draw
    the hand-written one: the same value and gradient to rounding."""
    weights, log_s, (X, y, w, w_sum, scales, shapes, act) = _problem(
        act, het, k, hidden
    )
    args = (X, y, w, w_sum, scales, shapes, act)
    ref = N._log_joint(weights[None], log_s[None], *args, lik_scale=1.7, het=het)[0]
    g_ref = torch.autograd.grad(ref, [weights, log_s])
    got = N._log_joint(weights, log_s, *args, lik_scale=1.7, het=het)
    assert got.grad_fn is not None and type(got.grad_fn).__name__ == "LogJointBackward"
    g_got = torch.autograd.grad(got, [weights, log_s])
    assert float(got) == pytest.approx(float(ref), rel=1e-12)
    for a, b in zip(g_got, g_ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)
    # without a gradient: the value alone
    value, d_w, d_s = log_joint_and_grad(
        weights.detach(), log_s.detach(), *args, 1.7, het, PRIOR, grad=False
    )
    assert d_w is None and d_s is None
    assert float(value) == pytest.approx(float(ref), rel=1e-12)


@pytest.mark.parametrize("het", [False, True], ids=["normal", "het"])
def test_the_autograd_node_passes_gradcheck(het):
    weights, log_s, (X, y, w, w_sum, scales, shapes, act) = _problem(
        torch.tanh, het, 2, (3,)
    )

    def f(weights, log_s):
        return LogJoint.apply(
            weights, log_s, X, y, w, w_sum, scales, shapes, act, 1.3, het, PRIOR
        )

    assert torch.autograd.gradcheck(f, (weights, log_s))


@pytest.mark.parametrize("het", [False, True], ids=["normal", "het"])
def test_svi_step_by_hand_equals_the_autograd_step(het):
    """The same draw eps, the same loss to the bit (float32), and the guide's
    gradients within float32 rounding of autograd's."""
    rng = np.random.default_rng(0)
    X, y, w = rng.normal(size=(100, 3)), rng.normal(size=100), rng.uniform(0.5, 2, 100)
    shapes = N._layer_shapes(3, (6,), 2 if het else 1)
    model = N._BNNModel(shapes, N._prior_scales(shapes, 2.0, "fan_in"), "tanh", het=het)
    problem = _svi.setup(
        model, (X, y, w), batch_size=20, init_scale=0.05, jit=True,
        init_loc_fn=N._InitLoc(shapes, 0.5, het=het),
    )  # fmt: skip
    step = _svi.init(problem, seed=0).work.elbo
    assert isinstance(step, DiagonalStep)
    assert hasattr(step.log_p, "value_and_grad")
    with torch.no_grad():  # away from the initial point, noise head included
        step.loc.add_(0.3 * torch.randn(step.loc.shape, generator=torch.Generator()))
    idx = torch.arange(20, 40)
    results = []
    for by_hand in (True, False):
        vg = step.log_p.value_and_grad
        if not by_hand:
            del step.log_p.value_and_grad
        torch.manual_seed(5)
        loss = step(idx)
        results.append((loss, step.loc.grad.clone(), step.scale.grad.clone()))
        step.loc.grad = step.scale.grad = None
        step.log_p.value_and_grad = vg
    (l1, a1, b1), (l2, a2, b2) = results
    assert l1 == pytest.approx(l2, rel=1e-6)
    np.testing.assert_allclose(
        a1.numpy(), a2.numpy(), rtol=1e-4, atol=1e-5 * a2.abs().max()
    )
    np.testing.assert_allclose(
        b1.numpy(), b2.numpy(), rtol=1e-4, atol=1e-5 * b2.abs().max()
    )


def test_several_particles_keep_the_autograd_step():
    """value_and_grad serves one draw; a batch of particles is autograd's."""
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(40, 2)), rng.normal(size=40), np.ones(40)
    shapes = N._layer_shapes(2, (4,), 2)
    model = N._BNNModel(
        shapes, N._prior_scales(shapes, 2.0, "fan_in"), "relu", het=True
    )
    result = _svi.fit_svi(
        model, (X, y, w), seed=0, max_iter=3, n_particles=3, jit=True, warn=False,
        init_loc_fn=N._InitLoc(shapes, 0.5, het=True), batch_size=20,
    )  # fmt: skip
    assert np.all(np.isfinite(result.loss_curve))
