"""PyroBNNRegressor: a Bayesian multi-layer perceptron fitted by SVI or NUTS."""

from __future__ import annotations

import itertools
import math
from numbers import Integral, Real

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._base import BayesianRegressorMixin
from ..distributions import NormalMixture
from ..utils._random import check_generator
from ..utils._state import check_magnitude, restore_on_error
from ._arviz import to_inference_data
from ._engine import (
    Schedule,
    batched_forward,
    fit_svi,
    resolve_device,
    run_nuts,
    seed_from,
)

__all__ = ["PyroBNNRegressor"]

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

# Prior on the noise std of the standardised target: LogNormal(log 0.5, 1).
# Its median is half the target's std and it puts 95% of its mass between
# 0.07 and 3.5 target stds: weak for any data set, yet it keeps the noise
# away from 0 on tiny data.
_NOISE_PRIOR_LOC = math.log(0.5)
_NOISE_PRIOR_SCALE = 1.0
# Initial noise std of the guide, also in target stds (the prior's median).
_NOISE_INIT = 0.5

# Step-size schedule of SVI (engine options): on each plateau of the smoothed
# ELBO the step size drops by ``lr_decay_factor``, ``n_lr_decays`` times;
# the iterates of the last phase are averaged (Polyak).
_SVI_SCHEDULE = {"n_lr_decays": 2, "lr_decay_factor": 0.2, "polyak": True}


# ---------------------------------------------------------------- numerics
def _weighted_scale(v: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted column means and stds of ``v`` (float64), for internal scaling.

    ``p`` holds positive weights summing to 1. A column whose std is at the
    rounding level of its entries (64 ulps of its largest magnitude) is
    treated as constant and keeps scale 1, so scaling never divides by
    rounding noise. The threshold is relative, unlike an absolute one: a
    target like ``1e6 + 1e-6 * y`` still has a resolvable spread (1e-12 of
    its magnitude, about 4500 ulps) and is standardised as ``y`` would be.
    """
    v2 = v.reshape(v.shape[0], -1)
    mean = p @ v2
    std = np.sqrt(p @ (v2 - mean) ** 2)
    rounding = 64 * np.finfo(np.float64).eps * np.max(np.abs(v2), axis=0)
    return mean, np.where(std <= rounding, 1.0, std)


def _layer_shapes(n_features: int, hidden: tuple[int, ...]) -> list[tuple[int, int]]:
    sizes = (n_features, *hidden, 1)
    return list(itertools.pairwise(sizes))


def _n_weights(shapes: list[tuple[int, int]]) -> int:
    return sum(fi * fo + fo for fi, fo in shapes)


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


def _mlp(x: torch.Tensor, w: torch.Tensor, shapes, activation) -> torch.Tensor:
    """Network output for packed weights ``w`` of shape (D,) or (S, D).

    ``x`` has shape (b, d); returns (b,) or (S, b). One code path serves the
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
    return h[..., 0]


class _BNNModel:
    """The Pyro model: Gaussian weights, LogNormal noise, Normal likelihood.

    A picklable callable ``model(X, y, sample_weight, idx)`` following the
    engine's contract (likelihood in a subsampled ``"data"`` plate). Row
    ``i``'s log-likelihood is multiplied by its (positive) sample weight, so a
    weight ``k`` counts the row ``k`` times.
    """

    def __init__(self, shapes, prior_scales: np.ndarray, activation: str):
        self.shapes = shapes
        self.prior_scales = prior_scales
        self.activation = activation

    def __call__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor,
        idx: torch.Tensor,
    ):
        scales = X.new_tensor(self.prior_scales)
        w = pyro.sample(
            "weights", dist.Normal(torch.zeros_like(scales), scales).to_event(1)
        )
        noise = pyro.sample(
            "noise_std",
            dist.LogNormal(
                X.new_tensor(_NOISE_PRIOR_LOC), X.new_tensor(_NOISE_PRIOR_SCALE)
            ),
        )
        with pyro.plate("data", X.shape[0], subsample=idx):
            f = _mlp(X[idx], w, self.shapes, _ACTIVATIONS[self.activation])
            # No argument validation: a diverged network must reach the
            # engine as a NaN loss (its FloatingPointError names the step
            # size), not as a ValueError from inside the distribution.
            with pyro.poutine.scale(scale=sample_weight[idx]):
                pyro.sample(
                    "obs", dist.Normal(f, noise, validate_args=False), obs=y[idx]
                )


