"""The conjugate model's fit: its prior chosen by the evidence, and the posterior.

Pure numerics over a :class:`bayesreg._intake.FitData` (the p x p statistics
in the primal form, the rows in the dual): which prior std D to decompose
with, one spectrum (:mod:`bayesreg._gaussian`), then per target the prior
scale (and noise) the evidence chooses and the exact posterior there.
Validation and the fitted attributes stay in :mod:`bayesreg.conjugate`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _ard, _gaussian, _gram
from ._intake import FitData, check_noise_posterior_proper
from .utils._warnings import find_stack_level


class ConjugateFit(NamedTuple):
    """The posterior (k targets) with ``t`` (k,) the prior variance factor
    chosen for each (1 for a fixed prior), ``prior_std`` (p,) the D it
    multiplies, ``scale_unit`` (k,) what ``sqrt(t)`` is reported relative
    to, the evaluations or iterations used, whether the fixed point
    converged, ``one_d`` (y was 1-D) and, for ARD, ``relevance`` (k, p):
    1 - kappa_j = n r_j^2 / (1 + n r_j^2), r_j = 1 / sqrt(alpha_j), zero
    where pruned, and ``hint``, what a warning adds."""

    post: _gaussian.SpectralPosterior
    t: np.ndarray
    prior_std: np.ndarray
    scale_unit: np.ndarray
    n_iter: int
    converged: bool
    one_d: bool
    relevance: np.ndarray | None = None
    hint: str = ""


def fit_conjugate(
    data: FitData,
    prior_mean: np.ndarray,
    prior_std: np.ndarray | None,
    *,
    center: bool,
    noise_std: float | None,
    noise_prior_shape: float,
    noise_prior_scale: float,
    fit_hyperparameters: bool,
    max_iter: int,
    tol: float,
) -> ConjugateFit:
    """The conjugate posterior of every target of ``data``.

    ``prior_std=None`` is ``"auto"``: D = 1 / sd(x_j) (noise units), or
    noise_std / sd(x_j) for known noise, scaled per target by the evidence;
    ``prior_std="ard"``: that D times a relevance per feature and target
    (:mod:`bayesreg._ard`; several targets give a
    :class:`~bayesreg._ard.StackedPosterior`, ``prior_std`` (k, p));
    with ``fit_hyperparameters`` the start sd(y) / sd(x_j) (MacKay's fixed
    point, per target, on the one spectrum). ``noise_prior_scale`` is a
    fraction of each target's var(y).
    """
    stats = data.stats
    if stats is not None:
        one_d = np.ndim(stats.yty) == 0
        n, diag = stats.n, np.diag(stats.xtx)
        yty = np.atleast_1d(np.asarray(stats.yty, dtype=float))
    else:
        one_d = data.y.ndim == 1
        moments = _gram.column_moments(data.X, data.sample_weight, center=center)
        n, _, diag = moments
        Y, w = data.Y, data.sample_weight
        y_mean = (Y.sum(0) if w is None else w @ Y) / n
        Yc = Y - y_mean if center else Y
        yty = np.sum(Yc * Yc if w is None else w[:, None] * Yc * Yc, axis=0)
    k = yty.shape[0]
    y_var = yty / n if n > 0 else np.zeros(k)
    sd = np.sqrt(np.clip(diag, 0.0, None) / n) if n > 0 else np.ones(diag.shape[0])
    col_sd = np.where(sd > 0, sd, 1.0)
    auto = prior_std is None
    if isinstance(prior_std, str):
        if fit_hyperparameters:
            raise ValueError(
                "prior_std='ard' chooses a prior std per feature by the evidence "
                "with the noise integrated out (or known: noise_std); it cannot "
                "be combined with fit_hyperparameters=True."
            )
        return _fit_ard(
            data, prior_mean, col_sd, y_var, center=center, noise_std=noise_std,
            a0=float(noise_prior_shape), b0=float(noise_prior_scale) * y_var,
            max_iter=max_iter, tol=tol, moments=None if stats is not None else moments,
        )  # fmt: skip

    def spectrum(D):
        if stats is not None:
            return _gaussian.primal_spectrum(stats, prior_mean, D)
        return _gaussian.dual_spectrum(
            data.X, Y, data.sample_weight, prior_mean, D, center=center,
            moments=moments,
        )  # fmt: skip

    scale_unit, t, n_iter, converged = np.ones(k), np.ones(k), 1, True
    if fit_hyperparameters:
        noise0 = None if noise_std is None else float(noise_std) ** 2
        alpha0 = np.ones(k)
        if auto:
            # Start at prior std sd(y) / sd(x_j), per standardised column of
            # the data seen so far: equivariant from the first step. The
            # spectrum is shared: D = 1 / sd(x_j) and the start alpha =
            # 1 / var(y) give that prior for each target.
            prior_std = 1.0 / col_sd
            scale_unit = np.sqrt(np.where(y_var > 0, y_var, 1.0))
            alpha0 = 1.0 / scale_unit**2
        spec = spectrum(prior_std)
        opt = _gaussian.maximize_evidence(
            spec, noise_var_init=noise0, alpha_init=alpha0, max_iter=max_iter,
            tol=tol,
        )  # fmt: skip
        t, n_iter, converged = opt.t, opt.n_iter, opt.converged
        post = _gaussian.posterior(spec, t, noise_var=opt.noise_var)
    elif noise_std is None:
        a0, b0 = float(noise_prior_shape), float(noise_prior_scale) * y_var
        check_noise_posterior_proper(n, center, a0)
        spec = spectrum(1.0 / col_sd if auto else prior_std)
        if auto:
            choice = _gaussian.evidence_scale(spec, shape=a0, scale=b0)
            t, n_iter = choice.t, choice.n_iter
        post = _gaussian.posterior(spec, t, shape=a0, scale=b0)
    else:
        noise_var = np.full(k, float(noise_std) ** 2)
        spec = spectrum(float(noise_std) / col_sd if auto else prior_std)
        if auto:
            choice = _gaussian.evidence_scale(spec, noise_var=noise_var)
            t, n_iter = choice.t, choice.n_iter
        post = _gaussian.posterior(spec, t, noise_var=noise_var)
    _check_conditioning(spec, post.rho, diag * spec.prior_std**2)
    return ConjugateFit(post, t, spec.prior_std, scale_unit, n_iter, converged, one_d)


def warn_unconverged(fit: ConjugateFit, name: str, max_iter: int, tol: float) -> None:
    """The ConvergenceWarning of a search that stopped at ``max_iter``,
    attributed to the user's line that called the fit."""
    if not fit.converged:
        warnings.warn(
            f"{name}: the evidence fixed point did not converge within "
            f"max_iter={max_iter} iterations (tol={tol:g}); increase "
            f"max_iter.{fit.hint}",
            ConvergenceWarning,
            stacklevel=find_stack_level(),
        )


