"""WebP (lossy, VP8 intra) through Pillow and libwebp."""

from __future__ import annotations

from typing import Any

import numpy as np

from source_codecs.classical.pillow_codec import PillowCodec
from source_codecs.params import Param
from source_codecs.registry import register_codec

__all__ = ["WebP"]


@register_codec("webp")
class WebP(PillowCodec):
    """Lossy WebP; the rate knob is the libwebp quality 0..100.

    :param quality: quality used when no byte budget is given, 0..100 (default 75).
    :param method: encoder effort 0 (fast) .. 6 (best compression, default).

    The stream is the complete RIFF/WEBP file.
    """

    pillow_format = "WEBP"
    parameters = {
        "quality": Param(75, int, 0, 100, doc="quality without a byte budget"),
        "method": Param(6, int, 0, 6, doc="encoder effort"),
    }

    def knobs(self, image: np.ndarray) -> range:
        """Quality 0..100."""
        return range(0, 101)

    def default_knob(self, image: np.ndarray) -> int:
        """The ``quality`` parameter."""
        return self.params["quality"]

    def save_options(self, image: np.ndarray, knob: int) -> dict[str, Any]:
        """Pillow WebP options for quality ``knob``."""
        return {"quality": knob, "method": self.params["method"], "lossless": False}
