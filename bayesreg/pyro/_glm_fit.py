"""PyroBayesianLinear's fit and predictive for the models of :mod:`._glm`.

The estimator (:mod:`bayesreg.pyro.linear`) hands a chunk of data here when
``prior`` or ``likelihood`` is not ``"normal"``: this module validates it,
standardises it, builds the model, runs the engine through the estimator's
``_infer`` and maps the draws back to the data's units (:class:`GLMDesign`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils.validation import column_or_1d

from .. import _gram
from .._dask import is_dask_collection, validated_gram_stats
from ..distributions import NormalMixture
from ..distributions._t_mixture import StudentTMixture
from ._data import check_extremes
from ._engine import resolve_device
from ._glm import (
    SLAB_SCALE,
    CollapsedTarget,
    GLMModel,
    PackedTarget,
    Rows,
    Spec,
    coef_scale,
    noise_ref,
)
from ._linear_fit import svi_settings

__all__ = ["GLMDesign", "fit_glm", "glm_predict_dist", "is_glm"]

#: NUTS' target acceptance: the collapsed target (scales only; 0.65, as for
#: the default model: on the horseshoe of bench_nuts it gave 15 leapfrog
#: steps a draw against 21 at 0.8, the same ESS and no divergence) and the
#: models' own coordinates (funnels between a scale and its latents)
_ACCEPT_COLLAPSED, _ACCEPT_PACKED = 0.65, 0.9


def is_glm(est) -> bool:
    """Whether the estimator's options leave the conjugate model."""
    return est.prior != "normal" or est.likelihood != "normal"


def option_text(est) -> str:
    return f"prior={est.prior!r}, likelihood={est.likelihood!r}"


def conjugate_model(est) -> bool:
    """partial_fit exists for the default model only (merged statistics)."""
    if is_glm(est):
        raise AttributeError(
            "partial_fit fits prior='normal' and likelihood='normal' only (on "
            f"merged sufficient statistics), not {option_text(est)}; call fit "
            "on all the data."
        )
    return True


@dataclass
class GLMDesign:
    """What maps the standardised latents back to the data's units."""

    spec: Spec
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float
    y_scale: float

    def to_original(self, sites: dict) -> dict[str, np.ndarray]:
        """Latent draws (S, ...) -> the parameters on the original scale."""
        spec = self.spec
        t = {k: torch.as_tensor(np.asarray(v, dtype=float)) for k, v in sites.items()}
        s_ref = noise_ref(spec, t)
        k = coef_scale(spec, t, s_ref)
        # coef_s: drawn from the exact conditional (NUTS, collapsed)
        coef_s = t["coef_s"] if "coef_s" in t else k * t["z"]
        coef = coef_s.numpy() * (self.y_scale / self.x_scale)
        S = coef.shape[0]
        out = {"coef": coef}
        if spec.fit_intercept:
            b = sites["intercept"]
            out["intercept"] = self.y_mean + self.y_scale * b - coef @ self.x_mean
        else:
            out["intercept"] = np.zeros(S)
        if spec.likelihood == "heteroscedastic":
            g = np.asarray(sites["noise_coef"]) / self.x_scale
            g0 = np.asarray(sites["noise_intercept"])
            out["noise_coef"] = g
            out["noise_intercept"] = g0 + math.log(self.y_scale) - g @ self.x_mean
        elif spec.noise_fixed is None:
            out["noise_std"] = np.asarray(sites["noise_std"]) * self.y_scale
        else:
            out["noise_std"] = np.full(S, spec.noise_fixed * self.y_scale)
        if spec.likelihood == "studentt":
            out["df"] = np.asarray(sites["df"], dtype=float)
        if spec.prior != "normal":
            # Shrinkage factor of a standardised column (x'x = n):
            # kappa_j = 1 / (1 + n k_j^2 / s^2) (Piironen and Vehtari 2017).
            ratio = (k / s_ref.unsqueeze(-1)).numpy()
            out["relevance"] = 1.0 - 1.0 / (1.0 + spec.n * ratio**2)
            out["prior_std"] = k.numpy() * (self.y_scale / self.x_scale)
            for name in ("global_scale", "local_scale", "slab_scale"):
                if name in sites:
                    out[name] = np.asarray(sites[name], dtype=float)
            if spec.prior == "horseshoe":
                out["global_scale"] = spec.tau0 * out["global_scale"]
        return out

    def noise_at(self, X, draws: dict) -> np.ndarray:
        """The noise std of each draw at rows X: (S,), or (n, S) when it
        depends on x."""
        if self.spec.likelihood != "heteroscedastic":
            return draws["noise_std"]
        log_sd = X @ draws["noise_coef"].T + draws["noise_intercept"]
        return np.exp(np.asarray(log_sd))


