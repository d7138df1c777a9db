"""Push-forwards of predictive distributions through strictly monotone maps."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..utils._checks import check_n_samples, check_quantile_levels
from ._base import PredictiveDistribution, _by_rows
from ._loc_scale import Normal, StudentT, _ScipyLocScale, _student_t_lower_quantile
from ._maps import _DIFF_STEP, _bisect_edge, _Step
from ._mixture import NormalMixture


def _tanh_sinh_rule(step: float = 0.125, t_max: float = 5.0):
    """Tanh-sinh (double exponential) rule on (0, 1).

    ``u = (1 + tanh(pi/2 sinh t)) / 2 = expit(pi sinh t)`` on the grid
    ``t = k * step``, ``|t| <= t_max``. Returns the levels ``p``, their
    complements ``c = 1 - p`` (both without cancellation, so quantiles deep in
    either tail stay exact) and weights summing to one. The rule integrates
    the endpoint singularities of ``h(Q(u))`` (a quantile function pushed
    through a smooth map) to near machine precision with 81 nodes
    (Takahasi and Mori, 1974).
    """
    t = np.arange(-t_max, t_max + step / 2, step)
    s = np.pi * np.sinh(t)
    p, c = special.expit(s), special.expit(-s)
    w = np.cosh(t) / np.cosh(s / 2) ** 2  # du/dt, up to a constant
    return p, c, w / w.sum()


_TANH_SINH = _tanh_sinh_rule()

# Quantile levels at which a push-forward probes its map: far tails (where a
# map may end, e.g. overflow or leave its domain), near tails (where it may
# leave its domain but must not turn back) and the bulk (strictly monotone,
# defined). _PROBE_C holds 1 - _PROBE_P without cancellation.
_FAR_TAIL = (1e-300, 1e-100, 1e-30, 1e-12)
_NEAR_TAIL = (1e-6, 1e-4)
_BULK_TAIL = (1e-3, 0.01, 0.05, 0.1, 0.25)
_SMALL = np.array(_FAR_TAIL + _NEAR_TAIL + _BULK_TAIL)
_PROBE_P = np.concatenate([_SMALL, [0.5], 1.0 - _SMALL[::-1]])
_PROBE_C = np.concatenate([1.0 - _SMALL, [0.5], _SMALL[::-1]])
_N_OUT = len(_FAR_TAIL) + len(_NEAR_TAIL)  # probes outside the bulk, per side
_BULK = slice(_N_OUT, len(_PROBE_P) - _N_OUT)
_MEDIAN = len(_SMALL)  # index of the 0.5 level
_QUARTILES = (_MEDIAN - 1, _MEDIAN + 1)
# Relative tolerance of inverse(forward(z)) == z.
_ROUND_TRIP_RTOL = 1e-6
# Largest number of evaluations of a map done at once by the quadratures.
_PUSH_CHUNK = 2**21


def _two_sided_quantile(dist: PredictiveDistribution, p, c) -> np.ndarray:
    """Quantiles of ``dist`` at levels ``p`` (n, k), given ``c = 1 - p`` exactly.

    Normal and Student-t are symmetric: the quantile of the smaller tail
    probability, mirrored, keeps levels within 1e-300 of one exact. Other
    distributions get ``ppf(p)``.
    """
    if isinstance(dist, (Normal, StudentT)) and not dist.lazy:
        tail = np.minimum(p, c)
        if isinstance(dist, StudentT):
            x = _student_t_lower_quantile(
                np.broadcast_to(dist.df[:, None], tail.shape), tail
            )
        else:
            x = special.ndtri(tail)
        x = np.where(p <= 0.5, x, -x)
        return dist.loc[:, None] + dist.scale[:, None] * x
    # Levels are positive (subnormal ones too: no lower clip, so that
    # Q_Y(q) = g(Q_Z(q)) holds there); 1 - q rounds to 1 below q = 1.1e-16.
    below_one = np.nextafter(1.0, 0.0)
    return np.asarray(dist.ppf(np.minimum(p, below_one)), dtype=float)


def _row_subset(dist: PredictiveDistribution, rows: slice):
    """The distributions of ``rows`` as a new object, or None if unknown how."""
    if isinstance(dist, _ScipyLocScale) and not dist.lazy:
        return type(dist)(*(param[rows] for param in dist._params()))
    if isinstance(dist, NormalMixture):
        return NormalMixture(dist.locs[rows], dist.scales[rows])
    return None


def _flatten(dist: PredictiveDistribution) -> PredictiveDistribution:
    """A batch (n, k) as the batch (n * k,) of its row-major flattening."""
    if isinstance(dist, _ScipyLocScale) and not dist.lazy:
        return type(dist)(*(np.ravel(param) for param in dist._params()))
    if isinstance(dist, NormalMixture):
        return NormalMixture(*dist._flat_params())
    if isinstance(dist, TransformedDistribution):
        return dist._flat
    raise TypeError(
        f"a {type(dist).__name__} with batch shape {dist.batch_shape} cannot be "
        "pushed forward; only Normal, StudentT, NormalMixture and "
        "TransformedDistribution batches of several targets can."
    )


def _take_output(dist: PredictiveDistribution, j: int) -> PredictiveDistribution:
    """Target ``j`` of a batch (n, k), as a batch (n,)."""
    if isinstance(dist, _ScipyLocScale):
        return type(dist)(*(param[:, j] for param in dist._params()))
    if isinstance(dist, NormalMixture):
        return NormalMixture(dist.locs[:, j], dist.scales[:, j])
    if isinstance(dist, TransformedDistribution):
        return TransformedDistribution(
            _take_output(dist.base, j),
            dist.forward,
            dist.inverse,
            inverse_log_jacobian=dist._inverse_log_jacobian,
        )
    raise TypeError(f"cannot select one target of a {type(dist).__name__}.")


class TransformedDistribution(PredictiveDistribution):
    """Law of ``g(Z)`` for ``Z ~ base`` and a strictly monotone map ``g``.

    The predictive of a model fitted to a transformed target, ``z = f(y)``
    (``TransformedTargetRegressor`` with ``func=np.log`` or a
    ``PowerTransformer``), is the push-forward of the model's predictive
    through ``g = f^-1``. Quantiles, intervals, the CDF and the density are
    exact; moments are in closed form where one exists and by quadrature
    otherwise.

    ``g`` may increase or decrease; the direction is detected. It must be
    strictly monotone, and defined, over the bulk of every base
    distribution: this is checked at the base quantiles of levels 0.001 to
    0.999, and beyond, out to levels 1e-6 and 1 - 1e-6, ``g`` must not turn
    back; otherwise a ``ValueError`` is raised. Where ``g`` stops being
    defined in a far tail (NaN, such as a Box-Cox inverse below its domain)
    the base mass beyond is put at the end of ``g``'s range, which is where
    ``g`` tends to there.

    A ``TransformedDistribution`` as ``base`` is composed with: the maps
    apply in turn, ``g(g_base(Z))``. A base of batch shape (n, k) (k
    targets) gives a push-forward of the same batch shape; ``g`` then acts
    elementwise on every target alike. NumPy only: a lazy (dask) ``base`` is
    refused; compute it first.

    Parameters
    ----------
    base : PredictiveDistribution
        The n distributions of ``Z``.
    forward : callable
        ``g``: maps an array of values of ``Z`` elementwise to values of ``Y``.
    inverse : callable
        ``g^-1``: maps an array of values of ``Y`` elementwise back to ``Z``;
        NaN (or any value ``g`` does not send back to the input) outside the
        range of ``g``.
    inverse_log_jacobian : callable, default=None
        ``y -> log |d g^-1 / dy|``, elementwise. By default it is known for
        ``forward`` one of ``np.exp``, ``np.log``, ``np.expm1``, ``np.log1p``
        with the matching NumPy inverse, and found by central differences of
        ``inverse`` (relative step ``eps^(1/3)``) otherwise.

    Attributes
    ----------
    base : PredictiveDistribution
        The distribution pushed forward.
    forward, inverse : callable
        ``g`` and ``g^-1``.
    increasing : bool
        Whether the whole map from the innermost base to ``Y`` increases.

    See Also
    --------
    bayesreg.predict_dist : Builds one for a ``TransformedTargetRegressor``.

    Notes
    -----
    With ``Q_Z`` and ``F_Z`` the quantile function and CDF of ``Z``:

    * ``Q_Y(q) = g(Q_Z(q))`` for increasing ``g`` and ``g(Q_Z(1 - q))`` for
      decreasing ``g``; so ``interval`` and ``median`` map exactly;
    * ``F_Y(y) = F_Z(g^-1(y))``, or ``1 - F_Z(g^-1(y))``; 0 or 1 outside the
      range of ``g``;
    * ``log p_Y(y) = log p_Z(g^-1(y)) + log |d g^-1 / dy|``; ``-inf`` outside
      the range of ``g``; an ``inverse`` that maps a ``y`` outside that range
      to a point ``z`` whose ``g(z) != y`` and near which it is not constant
      (so ``y`` has a preimage it does not find: ``func=np.square`` on a
      target of both signs) raises ``ValueError``;
    * ``sample`` maps draws of ``Z``;
    * ``mean = E g(Z) = integral_0^1 Q_Y(u) du`` and the variance likewise,
      by a tanh-sinh rule in ``u`` (81 nodes, about 1e-12 relative for smooth
      ``g`` and a Normal base); per mixture component for a
      :class:`NormalMixture`. Closed forms: ``g = np.exp`` of a
      :class:`Normal` is log-normal, ``mean = exp(mu + sigma^2 / 2)``,
      ``var = (exp(sigma^2) - 1) exp(2 mu + sigma^2)``; ``g = np.exp`` of a
      :class:`StudentT` has no finite moments, and ``mean`` and ``std`` are
      ``inf``. Affine maps after the last non-linear one carry moments
      exactly. The quadrature assumes the moments exist: for a heavy-tailed
      base and a fast-growing ``g`` it returns a finite number where the
      true moment is infinite.
    * The variance split keeps the base's proportions:
      ``epistemic_std = std * epistemic_Z / std_Z`` and
      ``aleatoric_std = std * aleatoric_Z / std_Z``, so that
      ``std**2 == epistemic_std**2 + aleatoric_std**2``. (A non-linear map
      mixes the two sources; this split is a convention, exact for affine
      maps.)

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.distributions import Normal, TransformedDistribution
    >>> d = TransformedDistribution(Normal([0.0, 1.0], [0.5, 0.5]), np.exp, np.log)
    >>> d.median().round(4)  # exp of the Normal medians
    array([1.    , 2.7183])
    >>> d.mean.round(4)  # log-normal: exp(mu + sigma^2 / 2)
    array([1.1331, 3.0802])
    >>> d.interval(0.9).round(3)
    array([[0.439, 2.276],
           [1.194, 6.187]])

    A decreasing map flips the quantile levels:

    >>> base = Normal([2.0], [0.1])
    >>> r = TransformedDistribution(base, np.reciprocal, np.reciprocal)
    >>> r.increasing
    False
    >>> r.ppf(0.05).round(4), (1 / base.ppf(0.95)).round(4)
    (array([0.462]), array([0.462]))
    """

    def __init__(self, base, forward, inverse, *, inverse_log_jacobian=None):
        if not isinstance(base, PredictiveDistribution):
            raise TypeError(
                f"base must be a PredictiveDistribution, got {type(base).__name__}."
            )
        if getattr(base, "lazy", False):
            raise ValueError(
                "TransformedDistribution is NumPy only: compute the lazy (dask) "
                "base distribution first."
            )
        for name, func in (
            ("forward", forward),
            ("inverse", inverse),
            ("inverse_log_jacobian", inverse_log_jacobian),
        ):
            if func is not None and not callable(func):
                raise TypeError(f"{name} must be callable, got {type(func).__name__}.")
        if forward is None or inverse is None:
            raise TypeError("forward and inverse are required.")
        self.base, self.forward, self.inverse = base, forward, inverse
        self._inverse_log_jacobian = inverse_log_jacobian
        self._batch_shape = tuple(int(d) for d in base.batch_shape)
        self.n = int(base.n)
        self._moment_cache = None
        if len(self._batch_shape) > 1:
            # Several targets: the maps act elementwise, so the push-forward
            # of a batch (n, k) is that of its row-major flattening, reshaped.
            self._flat = TransformedDistribution(
                _flatten(base),
                forward,
                inverse,
                inverse_log_jacobian=inverse_log_jacobian,
            )
            self._root, self._steps = self._flat._root, self._flat._steps
            self.increasing = self._flat.increasing
            return
        self._flat = None
        step = _Step(forward, inverse, inverse_log_jacobian)
        if isinstance(base, TransformedDistribution):
            self._root, self._steps = base._root, (*base._steps, step)
        else:
            self._root, self._steps = base, (step,)
        self._probe()

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the array of distributions, that of ``base``."""
        return self._batch_shape

    def _unflat(self, method: str, y) -> np.ndarray:
        """``method`` of a batch (n, k) at ``y``, through the flat batch."""
        y3, one = self._check_y(y)
        out = getattr(self._flat, method)(_by_rows(y3))
        out = np.reshape(out, y3.shape)
        return out[..., 0] if one else out

    # ---------------------------------------------------------- the map
    def _chain(self, z) -> np.ndarray:
        """The raw composite map (no domain ends), elementwise."""
        for step in self._steps:
            z = _apply(step.forward, z)
        return z

    def _forward(self, z: np.ndarray, rows=slice(None)) -> np.ndarray:
        """The composite map of row-leading ``z``, held at its domain ends."""
        shape = (-1,) + (1,) * (z.ndim - 1)
        lo, hi = self._z_lo[rows].reshape(shape), self._z_hi[rows].reshape(shape)
        return self._chain(np.clip(z, lo, hi))

    def _inverse(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``g^-1(y)`` and ``log |d g^-1 / dy|`` for y of shape (n, k)."""
        log_jac = np.zeros(y.shape)
        for step, scale in zip(
            reversed(self._steps), reversed(self._scales), strict=True
        ):
            log_jac = log_jac + step.log_abs_dinverse(y, scale)
            y = _apply(step.inverse, y)
        return y, log_jac

    def _inverse_only(self, y):
        for step in reversed(self._steps):
            y = _apply(step.inverse, y)
        return y

    def _probe(self) -> None:
        """Check the map over the base, find its direction and domain ends."""
        n, n_levels = self.n, len(_PROBE_P)
        p = np.broadcast_to(_PROBE_P, (n, n_levels))
        c = np.broadcast_to(_PROBE_C, (n, n_levels))
        z = _two_sided_quantile(self._root, p, c)
        y = self._chain(z)
        self._z_lo, self._z_hi = np.full(n, -np.inf), np.full(n, np.inf)
        with np.errstate(invalid="ignore"):
            spread = np.all(np.diff(z[:, _BULK]) > 0, axis=1)
        rows = np.flatnonzero(spread)  # rows with a proper (non-point) base
        self.increasing = True
        if rows.size:
            self.increasing = self._check_bulk(y[rows], rows)
            self._find_ends(z[rows], y[rows], rows)
        y = self._forward(z)
        # Per-step scales of the values (interquartile range) size the
        # difference steps and round-trip tolerances.
        self._scales = []
        values = np.clip(z, self._z_lo[:, None], self._z_hi[:, None])
        for step in self._steps:
            values = _apply(step.forward, values)
            self._scales.append(_iqr(values))
        self._y_median, self._z_median = y[:, _MEDIAN], z[:, _MEDIAN]
        self._y_scale = self._scales[-1][:, 0]
        if rows.size:
            self._check_round_trip(z[rows], y[rows], rows)

    def _check_bulk(self, y, rows) -> bool:
        yb = y[:, _BULK]
        lo, hi = _PROBE_P[_BULK][0], _PROBE_P[_BULK][-1]
        where = f"between the {lo:g} and {hi:g} quantiles of the base"
        nan = np.isnan(yb).any(axis=1)
        if nan.any():
            i = rows[np.argmax(nan)]
            raise ValueError(
                f"the map is undefined (NaN) {where} (point {i}): it must be "
                "strictly monotone where the distribution lives."
            )
        with np.errstate(invalid="ignore"):
            dy = np.diff(yb)
        up, down = np.all(dy > 0, axis=1), np.all(dy < 0, axis=1)
        if not np.all(up | down):
            i = rows[np.argmin(up | down)]
            raise ValueError(
                f"the map is not strictly monotone {where} (point {i}); "
                "a push-forward needs a strictly increasing or decreasing map."
            )
        if up.any() and down.any():
            raise ValueError(
                "the map is not monotone: it increases over the base of point "
                f"{rows[np.argmax(up)]} and decreases over that of point "
                f"{rows[np.argmax(down)]}."
            )
        return bool(up[0])

    def _find_ends(self, z, y, rows) -> None:
        """Domain ends of the map in each tail, where it is NaN or turns back."""
        sign = 1.0 if self.increasing else -1.0
        first, last = _BULK.start, _BULK.stop - 1
        for outward, start, ends in (
            (range(first - 1, -1, -1), first, self._z_lo),
            (range(last + 1, len(_PROBE_P)), last, self._z_hi),
        ):
            toward = -1.0 if start == first else 1.0  # direction of z outward
            good = np.ones(len(rows), dtype=bool)
            ref_z, ref_y = z[:, start].copy(), y[:, start].copy()
            bad_z = np.full(len(rows), np.nan)
            for j in outward:
                ok = _consistent(ref_y, y[:, j], sign * toward)
                newly = good & ~ok
                if j in _NEAR_INDEX and np.any(newly & ~np.isnan(y[:, j])):
                    i = rows[np.argmax(newly & ~np.isnan(y[:, j]))]
                    raise ValueError(
                        "the map is not monotone where the distribution lives: "
                        f"it turns back at the {_PROBE_P[j]:g} quantile of the "
                        f"base of point {i}."
                    )
                bad_z = np.where(newly, z[:, j], bad_z)
                good &= ok
                ref_z = np.where(good, z[:, j], ref_z)
                ref_y = np.where(good, y[:, j], ref_y)
            cut = np.flatnonzero(~good)
            if cut.size:
                ref = ref_y[cut]

                def fine(zm, ref=ref, sgn=sign * toward):
                    return _consistent(ref, self._chain(zm), sgn)

                ends[rows[cut]] = _bisect_edge(fine, ref_z[cut], bad_z[cut])

    def _check_round_trip(self, z, y, rows) -> None:
        z_scale = _iqr(z)
        z, y = z[:, _BULK], y[:, _BULK]
        back = self._inverse_only(y)
        with np.errstate(invalid="ignore"):
            off = ~(np.abs(back - z) <= _ROUND_TRIP_RTOL * (np.abs(z) + z_scale))
        if np.any(off):
            # Tolerated where the inverse saturates (is constant around y):
            # the map itself is fine there, its inverse only clips.
            flat = self._saturated(y, back, rows)
            bad = off & ~flat
            if np.any(bad):
                i, j = np.argwhere(bad)[0]
                h = _DIFF_STEP * max(abs(z[i, j]), 0.01 * z_scale[i, 0])
                near = self._chain(z[i, j] + np.array([-h, h]))
                if np.any(near == y[i, j]):
                    raise ValueError(
                        f"the map is constant around y={y[i, j]:g} over the base "
                        f"of point {rows[i]}, so not strictly monotone where the "
                        "distribution lives (a quantile map fitted to tied "
                        "values has such steps)."
                    )
                raise ValueError(
                    f"inverse does not undo forward over the base of point "
                    f"{rows[i]} (forward sends {z[i, j]:g} to {y[i, j]:g}, inverse "
                    f"sends that to {back[i, j]:g}): they must be inverse "
                    "functions where the distribution lives."
                )

    def _saturated(self, y, z, rows) -> np.ndarray:
        """Whether the inverse is constant (equal to z) on a side of each y."""
        h = _DIFF_STEP * np.maximum(np.abs(y), 0.01 * self._y_scale[rows][:, None])
        with np.errstate(invalid="ignore"):  # y = +-inf: inf - inf
            ahead, behind = y + h, y - h
        ahead, behind = self._inverse_only(ahead), self._inverse_only(behind)
        return (ahead == z) | (behind == z) | ~np.isfinite(ahead) | ~np.isfinite(behind)

    # ---------------------------------------------------------- evaluation
    def _pullback(self, y):
        """z = g^-1(y), its log-Jacobian, whether y is in the range of g, y as
        (n, k) and whether it was one-dimensional."""
        y2, was_1d = self._check_y(y)
        y2 = np.array(y2)  # a writable copy: the user's maps get it, not y
        z, log_jac = self._inverse(y2)
        rows = np.arange(self.n)
        with np.errstate(invalid="ignore"):
            back = self._forward(z)
            tol = _ROUND_TRIP_RTOL * (np.abs(y2) + self._y_scale[:, None])
            inside = np.isfinite(z) & (np.abs(back - y2) <= tol)
        found = np.isfinite(z) & ~inside
        if np.any(found):
            i, j = np.nonzero(found)
            flat = self._saturated(y2[i, j][:, None], z[i, j][:, None], rows[i])
            if not np.all(flat):
                k = np.argmin(flat[:, 0])
                raise ValueError(
                    f"inverse maps y={y2[i[k], j[k]]:g} (point {i[k]}) to a value "
                    f"that forward sends to {back[i[k], j[k]]:g}: the target "
                    "transform is not strictly monotone (one-to-one) where it is "
                    "used."
                )
        return z, log_jac, inside, y2, was_1d

    def logpdf(self, y) -> np.ndarray:
        if self._flat is not None:
            return self._unflat("logpdf", y)
        z, log_jac, inside, _, was_1d = self._pullback(y)
        z = np.where(inside, z, self._z_median[:, None])
        out = np.asarray(self._root.logpdf(z), dtype=float) + log_jac
        out = np.where(inside, out, -np.inf)
        return out[:, 0] if was_1d else out

    def cdf(self, y) -> np.ndarray:
        if self._flat is not None:
            return self._unflat("cdf", y)
        z, _, inside, y2, was_1d = self._pullback(y)
        z = np.where(inside, z, self._z_median[:, None])
        below = np.asarray(self._root.cdf(z), dtype=float)
        out = below if self.increasing else 1.0 - below
        outside = np.where(y2 < self._y_median[:, None], 0.0, 1.0)
        out = np.where(inside, out, outside)
        return out[:, 0] if was_1d else out

    def ppf(self, q) -> np.ndarray:
        q = check_quantile_levels(q)
        if self._flat is not None:
            return self._unflat("ppf", q)
        q2, was_1d = self._check_y(q)  # a scalar: one level per point
        out = self._quantile(q2, 1.0 - q2)
        return out[:, 0] if was_1d else out

    def _quantile(self, p, c, rows=slice(None), root=None) -> np.ndarray:
        """Quantiles at levels p (n, k) with c = 1 - p given exactly."""
        root = self._root if root is None else root
        if not self.increasing:
            p, c = c, p
        return self._forward(_two_sided_quantile(root, p, c), rows)

    def median(self) -> np.ndarray:
        """Predictive median, of the batch shape: ``g`` of the median of ``Z``."""
        if self._flat is not None:
            return self._flat.median().reshape(self._batch_shape)
        return self._forward(self._z_median)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n_samples = check_n_samples(n_samples)
        if self._flat is not None:
            draws = self._flat.sample(n_samples, random_state)
            return draws.reshape(*self._batch_shape, n_samples)
        return self._forward(self._root.sample(n_samples, random_state))

    # ---------------------------------------------------------- moments
    @property
    def mean(self) -> np.ndarray:
        return self._moments()[0]

    @property
    def std(self) -> np.ndarray:
        return self._moments()[1]

    @property
    def epistemic_std(self) -> np.ndarray:
        share = self._epistemic_fraction()
        return np.where(share > 0, self.std * np.sqrt(share), 0.0)

    @property
    def aleatoric_std(self) -> np.ndarray:
        share = 1.0 - self._epistemic_fraction()
        return np.where(share > 0, self.std * np.sqrt(share), 0.0)

    def _epistemic_fraction(self) -> np.ndarray:
        """epistemic_Z^2 / var_Z, 0 where the base variance is 0 or infinite."""
        if self._flat is not None:
            return self._flat._epistemic_fraction().reshape(self._batch_shape)
        var = np.asarray(self._root.std, dtype=float) ** 2
        epi = np.asarray(self._root.epistemic_std, dtype=float) ** 2
        ok = np.isfinite(var) & (var > 0)
        return np.where(ok, np.minimum(epi / np.where(ok, var, 1.0), 1.0), 0.0)

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        if self._moment_cache is None and self._flat is not None:
            mean, std = self._flat._moments()
            shape = self._batch_shape
            self._moment_cache = (mean.reshape(shape), std.reshape(shape))
        if self._moment_cache is None:
            core, a, s = self._split_affine()
            closed = self._closed_form_moments(core)
            if closed is None:
                self._moment_cache = self._quadrature_moments()
            else:
                mean, std = closed
                with np.errstate(all="ignore"):
                    self._moment_cache = (a + s * mean, abs(s) * std)
        return self._moment_cache

    def _split_affine(self):
        """Steps up to the last non-affine one, and the affine map after."""
        a, s, k = 0.0, 1.0, len(self._steps)
        while k > 0 and self._steps[k - 1].affine:
            k -= 1
        for step in self._steps[k:]:
            a, s = step.forward.a + step.forward.s * a, step.forward.s * s
        return self._steps[:k], a, s

    def _closed_form_moments(self, core):
        # (exp has no domain end over a Normal or a t: no held ends here)
        if not (len(core) == 1 and core[0].forward is np.exp):
            return None
        if type(self._root) is Normal:
            mu, sigma2 = self._root.loc, self._root.scale**2
            with np.errstate(over="ignore"):
                mean = np.exp(mu + sigma2 / 2)
                return mean, mean * np.sqrt(np.expm1(sigma2))
        if type(self._root) is StudentT:
            # E exp(T) diverges for every df: the t tails are polynomial.
            return np.full(self.n, np.inf), np.full(self.n, np.inf)
        return None

    def _quadrature_moments(self) -> tuple[np.ndarray, np.ndarray]:
        p, c, w = _TANH_SINH
        mean, var = np.empty(self.n), np.empty(self.n)
        mixture = isinstance(self._root, NormalMixture)
        per_row = len(w) * (self._root.n_components if mixture else 1)
        for rows in _row_chunks(self.n, per_row, self._root):
            if mixture:
                # Per component: nodes of the standard Normal quantile.
                x = np.where(p <= 0.5, stats.norm.ppf(p), stats.norm.isf(c))
                locs, scales = self._root.locs[rows], self._root.scales[rows]
                y = self._forward(locs[:, :, None] + scales[:, :, None] * x, rows)
                m = (y @ w).mean(axis=1)
                with np.errstate(invalid="ignore"):
                    v = (((y - m[:, None, None]) ** 2) @ w).mean(axis=1)
            else:
                root = _row_subset(self._root, rows)
                root = self._root if root is None else root
                k = root.n
                z = _two_sided_quantile(
                    root,
                    np.broadcast_to(p, (k, len(p))),
                    np.broadcast_to(c, (k, len(c))),
                )
                y = self._forward(z, rows)
                m = y @ w
                with np.errstate(invalid="ignore"):
                    v = ((y - m[:, None]) ** 2) @ w
            mean[rows], var[rows] = m, np.where(np.isinf(m), np.inf, v)
        return mean, np.sqrt(var)

    def __repr__(self) -> str:
        names = [step.name for step in self._steps]
        if self._flat is not None:
            return (
                f"TransformedDistribution(batch_shape={self.batch_shape}, "
                f"base={self.base!r}, maps={names})"
            )
        return f"TransformedDistribution(n={self.n}, base={self._root!r}, maps={names})"


_NEAR_INDEX = frozenset(
    [
        *range(len(_FAR_TAIL), _N_OUT),
        *range(len(_PROBE_P) - _N_OUT, len(_PROBE_P) - len(_FAR_TAIL)),
    ]
)


def _apply(func, values) -> np.ndarray:
    """A map of the user at ``values``, in float64 whatever it returns (a
    float32 or integer map is computed on in double precision), with no
    floating-point warnings: maps are probed beyond their domains."""
    with np.errstate(all="ignore"):
        return np.asarray(func(values), dtype=float)


def _consistent(ref_y, y, sign: float) -> np.ndarray:
    """y defined and not turning back from ref_y (sign: expected direction)."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(y) & ((y == ref_y) | (sign * (y - ref_y) >= 0))


def _iqr(values: np.ndarray) -> np.ndarray:
    """Interquartile range of the probe values per row, (n, 1); 1 where 0."""
    lo, hi = values[:, _QUARTILES[0]], values[:, _QUARTILES[1]]
    with np.errstate(invalid="ignore"):
        iqr = np.abs(hi - lo)
    return np.where(np.isfinite(iqr) & (iqr > 0), iqr, 1.0)[:, None]


def _row_chunks(n: int, per_row: int, root) -> list[slice]:
    """Row slices with about _PUSH_CHUNK evaluations each (one slice if the
    base cannot be split by rows)."""
    if not isinstance(root, (_ScipyLocScale, NormalMixture)):
        return [slice(0, n)]
    step = max(1, _PUSH_CHUNK // per_row)
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]
