"""The channel seen in training: AWGN or Rayleigh fast fading with perfect CSI and zero forcing."""

from __future__ import annotations

__all__ = ["TrainingChannel"]

import torch
from sionna.phy.channel import AWGN
from torch import nn


class TrainingChannel(nn.Module):
    r"""Received symbols after zero forcing, and their noise variance, for a batch of images.

    Each image gets its own SNR and its own channel: AWGN (``h = 1``) or, with probability
    ``fading_prob``, Rayleigh fast fading with one ``h ~ CN(0, 1)`` per symbol. With perfect CSI the
    zero-forcing receiver sees ``y / h = x + n / h``, i.e. ``x`` plus complex Gaussian noise of
    variance ``N0 / |h|^2``, which is drawn directly by Sionna's :class:`~sionna.phy.channel.AWGN`
    block with that per-symbol variance (differentiable in ``x``; Sionna's own generator draws the
    noise, torch's global one draws ``h``).

    :param fading_prob: probability that an image goes through the Rayleigh channel.

    :input x: [B, K], complex64, unit average energy per row.
    :input snr_db: [B], float32, Es/N0 in dB; ``N0 = 10^(-snr_db / 10)``.
    :output y: [B, K], complex64, equalised received symbols.
    :output noise_var: [B, K], float32, ``N0 / |h|^2`` per symbol.
    """

    def __init__(self, fading_prob: float = 0.5) -> None:
        super().__init__()
        self.fading_prob = fading_prob
        self.awgn = AWGN()

    def forward(self, x: torch.Tensor, snr_db: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n0 = torch.pow(10.0, -snr_db / 10)[:, None].expand(x.shape).float()
        h = torch.randn_like(x)  # complex randn: CN(0, 1)
        fading = (torch.rand(x.shape[0], 1, device=x.device) < self.fading_prob).expand(x.shape)
        gain = torch.where(fading, h.abs().square(), torch.ones_like(n0))
        noise_var = n0 / gain
        return self.awgn(x, noise_var), noise_var
