"""Attention-feature (AF) module of ADJSCC: feature channels scaled by a function of the SNR."""

from __future__ import annotations

__all__ = ["AFModule", "SNR_SCALE_DB"]

import torch
from torch import nn

SNR_SCALE_DB = 20.0
"""The SNR enters the MLP as ``snr_db / SNR_SCALE_DB`` (order 1 over the trained -5..20 dB)."""


class AFModule(nn.Module):
    r"""Channel-wise attention conditioned on the channel SNR (Xu et al. 2021, Fig. 3).

    The context is the feature map's spatial mean of each channel together with the SNR; a two-layer
    MLP with a sigmoid turns it into one factor in (0, 1) per channel that multiplies the features.

    :param channels: C, feature channels.
    :param hidden: width of the MLP's hidden layer; default ``max(C // 4, 8)``.

    :input x: [B, C, H, W], float32, features.
    :input snr_db: [B], float32, SNR (Es/N0) of each image's channel in dB.
    :output y: [B, C, H, W], float32, ``x`` with each channel scaled.

    >>> af = AFModule(16)
    >>> af(torch.ones(2, 16, 4, 4), torch.tensor([0.0, 10.0])).shape
    torch.Size([2, 16, 4, 4])
    """

    def __init__(self, channels: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or max(channels // 4, 8)
        self.mlp = nn.Sequential(
            nn.Linear(channels + 1, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
        context = torch.cat([x.mean(dim=(2, 3)), snr_db[:, None] / SNR_SCALE_DB], dim=1)
        return x * self.mlp(context)[:, :, None, None]
