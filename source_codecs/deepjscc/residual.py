"""A residual block at the latent's resolution, followed by an SNR-driven AF module."""

from __future__ import annotations

__all__ = ["AFResidualBlock"]

import torch
from torch import nn

from source_codecs.deepjscc.af_module import AFModule


class AFResidualBlock(nn.Module):
    r"""``x + conv(PReLU(conv(x)))`` (3x3 convolutions, shape kept), then an :class:`AFModule`.

    The depth that lets deep JSCC's encoder and decoder leave the ~22.7 dB plateau of the
    shallow network (``source_codecs/deepjscc/README.md``) at little cost on the CPU: at 1/8
    resolution a 3x3 convolution of C channels costs ``9 C^2 / 64`` multiply-adds per pixel.

    :param channels: C, feature channels.

    :input x: [B, C, h, w], float32 (or bf16 under autocast).
    :input snr_db: [B], float32, channel SNR in dB.
    :output y: [B, C, h, w], same dtype as the convolution's output.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, 1, 1),
        )
        self.af = AFModule(channels)

    def forward(self, x: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        return self.af(x + self.body(x), snr_db)
