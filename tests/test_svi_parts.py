"""The SVI loop in parts (issue 22): setup / init / step / end_epoch / run,
checkpoint and export around a carry, as NumPyro's SVI.init / update / run.

``fit_svi`` is their composition; these tests hold the parts to it and to
each other exactly (bit for bit): a loop written by hand from ``step``, a
run split in two, an export in the middle of a run. A one-off script run
when the loop was split compared ``fit_svi`` with the single function it
replaced, bit for bit (see the commit message).
"""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pyro = pytest.importorskip("pyro")

from bayesreg.pyro import _engine, _svi  # noqa: E402
from bayesreg.pyro._network import (  # noqa: E402
    _BNNModel,
    _InitLoc,
    _layer_shapes,
    _prior_scales,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _problem(batch_size=25, guide="diagonal", n_lr_decays=1, **kw):
    """A small BNN fitted by the engine's own step with minibatches, and a
    schedule short enough that decays and Polyak averaging happen."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.sin(X[:, 0]) + 0.3 * rng.normal(size=60)
    shapes = _layer_shapes(2, (5,))
    model = _BNNModel(shapes, _prior_scales(shapes, 2.0, "fan_in"), "tanh")
    schedule = _engine.Schedule(n_iter_no_change=3, n_lr_decays=n_lr_decays, tol=1e3)
    options = dict(
        guide=guide,
        batch_size=batch_size,
        schedule=schedule,
        jit=True,
        init_loc_fn=_InitLoc(shapes, 0.5),
        n_threads=1,
    )
    return model, (X, y, np.ones(60)), options | kw


def _assert_same_state(a, b):
    assert pickle.dumps(a) == pickle.dumps(b)


def _assert_same_posterior(a, b):
    for name in ("loc", "scale", "scale_tril", "cov_factor", "cov_diag"):
        u, v = getattr(a, name, None), getattr(b, name, None)
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_array_equal(u, v)


def _by_hand(carry, max_iter):
    """The loop of ``run`` written from the parts, as a user would."""
    p = carry.problem
    curve = []
    with _svi.session(carry):
        for _ in range(max_iter):
            perm = torch.randperm(p.n)
            total = 0.0
            for i in range(p.steps_per_epoch):
                idx = perm[i * p.batch_size : (i + 1) * p.batch_size]
                carry, loss = _svi.step(carry, idx)
                total += loss
            curve.append(total / (p.steps_per_epoch * p.n_rows))
            carry, action = _svi.end_epoch(carry, curve[-1])
            if action is _svi.Action.STOP:
                break
    return carry, curve


@pytest.mark.parametrize("guide", ["diagonal", "multivariate"])
def test_a_loop_by_hand_from_init_and_step_equals_run(guide):
    model, data, options = _problem(guide=guide)
    problem = _svi.setup(model, data, **options)
    ran, curve, converged = _svi.run(_svi.init(problem, seed=3), 30)
    hand, hand_curve = _by_hand(_svi.init(problem, seed=3), 30)
    assert converged and len(curve) < 30  # the schedule stopped both
    assert hand_curve == curve
    assert hand.n_steps == ran.n_steps == len(curve) * problem.steps_per_epoch
    _assert_same_state(_svi.checkpoint(hand), _svi.checkpoint(ran))
    _assert_same_posterior(_svi.export(hand), _svi.export(ran))
    # and fit_svi is the composition of the parts
    result = _svi.fit_svi(model, data, seed=3, max_iter=30, **options)
    assert result.loss_curve == curve and result.converged
    _assert_same_state(result.state, _svi.checkpoint(ran))
    _assert_same_posterior(result.posterior, _svi.export(ran))


def test_a_run_continued_from_its_carry_equals_one_uninterrupted_run():
    # The carry keeps its own random stream between sessions, so a split run
    # draws the same minibatches and ELBO noise as one run.
    model, data, options = _problem()
    problem = _svi.setup(model, data, **options)
    one = _svi.run(_svi.init(problem, seed=0), 40)
    first = _svi.run(_svi.init(problem, seed=0), 4)
    rest = _svi.run(first.carry, 36)
    assert first.loss_curve + rest.loss_curve == one.loss_curve
    assert rest.converged == one.converged
    _assert_same_state(_svi.checkpoint(rest.carry), _svi.checkpoint(one.carry))
    _assert_same_posterior(_svi.export(rest.carry), _svi.export(one.carry))


def test_a_warm_start_from_a_checkpoint_draws_a_fresh_stream():
    """By design (fit_svi's init_state): a fit continued from an SVIState
    seeds its generator from (seed, steps so far), so with minibatches it
    does not replay the uninterrupted run's draws; it restores the
    parameters, Adam and the schedule exactly (test_warm_start holds a
    deterministic trajectory to the uninterrupted one). fit_svi's
    init_state is init's."""
    model, data, options = _problem()
    problem = _svi.setup(model, data, **options)
    first = _svi.run(_svi.init(problem, seed=0), 4)
    saved = _svi.checkpoint(first.carry)
    live = _svi.run(first.carry, 3)
    warm = _svi.run(_svi.init(problem, seed=0, init_state=saved), 3)
    assert warm.carry.n_steps == live.carry.n_steps
    assert warm.carry.n_epochs == live.carry.n_epochs == 7
    assert warm.loss_curve != live.loss_curve  # other minibatches and draws
    again = _svi.fit_svi(model, data, seed=0, max_iter=3, init_state=saved, **options)
    assert again.loss_curve == warm.loss_curve
    _assert_same_state(again.state, _svi.checkpoint(warm.carry))


def test_an_export_in_the_middle_changes_nothing():
    model, data, options = _problem(n_lr_decays=0)  # averaging from epoch 4
    problem = _svi.setup(model, data, **options)
    one = _svi.run(_svi.init(problem, seed=1), 12)
    first = _svi.run(_svi.init(problem, seed=1), 6)
    assert first.carry.work.progress.averaging
    middle = _svi.export(first.carry)
    last_iterate = _svi.checkpoint(first.carry).params
    rest = _svi.run(first.carry, 6)
    assert first.loss_curve + rest.loss_curve == one.loss_curve
    _assert_same_posterior(_svi.export(rest.carry), _svi.export(one.carry))
    # the export was the average, not the last iterate
    assert not np.array_equal(middle.loc, last_iterate["AutoDiagonalNormal.loc"])


def test_a_spent_carry_is_refused_and_a_step_needs_a_session():
    model, data, options = _problem()
    problem = _svi.setup(model, data, **options)
    carry = _svi.init(problem, seed=0)
    before = _svi.checkpoint(carry)
    with pytest.raises(RuntimeError, match="session"):
        _svi.step(carry, problem.rows[:25])
    _assert_same_state(_svi.checkpoint(carry), before)  # nothing happened
    with _svi.session(carry):
        new, loss = _svi.step(carry, problem.rows[:25])
        assert np.isfinite(loss) and new.n_steps == carry.n_steps + 1
        for use in (
            lambda: _svi.step(carry, problem.rows[:25]),
            lambda: _svi.end_epoch(carry, loss),
            lambda: _svi.checkpoint(carry),
            lambda: _svi.export(carry),
        ):
            with pytest.raises(ValueError, match="spent"):
                use()
        _svi.step(new, problem.rows[:25])  # the new one steps on


def test_a_step_with_a_loss_that_is_not_finite_changes_nothing():
    model, data, options = _problem()
    problem = _svi.setup(model, data, **options)
    carry = _svi.init(problem, seed=0)
    before = _svi.checkpoint(carry)
    carry.work.elbo = lambda idx: float("nan")
    with _svi.session(carry):
        same, loss = _svi.step(carry, problem.rows[:25])
    assert same is carry and np.isnan(loss)
    _assert_same_state(_svi.checkpoint(carry), before)


def test_sessions_keep_the_callers_random_state_threads_and_store():
    model, data, options = _problem()
    problem = _svi.setup(model, data, **(options | {"n_threads": 1}))
    pyro.clear_param_store()
    user = pyro.param("user", torch.ones(2))
    torch.manual_seed(7)
    rng, threads = torch.get_rng_state(), torch.get_num_threads()
    carry = _svi.init(problem, seed=0)
    with pytest.raises(KeyboardInterrupt), _svi.session(carry):
        assert torch.get_num_threads() == 1
        carry, _ = _svi.step(carry, problem.rows[:25])
        raise KeyboardInterrupt
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.get_num_threads() == threads
    assert list(pyro.get_param_store().keys()) == ["user"]
    assert pyro.param("user").unconstrained() is user.unconstrained()
    pyro.clear_param_store()


def test_setup_refuses_an_unknown_guide():
    model, data, options = _problem()
    with pytest.raises(ValueError, match="guide must be one of"):
        _svi.setup(model, data, **(options | {"guide": "flow"}))
