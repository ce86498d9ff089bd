"""Link adaptation: the highest-throughput MCS whose tabulated BLER meets a loss target.

The tables are measured by :mod:`channels.phy.measure_tables`; this module only chooses from them. A
transport asks :func:`adapt_mcs` for the MCS of one layer of an image at one SNR: the layer's loss
target (:data:`LAYER_TARGETS`) is a bound on the probability that the block of data symbols the layer
may fill loses a codeword, turned into a per-codeword target by :func:`codeword_target`.
"""

from __future__ import annotations

from typing import Literal

from channels.phy.fec import FECConfig
from channels.phy.framing import CodewordLayout
from channels.phy.mcs import MCS
from channels.phy.measure_tables import bler_table, candidate_mcs

__all__ = [
    "BASE_BLER_TARGET",
    "BLER_TARGET",
    "LAYER_TARGETS",
    "Layer",
    "adapt_mcs",
    "auto_mcs",
    "codeword_target",
]

BLER_TARGET = 0.1
"""``mcs: auto``: the largest acceptable probability that an image's payload loses a codeword."""

BASE_BLER_TARGET = BLER_TARGET / 10
"""``base_mcs: auto``: the base layer of a layered codec gets the fastest MCS whose tabulated BLER is
at most 1 % (ten times safer than ``mcs: auto``'s 10 % target)."""

Layer = Literal["single", "base", "enhancement"]
"""What a link carries: a single-layer codec's stream, or a layered codec's base or enhancement layer."""

LAYER_TARGETS: dict[Layer, float] = {
    "single": BLER_TARGET,
    "base": BASE_BLER_TARGET,
    "enhancement": BLER_TARGET,
}
"""The block-loss target of each layer."""


def codeword_target(block_target: float, codewords: int) -> float:
    """The per-codeword BLER at which a block of ``codewords`` independent codewords is lost (at least
    one codeword fails) with probability ``block_target``: 1 - (1 - block_target)^(1 / codewords)."""
    return 1.0 - (1.0 - block_target) ** (1.0 / max(codewords, 1))


def auto_mcs(
    snr_db: float,
    fec: FECConfig,
    channel_family: str,
    target: float = BLER_TARGET,
    data_symbols: int | None = None,
) -> MCS:
    """The candidate MCS of highest payload throughput whose tabulated BLER at ``snr_db`` meets ``target``.

    Throughput is payload bits per channel symbol (:attr:`CodewordLayout.payload_bits_per_symbol`).
    The tabulated BLER is conservative (see :meth:`BLERTable.bler`), so the pick is non-decreasing in
    SNR. If no candidate meets the target (very low SNR), the most robust candidate is returned.

    :param snr_db: Es/N0 per complex symbol, dB.
    :param fec: the channel code (``fec.code == "none"`` picks among uncoded modulations).
    :param channel_family: ``awgn``, ``rayleigh`` or ``rayleigh_bl<L>``; see :func:`channels.channel_family`.
    :param target: without ``data_symbols``, the largest acceptable BLER of one codeword; with it,
        the largest acceptable probability that a block of ``data_symbols`` data symbols filled with
        codewords of the MCS loses at least one of them (an image lost, for a codec whose stream fills
        the budget): a candidate with n codewords in the block needs BLER <=
        :func:`codeword_target` (target, n). Codeword errors are taken as independent, which block
        fading spanning several codewords makes optimistic.
    """
    table = bler_table(fec, channel_family)
    candidates = [m for m in candidate_mcs(fec) if m.name in table.errors]
    if not candidates:
        raise ValueError(f"no MCS can be carried by {fec.key}")

    def limit(mcs: MCS) -> float:
        if data_symbols is None:
            return target
        return codeword_target(
            target, data_symbols // CodewordLayout.of(mcs, fec).symbols_per_codeword
        )

    feasible = [m for m in candidates if table.bler(m.name, snr_db) <= limit(m)]
    if not feasible:
        return candidates[0]
    return max(feasible, key=lambda m: CodewordLayout.of(m, fec).payload_bits_per_symbol)


def adapt_mcs(
    snr_db: float, fec: FECConfig, channel_family: str, data_symbols: int, layer: Layer = "single"
) -> MCS:
    """The MCS for ``layer`` at ``snr_db``: the fastest candidate whose tabulated BLER keeps the
    probability that ``data_symbols`` data symbols filled with its codewords lose one of them at or
    below :data:`LAYER_TARGETS` [``layer``] (see :func:`auto_mcs`).

    The base layer fills only part of the block, so its bound is conservative there.

    :param snr_db: Es/N0 per complex symbol, dB.
    :param data_symbols: data symbols of the whole per-image budget (after pilots and cyclic prefix).
    """
    return auto_mcs(snr_db, fec, channel_family, LAYER_TARGETS[layer], data_symbols=data_symbols)
