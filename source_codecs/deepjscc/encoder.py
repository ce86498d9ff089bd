"""The transmitter's network: image -> real latent with 2 * C_max channels at 1/8 resolution."""

from __future__ import annotations

__all__ = ["Encoder"]

import torch
from torch import nn

from source_codecs.deepjscc.af_module import AFModule
from source_codecs.deepjscc.residual import AFResidualBlock


class Encoder(nn.Module):
    r"""Strided convolutions with PReLU, each stage followed by an SNR-driven :class:`AFModule`.

    Three stride-2 5x5 convolutions bring the image to 1/8 resolution; a 3x3 stage and a 3x3 output
    convolution give ``2 * C_max`` real channels: channel ``2c`` is the real part and ``2c + 1`` the
    imaginary part of complex channel ``c``.

    :param latent_channels: C_max, complex latent channels.
    :param width: feature channels of the inner stages.
    :param blocks: :class:`AFResidualBlock` s at 1/8 resolution before the output convolution.

    :input image: [B, 3, H, W], float32 in [0, 1], H and W multiples of 8.
    :input snr_db: [B], float32, channel SNR in dB.
    :output latent: [B, 2 * C_max, H / 8, W / 8], float32, not power normalised.
    """

    def __init__(self, latent_channels: int, width: int, blocks: int = 0) -> None:
        super().__init__()
        half = width * 3 // 4
        chans = [3, half, width, width, width]
        kernels = [5, 5, 5, 3]
        strides = [2, 2, 2, 1]
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2), nn.PReLU(cout))
            for cin, cout, k, s in zip(chans[:-1], chans[1:], kernels, strides, strict=True)
        )
        self.af = nn.ModuleList(AFModule(c) for c in chans[1:])
        self.blocks = nn.ModuleList(AFResidualBlock(width) for _ in range(blocks))
        self.out = nn.Conv2d(width, 2 * latent_channels, 3, 1, 1)

    def forward(self, image: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        x = image * 2 - 1
        for stage, af in zip(self.stages, self.af, strict=True):
            x = af(stage(x), snr_db)
        for block in self.blocks:
            x = block(x, snr_db)
        return self.out(x)
