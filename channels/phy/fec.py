"""Channel-code configuration."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CN_UPDATES", "FEC_CODES", "FECConfig"]

FEC_CODES = ("ldpc5g", "none")
#: Check-node update rules of Sionna's LDPC BP decoder.
CN_UPDATES = ("boxplus-phi", "boxplus", "minsum", "offset-minsum")


@dataclass(frozen=True)
class FECConfig:
    """The channel code of a :class:`~channels.phy.link.DigitalLink`.

    :param code: ``"ldpc5g"`` (3GPP 38.212 LDPC with rate matching) or ``"none"`` (uncoded blocks).
    :param n: codeword length in coded bits (rounded up to whole symbols by the link); for ``none``
        the length of an uncoded block.
    :param iterations: belief-propagation iterations of the LDPC decoder.
    :param cn_update: check-node rule of the decoder (``boxplus-phi`` is exact sum-product).
    :param crc: per-codeword CRC, one of Sionna's ``CRC24A|CRC24B|CRC24C|CRC16|CRC11|CRC6``; the default
        CRC24B is the one 5G NR attaches to each LDPC code block.
    :param early_termination: stop iterating on a codeword once its CRC checks (CRC-aided early
        termination, see :mod:`channels.phy.early_termination`); codewords that never pass still get
        ``iterations`` iterations.
    """

    code: str = "ldpc5g"
    n: int = 1024
    iterations: int = 20
    cn_update: str = "boxplus-phi"
    crc: str = "CRC24B"
    early_termination: bool = True

    def __post_init__(self) -> None:
        if self.code not in FEC_CODES:
            raise ValueError(f"unknown fec code '{self.code}'; choose from {', '.join(FEC_CODES)}")
        if self.cn_update not in CN_UPDATES:
            raise ValueError(
                f"unknown cn_update '{self.cn_update}'; choose from {', '.join(CN_UPDATES)}"
            )
        if self.n < 1 or self.iterations < 1:
            raise ValueError(
                f"n and iterations must be >= 1, got n={self.n}, iterations={self.iterations}"
            )

    @property
    def key(self) -> str:
        """A file-name-safe identifier, e.g. ``ldpc5g_n1024_it20`` (non-default rules appended)."""
        parts = [self.code, f"n{self.n}"]
        if self.code == "ldpc5g":
            parts.append(f"it{self.iterations}")
            if self.cn_update != "boxplus-phi":
                parts.append(self.cn_update)
        if self.crc != "CRC24B":
            parts.append(self.crc.lower())
        return "_".join(parts)
