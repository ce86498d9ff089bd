"""The channel protocol shared by the built-in and custom channel models."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

__all__ = ["Channel", "noise_variance"]


@runtime_checkable
class Channel(Protocol):
    r"""A channel model: a :class:`torch.nn.Module` configured by keyword arguments.

    ``y = h * x + n`` with ``n ~ CN(0, no)``; the receiver knows ``h`` (perfect CSI).

    :input x: [batch, symbols], `torch.complex64`. Transmit symbols with unit average energy.
    :input no: `float` or tensor broadcastable to ``x``, `torch.float32`. Noise variance N0 per complex
        symbol (``no/2`` per real dimension). With unit-energy symbols, SNR = Es/N0 = 1/``no``.
    :output y: [batch, symbols], `torch.complex64`. Received symbols.
    :output h: [batch, symbols], `torch.complex64`. Channel coefficient of each symbol.

    Randomness must come from Sionna's generator (``sionna.phy.config.torch_rng()``) or torch's global
    generator, so that seeding ``sionna.phy.config.seed`` makes a run reproducible.
    """

    def __call__(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def noise_variance(snr_db: float) -> float:
    """N0 per complex symbol for unit-energy symbols at ``snr_db`` = Es/N0 in dB: ``10^(-snr_db/10)``."""
    return 10.0 ** (-snr_db / 10.0)
