"""Physical layer on Sionna: MCS, FEC, CRC, the digital link and MCS selection from BLER tables."""

from channels.phy.fec import FECConfig
from channels.phy.framing import LDPC_RATE_RANGE, CodewordLayout
from channels.phy.link import DigitalLink, LinkResult
from channels.phy.mcs import MCS, MODULATIONS, Modulation

__all__ = [
    "LDPC_RATE_RANGE",
    "MCS",
    "MODULATIONS",
    "CodewordLayout",
    "DigitalLink",
    "FECConfig",
    "LinkResult",
    "Modulation",
]
