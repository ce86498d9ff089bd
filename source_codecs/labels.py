"""The label maps that semantic codecs take and the simulator scores against: Cityscapes trainIds.

A label map is uint8 [H, W]: each pixel's class as a trainId ``0 .. NUM_CLASSES - 1``, or
:data:`IGNORE_INDEX` for pixels of no evaluated class. The class names and colours live with the data
sources (:mod:`simulator.data`), which import these two numbers from here: codecs never import the
simulator.

>>> NUM_CLASSES, IGNORE_INDEX
(19, 255)
"""

from __future__ import annotations

__all__ = ["IGNORE_INDEX", "NUM_CLASSES"]

NUM_CLASSES: int = 19
"""The evaluated Cityscapes classes, trainIds 0..18."""

IGNORE_INDEX: int = 255
"""Label value of pixels that belong to no evaluated class (void, license plate, ...)."""
