"""Which reconstructions the report's gallery shows, and their thumbnails.

For every codec, channel and bandwidth ratio the gallery shows the lowest, a middle and the highest
SNR of the sweep (:func:`gallery_snrs`); at those points the first ``output.gallery_images`` images
the receiver showed are kept as PNG thumbnails (:func:`thumbnail_png`), written by
:class:`~simulator.output.results.ResultStore` into ``points/gallery/`` so that a report can be rebuilt after
``--resume`` without recomputing anything. Other points keep no images.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["THUMBNAIL_MAX_WIDTH", "gallery_snrs", "thumbnail_png"]

THUMBNAIL_MAX_WIDTH = 320
"""Thumbnails wider than this many pixels are downscaled (Lanczos) to it, about the width the report
shows them at; narrower ones keep every pixel."""


def gallery_snrs(snrs: Sequence[float]) -> list[float]:
    """The lowest, the middle (the upper middle of an even count) and the highest of ``snrs`` [dB],
    ascending and without repeats (fewer than three when fewer SNRs were swept)."""
    ordered = sorted(set(snrs))
    if not ordered:
        return []
    picks = {ordered[0], ordered[len(ordered) // 2], ordered[-1]}
    return sorted(picks)


def thumbnail_png(image: np.ndarray, max_width: int = THUMBNAIL_MAX_WIDTH) -> bytes:
    """PNG bytes of ``image`` (uint8 [H, W, 3]), downscaled to ``max_width`` pixels if wider.

    >>> png = thumbnail_png(np.zeros((4, 8, 3), np.uint8))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), "RGB")
    if picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
