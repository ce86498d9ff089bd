"""Physical layer on Sionna: MCS, FEC, CRC, the digital link and MCS selection from BLER tables."""

from channels.phy.fec import FECConfig
from channels.phy.framing import CodewordLayout
from channels.phy.link import DigitalLink, LinkResult
from channels.phy.mcs import MCS, MODULATIONS

__all__ = ["MCS", "MODULATIONS", "CodewordLayout", "DigitalLink", "FECConfig", "LinkResult"]
