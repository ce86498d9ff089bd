"""Building blocks shared by the encoder, the generator and the discriminator."""

from __future__ import annotations

__all__ = ["SPADEResBlock", "conv_norm_act"]

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from source_codecs.semantic_gan.normalization import SPADE, SemanticEmbedding


def conv_norm_act(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Convolution ('same' padding for stride 1, halving for stride 2), instance norm, leaky ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, padding=(kernel - 1) // 2),
        nn.InstanceNorm2d(c_out),
        nn.LeakyReLU(0.2),
    )


class SPADEResBlock(nn.Module):
    """SPADE residual block: two SPADE-ReLU-conv3x3 stages and a learned shortcut when C changes.

    :param c_in: input channels.
    :param c_out: output channels.
    :param label_channels: channels of the one-hot semantic map.
    :param hidden: channels of the block's semantic embedding.
    :param spade_kernel: kernel size inside the SPADE layers (3, or 1 at full resolution).

    :input x: [B, c_in, H, W], float.
    :input segmap: [B, label_channels, H', W'], float.
    :output y: [B, c_out, H, W], float.
    """

    def __init__(
        self, c_in: int, c_out: int, label_channels: int, hidden: int, spade_kernel: int = 3
    ) -> None:
        super().__init__()
        c_mid = min(c_in, c_out)
        self.embed = SemanticEmbedding(label_channels, hidden, spade_kernel)
        self.norm_0 = SPADE(c_in, hidden, spade_kernel)
        self.conv_0 = spectral_norm(nn.Conv2d(c_in, c_mid, 3, padding=1))
        self.norm_1 = SPADE(c_mid, hidden, spade_kernel)
        self.conv_1 = spectral_norm(nn.Conv2d(c_mid, c_out, 3, padding=1))
        self.learned_shortcut = c_in != c_out
        if self.learned_shortcut:
            self.norm_s = SPADE(c_in, hidden, spade_kernel)
            self.conv_s = spectral_norm(nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        """Residual update of ``x`` conditioned on ``segmap``."""
        e = self.embed(segmap, x.shape[-2:])
        shortcut = self.conv_s(self.norm_s(x, e)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, e), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, e), 0.2))
        return shortcut + dx
