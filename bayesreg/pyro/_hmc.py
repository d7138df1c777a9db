"""A lean NUTS in NumPy, for potentials that return their own gradient.

Pyro's NUTS spends about a millisecond of Python per leapfrog step (site
dicts, scalar tensors, an autograd call), as much as the potential of the
collapsed horseshoe itself. This module runs the same algorithm on one
flat NumPy vector, the potential and its gradient given by one call
``value_and_grad(theta) -> (U, dU/dtheta)``:

- the transition is Pyro's (:class:`pyro.infer.mcmc.NUTS`): multinomial
  sampling with a biased progressive choice between the old tree and each
  doubling, a uniform one inside a subtree (Betancourt 2017, A.3), the
  generalised no-U-turn criterion on the momenta (A.4.2), a divergence when
  the energy error exceeds 1000, at most ``max_tree_depth`` doublings;
- the warm-up is Pyro's and Stan's: dual averaging of the log step size
  (Hoffman and Gelman 2014, eq. 6; gamma 0.05, t0 10, kappa 0.75, centred
  at log(10 eps)), a diagonal inverse mass matrix from the draws of
  doubling windows (75 steps of start buffer, 25 of first window, 50 of end
  buffer) with Stan's regularisation, a new reasonable step size after each
  window.

Randomness comes from the ``numpy.random.Generator`` passed in; nothing
global is read or changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ChainResult", "adaptation_windows", "nuts_chain"]

#: an energy error above this is a divergence (Pyro's ``_max_sliced_energy``)
MAX_DELTA_ENERGY = 1000.0
#: Pyro's and Stan's bounds when searching a reasonable step size, and the
#: acceptance of one step that the search crosses (Stan: log 0.8)
MIN_STEP, MAX_STEP, LOG_DIRECTION_THRESHOLD = 1e-10, 1e10, math.log(0.8)

ValueAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass
class ChainResult:
    """One chain: ``draws`` (n_draws, dim) and per kept transition the
    statistics of :data:`bayesreg.pyro._nuts.SAMPLE_STATS`; ``accept_rate``
    is the fraction of kept transitions that moved (Pyro's)."""

    draws: np.ndarray
    stats: dict[str, np.ndarray]
    accept_rate: float


class _Tree:
    """A (sub)trajectory: its two ends, the proposal, the summed momenta."""

    __slots__ = (
        "diverging", "g_left", "g_prop", "g_right", "n_steps", "r_left",
        "r_right", "r_sum", "sum_accept", "turning", "u_prop", "weight",
        "z_left", "z_prop", "z_right",
    )  # fmt: skip


class _Integrator:
    """Leapfrog steps and energies under a diagonal inverse mass matrix."""

    def __init__(self, value_and_grad: ValueAndGrad, inv_mass: np.ndarray):
        self.value_and_grad = value_and_grad
        self.inv_mass = inv_mass

    def kinetic(self, r: np.ndarray) -> float:
        return 0.5 * float(r @ (self.inv_mass * r))

    def leapfrog(self, z, r, g, eps):
        r = r - (0.5 * eps) * g
        z = z + eps * (self.inv_mass * r)
        u, g = self.value_and_grad(z)
        r = r - (0.5 * eps) * g
        return z, r, g, u

    def turning(self, r_left, r_right, r_sum) -> bool:
        # Betancourt (2017, A.4.2): rho = sum r - (r_left + r_right) / 2,
        # turning when M^-1 r at either end points away from rho
        rho = r_sum - 0.5 * (r_left + r_right)
        rho = self.inv_mass * rho
        return bool(r_left @ rho <= 0.0 or r_right @ rho <= 0.0)


def _leaf(integ, z, r, g, eps, energy0) -> _Tree:
    z, r, g, u = integ.leapfrog(z, r, g, eps)
    energy = u + integ.kinetic(r)
    delta = energy - energy0 if math.isfinite(energy) else math.inf
    t = _Tree()
    t.z_left = t.z_right = t.z_prop = z
    t.r_left = t.r_right = t.r_sum = r
    t.g_left = t.g_right = t.g_prop = g
    t.u_prop = u
    t.weight = -delta
    t.turning = False
    t.diverging = delta > MAX_DELTA_ENERGY
    t.sum_accept = math.exp(-delta) if delta > 0 else 1.0
    t.n_steps = 1
    return t


def _build(integ, rng, z, r, g, eps, depth, energy0) -> _Tree:
    """A subtree of 2^depth leapfrog steps of size eps (signed) from (z, r)."""
    if depth == 0:
        return _leaf(integ, z, r, g, eps, energy0)
    first = _build(integ, rng, z, r, g, eps, depth - 1, energy0)
    if first.turning or first.diverging:
        return first
    if eps > 0:
        z, r, g = first.z_right, first.r_right, first.g_right
    else:
        z, r, g = first.z_left, first.r_left, first.g_left
    other = _build(integ, rng, z, r, g, eps, depth - 1, energy0)
    t = _Tree()
    t.weight = np.logaddexp(first.weight, other.weight)
    # uniform progressive sampling inside a subtree
    take = rng.random() < math.exp(other.weight - t.weight)
    src = other if take else first
    t.z_prop, t.u_prop, t.g_prop = src.z_prop, src.u_prop, src.g_prop
    left, right = (first, other) if eps > 0 else (other, first)
    t.z_left, t.r_left, t.g_left = left.z_left, left.r_left, left.g_left
    t.z_right, t.r_right, t.g_right = right.z_right, right.r_right, right.g_right
    t.r_sum = first.r_sum + other.r_sum
    t.turning = other.turning or integ.turning(t.r_left, t.r_right, t.r_sum)
    t.diverging = other.diverging
    t.sum_accept = first.sum_accept + other.sum_accept
    t.n_steps = first.n_steps + other.n_steps
    return t


def nuts_transition(integ, rng, z, u, g, eps, max_tree_depth):
    """One NUTS transition from (z, U(z), grad U(z)).

    Returns the new (z, u, g) and (mean acceptance probability over the
    steps, number of steps, kept depth, diverged, moved).
    """
    r = rng.standard_normal(len(z)) / np.sqrt(integ.inv_mass)
    energy0 = u + integ.kinetic(r)
    zl = zr = z
    rl = rr = r_sum = r
    gl = gr = g
    log_weight = 0.0
    sum_accept, n_steps, depth, kept = 0.0, 0, 0, 0
    diverged = moved = False
    while depth < max_tree_depth:
        forward = rng.random() < 0.5
        if forward:
            new = _build(integ, rng, zr, rr, gr, eps, depth, energy0)
            zr, rr, gr = new.z_right, new.r_right, new.g_right
        else:
            new = _build(integ, rng, zl, rl, gl, -eps, depth, energy0)
            zl, rl, gl = new.z_left, new.r_left, new.g_left
        sum_accept += new.sum_accept
        n_steps += new.n_steps
        if new.diverging:
            diverged = True
            break
        if new.turning:
            break
        depth += 1
        kept = depth
        # biased progressive sampling between the old tree and the new one
        if rng.random() < math.exp(min(new.weight - log_weight, 0.0)):
            z, u, g, moved = new.z_prop, new.u_prop, new.g_prop, True
        r_sum = r_sum + new.r_sum
        if integ.turning(rl, rr, r_sum):
            break
        log_weight = np.logaddexp(log_weight, new.weight)
    return z, u, g, (sum_accept / max(n_steps, 1), n_steps, kept, diverged, moved)


def reasonable_step_size(integ, rng, z, u, g, eps: float) -> float:
    """Pyro's and Stan's search: double (or halve) eps until the acceptance
    of one leapfrog step crosses 0.8."""

    def log_accept(eps):
        r = rng.standard_normal(len(z)) / np.sqrt(integ.inv_mass)
        _, r_new, _, u_new = integ.leapfrog(z, r, g, eps)
        delta = u_new + integ.kinetic(r_new) - u - integ.kinetic(r)
        return -delta if math.isfinite(delta) else -math.inf

    direction = 1 if log_accept(eps) > LOG_DIRECTION_THRESHOLD else -1
    new_direction = direction
    while new_direction == direction and MIN_STEP < eps < MAX_STEP:
        eps = eps * 2.0**direction
        new_direction = 1 if log_accept(eps) > LOG_DIRECTION_THRESHOLD else -1
    return min(max(eps, MIN_STEP), MAX_STEP)


def adaptation_windows(n_warmup: int) -> list[tuple[int, int]]:
    """Pyro's (and Stan's) warm-up schedule: (start, end) of a start buffer,
    doubling mass-matrix windows and an end buffer."""
    if n_warmup < 20:
        return [(0, n_warmup - 1)]
    start, end, first = 75, 50, 25
    if start + end + first > n_warmup:
        start, end = int(0.15 * n_warmup), int(0.1 * n_warmup)
        first = n_warmup - start - end
    windows = [(0, start - 1)]
    end_start = n_warmup - end
    size, begin = first, start
    while begin < end_start:
        cur = size
        if 3 * cur <= end_start - begin:
            size = 2 * cur
        else:
            cur = end_start - begin
        windows.append((begin, begin + cur - 1))
        begin += cur
    windows.append((end_start, n_warmup - 1))
    return windows


class _DualAveraging:
    """Hoffman and Gelman (2014, eq. 6) on the log step size."""

    def __init__(self, eps, t0=10.0, kappa=0.75, gamma=0.05):
        self.mu, self.t0, self.kappa, self.gamma = (
            math.log(10.0 * eps),
            t0,
            kappa,
            gamma,
        )
        self.t, self.g_avg, self.x, self.x_avg = 0, 0.0, math.log(eps), 0.0

    def step(self, g: float) -> float:
        self.t += 1
        w = 1.0 / (self.t + self.t0)
        self.g_avg = (1.0 - w) * self.g_avg + w * g
        self.x = self.mu - math.sqrt(self.t) / self.gamma * self.g_avg
        weight = self.t ** (-self.kappa)
        self.x_avg = (1.0 - weight) * self.x_avg + weight * self.x
        return math.exp(self.x)


@np.errstate(over="ignore", invalid="ignore", under="ignore")
def nuts_chain(
    value_and_grad: ValueAndGrad,
    theta0: np.ndarray,
    rng: np.random.Generator,
    *,
    n_warmup: int,
    n_draws: int,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    adapt_mass_matrix: bool = True,
) -> ChainResult:
    """One chain of NUTS with Pyro's warm-up, from ``theta0``.

    A step that overflows (the step-size search tries huge ones) has an
    infinite energy: a divergence, rejected without a warning.
    """
    z = np.array(theta0, dtype=float)
    integ = _Integrator(value_and_grad, np.ones(len(z)))
    u, g = value_and_grad(z)
    eps = reasonable_step_size(integ, rng, z, u, g, 1.0)
    adapt = _DualAveraging(eps)
    windows = adaptation_windows(n_warmup) if n_warmup > 0 else []
    window = 0
    count, mean, m2 = 0, np.zeros(len(z)), np.zeros(len(z))
    draws = np.empty((n_draws, len(z)))
    keys = ("diverging", "tree_depth", "n_steps", "step_size", "acceptance_rate")
    stats = {k: np.empty(n_draws) for k in keys}
    stats["lp"] = np.empty(n_draws)
    n_moved = 0
    for t in range(n_warmup + n_draws):
        z, u, g, (accept, steps, depth, diverged, moved) = nuts_transition(
            integ, rng, z, u, g, eps, max_tree_depth
        )
        if t >= n_warmup:
            i = t - n_warmup
            draws[i] = z
            for k, value in zip(
                keys, (diverged, depth, steps, eps, accept), strict=True
            ):
                stats[k][i] = value
            stats["lp"][i] = -u
            n_moved += moved
            continue
        eps = adapt.step(target_accept_prob - accept)
        end = windows[window][1]
        last = window == len(windows) - 1
        if adapt_mass_matrix and 0 < window < len(windows) - 1:
            count += 1  # Welford's running variance of the window's draws
            delta = z - mean
            mean = mean + delta / count
            m2 = m2 + delta * (z - mean)
        if t == end:
            if last:  # warm-up over: the averaged step size
                eps = math.exp(adapt.x_avg)
            elif window > 0 and adapt_mass_matrix:
                # Stan's regularisation toward 1e-3
                var = m2 / (count - 1) * (count / (count + 5.0))
                integ.inv_mass = var + 1e-3 * (5.0 / (count + 5.0))
                count, mean, m2 = 0, np.zeros(len(z)), np.zeros(len(z))
                eps = reasonable_step_size(integ, rng, z, u, g, eps)
                adapt = _DualAveraging(eps)
            window += 1
    stats["diverging"] = stats["diverging"].astype(bool)
    stats["tree_depth"] = stats["tree_depth"].astype(int)
    stats["n_steps"] = stats["n_steps"].astype(int)
    return ChainResult(draws, stats, n_moved / n_draws if n_draws else math.nan)
