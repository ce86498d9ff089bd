"""The receiver's network: received symbols and their reliability -> image."""

from __future__ import annotations

__all__ = ["Decoder"]

import torch
from torch import nn

from source_codecs.deepjscc.af_module import AFModule
from source_codecs.deepjscc.residual import AFResidualBlock


class Decoder(nn.Module):
    r"""3x3 convolutions with PReLU and sub-pixel (PixelShuffle) upsampling back to full resolution,
    each stage followed by an SNR-driven :class:`AFModule`.

    The input holds, per complex latent channel ``c`` and position, the MMSE-scaled received symbol
    ``g * y`` (real and imaginary part, channels ``2c`` and ``2c + 1``) and its gain
    ``g = 1 / (1 + noise_var)`` (channel ``2 C_max + c``): ``g`` is 1 for a clean symbol, near 0 in a
    deep fade and exactly 0 for a symbol that was not sent.

    :param latent_channels: C_max, complex latent channels.
    :param width: feature channels at 1/8 resolution; the 1/4 and 1/2 stages have 3/4 and 1/2 of it.
    :param blocks: :class:`AFResidualBlock` s at 1/8 resolution before the upsampling.

    :input features: [B, 3 * C_max, H / 8, W / 8], float32.
    :input snr_db: [B], float32, channel SNR in dB.
    :output image: [B, 3, H, W], float32 in [0, 1].
    """

    def __init__(self, latent_channels: int, width: int, blocks: int = 0) -> None:
        super().__init__()
        # Channels after each sub-pixel upsampling (1/4, 1/2 and full resolution).
        ups = [width * 3 // 4, width // 2, width // 2]
        self.head = nn.Sequential(nn.Conv2d(3 * latent_channels, width, 3, 1, 1), nn.PReLU(width))
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.PReLU(width))
        self.ups = nn.ModuleList(
            nn.Sequential(nn.Conv2d(cin, 4 * cout, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(cout))
            for cin, cout in zip([width, *ups[:-1]], ups, strict=True)
        )
        self.af = nn.ModuleList(AFModule(c) for c in [width, width, *ups])
        self.blocks = nn.ModuleList(AFResidualBlock(width) for _ in range(blocks))
        self.out = nn.Conv2d(ups[-1], 3, 3, 1, 1)

    def forward(self, features: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        x = self.af[0](self.head(features), snr_db)
        x = self.af[1](self.body(x), snr_db)
        for block in self.blocks:
            x = block(x, snr_db)
        for up, af in zip(self.ups, self.af[2:], strict=True):
            x = af(up(x), snr_db)
        return torch.sigmoid(self.out(x))
