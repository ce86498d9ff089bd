"""A complete custom channel: AWGN after a constant carrier phase offset, known to the receiver.

Use it from YAML as ``channel: {model: "examples.phase_offset_channel:PhaseOffsetAWGN",
params: {phase_deg: 30}}`` (run from the repository root so that ``examples`` is importable).
"""

from __future__ import annotations

import math

import torch


class PhaseOffsetAWGN(torch.nn.Module):
    """y = exp(j*phi) * x + n,  n ~ CN(0, no).

    :param phase_deg: the carrier phase offset phi in degrees.
    :input x: [batch, symbols], torch.complex64, unit average energy.
    :input no: noise variance per complex symbol (float or tensor broadcastable to ``x``).
    :output y: [batch, symbols], torch.complex64, the received symbols.
    :output h: [batch, symbols], torch.complex64, the channel coefficients (perfect CSI).
    """

    def __init__(self, phase_deg: float = 0.0) -> None:
        super().__init__()
        self.phase = math.radians(phase_deg)

    def forward(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.full_like(x, complex(math.cos(self.phase), math.sin(self.phase)))
        std = torch.sqrt(torch.as_tensor(no, dtype=torch.float32) / 2)
        noise = torch.complex(torch.randn_like(x.real), torch.randn_like(x.real)) * std
        return h * x + noise, h
