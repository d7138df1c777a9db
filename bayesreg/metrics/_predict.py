"""From a fitted estimator, behind any wrappers, to its predictive of y."""

from __future__ import annotations

import numpy as np

from .._resolve import distribution_of, is_identity, unwrap
from ..distributions import PredictiveDistribution
from ._common import _check_log_density, _targets


def predict_dist(estimator, X) -> PredictiveDistribution:
    """The predictive distribution of a fitted estimator at ``X``.

    ``Pipeline`` exposes neither ``predict_dist`` nor ``predict_std``; this
    helper looks through it and through other wrappers to the regressor
    that does.

    * a bayesreg estimator (anything with ``predict_dist``): its own answer;
    * a ``Pipeline``: ``X`` is transformed by all steps but the last, then
      the last step is resolved;
    * a fitted ``GridSearchCV``, ``RandomizedSearchCV`` or any search object
      with ``best_estimator_`` (refit=True): the best estimator;
    * a ``TransformedTargetRegressor``: the inner distribution mapped back
      to the scale of y. An affine target transform (``StandardScaler``, a
      linear ``func``) keeps the family (a Normal stays Normal); any other
      strictly monotone transform (``func=np.log, inverse_func=np.exp``,
      ``PowerTransformer``, ``QuantileTransformer`` with normal output)
      gives a :class:`~bayesreg.distributions.TransformedDistribution`,
      the push-forward of the inner distribution through
      ``inverse_func`` (or ``transformer.inverse_transform``). Nested
      wrappers compose, innermost transform first;
    * any other regressor whose ``predict`` accepts ``return_std``
      (BayesianRidge, ARDRegression, GaussianProcessRegressor): a Normal
      with that mean and std.

    For that last group the split of the variance is known only for
    BayesianRidge and ARDRegression (noise variance ``1 / alpha_``). For other
    regressors, GaussianProcessRegressor included, the epistemic part is
    unknown and the returned Normal reports it as zero (its convention when
    no split is given); only the total std is meaningful there.

    Parameters
    ----------
    estimator : estimator instance
        A fitted regressor, Pipeline or search object.
    X : array-like of shape (n_samples, n_features)
        Inputs, as the outermost estimator expects them.

    Returns
    -------
    PredictiveDistribution
        n_samples independent predictive distributions (batch shape
        (n_samples,), or (n_samples, n_targets) for a model of several
        targets).

    Raises
    ------
    TypeError
        If the final estimator gives no predictive distribution.
    ValueError
        If a target transform is not strictly monotone over the predictive
        distribution (``func=np.square`` on a target of both signs, a
        ``QuantileTransformer`` fitted to tied values), or is non-linear
        and the prediction lazy (dask).
    sklearn.exceptions.NotFittedError
        If a search object or wrapper is not fitted.

    Notes
    -----
    Through a non-linear target transform the predictive mean is
    ``E g(Z)``, not the ``TransformedTargetRegressor``'s ``predict``, which
    is ``g`` of the inner mean (for a symmetric inner predictive, the
    push-forward's median). A log target with a Student-t inner predictive
    (``ConjugateLinearRegression`` with unknown noise) has an infinite mean
    and standard deviation, and so an infinite CRPS; its quantiles,
    intervals and density are finite and exact.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from bayesreg import predict_dist
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(40, 1))
    >>> y = 2 * X[:, 0] + 0.1 * rng.normal(size=40)
    >>> pipe = make_pipeline(StandardScaler(), BayesianRidge()).fit(X, y)
    >>> dist = predict_dist(pipe, [[0.5]])
    >>> type(dist).__name__, dist.mean.round(1)
    ('Normal', array([1.]))

    A log target: the predictive of y is the push-forward of the inner one.

    >>> from sklearn.compose import TransformedTargetRegressor
    >>> positive = np.exp(y)
    >>> ttr = TransformedTargetRegressor(
    ...     BayesianRidge(), func=np.log, inverse_func=np.exp
    ... ).fit(X, positive)
    >>> dist = predict_dist(ttr, [[0.5]])
    >>> type(dist).__name__
    'TransformedDistribution'
    >>> bool(np.allclose(dist.median(), ttr.predict([[0.5]])))
    True
    """
    return distribution_of(unwrap(estimator, X))


def log_predictive_density(estimator, X, y) -> np.ndarray:
    """Pointwise log predictive density of a fitted estimator, shape of y.

    Uses the final regressor's own ``log_predictive_density`` when it has
    one and no target transform lies between (every bayesreg estimator:
    exact for closed-form predictives, a log-mean-exp over posterior draws
    otherwise), and the log density of :func:`predict_dist` otherwise
    (Gaussian for sklearn regressors). Through a
    ``TransformedTargetRegressor`` that density carries the log-Jacobian of
    the target transform, ``log p(y) = log p_z(f(y)) + log |f'(y)|``, and is
    ``-inf`` outside the range of the inverse transform.

    Parameters
    ----------
    estimator : estimator instance
        Fitted regressor, Pipeline or search object; see :func:`predict_dist`.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_targets)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from bayesreg.metrics import log_predictive_density
    >>> X = np.linspace(0, 1, 30)[:, None]
    >>> y = X[:, 0] + 0.1 * np.sin(40 * X[:, 0])
    >>> log_predictive_density(BayesianRidge().fit(X, y), X[:2], y[:2]).shape
    (2,)
    """
    resolved = unwrap(estimator, X)
    final = resolved.final
    identity = is_identity(resolved.targets)
    if identity and callable(getattr(final, "log_predictive_density", None)):
        logp = np.asarray(final.log_predictive_density(resolved.X, y), dtype=float)
    else:
        # Through a target transform: the density of the push-forward, with
        # the log-Jacobian of the transform.
        dist = distribution_of(resolved)
        logp = dist.logpdf(_targets(y, dist))
    return _check_log_density(logp)
