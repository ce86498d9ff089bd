"""Per-codeword CRC on Sionna's CRC blocks."""

from __future__ import annotations

from sionna.phy.fec.crc import CRCDecoder, CRCEncoder

__all__ = ["CRC_LENGTHS", "make_crc"]

#: CRC name -> parity bits (3GPP 38.212 5.1).
CRC_LENGTHS: dict[str, int] = {
    "CRC24A": 24,
    "CRC24B": 24,
    "CRC24C": 24,
    "CRC16": 16,
    "CRC11": 11,
    "CRC6": 6,
}


def make_crc(name: str, device: str | None = None) -> tuple[CRCEncoder, CRCDecoder]:
    """Sionna's CRC encoder and its decoder for the polynomial ``name`` (e.g. ``"CRC24B"``).

    The encoder appends ``CRC_LENGTHS[name]`` parity bits to [..., k] bits; the decoder strips them and
    returns a [..., 1] boolean ``crc_valid``.
    """
    if name not in CRC_LENGTHS:
        raise ValueError(f"unknown crc '{name}'; choose from {', '.join(CRC_LENGTHS)}")
    encoder = CRCEncoder(name, device=device)
    return encoder, CRCDecoder(encoder, device=device)
