"""DeepEnsembleRegressor: an anchored ensemble of heteroscedastic networks."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions

from ..distributions import NormalMixture
from ..pyro._data import Rows
from ..pyro._runtime import resolve_device, seed_from, torch_threads
from ..utils._checks import check_n_samples
from ..utils._params import store_params
from ..utils._random import check_generator
from ..utils._state import restore_on_error
from ..utils._warnings import find_stack_level
from ._base import NetworkRegressor, positive_rows, standardisation
from ._calibration import calibrate, calibration_split, shrink
from ._ensemble_fit import Config, fit_members, predict_members

__all__ = ["DeepEnsembleRegressor"]


def _fit_group(X, y, w, seeds, cfg, device, n_threads, verbose):
    with torch_threads(n_threads):
        return fit_members(X, y, w, seeds, cfg, device, verbose)


class DeepEnsembleRegressor(NetworkRegressor):
    """Anchored ensemble of networks with a learned, input-dependent noise.

    ``n_estimators`` multi-layer perceptrons, each with two outputs (the mean
    of y and its noise std at x), are fitted as randomised MAP estimates:
    each member starts at its own draw from the prior over weights and is
    regularised towards that draw ("anchored"), and each holds out its own
    random ``validation_fraction`` of the rows to stop early on its held-out
    log density. The predictive distribution is the equally weighted mixture
    of the members' Gaussians: its epistemic part is the spread of the
    members' means (which grows away from the data), its aleatoric part the
    members' noise, which may vary with x (heteroscedastic). All members are
    trained at once as one batched torch graph; ``n_jobs`` fits them as
    separate joblib tasks instead (so a dask backend spreads them).

    Parameters
    ----------
    n_estimators : int, default=5
        Number of networks.
    hidden_layer_sizes : tuple of int, default=(50,)
        Units of each hidden layer, as in ``MLPRegressor``; ``()`` for none
        (each member's mean and noise pre-activation are then linear in X).
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Hidden-layer non-linearity.
    prior_std : float, default=1.0
        Scale of the Gaussian prior over weights, on the standardised scale
        of X and y: a layer with ``fan_in`` inputs has weights of std
        ``prior_std / sqrt(fan_in)`` and biases of std ``prior_std``.
    anchored : bool, default=True
        ``True``: each member's L2 penalty pulls it towards its own prior
        draw (randomised MAP; Pearce et al. 2020), so the ensemble samples
        an approximate posterior. ``False``: towards zero (ordinary MAP, the
        members differ only through their starting points and held-out
        rows; Lakshminarayanan et al. 2017).
    learning_rate_init : float, default=0.03
        Adam's initial step size; cut to 0.3 times after each
        ``n_iter_no_change // 2`` steps without a better held-out loss.
        Collinear X (condition number over 1e6) is fitted in its principal
        axes (a rotation: same prior and objective, same ``coefs_`` axes).
    max_iter : int, default=10000
        Maximum number of optimiser steps (each a full batch, or a minibatch
        when ``batch_size`` is smaller than the training rows).
    batch_size : int, "auto" or None, default="auto"
        Rows per step. ``"auto"``: the whole training set up to 4,096 rows,
        minibatches of 1,024 beyond; ``None``: always the whole training
        set. Memory during fitting is bounded by the minibatch (and the
        at most 10,000 held-out rows per member).
    validation_fraction : float in [0, 1), default=0.1
        Share of the rows each member holds out (a different random subset
        per member, at most 10,000 rows) for early stopping. ``0`` disables
        early stopping: each member runs ``max_iter`` steps on all rows.
    calibration_fraction : float in [0, 0.5], default=0.1
        Share of the rows that no member trains on (at most 10,000), used
        after the fit to calibrate the mixture: the members are shrunk
        towards their mean by a factor in [0, 1] and their noise std scaled,
        both chosen by the log density of these rows (``spread_shrinkage_``,
        ``noise_scale_``). Needs at least 20 such rows; with fewer, or ``0``,
        every row trains the members and the mixture is used as it is.
    n_iter_no_change : int, default=1000
        A member stops when its held-out loss has not improved for this many
        steps; it keeps the weights of its best step.
    warmup_iter : int, default=500
        Steps during which the mean is fitted by plain least squares (the
        noise head learning alongside) before the weighted fit and early
        stopping start.
    variance_floor : float, default=1e-3
        Lower bound of each member's noise std, in units of the std of y.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to fit and predict. A fitted model holds NumPy arrays only, so
        a model fitted on CUDA predicts on the CPU where there is none.
    n_threads : int or None, default=1
        torch intra-op threads while fitting and predicting (restored
        afterwards); ``None`` keeps torch's setting.
    n_jobs : int or None, default=None
        ``None``: all members in one batched graph in this process (the
        fastest on one machine). An int: one joblib task per member, run by
        ``n_jobs`` workers of the active joblib backend (``-1``: all cores);
        the members are the same up to rounding.
    random_state : int, RandomState, Generator or None, default=None
        Seeds a private generator per member; torch's and NumPy's global
        generators are never used.
    verbose : int, default=0
        ``>= 1`` prints the training objective every 500 steps.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when X has string column names.
    coefs_ : list of ndarray
        Each layer's weights, shape (n_estimators, fan_in, fan_out), on the
        standardised scale; the last layer's two columns are the mean and
        the noise pre-activation.
    intercepts_ : list of ndarray
        Each layer's biases, shape (n_estimators, fan_out).
    best_iter_ : ndarray of shape (n_estimators,)
        Step whose weights each member kept.
    validation_loss_ : ndarray of shape (n_estimators,)
        Each member's best held-out loss (mean Gaussian negative log density
        in standardised units, without the constant); inf without held-out
        rows.
    n_iter_ : int
        Steps run (the last member to stop).
    spread_shrinkage_ : float
        Factor in [0, 1] by which the predictive shrinks the members' means
        towards their average (1: the plain mixture).
    noise_scale_ : float
        Factor applied to every member's noise std in the predictive (1: as
        fitted).
    loss_curve_ : ndarray of shape (n_steps,)
        Training objective of each of the ``n_iter_`` steps, averaged over the
        members.

    See Also
    --------
    bayesreg.PyroBNNRegressor : a Bayesian network by variational inference.
    sklearn.gaussian_process.GaussianProcessRegressor : the exact GP.

    Notes
    -----
    X and y are standardised with their (weighted) training means and stds
    and the result rounded to a grid of 2^-24 (about 6e-8, far below the
    noise floor); every setting lives in these units, so the predictive is
    equivariant: refitting on ``(c * X, a * y + b)`` (``a > 0``) with the
    same ``random_state`` maps means to ``a * mean + b`` and stds to
    ``a * std``, to rounding (the members are trained in float64 and
    predict in float32, as packed GEMMs). The grid matters: a change
    of units moves the standardised data by a few ulps, and early stopping
    would amplify that into members stopping at other steps (up to 0.2 std
    of y at single points of ``load_diabetes`` without it); on the grid the
    members train on the same numbers bit for bit. (A shift ``b`` so large
    that ``a * y + b`` loses digits of y changes the data itself, by what
    it lost.)

    Member :math:`m` is a network
    :math:`x \\mapsto (\\mu_m(x), z_m(x))` with noise std
    :math:`\\sigma_m(x) = \\mathrm{softplus}(z_m(x)) + \\sigma_{\\min}`. Its
    weights :math:`\\theta` start at a prior draw
    :math:`\\hat\\theta_m \\sim \\mathcal{N}(0, \\mathrm{diag}(s^2))` and minimise,
    over its training rows (weights :math:`v_i`, total :math:`V_m`),

    .. math::

        \\frac{1}{V_m}\\sum_i v_i \\Big[\\tfrac12 \\omega_i (y_i - \\mu_m(x_i))^2
        + \\tfrac12 \\frac{(y_i - \\mu_m(x_i))^2}{\\sigma_m(x_i)^2}
        + \\log \\sigma_m(x_i)\\Big]
        + \\frac{1}{2 V_m} \\sum_j \\frac{(\\theta_j - \\hat\\theta_{mj})^2}{s_j^2},

    where the first term moves only the mean and the second and third only
    the noise head. With :math:`\\omega_i = 1/\\sigma_m(x_i)^2` this is the
    negative log posterior of the heteroscedastic model, whose randomised
    MAP estimates are posterior draws for linear models and approximately
    so for wide networks (Pearce et al. 2020). Here
    :math:`\\omega_i = 1 / \\min(\\sigma_m(x_i)^2, \\overline{\\sigma_m^2})`
    (the batch mean), held fixed within each step: no row weighs less than
    under a homoscedastic fit, which stops a member from explaining rows it
    fits badly as noise and never fitting them (Seitzer et al. 2022);
    :math:`\\omega_i = 1` during the warm-up. The predictive is

    .. math::

        p(y \\mid x) = \\frac1M \\sum_m \\mathcal{N}(y; \\mu_m(x), \\sigma_m(x)^2),

    with epistemic variance :math:`\\mathrm{Var}_m\\, \\mu_m(x)` and aleatoric
    variance :math:`\\mathrm{mean}_m\\, \\sigma_m(x)^2`, after calibration on
    rows no member saw: :math:`\\mu_m` is replaced by
    :math:`\\bar\\mu + \\kappa (\\mu_m - \\bar\\mu)` and :math:`\\sigma_m` by
    :math:`c\\, \\sigma_m`, with :math:`(\\kappa, c)` maximising their log
    density. The members' disagreement measures the error of one member;
    their average is more accurate than that (on the UCI sets, much more),
    so the plain mixture is too wide where the members disagree most. The defaults were
    chosen once for all data sets on the UCI benchmark
    (``benchmarks/RESULTS.md``, ``docs/user_guide/choosing.rst``).

    References
    ----------
    .. [1] Lakshminarayanan, Pritzel and Blundell (2017). Simple and scalable
       predictive uncertainty estimation using deep ensembles. NeurIPS.
    .. [2] Pearce, Leibfried, Brintrup, Zaki and Neely (2020). Uncertainty in
       neural networks: approximately Bayesian ensembling. AISTATS.
    .. [3] Seitzer, Tavakoli, Antic and Martius (2022). On the pitfalls of
       heteroscedastic uncertainty estimation with probabilistic neural
       networks. ICLR.

    Examples
    --------
    >>> from bayesreg import DeepEnsembleRegressor
    >>> from bayesreg.datasets import make_seed_problem
    >>> X, y = make_seed_problem(50, random_state=0)
    >>> ens = DeepEnsembleRegressor(n_estimators=3, max_iter=300,
    ...                             warmup_iter=100, random_state=0).fit(X, y)
    >>> ens.predict_interval(X[:2]).shape
    (2, 2)
    >>> bool((ens.predict_std(X, kind="epistemic") > 0).all())
    True
    """

    _parameter_constraints: dict = {
        **NetworkRegressor._parameter_constraints,
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "anchored": ["boolean"],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "warmup_iter": [Interval(Integral, 0, None, closed="left")],
        "variance_floor": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        n_estimators: int = 5,
        hidden_layer_sizes=(50,),
        activation: str = "relu",
        prior_std: float = 1.0,
        anchored: bool = True,
        learning_rate_init: float = 0.03,
        max_iter: int = 10000,
        batch_size="auto",
        validation_fraction: float = 0.1,
        calibration_fraction: float = 0.1,
        n_iter_no_change: int = 1000,
        warmup_iter: int = 500,
        variance_floor: float = 1e-3,
        device: str = "cpu",
        n_threads: int | None = 1,
        n_jobs: int | None = None,
        random_state=None,
        verbose: int = 0,
    ):
        store_params(self, locals())

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None) -> DeepEnsembleRegressor:
        """Fit the members.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A scipy.sparse X is standardised and densified a minibatch (and
            the held-out rows) at a time.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Several targets share the hidden layers; each has its own mean,
            noise, standardisation and calibration (then of shape (k,)).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row: an integer weight ``k`` counts
            the row ``k`` times in the objective and the held-out loss, a
            weight 0 removes it. The standardisation uses weighted means and
            stds.

        Returns
        -------
        self : DeepEnsembleRegressor

        Raises
        ------
        ValueError
            For invalid input (NaN, inf, wrong shapes, negative or all-zero
            weights) and for entries of X or y beyond 1e150 in magnitude. A
            failed fit leaves the estimator exactly as it was.
        FloatingPointError
            If the optimiser diverged (lower ``learning_rate_init``): NaN
            weights, or a member whose mean misses its training rows by more
            than 10 stds of y.
        """
        with restore_on_error(self):
            hidden = self._hidden_sizes()
            X, y, w = self._validated(X, y, sample_weight)
            self._fit(X, y, w, hidden)
        return self

    def _fit(self, X, y, w, hidden) -> None:
        X, y, w = positive_rows(X, y, w)
        sparse = sp.issparse(X)
        x_mean, x_scale, y_mean, y_scale = standardisation(X, y, w)
        # Snapped to a grid far below any precision a network resolves (the
        # noise std has a floor of 1e-3): a change of units moves these
        # arrays by a few ulps, which early stopping could amplify into a
        # member stopping at another step; on the grid they stay bit-identical.
        # A sparse X is standardised and snapped a block of rows at a time.
        if sparse:
            Xs = Rows(X, x_mean, x_scale, post=_snap)
        else:
            Xs = _snap((X - x_mean) / x_scale)
        ys = _snap((y - y_mean) / y_scale)

        n = X.shape[0]
        if self.batch_size == "auto":
            batch = None if n <= 4096 else 1024
        else:
            batch = self.batch_size
        cfg = Config(
            hidden=hidden,
            activation=self.activation,
            prior_std=float(self.prior_std),
            anchored=bool(self.anchored),
            learning_rate=float(self.learning_rate_init),
            max_iter=int(self.max_iter),
            batch_size=batch,
            validation_fraction=float(self.validation_fraction),
            n_iter_no_change=int(self.n_iter_no_change),
            warmup_iter=int(self.warmup_iter),
            variance_floor=float(self.variance_floor),
        )
        rng = check_generator(self.random_state)
        seeds = [seed_from(rng) for _ in range(self.n_estimators)]
        device = resolve_device(self.device)
        split = calibration_split(
            n, self.calibration_fraction, np.random.default_rng(seed_from(rng))
        )
        cal = None
        if split is not None:
            cal, train = split
            X_train = Rows(X[train], x_mean, x_scale, post=_snap) if sparse else None
            args = (Xs[train] if X_train is None else X_train, ys[train], w[train])
        else:
            args = (Xs, ys, w)
        if self.n_jobs is None:
            res = _fit_group(*args, seeds, cfg, device, self.n_threads, self.verbose)
        else:
            from joblib import Parallel, delayed

            parts = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_group)(*args, [s], cfg, device, self.n_threads, 0)
                for s in seeds
            )
            res = _merge(parts)

        stopped = res["stopped"]
        if cfg.validation_fraction > 0 and not stopped.all():
            warnings.warn(
                f"{int((~stopped).sum())} of {self.n_estimators} members reached "
                f"max_iter={self.max_iter} before early stopping; increase "
                "max_iter.",
                ConvergenceWarning,
                stacklevel=find_stack_level(),
            )
        params = res["params"]
        self.coefs_ = params[0::2]
        self.intercepts_ = [b[:, 0, :] for b in params[1::2]]
        self.best_iter_ = res["best_iter"]
        self.validation_loss_ = res["best_loss"]
        self.n_iter_ = int(res["n_iter"])
        self.loss_curve_ = res["loss_curve"]
        self._x_mean, self._x_scale = x_mean, x_scale
        self._y_mean, self._y_scale = y_mean, y_scale
        self._activation = self.activation
        self._floor = float(self.variance_floor)
        self.spread_shrinkage_, self.noise_scale_ = 1.0, 1.0
        self._check_divergence(args)
        if cal is not None:
            # kappa in [0, 1], c on a grid; each target on its own
            mu, sig = self._members_standardised(Xs(cal) if sparse else Xs[cal])
            kappa, c = calibrate(mu, sig, ys[cal], w[cal], min_shrinkage=0.0)
            self.spread_shrinkage_, self.noise_scale_ = kappa, c

    def _check_divergence(self, args) -> None:
        """FloatingPointError if a member's mean misses the training rows by
        over 10 stds of y (rms): the constant mean misses by 1 and every fit
        starts near it; only a diverged optimiser ends that far off."""
        X, y, w = args
        mu, _ = self._members_standardised(X)
        err = (mu - y[..., None]) ** 2
        err = err.mean(axis=1) if err.ndim == 3 else err
        rmse = np.sqrt(w @ err / w.sum())
        bad = ~(rmse <= _DIVERGED_RMSE)  # NaN included
        if bad.any():
            raise FloatingPointError(
                f"{int(bad.sum())} of {self.n_estimators} members diverged: their mean "
                f"misses the training rows by up to {np.nanmax(rmse):.3g} stds of "
                f"y (root mean square). Lower learning_rate_init (currently "
                f"{self.learning_rate_init:g})."
            )

    # ----------------------------------------------------------- predict
    def _members(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated members' means and noise stds at validated X, on the
        original scale, shape (n, M) (or (n, k, M) for k targets)."""
        mu, sig = self._members_standardised(self._scaled_rows(X))
        mu = shrink(mu, self.spread_shrinkage_)
        if self._n_out is None:
            sig = self.noise_scale_ * sig
            return self._y_mean + self._y_scale * mu, self._y_scale * sig
        # per target, (k, 1); a float (1, 1) when nothing was calibrated
        sig = np.reshape(self.noise_scale_, (-1, 1)) * sig
        y_mean, y_scale = self._y_mean[:, None], self._y_scale[:, None]
        return y_mean + y_scale * mu, y_scale * sig

    def _members_standardised(self, Xs) -> tuple[np.ndarray, np.ndarray]:
        """The fitted members at standardised rows (an array, a callable
        :class:`Rows` of a sparse X, or blocks of rows), before calibration."""
        if isinstance(Xs, Rows):
            Xs = Xs.chunks()
        params = []
        for W, b in zip(self.coefs_, self.intercepts_, strict=True):
            params += [W, b[:, None, :]]
        device = self._predict_device()
        with torch_threads(self.n_threads):
            return predict_members(
                params, Xs, self._activation, self._floor, device, self._n_out
            )

    def predict_dist(self, X) -> NormalMixture:
        """Predictive distribution: the calibrated mixture of the members.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        NormalMixture
            ``n_samples`` mixtures of ``n_estimators`` components; with
            several targets of batch shape (n_samples, n_targets).
        """
        mu, sig = self._members(self._validated_X(X))
        return NormalMixture(mu, sig)

    def sample_functions(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Draws of the regression function: members' means, picked at random.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None, default=None

        Returns
        -------
        ndarray of shape (n_samples_X, n_samples)
            (n_samples_X, n_targets, n_samples) with several targets.
        """
        X = self._validated_X(X)
        n_samples = check_n_samples(n_samples)
        pick = check_generator(random_state).integers(self.n_estimators, size=n_samples)
        return self._members(X)[0][..., pick]

    def sample_parameters(self, n_samples: int = 1, random_state=None) -> dict:
        """Draws of the network weights: members picked uniformly at random.

        The layers map raw X to the mean of raw y (the standardisation is
        folded into the first and last layers), as ``MLPRegressor``'s
        ``coefs_`` / ``intercepts_``; the noise head is returned apart. These
        are the members as fitted: the predictive and
        :meth:`sample_functions` shrink each member's mean towards the
        members' average by ``spread_shrinkage_`` (a blend of networks, not
        one network's weights), and ``noise_scale`` includes
        ``noise_scale_``.

        Parameters
        ----------
        n_samples : int, default=1
        random_state : int, RandomState, Generator or None, default=None

        Returns
        -------
        dict of str to ndarray
            ``"coef_<i>"`` (n_samples, fan_in, fan_out) and
            ``"intercept_<i>"`` (n_samples, fan_out) for each layer (the
            last has one output, the mean of y); ``"noise_coef"``
            (n_samples, last hidden width) and ``"noise_intercept"``
            (n_samples,): with ``h`` the last hidden layer and ``s_y``
            ``noise_scale``, the noise std at x is
            ``s_y * (softplus(h @ noise_coef + noise_intercept) + floor)``
            with ``floor = variance_floor``; ``"noise_scale"`` (n_samples,).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If unfitted: the prior is defined on the standardised scale of
            the training data, so there is nothing to draw from.
        """
        if not hasattr(self, "coefs_"):
            raise NotFittedError(
                "This DeepEnsembleRegressor is not fitted: its prior lives on "
                "the standardised scale of the training data. Call fit first."
            )
        n_samples = check_n_samples(n_samples)
        pick = check_generator(random_state).integers(self.n_estimators, size=n_samples)
        coefs = [W[pick] for W in self.coefs_]
        icpts = [b[pick] for b in self.intercepts_]
        # Fold x -> (x - mean) / scale into the first layer.
        b0 = icpts[0] - np.einsum("d,sdh->sh", self._x_mean / self._x_scale, coefs[0])
        coefs[0] = coefs[0] / self._x_scale[None, :, None]
        icpts[0] = b0
        out = {}
        last = len(coefs) - 1
        k = self._n_out
        for i, (W, b) in enumerate(zip(coefs, icpts, strict=True)):
            if i == last and k is None:
                out["noise_coef"] = W[:, :, 1].copy()
                out["noise_intercept"] = b[:, 1].copy()
                W = self._y_scale * W[:, :, :1]
                b = self._y_mean + self._y_scale * b[:, :1]
            elif i == last:  # k means, then k noise pre-activations
                out["noise_coef"] = W[:, :, k:].copy()
                out["noise_intercept"] = b[:, k:].copy()
                W = self._y_scale * W[:, :, :k]
                b = self._y_mean + self._y_scale * b[:, :k]
            out[f"coef_{i}"], out[f"intercept_{i}"] = W, b
        scale = self._y_scale * self.noise_scale_
        out["noise_scale"] = (
            np.full(n_samples, scale) if k is None else np.tile(scale, (n_samples, 1))
        )
        return out


#: Grid of the standardised training data: 2^-24 (about 6e-8), exact in
#: binary, 10^4 times finer than the default variance_floor.
_GRID = 2.0**-24


def _snap(a: np.ndarray) -> np.ndarray:
    """``a`` rounded, in place, to the nearest multiple of ``_GRID`` (exact in
    floats: dividing and multiplying by a power of two only moves the
    exponent). In place, so a million-row X is not copied three more times."""
    a /= _GRID
    np.round(a, out=a)
    a *= _GRID
    return a


#: A member whose mean misses y by more than this (rms, stds) has diverged.
_DIVERGED_RMSE = 10.0


def _merge(parts: list[dict]) -> dict:
    """Join the results of single-member fits into one ensemble."""
    return {
        "params": [
            np.concatenate([p["params"][k] for p in parts])
            for k in range(len(parts[0]["params"]))
        ],
        "best_iter": np.concatenate([p["best_iter"] for p in parts]),
        "best_loss": np.concatenate([p["best_loss"] for p in parts]),
        "stopped": np.concatenate([p["stopped"] for p in parts]),
        "n_iter": max(p["n_iter"] for p in parts),
        "loss_curve": _mean_curve([p["loss_curve"] for p in parts]),
    }


def _mean_curve(curves: list[np.ndarray]) -> np.ndarray:
    """Mean over members of curves of unequal lengths (a member that stopped
    early contributes until it stopped)."""
    n = max(len(c) for c in curves)
    total, count = np.zeros(n), np.zeros(n)
    for c in curves:
        total[: len(c)] += c
        count[: len(c)] += 1
    return total / np.maximum(count, 1)
