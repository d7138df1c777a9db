"""Held-out calibration of a network's predictive mixture, written once.

Both network estimators predict with an equally weighted mixture of
Normals, one component per network: the members of
:class:`~bayesreg.DeepEnsembleRegressor` (a noise std per member and row) or
the posterior draws of :class:`~bayesreg.PyroBNNRegressor` (a noise std per
draw). Neither mixture is calibrated by construction: an ensemble's members
disagree by how their fits differ, not by how wrong they are, and a
mean-field ELBO charges every row :math:`\\mathbb{E}_q (y - f)^2 = (y - \\bar
f)^2 + \\mathrm{Var}_q f`, so its learned noise variance absorbs the guide's
spread of functions, which the predictive then adds a second time. Rows that
no network was fitted on measure both errors: on them the mixture

.. math::

    \\frac1S \\sum_s \\mathcal{N}\\big(y;\\ \\bar f + \\kappa (f_s - \\bar f),
    (c\\, \\sigma_s)^2\\big), \\qquad \\bar f = \\frac1S \\sum_s f_s,

is scored by its weighted log density, and the spread shrinkage
:math:`\\kappa` and the noise factor :math:`c` (prior
:math:`\\log c \\sim \\mathcal{N}(0, \\tau^2)`, :math:`\\tau = 0.3` for the
ensemble and 0.175 for the BNN) maximise it on a grid. The
estimator chooses the lowest :math:`\\kappa` allowed (0 for the ensemble;
1/2 for the BNN, whose epistemic std must keep growing away from the data).
Everything here works on standardised arrays; the estimators map back.
NumPy and SciPy only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

__all__ = [
    "MAX_CALIBRATION_ROWS",
    "MIN_CALIBRATION_ROWS",
    "calibrate",
    "calibration_split",
    "shrink",
]

#: Calibration rows: at least this many (else no calibration), at most that.
MIN_CALIBRATION_ROWS = 20
MAX_CALIBRATION_ROWS = 10_000
#: Step of the grid of the spread shrinkage kappa, from its lowest value to 1.
_SHRINKAGE_STEP = 0.1
#: Grid of the noise factor c: 31 points, evenly spaced in log c.
_NOISE_GRID = np.exp(np.linspace(np.log(0.25), np.log(2.0), 31))
#: log c ~ N(0, 0.3^2) by default: the noise the networks learnt is the
#: default, and a few dozen calibration rows move it only as far as they are
#: sure of.
NOISE_PRIOR_STD = 0.3
_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def calibration_split(
    n: int, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows held out for calibration and rows to fit on, or None.

    Parameters
    ----------
    n : int
        Number of rows.
    fraction : float
        Share of the rows to hold out (``calibration_fraction``); at most
        :data:`MAX_CALIBRATION_ROWS` rows are held out.
    rng : numpy.random.Generator
        Draws the permutation (only when rows are held out).

    Returns
    -------
    (cal, train) or None
        ``cal``: the held-out rows, in the permutation's order; ``train``:
        the others, sorted. None when ``fraction * n`` is under
        :data:`MIN_CALIBRATION_ROWS`: every row is fitted, nothing is
        calibrated, and ``rng`` is left untouched.
    """
    n_cal = min(int(fraction * n), MAX_CALIBRATION_ROWS)
    if n_cal < MIN_CALIBRATION_ROWS:
        return None
    order = rng.permutation(n)
    return order[:n_cal], np.sort(order[n_cal:])


def shrink(f: np.ndarray, kappa, draws: np.ndarray | None = None) -> np.ndarray:
    """``f_bar + kappa (f_s - f_bar)`` over the last (component) axis of ``f``.

    ``f_bar`` is the mean of ``draws`` (default ``f``) over their last axis;
    ``kappa`` a float, or one per target (the axis before the components).
    """
    centre = (f if draws is None else draws).mean(axis=-1, keepdims=True)
    return centre + np.reshape(kappa, (-1, 1)) * (f - centre)


