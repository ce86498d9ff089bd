"""Spatially-adaptive (de)normalisation, SPADE (Park et al., CVPR 2019)."""

from __future__ import annotations

__all__ = ["SPADE", "SemanticEmbedding"]

import torch
import torch.nn.functional as F
from torch import nn


class SemanticEmbedding(nn.Module):
    """The shared first layer of SPADE: a convolution + ReLU on the one-hot map, at a given size.

    NVlabs SPADE computes it inside every SPADE layer; here one embedding serves all the SPADE
    layers of a residual block (they see the same map at the same resolution), which divides its
    cost by up to three.

    :param label_channels: channels of the one-hot semantic map.
    :param hidden: channels of the embedding.
    :param kernel: kernel size (3 as in SPADE; 1 for a per-pixel embedding).

    :input segmap: [B, label_channels, H', W'], float one-hot map at any resolution.
    :input size: (H, W), the resolution of the activation to modulate.
    :output embedding: [B, hidden, H, W], float.
    """

    def __init__(self, label_channels: int, hidden: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(label_channels, hidden, kernel, padding=kernel // 2)

    def forward(self, segmap: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Embed ``segmap`` resized (nearest) to ``size``."""
        return F.relu(self.conv(F.interpolate(segmap, size=size, mode="nearest")))


class SPADE(nn.Module):
    """Parameter-free instance normalisation, then a per-pixel scale and shift from the semantic map.

    ``out = norm(x) * (1 + gamma(e)) + beta(e)`` where ``e`` is the :class:`SemanticEmbedding` of the
    map at the resolution of ``x`` and ``gamma``, ``beta`` are convolutions.

    :param channels: channels ``C`` of the normalised activation.
    :param hidden: channels of the embedding.
    :param kernel: kernel size of the modulation convolutions (3 as in SPADE; 1 at full resolution).

    :input x: [B, C, H, W], float.
    :input embedding: [B, hidden, H, W], float.
    :output y: [B, C, H, W], float.
    """

    def __init__(self, channels: int, hidden: int = 64, kernel: int = 3) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.gamma = nn.Conv2d(hidden, channels, kernel, padding=kernel // 2)
        self.beta = nn.Conv2d(hidden, channels, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Normalise ``x`` and modulate it with ``embedding``."""
        return self.norm(x) * (1 + self.gamma(embedding)) + self.beta(embedding)
