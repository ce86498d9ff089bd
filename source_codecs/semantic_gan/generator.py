"""The receiver: a SPADE generator that turns the decoded latent and semantic map into an image."""

from __future__ import annotations

__all__ = ["SPADEGenerator"]

import torch
import torch.nn.functional as F
from torch import nn

from source_codecs.semantic_gan.architecture import SPADEResBlock

_WIDTHS = (8, 4, 2, 1, 1)
"""Channels of the blocks at 1/16, 1/8, 1/4, 1/2 and full resolution, in units of ``ngf``."""


class SPADEGenerator(nn.Module):
    """Latent at 1/16 resolution -> five SPADE residual blocks with four 2x upsamplings -> RGB.

    Block channels are ``ngf * (8, 4, 2, 1, 1)`` from the coarsest to the finest. Every block is
    conditioned on the one-hot semantic map, so an erased latent region (zeros, the middle centre)
    is still regenerated from the map alone. The full-resolution block modulates with 1x1 SPADE
    convolutions: that keeps a 256x512 decode near one second on two CPU cores.

    :param latent_channels: ``C``, channels of the latent.
    :param label_channels: channels of the one-hot semantic map.
    :param ngf: channel unit of the generator.
    :param hidden: channels of the SPADE embeddings (at most this; the finest blocks use fewer).

    :input latent: [B, C, H / 16, W / 16], float (quantised values).
    :input segmap: [B, label_channels, H, W], float one-hot.
    :output image: [B, 3, H, W], float in [-1, 1].
    """

    def __init__(
        self, latent_channels: int, label_channels: int, ngf: int = 16, hidden: int = 64
    ) -> None:
        super().__init__()
        chans = [ngf * m for m in _WIDTHS]
        self.head = nn.Conv2d(latent_channels + label_channels, chans[0], 3, padding=1)
        self.blocks = nn.ModuleList(
            SPADEResBlock(
                chans[max(i - 1, 0)],
                chans[i],
                label_channels,
                min(hidden, chans[i]),
                spade_kernel=1 if i == len(chans) - 1 else 3,
            )
            for i in range(len(chans))
        )
        self.to_rgb = nn.Conv2d(chans[-1], 3, 3, padding=1)

    def forward(self, latent: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """Image generated from ``latent`` and ``segmap``."""
        coarse_map = F.interpolate(segmap, size=latent.shape[-2:], mode="nearest")
        x = self.head(torch.cat([latent, coarse_map], 1))
        for i, block in enumerate(self.blocks):
            if i > 0:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(x, segmap)
        return torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))
