"""PyroBNNRegressor: a Bayesian multi-layer perceptron fitted by SVI or NUTS."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions

from ..distributions import NormalMixture
from ..networks._base import (
    ACTIVATIONS,
    NetworkRegressor,
    positive_rows,
    standardisation,
)
from ..networks._calibration import calibrate, calibration_split, shrink
from ..networks._forward import forward_draws
from ..utils._params import store_params
from ..utils._random import check_generator
from ._base import PyroRegressor
from ._data import Rows
from ._engine import Schedule
from ._network import (
    _NOISE_INIT,
    _SVI_SCHEDULE,
    _BNNModel,
    _InitLoc,
    _layer_shapes,
    _mlp,  # noqa: F401  (tests reach the model's forward pass here)
    _NUTSTarget,
    _prior_scales,
    _ScaledNormalMixture,
    _unpack,
    arviz_layout,
    noise_head,
    raw_parameters,
)

__all__ = ["PyroBNNRegressor"]

#: The calibration's lowest kappa, prior std of log c, refined c (see Notes).
_CALIBRATION = dict(min_shrinkage=0.5, noise_prior_std=0.175, refine=True)


# --------------------------------------------------------------- estimator
class PyroBNNRegressor(NetworkRegressor, PyroRegressor):
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
        Units of each hidden layer, as in ``MLPRegressor``; ``()`` for none
        (a Bayesian linear model with a learned noise).
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
    likelihood : {"heteroscedastic", "normal"}, default="heteroscedastic"
        ``"normal"``: one noise std for every row; ``"heteroscedastic"``:
        the network has a second output per target, g, and row i's noise
        std is that one times exp(g(x_i)) (see Notes).
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
    guide : {"diagonal", "multivariate", "lowrank"}, default="diagonal"
        SVI guide: mean-field Gaussian (``AutoDiagonalNormal``), a full
        covariance (``AutoMultivariateNormal``; quadratic in the number of
        weights) or a low-rank plus diagonal covariance
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
        Posterior draws of the network kept for prediction: drawn from the
        guide under SVI, evenly thinned from the chains under NUTS.
    temperature : float, default=0.5
        SVI divides the ELBO's log-likelihood by it, for a cold variational
        posterior (see Notes); ``1`` is the plain variational posterior.
        NUTS samples the untempered posterior.
    calibration_fraction : float in [0, 0.5], default=0.1
        SVI: the share of rows (at most 10,000) held out to calibrate the
        predictive on (``spread_shrinkage_``, ``noise_scale_``; see Notes).
        With under 20 such rows (under 200 rows at the default), ``0``, or
        NUTS, every row is fitted and nothing is calibrated.
    n_warmup : int, default=500
        NUTS warm-up (adaptation) steps per chain.
    n_draws : int, default=500
        NUTS draws kept per chain.
    n_chains : int, default=2
        NUTS chains, run one after the other.
    jit : bool or "auto", default=True
        The fast SVI step; ``"auto"`` is ``True``. With the diagonal guide
        the engine computes the ELBO itself: the model's log density and the
        guide's reparametrised draw written out in eager torch, with the
        draws and the value of Pyro's ``Trace_ELBO`` (a step costs what a
        hand-written torch loop costs; nothing is compiled). The full and
        low-rank guides get the same eager step. ``False`` runs Pyro's
        ``Trace_ELBO`` at every step: the same model and guide, several
        times slower. Nothing is ever compiled with ``torch.jit`` (a traced
        function would stay in the process after the fit), NUTS included.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit and predict. A fitted model holds NumPy arrays only, so
        it unpickles on a machine without the device.
    n_threads : int or None, default=1
        torch intra-op threads while fitting (restored afterwards). One
        thread is fastest for networks of this size, and many times faster
        than several when the cores are shared; ``None`` keeps torch's
        setting (worth it for wide networks on large batches).
    random_state : int, RandomState instance, Generator or None, default=None
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
        ``hidden_layer_sizes``, ``guide``, ``rank`` or ``likelihood``
        changed; with ``inference="nuts"`` each fit samples afresh. See
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
    weight_samples_ : ndarray of shape (n_posterior_samples, n_weights)
        Posterior draws of the packed weights (standardised scale) used by
        ``predict_dist``; :meth:`sample_parameters` gives them per layer on
        the original scale.
    noise_std_samples_ : ndarray of shape (n_posterior_samples,)
        Posterior draws of the noise std, on the original y scale, times
        ``noise_scale_`` (heteroscedastic: the noise where g = 0;
        ``predict_std(X, kind="aleatoric")`` gives each row's).
    noise_std_ : float
        Their mean (with y of shape (n, k): ``noise_std_samples_``
        (n_posterior_samples, k) and the last layer of ``coefs_`` has k
        outputs).
    spread_shrinkage_, noise_scale_ : float or ndarray of shape (n_targets,)
        The calibration's :math:`\\kappa` in [1/2, 1] and :math:`c` (Notes),
        one per target for a 2-D y; 1 when nothing was calibrated.
    loss_curve_ : list of float
        SVI: mean negative tempered ELBO of each epoch per unit of sample
        weight divided by ``temperature`` (per training row when unweighted
        and untempered), over every call of a warm-started or
        :meth:`partial_fit` sequence.
    n_iter_ : int
        SVI epochs run (over every call of such a sequence); NUTS:
        ``n_warmup + n_draws`` (transitions per chain).
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
    sqrt(fan_in) for weights with ``prior="fan_in"``). With
    ``likelihood="heteroscedastic"`` the network has a second output
    :math:`g_w` (same hidden layers, same priors) and row i's noise std is
    :math:`\\tilde\\sigma \\exp(g_w(\\tilde x_i))`, a Bayesian mean-variance
    network; :math:`\\tilde\\sigma_s` below then reads
    :math:`\\tilde\\sigma_s \\exp(g_{w_s}(\\tilde x))`. The head starts at
    :math:`g = 0`, held there by SVI until the ELBO's first plateau: fitted
    from the start, the noise grows where the mean is still poor, those
    rows pull less on the mean, and the fit gives up on them (energy's
    RMSE tripled). The noise prior has its median at half the target's
    std; the guide starts at :math:`\\tilde\\sigma = 0.5`. SVI maximises the ELBO

    .. math::

        \\mathbb{E}_q\\Big[\\sum_i v_i \\log p(\\tilde y_i \\mid \\tilde x_i,
        w, \\tilde\\sigma)\\Big] - \\mathrm{KL}(q \\,\\|\\, p)

    with one reparameterised draw per step (Blundell et al. 2015), the
    likelihood of a minibatch scaled by ``n / batch_size``; an integer weight
    :math:`v_i = k` counts row :math:`i` k times. The likelihood term is
    divided by ``temperature`` :math:`T`, for :math:`p(y \\mid w)^{1/T}
    p(w)`: a cold posterior at the default :math:`T = 1/2` (Wenzel et al.
    2020) offsets the KL term's pull of mean-field weights to the prior.

    The predictive is the mixture over posterior draws :math:`s` of
    :math:`\\mathcal{N}(\\bar y + s_y (\\bar f + \\kappa (f_{w_s}(\\tilde x) -
    \\bar f)), s_y^2 c^2 \\tilde\\sigma_s^2)`, :math:`\\bar f` the draws' mean.
    ``fit`` by SVI holds out ``calibration_fraction`` of the rows (the same
    rows in a warm start, given the same data and an integer
    ``random_state``), and :math:`\\kappa \\in [1/2, 1]`, :math:`c` (prior
    :math:`\\log c \\sim \\mathcal{N}(0, 0.175^2)`, tighter than the
    ensemble's 0.3) maximise their log density on a grid, as in
    ``DeepEnsembleRegressor`` (else :math:`\\kappa = c = 1`;
    :meth:`partial_fit` keeps the last fit's). Why: the mean-field ELBO
    charges every row :math:`\\mathbb{E}_q (\\tilde y - f)^2 = (\\tilde y -
    \\bar f)^2 + \\mathrm{Var}_q f`, so the learned noise variance is the
    MSE plus :math:`\\mathrm{Var}_q f`, which the predictive adds again.
    Rows cannot tell the two apart; :math:`\\kappa \\ge 1/2` keeps the
    epistemic std growing away from the data. Defaults chosen on UCI data
    (``benchmarks/RESULTS.md``).

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
    .. [4] Wenzel, Roth, Veeling, Swiatkowski, Tran, Mandt, Snoek, Salimans,
       Jenatton and Nowozin (2020). How good is the Bayes posterior in deep
       neural networks really? ICML.

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
        **PyroRegressor._parameter_constraints,
        **NetworkRegressor._parameter_constraints,
        "prior": [StrOptions({"normal", "fan_in"})],
        "init_scale": [Interval(Real, 0, None, closed="neither")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "likelihood": [StrOptions({"normal", "heteroscedastic"})],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(50,),
        activation: str = "relu",
        prior_std: float = 2.0,
        prior: str = "fan_in",
        likelihood: str = "heteroscedastic",
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
        temperature: float = 0.5,
        calibration_fraction: float = 0.1,
        n_warmup: int = 500,
        n_draws: int = 500,
        n_chains: int = 2,
        jit: bool | str = True,
        device: str = "cpu",
        n_threads: int | None = 1,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
    ):
        store_params(self, locals())

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None) -> PyroBNNRegressor:
        """Fit the posterior over the network's weights and noise.

        With ``warm_start=True`` SVI continues from the last fit (see
        ``warm_start``); otherwise it starts afresh.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A scipy.sparse X is standardised and densified one minibatch at
            a time (NUTS, full batch, densifies it whole).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Several targets share the hidden layers; each has its own
            output, standardisation and noise std.
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
        return super().fit(X, y, sample_weight)

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
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's likelihood, as in :meth:`fit`.

        Returns
        -------
        self : PyroBNNRegressor

        Raises
        ------
        ValueError
            With ``inference="nuts"``; when the number of features,
            ``hidden_layer_sizes``, ``guide``, ``rank`` or ``likelihood``
            differ from those of the fit being continued; and for invalid
            input as in :meth:`fit`.
            A failed call leaves the estimator exactly as it was.

        Notes
        -----
        Each call scales its chunk's likelihood as if the chunk (total
        sample weight m) were the whole data set, divided by ``temperature``
        T, as ``fit`` on it would. Over a stream from one distribution the
        guide approaches the variational posterior of m rows; over passes
        through N rows cut into chunks of m, the posterior with every row's
        likelihood to the power m / (N T). The regression function learns
        from every chunk, but the epistemic uncertainty is that of m rows:
        it does not shrink as the stream goes on (no knowledge of the
        stream's length is needed). For the posterior of N rows pass
        ``sample_weight=np.full(m, N / m)`` with each chunk. Randomness comes
        from ``random_state`` and the steps run so far: the same chunks in
        the same order give the same fit. No rows are held out: the
        predictive keeps the last ``fit``'s calibration (none after
        ``partial_fit`` alone). Nothing is compiled, so small chunks cost no
        more per row than large ones.
        """
        return super().partial_fit(X, y, sample_weight)

    def _fit_chunk(self, X, y, sample_weight, incremental: bool) -> None:
        if incremental and self.inference != "svi":
            raise ValueError(
                "partial_fit needs inference='svi': NUTS has no incremental "
                "form. Use fit, or set inference='svi'."
            )
        first = not (incremental and hasattr(self, "_svi_state"))
        hidden = self._hidden_sizes()
        X, y, w = self._validated(X, y, sample_weight, reset=first)
        if not first and self._warm_key != self._layout(X.shape[1], hidden, y):
            raise ValueError(
                "partial_fit cannot continue the last fit: hidden_layer_sizes, "
                "guide, rank, likelihood or the number of targets changed since. "
                "Call fit to start afresh."
            )
        self._fit(X, y, w, hidden, incremental=incremental)
        # After partial_fit, the last chunk: one epoch treats it as the data.
        self._observed_y = np.array(y, dtype=np.float64)  # for ArviZ

    def _validated(self, X, y, sample_weight, reset: bool = True):
        """The networks' intake (:class:`NetworkRegressor`), and no positive
        weight that vanishes in float32."""
        X, y, w = super()._validated(X, y, sample_weight, reset=reset)
        tiny = np.finfo(np.float32).tiny
        if np.any((w > 0) & (w < tiny)):
            raise ValueError(
                f"sample_weight has positive entries as small as {w[w > 0].min():.3g}, "
                f"below {tiny:.3g}: the network is fitted in float32, where such "
                "weights vanish. Rescale sample_weight, or set such weights to 0."
            )
        return X, y, w

    def _fit(self, X, y, w, hidden: tuple[int, ...], incremental: bool = False):
        rng = check_generator(self.random_state)
        # The SVI state to continue (None: start afresh).
        layout = self._layout(X.shape[1], hidden, y)
        state = (
            self._svi_state
            if self.inference == "svi"
            and (incremental or self.warm_start)
            and getattr(self, "_warm_key", None) == layout
            else None
        )

        X, y, w = positive_rows(X, y, w)
        # An SVI fit holds out calibration rows (see Notes); a fit resets
        # the calibration, partial_fit keeps the last one.
        cal = None
        if self.inference == "svi" and not incremental:
            cal = calibration_split(X.shape[0], self.calibration_fraction, rng)
        if not incremental or state is None:
            self.spread_shrinkage_, self.noise_scale_ = 1.0, 1.0
        if cal is not None:
            (Xc, yc, wc), (X, y, w) = ((X[i], y[i], w[i]) for i in cal)
        w_sum = float(w.sum())

        # Standardise in float64 (the engine casts to float32 afterwards):
        # the model, its priors and the guide's initialisation live in these
        # units, which makes the fit equivariant in the units of X and y. A
        # continued fit keeps the units of the fit it continues.
        sparse = sp.issparse(X)
        if state is None:
            x_mean, x_scale, y_mean, y_scale = standardisation(X, y, w)
            vars(self).pop("loss_curve_", None)
            vars(self).pop("n_iter_", None)
        else:
            x_mean, x_scale = self._x_mean, self._x_scale
            y_mean, y_scale = self._y_mean, self._y_scale
        # A sparse X is standardised a minibatch at a time (Rows), never whole.
        rows = Rows(X, x_mean, x_scale) if sparse else None
        Xs = np.arange(X.shape[0]) if sparse else (X - x_mean) / x_scale
        ys = (y - y_mean) / y_scale
        k = 1 if y.ndim == 1 else y.shape[1]
        het = self.likelihood == "heteroscedastic"
        shapes = _layer_shapes(X.shape[1], hidden, 2 * k if het else k)
        self._x_mean, self._x_scale = x_mean, x_scale
        self._y_mean, self._y_scale = y_mean, y_scale
        self._shapes, self._activation, self._het = shapes, self.activation, het
        model = _BNNModel(
            shapes,
            _prior_scales(shapes, self.prior_std, self.prior),
            self.activation,
            rows=rows,
            het=het,
        )
        data = (Xs, ys, w)
        # SVI fits the likelihood to the power 1 / temperature (see Notes):
        # every row's weight divided by T.
        t = self.temperature
        fitted = self._infer(
            model,
            (Xs, ys, w / t),
            rng,
            state=state,
            svi=dict(
                max_iter=1 if incremental else self.max_iter,
                batch_size=self.batch_size,
                schedule=Schedule(
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    **_SVI_SCHEDULE,
                ),
                init_loc_fn=_InitLoc(shapes, noise_init=_NOISE_INIT, het=het),
                # the noise head waits for the first plateau (Notes)
                hold=noise_head(shapes, k) if het else None,
                init_scale=self.init_scale,
                # Early stopping and loss_curve_ per unit of weight, so that
                # weights and repeated rows stop alike.
                n_rows=w_sum / t,
                warn=not incremental,
                # densifying rows is eager: a compiled graph would freeze them
                jit=not sparse or self.guide == "diagonal",
            ),
            # NUTS is full batch: its batch is every row
            nuts=lambda device: _NUTSTarget(
                model, (rows(np.arange(X.shape[0])), ys, w) if sparse else data, device
            ),
        )
        draws = fitted.pop("draws")
        if self.inference == "svi":
            fitted["_warm_key"] = layout
            mean_w = fitted["_posterior"].mean_unconstrained()["weights"]
            noise_mean = float(draws["noise_std"].mean())
        else:
            mean_w = fitted["_mcmc_draws"]["weights"].mean(axis=0)
            noise_mean = float(fitted["_mcmc_draws"]["noise_std"].mean())
        if cal is not None:  # kappa in [1/2, 1] and c, per target
            f, g = self._network(Xc, draws["weights"])
            s = (draws["noise_std"] / y_scale).T * (1.0 if g is None else np.exp(g))
            yc = (yc - y_mean) / y_scale
            kappa, c = calibrate(f, s, yc, wc, **_CALIBRATION)
            fitted.update(spread_shrinkage_=kappa, noise_scale_=c)
            draws["noise_std"] = draws["noise_std"] * c
            noise_mean = float(draws["noise_std"].mean())
        coefs, intercepts = _unpack(mean_w, shapes)
        fitted.update(
            weight_samples_=draws["weights"],
            noise_std_samples_=draws["noise_std"],
            noise_std_=noise_mean,
            coefs_=coefs,
            intercepts_=intercepts,
        )
        vars(self).update(fitted)

    # ------------------------------------------------- draws and mapping
    def _from_guide(self, sites: dict) -> dict:
        """Weights on the standardised scale, noise std on the scale of y
        (times ``noise_scale_``: the draws of a calibrated fit continued)."""
        noise = np.asarray(sites["noise_std"], dtype=np.float64)
        noise = noise.reshape(noise.shape[0], -1) if self._multi else noise.ravel()
        return {
            "weights": np.asarray(sites["weights"], dtype=np.float64),
            "noise_std": noise * (self._y_scale * self.noise_scale_),
        }

    def _kept_draws(self) -> dict:
        return {"weights": self.weight_samples_, "noise_std": self.noise_std_samples_}

    def _parameters(self, draws: dict) -> dict:
        """Per-layer weights of the network that maps raw X to raw y."""
        return raw_parameters(draws, self)

    _multi = property(lambda self: self._n_out is not None, doc="A 2-D y.")
    _het = False  # the noise head of a fit; fits pickled before it had none

    def _functions(self, X: np.ndarray, draws: dict) -> np.ndarray:
        f, kappa = self._network(X, draws["weights"])[0], self.spread_shrinkage_
        if np.any(kappa != 1.0):  # about the kept draws' mean, as predict_dist
            f = shrink(f, kappa, self._network(X, self.weight_samples_)[0])
        if self._multi:
            return self._y_mean[:, None] + self._y_scale[:, None] * f
        return self._y_mean + self._y_scale * f

    def _network(self, X, weights: np.ndarray):
        """The network of each draw at the rows of X, standardised: its means
        f, (n, S) or (n, k, S) with several targets, and its log noise
        offsets g alike (None for a homoscedastic fit). A sparse X is
        densified a chunk of rows at a time."""
        act = ACTIVATIONS[self._activation]  # the fitted one, not the live one
        het = self._het
        # The draws' networks as packed GEMMs (float32), draws last.
        out = forward_draws(
            self._scaled_rows(X), weights, self._shapes, act,
            multi=self._multi or het, device=self._predict_device(),
        )  # fmt: skip
        if not het:
            return out, None
        k = out.shape[1] // 2
        if self._multi:
            return out[:, :k], out[:, k:]
        return out[:, 0], out[:, 1]

    def _arviz_layout(self, params: dict):
        return arviz_layout(self._shapes, self._multi, self._het)

    # -------------------------------------------------------------- predict
    def predict_dist(self, X) -> NormalMixture:
        """Posterior predictive: a mixture over the posterior draws.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        NormalMixture
            ``n_samples`` mixtures of ``n_draws`` Normals, on the y scale;
            with several targets of batch shape (n_samples, n_targets).
        """
        X = self._validated_X(X)
        locs, g = self._network(X, self.weight_samples_)
        kappa = self.spread_shrinkage_
        if np.any(kappa != 1.0):  # else bit for bit the plain mixture
            locs = shrink(locs, kappa)
        # several targets: noise draws (S, k) -> (k, S), the draw axis last
        noise = (self.noise_std_samples_ / self._y_scale).T
        if g is not None:  # each row's noise: exp(g) times the draw's
            noise = noise * np.exp(g)
        return _ScaledNormalMixture(locs, noise, self._y_mean, self._y_scale)

    def to_inference_data(self):
        """The posterior draws as an ArviZ ``InferenceData``.

        ``posterior`` holds, with dimensions ``(chain, draw, ...)``, the keys of
        :meth:`sample_parameters` on the original scale: each layer's weights
        ``coef_<i>`` (fan_in, fan_out) and biases ``intercept_<i>`` (fan_out,)
        (the inputs' dimension is ``feature``, labelled by ``feature_names_in_``
        when X had column names; then ``hidden_0``, ``hidden_1``, ... and
        ``output``), and ``noise_std``. ``observed_data`` holds the training
        ``y`` (of the last chunk after :meth:`partial_fit`). Under NUTS the
        posterior holds every kept draw of every chain (``n_chains`` by
        ``n_draws``), with the sampler's per-draw statistics (``diverging``,
        ``tree_depth``, ``n_steps``, ``step_size``, ``acceptance_rate``, ``lp``)
        in ``sample_stats``; under SVI the ``n_posterior_samples`` draws from
        the guide as one chain, without ``sample_stats`` (their R-hat and
        effective sample size say nothing about the approximation).

        Returns
        -------
        arviz.InferenceData
            A new object: changing it does not change the estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg import PyroBNNRegressor
        >>> X = np.random.default_rng(0).uniform(-2, 2, size=(40, 2))
        >>> bnn = PyroBNNRegressor(max_iter=50, jit=False, random_state=0)
        >>> bnn = bnn.fit(X, np.tanh(X[:, 0]) - X[:, 1])
        >>> idata = bnn.to_inference_data()
        >>> sorted(idata.posterior.data_vars)
        ['coef_0', 'coef_1', 'intercept_0', 'intercept_1', 'noise_std']
        >>> idata.posterior["coef_0"].dims
        ('chain', 'draw', 'feature', 'hidden_0')
        >>> idata.posterior["noise_std"].shape  # SVI: one chain of guide draws
        (1, 200)
        """
        return super().to_inference_data()

    # -------------------------------------------------------------- helpers
    def _layout(self, n_features: int, hidden: tuple[int, ...], y) -> tuple:
        """What fixes the shapes of the guide's parameters."""
        rank = self.rank if self.guide == "lowrank" else None
        n_out = y.shape[1] if y.ndim == 2 else None
        return (n_features, hidden, self.guide, rank, n_out, self.likelihood)
