"""OFDM over 3GPP TR 38.901 TDL/CDL multipath with perfect, LS or LMMSE CSI (``model: ofdm``).

- :mod:`channels.ofdm.grid`: the slot's resource grid and the channel-use budget.
- :mod:`channels.ofdm.multipath`: the TDL/CDL channel models.
- :mod:`channels.ofdm.csi`: the receiver's channel estimate.
- :mod:`channels.ofdm.channel`: the channel block, ``y, h_hat, err_var = channel(x, no)``.
"""

from channels.ofdm.channel import OFDMMultipathChannel, OFDMObservation
from channels.ofdm.csi import CSI_MODES, LS_INTERPOLATIONS, CSIEstimator
from channels.ofdm.grid import PILOT_PATTERNS, OFDMGrid
from channels.ofdm.multipath import MULTIPATH_KINDS, MULTIPATH_MODELS, Multipath

__all__ = [
    "CSI_MODES",
    "LS_INTERPOLATIONS",
    "MULTIPATH_KINDS",
    "MULTIPATH_MODELS",
    "PILOT_PATTERNS",
    "CSIEstimator",
    "Multipath",
    "OFDMGrid",
    "OFDMMultipathChannel",
    "OFDMObservation",
]