def _validated(est, X, y, sample_weight):
    shape = getattr(y, "shape", ())
    if not is_dask_collection(y) and len(shape) == 2 and shape[1] == 1:
        y = column_or_1d(y, warn=True)  # one target: as sklearn's 1-D models
    data = validated_gram_stats(
        est, X, y, sample_weight, center=est.fit_intercept, reset=True
    )
    if len(data) == 2:  # (stats, (X, y, sample_weight))
        stats, (X, y, w) = data
    else:
        stats, X, y, w = data.stats, data.X, data.y, data.sample_weight
    if np.ndim(y) == 2:
        raise ValueError(
            f"y has {np.shape(y)[1]} targets: several targets are fitted with "
            f"prior='normal' and likelihood='normal' only ({option_text(est)} "
            "fits one); fit one target at a time, e.g. with "
            "sklearn.multioutput.MultiOutputRegressor."
        )
    rows = est.likelihood != "normal"
    if rows and any(is_dask_collection(a) for a in (X, y)):
        raise ValueError(
            f"likelihood={est.likelihood!r} evaluates every row: it needs X and "
            "y in memory, not dask arrays."
        )
    if not is_dask_collection(X):
        check_extremes(X, "X")
        check_extremes(y, "y")
    if not stats.n > 0:
        raise ValueError("sample_weight must not be all zero.")
    return stats, X, np.asarray(y, dtype=float), w


def _spec(est, stats, y_scale: float) -> tuple[Spec, np.ndarray]:
    d = stats.xtx.shape[0]
    noise = None if est.noise_std is None else float(est.noise_std) / y_scale
    if est.likelihood == "heteroscedastic" and noise is not None:
        raise ValueError(
            "noise_std must be None with likelihood='heteroscedastic', whose "
            "noise std is learned as a function of x."
        )
    prior_std = np.ones(d)
    if est.prior == "normal":
        # The conjugate model's prior, in units of its noise: under another
        # likelihood that noise is not the model's, so the prior is fixed
        # at the Normal model's noise estimate (empirical Bayes).
        P = est._prior(stats)[0]
        prior_std = P * (noise if noise is not None else _gaussian_noise(stats, P))
    p0 = est.n_relevant_features
    p0 = max(1.0, 0.1 * d) if p0 is None else float(min(p0, d))
    n = float(stats.n)
    spec = Spec(
        prior=est.prior,
        likelihood=est.likelihood,
        fit_intercept=bool(est.fit_intercept),
        d=d,
        n=n,
        noise_fixed=noise,
        a0=float(est.noise_prior_shape),
        b0=float(est.noise_prior_scale),  # var(y) = 1 in standardised units
        prior_std=prior_std,
        # Piironen and Vehtari (2017, eq. 3.12): tau0 = p0 / (p - p0) s / sqrt(n)
        tau0=p0 / max(d - p0, 1.0) / math.sqrt(n),
    )
    return spec, prior_std


def _gaussian_noise(stats, P: np.ndarray) -> float:
    """The Normal model's noise std in standardised units: the residual std
    of its posterior mean given the noise (prior std P in noise units)."""
    sc = _gram.column_scale(stats)
    y_sd = math.sqrt(stats.yty / stats.n) or 1.0
    xtx = stats.xtx / np.outer(sc, sc)
    xty = stats.xty / (sc * y_sd)
    m = np.linalg.solve(xtx + np.diag(1.0 / P**2), xty)
    rss = max(stats.yty / y_sd**2 - 2 * m @ xty + m @ xtx @ m, 1e-12)
    return math.sqrt(rss / max(stats.n - 1.0, 1.0))


def _init_values(spec: Spec, xtx, xty, yty, device) -> dict:
    """Where SVI's guide starts: the Gaussian posterior mean of the
    standardised coefficients under the prior's scales at their starts."""
    n, d = spec.n, spec.d
    ridge = np.linalg.solve(xtx + np.eye(d), xty)
    resid = max(yty - 2 * ridge @ xty + ridge @ xtx @ ridge, 1e-6 * yty, 1e-300)
    s0 = math.sqrt(resid / max(n - d - 1.0, 1.0)) if n > d + 2 else 0.5
    v = {
        "noise_std": s0,
        "noise_intercept": math.log(s0),
        "noise_coef": np.zeros(d),
        "df": 10.0,
        "global_scale": 1.0,
        "local_scale": np.ones(d),
        "slab_scale": SLAB_SCALE,
    }
    t = {k: torch.as_tensor(x, dtype=torch.float64) for k, x in v.items()}
    t["z"] = torch.zeros(d, dtype=torch.float64)
    s = noise_ref(spec, t)
    if spec.prior != "normal":
        k1 = coef_scale(spec, t, s).numpy()
        t["local_scale"] = torch.as_tensor(np.clip(np.abs(ridge) / k1, 1.0, 1e3))
    k = coef_scale(spec, t, s).numpy()
    t["z"] = torch.as_tensor(np.clip(ridge / k, -3.0, 3.0))
    t["intercept"] = torch.zeros((), dtype=torch.float64)
    names = [name for name, _, _ in spec.sites()]
    return {k: x.to(device) for k, x in t.items() if k in names}


