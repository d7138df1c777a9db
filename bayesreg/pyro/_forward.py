"""The packed forward pass moved to :mod:`bayesreg.networks._forward`; these
names stay importable from here for existing scripts."""

from __future__ import annotations

from ..networks._forward import CHUNK_ROWS, PackedNetworks, forward_draws

__all__ = ["CHUNK_ROWS", "PackedNetworks", "forward_draws"]
