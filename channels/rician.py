"""Flat Rician (block) fading channel."""

from __future__ import annotations

import math

import torch

from channels.block_fading import BlockFadingChannel
from channels.registry import register_channel

__all__ = ["RicianChannel"]


@register_channel("rician")
class RicianChannel(BlockFadingChannel):
    r"""Flat Rician fading with unit average power, plus AWGN.

    ``h = sqrt(K/(K+1)) + sqrt(1/(K+1)) * g`` with ``g ~ CN(0, 1)`` per block: a line-of-sight
    component of phase 0 and power K/(K+1), and scattering of power 1/(K+1); E[|h|^2] = 1.

    :param k_factor_db: Rician K factor (LOS power / scattered power) in dB.
    :param block_length: consecutive symbols sharing one coefficient; 1 (default) = per-symbol fading.
    :input x: [batch, symbols], `torch.complex64`. Unit average energy.
    :input no: `float` or tensor broadcastable to ``x``. Noise variance N0 per complex symbol.
    :output y: [batch, symbols], `torch.complex64`.
    :output h: [batch, symbols], `torch.complex64`. Perfect CSI.
    """

    def __init__(self, k_factor_db: float = 6.0, block_length: int = 1) -> None:
        super().__init__(block_length)
        if isinstance(k_factor_db, bool) or not isinstance(k_factor_db, (int, float)):
            raise ValueError(f"k_factor_db must be a number (dB), got {k_factor_db!r}")
        if not math.isfinite(k_factor_db):
            raise ValueError(f"k_factor_db must be finite, got {k_factor_db!r}")
        self.k_factor_db = float(k_factor_db)
        k = 10.0 ** (self.k_factor_db / 10.0)
        self.los_amplitude = math.sqrt(k / (k + 1.0))
        self.scatter_amplitude = math.sqrt(1.0 / (k + 1.0))

    def block_gains(self, scattered: torch.Tensor) -> torch.Tensor:
        """LOS plus scaled scattering; ``scattered`` [batch, blocks] ~ CN(0, 1)."""
        return self.los_amplitude + self.scatter_amplitude * scattered