def shrinkage_grid(min_shrinkage: float = 0.0) -> np.ndarray:
    """The kappa grid: ``min_shrinkage`` to 1 in steps of 0.1 (11 points
    from 0, 6 from 1/2)."""
    if not 0.0 <= min_shrinkage <= 1.0:
        raise ValueError(f"min_shrinkage must be in [0, 1], got {min_shrinkage!r}.")
    steps = round((1.0 - min_shrinkage) / _SHRINKAGE_STEP)
    return np.linspace(min_shrinkage, 1.0, steps + 1)


def calibrate(
    f: np.ndarray,
    s: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    *,
    min_shrinkage: float = 0.0,
    noise_prior_std: float = NOISE_PRIOR_STD,
    refine: bool = False,
) -> tuple:
    """Spread shrinkage kappa and noise factor c fitted on held-out rows.

    Parameters
    ----------
    f : ndarray of shape (n, S) or (n, k, S)
        Each component's (member's or draw's) regression function at the
        held-out rows, standardised; k targets are calibrated one by one.
    s : ndarray broadcasting to the shape of ``f``
        The components' standardised noise stds: (S,) or (k, S) for one per
        draw, (n, S) or (n, k, S) for one per row.
    y : ndarray of shape (n,) or (n, k)
        The standardised held-out targets.
    w : ndarray of shape (n,)
        Their positive sample weights; only their relative sizes matter.
    min_shrinkage : float in [0, 1], default=0.0
        The lowest kappa of the grid (see :func:`shrinkage_grid`).
    noise_prior_std : float, default=0.3
        The prior std of log c.
    refine : bool, default=False
        Then search c again at the best kappa, on 13 points spanning the
        best grid point's neighbours (a step of 1.2% in c instead of 7%).

    Returns
    -------
    (kappa, c) : two floats, or two ndarrays of shape (k,) for a 2-D ``y``
        The grid point maximising ``n_eff`` times the weighted mean log
        density of the mixture (module docstring) plus the log prior of c,
        where ``n_eff = (sum w)^2 / sum w^2`` is the number of rows the
        weights amount to. A grid (kappa by 31 values of c from 1/4 to 2)
        rather than an optimiser: the objective is cheap, two-dimensional
        and can be flat in kappa, and a grid gives the same answer for the
        same fit bit for bit. Ties go to the lowest kappa, then c.
    """
    grid = shrinkage_grid(min_shrinkage)
    s = np.broadcast_to(s, f.shape)
    opts = dict(grid=grid, tau=noise_prior_std, refine=refine)
    if y.ndim == 1:
        return _calibrate_one(f, s, y, w, **opts)
    kc = [
        _calibrate_one(f[:, j], s[:, j], y[:, j], w, **opts) for j in range(y.shape[1])
    ]
    return tuple(np.array(v) for v in zip(*kc, strict=True))


def _calibrate_one(f, s, y, w, grid, tau, refine) -> tuple[float, float]:
    """:func:`calibrate` for one target: ``f``, ``s`` (n, S), ``y`` (n,)."""
    p = w / w.sum()
    n_eff = float(w.sum() ** 2 / (w**2).sum())  # rows the weights amount to
    log_s = np.log(s)
    log_S = np.log(f.shape[-1])

    def search(kappa, cs, best, arg):
        # q = ((y - f_kappa) / s)^2 once per kappa; each c only rescales it:
        # log N(y; m, (c s)^2) = -q / (2 c^2) - log s - log c - log(2 pi) / 2.
        q = ((y[:, None] - shrink(f, kappa)) / s) ** 2
        for c in cs:
            log_n = -0.5 * q / c**2 - log_s - (np.log(c) + _HALF_LOG_2PI)
            logp = logsumexp(log_n, axis=1) - log_S
            value = float(p @ logp) * n_eff - 0.5 * (np.log(c) / tau) ** 2
            if value > best:
                best, arg = value, (float(kappa), float(c))
        return best, arg

    best, arg = -np.inf, (1.0, 1.0)
    for kappa in grid:
        best, arg = search(kappa, _NOISE_GRID, best, arg)
    if refine:
        kappa, c = arg
        step = np.log(_NOISE_GRID[1] / _NOISE_GRID[0])
        fine = c * np.exp(np.linspace(-step, step, 13))
        fine = fine[(fine >= _NOISE_GRID[0]) & (fine <= _NOISE_GRID[-1])]
        best, arg = search(kappa, fine, best, arg)
    return arg
