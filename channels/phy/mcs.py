"""Modulation and coding schemes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["MCS", "MODULATIONS", "Modulation"]

Modulation = Literal["bpsk", "qpsk", "16qam", "64qam", "256qam"]
"""A modulation's name (the configuration's ``modulation`` values)."""

#: Modulation name -> bits per complex symbol. ``bpsk`` is Sionna's 1-bit PAM (+-1, real), the others
#: Sionna's Gray-labelled square QAM; all have unit average energy.
MODULATIONS: dict[str, int] = dict(zip(get_args(Modulation), (1, 2, 4, 6, 8), strict=True))


@dataclass(frozen=True)
class MCS:
    """A modulation, a nominal channel-code rate (``code_rate`` 1.0 = uncoded) and a repetition
    factor.

    ``repetitions`` R > 1 sends every codeword's symbols R times (one copy after the other, so the
    copies see different fades of a block-fading channel) and the receiver adds the R copies' LLRs
    (chase combining): the rate falls to ``code_rate / R`` below the lowest rate 5G LDPC takes, as
    the coverage-enhancement repetitions of LTE-M, NB-IoT and NR do. The rate the link really
    achieves is a little lower (CRC, whole payload bytes): see
    :class:`channels.phy.framing.CodewordLayout`.
    """

    modulation: str
    code_rate: float
    repetitions: int = 1

    def __post_init__(self) -> None:
        if self.modulation not in MODULATIONS:
            raise ValueError(
                f"unknown modulation '{self.modulation}'; choose from {', '.join(MODULATIONS)}"
            )
        if not 0.0 < self.code_rate <= 1.0:
            raise ValueError(f"code_rate must be in (0, 1], got {self.code_rate}")
        if self.repetitions < 1:
            raise ValueError(f"repetitions must be at least 1, got {self.repetitions}")

    @property
    def bits_per_symbol(self) -> int:
        """Coded bits per complex channel symbol."""
        return MODULATIONS[self.modulation]

    @property
    def uncoded(self) -> bool:
        """True for ``code_rate`` 1.0."""
        return self.code_rate == 1.0

    @property
    def constellation(self) -> tuple[str, int]:
        """Sionna ``(constellation_type, num_bits_per_symbol)`` of the modulation."""
        return ("pam", 1) if self.modulation == "bpsk" else ("qam", self.bits_per_symbol)

    @property
    def name(self) -> str:
        """E.g. ``"16qam r=0.50"``, ``"qpsk uncoded"`` or ``"bpsk r=0.21 x4"`` (4 repetitions)."""
        name = (
            f"{self.modulation} uncoded"
            if self.uncoded
            else f"{self.modulation} r={self.code_rate:.2f}"
        )
        return name if self.repetitions == 1 else f"{name} x{self.repetitions}"
