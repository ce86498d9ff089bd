"""Scalar quantisation of the latent onto L fixed centres (soft-to-hard, Mentzer et al. 2018)."""

from __future__ import annotations

__all__ = ["Quantizer"]

import torch
from torch import nn


class Quantizer(nn.Module):
    """Nearest-centre quantiser with a straight-through soft assignment for training.

    The centres are ``levels`` equally spaced values in ``[-extent, extent]`` (L = 5 in [-2, 2]:
    -2, -1, 0, 1, 2, as in Agustsson et al. 2019). The forward value is always the hard
    (nearest-centre) one; in training the gradient is that of the soft assignment
    ``sum_l softmax(-sigma (z - c_l)^2)_l c_l``.

    :param levels: number of centres L.
    :param extent: the centres span ``[-extent, extent]``.
    :param sigma: softness of the soft assignment.

    :input z: [B, C, h, w], float, the encoder output.
    :output z_hat: [B, C, h, w], float, quantised values (centres).
    :output symbols: [B, C, h, w], int64 in 0..L-1, the centre indices.

    >>> q = Quantizer()
    >>> q(torch.tensor([[[[0.4, -1.7]]]]))[1].tolist()
    [[[[2, 0]]]]
    """

    def __init__(self, levels: int = 5, extent: float = 2.0, sigma: float = 1.0) -> None:
        super().__init__()
        self.sigma = sigma
        self.register_buffer("centres", torch.linspace(-extent, extent, levels))

    @property
    def levels(self) -> int:
        """Number of centres L."""
        return self.centres.numel()

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantise ``z``; see the class docstring."""
        distance = (z.unsqueeze(-1) - self.centres).square()
        symbols = distance.argmin(-1)
        hard = self.centres[symbols]
        if not self.training:
            return hard, symbols
        soft = (self.assignment(z) * self.centres).sum(-1)
        return soft + (hard - soft).detach(), symbols

    def assignment(self, z: torch.Tensor) -> torch.Tensor:
        """Soft assignment of ``z`` [B, C, h, w] to the centres: float [B, C, h, w, L], sums to 1."""
        return torch.softmax(-self.sigma * (z.unsqueeze(-1) - self.centres).square(), -1)

    def dequantize(self, symbols: torch.Tensor) -> torch.Tensor:
        """Centre values of ``symbols`` (int64 [B, C, h, w]) -> float [B, C, h, w]."""
        return self.centres[symbols]
