"""JPEG (baseline DCT) through Pillow and libjpeg-turbo."""

from __future__ import annotations

from typing import Any

import numpy as np

from source_codecs.classical.markers import drop_header_segments
from source_codecs.classical.pillow_codec import PillowCodec
from source_codecs.params import Param
from source_codecs.registry import register_codec

__all__ = ["JPEG"]

_APP0 = 0xFFE0  # JFIF application segment: density and thumbnail, unused by the decoder
_SOS = 0xFFDA  # start of scan: the header ends here


@register_codec("jpeg")
class JPEG(PillowCodec):
    """JPEG with optimised Huffman tables; the rate knob is the libjpeg quality 1..95.

    :param quality: quality used when no byte budget is given, 1..95 (default 75).
    :param subsampling: chroma subsampling, ``"4:2:0"`` (default), ``"4:2:2"`` or ``"4:4:4"``.
    :param progressive: write a progressive instead of a sequential stream (default False).

    The stream is the JPEG interchange stream with quantisation and Huffman tables, without the JFIF
    APP0 segment (18 bytes of density information the decoder does not use). libjpeg-turbo
    cannot go below about 0.06 bpp even on a flat image: lower budgets raise ``BudgetTooSmall``.
    """

    pillow_format = "JPEG"
    parameters = {
        "quality": Param(75, int, 1, 95, doc="quality without a byte budget"),
        "subsampling": Param("4:2:0", str, choices=("4:2:0", "4:2:2", "4:4:4")),
        "progressive": Param(False, bool),
    }

    def knobs(self, image: np.ndarray) -> range:
        """Quality 1..95."""
        return range(1, 96)

    def default_knob(self, image: np.ndarray) -> int:
        """The ``quality`` parameter."""
        return self.params["quality"]

    def save_options(self, image: np.ndarray, knob: int) -> dict[str, Any]:
        """Pillow JPEG options for quality ``knob``."""
        return {
            "quality": knob,
            "subsampling": self.params["subsampling"],
            "progressive": self.params["progressive"],
            "optimize": True,
        }

    def write(self, image: np.ndarray, knob: int) -> bytes:
        """The stream for quality ``knob``, JFIF APP0 removed."""
        return drop_header_segments(super().write(image, knob), {_APP0}, data_start=_SOS)
