"""The maps of a push-forward: known inverses and Jacobians, numerical slopes,
and the search for where a map's domain ends."""

from __future__ import annotations

import numpy as np

# Relative step of central differences (eps^(1/3): truncation and rounding
# errors balance).
_DIFF_STEP = float(np.finfo(float).eps ** (1 / 3))


class _Affine:
    """The map ``x -> a + s x`` (s != 0), which push-forwards recognise."""

    def __init__(self, a: float, s: float):
        self.a, self.s = float(a), float(s)

    def __call__(self, x):
        return self.a + self.s * np.asarray(x, dtype=float)

    def inverse(self) -> _Affine:
        return _Affine(-self.a / self.s, 1.0 / self.s)

    def __repr__(self) -> str:
        return f"affine({self.a:g} + {self.s:g} x)"


# log |d inverse / dy| of the maps known in closed form.
def _neg_log(y):
    return -np.log(y)


def _neg_log1p(y):
    return -np.log1p(y)


def _same(y):
    return y


# forward -> (inverse, log |d inverse / dy|)
_KNOWN_MAPS = {
    np.exp: (np.log, _neg_log),
    np.log: (np.exp, _same),
    np.expm1: (np.log1p, _neg_log1p),
    np.log1p: (np.expm1, _same),
}


class _Step:
    """One map of a push-forward: forward, inverse, log |d inverse / dy|."""

    def __init__(self, forward, inverse, log_jacobian=None):
        self.forward, self.inverse = forward, inverse
        self.affine = isinstance(forward, _Affine)
        if log_jacobian is None and self.affine:
            log_jacobian = _ConstantLogJacobian(-np.log(abs(forward.s)))
        elif log_jacobian is None and forward in _KNOWN_MAPS:
            known_inverse, known_jacobian = _KNOWN_MAPS[forward]
            if inverse is known_inverse:
                log_jacobian = known_jacobian
        self.log_jacobian = log_jacobian
        self.name = _name_of(forward)  # an _Affine has no name: its repr

    def log_abs_dinverse(self, y: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """log |d inverse / dy| at y (n, k); ``scale`` (n, 1) sizes the step."""
        with np.errstate(all="ignore"):
            if self.log_jacobian is not None:
                out = np.asarray(self.log_jacobian(y), dtype=float)
                return np.broadcast_to(out, y.shape)
            return np.log(np.abs(_slope(self.inverse, y, scale)))


class _ConstantLogJacobian:
    def __init__(self, value: float):
        self.value = value

    def __call__(self, y):
        return np.full(np.shape(y), self.value)


def _name_of(func) -> str:
    name = getattr(func, "__name__", None)
    return name if isinstance(name, str) else repr(func)


def _central(func, x, h):
    xp, xm = x + h, x - h
    return (np.asarray(func(xp), dtype=float) - np.asarray(func(xm), dtype=float)) / (
        xp - xm
    )


def _slope(func, x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``func'(x)`` by central differences, for an elementwise ``func``.

    The step is relative, ``eps^(1/3) * max(|x|, scale / 100)``. Where that
    crosses the end of ``func``'s domain (a non-finite difference), a purely
    relative step ``eps^(1/3) |x|`` is tried, then one-sided differences.
    """
    with np.errstate(all="ignore"):
        slope = _central(func, x, _DIFF_STEP * np.maximum(np.abs(x), 0.01 * scale))
        retry = ~np.isfinite(slope)
        if np.any(retry):
            h = _DIFF_STEP * np.abs(x)
            slope = np.where(retry, _central(func, x, h), slope)
            retry = ~np.isfinite(slope)
            if np.any(retry):
                f0 = np.asarray(func(x), dtype=float)
                ahead = (np.asarray(func(x + h), dtype=float) - f0) / h
                behind = (f0 - np.asarray(func(x - h), dtype=float)) / h
                one_sided = np.where(np.isfinite(ahead), ahead, behind)
                slope = np.where(retry, one_sided, slope)
    return slope


_INT64_MIN = np.int64(np.iinfo(np.int64).min)


def _float_key(x: np.ndarray) -> np.ndarray:
    """Integers ordered like the floats ``x`` (adjacent floats differ by one)."""
    i = np.ascontiguousarray(x, dtype=float).view(np.int64)
    return np.where(i < 0, _INT64_MIN - i, i)


def _key_float(k: np.ndarray) -> np.ndarray:
    return np.where(k < 0, _INT64_MIN - k, k).astype(np.int64).view(np.float64)


def _bisect_edge(ok, good: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """The last z from ``good`` towards ``bad`` where ``ok(z)`` holds.

    ``ok`` maps an array of z (one per entry of ``good``) to booleans. The
    bisection runs on the ordering of floats, so at most 64 halvings reach
    adjacent floats whatever the magnitudes (a bracket may span 1e300).
    """
    kg, kb = _float_key(good), _float_key(bad)
    for _ in range(70):
        open_ = np.abs(kg - kb) > 1
        if not np.any(open_):
            break
        mid = kg // 2 + kb // 2 + (kg % 2 + kb % 2) // 2
        fine = ok(_key_float(mid))
        kg = np.where(open_ & fine, mid, kg)
        kb = np.where(open_ & ~fine, mid, kb)
    return _key_float(kg)