#: NUTS trajectories are capped at 2^7 = 128 leapfrog steps: a network's
#: posterior otherwise drives NUTS to its default depth of 10 (1,023 steps a
#: draw; 310 s a chain for 10 units on 500 rows, against 40 s here).
_NUTS_MAX_TREE_DEPTH = 7


class _NUTSTarget:
    """The model's potential energy, written once in torch and traced.

    Over the packed unconstrained latents theta = (weights, log noise std),

        U = -[sum_j log N(w_j; 0, prior_j) + log N(log s; nu, tau)
              + sum_i k_i log N(y_i; f(x_i), s)],

    the model's own density (LogNormal's Jacobian absorbed into log s; row
    weights k_i as in the model), traced by ``torch.jit.trace`` once per fit:
    no Pyro tracing per gradient. ``to_model_sites`` maps draws back to the
    model's sites ``weights`` and ``noise_std``.
    """

    def __init__(self, model: _BNNModel, data, device):
        X, y, w = (torch.as_tensor(a, dtype=torch.float64, device=device) for a in data)
        scales = torch.as_tensor(model.prior_scales, dtype=torch.float64, device=device)
        shapes, act = model.shapes, _ACTIVATIONS[model.activation]
        self.n_weights = int(scales.shape[0])
        self.device = device
        D = self.n_weights
        half_log_2pi = 0.5 * math.log(2.0 * math.pi)
        const = -(
            torch.log(scales).sum()
            + D * half_log_2pi
            + math.log(_NOISE_PRIOR_SCALE)
            + half_log_2pi
            + w.sum() * half_log_2pi
        )
        w_sum = w.sum()

        def energy(theta):
            weights, log_s = theta[:D], theta[D]
            f = _mlp(X, weights, shapes, act)
            log_p = (
                -0.5 * ((weights / scales) ** 2).sum()
                - 0.5 * ((log_s - _NOISE_PRIOR_LOC) / _NOISE_PRIOR_SCALE) ** 2
                - w_sum * log_s
                - 0.5 * (w * (y - f) ** 2).sum() * torch.exp(-2.0 * log_s)
            )
            return -(log_p + const)

        example = torch.zeros(D + 1, dtype=torch.float64, device=device)
        self._energy = torch.jit.trace(energy, example, check_trace=False)

    def potential(self, params: dict) -> torch.Tensor:
        return self._energy(params["theta"])

    def initial_params(self) -> dict:
        """A start drawn uniformly in (-2, 2) per coordinate (init_to_uniform)."""
        u = torch.rand(self.n_weights + 1, dtype=torch.float64, device=self.device)
        return {"theta": 4.0 * u - 2.0}

    def to_model_sites(self, draws: dict) -> dict:
        theta = draws["theta"]
        return {
            "weights": theta[:, : self.n_weights],
            "noise_std": torch.exp(theta[:, self.n_weights]),
        }


class _InitLoc:
    """Initial guide location: random weights (LeCun normal), zero biases.

    The symmetric point ``weights = 0`` (Pyro's ``init_to_feasible``) would
    leave every hidden unit identical. Runs inside the engine's privately
    seeded torch generator, so it is reproducible and private.
    """

    def __init__(self, shapes, noise_init: float):
        self.shapes = shapes
        self.noise_init = noise_init

    def __call__(self, site):
        value = site["fn"].sample()  # right shape, dtype and device
        if site["name"] == "noise_std":
            return torch.full_like(value, self.noise_init)
        parts = []
        for fi, fo in self.shapes:
            parts.append(torch.randn(fi * fo, dtype=value.dtype) / math.sqrt(fi))
            parts.append(torch.zeros(fo, dtype=value.dtype))
        return torch.cat(parts).to(value.device)


class _ScaledNormalMixture(NormalMixture):
    """The :class:`NormalMixture` of ``shift + scale * z``, quantiles via ``z``.

    ``NormalMixture.ppf`` stops its root search at 1e-12 relative to |y|,
    coarser than the predictive spread when that spread is below about 1e-10
    of |y| (a target like ``1e6 + 1e-6 * y``). Searching the quantiles of the
    standardised mixture (|z| about 1) and mapping them back keeps intervals
    equivariant in the units of y. Every other method is NormalMixture's.
    """

    def __init__(self, z_locs, z_scales, shift: float, scale: float):
        super().__init__(z_locs * scale + shift, z_scales * scale)
        self._standardised = NormalMixture(z_locs, z_scales)
        self._shift, self._scale = shift, scale

    def ppf(self, q) -> np.ndarray:
        return self._shift + self._scale * self._standardised.ppf(q)


