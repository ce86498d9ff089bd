"""The transmitter's analysis transform: image (and semantic map) -> latent at 1/16 resolution."""

from __future__ import annotations

__all__ = ["Encoder"]

import torch
from torch import nn

from source_codecs.semantic_gan.architecture import conv_norm_act


class Encoder(nn.Module):
    """Four stride-2 convolution stages (16x downsampling) and a projection to ``C`` channels.

    The one-hot semantic map is concatenated to the image, as in the "selective" generative
    compression of Agustsson et al. 2019: the latent only has to carry what the map does not.

    :param latent_channels: ``C``, channels of the latent (the rate point).
    :param label_channels: channels of the one-hot semantic map.
    :param width: channels of the first stage (doubled at each stage, at most 8x).

    :input image: [B, 3, H, W], float in [-1, 1]; H and W multiples of 16.
    :input segmap: [B, label_channels, H, W], float one-hot.
    :output z: [B, C, H / 16, W / 16], float, before quantisation.
    """

    def __init__(self, latent_channels: int, label_channels: int, width: int = 32) -> None:
        super().__init__()
        chans = [width * min(2**i, 8) for i in range(5)]
        layers = [conv_norm_act(3 + label_channels, chans[0], 7)]
        layers += [conv_norm_act(chans[i], chans[i + 1], 3, 2) for i in range(4)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(chans[4], latent_channels, 3, padding=1)

    def forward(self, image: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """Latent of ``image`` given ``segmap``."""
        return self.head(self.body(torch.cat([image, segmap], 1)))
