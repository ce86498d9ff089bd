"""AVIF (AV1 intra in a HEIF container) through Pillow and libavif (AOM encoder)."""

from __future__ import annotations

from typing import Any

import numpy as np

from source_codecs.classical.pillow_codec import PillowCodec
from source_codecs.classical.ycbcr import CHROMA_FORMATS
from source_codecs.params import Param
from source_codecs.registry import register_codec

__all__ = ["AVIF"]


@register_codec("avif")
class AVIF(PillowCodec):
    """Lossy AVIF; the rate knob is the libavif quality 0..100.

    :param quality: quality used when no byte budget is given, 0..100 (default 75, Pillow's).
    :param speed: encoder speed 0 (slowest, best compression) .. 10 (default 6, libavif's).
    :param chroma: ``"4:2:0"`` (default) or ``"4:4:4"``.

    The stream is the complete ``.avif`` file: the HEIF boxes (``ftyp``, ``meta`` with the item
    properties, about 270 bytes) are counted with the AV1 data, since Pillow's decoder needs them. At
    these rates that container is a real cost: quality 0 gives about 0.1 bpp on a 256x512 photo, and
    lower budgets raise ``BudgetTooSmall``. Full-range YCbCr, 8 bits, one encoder thread.
    """

    pillow_format = "AVIF"
    parameters = {
        "quality": Param(75, int, 0, 100, doc="quality without a byte budget"),
        "speed": Param(6, int, 0, 10, doc="encoder speed (0 = best compression)"),
        "chroma": Param("4:2:0", str, choices=CHROMA_FORMATS, doc="chroma subsampling"),
    }

    def knobs(self, image: np.ndarray) -> range:
        """Quality 0..100."""
        return range(0, 101)

    def default_knob(self, image: np.ndarray) -> int:
        """The ``quality`` parameter."""
        return self.params["quality"]

    def save_options(self, image: np.ndarray, knob: int) -> dict[str, Any]:
        """Pillow AVIF options for quality ``knob``."""
        return {
            "quality": knob,
            "speed": self.params["speed"],
            "subsampling": self.params["chroma"],
            "range": "full",
            "max_threads": 1,
        }
