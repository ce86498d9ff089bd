"""The uncompressed image: the error-free reference row of every experiment."""

from __future__ import annotations

import numpy as np

from source_codecs.base import SourceCodec, check_image
from source_codecs.errors import BudgetTooSmall, DecodeError
from source_codecs.registry import register_codec

__all__ = ["Original"]


@register_codec("original")
class Original(SourceCodec):
    """The raw RGB bytes, 24 bpp; the simulator delivers them without error (``kind = "reference"``).

    The stream is the H*W*3 pixel bytes in row-major RGB order; H and W travel out of band, as for
    every codec.
    """

    kind = "reference"
    trusted_decoder = True

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """The pixel bytes; :class:`BudgetTooSmall` if a budget is given and they exceed it."""
        check_image(image)
        if max_bytes is not None and image.size > max_bytes:
            raise BudgetTooSmall(self.name, max_bytes, image.size)
        return np.ascontiguousarray(image).tobytes()

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """uint8 [H, W, 3]; :class:`DecodeError` if ``data`` is not exactly H*W*3 bytes."""
        if len(data) != height * width * 3:
            raise DecodeError(f"original: expected {height * width * 3} bytes, got {len(data)}")
        return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3).copy()
