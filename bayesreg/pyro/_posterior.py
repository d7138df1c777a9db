"""The fitted Gaussian of an autoguide, detached from Pyro as NumPy arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.distributions import biject_to

__all__ = ["GaussianPosterior", "export_guide", "guide_sites"]


@dataclass(frozen=True)
class _Site:
    name: str
    shape: tuple[int, ...]
    unconstrained_shape: tuple[int, ...]
    support: Any  # a torch constraint; biject_to(support) maps R^k onto it

    @property
    def size(self) -> int:
        return math.prod(self.unconstrained_shape)


@dataclass
class GaussianPosterior:
    """A Gaussian over the packed unconstrained latents, as NumPy arrays.

    This is what an ``AutoContinuous`` guide has learned, detached from Pyro:
    ``z = loc + L e`` in the unconstrained space, then each site is cut out of
    ``z`` and mapped onto its support. Exactly one of ``scale`` (diagonal),
    ``scale_tril`` (full) or ``cov_factor`` with ``cov_diag`` (low rank) is
    set. Sampling uses a NumPy generator only.
    """

    sites: tuple[_Site, ...]
    loc: np.ndarray
    scale: np.ndarray | None = None
    scale_tril: np.ndarray | None = None
    cov_factor: np.ndarray | None = None
    cov_diag: np.ndarray | None = None

    @property
    def site_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sites)

    def covariance(self) -> np.ndarray:
        """Covariance of the unconstrained latents, shape (D, D)."""
        if self.scale is not None:
            return np.diag(self.scale**2)
        if self.scale_tril is not None:
            return self.scale_tril @ self.scale_tril.T
        return self.cov_factor @ self.cov_factor.T + np.diag(self.cov_diag)

    def sample_unconstrained(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draws of the packed unconstrained latents, shape (n, D)."""
        e = rng.standard_normal((n, self.loc.shape[0]))
        if self.scale is not None:
            return self.loc + e * self.scale
        if self.scale_tril is not None:
            return self.loc + e @ self.scale_tril.T
        e_low = rng.standard_normal((n, self.cov_factor.shape[1]))
        return self.loc + e_low @ self.cov_factor.T + e * np.sqrt(self.cov_diag)

    def unpack(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Cut packed latents (n, D) into sites mapped onto their supports."""
        out, pos = {}, 0
        for site in self.sites:
            u = z[:, pos : pos + site.size].reshape(
                (z.shape[0], *site.unconstrained_shape)
            )
            pos += site.size
            value = biject_to(site.support)(torch.from_numpy(np.ascontiguousarray(u)))
            out[site.name] = value.numpy().reshape((z.shape[0], *site.shape))
        return out

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` posterior draws of every latent site, on their supports."""
        return self.unpack(self.sample_unconstrained(n, rng))

    def mean_unconstrained(self) -> dict[str, np.ndarray]:
        """The guide's location, cut into sites (unconstrained space)."""
        out, pos = {}, 0
        for site in self.sites:
            out[site.name] = self.loc[pos : pos + site.size].reshape(
                site.unconstrained_shape
            )
            pos += site.size
        return out


def guide_sites(guide) -> tuple[_Site, ...]:
    """The latent sites of an AutoContinuous guide, in the order of its packed
    unconstrained vector."""
    sites = []
    for name, site in guide.prototype_trace.iter_stochastic_nodes():
        value = site["value"].detach()
        support = site["fn"].support
        u_shape = tuple(biject_to(support).inv(value).shape)
        sites.append(_Site(name, tuple(value.shape), u_shape, support))
    return tuple(sites)


def export_guide(guide) -> GaussianPosterior:
    """Detach an AutoContinuous guide's Gaussian into NumPy arrays."""
    sites = guide_sites(guide)

    def arr(t):
        return t.detach().to("cpu", torch.float64).numpy().copy()

    with torch.no_grad():
        q = guide.get_posterior()
        if isinstance(q, torch.distributions.MultivariateNormal):
            post = GaussianPosterior(sites, arr(q.loc), scale_tril=arr(q.scale_tril))
        elif isinstance(q, torch.distributions.LowRankMultivariateNormal):
            post = GaussianPosterior(
                sites,
                arr(q.loc),
                cov_factor=arr(q.cov_factor),
                cov_diag=arr(q.cov_diag),
            )
        else:  # Independent(Normal)
            post = GaussianPosterior(
                sites, arr(q.base_dist.loc), scale=arr(q.base_dist.scale)
            )
    if sum(s.size for s in sites) != post.loc.shape[0]:  # pragma: no cover
        raise RuntimeError("guide layout does not match its location vector.")
    return post
