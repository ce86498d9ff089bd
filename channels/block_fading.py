"""Flat block fading with AWGN: the common part of the Rayleigh and Rician channels."""

from __future__ import annotations

import math

import torch
from sionna.phy.channel import AWGN, GenerateFlatFadingChannel

__all__ = ["BlockFadingChannel", "block_family", "validate_block_length"]


def validate_block_length(block_length: int) -> int:
    """``block_length`` as an int >= 1; raises :class:`ValueError` otherwise."""
    if isinstance(block_length, bool) or not isinstance(block_length, int) or block_length < 1:
        raise ValueError(f"block_length must be an integer >= 1, got {block_length!r}")
    return block_length


def block_family(block_length: int) -> str:
    """The Rayleigh BLER-table family of ``block_length``: ``"rayleigh"`` for per-symbol fading
    (``block_length`` <= 1), else ``"rayleigh_bl{L}"``."""
    return "rayleigh" if block_length <= 1 else f"rayleigh_bl{block_length}"


class BlockFadingChannel(torch.nn.Module):
    r"""``y = h * x + n``: ``h`` constant over blocks of ``block_length`` consecutive symbols.

    Blocks are independent across blocks and across batch rows; the last block of a row may be shorter.
    Subclasses define the distribution of a block's coefficient from a CN(0, 1) draw of Sionna's
    :class:`~sionna.phy.channel.GenerateFlatFadingChannel` (one transmit and one receive antenna).

    :param block_length: consecutive symbols sharing one coefficient (1 = independent per symbol).
    :input x: [batch, symbols], `torch.complex64`. Unit average energy.
    :input no: `float` or tensor broadcastable to ``x``. Noise variance N0 per complex symbol.
    :output y: [batch, symbols], `torch.complex64`.
    :output h: [batch, symbols], `torch.complex64`. Per-symbol coefficients, E[|h|^2] = 1.
    """

    def __init__(self, block_length: int = 1) -> None:
        super().__init__()
        self.block_length = validate_block_length(block_length)
        self.scattering = GenerateFlatFadingChannel(num_tx_ant=1, num_rx_ant=1)
        self.awgn = AWGN()

    @property
    def bler_family(self) -> str:
        """The BLER tables ``mcs: auto`` reads: the Rayleigh ones of this block length (see
        :func:`channels.channel_family`)."""
        return block_family(self.block_length)

    def block_gains(self, scattered: torch.Tensor) -> torch.Tensor:
        """Block coefficients from CN(0, 1) draws ``scattered`` [batch, blocks]; identity (Rayleigh)."""
        return scattered

    def forward(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the fading and the noise; see the class docstring."""
        batch, num_symbols = x.shape
        num_blocks = math.ceil(num_symbols / self.block_length)
        scattered = self.scattering(batch * num_blocks).reshape(batch, num_blocks)
        gains = self.block_gains(scattered).to(device=x.device, dtype=x.dtype)
        h = gains.repeat_interleave(self.block_length, dim=1)[:, :num_symbols]
        return self.awgn(h * x, no), h