def _fit_ard(
    data,
    prior_mean,
    col_sd,
    y_var,
    *,
    center,
    noise_std,
    a0,
    b0,
    max_iter,
    tol,
    moments,
) -> ConjugateFit:
    """Relevances per target (:func:`bayesreg._ard.relevances`: the evidence
    times the prior odds 1 : p against each feature), then each target's
    exact posterior at its prior std D0 / sqrt(alpha) (zero for a pruned
    feature: its coefficient is the prior mean, with no variance)."""
    stats = data.stats
    known = noise_std is not None
    s = float(noise_std) if known else 1.0
    unit = s / col_sd  # D0: per standardised column, in noise units
    if stats is not None:
        n = stats.n
        problems = _ard.primal_problems(stats, prior_mean, 1.0 / col_sd)
    else:
        n = moments[0]
        problems = _ard.dual_problems(
            data.X, data.Y, data.sample_weight, prior_mean, 1.0 / col_sd,
            center=center, moments=moments,
        )  # fmt: skip
    if not known:
        check_noise_posterior_proper(n, center, a0)
    a_n = None if known else a0 + 0.5 * (n - 1.0 if center else n)
    parts, stds, rels, n_iter, converged = [], [], [], 0, True
    for j, prob in enumerate(problems):
        rel = _ard.relevances(
            prob.columns, prob.g_diag, prob.h / s, prob.yty / s**2, a_n=a_n,
            b0=float(b0[j]), max_iter=max_iter, tol=tol,
        )  # fmt: skip
        n_iter, converged = max(n_iter, rel.n_iter), converged and rel.converged
        with np.errstate(divide="ignore"):
            rels.append(1.0 / np.sqrt(rel.alpha))  # alpha = inf: exactly 0
        D = unit * rels[-1]
        if stats is not None:
            one = stats._replace(
                xty=stats.xty.reshape(D.shape[0], -1)[:, [j]],
                yty=np.atleast_1d(stats.yty)[[j]],
                y_mean=np.atleast_1d(stats.y_mean)[[j]],
            )
            spec = _gaussian.primal_spectrum(one, prior_mean, D)
        else:
            spec = _gaussian.dual_spectrum(
                data.X, data.Y[:, [j]], data.sample_weight, prior_mean, D,
                center=center, moments=moments,
            )  # fmt: skip
        if known:
            post = _gaussian.posterior(spec, np.ones(1), noise_var=np.full(1, s * s))
        else:
            post = _gaussian.posterior(spec, np.ones(1), shape=a0, scale=b0[j])
        parts.append(post)
        stds.append(D)
    k = len(parts)
    one_d = (np.ndim(stats.yty) == 0) if stats is not None else data.y.ndim == 1
    post = parts[0] if k == 1 else _ard.StackedPosterior(tuple(parts))
    kept, p = max(int(np.sum(r > 0)) for r in rels), prior_mean.shape[0]
    hint = (
        f" The ARD search takes a few steps per feature kept ({kept} here)."
        if p < (n - 1.0 if center else n)
        else " With prior_std='ard' and as many features as rows the features "
        "kept may interpolate y (repeated rows, or very few), where the "
        "evidence grows without bound as the noise -> 0 (here "
        f"{kept} features, {p} in all, {n:g} rows): the noise is then "
        "under-estimated; see the Notes."
    )
    r2n = n * np.square(rels)  # relevance 1 - kappa_j, kappa_j = 1 / (1 + n r_j^2)
    return ConjugateFit(
        post, np.ones(k), np.array(stds), np.ones(k), n_iter, converged, one_d,
        r2n / (1.0 + r2n), "" if converged else hint,
    )  # fmt: skip


