"""Multi-scale PatchGAN discriminator conditioned on the semantic map (pix2pixHD / SPADE)."""

from __future__ import annotations

__all__ = ["MultiscaleDiscriminator", "PatchDiscriminator"]

import torch
import torch.nn.functional as F
from torch import nn


class PatchDiscriminator(nn.Module):
    """A 70x70-style PatchGAN: three stride-2 stages, one stride-1 stage, a 1-channel patch score.

    :param in_channels: image channels + one-hot map channels.
    :param ndf: channels of the first stage (doubled per stage, at most 8x).

    :input x: [B, in_channels, H, W], float.
    :output features: list of 5 tensors, the activations of every stage; the last one is the
        patch score map [B, 1, H / 8 - 1, W / 8 - 1] (no sigmoid: hinge loss).
    """

    def __init__(self, in_channels: int, ndf: int = 32) -> None:
        super().__init__()
        chans = [ndf * min(2**i, 8) for i in range(4)]
        first = nn.Sequential(nn.Conv2d(in_channels, chans[0], 4, 2, 2), nn.LeakyReLU(0.2))
        stages = [first]
        stages += [_down(chans[i - 1], chans[i], 2 if i < 3 else 1) for i in range(1, 4)]
        stages.append(nn.Conv2d(chans[3], 1, 4, 1, 2))
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every stage's activation, the patch scores last."""
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


def _down(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """A 4x4 spectrally normalised convolution stage of the PatchGAN."""
    conv = nn.utils.spectral_norm(nn.Conv2d(c_in, c_out, 4, stride, 2))
    return nn.Sequential(conv, nn.InstanceNorm2d(c_out), nn.LeakyReLU(0.2))


class MultiscaleDiscriminator(nn.Module):
    """PatchGANs on the input at full, 1/2, 1/4 ... resolution (average-pooled).

    :param image_channels: 3.
    :param label_channels: channels of the one-hot semantic map (concatenated to the image).
    :param scales: number of discriminators.
    :param ndf: channel unit of each discriminator.

    :input image: [B, 3, H, W], float in [-1, 1].
    :input segmap: [B, label_channels, H, W], float one-hot.
    :output features: one list per scale, as returned by :class:`PatchDiscriminator`.
    """

    def __init__(
        self, image_channels: int, label_channels: int, scales: int = 2, ndf: int = 32
    ) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(image_channels + label_channels, ndf) for _ in range(scales)
        )

    def forward(self, image: torch.Tensor, segmap: torch.Tensor) -> list[list[torch.Tensor]]:
        """Features of every scale for the pair (image, map)."""
        x = torch.cat([image, segmap], 1)
        outputs = []
        for i, discriminator in enumerate(self.discriminators):
            if i > 0:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(discriminator(x))
        return outputs
