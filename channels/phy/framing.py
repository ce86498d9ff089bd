"""How payload bytes, CRC and code bits fill a codeword and its channel symbols."""

from __future__ import annotations

import math
from dataclasses import dataclass

from channels.phy.crc import CRC_LENGTHS
from channels.phy.fec import FECConfig
from channels.phy.mcs import MCS

__all__ = ["LDPC_RATE_RANGE", "CodewordLayout"]

# 3GPP 38.212 limits that Sionna's LDPC5GEncoder enforces.
LDPC_RATE_RANGE: tuple[float, float] = (0.2, 0.95)
"""The smallest and largest k/n that 5G LDPC codes."""
_LDPC_MIN_RATE, _LDPC_MAX_RATE = LDPC_RATE_RANGE
_LDPC_MIN_K, _LDPC_MAX_K = 12, 8448


@dataclass(frozen=True)
class CodewordLayout:
    """Sizes of one codeword of an MCS under a FEC configuration.

    - ``coded_bits``: ``fec.n`` rounded up to whole symbols (the rate matcher fills the extra bits with
      parity, so nothing is wasted); ``symbols_per_copy = coded_bits / bits_per_symbol``, and a
      codeword sent ``repetitions`` times occupies ``symbols_per_codeword = repetitions *
      symbols_per_copy`` channel symbols.
    - ``info_bits`` k = payload + CRC, with the payload a whole number of bytes:
      ``k = crc + 8 * floor((round(code_rate * coded_bits) - crc) / 8)`` (a rate at most the nominal one).
      Uncoded (``fec.code == "none"`` or ``code_rate == 1``): the block carries payload + CRC, then zero
      bits up to ``coded_bits``.
    """

    coded: bool
    bits_per_symbol: int
    coded_bits: int
    symbols_per_copy: int
    crc_bits: int
    info_bits: int
    repetitions: int = 1

    @classmethod
    def of(cls, mcs: MCS, fec: FECConfig) -> CodewordLayout:
        """The layout of ``mcs`` under ``fec``; raises :class:`ValueError` if the code cannot be built."""
        if fec.code == "none" and not mcs.uncoded:
            raise ValueError(f"fec code 'none' needs code_rate 1.0, got {mcs.name}")
        coded = fec.code == "ldpc5g" and not mcs.uncoded
        bps = mcs.bits_per_symbol
        symbols = math.ceil(fec.n / bps)
        coded_bits = symbols * bps
        crc = CRC_LENGTHS.get(fec.crc, 0)
        target = round(mcs.code_rate * coded_bits) if coded else coded_bits
        info_bits = crc + 8 * ((target - crc) // 8)
        layout = cls(coded, bps, coded_bits, symbols, crc, info_bits, mcs.repetitions)
        layout._check(mcs, fec)
        return layout

    def _check(self, mcs: MCS, fec: FECConfig) -> None:
        if self.payload_bytes < 1:
            raise ValueError(f"{mcs.name} with n={fec.n}: a codeword carries no whole payload byte")
        if not self.coded:
            return
        rate = self.info_bits / self.coded_bits
        if not (
            _LDPC_MIN_RATE <= rate <= _LDPC_MAX_RATE
            and _LDPC_MIN_K <= self.info_bits <= _LDPC_MAX_K
        ):
            raise ValueError(
                f"5G LDPC cannot code {mcs.name} with n={fec.n} (k={self.info_bits}, "
                f"rate {rate:.3f}); it needs {_LDPC_MIN_RATE} <= k/n <= {_LDPC_MAX_RATE} and "
                f"{_LDPC_MIN_K} <= k <= {_LDPC_MAX_K}"
            )

    @property
    def symbols_per_codeword(self) -> int:
        """Complex channel symbols of one codeword, all its copies included."""
        return self.repetitions * self.symbols_per_copy

    @property
    def payload_bytes(self) -> int:
        """Payload bytes per codeword."""
        return (self.info_bits - self.crc_bits) // 8

    @property
    def payload_bits_per_symbol(self) -> float:
        """Information throughput: payload bits per channel symbol when every codeword passes."""
        return 8 * self.payload_bytes / self.symbols_per_codeword
