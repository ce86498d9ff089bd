"""Flat Rayleigh (block) fading channel."""

from __future__ import annotations

from channels.block_fading import BlockFadingChannel
from channels.registry import register_channel

__all__ = ["RayleighChannel"]


@register_channel("rayleigh")
class RayleighChannel(BlockFadingChannel):
    r"""Flat Rayleigh fading, ``h ~ CN(0, 1)`` per block of ``block_length`` symbols, plus AWGN.

    :param block_length: consecutive symbols sharing one coefficient; 1 (default) = per-symbol fading.
    :input x: [batch, symbols], `torch.complex64`. Unit average energy.
    :input no: `float` or tensor broadcastable to ``x``. Noise variance N0 per complex symbol.
    :output y: [batch, symbols], `torch.complex64`.
    :output h: [batch, symbols], `torch.complex64`. Perfect CSI.

    .. code-block:: python

        y, h = RayleighChannel(block_length=64)(x, no=0.1)
    """
