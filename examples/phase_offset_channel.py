"""A complete custom channel: AWGN after a constant carrier phase offset, known to the receiver.

A plain class: the simulator needs only a constructor taking the YAML ``params`` as keywords and a call
``channel(x, no) -> (y, h)``; no base class. Use it from YAML as
``channel: {model: "examples.phase_offset_channel:PhaseOffsetAWGN", params: {phase_deg: 30}}`` (the
working folder is on the import path, so run from the repository root for ``examples`` to import).
"""

from __future__ import annotations

import math

import torch


class PhaseOffsetAWGN:
    """y = exp(j*phi) * x + n,  n ~ CN(0, no).

    :param phase_deg: the carrier phase offset phi in degrees.
    :input x: [batch, symbols], torch.complex64, unit average energy.
    :input no: noise variance per complex symbol (float or tensor broadcastable to ``x``).
    :output y: [batch, symbols], torch.complex64, the received symbols.
    :output h: [batch, symbols], torch.complex64, the channel coefficients (perfect CSI).
    """

    def __init__(self, phase_deg: float = 0.0) -> None:
        self.phase = math.radians(phase_deg)

    def __call__(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.full_like(x, complex(math.cos(self.phase), math.sin(self.phase)))
        std = torch.sqrt(torch.as_tensor(no, dtype=torch.float32) / 2).to(x.device)
        noise = torch.complex(torch.randn_like(x.real), torch.randn_like(x.real)) * std
        return h * x + noise, h
