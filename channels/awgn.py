"""Additive white Gaussian noise channel."""

from __future__ import annotations

import torch
from sionna.phy.channel import AWGN

from channels.registry import register_channel

__all__ = ["AWGNChannel"]


@register_channel("awgn")
class AWGNChannel(torch.nn.Module):
    r"""``y = x + n``, ``n ~ CN(0, no)``, on Sionna's :class:`~sionna.phy.channel.AWGN`; ``h = 1``.

    :input x: [batch, symbols], `torch.complex64`. Unit average energy.
    :input no: `float` or tensor broadcastable to ``x``. Noise variance N0 per complex symbol.
    :output y: [batch, symbols], `torch.complex64`.
    :output h: [batch, symbols], `torch.complex64`. All ones.

    .. code-block:: python

        y, h = AWGNChannel()(torch.ones(2, 8, dtype=torch.complex64), 0.1)
    """

    bler_family = "awgn"
    """The BLER tables ``mcs: auto`` reads (see :func:`channels.channel_family`)."""

    def __init__(self) -> None:
        super().__init__()
        self.awgn = AWGN()

    def forward(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the noise; see the class docstring."""
        return self.awgn(x, no), torch.ones_like(x)