def _check_conditioning(spec, rho: np.ndarray, gram_diag: np.ndarray) -> None:
    """Refuse a posterior that float64 cannot resolve (issue 21, defect 13).

    The eigenvalues of G = D X^T W X D are known to p eps ev_max, absolute:
    directions below that are lost (set to the prior). That is harmless
    unless the rounding, scaled to the posterior precision I + rho G,
    exceeds the prior's own precision (1) *and* the whitened columns span
    scales that put informative directions below it: a prior std far from
    the columns' scales (raw polynomial powers up to 1e45 with a common
    prior std), where the answer would be wrong by orders of magnitude.
    Collinear columns (exact zeros) and column-scaled priors ("auto") pass.
    """
    pos = gram_diag[gram_diag > 0]
    if pos.size < 2 or spec.ev.size == 0:
        return
    spread = float(pos.max() / pos.min())
    floor = spec.ev.shape[0] * np.finfo(float).eps * float(spec.ev.max())
    floor *= float(np.max(rho))
    if spread > 1e12 and floor > 1e-6:
        raise ValueError(
            "The design is too ill-conditioned for this prior to be solved "
            "accurately in float64: the columns' spreads times prior_std span "
            f"{spread:.1e}, and rounding of X^T X exceeds the prior's precision "
            f"{floor:.1e}-fold. Standardise X (e.g. StandardScaler, or "
            "BasisExpansion instead of raw polynomial powers) or use "
            "prior_std='auto', which is measured per standardised column."
        )
