"""Which committed BLER table a channel model's link adaptation uses."""

from __future__ import annotations

from typing import Any

import torch

from channels.awgn import AWGNChannel
from channels.rayleigh import RayleighChannel

__all__ = ["channel_family", "family_channel"]


def channel_family(model: str, params: dict[str, Any] | None = None) -> str:
    """The BLER-table family for ``mcs: auto``: ``"awgn"`` for the AWGN channel, else a fading family.

    Rician and custom channels use the Rayleigh tables (conservative: Rician with K > 0 fades less).
    ``"rayleigh"`` is per-symbol fading; a ``block_length`` L > 1 in ``params`` gives
    ``"rayleigh_bl{L}"``, whose table is built on first use (see :mod:`channels.phy.mcs_table`).
    """
    if model == "awgn":
        return "awgn"
    block_length = int((params or {}).get("block_length", 1))
    return "rayleigh" if block_length <= 1 else f"rayleigh_bl{block_length}"


def family_channel(family: str) -> torch.nn.Module:
    """The channel a BLER table of ``family`` is measured on (inverse of :func:`channel_family`)."""
    if family == "awgn":
        return AWGNChannel()
    if family == "rayleigh":
        return RayleighChannel()
    if family.startswith("rayleigh_bl") and family.removeprefix("rayleigh_bl").isdigit():
        return RayleighChannel(block_length=int(family.removeprefix("rayleigh_bl")))
    raise ValueError(f"unknown channel family '{family}'; use awgn, rayleigh or rayleigh_bl<L>")
