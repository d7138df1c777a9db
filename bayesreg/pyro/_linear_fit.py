"""PyroBayesianLinear's default model fitted on its sufficient statistics.

The prior scales (``prior_std``, the evidence's ``c``) and the fit of the
conjugate model by the engine, as functions of the estimator: what
:meth:`PyroBayesianLinear._fit <bayesreg.pyro.linear.PyroBayesianLinear>`
runs (moved out of :mod:`bayesreg.pyro.linear`, which holds the interface).
"""

from __future__ import annotations

import numpy as np
import torch
from pyro.infer.autoguide.initialization import init_to_value

from .. import _gaussian, _gram
from ..utils._random import check_generator
from ._engine import Schedule, resolve_device
from ._linear_model import (
    _Design,
    _init_scale,
    _NonCentredTarget,
    _per_target,
    _per_target_models,
    _same_problem,
    _split_targets,
    _StackedTarget,
    build_model,
    check_noise_proper,
    guide_moments,
)
from ._linear_predictive import predictive_maps

__all__ = ["fit_conjugate", "prior_scales", "svi_settings"]


def svi_settings(est, init: dict, init_scale: float, n_rows: float) -> dict:
    """PyroBayesianLinear's SVI settings, the same for every model: the
    schedule (``learning_rate="adaptive"``: three step-size decays by 0.2 and
    Polyak averaging), its particles, float64, and the guide's start."""
    adaptive = est.learning_rate == "adaptive"
    return dict(
        max_iter=est.max_iter,
        schedule=Schedule(
            tol=est.tol,
            n_iter_no_change=est.n_iter_no_change,
            n_lr_decays=3 if adaptive else 0,
            lr_decay_factor=0.2,
            polyak=adaptive,
        ),
        n_particles=int(est.n_particles),
        init_loc_fn=init_to_value(values=init),
        init_scale=init_scale,
        dtype=torch.float64,
        n_rows=n_rows,
    )


def prior_scales(est, stats) -> tuple[np.ndarray, float, np.ndarray]:
    """Prior std of the standardised coefficients in noise units, c, and
    the prior std in the units of ``prior_std`` (one target's stats)."""
    d = stats.xtx.shape[0]
    x_sd = _gram.column_scale(stats)
    y_var = float(stats.yty / stats.n)
    zeros = np.zeros(d)
    if isinstance(est.prior_std, str):  # "auto"
        # ConjugateLinearRegression's default prior: c u_j, u_j = 1 / sd_j in
        # noise units (unknown noise) or noise_std / sd_j, c by the evidence
        known = est.noise_std is not None
        unit = (float(est.noise_std) if known else 1.0) / x_sd
        spec = _gaussian.primal_spectrum(stats, zeros, unit)
        choice = _gaussian.evidence_scale(
            spec,
            noise_var=np.array([float(est.noise_std) ** 2]) if known else None,
            shape=float(est.noise_prior_shape),
            scale=float(est.noise_prior_scale) * y_var,
        )
        c = float(np.sqrt(choice.t[0]))
        return np.full(d, c), c, c * unit
    p = np.asarray(est.prior_std, dtype=float)
    p = np.full(d, float(p)) if p.ndim == 0 else p
    if p.shape != (d,) or not np.all(np.isfinite(p)) or np.any(p <= 0):
        raise ValueError(
            "prior_std must be 'auto', a positive number or one positive "
            f"value per feature ({d}), got {est.prior_std!r}."
        )
    if est.noise_std is None:  # noise units already
        return p * x_sd, 1.0, p
    return p * x_sd / float(est.noise_std), 1.0, p


def fit_conjugate(est, stats, incremental: bool = False) -> None:
    """Fit the default (conjugate) model on merged statistics: set the
    estimator's fitted attributes (the body of ``PyroBayesianLinear._fit``)."""
    rng = check_generator(est.random_state)
    device = resolve_device(est.device)
    if est.noise_std is None:
        check_noise_proper(stats.n, est.noise_prior_shape, est.fit_intercept)
    targets = _split_targets(stats)
    designs, scales, priors = [], [], []
    for st in targets:
        P, c, prior_std = prior_scales(est, st)
        designs.append(_Design(st, P))
        scales.append(c)
        priors.append(prior_std)
    multi = np.ndim(stats.yty) == 1
    est.prior_std_ = np.stack(priors) if multi else priors[0]
    est.prior_scale_ = np.array(scales) if multi else scales[0]
    noise_s = [
        None if est.noise_std is None else est.noise_std / d.y_scale for d in designs
    ]
    a0 = float(est.noise_prior_shape)
    b0 = [float(est.noise_prior_scale) * (d.yty / d.n) for d in designs]
    model, data, init = build_model(
        designs, est.fit_intercept, noise_s, a0, b0, multi, device
    )
    # What the SVI problem is: a guide continues only on the same one.
    problem = (
        (est.guide, est.rank, est.fit_intercept, est.noise_std is None),
        np.concatenate(
            [
                np.ravel(
                    [[noise_s[i] or 0.0, model.a0, b0[i]] for i in range(len(b0))]
                ),
                np.ravel(data[0]),
                *(np.concatenate([d.h, d.lam]) for d in designs),
            ]
        ),
    )
    state = None
    if (
        est.inference == "svi"
        and (est.warm_start or incremental)
        and _same_problem(getattr(est, "_warm_key", None), problem)
    ):
        state = est._svi_state
    else:
        vars(est).pop("loss_curve_", None)
        vars(est).pop("n_iter_", None)
    # The fit maps the draws back through these designs and fixed noise.
    est._designs, est._noise_fixed = designs, est.noise_std
    est._design, est._multi_target = designs[0], multi

    def nuts(device):
        models = _per_target_models(model, noise_s)
        one = [
            _NonCentredTarget(d, est.fit_intercept, m, device)
            for d, m in zip(designs, models, strict=True)
        ]
        return _StackedTarget(one) if multi else one[0]

    fitted = est._infer(
        model,
        data,
        rng,
        state=state,
        svi=svi_settings(
            est,
            init,
            _init_scale(designs, init, est.noise_std is None),
            designs[0].n,
        ),
        nuts=nuts,
    )
    draws = fitted.pop("draws")
    vars(est).update(fitted)
    if est.inference == "svi":
        est._warm_key = problem
        posteriors = est._target_posteriors()
        moments = [
            guide_moments(post, d, est.noise_std)
            for post, d in zip(posteriors, designs, strict=True)
        ]
        est._predictive_maps = predictive_maps(posteriors, designs)
        coef, cov, intercept, noise = zip(*moments, strict=True)
    else:
        mc = est._mcmc_draws
        coef = [c.mean(axis=0) for c in _per_target(mc["coef"], multi)]
        cov = [
            np.atleast_2d(np.cov(c, rowvar=False))
            for c in _per_target(mc["coef"], multi)
        ]
        intercept = [float(b.mean()) for b in _per_target(mc["intercept"], multi)]
        noise = [float(s.mean()) for s in _per_target(mc["noise_std"], multi)]
    if multi:
        est.coef_, est.coef_cov_ = np.stack(coef), np.stack(cov)
        est.intercept_, est.noise_std_ = np.array(intercept), np.array(noise)
    else:
        est.coef_, est.coef_cov_ = coef[0], cov[0]
        est.intercept_, est.noise_std_ = intercept[0], noise[0]
    est._stats = stats
    est.posterior_samples_ = draws
