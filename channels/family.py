"""Which committed BLER table a channel model's link adaptation uses."""

from __future__ import annotations

import torch

from channels.awgn import AWGNChannel
from channels.block_fading import block_family
from channels.rayleigh import RayleighChannel

__all__ = ["channel_family", "family_channel"]


def channel_family(channel: object) -> str:
    """The BLER-table family for ``mcs: auto`` of a channel model: its ``bler_family`` attribute,
    which every built-in channel has, else (a custom channel) ``"rayleigh"``, or
    ``"rayleigh_bl{L}"`` for a ``block_length`` attribute L > 1.

    ``awgn`` is ``"awgn"``. Rayleigh and Rician use the Rayleigh tables (conservative for Rician:
    K > 0 fades less): ``"rayleigh"`` is per-symbol fading, a ``block_length`` L > 1 gives
    ``"rayleigh_bl{L}"``, whose table is built on first use (see :mod:`channels.phy.measure_tables`).

    ``ofdm`` uses ``"rayleigh_bl{D}"`` with D the data symbols of one slot: one flat Rayleigh
    coefficient per slot, with the slot boundaries where the OFDM channel puts them. That is the OFDM
    channel without frequency selectivity or Doppler (delay spread 0, speed 0) with perfect CSI, the
    least diversity it can offer: conservative for perfect CSI. It is NOT conservative for ``ls`` or
    ``lmmse`` CSI at low SNR: LS loses about 3 dB (error variance N0 per resource element), and
    ``benchmarks/results/ofdm_csi.md`` measures, for 16-QAM r=1/2 over TDL-A 300 ns with 72
    subcarriers, BLER 0.68 with LS against 0.34 for this family at 10 dB. An OFDM-specific table is
    not measured: it would depend on every grid, multipath and
    CSI parameter, and its first-use measurement would take many minutes on a CPU.
    """
    family = getattr(channel, "bler_family", None)
    if family is not None:
        return str(family)
    return block_family(int(getattr(channel, "block_length", 1)))


def family_channel(family: str) -> torch.nn.Module:
    """The channel a BLER table of ``family`` is measured on (inverse of :func:`channel_family`)."""
    if family == "awgn":
        return AWGNChannel()
    if family == "rayleigh":
        return RayleighChannel()
    if family.startswith("rayleigh_bl") and family.removeprefix("rayleigh_bl").isdigit():
        return RayleighChannel(block_length=int(family.removeprefix("rayleigh_bl")))
    raise ValueError(f"unknown channel family '{family}'; use awgn, rayleigh or rayleigh_bl<L>")