def fit_glm(est, X, y, sample_weight) -> None:
    """Fit ``est`` (a PyroBayesianLinear with a non-conjugate option) to
    one chunk; sets its fitted attributes."""
    from ..utils._random import check_generator

    stats, X, y, w = _validated(est, X, y, sample_weight)
    rng = check_generator(est.random_state)
    device = resolve_device(est.device)
    x_mean = np.asarray(stats.x_mean, dtype=float)
    x_scale = _gram.column_scale(stats)
    y_mean = float(stats.y_mean)
    y_sd = math.sqrt(stats.yty / stats.n)
    y_scale = y_sd if y_sd > 0 else (abs(y_mean) or 1.0)
    spec, prior_std_s = _spec(est, stats, y_scale)
    xtx = stats.xtx / np.outer(x_scale, x_scale)
    xty = stats.xty / (x_scale * y_scale)
    yty = float(stats.yty / y_scale**2)
    if est.likelihood == "normal":
        data = (spec.n, _as(yty, device), _as(xty, device), _as(xtx, device))
    else:
        weights = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
        data = Rows(X, y, weights, x_mean, x_scale, y_mean, y_scale, device)
    model = GLMModel(spec, data)
    design = GLMDesign(spec, x_mean, x_scale, y_mean, y_scale)
    problem = (
        ("glm", est.prior, est.likelihood, est.guide, est.rank, est.fit_intercept,
         spec.noise_fixed, spec.tau0),
        np.concatenate([[yty, spec.n], xty, np.ravel(xtx), np.sort(y)]),
    )  # fmt: skip
    from ._linear_model import _same_problem

    state = None
    if (
        est.inference == "svi"
        and est.warm_start
        and _same_problem(getattr(est, "_warm_key", None), problem)
    ):
        state = est._svi_state
    else:
        vars(est).pop("loss_curve_", None)
        vars(est).pop("n_iter_", None)
    est._glm = design

    def nuts(device):
        if est.likelihood == "normal":
            return CollapsedTarget(spec, data, device, _ACCEPT_COLLAPSED)
        return PackedTarget(spec, data, device, _ACCEPT_PACKED)

    init = _init_values(spec, xtx, xty, yty, device)
    fitted = est._infer(
        model,
        (np.zeros(1),),
        rng,
        state=state,
        svi=svi_settings(
            est, init, min(0.1, 1.0 / math.sqrt(max(spec.n, 1.0))), spec.n
        ),
        nuts=nuts,
    )
    draws = fitted.pop("draws")
    vars(est).update(fitted)
    if est.inference == "svi":
        est._warm_key = problem
    every = draws if est.inference == "svi" else est._mcmc_draws
    est.coef_ = every["coef"].mean(axis=0)
    est.coef_cov_ = np.atleast_2d(np.cov(every["coef"], rowvar=False))
    est.intercept_ = float(every["intercept"].mean())
    if est.likelihood == "heteroscedastic":
        est.noise_coef_ = every["noise_coef"].mean(axis=0)
        est.noise_intercept_ = float(every["noise_intercept"].mean())
        # at the weighted mean of X (x_mean is 0 without an intercept)
        x_bar = np.asarray(X.T @ weights).ravel() / weights.sum()
        at_mean = every["noise_intercept"] + every["noise_coef"] @ x_bar
        est.noise_std_ = float(np.exp(at_mean).mean())
    else:
        est.noise_std_ = float(every["noise_std"].mean())
    if est.likelihood == "studentt":
        est.df_ = float(every["df"].mean())
    if est.prior == "normal":
        est.prior_std_ = est._prior(stats)[2]
        est.prior_scale_ = est._prior(stats)[1]
        del prior_std_s
    else:
        est.relevance_ = every["relevance"].mean(axis=0)
        est.prior_std_ = every["prior_std"].mean(axis=0)
    est._stats = stats
    est._multi_target = False
    est._noise_fixed = est.noise_std
    est.posterior_samples_ = draws


def _as(a, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=float), dtype=torch.float64).to(device)


def glm_predict_dist(est, X):
    """The predictive at validated rows X: the mixture over the kept draws
    of each draw's observation model."""
    draws = est.posterior_samples_
    locs = np.asarray(X @ draws["coef"].T) + draws["intercept"]
    scales = est._glm.noise_at(X, draws)
    if est._glm.spec.likelihood == "studentt":
        return StudentTMixture(locs, scales, draws["df"])
    return NormalMixture(locs, scales)


#: the parameters of the fitted model that ArviZ shows, with their dims
_DIMS = {
    "coef": ["feature"],
    "noise_coef": ["feature"],
    "relevance": ["feature"],
    "prior_std": ["feature"],
    "local_scale": ["feature"],
}


def glm_arviz_layout(est, params: dict):
    names = [k for k in params if k != "prior_std"]
    if not est._glm.spec.fit_intercept:
        names.remove("intercept")
    constant = {}
    if est._glm.spec.noise_fixed is not None:
        names.remove("noise_std")
        constant = {"noise_std": est.noise_std_}
    dims = {k: v for k, v in _DIMS.items() if k in names}
    return names, dims, constant