# --------------------------------------------------------------- estimator
class PyroBNNRegressor(BayesianRegressorMixin, BaseEstimator):
    """Bayesian neural network regression (an MLP with Gaussian weight priors).

    Every weight and bias of a fully connected network has an independent
    Gaussian prior, the observation noise is learned, and the posterior is
    approximated by mean-field stochastic variational inference (Bayes by
    backprop; a low-rank Gaussian guide as an option) or sampled by NUTS.
    Predictions are mixtures over posterior draws of the network, so the
    predictive std splits into an epistemic part (disagreement between
    draws, which grows away from the training data) and the noise.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(50,)
        Units of each hidden layer, as in ``MLPRegressor``.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Hidden-layer non-linearity.
    prior_std : float, default=2.0
        Scale of the Gaussian priors (on the standardised scale of X and y);
        see ``prior``.
    prior : {"fan_in", "normal"}, default="fan_in"
        ``"fan_in"``: the weights of a layer with ``fan_in`` inputs have std
        ``prior_std / sqrt(fan_in)`` and the biases std ``prior_std``, which
        keeps the prior over functions stable as layers grow wider;
        ``"normal"``: every weight and bias has std ``prior_std``. The
        defaults (``"fan_in"``, 2.0) were chosen once on the UCI benchmark
        (``benchmarks/RESULTS.md``).
    inference : {"svi", "nuts"}, default="svi"
        Variational inference (minibatch, scales to large n) or NUTS
        (full-batch Hamiltonian Monte Carlo, the reference for small
        networks on small data). NUTS samples the model's potential energy
        written once in torch and traced (no Pyro tracing per gradient),
        with trajectories capped at 128 leapfrog steps (tree depth 7): a
        10-unit network on 500 rows takes about 80 s on 2 cores and
        predicts held-out data better than SVI. Its R-hat on the weights
        flags the network's symmetries (chains in equivalent modes) as well
        as real failures to mix.
    guide : {"diagonal", "lowrank"}, default="diagonal"
        SVI guide: mean-field Gaussian (``AutoDiagonalNormal``) or a Gaussian
        with low-rank plus diagonal covariance
        (``AutoLowRankMultivariateNormal``).
    rank : int, default=None
        Rank of the low-rank guide; ``None`` means sqrt(number of weights).
    init_scale : float, default=1e-3
        Initial std of the guide. Small values start SVI close to an ordinary
        network and let the KL term grow the posterior's spread.
    learning_rate_init : float, default=1e-2
        Adam's step size.
    max_iter : int, default=1000
        Maximum number of epochs of SVI.
    batch_size : int or None, default=64
        Minibatch size of SVI; ``None`` is full batch. The ELBO's likelihood
        is scaled by ``n / batch_size`` (a subsampled ``pyro.plate``).
    tol : float, default=1e-4
        Early stopping: SVI stops when the smoothed loss per unit of sample
        weight (per row when unweighted, in standardised units) has not
        fallen by ``tol`` for ``n_iter_no_change`` epochs.
    n_iter_no_change : int, default=10
        See ``tol``.
    n_posterior_samples : int, default=200
        Posterior draws of the network kept for prediction (SVI). With NUTS,
        all ``num_chains * num_samples`` draws are kept.
    num_warmup, num_samples, num_chains : int, default=500, 500, 2
        NUTS settings.
    jit : bool, default=True
        Compile the ELBO (``JitTrace_ELBO``) with the torch JIT: the same
        result, several times faster per step. (The NUTS potential is always
        traced.)
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit and predict. A fitted model holds NumPy arrays only, so
        it unpickles on a machine without the device.
    num_threads : int or None, default=1
        torch intra-op threads while fitting (restored afterwards). One
        thread is fastest for networks of this size, and many times faster
        than several when the cores are shared; ``None`` keeps torch's
        setting (worth it for wide networks on large batches).
    random_state : int, RandomState, Generator or None, default=None
        Seeds a private generator for fitting and the posterior draws.
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the current ELBO.
    warm_start : bool, default=False
        ``True``: ``fit`` continues SVI where the last fit stopped, as
        ``MLPRegressor`` does: from its variational parameters, Adam's state,
        step-size schedule and early-stopping counters, in the
        standardisation of X and y fixed by the first fit of the sequence.
        ``n_iter_`` and ``loss_curve_`` accumulate and ``max_iter`` bounds
        each call, so raising ``max_iter`` (or calling ``fit`` again) never
        restarts. A fit that had converged stops again after the next epoch
        without improvement. ``fit`` starts afresh, as with ``False``, when
        the last fit was not by SVI or when the number of features,
        ``hidden_layer_sizes``, ``guide`` or ``rank`` changed; with
        ``inference="nuts"`` each fit samples afresh. See
        :meth:`partial_fit` for streams of data.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when X has string column names.
    coefs_ : list of ndarray
        Posterior mean of each layer's weight matrix, shape (fan_in, fan_out),
        on the standardised scale.
    intercepts_ : list of ndarray
        Posterior mean of each layer's biases, shape (fan_out,).
    weight_samples_ : ndarray of shape (n_draws, n_weights)
        Posterior draws of the packed weights (standardised scale) used by
        ``predict_dist``.
    noise_std_samples_ : ndarray of shape (n_draws,)
        Posterior draws of the noise std, on the original y scale.
    noise_std_ : float
        Posterior mean of the noise std, on the original y scale.
    posterior_ : GaussianPosterior
        SVI only: the fitted guide (a Gaussian over the packed unconstrained
        latents, as NumPy arrays).
    loss_curve_ : list of float
        SVI: mean negative ELBO of each epoch per unit of sample weight (per
        training row when unweighted), over every call of a warm-started or
        :meth:`partial_fit` sequence.
    n_iter_ : int
        SVI epochs run (over every call of such a sequence); NUTS:
        ``num_warmup + num_samples``.
    diagnostics_ : dict
        NUTS only: R-hat, effective sample sizes, divergences.

    Raises
    ------
    ValueError
        From ``fit``: for invalid input (NaN, inf, wrong shapes, negative or
        all-zero ``sample_weight``) and for entries of X or y beyond 1e150 in
        magnitude, whose squares overflow float64. A failed fit or refit
        leaves the estimator exactly as it was.

    See Also
    --------
    bayesreg.PyroBayesianLinear : the same engine for a linear model.
    sklearn.neural_network.MLPRegressor : the point-estimate network.

    Notes
    -----
    The model is written for X and y standardised, in float64, with their
    training means and stds (weighted by ``sample_weight`` :math:`v_i`):
    :math:`\\tilde x = (x - \\bar x) / s_x` per column and
    :math:`\\tilde y = (y - \\bar y) / s_y` (a constant column keeps scale
    1). With activation :math:`\\phi` and packed weights :math:`w`:

    .. math::

        w_j \\sim \\mathcal{N}(0, s_j^2), \\qquad
        \\tilde\\sigma \\sim \\mathrm{LogNormal}(\\log 0.5, 1), \\qquad
        \\tilde y_i \\mid \\tilde x_i, w, \\tilde\\sigma \\sim
        \\mathcal{N}(f_w(\\tilde x_i), \\tilde\\sigma^2),

    where :math:`f_w` is the MLP and :math:`s_j` is ``prior_std`` (divided by
    sqrt(fan_in) for weights with ``prior="fan_in"``). The noise prior has
    its median at half the target's std; the guide starts at
    :math:`\\tilde\\sigma = 0.5`. SVI maximises the ELBO

    .. math::

        \\mathbb{E}_q\\Big[\\sum_i v_i \\log p(\\tilde y_i \\mid \\tilde x_i,
        w, \\tilde\\sigma)\\Big] - \\mathrm{KL}(q \\,\\|\\, p)

    with one reparameterised draw per step (Blundell et al. 2015), the
    likelihood of a minibatch scaled by ``n / batch_size``; an integer weight
    :math:`v_i = k` counts row :math:`i` k times. The predictive distribution
    is the equally weighted mixture over posterior draws :math:`s` of
    :math:`\\mathcal{N}(\\bar y + s_y f_{w_s}(\\tilde x), s_y^2
    \\tilde\\sigma_s^2)`.

    Every prior, the initialisation and the early-stopping rule live in
    these standardised units, so the defaults are unit-free: refitting on
    ``(c * X, a * y + b)`` (``a > 0``) with the same ``random_state`` maps
    the predictive means to ``a * mean + b``, the stds to ``a * std`` and the
    log densities to ``log p - log(a)``. The match is exact up to rounding;
    where ``b`` dwarfs ``a * std(y)`` (``1e6 + 1e-6 * y``) y itself carries
    only a few significant digits of its spread and the fit moves within
    about 2% of the predictive std.

    References
    ----------
    .. [1] Blundell, Cornebise, Kavukcuoglu and Wierstra (2015). Weight
       uncertainty in neural networks. ICML.
    .. [2] Hernandez-Lobato and Adams (2015). Probabilistic backpropagation
       for scalable learning of Bayesian neural networks. ICML.
    .. [3] Gal and Ghahramani (2016). Dropout as a Bayesian approximation:
       representing model uncertainty in deep learning. ICML.

    Examples
    --------
    >>> from bayesreg import PyroBNNRegressor
    >>> from bayesreg.datasets import make_seed_problem
    >>> X, y = make_seed_problem(50, random_state=0)
    >>> bnn = PyroBNNRegressor(hidden_layer_sizes=(20,), max_iter=50,
    ...                        jit=False, random_state=0).fit(X, y)
    >>> bnn.predict_interval(X[:2]).shape
    (2, 2)
    >>> bool((bnn.predict_std(X, kind="epistemic") > 0).all())
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "prior_std": [Interval(Real, 0, None, closed="neither")],
        "prior": [StrOptions({"normal", "fan_in"})],
        "inference": [StrOptions({"svi", "nuts"})],
        "guide": [StrOptions({"diagonal", "lowrank"})],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "init_scale": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "n_posterior_samples": [Interval(Integral, 1, None, closed="left")],
        "num_warmup": [Interval(Integral, 0, None, closed="left")],
        "num_samples": [Interval(Integral, 1, None, closed="left")],
        "num_chains": [Interval(Integral, 1, None, closed="left")],
        "jit": ["boolean"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(50,),
        activation: str = "relu",
        prior_std: float = 2.0,
        prior: str = "fan_in",
        inference: str = "svi",
        guide: str = "diagonal",
        rank: int | None = None,
        init_scale: float = 1e-3,
        learning_rate_init: float = 1e-2,
        max_iter: int = 1000,
        batch_size: int | None = 64,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        n_posterior_samples: int = 200,
        num_warmup: int = 500,
        num_samples: int = 500,
        num_chains: int = 2,
        jit: bool = True,
        device: str = "cpu",
        num_threads: int | None = 1,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.prior_std = prior_std
        self.prior = prior
        self.inference = inference
        self.guide = guide
        self.rank = rank
        self.init_scale = init_scale
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.n_posterior_samples = n_posterior_samples
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.jit = jit
        self.device = device
        self.num_threads = num_threads
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> PyroBNNRegressor:
        """Fit the posterior over the network's weights and noise.

        With ``warm_start=True`` SVI continues from the last fit (see
        ``warm_start``); otherwise it starts afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's likelihood: an integer weight
            ``k`` counts the row ``k`` times, a weight 0 removes it. The
            internal standardisation uses weighted means and stds. ``None``
            weighs every row 1.

        Returns
        -------
        self : PyroBNNRegressor

        Raises
        ------
        ValueError
            For invalid input (NaN, inf, wrong shapes, negative or all-zero
            weights), and for entries of X or y beyond 1e150 in magnitude,
            whose squares overflow. A failed fit or refit leaves the
            estimator exactly as it was.
        """
        # Everything, validate_data (which resets n_features_in_) included,
        # is undone if any step fails.
        with restore_on_error(self):
            hidden = self._hidden_sizes()
            X, y, w = self._validated(X, y, sample_weight, reset=True)
            self._fit(X, y, w, hidden)
            self._observed_y = np.array(y, dtype=np.float64)  # for ArviZ
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None) -> PyroBNNRegressor:
        """Run one epoch of SVI on a chunk of data, continuing the last fit.

        The first call on an estimator not fitted by SVI initialises the
        guide and fixes the standardisation of X and y on its chunk. Every
        call runs one epoch over its chunk (minibatches of ``batch_size``;
        ``MLPRegressor``'s convention) from the current variational
        parameters, Adam's state, step-size schedule and early-stopping
        counters, whatever ``warm_start`` is, so a stream of chunks can be
        fitted; ``n_iter_`` and ``loss_curve_`` count the epochs of all
        calls. SVI only.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's likelihood, as in :meth:`fit`.

        Returns
        -------
        self : PyroBNNRegressor

        Raises
        ------
        ValueError
            With ``inference="nuts"``; when the number of features,
            ``hidden_layer_sizes``, ``guide`` or ``rank`` differ from those of
            the fit being continued; and for invalid input as in :meth:`fit`.
            A failed call leaves the estimator exactly as it was.

        Notes
        -----
        Each call scales its chunk's likelihood as if the chunk were the
        whole data set (as ``fit`` on the chunk would): a step is a
        stochastic-gradient step on the ELBO of a data set the size of the
        chunk (its total sample weight m). Over a stream of chunks drawn
        from one distribution the guide therefore approaches the variational
        posterior of m rows from that distribution; over several passes
        through a fixed data set of N rows cut into chunks of m, the
        posterior with every row's likelihood raised to the power m / N (a
        tempered posterior). The regression function is learned from every
        chunk, but the epistemic uncertainty is that of m rows, not of all
        rows seen: it does not shrink as the stream goes on, and rows seen
        again are not counted twice. This scaling needs no knowledge of the
        stream's length. To target the posterior of N rows, pass
        ``sample_weight=np.full(m, N / m)`` with each chunk of m rows (the
        weights scale the likelihood). Each call draws its randomness from
        ``random_state`` and the number of steps run so far, so a sequence
        of calls is reproducible given the same chunks in the same order.
        With ``jit=True`` every call compiles the ELBO anew; for many small
        chunks ``jit=False`` is faster.
        """
        if self.inference != "svi":
            raise ValueError(
                "partial_fit needs inference='svi': NUTS has no incremental "
                "form. Use fit, or set inference='svi'."
            )
        first = not hasattr(self, "_svi_state")
        with restore_on_error(self):
            hidden = self._hidden_sizes()
            X, y, w = self._validated(X, y, sample_weight, reset=first)
            if not first and self._warm_key != self._layout(X.shape[1], hidden):
                raise ValueError(
                    "partial_fit cannot continue the last fit: hidden_layer_sizes, "
                    "guide or rank changed since. Call fit to start afresh."
                )
            self._fit(X, y, w, hidden, incremental=True)
            # One epoch treats the chunk as the data set (see above).
            self._observed_y = np.array(y, dtype=np.float64)  # for ArviZ
        return self

    def _validated(self, X, y, sample_weight, reset: bool):
        """Validated float64 X, y and non-negative weights (1 by default)."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, reset=reset)
        check_magnitude(X, "X")
        check_magnitude(y, "y")
        w = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        return X, y, w

    def _fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        hidden: tuple[int, ...],
        incremental: bool = False,
    ) -> None:
        rng = check_generator(self.random_state)
        device = resolve_device(self.device)
        # The SVI state to continue (None: start afresh).
        layout = self._layout(X.shape[1], hidden)
        state = (
            self._svi_state
            if self.inference == "svi"
            and (incremental or self.warm_start)
            and getattr(self, "_warm_key", None) == layout
            else None
        )

        # Rows of weight 0 are removed (exactly what their weight means).
        keep = w > 0
        if not keep.all():
            X, y, w = X[keep], y[keep], w[keep]
        w_sum = float(w.sum())
        p = w / w.max()
        p /= p.sum()

        # Standardise in float64 (the engine casts to float32 afterwards):
        # the model, its priors and the guide's initialisation live in these
        # units, which makes the fit equivariant in the units of X and y. A
        # continued fit keeps the units of the fit it continues.
        if state is None:
            x_mean, x_scale = _weighted_scale(X, p)
            y_mean, y_scale = (float(a[0]) for a in _weighted_scale(y, p))
        else:
            x_mean, x_scale = self._x_mean, self._x_scale
            y_mean, y_scale = self._y_mean, self._y_scale
        Xs = (X - x_mean) / x_scale
        ys = (y - y_mean) / y_scale

        shapes = _layer_shapes(X.shape[1], hidden)
        model = _BNNModel(
            shapes, _prior_scales(shapes, self.prior_std, self.prior), self.activation
        )
        data = (Xs, ys, w)
        seed = seed_from(rng)
        fitted: dict = {}
        if self.inference == "svi":
            result = fit_svi(
                model,
                data,
                seed=seed,
                guide=self.guide,
                learning_rate_init=self.learning_rate_init,
                max_iter=1 if incremental else self.max_iter,
                batch_size=self.batch_size,
                schedule=Schedule(
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    **_SVI_SCHEDULE,
                ),
                jit=self.jit,
                init_loc_fn=_InitLoc(shapes, noise_init=_NOISE_INIT),
                init_scale=self.init_scale,
                rank=self.rank,
                device=device,
                n_threads=self.num_threads,
                verbose=self.verbose,
                desc=type(self).__name__,
                # Early stopping and loss_curve_ per unit of weight, so that
                # weights and repeated rows stop alike.
                n_rows=w_sum,
                init_state=state,
                warn=not incremental,
            )
            draws = result.posterior.sample(self.n_posterior_samples, rng)
            mean_w = result.posterior.mean_unconstrained()["weights"]
            before = ([], 0) if state is None else (self.loss_curve_, self.n_iter_)
            fitted["loss_curve_"] = before[0] + result.loss_curve
            fitted["n_iter_"] = before[1] + result.n_iter
            fitted["posterior_"] = result.posterior
            fitted["_svi_state"] = result.state
            fitted["_warm_key"] = layout
        else:
            target = _NUTSTarget(model, data, device)
            result = run_nuts(
                None,
                (np.zeros(1),),
                seed=seed,
                n_warmup=self.num_warmup,
                n_draws=self.num_samples,
                n_chains=self.num_chains,
                max_tree_depth=_NUTS_MAX_TREE_DEPTH,
                device=device,
                n_threads=self.num_threads,
                verbose=self.verbose,
                potential_fn=target.potential,
                initial_params=target.initial_params,
                transform=target.to_model_sites,
            )
            draws = result.pooled()
            mean_w = None
            fitted["diagnostics_"] = result.diagnostics
            fitted["_mcmc_stats"] = result.sample_stats  # (chain, draw) each
            fitted["n_iter_"] = self.num_warmup + self.num_samples
        weight_samples = np.asarray(draws["weights"], dtype=np.float64)
        noise_samples = (
            np.asarray(draws["noise_std"], dtype=np.float64).reshape(-1) * y_scale
        )
        if mean_w is None:
            mean_w = weight_samples.mean(axis=0)
        coefs, intercepts = _unpack(mean_w, shapes)
        fitted.update(
            weight_samples_=weight_samples,
            noise_std_samples_=noise_samples,
            noise_std_=float(noise_samples.mean()),
            coefs_=coefs,
            intercepts_=intercepts,
            _x_mean=x_mean,
            _x_scale=x_scale,
            _y_mean=y_mean,
            _y_scale=y_scale,
            _shapes=shapes,
        )
        # A refit with the other inference drops the first one's attributes.
        for name in (
            "loss_curve_",
            "posterior_",
            "diagnostics_",
            "_mcmc_stats",
            "_svi_state",
            "_warm_key",
        ):
            if name not in fitted:
                vars(self).pop(name, None)
        vars(self).update(fitted)

    # -------------------------------------------------------------- predict
    def predict_dist(self, X) -> NormalMixture:
        """Posterior predictive: a mixture over the posterior draws.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        NormalMixture
            ``n_samples`` mixtures of ``n_draws`` Normals, on the y scale.
        """
        check_is_fitted(self, "weight_samples_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xs = (X - self._x_mean) / self._x_scale
        act = _ACTIVATIONS[self.activation]
        shapes = self._shapes
        # A model fitted on CUDA predicts on the CPU where CUDA is absent.
        device = resolve_device(
            "cpu"
            if self.device == "cuda" and not torch.cuda.is_available()
            else self.device
        )
        locs = batched_forward(
            lambda x, p: _mlp(x, p["weights"], shapes, act),
            Xs,
            {"weights": self.weight_samples_},
            device=device,
        )
        return _ScaledNormalMixture(
            locs, self.noise_std_samples_ / self._y_scale, self._y_mean, self._y_scale
        )

    def to_inference_data(self):
        """The posterior draws as an ArviZ ``InferenceData``.

        ``posterior`` holds, with dimensions ``(chain, draw, ...)``, each
        layer's weights as ``coefs_<i>`` (fan_in, fan_out) and biases as
        ``intercepts_<i>`` (fan_out,), the draws behind ``coefs_`` and
        ``intercepts_`` on the same standardised scale (the inputs'
        dimension is ``feature``, labelled by ``feature_names_in_`` when X
        had column names; then ``hidden_0``, ``hidden_1``, ... and
        ``output``), and ``noise_std`` on the original y scale.
        ``observed_data`` holds the training ``y``.

        With ``inference="nuts"`` these are every kept draw of every chain
        (``num_chains`` by ``num_samples``), and ``sample_stats`` has, per
        draw, ``diverging``, ``tree_depth`` and ``n_steps`` (Stan's
        ``treedepth__`` and ``n_leapfrog__``), ``step_size``,
        ``acceptance_rate`` (the mean Metropolis acceptance probability
        over the trajectory, Stan's ``accept_stat__``) and ``lp`` (the log
        density, up to a constant, in the sampler's coordinates).

        With ``inference="svi"`` the posterior is the ``n_posterior_samples``
        draws of ``weight_samples_`` and ``noise_std_samples_`` from the
        fitted guide, as one chain. They are independent draws from an
        approximation, not MCMC: their R-hat and effective sample size say
        nothing about the quality of the approximation, and there is no
        ``sample_stats``.

        Returns
        -------
        arviz.InferenceData
            A new object: changing it does not change the estimator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ImportError
            If ArviZ 0.x, an optional dependency, is not installed
            (``pip install "arviz>=0.17,<1"``): ArviZ 1.0 replaced
            ``InferenceData`` by ``xarray.DataTree``.

        Examples
        --------
        >>> from bayesreg import PyroBNNRegressor
        >>> from bayesreg.datasets import make_seed_problem
        >>> X, y = make_seed_problem(50, random_state=0)
        >>> bnn = PyroBNNRegressor(hidden_layer_sizes=(20,), max_iter=50,
        ...                        jit=False, random_state=0).fit(X, y)
        >>> idata = bnn.to_inference_data()
        >>> sorted(idata.posterior.data_vars)
        ['coefs_0', 'coefs_1', 'intercepts_0', 'intercepts_1', 'noise_std']
        >>> idata.posterior["coefs_0"].dims
        ('chain', 'draw', 'feature', 'hidden_0')
        >>> idata.posterior["noise_std"].shape  # SVI: one chain of guide draws
        (1, 200)
        """
        check_is_fitted(self, "weight_samples_")
        w = self.weight_samples_
        n_layers = len(self._shapes)
        units = ["feature", *(f"hidden_{i}" for i in range(n_layers - 1)), "output"]
        draws, dims, pos = {}, {}, 0
        for i, (fan_in, fan_out) in enumerate(self._shapes):
            # Packing per layer as in _prior_scales: weights row-major, biases.
            draws[f"coefs_{i}"] = w[:, pos : pos + fan_in * fan_out].reshape(
                -1, fan_in, fan_out
            )
            pos += fan_in * fan_out
            draws[f"intercepts_{i}"] = w[:, pos : pos + fan_out]
            pos += fan_out
            dims[f"coefs_{i}"] = units[i : i + 2]
            dims[f"intercepts_{i}"] = units[i + 1 : i + 2]
        draws["noise_std"] = self.noise_std_samples_
        return to_inference_data(
            self,
            draws,
            sample_stats=getattr(self, "_mcmc_stats", None),
            dims=dims,
        )

    # -------------------------------------------------------------- helpers
    def _layout(self, n_features: int, hidden: tuple[int, ...]) -> tuple:
        """What fixes the shapes of the guide's parameters."""
        rank = self.rank if self.guide == "lowrank" else None
        return (n_features, hidden, self.guide, rank)

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(h, Integral) and h >= 1 for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {sizes!r}."
            )
        return tuple(int(h) for h in sizes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


def _unpack(w: np.ndarray, shapes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    coefs, intercepts, pos = [], [], 0
    for fi, fo in shapes:
        coefs.append(w[pos : pos + fi * fo].reshape(fi, fo))
        pos += fi * fo
        intercepts.append(w[pos : pos + fo].copy())
        pos += fo
    return coefs, intercepts
