"""What every Pyro estimator shares: parameters, faults, dispatch, sampling.

:class:`PyroRegressor` owns the parameters common to the Pyro estimators and
their constraints, the atomic ``fit`` / ``partial_fit`` (a failed call leaves
the estimator exactly as it was), the dispatch to SVI or NUTS with the fitted
state it leaves, warm starts, the sampling methods and the ArviZ export. A
subclass supplies its model and the mapping back to the original scale:

``_fit_chunk(X, y, sample_weight, incremental)``
    validate and scale a chunk (the model's own intake and standardisation),
    build the model, call :meth:`_infer`, store the fitted attributes;
``_from_guide(sites)``
    draws of the guide's sites -> the internal draws kept by the estimator;
``_parameters(draws)``
    internal draws -> :meth:`sample_parameters`' dict (original scale);
``_functions(X, draws)``
    internal draws -> the regression function at validated rows X, (n, S);
``_kept_draws()``
    the internal draws kept for prediction;
``_arviz_layout(params)``
    which parameters ArviZ shows, their dimensions and constants.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import BayesianRegressorMixin
from ..utils._checks import check_n_samples
from ..utils._random import check_generator
from ..utils._state import restore_on_error
from ._arviz import to_inference_data
from ._data import FIT_LOOP_CONSTRAINTS, Float32Output, validated_predict_X
from ._engine import GUIDES, fit_svi, resolve_device, run_nuts, seed_from

__all__ = ["PyroRegressor"]

#: fitted state that belongs to one inference; a refit with the other drops it
_SVI_STATE = ("_posterior", "loss_curve_", "n_iter_", "_svi_state", "_warm_key")
_NUTS_STATE = ("_mcmc_draws", "_mcmc_stats", "diagnostics_")


class PyroRegressor(Float32Output, BayesianRegressorMixin, BaseEstimator):
    """Base class of the Pyro estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "inference": [StrOptions({"svi", "nuts"})],
        "guide": [StrOptions(set(GUIDES))],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        **FIT_LOOP_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_warmup": [Interval(Integral, 0, None, closed="left")],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "n_posterior_samples": [Interval(Integral, 1, None, closed="left")],
        "jit": ["boolean", StrOptions({"auto"})],
        "warm_start": ["boolean"],
    }

    # ----------------------------------------------------------- fitting
    # The subclasses document fit and partial_fit (their arguments and
    # what each fits) and call these.
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the posterior by SVI or NUTS (see the subclass)."""
        return self._fit_atomic(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Continue the fit with a chunk of data (see the subclass)."""
        return self._fit_atomic(X, y, sample_weight, incremental=True)

    def _fit_atomic(self, X, y, sample_weight, *, incremental: bool):
        """``_fit_chunk``, all of it undone if any step fails (validate_data,
        which resets ``n_features_in_``, included)."""
        with restore_on_error(self):
            self._fit_chunk(X, y, sample_weight, incremental=incremental)
        return self

    def _infer(self, model, data, rng, *, state, svi: dict, nuts) -> dict:
        """Fit ``model`` by ``self.inference``; return the fitted state.

        ``svi`` holds the subclass's options of :func:`fit_svi` (data type,
        initialisation, rows, schedule, ...); ``nuts`` is the NUTS target
        (``potential``, ``initial_params``, ``to_model_sites`` and an
        ``options`` dict for :func:`run_nuts`). ``state`` continues an SVI
        fit. The result maps attribute names to values, with ``draws`` the
        ``n_posterior_samples`` internal draws kept for prediction (from
        the guide under SVI, evenly thinned from the chains under NUTS).
        Every attribute of the other inference is dropped from ``self``.
        """
        seed = seed_from(rng)
        device = resolve_device(self.device)
        S = self.n_posterior_samples
        fitted: dict = {}
        if self.inference == "svi":
            svi = dict(svi)
            jit = svi.pop("jit", True) and self.jit is not False
            result = fit_svi(
                model,
                data,
                seed=seed,
                guide=self.guide,
                rank=self.rank,
                learning_rate_init=self.learning_rate_init,
                jit=jit,
                device=device,
                n_threads=self.n_threads,
                verbose=self.verbose,
                desc=type(self).__name__,
                init_state=state,
                **svi,
            )
            before = ([], 0) if state is None else (self.loss_curve_, self.n_iter_)
            fitted.update(
                _posterior=result.posterior,
                loss_curve_=before[0] + result.loss_curve,
                n_iter_=before[1] + result.n_iter,
                _svi_state=result.state,
                draws=self._from_guide(result.posterior.sample(S, rng)),
            )
            drop = _NUTS_STATE
        else:
            target = nuts(device)
            result = run_nuts(
                None,
                (np.zeros(1),),
                seed=seed,
                n_warmup=self.n_warmup,
                n_draws=self.n_draws,
                n_chains=self.n_chains,
                device=device,
                n_threads=self.n_threads,
                verbose=self.verbose,
                potential_fn=target.potential,
                initial_params=target.initial_params,
                transform=target.to_model_sites,
                **target.options,
            )
            mc = self._from_guide(result.pooled())
            total = len(next(iter(mc.values())))
            keep = np.unique(
                np.linspace(0, total - 1, min(S, total)).round().astype(int)
            )
            fitted.update(
                n_iter_=self.n_warmup + self.n_draws,
                diagnostics_=result.diagnostics,
                _mcmc_stats=result.sample_stats,  # (chain, draw) each
                _mcmc_draws=mc,
                draws={k: v[keep] for k, v in mc.items()},
            )
            drop = _SVI_STATE
        for name in drop:
            vars(self).pop(name, None)
        return fitted

    def _validated_X(self, X) -> np.ndarray:
        """Validated float64 X (CSR when sparse), its magnitude checked."""
        return validated_predict_X(self, X)

    # ---------------------------------------------------------- sampling
    def _draw(self, n_samples: int, rng: np.random.Generator) -> dict:
        """Fresh internal draws from what was fitted (not from the live
        ``inference``): the guide under SVI; under NUTS the stored draws of
        every chain, resampled with replacement."""
        if hasattr(self, "_mcmc_draws"):
            mc = self._mcmc_draws
            pick = rng.integers(0, len(next(iter(mc.values()))), size=n_samples)
            return {k: v[pick] for k, v in mc.items()}
        return self._from_guide(self._posterior.sample(n_samples, rng))

    def sample_parameters(self, n_samples: int = 1, random_state=None) -> dict:
        """Posterior draws of the model's parameters, on the original scale.

        Under SVI fresh draws from the fitted guide; under NUTS the stored
        draws of every chain, resampled with replacement. Which one follows
        the fit, not the current value of ``inference``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState, Generator or None, default=None
            Only this generator is used (never torch's global state).

        Returns
        -------
        dict of str to ndarray
            Each value has leading axis ``n_samples``. PyroBayesianLinear:
            ``"coef"`` (n_samples, n_features), ``"intercept"`` and
            ``"noise_std"`` (n_samples,). PyroBNNRegressor: each layer's
            ``"coef_<i>"`` (n_samples, fan_in, fan_out) and
            ``"intercept_<i>"`` (n_samples, fan_out) of the network that maps
            raw X to raw y, and ``"noise_std"``. With y of shape (n, k) a
            target axis follows the draws' (``"coef"`` (n_samples, k,
            n_features), ``"noise_std"`` (n_samples, k)); the network's last
            layer has k outputs.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted: these priors are improper or
            defined on the scale of the data, so there is nothing to draw.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg import PyroBayesianLinear
        >>> X = np.random.default_rng(1).normal(size=(40, 3))
        >>> y = X.sum(axis=1) + np.random.default_rng(2).normal(scale=0.1, size=40)
        >>> reg = PyroBayesianLinear(random_state=0).fit(X, y)
        >>> draws = reg.sample_parameters(5, random_state=0)
        >>> sorted(draws), draws["coef"].shape
        (['coef', 'intercept', 'noise_std'], (5, 3))
        """
        check_is_fitted(self)
        n_samples = check_n_samples(n_samples)
        return self._parameters(self._draw(n_samples, check_generator(random_state)))

    def sample_functions(self, X, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Posterior draws of the regression function f(x) (no noise).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples_X, n_features)
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState, Generator or None, default=None
            Only this generator is used (never torch's global state).

        Returns
        -------
        ndarray of shape (n_samples_X, n_samples)
            Column ``s`` is the function of posterior draw ``s`` at the rows
            of ``X``, on the scale of y; (n_samples_X, n_targets, n_samples)
            with several targets.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg import PyroBNNRegressor
        >>> X = np.linspace(-1.0, 1.0, 30)[:, None]
        >>> bnn = PyroBNNRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
        >>> bnn = bnn.set_params(jit=False).fit(X, np.sin(3 * X[:, 0]))
        >>> bnn.sample_functions(X[:3], n_samples=4, random_state=0).shape
        (3, 4)
        """
        X = self._validated_X(X)
        n_samples = check_n_samples(n_samples)
        return self._functions(X, self._draw(n_samples, check_generator(random_state)))

    def to_inference_data(self):
        """The posterior draws as an ArviZ ``InferenceData``.

        ``posterior`` holds the draws of :meth:`sample_parameters`' keys on
        the original scale, with dimensions ``(chain, draw, ...)``;
        ``observed_data`` the training ``y`` (see the subclass for which
        chunks of a ``partial_fit`` sequence). Under NUTS these are every
        kept draw of every chain (``n_chains`` by ``n_draws``), and
        ``sample_stats`` has, per draw, ``diverging``, ``tree_depth`` and
        ``n_steps`` (Stan's ``treedepth__`` and ``n_leapfrog__``),
        ``step_size``, ``acceptance_rate`` (the mean Metropolis acceptance
        probability over the trajectory, Stan's ``accept_stat__``) and ``lp``
        (the log density, up to a constant, in the sampler's coordinates).
        Under SVI the posterior is the ``n_posterior_samples`` draws kept for
        prediction, as one chain: independent draws from an approximation,
        not MCMC, so their R-hat and effective sample size say nothing about
        the quality of the approximation; there is no ``sample_stats``.

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
        """
        check_is_fitted(self)
        nuts = hasattr(self, "_mcmc_draws")
        params = self._parameters(self._mcmc_draws if nuts else self._kept_draws())
        names, dims, constant_data = self._arviz_layout(params)
        return to_inference_data(
            self,
            {k: params[k] for k in names},
            sample_stats=self._mcmc_stats if nuts else None,
            dims=dims,
            constant_data=constant_data,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
