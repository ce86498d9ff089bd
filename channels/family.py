"""Which committed BLER table a channel model's link adaptation uses."""

from __future__ import annotations

from typing import Any

__all__ = ["channel_family"]


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
