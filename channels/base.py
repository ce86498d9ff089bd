"""The channel protocol shared by the built-in and custom channel models."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

__all__ = ["Channel", "channel_data_symbols", "noise_variance", "split_channel_output"]


@runtime_checkable
class Channel(Protocol):
    r"""A channel model: a :class:`torch.nn.Module` configured by keyword arguments.

    ``y = h * x + n`` with ``n ~ CN(0, no)``; the receiver knows ``h`` (perfect CSI).

    :input x: [batch, symbols], `torch.complex64`. Transmit symbols with unit average energy.
    :input no: `float` or tensor broadcastable to ``x``, `torch.float32`. Noise variance N0 per complex
        symbol (``no/2`` per real dimension). With unit-energy symbols, SNR = Es/N0 = 1/``no``.
    :output y: [batch, symbols], `torch.complex64`. Received symbols.
    :output h: [batch, symbols], `torch.complex64`. Channel coefficient of each symbol.

    Optional extensions (used by :class:`~channels.phy.link.DigitalLink` when present):

    - a third output ``err_var`` [batch, symbols] `torch.float32`: the variance of the error of ``h``
      when it is an estimate (imperfect CSI); the receiver adds it to the noise, i.e. its demapper sees
      ``(no + err_var) / |h|^2`` after zero forcing. Read the outputs with :func:`split_channel_output`.
    - a method ``data_symbols(channel_uses: int) -> int``: how many data symbols ``channel_uses``
      complex channel uses carry when the channel spends some on overhead (OFDM pilots, cyclic
      prefixes); without it, every channel use carries one data symbol. See
      :func:`channel_data_symbols`.

    Randomness must come from Sionna's generator (``sionna.phy.config.torch_rng()``) or torch's global
    generator, so that seeding ``sionna.phy.config.seed`` makes a run reproducible.
    """

    def __call__(
        self, x: torch.Tensor, no: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def noise_variance(snr_db: float) -> float:
    """N0 per complex symbol for unit-energy symbols at ``snr_db`` = Es/N0 in dB: ``10^(-snr_db/10)``."""
    return 10.0 ** (-snr_db / 10.0)


def split_channel_output(
    outputs: tuple[torch.Tensor, ...],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(y, h, err_var)`` from a channel's ``(y, h)`` or ``(y, h, err_var)``; ``err_var`` is `None`
    for channels that give perfect CSI."""
    if len(outputs) not in (2, 3):
        raise ValueError(f"a channel returns (y, h) or (y, h, err_var), got {len(outputs)} outputs")
    y, h, *rest = outputs
    return y, h, (rest[0] if rest else None)


def channel_data_symbols(channel: object, channel_uses: int) -> int:
    """Data symbols that ``channel_uses`` complex channel uses carry over ``channel``: its
    ``data_symbols(channel_uses)`` if it has one, else ``channel_uses``."""
    data_symbols = getattr(channel, "data_symbols", None)
    return channel_uses if data_symbols is None else int(data_symbols(channel_uses))
