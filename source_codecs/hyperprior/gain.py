"""Gain units: one variable-rate model instead of one model per lambda (Cui, Wang, Gao, Bai, Kang,
Zhang, "Asymmetric Gained Deep Image Compression With Continuous Rate Adaptation", CVPR 2021).

A gain unit holds, for each of ``levels`` rate levels (one per training lambda, lowest rate first),
a positive gain per channel and a separate inverse gain per channel. The encoder multiplies the
latent by the level's gains before quantisation, the decoder multiplies the dequantised latent by
its inverse gains: small gains quantise coarsely (few bits), large ones finely. Between two levels
the vectors are interpolated geometrically (linearly in the log domain, the paper's
``m^l * m'^(1-l)``), so that a real-valued level in [0, levels - 1] gives a continuous rate.
The vectors are stored as logarithms, which keeps them positive; they start at 1 (the paper's
initialisation) unless :meth:`GainUnits.initialise` spreads them (the trainer does, from its
lambdas).
"""

from __future__ import annotations

__all__ = ["GainUnits"]

import torch
from torch import nn


class GainUnits(nn.Module):
    """Per-level channel gains and inverse gains with geometric interpolation between levels.

    :param levels: L >= 2 rate levels.
    :param channels: C channels of the latent they scale.
    :input level: float tensor [B] of levels in [0, L - 1] (clamped), one per image; its dtype
        (float32 in training, float64 for the coder's tables) is the outputs' dtype.
    :output gain: [B, C, 1, 1], > 0.
    :output inverse: [B, C, 1, 1], > 0.

    >>> units = GainUnits(3, 2)
    >>> units.initialise(torch.log(torch.tensor([0.25, 0.5, 1.0])))
    >>> gain, inverse = units(torch.tensor([0.0, 0.5, 2.0]))
    >>> gain.shape, [round(g, 3) for g in gain[:, 0, 0, 0].tolist()], inverse[0, 0, 0, 0].item()
    (torch.Size([3, 2, 1, 1]), [0.25, 0.354, 1.0], 4.0)
    """

    def __init__(self, levels: int, channels: int) -> None:
        super().__init__()
        if levels < 2:
            raise ValueError(f"gain units need at least 2 levels, got {levels}")
        self.levels = levels
        self.log_gain = nn.Parameter(torch.zeros(levels, channels))
        self.log_inverse = nn.Parameter(torch.zeros(levels, channels))

    @torch.no_grad()
    def initialise(self, log_gain: torch.Tensor) -> None:
        """Set every channel's gain at level i to exp(``log_gain[i]``) and its inverse gain to the
        reciprocal; ``log_gain``: float [L]."""
        self.log_gain.copy_(log_gain[:, None].expand_as(self.log_gain))
        self.log_inverse.copy_(-self.log_gain)

    def forward(self, level: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(gain, inverse) of each image's ``level``; see the class docstring."""
        level = level.clamp(0, self.levels - 1)
        lower = level.floor().long().clamp(max=self.levels - 2)
        fraction = (level - lower.to(level.dtype))[:, None]

        def interpolate(table: torch.Tensor) -> torch.Tensor:
            table = table.to(level.dtype)
            log = (1 - fraction) * table[lower] + fraction * table[lower + 1]
            return torch.exp(log)[:, :, None, None]

        return interpolate(self.log_gain), interpolate(self.log_inverse)
